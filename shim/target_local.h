/* SPDX-License-Identifier: MIT */
/* Jobs on this machine, through the same parity-init code path: each host of the job runs in a
 * runc container of the spec's image (shim/local_bundle.c), or, with --no-container, as
 * parity-init directly, with the spec as its job config and a private ML root. */
#ifndef PARITY_SHIM_TARGET_LOCAL_H
#define PARITY_SHIM_TARGET_LOCAL_H

#include <stddef.h>

#include "lib/jobspec.h"
#include "shim/cli.h"

/* Runs the job to its end; returns the first non-zero exit code of the hosts (algo-1 first),
 * else 0. */
int local_run(struct cli *c, const struct jobspec *js);

#endif
