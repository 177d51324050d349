/* SPDX-License-Identifier: MIT */
/* Requests on libcurl easy handles (one per thread, kept alive); retries and backoff around them.
 */
#include "lib/http.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "lib/crypto.h"
#include "lib/http_call.h"

/* Where distributions keep their CA bundle: Debian/Ubuntu, RHEL/Fedora, SUSE, Alpine. */
static const char *const ca_paths[] = {
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
};

/* AWS error codes that mean "slow down" (botocore's throttling list). */
static const char *const throttle_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "RequestTimeout",
    "RequestTimeoutException",
};

static void global_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void http_global_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, global_init_once);
}

void http_response_init(struct http_response *r)
{
    memset(r, 0, sizeof(*r));
}

void http_response_cleanup(struct http_response *r)
{
    buf_cleanup(&r->body);
}

const char *http_ca_bundle(void)
{
    const char *env = getenv("SSL_CERT_FILE");

    if (env && *env)
        return env;
    for (size_t i = 0; i < sizeof(ca_paths) / sizeof(ca_paths[0]); i++) {
        if (access(ca_paths[i], R_OK) == 0)
            return ca_paths[i];
    }
    return NULL;
}

bool http_is_retryable(long status, const char *body)
{
    if (status == 429 || status == 500 || status == 502 || status == 503 || status == 504)
        return true;
    if (status < 400 || !body)
        return false;
    for (size_t i = 0; i < sizeof(throttle_codes) / sizeof(throttle_codes[0]); i++) {
        const char *hit = strstr(body, throttle_codes[i]);
        size_t n = strlen(throttle_codes[i]);
        /* whole code only: "Throttling" must not match inside "ThrottlingException" twice */
        if (hit && !((hit[n] >= 'A' && hit[n] <= 'Z') || (hit[n] >= 'a' && hit[n] <= 'z')))
            return true;
    }
    return false;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct http_call *k = ctx;
    const struct http_sink *stream = k->req->sink;
    struct perr ignored = {0};
    long status = 0;

    curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &status);
    if (stream && status >= 200 && status < 300) {
        if (!stream->write(stream->ctx, data, size * n)) {
            k->resp->sink_failed = true;
            return 0;
        }
        return size * n;
    }
    if (buf_append(&k->resp->body, data, size * n, &ignored) < 0) {
        k->overflow = true;
        return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    return size * n;
}

/* The upload body, read from the request's fd with pread: threads may share the fd. */
static size_t on_upload(char *data, size_t size, size_t n, void *ctx)
{
    struct http_call *k = ctx;
    size_t want = size * n;
    ssize_t got;

    if (want > k->req->body_len - k->sent)
        want = k->req->body_len - k->sent;
    do {
        got = pread(k->req->body_fd, data, want, (off_t)(k->req->body_off + k->sent));
    } while (got < 0 && errno == EINTR);
    if (got < 0)
        return CURL_READFUNC_ABORT;
    k->sent += (size_t)got;
    return (size_t)got;
}

/* The value of header `name` (lower case, with the colon) in a header line, trimmed. */
static bool
header_value(const char *data, size_t len, const char *name, const char **v, size_t *vlen)
{
    size_t nl = strlen(name), start = nl;

    if (len <= nl || strncasecmp(data, name, nl) != 0)
        return false;
    while (start < len && data[start] == ' ')
        start++;
    while (len > start && (data[len - 1] == '\r' || data[len - 1] == '\n' || data[len - 1] == ' '))
        len--;
    *v = data + start;
    *vlen = len - start;
    return true;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    struct http_response *r = ctx;
    size_t len = size * n, vlen;
    const char *v;

    if (header_value(data, len, "date:", &v, &vlen))
        snprintf(r->date, sizeof(r->date), "%.*s", (int)vlen, v);
    else if (header_value(data, len, "etag:", &v, &vlen))
        snprintf(r->etag, sizeof(r->etag), "%.*s", (int)vlen, v);
    else if (header_value(data, len, "content-length:", &v, &vlen) && vlen && vlen < 20 &&
             strspn(v, "0123456789") >= vlen)
        r->content_length = strtoll(v, NULL, 10);
    return size * n;
}

static bool transient(CURLcode c)
{
    return c == CURLE_COULDNT_CONNECT || c == CURLE_OPERATION_TIMEDOUT || c == CURLE_RECV_ERROR ||
           c == CURLE_SEND_ERROR || c == CURLE_GOT_NOTHING || c == CURLE_PARTIAL_FILE ||
           c == CURLE_COULDNT_RESOLVE_HOST || c == CURLE_SSL_CONNECT_ERROR;
}

static uint64_t monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* libcurl's progress callback: non-zero gives the transfer up. */
static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    const uint64_t *abort_at = ctx;
    uint64_t at = __atomic_load_n(abort_at, __ATOMIC_RELAXED);

    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    return at && monotonic_ms() >= at;
}

/* Sockets close on exec: the child PID 1 starts must not hold PID 1's connections. */
static curl_socket_t open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)ctx;
    (void)purpose;
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* One libcurl handle per thread, reset and reused by every request the thread makes, so its
 * connections are kept alive from one request to the next (an S3 transfer makes hundreds);
 * freed when the thread ends. */
static pthread_key_t handle_key;
static pthread_once_t handle_once = PTHREAD_ONCE_INIT;

static void free_handle(void *c)
{
    curl_easy_cleanup(c);
}

static bool handle_key_made;

static void make_handle_key(void)
{
    if (pthread_key_create(&handle_key, free_handle) != 0)
        abort(); /* only with PTHREAD_KEYS_MAX keys taken: never in this program */
    __atomic_store_n(&handle_key_made, true, __ATOMIC_RELEASE);
}

static CURL *thread_handle(void)
{
    CURL *c;

    pthread_once(&handle_once, make_handle_key);
    c = pthread_getspecific(handle_key);
    if (c) {
        curl_easy_reset(c); /* options go, the connection cache stays */
        return c;
    }
    c = curl_easy_init();
    if (c && pthread_setspecific(handle_key, c) != 0) {
        curl_easy_cleanup(c);
        c = NULL;
    }
    return c;
}

void http_thread_release(void)
{
    CURL *c;

    /* no request made yet: nothing to release, and libcurl stays unloaded (PID 1's resident
     * memory while it supervises is mostly what it never touched) */
    if (!__atomic_load_n(&handle_key_made, __ATOMIC_ACQUIRE))
        return;
    c = pthread_getspecific(handle_key);
    if (c) {
        pthread_setspecific(handle_key, NULL);
        curl_easy_cleanup(c);
    }
}

void http_call_begin(struct http_call *k,
                     CURL *c,
                     const struct http_request *req,
                     const struct http_opts *o,
                     struct http_response *resp)
{
    const char *ca = http_ca_bundle();

    memset(k, 0, sizeof(*k));
    k->curl = c;
    k->req = req;
    k->o = *o;
    k->resp = resp;
    for (size_t i = 0; req->headers && req->headers[i]; i++)
        k->headers = curl_slist_append(k->headers, req->headers[i]);
    /* libcurl would add "Expect: 100-continue" to larger bodies; AWS endpoints do not need it. */
    k->headers = curl_slist_append(k->headers, "Expect:");
    buf_reset(&resp->body);
    resp->date[0] = resp->etag[0] = '\0';
    resp->content_length = -1;
    resp->sink_failed = false;
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, k->headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* PID 1 owns the signals; threads resolve */
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, k->detail);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->total_timeout_ms);
    if (o->stall_timeout_ms > 0) {
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (o->stall_timeout_ms + 999) / 1000);
    }
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, req->insecure ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, req->insecure ? 0L : 2L);
    if (req->ca_pem) {
        struct curl_blob blob = {(void *)req->ca_pem, req->ca_pem_len, CURL_BLOB_COPY};
        curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
    } else if (ca) {
        curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    }
    if (req->cert_pem && req->key_pem) {
        struct curl_blob cert = {(void *)req->cert_pem, req->cert_pem_len, CURL_BLOB_COPY};
        struct curl_blob key = {(void *)req->key_pem, req->key_pem_len, CURL_BLOB_COPY};
        curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
        curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
        curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, k);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    if (o->abort_at_ms) {
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)o->abort_at_ms);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    }
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
    if (req->sink) /* large streamed bodies: fewer reads (libcurl allocates this buffer for each
                      transfer: 576 fresh 100 KiB mappings in bench/s3.sh's download) */
        curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 96L * 1024);
    if (req->body_fd > 0) {
        curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_upload);
        curl_easy_setopt(c, CURLOPT_READDATA, k);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
    } else if (req->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }
}

int http_call_end(struct http_call *k, CURLcode rc, bool *retry, struct perr *err)
{
    const struct http_request *req = k->req;
    struct http_response *resp = k->resp;

    *retry = false;
    curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_setopt(k->curl, CURLOPT_ERRORBUFFER, NULL); /* `detail` ends with the call */
    curl_slist_free_all(k->headers);
    k->headers = NULL;
    if (k->overflow)
        return perr_set(err, PERR_LIMIT, "%s %s: the response is larger than %zu bytes",
                        req->method, req->url, k->o.max_body_bytes);
    if (resp->sink_failed)
        return perr_set(err, PERR_IO, "%s %s: could not store the body", req->method, req->url);
    if (rc == CURLE_ABORTED_BY_CALLBACK)
        return perr_set(err, PERR_TIMEOUT,
                        "%s %s: given up: the time left before the platform's SIGKILL "
                        "(PARITY_STOP_SECONDS) is spent",
                        req->method, req->url);
    if (rc != CURLE_OK) {
        *retry = transient(rc);
        /* libcurl's own words say more than its code ("Operation too slow", the host) */
        return perr_set(err, rc == CURLE_OPERATION_TIMEDOUT ? PERR_TIMEOUT : PERR_HTTP, "%s %s: %s",
                        req->method, req->url, k->detail[0] ? k->detail : curl_easy_strerror(rc));
    }
    *retry = http_is_retryable(resp->status, resp->body.data);
    return 0;
}

/* One attempt on the calling thread's handle. */
static int attempt(const struct http_request *req,
                   const struct http_opts *o,
                   struct http_response *resp,
                   bool *retry,
                   struct perr *err)
{
    CURL *c = thread_handle();
    struct http_call k;

    *retry = false;
    if (!c)
        return perr_set(err, PERR_NOMEM, "out of memory starting an HTTP request");
    http_call_begin(&k, c, req, o, resp);
    return http_call_end(&k, curl_easy_perform(c), retry, err);
}

void http_backoff(long base_ms, long cap_ms, int tries)
{
    long cap = base_ms;
    uint32_t r = 0;

    for (int i = 0; i < tries && cap < cap_ms; i++)
        cap *= 2;
    if (cap > cap_ms)
        cap = cap_ms;
    (void)crypto_random(&r, sizeof(r));
    long ms = cap > 0 ? (long)(r % (uint32_t)(cap + 1)) : 0; /* full jitter */
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

struct http_opts http_opts_defaults(const struct http_opts *given)
{
    struct http_opts o = *given;

    if (!o.connect_timeout_ms)
        o.connect_timeout_ms = 2000;
    if (!o.total_timeout_ms)
        o.total_timeout_ms = 10000;
    if (!o.max_body_bytes)
        o.max_body_bytes = 1u << 20;
    if (!o.max_attempts)
        o.max_attempts = 3;
    if (!o.backoff_base_ms)
        o.backoff_base_ms = 100;
    if (!o.backoff_cap_ms)
        o.backoff_cap_ms = 20000;
    if (!o.idempotent)
        o.max_attempts = 1;
    return o;
}

int http_do(const struct http_request *req,
            const struct http_opts *opts,
            struct http_response *resp,
            struct perr *err)
{
    struct http_opts o = http_opts_defaults(opts);
    int rc = -1;

    if (resp->body.max_bytes == 0)
        buf_init(&resp->body, o.max_body_bytes);
    for (resp->attempts = 1;; resp->attempts++) {
        bool retry;
        rc = attempt(req, &o, resp, &retry, err);
        if (!retry || resp->attempts >= o.max_attempts)
            break;
        http_backoff(o.backoff_base_ms, o.backoff_cap_ms, resp->attempts - 1);
    }
    if (rc == 0 && resp->attempts > 1 && http_is_retryable(resp->status, resp->body.data))
        return perr_set(err, PERR_HTTP, "%s %s: HTTP %ld after %d attempts", req->method, req->url,
                        resp->status, resp->attempts);
    if (rc < 0 && resp->attempts > 1)
        return perr_wrap(err, "after %d attempts", resp->attempts);
    return rc;
}
