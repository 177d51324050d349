/* SPDX-License-Identifier: MIT */
/* HTTP/1.1 on loopback for the child's SDKs: keep-alive, bounded requests, token checked in
 * constant time; credentials swapped in by a refresher thread that alone waits on the network. */
#include "entrypoint/credserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/crypto.h"
#include "lib/httpreq.h"
#include "lib/log.h"

#define PHASE             "credentials"
#define REQUEST_MAX_BYTES 8192
#define STATIC_LIFETIME_S 3600 /* what is reported for keys that never expire */

struct credserver_conn {
    int fd;
    char in[REQUEST_MAX_BYTES];
    size_t in_len;
    char *out; /* unsent response bytes */
    size_t out_len, out_off;
    bool close_after;
};

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static void iso_time(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- the refresher ---- */

/* Retries a fetch with full-jitter backoff until deadline; a refusal (bad token, denied role) is
 * final at start-up, where it should be reported at once. */
static int fetch_with_retries(struct creds_provider *p,
                              struct creds *out,
                              int64_t deadline,
                              bool refusal_is_final,
                              struct perr *err)
{
    for (int attempt = 0;; attempt++) {
        long cap_ms = attempt < 5 ? 1000L << attempt : 30000, ms;
        uint32_t r = 0;
        struct timespec ts;
        if (p->get(p, out, err) == 0) {
            /* A set that is already expired is no better than none: serving it would only make
             * the SDKs fail, and taking it as fresh would refresh in a loop. */
            if (!out->expiry_epoch_s || out->expiry_epoch_s > now_s())
                return 0;
            creds_wipe(out);
            perr_set(err, PERR_PARSE, "%s handed out credentials that had already expired",
                     p->name);
        }
        if (now_s() >= deadline || (refusal_is_final && err->code == PERR_AUTH))
            return -1;
        (void)crypto_random(&r, sizeof(r));
        ms = (long)(r % (uint32_t)cap_ms);
        log_warn(PHASE,
                 "fetching credentials failed; retrying source=%s retry_in_ms=%ld reason=\"%s\"",
                 p->name, ms, err->msg);
        ts = (struct timespec){ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
}

static void *refresher(void *arg)
{
    struct credserver *s = arg;
    int64_t next;

    pthread_mutex_lock(&s->mu);
    next = creds_refresh_at(s->issued_epoch_s, s->current.expiry_epoch_s);
    while (!s->stop) {
        struct creds fresh;
        struct perr err = {0};
        int64_t expiry = s->current.expiry_epoch_s, deadline;
        int rc;
        if (!next) { /* long-term keys: nothing to refresh */
            pthread_cond_wait(&s->wake, &s->mu);
            continue;
        }
        if (now_s() < next) {
            struct timespec until = {(time_t)next, 0};
            pthread_cond_timedwait(&s->wake, &s->mu, &until);
            continue;
        }
        pthread_mutex_unlock(&s->mu);
        /* The network is waited on here only; PID 1's loop keeps serving the last good set.
         * Retries go on while that set is valid, and at least a minute. */
        deadline = expiry > now_s() + 60 ? expiry : now_s() + 60;
        rc = fetch_with_retries(s->provider, &fresh, deadline, false, &err);
        pthread_mutex_lock(&s->mu);
        if (rc == 0) {
            creds_wipe(&s->current);
            s->current = fresh;
            s->issued_epoch_s = now_s();
            next = creds_refresh_at(s->issued_epoch_s, fresh.expiry_epoch_s);
            log_info(PHASE, "credentials refreshed source=%s expires_in_s=%lld", s->provider->name,
                     (long long)(fresh.expiry_epoch_s - s->issued_epoch_s));
        } else {
            next = now_s() + 10;
            log_error(PHASE, "credentials could not be refreshed; %s reason=\"%s\"",
                      now_s() >= expiry ? "they expired, the endpoint answers 503"
                                        : "still serving the last good set",
                      err.msg);
        }
        creds_wipe(&fresh);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- the HTTP side ---- */

static bool token_matches(const char *a, size_t a_len, const char *b)
{
    size_t b_len = strlen(b);
    unsigned char diff = a_len != b_len;

    for (size_t i = 0; i < b_len; i++)
        diff |= (unsigned char)(i < a_len ? a[i] : 0) ^ (unsigned char)b[i];
    return diff == 0;
}

static int respond(struct credserver_conn *c, int status, const char *reason, const char *body)
{
    size_t blen = strlen(body), cap = blen + 256;
    char *out = malloc(cap);
    int n;

    if (!out)
        return -1;
    n = snprintf(out, cap,
                 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                 "Cache-Control: no-store\r\n%s\r\n%s",
                 status, reason, blen, c->close_after ? "Connection: close\r\n" : "", body);
    free(c->out);
    c->out = out;
    c->out_len = (size_t)n;
    c->out_off = 0;
    return 0;
}

void credserver_snapshot(struct credserver *s, struct creds *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->current;
    pthread_mutex_unlock(&s->mu);
}

static int credentials_body(struct credserver *s, char *body, size_t cap, int *status)
{
    struct creds c;
    char exp[32];

    credserver_snapshot(s, &c);
    if (c.expiry_epoch_s && now_s() >= c.expiry_epoch_s) {
        creds_wipe(&c);
        *status = 503;
        return snprintf(body, cap,
                        "{\"Code\": \"CredentialsExpired\", \"Message\": \"the credentials "
                        "expired and could not be refreshed yet\"}");
    }
    iso_time(c.expiry_epoch_s ? c.expiry_epoch_s : now_s() + STATIC_LIFETIME_S, exp);
    *status = 200;
    int n = snprintf(body, cap,
                     "{\"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\", \"Token\": \"%s\", "
                     "\"Expiration\": \"%s\"%s%s%s%s%s%s}",
                     c.access_key_id, c.secret_access_key, c.session_token, exp,
                     c.role_arn[0] ? ", \"RoleArn\": \"" : "", c.role_arn,
                     c.role_arn[0] ? "\"" : "", c.account_id[0] ? ", \"AccountId\": \"" : "",
                     c.account_id, c.account_id[0] ? "\"" : "");
    creds_wipe(&c);
    return n;
}

/* Answers one parsed request. */
static int handle_request(struct credserver *s, struct credserver_conn *c, const struct httpreq *r)
{
    char body[2 * sizeof(struct creds)];
    int status, rc;

    c->close_after = r->close;
    if (r->path_len != strlen(CREDSERVER_PATH) ||
        memcmp(r->path, CREDSERVER_PATH, r->path_len) != 0)
        return respond(c, 404, "Not Found", "{\"Code\": \"NotFound\"}");
    if (r->method_len != 3 || memcmp(r->method, "GET", 3) != 0)
        return respond(c, 405, "Method Not Allowed", "{\"Code\": \"MethodNotAllowed\"}");
    if (!r->authorization)
        return respond(c, 401, "Unauthorized", "{\"Code\": \"MissingToken\"}");
    if (!token_matches(r->authorization, r->authorization_len, s->token))
        return respond(c, 403, "Forbidden", "{\"Code\": \"InvalidToken\"}");
    credentials_body(s, body, sizeof(body), &status);
    rc = respond(c, status, status == 200 ? "OK" : "Service Unavailable", body);
    explicit_bzero(body, sizeof(body));
    return rc;
}

static void close_conn(struct credserver *s, size_t slot)
{
    struct credserver_conn *c = s->conns[slot];

    evloop_del_fd(s->loop, c->fd);
    close(c->fd);
    if (c->out) {
        explicit_bzero(c->out, c->out_len);
        free(c->out);
    }
    free(c);
    s->conns[slot] = NULL;
}

/* Sends what is pending; returns false when the connection is done for. */
static bool flush(struct credserver *s, struct credserver_conn *c)
{
    struct perr err = {0};

    while (c->out && c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return evloop_set_events(s->loop, c->fd, EPOLLIN | EPOLLOUT, &err) == 0;
        if (n <= 0)
            return false;
        c->out_off += (size_t)n;
    }
    if (c->out) {
        explicit_bzero(c->out, c->out_len);
        free(c->out);
        c->out = NULL;
        (void)!evloop_set_events(s->loop, c->fd, EPOLLIN, &err);
    }
    return !c->close_after;
}

static void on_client(void *ctx, int fd, uint32_t events)
{
    struct credserver *s = ctx;
    size_t slot = 0;
    struct credserver_conn *c;

    while (slot < CREDSERVER_MAX_CLIENTS && (!s->conns[slot] || s->conns[slot]->fd != fd))
        slot++;
    if (slot == CREDSERVER_MAX_CLIENTS)
        return;
    c = s->conns[slot];
    if ((events & EPOLLOUT) && !flush(s, c)) {
        close_conn(s, slot);
        return;
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    for (;;) {
        ssize_t n = recv(fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
        struct httpreq req;
        long head;
        int rc;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            close_conn(s, slot);
            return;
        }
        c->in_len += (size_t)n;
        /* Answer every complete request in the buffer (pipelining), one at a time. */
        while (c->out == NULL && (head = httpreq_parse(c->in, c->in_len, &req)) != 0) {
            size_t hlen = head > 0 ? (size_t)head : c->in_len;
            if (head < 0) {
                c->close_after = true;
                rc = respond(c, 400, "Bad Request", "{\"Code\": \"BadRequest\"}");
            } else {
                rc = handle_request(s, c, &req);
            }
            if (rc < 0 || !flush(s, c)) {
                if (!c->out || c->close_after) {
                    close_conn(s, slot);
                    return;
                }
            }
            memmove(c->in, c->in + hlen, c->in_len - hlen);
            c->in_len -= hlen;
        }
        if (c->in_len == sizeof(c->in)) { /* a header block past the bound */
            c->close_after = true;
            if (respond(c, 431, "Request Header Fields Too Large", "{\"Code\": \"TooLarge\"}") <
                    0 ||
                !flush(s, c))
                close_conn(s, slot);
            return;
        }
    }
}

static void on_accept(void *ctx, int fd, uint32_t events)
{
    struct credserver *s = ctx;

    (void)events;
    for (;;) {
        int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        size_t slot = 0;
        struct perr err = {0};
        if (c < 0)
            return; /* EAGAIN, or a client that went away */
        while (slot < CREDSERVER_MAX_CLIENTS && s->conns[slot])
            slot++;
        if (slot == CREDSERVER_MAX_CLIENTS) {
            close(c); /* at the bound: the SDK retries */
            continue;
        }
        s->conns[slot] = calloc(1, sizeof(struct credserver_conn));
        if (!s->conns[slot] || evloop_add_fd(s->loop, c, EPOLLIN, on_client, s, &err) < 0) {
            free(s->conns[slot]);
            s->conns[slot] = NULL;
            close(c);
            continue;
        }
        s->conns[slot]->fd = c;
    }
}

int credserver_open(struct credserver *s,
                    struct creds_provider *provider,
                    unsigned deadline_s,
                    struct perr *err)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    uint8_t raw[32];

    s->listen_fd = -1;
    s->provider = provider;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->wake, NULL);
    if (fetch_with_retries(provider, &s->current, now_s() + deadline_s, true, err) < 0)
        return perr_wrap(err, "no credentials from %s within %u s", provider->name, deadline_s);
    s->issued_epoch_s = now_s();
    if (crypto_random(raw, sizeof(raw)) < 0)
        return perr_sys(err, "making the endpoint token");
    crypto_hex(raw, sizeof(raw), s->token);
    explicit_bzero(raw, sizeof(raw));
    s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0)
        return perr_sys(err, "creating the credentials endpoint socket");
    if (bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        listen(s->listen_fd, 1024) < 0 ||
        getsockname(s->listen_fd, (struct sockaddr *)&a, &len) < 0)
        return perr_sys(err, "listening on 127.0.0.1 for the credentials endpoint");
    s->port = ntohs(a.sin_port);
    return 0;
}

int credserver_attach(struct credserver *s, struct evloop *loop, struct perr *err)
{
    s->loop = loop;
    return evloop_add_fd(loop, s->listen_fd, EPOLLIN, on_accept, s, err);
}

int credserver_start_refresher(struct credserver *s, struct perr *err)
{
    pthread_t t;
    pthread_attr_t attr;
    int rc;

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1u << 20); /* musl's default is 128 KiB; curl wants more */
    rc = pthread_create(&t, &attr, refresher, s);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        errno = rc;
        return perr_sys(err, "starting the credentials refresher");
    }
    s->refresher_running = true;
    return 0;
}

void credserver_cleanup(struct credserver *s)
{
    if (s->listen_fd <= 0)
        return;
    for (size_t i = 0; i < CREDSERVER_MAX_CLIENTS; i++) {
        if (s->conns[i])
            close_conn(s, i);
    }
    if (s->loop)
        evloop_del_fd(s->loop, s->listen_fd);
    close(s->listen_fd);
    s->listen_fd = -1;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    creds_wipe(&s->current);
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->mu);
    /* The refresher may sit in a network call; it ends with the process, never touching s after
     * `stop`... except the provider, which is therefore not freed while it may run. */
    if (!s->refresher_running)
        creds_provider_free(s->provider);
}
