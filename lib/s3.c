/* SPDX-License-Identifier: MIT */
/* S3 object calls over lib/http, signed by lib/awssign. */
#include "lib/s3.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/awssign.h"
#include "lib/buf.h"
#include "lib/crypto.h"
#include "lib/http.h"
#include "lib/sigv4.h"
#include "lib/xml.h"

#define S3_LIST_MAX_BYTES (8u << 20) /* one page: 1000 keys of up to 1 KiB, with XML around */
#define S3_GET_TRIES      5          /* also for PUTs */
#define S3_MAX_PUT        (5ULL << 30)
#define S3_STALL_MS       60000 /* no byte for a minute: drop the connection and resume */

int s3_parse_uri(const char *uri, char bucket[64], char key[S3_MAX_KEY + 1], struct perr *err)
{
    const char *b, *slash;
    size_t blen;

    if (strncmp(uri, "s3://", 5) != 0)
        return perr_set(err, PERR_USAGE, "'%s' is not an s3:// URI", uri);
    b = uri + 5;
    slash = strchr(b, '/');
    blen = slash ? (size_t)(slash - b) : strlen(b);
    if (blen < 3 || blen > 63 || strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") < blen)
        return perr_set(err, PERR_USAGE,
                        "'%s': a bucket name has 3 to 63 lowercase letters, digits, '.' and '-'",
                        uri);
    if (slash && strlen(slash + 1) > S3_MAX_KEY)
        return perr_set(err, PERR_USAGE, "'%s': the key is longer than %d bytes", uri, S3_MAX_KEY);
    memcpy(bucket, b, blen);
    bucket[blen] = '\0';
    snprintf(key, S3_MAX_KEY + 1, "%s", slash ? slash + 1 : "");
    return 0;
}

int s3_relative_path(const char *prefix, const char *key, const char **rel, struct perr *err)
{
    size_t plen = strlen(prefix);
    const char *r = key + plen;

    if (strncmp(key, prefix, plen) != 0)
        return perr_set(err, PERR_PARSE, "key '%s' is not under the prefix '%s'", key, prefix);
    /* The key relative to the prefix; a URI naming one object gives that object's name. */
    if (*r == '/' && plen && prefix[plen - 1] != '/')
        r++;
    else if (!*r)
        r = strrchr(key, '/') ? strrchr(key, '/') + 1 : key;
    *rel = r;
    if (!*r || *r == '/')
        return perr_set(err, PERR_USAGE, "key '%s' leaves no relative path (empty or absolute)",
                        key);
    for (const char *seg = r; *seg;) {
        size_t n = strcspn(seg, "/");
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return perr_set(err, PERR_USAGE,
                            "key '%s' has an empty, '.' or '..' path segment, which would "
                            "leave the channel's folder or collide",
                            key);
        seg += n;
        if (*seg == '/' && !seg[1])
            break; /* a trailing '/' (a folder marker) ends the key */
        seg += *seg == '/';
    }
    return 0;
}

int s3_client_init(struct s3_client *s,
                   const struct envlist *env,
                   const struct creds *c,
                   struct perr *err)
{
    const char *e = envlist_get(env, "AWS_ENDPOINT_URL_S3");
    const char *region = envlist_get(env, "AWS_REGION");
    size_t n;

    if (!c)
        return perr_set(err, PERR_AUTH,
                        "S3 needs AWS credentials, and parity-init has none "
                        "(docs/credentials.md says where it looks)");
    if (!e || !*e)
        e = envlist_get(env, "AWS_ENDPOINT_URL");
    memset(s, 0, sizeof(*s));
    s->creds = c;
    snprintf(s->region, sizeof(s->region), "%s", region && *region ? region : "us-east-1");
    snprintf(s->endpoint, sizeof(s->endpoint), "%s", e ? e : "");
    n = strlen(s->endpoint);
    while (n && s->endpoint[n - 1] == '/')
        s->endpoint[--n] = '\0';
    return 0;
}

/* The URL (key percent-encoded once) and the raw path to sign, for bucket and key. A custom
 * endpoint and bucket names with dots use path style; AWS otherwise virtual-hosted style. */
static int object_url(const struct s3_client *s,
                      const char *bucket,
                      const char *key,
                      struct buf *url,
                      struct buf *path,
                      struct perr *err)
{
    bool path_style = s->endpoint[0] || strchr(bucket, '.');
    int rc;

    if (s->endpoint[0])
        rc = buf_printf(url, err, "%s/%s", s->endpoint, bucket);
    else if (path_style)
        rc = buf_printf(url, err, "https://s3.%s.amazonaws.com/%s", s->region, bucket);
    else
        rc = buf_printf(url, err, "https://%s.s3.%s.amazonaws.com", bucket, s->region);
    if (rc == 0 && path_style)
        rc = buf_printf(path, err, "/%s", bucket);
    if (rc == 0 && (*key || !path_style)) {
        rc = buf_append(url, "/", 1, err);
        if (rc == 0)
            rc = buf_append(path, "/", 1, err);
    }
    if (rc == 0)
        rc = sigv4_uri_encode(url, key, strlen(key), true, err);
    if (rc == 0)
        rc = buf_append_str(path, key, err);
    return rc;
}

/* S3's XML error, or the status alone. */
static int s3_error(const char *what, const struct http_response *r, struct perr *err)
{
    char code[128], message[512];
    const char *body = r->body.data ? r->body.data : "";

    if (xml_text(body, r->body.len, "Code", code, sizeof(code)) == 0) {
        if (xml_text(body, r->body.len, "Message", message, sizeof(message)) != 0)
            message[0] = '\0';
        return perr_set(err, strstr(code, "AccessDenied") ? PERR_AUTH : PERR_HTTP,
                        "%s: %s: %s (HTTP %ld)", what, code, message, r->status);
    }
    return perr_set(err, PERR_HTTP, "%s: HTTP %ld", what, r->status);
}

/* A request body: len bytes of fd from off, or in memory; its SHA-256 (hex) is signed. */
struct s3_body {
    int fd;
    uint64_t off;
    uint64_t len;
    const char *data;
    const char *sha256_hex;
};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t s3_deadline(const struct s3_client *s)
{
    return s->deadline_ms ? __atomic_load_n(s->deadline_ms, __ATOMIC_RELAXED) : 0;
}

/* True once the deadline is (nearly) here: no point in another try. */
static bool out_of_time(const struct s3_client *s)
{
    uint64_t deadline = s3_deadline(s);

    return deadline && now_ms() + 100 >= deadline;
}

/* One S3 request: extra headers are sent and signed; a body (in memory or a file range) is
 * signed by its SHA-256; a sink takes a 2xx answer's body. */
struct s3_call {
    const char *method;
    const char *bucket;
    const char *key;
    const char *query; /* encoded, without '?', or NULL */
    const struct sigv4_header *extra;
    size_t extra_count;
    const struct http_sink *sink;
    const struct s3_body *body;
    const struct http_opts *opts;
};

/* A signed request ready for lib/http; what req points to lives here until s3_unprepare. */
struct s3_prepared {
    struct buf url, path;
    struct awssign_headers h;
    struct http_request req;
    struct http_opts opts;
};

static void s3_unprepare(struct s3_prepared *p)
{
    awssign_wipe(&p->h);
    buf_cleanup(&p->url);
    buf_cleanup(&p->path);
}

/* Signs one request. With a deadline, the request may not outlast it. */
static int s3_prepare(const struct s3_client *s,
                      const struct s3_call *c,
                      struct s3_prepared *p,
                      struct perr *err)
{
    const struct s3_body *body = c->body;
    uint64_t deadline = s3_deadline(s);
    int rc;

    memset(p, 0, sizeof(*p));
    buf_init(&p->url, 8192);
    buf_init(&p->path, 4096);
    p->opts = *c->opts;
    p->opts.abort_at_ms = s->deadline_ms; /* a transfer in flight stops when the budget does */
    if (deadline) {
        uint64_t now = now_ms();
        if (now + 100 >= deadline)
            return perr_set(err, PERR_TIMEOUT,
                            "%s s3://%s/%s: not started: the time left before the platform's "
                            "SIGKILL (PARITY_STOP_SECONDS) is spent",
                            c->method, c->bucket, c->key);
        if (!p->opts.total_timeout_ms || (uint64_t)p->opts.total_timeout_ms > deadline - now)
            p->opts.total_timeout_ms = (long)(deadline - now);
    }
    rc = object_url(s, c->bucket, c->key, &p->url, &p->path, err);
    if (rc == 0 && c->query)
        rc = buf_printf(&p->url, err, "?%s", c->query);
    if (rc == 0) {
        /* the URL without its query: awssign reads host and nothing else from it */
        char *q = strchr(p->url.data, '?');
        struct awssign_call call = {.method = c->method,
                                    .url = p->url.data,
                                    .path = p->path.data,
                                    .query = c->query,
                                    .extra = c->extra,
                                    .extra_count = c->extra_count,
                                    .body = body ? body->data : NULL,
                                    .body_len = body && body->data ? (size_t)body->len : 0,
                                    .region = s->region,
                                    .service = "s3",
                                    .s3 = true,
                                    .s3_payload_hash = body ? body->sha256_hex : NULL};
        if (q)
            *q = '\0';
        rc = awssign_headers(&call, s->creds, &p->h, err);
        if (q)
            *q = '?';
    }
    if (rc == 0)
        p->req = (struct http_request){.method = c->method,
                                       .url = p->url.data,
                                       .headers = p->h.lines,
                                       .sink = c->sink,
                                       .body = body ? body->data : NULL,
                                       .body_fd = body && !body->data ? body->fd : 0,
                                       .body_off = body ? body->off : 0,
                                       .body_len = body ? (size_t)body->len : 0};
    return rc;
}

/* Sends one signed request and waits for its answer. */
static int s3_request(const struct s3_client *s,
                      const struct s3_call *c,
                      struct http_response *resp,
                      struct perr *err)
{
    struct s3_prepared p;
    int rc = s3_prepare(s, c, &p, err);

    if (rc == 0)
        rc = http_do(&p.req, &p.opts, resp, err);
    s3_unprepare(&p);
    return rc;
}

int s3_parse_list_page(const char *xml,
                       size_t len,
                       s3_list_fn *fn,
                       void *ctx,
                       char *token,
                       size_t token_len,
                       struct perr *err)
{
    const char *inner;
    size_t inner_len, pos = 0;
    char truncated[8], size[32];
    struct s3_object *o = calloc(1, sizeof(*o));
    int rc = 0;

    if (!o)
        return perr_set(err, PERR_NOMEM, "out of memory listing S3");
    while (rc == 0 && xml_next(xml, len, "Contents", &pos, &inner, &inner_len)) {
        char *end;
        int k = xml_text(inner, inner_len, "Key", o->key, sizeof(o->key));
        if (k < 0 || xml_text(inner, inner_len, "Size", size, sizeof(size)) < 0) {
            rc = perr_set(err, PERR_PARSE, "an S3 listing entry without a readable Key and Size");
            break;
        }
        errno = 0;
        o->size = strtoull(size, &end, 10);
        if (*end || end == size || errno || size[0] == '-') {
            rc =
                perr_set(err, PERR_PARSE, "the S3 listing gives '%s' a size of '%s'", o->key, size);
            break;
        }
        if (xml_text(inner, inner_len, "ETag", o->etag, sizeof(o->etag)) < 0)
            o->etag[0] = '\0';
        rc = fn(ctx, o, err);
    }
    free(o);
    token[0] = '\0';
    if (rc == 0 && xml_text(xml, len, "IsTruncated", truncated, sizeof(truncated)) == 0 &&
        strcmp(truncated, "true") == 0 &&
        xml_text(xml, len, "NextContinuationToken", token, token_len) < 0)
        rc = perr_set(err, PERR_PARSE, "a truncated S3 listing without a continuation token");
    return rc;
}

int s3_list(const struct s3_client *s,
            const char *bucket,
            const char *prefix,
            s3_list_fn *fn,
            void *ctx,
            struct perr *err)
{
    char token[2048] = "";
    struct http_opts opts = {
        .max_body_bytes = S3_LIST_MAX_BYTES, .idempotent = true, .total_timeout_ms = 60000};
    int rc = 0;

    do {
        struct http_response resp;
        struct buf query;
        char what[1200];
        buf_init(&query, 8192);
        rc = buf_append_str(&query, token[0] ? "continuation-token=" : "", err);
        if (rc == 0 && token[0])
            rc = sigv4_uri_encode(&query, token, strlen(token), false, err);
        if (rc == 0)
            rc = buf_printf(&query, err, "%slist-type=2&prefix=", token[0] ? "&" : "");
        if (rc == 0)
            rc = sigv4_uri_encode(&query, prefix, strlen(prefix), false, err);
        http_response_init(&resp);
        if (rc == 0)
            rc = s3_request(s,
                            &(struct s3_call){.method = "GET",
                                              .bucket = bucket,
                                              .key = "",
                                              .query = query.data,
                                              .opts = &opts},
                            &resp, err);
        snprintf(what, sizeof(what), "listing s3://%s/%s", bucket, prefix);
        if (rc == 0 && resp.status != 200)
            rc = s3_error(what, &resp, err);
        if (rc == 0)
            rc = s3_parse_list_page(resp.body.data ? resp.body.data : "", resp.body.len, fn, ctx,
                                    token, sizeof(token), err);
        else if (err->code != PERR_HTTP && err->code != PERR_AUTH)
            perr_wrap(err, "%s", what);
        http_response_cleanup(&resp);
        buf_cleanup(&query);
    } while (rc == 0 && token[0]);
    return rc;
}

/* Object transfers: long, streamed, one attempt per request (an s3_get resumes, uploads
 * start their part over), and dropped when no byte moves for a minute. */
static const struct http_opts transfer_opts = {.max_body_bytes = 64 * 1024,
                                               .max_attempts = 1,
                                               .idempotent = true,
                                               .total_timeout_ms = 24L * 3600 * 1000,
                                               .stall_timeout_ms = S3_STALL_MS,
                                               .connect_timeout_ms = 5000};

/* Small requests around transfers (HEAD, create, complete, abort, delete): retried by http_do. */
static const struct http_opts control_opts = {
    .max_body_bytes = 1u << 20, .idempotent = true, .total_timeout_ms = 60000};

/* How long to wait before attempt tries + 1 of a transfer. */
static long retry_pause_ms(int tries)
{
    return 100L * tries;
}

static void pause_before(int tries)
{
    long ms = retry_pause_ms(tries);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void count_moved(const struct s3_client *s, uint64_t n)
{
    if (s->moved)
        __atomic_add_fetch(s->moved, n, __ATOMIC_RELAXED);
}

int s3_head(const struct s3_client *s,
            const char *bucket,
            const char *key,
            struct s3_object *o,
            struct perr *err)
{
    struct http_response resp;
    char what[1200];
    int rc;

    snprintf(what, sizeof(what), "HeadObject s3://%s/%s", bucket, key);
    http_response_init(&resp);
    rc = s3_request(
        s, &(struct s3_call){.method = "HEAD", .bucket = bucket, .key = key, .opts = &control_opts},
        &resp, err);
    if (rc == 0 && resp.status == 404)
        rc = perr_set(err, PERR_USAGE, "s3://%s/%s: no such object", bucket, key);
    else if (rc == 0 && resp.status != 200)
        rc = s3_error(what, &resp, err);
    else if (rc == 0 && resp.content_length < 0)
        rc = perr_set(err, PERR_HTTP, "%s: no Content-Length in the answer", what);
    if (rc == 0) {
        memset(o, 0, sizeof(*o));
        snprintf(o->key, sizeof(o->key), "%s", key);
        o->size = (uint64_t)resp.content_length;
        snprintf(o->etag, sizeof(o->etag), "%s", resp.etag);
    }
    http_response_cleanup(&resp);
    return rc;
}

struct s3_get {
    const struct s3_client *s;
    const char *bucket;
    const struct s3_object *o;
    int fd;
    uint64_t off; /* the range asked for: [off, end) */
    uint64_t at;  /* the offset of the next byte received */
    uint64_t end;
    char *buf; /* received, not yet written: the `used` bytes before `at` */
    size_t buf_size, used;
    bool too_long;
    bool write_failed;
    int tries;
    char range[64];
    char what[1200];
    struct sigv4_header extra[2];
    struct http_sink sink;
    struct s3_prepared p; /* the attempt in flight (unprepare is safe twice, and when zeroed) */
    struct http_response resp;
};

/* Writes the buffered bytes where they belong. */
static bool flush_range(struct s3_get *g)
{
    uint64_t off = g->at - g->used;
    size_t done = 0;

    while (done < g->used) {
        ssize_t n = pwrite(g->fd, g->buf + done, g->used - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            g->write_failed = true;
            return false;
        }
        done += (size_t)n;
    }
    g->used = 0;
    return true;
}

static bool write_range(void *ctx, const char *data, size_t len)
{
    struct s3_get *g = ctx;

    if (len > g->end - g->at) {
        g->too_long = true; /* more than asked for: not the object we listed */
        return false;
    }
    while (len) {
        size_t n = len < g->buf_size - g->used ? len : g->buf_size - g->used;
        memcpy(g->buf + g->used, data, n);
        g->used += n;
        g->at += n;
        count_moved(g->s, n);
        data += n;
        len -= n;
        if (g->used == g->buf_size && !flush_range(g))
            return false;
    }
    return true;
}

struct s3_get *s3_get_new(const struct s3_client *s,
                          const char *bucket,
                          const struct s3_object *o,
                          int fd,
                          uint64_t off,
                          uint64_t len,
                          char *buf,
                          size_t buf_size)
{
    struct s3_get *g = calloc(1, sizeof(*g));

    if (!g)
        return NULL;
    *g = (struct s3_get){.s = s,
                         .bucket = bucket,
                         .o = o,
                         .fd = fd,
                         .off = off,
                         .at = off,
                         .end = off + len,
                         .buf = buf,
                         .buf_size = buf_size};
    g->sink = (struct http_sink){write_range, g};
    snprintf(g->what, sizeof(g->what), "downloading s3://%s/%s", bucket, o->key);
    http_response_init(&g->resp);
    return g;
}

void s3_get_free(struct s3_get *g)
{
    if (!g)
        return;
    s3_unprepare(&g->p);
    http_response_cleanup(&g->resp);
    free(g);
}

int s3_get_next(struct s3_get *g,
                const struct http_request **req,
                const struct http_opts **opts,
                struct http_response **resp,
                struct perr *err)
{
    bool whole = g->off == 0 && g->end == g->o->size;
    size_t n = 0;

    s3_unprepare(&g->p);
    g->tries++;
    if (!whole || g->at > g->off) {
        snprintf(g->range, sizeof(g->range), "bytes=%" PRIu64 "-%" PRIu64, g->at, g->end - 1);
        g->extra[n++] = (struct sigv4_header){"range", g->range};
    }
    if (g->o->etag[0] && (n || g->tries > 1))
        g->extra[n++] = (struct sigv4_header){"if-match", g->o->etag};
    http_response_cleanup(&g->resp);
    http_response_init(&g->resp);
    if (s3_prepare(g->s,
                   &(struct s3_call){.method = "GET",
                                     .bucket = g->bucket,
                                     .key = g->o->key,
                                     .extra = g->extra,
                                     .extra_count = n,
                                     .sink = &g->sink,
                                     .opts = &transfer_opts},
                   &g->p, err) < 0)
        return -1;
    *req = &g->p.req;
    *opts = &g->p.opts;
    *resp = &g->resp;
    return 0;
}

int s3_get_ended(struct s3_get *g, int rc, struct perr *err, long *pause_ms)
{
    const struct http_response *resp = &g->resp;
    bool whole = g->off == 0 && g->end == g->o->size;
    bool final = false;

    /* what arrived is good whatever happened next: written now, a retry resumes after it */
    if (g->used && !flush_range(g) && rc == 0)
        rc = -1;
    if (rc == 0 && resp->status != 200 && resp->status != 206) {
        rc = s3_error(g->what, resp, err);
        /* 5xx and throttling are worth another try; 4xx (gone, changed, denied) is not */
        final = !http_is_retryable(resp->status, resp->body.data);
    } else if (rc == 0 && !whole && resp->status == 200) {
        rc = perr_set(err, PERR_HTTP, "%s: the server ignored the byte range", g->what);
        final = true;
    } else if (rc == 0 && g->o->etag[0] && resp->etag[0] && strcmp(resp->etag, g->o->etag) != 0) {
        rc = perr_set(err, PERR_HTTP, "%s: the object changed while it was listed", g->what);
        final = true;
    } else if (rc < 0 && g->too_long) {
        rc = perr_set(err, PERR_HTTP, "%s: longer than the %" PRIu64 " bytes listed", g->what,
                      g->o->size);
        final = true;
    } else if (rc < 0 && g->write_failed) {
        rc = perr_sys(err, "%s: writing it", g->what);
        final = true;
    } else if (rc < 0 && out_of_time(g->s)) {
        final = true; /* out of time, not a slow peer */
    }
    if (rc == 0 && g->at == g->end)
        return 0;
    if (rc == 0)
        rc = perr_set(err, PERR_HTTP, "%s: the connection ended at byte %" PRIu64 " of %" PRIu64,
                      g->what, g->at - g->off, g->end - g->off);
    if (final || g->tries >= S3_GET_TRIES)
        return -1;
    *pause_ms = retry_pause_ms(g->tries);
    return 1;
}

int s3_get_buf(const struct s3_client *s,
               const char *bucket,
               const char *key,
               struct buf *out,
               struct perr *err)
{
    struct http_opts opts = control_opts;
    struct http_response resp;
    char what[1200];
    int rc;

    snprintf(what, sizeof(what), "s3://%s/%s", bucket, key);
    opts.max_body_bytes = out->max_bytes;
    http_response_init(&resp);
    rc = s3_request(s,
                    &(struct s3_call){.method = "GET", .bucket = bucket, .key = key, .opts = &opts},
                    &resp, err);
    if (rc == 0 && resp.status == 404)
        rc = perr_set(err, PERR_USAGE, "%s: no such object", what);
    else if (rc == 0 && resp.status != 200)
        rc = s3_error(what, &resp, err);
    if (rc == 0)
        rc = buf_append(out, resp.body.data ? resp.body.data : "", resp.body.len, err);
    http_response_cleanup(&resp);
    return rc;
}

/* Sends len bytes of fd from off as one request (a PUT or a part), signed with their SHA-256,
 * retried from its start on 5xx, throttling and transport errors; the answer stays in resp. */
static int upload_body(const struct s3_client *s,
                       const char *key,
                       const char *bucket,
                       const char *query,
                       int fd,
                       uint64_t off,
                       uint64_t len,
                       const char *what,
                       struct http_response *resp,
                       struct perr *err)
{
    uint8_t digest[CRYPTO_SHA256_BYTES];
    char hash[65];
    int rc = -1;

    if (crypto_sha256_range(fd, off, len, digest) < 0)
        return perr_sys(err, "%s: reading it", what);
    crypto_hex(digest, sizeof(digest), hash);
    for (int tries = 1; tries <= S3_GET_TRIES; tries++) {
        struct s3_body body = {.fd = fd, .off = off, .len = len, .sha256_hex = hash};
        bool again;
        http_response_cleanup(resp);
        http_response_init(resp);
        rc = s3_request(s,
                        &(struct s3_call){.method = "PUT",
                                          .bucket = bucket,
                                          .key = key,
                                          .query = query,
                                          .body = &body,
                                          .opts = &transfer_opts},
                        resp, err);
        again = rc < 0 ? !out_of_time(s) : http_is_retryable(resp->status, resp->body.data);
        if (rc == 0 && resp->status != 200)
            rc = s3_error(what, resp, err);
        if (rc == 0 || !again)
            break;
        if (tries < S3_GET_TRIES)
            pause_before(tries);
    }
    if (rc == 0)
        count_moved(s, len);
    return rc;
}

int s3_put_file(const struct s3_client *s,
                const char *bucket,
                const char *key,
                const char *path,
                struct perr *err)
{
    struct http_response resp;
    char what[1200];
    struct stat st;
    int fd, rc;

    snprintf(what, sizeof(what), "uploading %s to s3://%s/%s", path, bucket, key);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return perr_sys(err, "%s: opening it", what);
    if (fstat(fd, &st) < 0) {
        rc = perr_sys(err, "%s: reading it", what);
        close(fd);
        return rc;
    }
    if ((uint64_t)st.st_size > S3_MAX_PUT) {
        close(fd);
        return perr_set(err, PERR_LIMIT, "%s: over 5 GiB, which needs a multipart upload", what);
    }
    http_response_init(&resp);
    rc = upload_body(s, key, bucket, NULL, fd, 0, (uint64_t)st.st_size, what, &resp, err);
    http_response_cleanup(&resp);
    close(fd);
    return rc;
}

int s3_mpu_create(const struct s3_client *s,
                  const char *bucket,
                  const char *key,
                  char *upload_id,
                  size_t upload_id_len,
                  struct perr *err)
{
    struct http_response resp;
    char what[1200];
    int rc;

    snprintf(what, sizeof(what), "CreateMultipartUpload s3://%s/%s", bucket, key);
    http_response_init(&resp);
    /* A create that timed out may have happened: a second one only leaves an upload that is
     * never completed, which the caller aborts with the one it got. */
    rc = s3_request(s,
                    &(struct s3_call){.method = "POST",
                                      .bucket = bucket,
                                      .key = key,
                                      .query = "uploads=",
                                      .opts = &control_opts},
                    &resp, err);
    if (rc == 0 && resp.status != 200)
        rc = s3_error(what, &resp, err);
    if (rc == 0 && (xml_text(resp.body.data ? resp.body.data : "", resp.body.len, "UploadId",
                             upload_id, upload_id_len) < 0 ||
                    !upload_id[0]))
        rc = perr_set(err, PERR_PARSE, "%s: no UploadId in the answer", what);
    http_response_cleanup(&resp);
    return rc;
}

/* "partNumber=N&uploadId=ID" or "uploadId=ID", the ID percent-encoded. */
static int upload_query(struct buf *q, unsigned part, const char *upload_id, struct perr *err)
{
    int rc = part ? buf_printf(q, err, "partNumber=%u&uploadId=", part)
                  : buf_append_str(q, "uploadId=", err);

    return rc == 0 ? sigv4_uri_encode(q, upload_id, strlen(upload_id), false, err) : rc;
}

int s3_mpu_part(const struct s3_client *s,
                const char *bucket,
                const char *key,
                const char *upload_id,
                unsigned part,
                int fd,
                uint64_t off,
                uint64_t len,
                char etag[128],
                struct perr *err)
{
    struct http_response resp;
    struct buf q;
    char what[1300];
    int rc;

    snprintf(what, sizeof(what), "uploading part %u of s3://%s/%s", part, bucket, key);
    buf_init(&q, 4096);
    http_response_init(&resp);
    rc = upload_query(&q, part, upload_id, err);
    if (rc == 0)
        rc = upload_body(s, key, bucket, q.data, fd, off, len, what, &resp, err);
    if (rc == 0 && !resp.etag[0])
        rc = perr_set(err, PERR_HTTP, "%s: no ETag in the answer", what);
    if (rc == 0)
        snprintf(etag, 128, "%s", resp.etag);
    http_response_cleanup(&resp);
    buf_cleanup(&q);
    return rc;
}

int s3_mpu_complete(const struct s3_client *s,
                    const char *bucket,
                    const char *key,
                    const char *upload_id,
                    char (*etags)[128],
                    unsigned parts,
                    struct perr *err)
{
    struct http_response resp;
    struct buf q, xml;
    char what[1200];
    int rc;

    snprintf(what, sizeof(what), "CompleteMultipartUpload s3://%s/%s", bucket, key);
    buf_init(&q, 4096);
    buf_init(&xml, (size_t)parts * 200 + 256);
    http_response_init(&resp);
    rc = upload_query(&q, 0, upload_id, err);
    if (rc == 0)
        rc = buf_append_str(&xml, "<CompleteMultipartUpload>", err);
    for (unsigned i = 0; rc == 0 && i < parts; i++) {
        /* ETags are quoted hex: nothing in them needs XML escaping but the quotes */
        const char *e = etags[i];
        size_t n = strlen(e);
        if (n >= 2 && e[0] == '"' && e[n - 1] == '"')
            rc = buf_printf(&xml, err,
                            "<Part><PartNumber>%u</PartNumber><ETag>&quot;%.*s&quot;"
                            "</ETag></Part>",
                            i + 1, (int)(n - 2), e + 1);
        else
            rc = buf_printf(&xml, err, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>",
                            i + 1, e);
    }
    if (rc == 0)
        rc = buf_append_str(&xml, "</CompleteMultipartUpload>", err);
    if (rc == 0) {
        struct s3_body body = {.data = xml.data, .len = xml.len};
        rc = s3_request(s,
                        &(struct s3_call){.method = "POST",
                                          .bucket = bucket,
                                          .key = key,
                                          .query = q.data,
                                          .body = &body,
                                          .opts = &control_opts},
                        &resp, err);
    }
    /* S3 may answer 200 and put an error in the body of a long completion */
    if (rc == 0 && (resp.status != 200 || (resp.body.data && strstr(resp.body.data, "<Error>"))))
        rc = s3_error(what, &resp, err);
    http_response_cleanup(&resp);
    buf_cleanup(&q);
    buf_cleanup(&xml);
    return rc;
}

int s3_mpu_abort(const struct s3_client *s,
                 const char *bucket,
                 const char *key,
                 const char *upload_id,
                 struct perr *err)
{
    struct http_response resp;
    struct buf q;
    char what[1200];
    int rc;

    snprintf(what, sizeof(what), "AbortMultipartUpload s3://%s/%s", bucket, key);
    buf_init(&q, 4096);
    http_response_init(&resp);
    rc = upload_query(&q, 0, upload_id, err);
    if (rc == 0)
        rc = s3_request(s,
                        &(struct s3_call){.method = "DELETE",
                                          .bucket = bucket,
                                          .key = key,
                                          .query = q.data,
                                          .opts = &control_opts},
                        &resp, err);
    if (rc == 0 && resp.status != 204 && resp.status != 200 && resp.status != 404)
        rc = s3_error(what, &resp, err);
    http_response_cleanup(&resp);
    buf_cleanup(&q);
    return rc;
}

int s3_delete(const struct s3_client *s, const char *bucket, const char *key, struct perr *err)
{
    struct http_response resp;
    char what[1200];
    int rc;

    snprintf(what, sizeof(what), "DeleteObject s3://%s/%s", bucket, key);
    http_response_init(&resp);
    rc = s3_request(
        s,
        &(struct s3_call){.method = "DELETE", .bucket = bucket, .key = key, .opts = &control_opts},
        &resp, err);
    if (rc == 0 && resp.status != 204 && resp.status != 200 && resp.status != 404)
        rc = s3_error(what, &resp, err);
    http_response_cleanup(&resp);
    return rc;
}
