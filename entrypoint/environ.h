/* SPDX-License-Identifier: MIT */
/* The child's environment: inherited, plus SageMaker's SM_* set, distributed-training variables
 * and PARITY_* facts, the same way on every platform. */
#ifndef PARITY_ENTRYPOINT_ENVIRON_H
#define PARITY_ENTRYPOINT_ENVIRON_H

#include <stdint.h>

#include "entrypoint/command.h"
#include "entrypoint/detect.h"
#include "entrypoint/job.h"
#include "entrypoint/smenv.h"
#include "lib/envlist.h"
#include "lib/jobspec.h"
#include "lib/resources.h"

struct environ_inputs {
    enum platform platform;
    enum role role;
    const char *root;
    const struct job *job;      /* NULL without a job model */
    const struct jobspec *spec; /* EKS/local job spec, or NULL */
    const struct resources *res;
    uint64_t master_port;
    const char *master_addr; /* overrides the master host name (a local run without aliases) */
};

/*
 * Adds to `env` (which starts as the inherited environment): the job spec's environment and
 * TRAINING_JOB_NAME where the platform did not set them; for training with a job, the toolkit's
 * SM_* variables (filling `sm`) and MASTER_ADDR, MASTER_PORT, NODE_RANK, NNODES; for serving,
 * SAGEMAKER_BIND_TO_PORT=8080 unless set; always PARITY_PLATFORM, PARITY_ROLE, PARITY_JOB_NAME,
 * PARITY_CPU_LIMIT (and PARITY_CURRENT_HOST, PARITY_HOST_RANK, PARITY_NUM_HOSTS with a job).
 * Variables already present are kept where a platform or user may have set them on purpose.
 */
PARITY_MUST_CHECK int environ_build(struct envlist *env,
                                    const struct environ_inputs *in,
                                    struct smenv *sm,
                                    struct perr *err);

#endif
