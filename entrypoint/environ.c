/* SPDX-License-Identifier: MIT */
/* Assembling the child's environment (DESIGN.md boot step 7). */
#include "entrypoint/environ.h"

#include <stdio.h>
#include <string.h>

static int
set_long(struct envlist *env, const char *name, long v, bool keep_existing, struct perr *err)
{
    char num[32];

    snprintf(num, sizeof(num), "%ld", v);
    return keep_existing ? envlist_set_default(env, name, num, err)
                         : envlist_set(env, name, num, err);
}

/* What SageMaker sets from CreateTrainingJob: its Environment map and TRAINING_JOB_NAME. */
static int spec_environment(struct envlist *env, const struct jobspec *spec, struct perr *err)
{
    const struct jdoc *e = spec->environment;
    int rc = envlist_set_default(env, "TRAINING_JOB_NAME", spec->name, err);

    for (size_t i = 0; rc == 0 && e && i < e->count; i++)
        rc = envlist_set_default(env, e->keys[i], e->items[i]->text, err);
    return rc;
}

/* torchrun-style variables from the toolkit's host list: nobody else sets them on SageMaker
 * (contract/sagemaker.md §5), so a job's own launcher settings win. */
static int distributed(struct envlist *env,
                       const struct job *job,
                       const struct smenv *sm,
                       const struct environ_inputs *in,
                       struct perr *err)
{
    const char *master = in->master_addr ? in->master_addr : sm->master_host;
    uint64_t master_port = in->master_port;
    int rc = envlist_set_default(env, "MASTER_ADDR", master, err);

    if (rc == 0)
        rc = set_long(env, "MASTER_PORT", (long)master_port, true, err);
    if (rc == 0)
        rc = set_long(env, "NODE_RANK", job_host_rank(job), true, err);
    if (rc == 0)
        rc = set_long(env, "NNODES", (long)job_host_count(job), true, err);
    if (rc == 0)
        rc = envlist_set(env, "PARITY_CURRENT_HOST", job_current_host(job), err);
    if (rc == 0)
        rc = set_long(env, "PARITY_HOST_RANK", job_host_rank(job), false, err);
    if (rc == 0)
        rc = set_long(env, "PARITY_NUM_HOSTS", (long)job_host_count(job), false, err);
    return rc;
}

static const char *job_name(const struct environ_inputs *in, const struct envlist *env)
{
    const char *n = envlist_get(env, "TRAINING_JOB_NAME");

    if (in->spec)
        return in->spec->name;
    return n ? n : "";
}

int environ_build(struct envlist *env,
                  const struct environ_inputs *in,
                  struct smenv *sm,
                  struct perr *err)
{
    int rc = 0;

    if (in->spec)
        rc = spec_environment(env, in->spec, err);
    if (rc == 0 && in->job && in->role == ROLE_TRAIN) {
        struct smenv_machine m = {
            .num_cpus = in->res->num_cpus,
            .num_gpus = in->res->num_gpus,
            .num_neurons = in->res->num_neurons,
        };
        rc = smenv_derive(in->job, &m, env, env, sm, err);
        if (rc == 0)
            rc = distributed(env, in->job, sm, in, err);
    }
    /* SageMaker hosting listens on 8080 unless an inference pipeline assigns another port. */
    if (rc == 0 && in->role == ROLE_SERVE)
        rc = envlist_set_default(env, "SAGEMAKER_BIND_TO_PORT", "8080", err);
    if (rc == 0 && strcmp(in->root, "/opt/ml") != 0)
        rc = envlist_set(env, "SAGEMAKER_BASE_DIR", in->root, err);
    if (rc == 0)
        rc = envlist_set(env, "PARITY_PLATFORM", detect_platform_name(in->platform), err);
    if (rc == 0)
        rc = envlist_set(env, "PARITY_ROLE", command_role_name(in->role), err);
    if (rc == 0)
        rc = envlist_set(env, "PARITY_JOB_NAME", job_name(in, env), err);
    if (rc == 0)
        rc = set_long(env, "PARITY_CPU_LIMIT", in->res->cpu_limit, false, err);
    return rc;
}
