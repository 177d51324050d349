/* SPDX-License-Identifier: MIT */
/* Which platform started this container, from what the platforms really provide. */
#ifndef PARITY_ENTRYPOINT_DETECT_H
#define PARITY_ENTRYPOINT_DETECT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"

enum platform {
    PLATFORM_SAGEMAKER_TRAINING = 0,
    PLATFORM_SAGEMAKER_PROCESSING,
    PLATFORM_SAGEMAKER_HOSTING,
    PLATFORM_EKS,
    PLATFORM_LOCAL,
};

struct detection {
    enum platform platform;
    char evidence[256]; /* what decided it, for the log: "env TRAINING_JOB_NAME" */
};

/* What the command line and environment already say, beyond files and variables. */
struct detect_hints {
    bool argv_train; /* started with "train" (SageMaker training's argument) */
    bool argv_serve; /* started with "serve" (SageMaker hosting's argument) */
    bool job_config; /* PARITY_JOB_CONFIG or PARITY_JOB_CONFIG_URI is set: not SageMaker */
};

/*
 * Detects the platform, or takes `forced` (a platform name) when it is not NULL. Evidence, in
 * order: Kubernetes (service host variable, service-account mount, EKS credential variables);
 * a job config (local); SageMaker processing's config file; training's TRAINING_JOB_* variables
 * or argv "train" with resourceconfig.json; argv "serve" (hosting); else local.
 */
PARITY_MUST_CHECK int detect_platform(const char *forced,
                                      const char *ml_root,
                                      const struct detect_hints *hints,
                                      struct detection *d,
                                      struct perr *err);

const char *detect_platform_name(enum platform p);

/*
 * Seconds parity-init waits after forwarding SIGTERM before it SIGKILLs the group: the platform's
 * own kill delay minus time for the finish phase (contract/sagemaker.md §1.5; Kubernetes
 * terminationGracePeriodSeconds defaults to 30 s).
 */
uint64_t detect_default_grace_s(enum platform p);

/* How long the platform waits after SIGTERM before its own SIGKILL (0: it never does): the
 * finish phase's uploads must be over by then. */
uint64_t detect_default_stop_s(enum platform p);

#endif
