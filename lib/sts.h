/* SPDX-License-Identifier: MIT */
/* STS over the query protocol: the regional endpoint and one form-encoded POST. */
#ifndef PARITY_STS_H
#define PARITY_STS_H

#include "lib/buf.h"
#include "lib/creds.h"
#include "lib/envlist.h"
#include "lib/err.h"
#include "lib/http.h"

/* AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else https://sts.<region>.amazonaws.com (the
 * regional endpoint: private VPCs have no route to the global one), else sts.amazonaws.com. */
void sts_endpoint(const struct envlist *env, const char *region, char *out, size_t out_len);

/* Appends "&name=value" form-encoded (no '&' for the first parameter of an empty buffer). */
PARITY_MUST_CHECK int
sts_form_add(struct buf *form, const char *name, const char *value, struct perr *err);

/*
 * POSTs the form to url and parses the credentials. When `signer` is not NULL the request is
 * SigV4-signed with it for `region` (service "sts"); otherwise it goes unsigned, as
 * AssumeRoleWithWebIdentity does.
 */
PARITY_MUST_CHECK int sts_post(const char *url,
                               const char *form,
                               size_t form_len,
                               const struct creds *signer,
                               const char *region,
                               const struct http_opts *opts,
                               struct creds *out,
                               struct perr *err);

#endif
