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

uint64_t detect_default_stop_s(enum platform p)
{
    switch (p) {
    case PLATFORM_SAGEMAKER_TRAINING:
    case PLATFORM_SAGEMAKER_PROCESSING:
        return 120;
    case PLATFORM_SAGEMAKER_HOSTING:
    case PLATFORM_EKS:
        return 30;
    case PLATFORM_LOCAL:
        break;
    }
    return 0; /* nobody kills a local run */
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

/* EKS Pod Identity's agent address, and IRSA's projected token path. */
static bool eks_credentials(char *evidence, size_t len)
{
    const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *token = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");

    if (full && strstr(full, "169.254.170.23")) {
        snprintf(evidence, len, "env AWS_CONTAINER_CREDENTIALS_FULL_URI (EKS Pod Identity agent)");
        return true;
    }
    if (token && strstr(token, "/eks.amazonaws.com/")) {
        snprintf(evidence, len, "env AWS_WEB_IDENTITY_TOKEN_FILE (EKS IRSA token)");
        return true;
    }
    return false;
}

static bool kubernetes(char *evidence, size_t len)
{
    if (getenv("KUBERNETES_SERVICE_HOST")) {
        snprintf(evidence, len, "env KUBERNETES_SERVICE_HOST");
        return true;
    }
    if (access("/var/run/secrets/kubernetes.io/serviceaccount/namespace", F_OK) == 0) {
        snprintf(evidence, len, "file /var/run/secrets/kubernetes.io/serviceaccount/namespace");
        return true;
    }
    return eks_credentials(evidence, len);
}

int detect_platform(const char *forced,
                    const char *ml_root,
                    const struct detect_hints *hints,
                    struct detection *d,
                    struct perr *err)
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
    if (kubernetes(d->evidence, sizeof(d->evidence)))
        d->platform = PLATFORM_EKS;
    else if (hints->job_config)
        found(d, PLATFORM_LOCAL, "env PARITY_JOB_CONFIG(_URI) without Kubernetes");
    else if (file_exists(ml_root, "/config/processingjobconfig.json"))
        found(d, PLATFORM_SAGEMAKER_PROCESSING, "file config/processingjobconfig.json");
    else if (getenv("TRAINING_JOB_ARN"))
        found(d, PLATFORM_SAGEMAKER_TRAINING, "env TRAINING_JOB_ARN");
    else if (getenv("TRAINING_JOB_NAME"))
        found(d, PLATFORM_SAGEMAKER_TRAINING, "env TRAINING_JOB_NAME");
    else if (hints->argv_train && file_exists(ml_root, "/input/config/resourceconfig.json"))
        found(d, PLATFORM_SAGEMAKER_TRAINING,
              "argv train and file input/config/resourceconfig.json");
    else if (hints->argv_serve)
        found(d, PLATFORM_SAGEMAKER_HOSTING, "argv serve");
    else
        found(d, PLATFORM_LOCAL, "no platform evidence");
    return 0;
}
