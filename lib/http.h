/* SPDX-License-Identifier: MIT */
/* One HTTP client for every call the project makes (libcurl underneath): timeouts, a body size
 * bound, retries with capped exponential backoff and full jitter, TLS verification always on. */
#ifndef PARITY_HTTP_H
#define PARITY_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/err.h"

struct http_opts {
    long connect_timeout_ms; /* 0: 2000 */
    long total_timeout_ms;   /* per attempt; 0: 10000 */
    size_t max_body_bytes;   /* 0: 1 MiB */
    int max_attempts;        /* 0: 3; 1 means no retry */
    long backoff_base_ms;    /* 0: 100 */
    long backoff_cap_ms;     /* 0: 20000 */
    bool idempotent;         /* only idempotent requests are retried */
    long stall_timeout_ms;   /* > 0: a transfer that moves no byte this long fails (for long
                                streams, whose total timeout cannot catch a stalled peer) */
    /* CLOCK_MONOTONIC ms at which a transfer in flight is given up, read while it runs (another
     * thread may set it: a SIGTERM's stop budget); NULL or 0: never */
    const uint64_t *abort_at_ms;
};

/* Where a successful (2xx) answer's body goes instead of http_response.body: returns false
 * to stop the transfer (a write error). Error bodies still go to http_response.body. */
struct http_sink {
    bool (*write)(void *ctx, const char *data, size_t len);
    void *ctx;
};

struct http_request {
    const char *method;
    const char *url;
    const char *const *headers; /* "Name: value" strings, NULL-terminated, or NULL */
    const void *body;
    size_t body_len;
    /* A streamed request (body_fd or sink) cannot be replayed by http_do: give it
     * max_attempts 1 and resume or restart at the caller (S3 ranges, a rewound fd). */
    int body_fd;                  /* > 0: send body_len bytes read from this fd instead, */
    unsigned long long body_off;  /* starting at this offset (pread: the fd may be shared) */
    const struct http_sink *sink; /* stream a 2xx body here, or NULL */
    /* TLS with a server's own CA and a client certificate (Kubernetes API servers) */
    const char *ca_pem; /* trust this CA bundle (PEM) instead of the system's, or NULL */
    size_t ca_pem_len;
    const char *cert_pem; /* a client certificate (PEM) and its key, or NULL */
    size_t cert_pem_len;
    const char *key_pem;
    size_t key_pem_len;
    bool insecure; /* no server verification: only when a kubeconfig asks for it */
};

struct http_response {
    long status;
    struct buf body;
    char date[64];            /* the Date header, for clock-skew correction */
    char etag[128];           /* the ETag header as sent (quotes included), or "" */
    long long content_length; /* the Content-Length header, or -1 (HEAD reads sizes here) */
    int attempts;             /* how many tries it took */
    bool sink_failed;         /* the sink refused data */
};

/* libcurl's global set-up, once: call it before the first threads that make requests. */
void http_global_init(void);

/* Closes the calling thread's kept-alive connections (each thread keeps its own handle so
 * that consecutive requests reuse them): PID 1 does it before it starts the child. */
void http_thread_release(void);

/* Prepares an empty response; http_response_cleanup frees it (safe twice). */
void http_response_init(struct http_response *r);
void http_response_cleanup(struct http_response *r);

/*
 * Performs the request, retrying (when idempotent) connection failures, timeouts, 429 and 5xx
 * and AWS throttling errors, sleeping rand(0, min(cap, base * 2^attempt)) between tries. A
 * response of any other status is returned as is (status set, body kept); only transport
 * failures and exhausted retries fail, with the URL and the cause in the message.
 */
PARITY_MUST_CHECK int http_do(const struct http_request *req,
                              const struct http_opts *opts,
                              struct http_response *resp,
                              struct perr *err);

/* Sleeps rand(0, min(cap_ms, base_ms * 2^tries)) ms: capped exponential backoff, full jitter. */
void http_backoff(long base_ms, long cap_ms, int tries);

/* True for a status or AWS error code worth retrying (contract/launcher-apis.md §1.5). */
bool http_is_retryable(long status, const char *body);

/* The CA bundle libcurl is given: SSL_CERT_FILE, else the first well-known path that exists,
 * else NULL (then libcurl's own default). */
const char *http_ca_bundle(void);

#endif
