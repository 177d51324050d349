/* SPDX-License-Identifier: MIT */
/* The bearer token EKS accepts, made as `aws eks get-token` makes it (contract/launcher-apis.md
 * §2.4): a presigned STS GetCallerIdentity GET with the cluster name signed in x-k8s-aws-id,
 * base64url-encoded without padding after "k8s-aws-v1.". No AWS CLI needed. */
#ifndef PARITY_EKS_TOKEN_H
#define PARITY_EKS_TOKEN_H

#include <stdint.h>

#include "lib/buf.h"
#include "lib/creds.h"
#include "lib/err.h"

#define EKS_TOKEN_LIFETIME_S (14 * 60) /* the server takes it 15 min after its date */

/*
 * Appends the token for cluster to out, signed with c at time now (epoch seconds) for region,
 * against https://sts.REGION.amazonaws.com/ (or sts_host when not NULL, as in Debian botocore's
 * global sts.amazonaws.com). The presigned URL alone goes to url when it is not NULL.
 */
PARITY_MUST_CHECK int eks_token(const struct creds *c,
                                const char *region,
                                const char *cluster,
                                const char *sts_host,
                                int64_t now,
                                struct buf *out,
                                struct buf *url,
                                struct perr *err);

#endif
