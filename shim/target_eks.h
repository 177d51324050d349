/* SPDX-License-Identifier: MIT */
/* Jobs on EKS (any Kubernetes): a batch/v1 Job and its headless Service, watched (not polled),
 * every pod's log followed, the exit code read from the containers' terminated state. */
#ifndef PARITY_SHIM_TARGET_EKS_H
#define PARITY_SHIM_TARGET_EKS_H

#include "lib/jobspec.h"
#include "shim/cli.h"
#include "shim/jobstate.h"

/* Creates the objects and, unless --detach, follows the job; returns parity's exit status. */
int eks_run(struct cli *c, const struct jobspec *js);

/* status / logs / stop NAME where the launch record (or the command line) says it runs. */
int eks_status(struct cli *c, const char *name, const struct jobstate *st);
int eks_logs(struct cli *c, const char *name, const struct jobstate *st);
int eks_stop(struct cli *c, const char *name, const struct jobstate *st);

#endif
