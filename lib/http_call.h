/* SPDX-License-Identifier: MIT */
/* One request on a libcurl easy handle, set up and read back: shared by http_do (a request at
 * a time on the calling thread's handle) and lib/http_parallel (many at once on one thread).
 * Internal to lib/http*.c. */
#ifndef PARITY_HTTP_CALL_H
#define PARITY_HTTP_CALL_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "lib/err.h"
#include "lib/http.h"

/* What a request's callbacks use while it runs: it stays where it is until http_call_end. */
struct http_call {
    CURL *curl;
    const struct http_request *req;
    struct http_opts o;
    struct http_response *resp;
    struct curl_slist *headers;
    size_t sent;   /* upload: bytes read from the request's fd so far */
    bool overflow; /* the error body outgrew o.max_body_bytes */
    char detail[CURL_ERROR_SIZE];
};

/* The options with their defaults filled in (timeouts, body bound, attempts, backoff). */
struct http_opts http_opts_defaults(const struct http_opts *given);

/* Sets c up for one attempt of req (o with its defaults filled in). */
void http_call_begin(struct http_call *k,
                     CURL *c,
                     const struct http_request *req,
                     const struct http_opts *o,
                     struct http_response *resp);

/* The attempt ended with libcurl's code rc: returns 0 with k's response filled, or -1 with err
 * set; *retry says whether another attempt is worth it. Frees what begin made. */
int http_call_end(struct http_call *k, CURLcode rc, bool *retry, struct perr *err);

#endif
