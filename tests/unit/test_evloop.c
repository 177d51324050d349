/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/evloop: fd dispatch, timers that fire, timers that were disarmed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

static int order_log[64], order_len;

static void on_logged(void *ctx, int fd, uint32_t events)
{
    char b;

    (void)events;
    assert_int_equal(read(fd, &b, 1), 1);
    order_log[order_len++] = (int)(intptr_t)ctx;
}

static void test_evloop_urgent_sources_come_first(void **state)
{
    struct perr e = {0};
    struct evloop *loop = evloop_new(&e);
    int p[21][2];

    (void)state;
    order_len = 0;
    for (int i = 0; i < 21; i++) {
        assert_int_equal(pipe(p[i]), 0);
        assert_int_equal(evloop_add_fd(loop, p[i][0], EPOLLIN, on_logged, (void *)(intptr_t)i, &e),
                         0);
        assert_int_equal(write(p[i][1], "x", 1), 1);
    }
    assert_int_equal(evloop_set_urgent(loop, p[20][0], &e), 0); /* registered last */
    assert_int_equal(evloop_run_once(loop, &e), 0);
    assert_int_equal(order_log[0], 20); /* the urgent one before any other */
    assert_int_equal(order_len, 1 + 8); /* then only a few ordinary ones */
    while (order_len < 21)
        assert_int_equal(evloop_run_once(loop, &e), 0);
    assert_int_equal(evloop_set_urgent(loop, 987654, &e), -1);
    evloop_free(loop);
    for (int i = 0; i < 21; i++) {
        close(p[i][0]);
        close(p[i][1]);
    }
}

static int served[20];

static void on_counted(void *ctx, int fd, uint32_t events)
{
    char b;

    (void)events;
    assert_int_equal(read(fd, &b, 1), 1); /* one byte per turn: the source stays ready */
    served[(intptr_t)ctx]++;
}

static void test_evloop_serves_busy_sources_in_turn(void **state)
{
    struct perr e = {0};
    struct evloop *loop = evloop_new(&e);
    int p[20][2], least = 1000, most = 0, served_before_removal;

    (void)state;
    memset(served, 0, sizeof(served));
    for (int i = 0; i < 20; i++) {
        assert_int_equal(pipe(p[i]), 0);
        assert_int_equal(evloop_add_fd(loop, p[i][0], EPOLLIN, on_counted, (void *)(intptr_t)i, &e),
                         0);
        assert_int_equal(write(p[i][1], "xxxxxxxxxxxxxxxxxxxx", 20), 20);
    }
    /* 10 turns of 8 = 80 dispatches among 20 always-ready sources: about 4 each (sources served
     * in the same turn rejoin the queue in epoll's order), none left out. Serving the first 8
     * that epoll lists would give 10 to some and 0 to others. */
    for (int turn = 0; turn < 10; turn++)
        assert_int_equal(evloop_run_once(loop, &e), 0);
    for (int i = 0; i < 20; i++) {
        least = served[i] < least ? served[i] : least;
        most = served[i] > most ? served[i] : most;
    }
    assert_true(least >= 3);
    assert_true(most <= 5);
    /* A removed source is never dispatched again, also when it was waiting in the queue. */
    served_before_removal = served[0];
    evloop_del_fd(loop, p[0][0]);
    for (int turn = 0; turn < 5; turn++)
        assert_int_equal(evloop_run_once(loop, &e), 0);
    assert_int_equal(served[0], served_before_removal);
    evloop_free(loop);
    for (int i = 0; i < 20; i++) {
        close(p[i][0]);
        close(p[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evloop_dispatches_ready_fd),
        cmocka_unit_test(test_evloop_timer_fires_once),
        cmocka_unit_test(test_evloop_disarmed_timer_never_fires),
        cmocka_unit_test(test_evloop_rejects_bad_fd),
        cmocka_unit_test(test_evloop_urgent_sources_come_first),
        cmocka_unit_test(test_evloop_serves_busy_sources_in_turn),
    };
    return cmocka_run_group_tests_name("evloop", tests, NULL, NULL);
}
