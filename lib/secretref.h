/* SPDX-License-Identifier: MIT */
/* Secret references: environment values that are SSM parameter or Secrets Manager secret ARNs
 * (the secrets-init convention), recognised and split into what the API calls need. */
#ifndef PARITY_SECRETREF_H
#define PARITY_SECRETREF_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/envlist.h"
#include "lib/err.h"

#define SECRETREF_MAX_ARN 2048

enum secretref_kind {
    SECRETREF_NONE = 0,   /* not a reference: the value stays as it is */
    SECRETREF_SSM,        /* arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME */
    SECRETREF_SECRETSMGR, /* arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME[#KEY] */
};

struct secretref {
    enum secretref_kind kind;
    char arn[SECRETREF_MAX_ARN]; /* the ARN to send, without "#KEY" */
    char partition[32];
    char region[32];
    char key[256]; /* Secrets Manager: the JSON field to take, or "" for the whole string */
};

/*
 * Classifies a value. Returns 0 with kind SECRETREF_NONE for a value that does not start like
 * an SSM or Secrets Manager ARN; 0 with the parts for a well-formed reference; -1 (PERR_USAGE)
 * for a value that starts like one but is malformed, so a typo never reaches the child as if
 * it were the secret.
 */
PARITY_MUST_CHECK int secretref_parse(const char *value, struct secretref *out, struct perr *err);

/* The service's endpoint for a reference: AWS_ENDPOINT_URL_SSM or
 * AWS_ENDPOINT_URL_SECRETS_MANAGER, then AWS_ENDPOINT_URL (from env, which may be NULL), else
 * the partition's regional endpoint. */
void secretref_endpoint(const struct secretref *ref,
                        const struct envlist *env,
                        char *out,
                        size_t out_len);

#endif
