/* SPDX-License-Identifier: MIT */
/* What every parity subcommand shares: the parsed command line, how to print, exit codes. */
#ifndef PARITY_SHIM_CLI_H
#define PARITY_SHIM_CLI_H

#include <stdbool.h>

#include "lib/envlist.h"
#include "lib/err.h"

/* Exit codes of the launcher itself; `run` otherwise exits with the job's own code. */
#define CLI_EXIT_INVALID  1   /* validate: the spec has problems */
#define CLI_EXIT_USAGE    2   /* a bad command line */
#define CLI_EXIT_FAILED   125 /* the launcher could not do its part (API, auth, network) */
#define CLI_EXIT_DETACHED 130 /* Ctrl-C while following: the job runs on */

enum cli_target { CLI_TARGET_NONE = 0, CLI_TARGET_LOCAL, CLI_TARGET_SAGEMAKER, CLI_TARGET_EKS };

struct cli {
    const char *prog;
    const char *verb;
    const char *arg; /* the SPEC file or the job NAME */
    enum cli_target target;
    bool json;              /* --output json */
    bool color;             /* human output on a terminal without NO_COLOR */
    bool detach;            /* run --detach */
    bool follow;            /* logs --follow */
    bool no_container;      /* local: run parity-init directly */
    const char *root;       /* local: the private /opt/ml (--root) */
    const char *context;    /* eks: kubeconfig context (--context) */
    const char *namespace_; /* eks: overrides the spec's namespace */
    struct envlist env;     /* the launcher's environment */
};

typedef int cli_verb_fn(struct cli *c);

cli_verb_fn cmd_validate, cmd_render, cmd_run, cmd_status, cmd_logs, cmd_stop;

/* "local", "sagemaker", "eks". */
const char *cli_target_name(enum cli_target t);

/* Prints "parity: MESSAGE" to stderr and returns code. */
int cli_fail(int code, const struct perr *err);

#endif
