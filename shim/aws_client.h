/* SPDX-License-Identifier: MIT */
/* The launcher's AWS JSON 1.1 client: credentials from the standard chain (refreshed before
 * they expire), endpoints from the standard overrides, calls with botocore's retry rules. */
#ifndef PARITY_SHIM_AWS_CLIENT_H
#define PARITY_SHIM_AWS_CLIENT_H

#include <stdbool.h>

#include "lib/creds.h"
#include "lib/envlist.h"
#include "lib/err.h"
#include "lib/jdoc.h"

struct aws_client {
    const struct envlist *env;
    struct creds_provider *provider;
    struct creds creds;
    char region[64];
    char sagemaker_url[512];
    char logs_url[512];
};

/* region: the spec's, else AWS_REGION / AWS_DEFAULT_REGION. Fetches credentials now. */
PARITY_MUST_CHECK int aws_client_init(struct aws_client *a,
                                      const struct envlist *env,
                                      const char *region,
                                      struct perr *err);

void aws_client_cleanup(struct aws_client *a);

enum aws_service { AWS_SAGEMAKER, AWS_LOGS };

/*
 * Calls OP ("CreateTrainingJob") with the JSON body; *out gets the parsed answer. Throttling,
 * 5xx and transport errors are retried with backoff (up to `attempts`, 0: 5) unless once is
 * set. On an AWS error code returns -1 with code set ("ValidationException").
 */
PARITY_MUST_CHECK int aws_call(struct aws_client *a,
                               enum aws_service svc,
                               const char *op,
                               const char *body,
                               bool once,
                               struct jdoc **out,
                               char code[128],
                               struct perr *err);

#endif
