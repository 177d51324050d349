/* SPDX-License-Identifier: MIT */
/* The state one boot carries from phase to phase, and the phases themselves. */
#ifndef PARITY_ENTRYPOINT_BOOT_H
#define PARITY_ENTRYPOINT_BOOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "entrypoint/checkpoints.h"
#include "entrypoint/command.h"
#include "entrypoint/config.h"
#include "entrypoint/credserver.h"
#include "entrypoint/detect.h"
#include "entrypoint/finish.h"
#include "entrypoint/harden.h"
#include "entrypoint/hosts.h"
#include "entrypoint/job.h"
#include "entrypoint/materialize.h"
#include "entrypoint/options.h"
#include "entrypoint/report.h"
#include "entrypoint/smenv.h"
#include "entrypoint/supervise.h"
#include "lib/envlist.h"
#include "lib/jobspec.h"
#include "lib/resources.h"

struct boot {
    int argc;
    char **argv;
    struct options opts;
    enum role role;
    char **role_extra; /* args after "train"/"serve", appended to the role's command */
    bool role_from_argv;
    struct detection det;
    struct envlist env; /* the child's environment, built up by the phases */
    bool have_spec;
    struct jobspec spec;
    struct hostplan hosts;
    struct materialized mat;
    bool have_job;
    bool job_deferred; /* the job config is read after the credentials phase */
    struct job job;
    struct resources res;
    struct smenv sm;
    struct image_config img;
    struct command cmd;
    struct harden_plan harden;
    struct credserver *creds; /* static storage: the refresher thread may outlive main */
    struct checkpoints ckpt;
    /* CLOCK_MONOTONIC ms by which S3 transfers must be over after a SIGTERM (0: no SIGTERM, or
     * nobody kills): set by PID 1's loop or during the finish phase, read atomically by them */
    uint64_t stop_deadline_ms;
    bool creds_served;
    char spawn_failure[PERR_MSG_BYTES]; /* why the child could not start its command, or "" */
    struct report_targets report;
    struct supervisor sup;
    struct oom_baseline oom;
    int stderr_pipe[2];
    pid_t child;
    uint64_t child_start_ms;
    char note[512]; /* fields a phase adds to its log line */
};

typedef int boot_phase_fn(struct boot *b, struct perr *err);

boot_phase_fn boot_options, boot_detect, boot_job, boot_job_deferred, boot_credentials,
    boot_secrets, boot_materialize, boot_environment, boot_code, boot_command, boot_harden,
    boot_explain, boot_prepare, boot_spawn;

/* Once the child runs: the checkpoint sync thread, and SIGTERM asking it for a sync. Problems
 * are logged; the child runs on. */
void boot_running(struct boot *b);

/* Logs the child's end, writes the failure reason when it failed, makes the last checkpoint
 * sync and uploads the outputs, and returns the exit status. */
int boot_finish(struct boot *b, uint64_t run_ms);

void boot_cleanup(struct boot *b);

#endif
