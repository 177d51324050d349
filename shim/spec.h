/* SPDX-License-Identifier: MIT */
/* Loading a job spec file, and the rules a target adds to the spec's own (lib/jobspec). */
#ifndef PARITY_SHIM_SPEC_H
#define PARITY_SHIM_SPEC_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jobspec.h"
#include "shim/cli.h"

/* Reads SPEC ("-" for stdin, at most JOBSPEC_MAX_BYTES) and parses it; problems get one line
 * per problem ("$.path: message"). text receives the document as read. */
PARITY_MUST_CHECK int spec_load(
    const char *path, struct jobspec *js, struct buf *text, struct buf *problems, struct perr *err);

/* Appends the problems the spec has for target t ("$.path: message (sagemaker)"); returns
 * how many. */
size_t spec_target_problems(const struct jobspec *js, enum cli_target t, struct buf *problems);

/* Loads SPEC and checks it for target t (every target for CLI_TARGET_NONE), printing every
 * problem to stderr. Returns 0, or -1 with err saying how many problems there were. */
PARITY_MUST_CHECK int spec_load_checked(
    const char *path, enum cli_target t, struct jobspec *js, struct buf *text, struct perr *err);

#endif
