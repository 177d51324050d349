/* SPDX-License-Identifier: MIT */
/* Failure reasons where each platform looks: /opt/ml/output/failure (SageMaker's FailureReason)
 * and the Kubernetes termination message file. */
#ifndef PARITY_ENTRYPOINT_REPORT_H
#define PARITY_ENTRYPOINT_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/envlist.h"

/* The last bytes the child wrote to stderr, kept for the failure reason. */
#define REPORT_TAIL_BYTES 2048

struct report_tail {
    char ring[REPORT_TAIL_BYTES];
    size_t start, len;
};

void report_tail_add(struct report_tail *t, const char *data, size_t n);

/* Copies the last max_lines lines of the tail into out (NUL-terminated, at most out_len-1). */
void report_tail_lines(const struct report_tail *t, size_t max_lines, char *out, size_t out_len);

struct report_targets {
    char failure_path[1100]; /* ROOT/output/failure */
    char termlog_path[1100]; /* PARITY_TERMINATION_LOG, else /dev/termination-log if present */
    bool create_output_dir;  /* the ML root belongs to the job (SageMaker or a job config) */
};

void report_targets_init(struct report_targets *r,
                         const char *root,
                         const struct envlist *env,
                         bool job_owned_root);

/*
 * Writes the reason: to the failure file unless the user's code wrote one already (as the
 * toolkit does), and to the termination log (cut to the 4096 bytes Kubernetes keeps).
 */
void report_write(const struct report_targets *r, const char *text);

/* The toolkit's ExecuteUserScriptError text for a child that failed. */
void report_format_child(char *out,
                         size_t out_len,
                         int wait_status,
                         const char *oom_verdict,
                         const struct report_tail *tail,
                         char *const *argv);

#endif
