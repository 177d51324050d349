/* SPDX-License-Identifier: MIT */
/* The SM_* environment of SageMaker's training toolkit, derived exactly as the toolkit derives it
 * (contract/sagemaker.md §2.3-2.4), from the job model and the machine. */
#ifndef PARITY_ENTRYPOINT_SMENV_H
#define PARITY_ENTRYPOINT_SMENV_H

#include <stdbool.h>

#include "entrypoint/job.h"
#include "lib/envlist.h"
#include "lib/err.h"
#include "lib/jdoc.h"

/* What the machine provides, measured by the caller (resources.c). */
struct smenv_machine {
    long num_cpus;
    long num_gpus;
    long num_neurons;
};

/* Derived values other phases need (script mode, distributed-training variables). */
struct smenv {
    struct jdoc *user_args; /* SM_USER_ARGS as an array of strings */
    char *entry_point;      /* SM_USER_ENTRY_POINT, NULL when there is none */
    char *master_host;      /* the toolkit's master_hostname */
    char *code_dir;         /* ROOT/code: PYTHONPATH head and script-mode cwd */
};

/*
 * Adds the toolkit's variables to `out`: every SM_* of Environment.to_env_vars(), plus
 * CURRENT_HOST, SAGEMAKER_JOB_NAME, SAGEMAKER_REGION and PYTHONPATH (ROOT/code first). `env` is
 * the environment the child inherits, read for SAGEMAKER_PROGRAM, SAGEMAKER_TRAINING_MODULE,
 * TRAINING_JOB_NAME, AWS_DEFAULT_REGION, SM_HP_MP_PARAMETERS and PATH.
 */
PARITY_MUST_CHECK int smenv_derive(const struct job *j,
                                   const struct smenv_machine *m,
                                   const struct envlist *env,
                                   struct envlist *out,
                                   struct smenv *sm,
                                   struct perr *err);

/* Frees what smenv_derive filled; safe twice and on a zeroed struct. */
void smenv_cleanup(struct smenv *sm);

#endif
