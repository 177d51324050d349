/* SPDX-License-Identifier: MIT */
/* Many S3 objects to or from local files at once: a few threads share a queue of whole small
 * objects and byte-range parts of large ones (ranged GETs, multipart uploads), with progress
 * lines in the log while it lasts. Memory stays bounded: nothing is buffered whole. */
#ifndef PARITY_S3TRANSFER_H
#define PARITY_S3TRANSFER_H

#include <stddef.h>
#include <stdint.h>

#include "lib/envlist.h"
#include "lib/err.h"
#include "lib/s3.h"

#define S3TRANSFER_MAX_JOBS 64

struct s3transfer_item {
    struct s3_object obj; /* download: as listed; upload: the key (size is read from the file) */
    char *path;           /* the local file; owned by the caller */
};

struct s3transfer_opts {
    int jobs;                     /* requests at a time, 1 to S3TRANSFER_MAX_JOBS */
    uint64_t get_part;            /* objects larger than this come in ranges of this size */
    uint64_t put_part;            /* multipart part size (at least S3_MIN_PART) */
    uint64_t multipart_threshold; /* files at least this large are uploaded in parts */
    const char *what;             /* names the transfer in progress lines: "channel train" */
    const char *phase;            /* the log phase of those lines */
};

/* Defaults, then PARITY_S3_CONCURRENCY, PARITY_S3_PART_SIZE, PARITY_S3_MULTIPART_THRESHOLD. */
PARITY_MUST_CHECK int s3transfer_opts_from_env(struct s3transfer_opts *o,
                                               const struct envlist *env,
                                               const char *what,
                                               const char *phase,
                                               struct perr *err);

/*
 * Downloads every item's object to its path (parent folders made). A file is written as
 * "path.parity-partial" and renamed only when all of it is there; on failure no partial file is
 * left. The first failure stops the rest and is the error. *bytes: bytes downloaded.
 */
PARITY_MUST_CHECK int s3transfer_download(const struct s3_client *s,
                                          const char *bucket,
                                          struct s3transfer_item *items,
                                          size_t count,
                                          const struct s3transfer_opts *o,
                                          uint64_t *bytes,
                                          struct perr *err);

/*
 * Uploads every item's file to its key: one PutObject each, or a multipart upload from
 * multipart_threshold (and always above 5 GiB), its parts in parallel. On failure the multipart
 * uploads not completed are aborted, so S3 holds each key whole or not at all.
 */
PARITY_MUST_CHECK int s3transfer_upload(const struct s3_client *s,
                                        const char *bucket,
                                        struct s3transfer_item *items,
                                        size_t count,
                                        const struct s3transfer_opts *o,
                                        uint64_t *bytes,
                                        struct perr *err);

#endif
