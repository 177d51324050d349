/* SPDX-License-Identifier: MIT */
/* Many requests at once on the calling thread, as `curl --parallel` runs them (libcurl's multi
 * interface): one thread reads every connection and writes every file, so downloads need no
 * threads contending for the files they write or for the CPU the server also needs. */
#ifndef PARITY_HTTP_PARALLEL_H
#define PARITY_HTTP_PARALLEL_H

#include <stdbool.h>

#include "lib/err.h"
#include "lib/http.h"

struct http_parallel;

/* A request ended: rc and err as http_do gives them for one attempt (never retried here). */
typedef void http_parallel_done_fn(void *ctx, void *tag, int rc, struct perr *err);

/* NULL when out of memory. */
struct http_parallel *http_parallel_new(void);

/* Starts one attempt of req. req, what it points to, and resp stay the caller's and must live
 * until the request ends (done is called with tag). */
PARITY_MUST_CHECK int http_parallel_add(struct http_parallel *p,
                                        const struct http_request *req,
                                        const struct http_opts *opts,
                                        struct http_response *resp,
                                        void *tag,
                                        struct perr *err);

/* Moves the transfers along for at most timeout_ms, calling done for each request that ended
 * (done may add requests). Returns how many are still running. */
int http_parallel_run(struct http_parallel *p,
                      long timeout_ms,
                      http_parallel_done_fn *done,
                      void *ctx);

/* Drops the requests still running (done is not called for them) and frees p. */
void http_parallel_free(struct http_parallel *p);

#endif
