/* SPDX-License-Identifier: MIT */
/* Platform detection: a forced name wins, then SageMaker's files and variables, then Kubernetes. */
#include "entrypoint/detect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const platform_names[] = {
    [PLATFORM_SAGEMAKER_TRAINING] = "sagemaker-training",
    [PLATFORM_SAGEMAKER_PROCESSING] = "sagemaker-processing",
    [PLATFORM_SAGEMAKER_HOSTING] = "sagemaker-hosting",
    [PLATFORM_EKS] = "eks",
    [PLATFORM_LOCAL] = "local",
};

const char *detect_platform_name(enum platform p)
{
    return platform_names[p];
}

uint64_t detect_default_grace_s(enum platform p)
{
    switch (p) {
    case PLATFORM_SAGEMAKER_TRAINING:
    case PLATFORM_SAGEMAKER_PROCESSING:
        return 110; /* SageMaker sends SIGKILL 120 s after SIGTERM */
    case PLATFORM_SAGEMAKER_HOSTING:
    case PLATFORM_EKS:
        return 25; /* hosting and Kubernetes' default both kill after 30 s */
    case PLATFORM_LOCAL:
        break;
    }
    return 10;
}

static void found(struct detection *d, enum platform p, const char *evidence)
{
    d->platform = p;
    snprintf(d->evidence, sizeof(d->evidence), "%s", evidence);
}

static int file_exists(const char *root, const char *rel)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s%s", root, rel);
    return access(path, F_OK) == 0;
}

int detect_platform(const char *forced, const char *ml_root, struct detection *d, struct perr *err)
{
    if (forced) {
        for (size_t i = 0; i < sizeof(platform_names) / sizeof(platform_names[0]); i++) {
            if (strcmp(forced, platform_names[i]) == 0) {
                found(d, (enum platform)i, "forced by --platform/PARITY_PLATFORM");
                return 0;
            }
        }
        return perr_set(err, PERR_USAGE,
                        "unknown platform '%s'; use sagemaker-training, sagemaker-processing, "
                        "sagemaker-hosting, eks or local",
                        forced);
    }
    if (getenv("TRAINING_JOB_ARN"))
        found(d, PLATFORM_SAGEMAKER_TRAINING, "env TRAINING_JOB_ARN");
    else if (getenv("TRAINING_JOB_NAME"))
        found(d, PLATFORM_SAGEMAKER_TRAINING, "env TRAINING_JOB_NAME");
    else if (file_exists(ml_root, "/config/processingjobconfig.json"))
        found(d, PLATFORM_SAGEMAKER_PROCESSING, "file /opt/ml/config/processingjobconfig.json");
    else if (getenv("KUBERNETES_SERVICE_HOST"))
        found(d, PLATFORM_EKS, "env KUBERNETES_SERVICE_HOST");
    else
        found(d, PLATFORM_LOCAL, "no platform evidence");
    return 0;
}
