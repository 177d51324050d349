/* SPDX-License-Identifier: MIT */
/* What this machine remembers of the jobs it launched, so that status, logs and stop work on
 * a name alone after a disconnect: $XDG_STATE_HOME/parity/jobs/NAME.json (else
 * ~/.local/state/...), holding the target and where the job lives. */
#ifndef PARITY_SHIM_JOBSTATE_H
#define PARITY_SHIM_JOBSTATE_H

#include "lib/envlist.h"
#include "lib/err.h"
#include "shim/cli.h"

struct jobstate {
    enum cli_target target;
    char region[64];      /* sagemaker */
    char namespace_[254]; /* eks */
    char context[256];    /* eks: the kubeconfig context, or "" for the current one */
    char root[1100];      /* local: the job's ML root */
};

/* Records a launch; a failure to record is not a failed launch, so it only warns. */
void jobstate_save(const struct envlist *env, const char *name, const struct jobstate *s);

/* Reads what was recorded for name; -1 (PERR_USAGE) when nothing was. */
PARITY_MUST_CHECK int
jobstate_load(const struct envlist *env, const char *name, struct jobstate *s, struct perr *err);

/* The target of the job c->arg names, and where it lives: from --target (with this machine's
 * record for it when there is one), else from the record. Returns 0, or an exit status. */
int jobstate_locate(struct cli *c, struct jobstate *st);

/* For a target whose verbs this build does not have: says so, returns the usage status. */
int jobstate_not_yet(const struct jobstate *st);

#endif
