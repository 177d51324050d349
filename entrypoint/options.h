/* SPDX-License-Identifier: MIT */
/* parity-init's command line and its environment twins. */
#ifndef PARITY_ENTRYPOINT_OPTIONS_H
#define PARITY_ENTRYPOINT_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/log.h"

#define OPTIONS_UNSET UINT64_MAX

enum options_action {
    OPTIONS_RUN = 0, /* supervise COMMAND */
    OPTIONS_HELP,    /* print usage and exit 0 */
    OPTIONS_VERSION, /* print versions and exit 0 */
};

struct options {
    enum options_action action;
    uint64_t grace_s;     /* OPTIONS_UNSET: the platform default decides */
    uint64_t reap_s;      /* wait for leftover group members after the child exits */
    uint64_t stop_s;      /* the platform's SIGTERM -> SIGKILL window; 0: none; OPTIONS_UNSET:
                             the platform default */
    bool single_child;    /* forward signals to the child only, not its process group */
    const char *platform; /* forced platform name, or NULL to detect */
    const char *root;     /* the ML root, /opt/ml unless --root/PARITY_ML_ROOT */
    bool explain;         /* print what would happen as JSON and exit */
    uint64_t master_port; /* MASTER_PORT for distributed training */
    uint64_t peer_wait_s; /* EKS: how long peers may take to appear in DNS */
    enum log_level log_level;
    enum log_format log_format;
    char **command; /* NULL-terminated argv of the child, points into argv */
};

/*
 * Parses argv after reading the environment twins (PARITY_GRACE_SECONDS, PARITY_STOP_SECONDS,
 * PARITY_REAP_SECONDS, PARITY_SINGLE_CHILD, PARITY_PLATFORM, PARITY_ML_ROOT, PARITY_EXPLAIN,
 * PARITY_MASTER_PORT, PARITY_PEER_WAIT_SECONDS, PARITY_LOG_LEVEL, PARITY_LOG_FORMAT); flags win
 * over the environment. Options stop at the first non-option or after "--". A missing COMMAND is an
 * error unless argv[0] is a "train" or "serve" link or the environment names a job config (the
 * role then supplies the command).
 */
PARITY_MUST_CHECK int options_parse(int argc, char **argv, struct options *o, struct perr *err);

/* Writes the --help text to stdout. */
void options_usage(const char *prog);

#endif
