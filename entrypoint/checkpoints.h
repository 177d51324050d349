/* SPDX-License-Identifier: MIT */
/* Checkpoints on EKS and locally, as SageMaker keeps them: the checkpoint URI (s3://, or a
 * file:// folder) restored into the local folder before the child starts, then new and changed
 * files uploaded and deleted files deleted, on an interval and at SIGTERM from a thread of their
 * own (PID 1's loop never waits on the network), and once more after the child exits
 * (docs/data.md). */
#ifndef PARITY_ENTRYPOINT_CHECKPOINTS_H
#define PARITY_ENTRYPOINT_CHECKPOINTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entrypoint/credserver.h"
#include "lib/envlist.h"
#include "lib/err.h"
#include "lib/jobspec.h"
#include "lib/s3.h"
#include "lib/s3transfer.h"

struct checkpoint_file; /* a file S3 holds as we last wrote or restored it */

struct checkpoints {
    bool active;      /* the job has a checkpoint URI */
    const char *uri;  /* s3://bucket/prefix/ or file:///folder */
    char store[4096]; /* file://: the folder that keeps them, else "" */
    char bucket[64];
    char prefix[S3_MAX_KEY + 1]; /* ends in '/' unless empty */
    char dir[4096];              /* the local folder, below the ML root */
    struct s3transfer_opts opts;
    const struct envlist *env;
    struct credserver *creds;
    struct checkpoint_file *known;
    size_t known_count;
    /* the sync thread */
    bool thread_started;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t interval_ms; /* 0: no interval syncs */
    bool requested;       /* a SIGTERM asked for a sync now */
    bool stopping;
    const uint64_t *deadline_ms; /* the stop deadline S3 requests meet (read atomically) */
};

/*
 * Sets up from the job config and restores everything under the checkpoint URI (s3://, or
 * file:// for local runs, where a folder plays S3's part) into the local folder. Nothing to do
 * (inactive) without a checkpoint URI. `note` gets the log fields.
 */
PARITY_MUST_CHECK int checkpoints_restore(struct checkpoints *ck,
                                          const struct jobspec *js,
                                          const char *root,
                                          const struct envlist *env,
                                          struct credserver *creds,
                                          const uint64_t *deadline_ms,
                                          char *note,
                                          size_t note_len,
                                          struct perr *err);

/* Starts the sync thread: every PARITY_CHECKPOINT_SECONDS (default 60; 0: none) and at
 * checkpoints_request. */
PARITY_MUST_CHECK int checkpoints_start(struct checkpoints *ck, struct perr *err);

/* Asks for a sync now. Never blocks on the network: PID 1 calls it on SIGTERM. */
void checkpoints_request(struct checkpoints *ck);

/* Stops the thread (after the sync it may be running) and syncs a last time, logging what it
 * did. */
PARITY_MUST_CHECK int checkpoints_finish(struct checkpoints *ck, struct perr *err);

/* Stops the thread if it runs and frees the state; safe on a zeroed struct and twice. */
void checkpoints_cleanup(struct checkpoints *ck);

#endif
