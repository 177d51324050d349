/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/evloop: fd dispatch, timers that fire, timers that were disarmed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/evloop.h"

struct counts {
    int fd_calls;
    int timer_calls;
    int last_fd;
};

static void on_fd(void *ctx, int fd, uint32_t events)
{
    struct counts *c = ctx;
    char b;

    assert_true(events & EPOLLIN);
    assert_int_equal(read(fd, &b, 1), 1);
    c->fd_calls++;
    c->last_fd = fd;
}

static void on_timer(void *ctx, struct evloop_timer *t)
{
    struct counts *c = ctx;

    (void)t;
    c->timer_calls++;
}

static void test_evloop_dispatches_ready_fd(void **state)
{
    struct perr e = {0};
    struct counts c = {0};
    struct evloop *loop = evloop_new(&e);
    int p[2];

    (void)state;
    assert_non_null(loop);
    assert_int_equal(pipe(p), 0);
    assert_int_equal(evloop_add_fd(loop, p[0], EPOLLIN, on_fd, &c, &e), 0);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(evloop_run_once(loop, &e), 0);
    assert_int_equal(c.fd_calls, 1);
    assert_int_equal(c.last_fd, p[0]);
    evloop_del_fd(loop, p[0]);
    evloop_free(loop);
    close(p[0]);
    close(p[1]);
}

static void test_evloop_timer_fires_once(void **state)
{
    struct perr e = {0};
    struct counts c = {0};
    struct evloop *loop = evloop_new(&e);
    struct evloop_timer *t = evloop_timer_new(loop, on_timer, &c, &e);
    int p[2];

    (void)state;
    assert_non_null(t);
    assert_int_equal(evloop_timer_arm(t, 0, &e), 0);
    assert_int_equal(evloop_run_once(loop, &e), 0);
    assert_int_equal(c.timer_calls, 1);
    /* One-shot: with only a pipe event pending, the timer does not fire again. */
    assert_int_equal(pipe(p), 0);
    assert_int_equal(evloop_add_fd(loop, p[0], EPOLLIN, on_fd, &c, &e), 0);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(evloop_run_once(loop, &e), 0);
    assert_int_equal(c.timer_calls, 1);
    assert_int_equal(c.fd_calls, 1);
    evloop_free(loop);
    close(p[0]);
    close(p[1]);
}

static void test_evloop_disarmed_timer_never_fires(void **state)
{
    struct perr e = {0};
    struct counts c = {0};
    struct evloop *loop = evloop_new(&e);
    struct evloop_timer *t = evloop_timer_new(loop, on_timer, &c, &e);
    int p[2];

    (void)state;
    assert_int_equal(evloop_timer_arm(t, 0, &e), 0);
    evloop_timer_disarm(t);
    assert_int_equal(pipe(p), 0);
    assert_int_equal(evloop_add_fd(loop, p[0], EPOLLIN, on_fd, &c, &e), 0);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(evloop_run_once(loop, &e), 0);
    assert_int_equal(c.timer_calls, 0);
    assert_int_equal(c.fd_calls, 1);
    evloop_free(loop);
    close(p[0]);
    close(p[1]);
}

static void test_evloop_rejects_bad_fd(void **state)
{
    struct perr e = {0};
    struct counts c = {0};
    struct evloop *loop = evloop_new(&e);

    (void)state;
    assert_int_equal(evloop_add_fd(loop, 987654, EPOLLIN, on_fd, &c, &e), -1);
    assert_int_equal(e.code, PERR_IO);
    assert_non_null(strstr(e.msg, "987654"));
    evloop_free(loop);
    evloop_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evloop_dispatches_ready_fd),
        cmocka_unit_test(test_evloop_timer_fires_once),
        cmocka_unit_test(test_evloop_disarmed_timer_never_fires),
        cmocka_unit_test(test_evloop_rejects_bad_fd),
    };
    return cmocka_run_group_tests_name("evloop", tests, NULL, NULL);
}
