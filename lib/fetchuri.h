/* SPDX-License-Identifier: MIT */
/* Small documents named by a URI (job and runtime config): file://, s3://, https:// (http://
 * on loopback only), or an SSM parameter / Secrets Manager secret ARN, whose value is the
 * document. */
#ifndef PARITY_FETCHURI_H
#define PARITY_FETCHURI_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/creds.h"
#include "lib/envlist.h"
#include "lib/err.h"

/* True when fetching uri needs AWS credentials (s3:// or an ARN). */
bool fetchuri_needs_credentials(const char *uri);

/*
 * Reads the document into out (at most max_bytes). env gives the endpoint overrides of the
 * AWS services (AWS_ENDPOINT_URL_SSM, ...); c signs AWS calls and may be NULL for the other
 * schemes. Errors name the URI and say what failed (HTTP status, AWS error code).
 */
PARITY_MUST_CHECK int fetchuri_get(const char *uri,
                                   const struct envlist *env,
                                   const struct creds *c,
                                   size_t max_bytes,
                                   struct buf *out,
                                   struct perr *err);

#endif
