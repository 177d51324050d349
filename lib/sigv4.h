/* SPDX-License-Identifier: MIT */
/* AWS Signature Version 4: canonical request, string to sign, signature, and the two ways to
 * carry it (the Authorization header, a presigned query). Each stage is its own function, so
 * the AWS test suite can check each one. */
#ifndef PARITY_SIGV4_H
#define PARITY_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"

#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

struct sigv4_header {
    const char *name;  /* any case */
    const char *value; /* as sent; trimmed and space-folded for signing */
};

struct sigv4_request {
    const char *method;
    const char *path;                   /* raw (not percent-encoded) path, "/" at least */
    const char *query;                  /* the query as sent, without '?', or NULL */
    const struct sigv4_header *headers; /* every header to sign, host included */
    size_t header_count;
    const char *payload_hash; /* hex SHA-256 of the body, or UNSIGNED-PAYLOAD */
    bool normalize_path;      /* generic services: remove dot segments and empty ones; not S3 */
};

struct sigv4_scope {
    const char *amz_date; /* "20150830T123600Z" */
    const char *region;
    const char *service;
};

struct sigv4_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL without one */
};

/* CanonicalRequest: method, URI, query, headers, signed header list, payload hash. The signed
 * header list ("host;x-amz-date") also goes to `signed_headers`. */
PARITY_MUST_CHECK int sigv4_canonical_request(const struct sigv4_request *r,
                                              struct buf *out,
                                              struct buf *signed_headers,
                                              struct perr *err);

/* "AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex sha256 of the canonical request>". */
PARITY_MUST_CHECK int sigv4_string_to_sign(const struct sigv4_scope *s,
                                           const char *creq,
                                           size_t creq_len,
                                           struct buf *out,
                                           struct perr *err);

/* The hex signature of a string to sign, with the key derived from the secret and scope. */
void sigv4_signature(
    const char *secret, const struct sigv4_scope *s, const char *sts, size_t sts_len, char hex[65]);

/*
 * Signs a request whose headers already hold x-amz-date (and x-amz-security-token and
 * x-amz-content-sha256 where wanted): writes the Authorization header value into `out`.
 */
PARITY_MUST_CHECK int sigv4_authorization(const struct sigv4_request *r,
                                          const struct sigv4_credentials *c,
                                          const struct sigv4_scope *s,
                                          struct buf *out,
                                          struct perr *err);

/*
 * Presigns: `out` receives the full query string (the request's own parameters plus
 * X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders, -Security-Token when there is
 * a token, and -Signature last). The request's headers are usually just host.
 */
PARITY_MUST_CHECK int sigv4_presign(const struct sigv4_request *r,
                                    const struct sigv4_credentials *c,
                                    const struct sigv4_scope *s,
                                    unsigned expires_s,
                                    struct buf *out,
                                    struct perr *err);

/* Appends s percent-encoded as SigV4 wants: everything but A-Z a-z 0-9 - _ . ~ (and '/' when
 * keep_slash). */
PARITY_MUST_CHECK int
sigv4_uri_encode(struct buf *b, const char *s, size_t len, bool keep_slash, struct perr *err);

#endif
