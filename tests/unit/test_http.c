/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/http against a scripted loopback server in a forked process: retries,
 * throttling, limits, timeouts, refused connections, what reaches the server. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/http.h"

#define HANG "HANG" /* accept, read, never answer */

struct server {
    pid_t pid;
    int port;
    char seen[128]; /* file holding every request the server read */
};

/* Reads one request (headers, then Content-Length bytes of body) and appends it to `seen`. */
static void read_request(int c, const char *seen)
{
    char req[65536];
    size_t n = 0;
    long body = -1;
    FILE *f;

    while (n < sizeof(req) - 1) {
        ssize_t r = read(c, req + n, sizeof(req) - 1 - n);
        char *end;
        if (r <= 0)
            break;
        n += (size_t)r;
        req[n] = '\0';
        end = strstr(req, "\r\n\r\n");
        if (end && body < 0) {
            char *cl = strcasestr(req, "content-length:");
            body = (long)(end + 4 - req) + (cl && cl < end ? strtol(cl + 15, NULL, 10) : 0);
        }
        if (body >= 0 && (long)n >= body)
            break;
    }
    f = fopen(seen, "a");
    fwrite(req, 1, n, f);
    fputs("\n=====\n", f);
    fclose(f);
}

/* Serves each scripted raw response to one connection, in order, then exits. */
static void start(struct server *s, const char *const *responses)
{
    int fds[2], l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);

    snprintf(s->seen, sizeof(s->seen), "/tmp/parity-http-seen-%d", (int)getpid());
    unlink(s->seen);
    assert_int_equal(pipe(fds), 0);
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(l, 16), 0);
    getsockname(l, (struct sockaddr *)&a, &len);
    s->port = ntohs(a.sin_port);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        for (size_t i = 0; responses[i]; i++) {
            int c = accept(l, NULL, NULL);
            if (c < 0)
                _exit(1);
            read_request(c, s->seen);
            if (strcmp(responses[i], HANG) == 0) {
                pause();
                _exit(0);
            }
            if (write(c, responses[i], strlen(responses[i])) < 0)
                _exit(1);
            close(c);
        }
        _exit(0);
    }
    close(l);
    close(fds[0]);
    close(fds[1]);
}

static int stop(struct server *s)
{
    int status;
    FILE *f = fopen(s->seen, "r");
    int requests = 0;
    char line[4096];

    kill(s->pid, SIGTERM);
    waitpid(s->pid, &status, 0);
    while (f && fgets(line, sizeof(line), f))
        requests += strcmp(line, "=====\n") == 0;
    if (f)
        fclose(f);
    return requests;
}

static void url(char *out, size_t n, const struct server *s, const char *path)
{
    snprintf(out, n, "http://127.0.0.1:%d%s", s->port, path);
}

static const struct http_opts fast = {
    .backoff_base_ms = 1, .backoff_cap_ms = 5, .idempotent = true, .total_timeout_ms = 5000};

static void test_http_retries_5xx_until_success(void **state)
{
    static const char *const script[] = {
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 200 OK\r\nDate: Sat, 28 Nov 2026 05:00:00 GMT\r\nContent-Length: 5\r\n"
        "Connection: close\r\n\r\nhello",
        NULL};
    struct server s;
    struct http_response r;
    struct perr e = {0};
    char u[128];
    const char *headers[] = {"X-Test: yes", NULL};

    (void)state;
    start(&s, script);
    url(u, sizeof(u), &s, "/a?b=1");
    struct http_request req = {
        .method = "PUT", .url = u, .headers = headers, .body = "body!", .body_len = 5};
    http_response_init(&r);
    assert_int_equal(http_do(&req, &fast, &r, &e), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.attempts, 3);
    assert_string_equal(r.body.data, "hello");
    assert_string_equal(r.date, "Sat, 28 Nov 2026 05:00:00 GMT");
    http_response_cleanup(&r);
    assert_int_equal(stop(&s), 3);
    /* what the server read: method, path, our header, the body */
    FILE *f = fopen(s.seen, "r");
    char all[8192] = "";
    size_t n = fread(all, 1, sizeof(all) - 1, f);
    all[n] = '\0';
    fclose(f);
    assert_non_null(strstr(all, "PUT /a?b=1 HTTP/1.1\r\n"));
    assert_non_null(strstr(all, "X-Test: yes\r\n"));
    assert_non_null(strstr(all, "\r\n\r\nbody!"));
    assert_null(strstr(all, "Expect:"));
    unlink(s.seen);
}

static void test_http_does_not_retry_unless_idempotent(void **state)
{
    static const char *const script[] = {
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", NULL};
    struct http_opts once = fast;
    struct server s;
    struct http_response r;
    struct perr e = {0};
    char u[128];

    (void)state;
    once.idempotent = false;
    start(&s, script);
    url(u, sizeof(u), &s, "/");
    struct http_request req = {.method = "POST", .url = u, .body = "x", .body_len = 1};
    http_response_init(&r);
    assert_int_equal(http_do(&req, &once, &r, &e), 0);
    assert_int_equal(r.status, 503);
    assert_int_equal(r.attempts, 1);
    http_response_cleanup(&r);
    assert_int_equal(stop(&s), 1);
    unlink(s.seen);
}

static void test_http_throttling_is_retried_then_reported(void **state)
{
    static const char *const script[] = {
        "HTTP/1.1 400 Bad Request\r\nContent-Length: 44\r\nConnection: close\r\n\r\n"
        "{\"__type\":\"ThrottlingException\",\"m\":\"x\"}  ",
        "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", NULL};
    struct server s;
    struct http_response r;
    struct perr e = {0};
    char u[128];

    (void)state;
    start(&s, script);
    url(u, sizeof(u), &s, "/");
    struct http_request req = {.method = "GET", .url = u};
    http_response_init(&r);
    assert_int_equal(http_do(&req, &fast, &r, &e), -1);
    assert_non_null(strstr(e.msg, "HTTP 429 after 3 attempts"));
    assert_non_null(strstr(e.msg, u));
    http_response_cleanup(&r);
    assert_int_equal(stop(&s), 3);
    unlink(s.seen);
    assert_false(http_is_retryable(400, "{\"__type\":\"ValidationException\"}"));
    assert_false(http_is_retryable(400, "ThrottlingExceptionNot"));
    assert_true(http_is_retryable(400, "<Code>SlowDown</Code>"));
    assert_false(http_is_retryable(404, NULL));
}

static void test_http_body_limit(void **state)
{
    static const char *const script[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\n01234567890123456789",
        NULL};
    struct http_opts small = fast;
    struct server s;
    struct http_response r;
    struct perr e = {0};
    char u[128];

    (void)state;
    small.max_body_bytes = 10;
    start(&s, script);
    url(u, sizeof(u), &s, "/");
    struct http_request req = {.method = "GET", .url = u};
    http_response_init(&r);
    assert_int_equal(http_do(&req, &small, &r, &e), -1);
    assert_int_equal(e.code, PERR_LIMIT);
    assert_non_null(strstr(e.msg, "larger than 10 bytes"));
    http_response_cleanup(&r);
    stop(&s);
    unlink(s.seen);
}

static void test_http_timeout_and_refused(void **state)
{
    static const char *const script[] = {HANG, NULL};
    struct http_opts quick = fast;
    struct server s;
    struct http_response r;
    struct perr e = {0};
    char u[128];

    (void)state;
    quick.total_timeout_ms = 200;
    quick.max_attempts = 1;
    start(&s, script);
    url(u, sizeof(u), &s, "/slow");
    struct http_request req = {.method = "GET", .url = u};
    http_response_init(&r);
    assert_int_equal(http_do(&req, &quick, &r, &e), -1);
    assert_int_equal(e.code, PERR_TIMEOUT);
    assert_non_null(strstr(e.msg, "/slow"));
    http_response_cleanup(&r);
    stop(&s);
    unlink(s.seen);
    /* the server is gone: the port refuses, which is retried and then reported */
    http_response_init(&r);
    assert_int_equal(http_do(&req, &fast, &r, &e), -1);
    assert_int_equal(r.attempts, 3);
    assert_non_null(strstr(e.msg, "after 3 attempts"));
    http_response_cleanup(&r);
}

/* A peer that stops sending is dropped after the stall timeout, long before the total one. */
static void test_http_stall_timeout(void **state)
{
    static const char *const script[] = {HANG, NULL};
    struct http_opts stream = fast;
    struct server s;
    struct http_response r;
    struct perr e = {0};
    char u[128];

    (void)state;
    stream.total_timeout_ms = 600000;
    stream.stall_timeout_ms = 1000;
    stream.max_attempts = 1;
    start(&s, script);
    url(u, sizeof(u), &s, "/stalled");
    struct http_request req = {.method = "GET", .url = u};
    http_response_init(&r);
    assert_int_equal(http_do(&req, &stream, &r, &e), -1);
    assert_int_equal(e.code, PERR_TIMEOUT);
    assert_non_null(strstr(e.msg, "too slow")); /* the stall, not the 10-minute limit */
    http_response_cleanup(&r);
    stop(&s);
    unlink(s.seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_retries_5xx_until_success),
        cmocka_unit_test(test_http_does_not_retry_unless_idempotent),
        cmocka_unit_test(test_http_throttling_is_retried_then_reported),
        cmocka_unit_test(test_http_body_limit),
        cmocka_unit_test(test_http_timeout_and_refused),
        cmocka_unit_test(test_http_stall_timeout),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
