/* SPDX-License-Identifier: MIT */
/* The headers that make an AWS API request signed (SigV4): X-Amz-Date, Authorization and the
 * session token, for a body sent with one content type and optional extra signed headers. */
#ifndef PARITY_AWSSIGN_H
#define PARITY_AWSSIGN_H

#include <stddef.h>

#include "lib/creds.h"
#include "lib/err.h"
#include "lib/sigv4.h"

#define AWSSIGN_MAX_EXTRA 4

struct awssign_call {
    const char *method;
    const char *url;   /* scheme://host[:port]/path (percent-encoded as sent), no query */
    const char *path;  /* the raw path to sign, or NULL: the URL's */
    const char *query; /* the query as sent (no '?'), or NULL */
    const char *content_type;
    const struct sigv4_header *extra; /* more headers to send and sign (x-amz-target), or NULL */
    size_t extra_count;               /* at most AWSSIGN_MAX_EXTRA */
    const void *body;
    size_t body_len;
    const char *region;
    const char *service;
    /* S3: the path is signed as it is (no dot-segment removal) and x-amz-content-sha256 is
     * sent and signed, with this value (a hex SHA-256 or UNSIGNED-PAYLOAD), or NULL to hash
     * the body. */
    bool s3;
    const char *s3_payload_hash;
};

/* "Name: value" lines for http_request.headers, content type and extras included. */
struct awssign_headers {
    const char *lines[AWSSIGN_MAX_EXTRA + 6]; /* NULL-terminated */
    char content_type[128];
    char extra[AWSSIGN_MAX_EXTRA][256];
    char content_sha256[128];
    char date[64];
    char authorization[2048];
    char token[sizeof(((struct creds *)0)->session_token) + 32];
};

/* Signs the call with c at the current (skew-corrected) time and fills h. */
PARITY_MUST_CHECK int awssign_headers(const struct awssign_call *call,
                                      const struct creds *c,
                                      struct awssign_headers *h,
                                      struct perr *err);

/* Wipes the signed lines (the session token is a secret). */
void awssign_wipe(struct awssign_headers *h);

#endif
