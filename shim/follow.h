/* SPDX-License-Identifier: MIT */
/* Following a job to its end, for every target: Ctrl-C, the poll pace, and the lines it
 * prints (human, or one JSON object per line with --output json). */
#ifndef PARITY_SHIM_FOLLOW_H
#define PARITY_SHIM_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/envlist.h"
#include "shim/cli.h"

/* SIGINT and SIGTERM stop the following, not the job. */
void follow_init(void);
bool follow_interrupted(void);

/* Sleeps the poll interval (PARITY_POLL_MS, default 5000), less if interrupted. */
void follow_pause(const struct envlist *env);

/* "Status: Training (Downloading input data)" */
void follow_status(const struct cli *c, const char *job, const char *status, const char *detail);

/* "algo-2 | line" */
void follow_log(const struct cli *c, const char *host, const char *line, size_t len);

/* The last line: the outcome and the exit code parity returns. */
void follow_end(
    const struct cli *c, const char *job, const char *status, int code, const char *why);

/* After Ctrl-C: how to re-attach and how to stop; returns CLI_EXIT_DETACHED. */
int follow_detached(const struct cli *c, const char *job);

#endif
