/* SPDX-License-Identifier: MIT */
/* Which platform started this container, from what the platforms really provide. */
#ifndef PARITY_ENTRYPOINT_DETECT_H
#define PARITY_ENTRYPOINT_DETECT_H

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

/* Detects the platform, or takes `forced` (a platform name) when it is not NULL. */
PARITY_MUST_CHECK int
detect_platform(const char *forced, const char *ml_root, struct detection *d, struct perr *err);

const char *detect_platform_name(enum platform p);

/*
 * Seconds parity-init waits after forwarding SIGTERM before it SIGKILLs the group: the platform's
 * own kill delay minus time for the finish phase (contract/sagemaker.md §1.5; Kubernetes
 * terminationGracePeriodSeconds defaults to 30 s).
 */
uint64_t detect_default_grace_s(enum platform p);

#endif
