/* SPDX-License-Identifier: MIT */
/* epoll loop for PID 1: every source is an fd, so signals, sockets and timers wait together. */
#include "lib/evloop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define EVLOOP_MAX_SOURCES       1024 /* signals, timers, and the credential endpoint's clients */
#define EVLOOP_BATCH             64
#define EVLOOP_ORDINARY_PER_TURN 8 /* then back to epoll_wait, where urgent events come first */

struct evloop_timer {
    struct evloop *loop;
    int fd;
    evloop_timer_fn *fn;
    void *ctx;
};

struct source {
    bool used;
    int fd;
    evloop_fd_fn *fn;
    void *ctx;
    struct evloop_timer *timer; /* set when this source is a timer */
    bool urgent;
    bool queued;            /* waiting in the ready queue */
    uint32_t queued_events; /* what epoll reported while it waited */
};

/* Ready ordinary sources wait here in arrival order, across waits, so that every client gets
 * its turn: serving whatever epoll lists first would let the same few connections win. */
struct ready_queue {
    struct source *items[EVLOOP_MAX_SOURCES];
    size_t head, len;
};

struct evloop {
    int epfd;
    /* Only the first `reach` slots have ever been used: loops stop there, so the untouched
     * rest of the table costs no page faults. */
    size_t reach;
    struct source sources[EVLOOP_MAX_SOURCES];
    struct ready_queue ready;
};

struct evloop *evloop_new(struct perr *err)
{
    struct evloop *loop = calloc(1, sizeof(*loop));

    if (!loop) {
        perr_set(err, PERR_NOMEM, "out of memory creating the event loop");
        return NULL;
    }
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        perr_sys(err, "creating the event loop (epoll_create1)");
        free(loop);
        return NULL;
    }
    return loop;
}

void evloop_free(struct evloop *loop)
{
    if (!loop)
        return;
    for (size_t i = 0; i < loop->reach; i++) {
        struct evloop_timer *t = loop->sources[i].timer;
        if (t) {
            close(t->fd);
            free(t);
        }
    }
    close(loop->epfd);
    free(loop);
}

static struct source *add_source(struct evloop *loop, int fd, uint32_t events, struct perr *err)
{
    struct epoll_event ev = {.events = events};

    for (size_t i = 0; i < EVLOOP_MAX_SOURCES; i++) {
        struct source *s = &loop->sources[i];
        if (s->used)
            continue;
        ev.data.ptr = s;
        if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            perr_sys(err, "watching fd %d", fd);
            return NULL;
        }
        s->used = true;
        s->fd = fd;
        if (i >= loop->reach)
            loop->reach = i + 1;
        s->urgent = false;
        s->queued = false;
        return s;
    }
    perr_set(err, PERR_LIMIT, "event loop is full (%d sources)", EVLOOP_MAX_SOURCES);
    return NULL;
}

int evloop_add_fd(
    struct evloop *loop, int fd, uint32_t events, evloop_fd_fn *fn, void *ctx, struct perr *err)
{
    struct source *s = add_source(loop, fd, events, err);

    if (!s)
        return -1;
    s->fn = fn;
    s->ctx = ctx;
    s->timer = NULL;
    return 0;
}

int evloop_set_urgent(struct evloop *loop, int fd, struct perr *err)
{
    for (size_t i = 0; i < loop->reach; i++) {
        if (loop->sources[i].used && loop->sources[i].fd == fd && !loop->sources[i].timer) {
            loop->sources[i].urgent = true;
            return 0;
        }
    }
    return perr_set(err, PERR_IO, "fd %d is not in the event loop", fd);
}

int evloop_set_events(struct evloop *loop, int fd, uint32_t events, struct perr *err)
{
    for (size_t i = 0; i < loop->reach; i++) {
        struct source *s = &loop->sources[i];
        if (s->used && s->fd == fd && !s->timer) {
            struct epoll_event ev = {.events = events, .data.ptr = s};
            if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
                return perr_sys(err, "changing the events of fd %d", fd);
            return 0;
        }
    }
    return perr_set(err, PERR_IO, "fd %d is not in the event loop", fd);
}

static void ready_push(struct ready_queue *q, struct source *s, uint32_t events)
{
    if (s->queued) {
        s->queued_events |= events;
        return;
    }
    /* Cannot overflow: each source is queued at most once and there are as many slots. */
    q->items[(q->head + q->len++) % EVLOOP_MAX_SOURCES] = s;
    s->queued = true;
    s->queued_events = events;
}

static struct source *ready_pop(struct ready_queue *q)
{
    struct source *s = q->items[q->head];

    q->head = (q->head + 1) % EVLOOP_MAX_SOURCES;
    q->len--;
    s->queued = false;
    return s;
}

static void ready_remove(struct ready_queue *q, struct source *s)
{
    size_t kept = 0;

    if (!s->queued)
        return;
    for (size_t i = 0; i < q->len; i++) {
        struct source *item = q->items[(q->head + i) % EVLOOP_MAX_SOURCES];
        if (item != s)
            q->items[(q->head + kept++) % EVLOOP_MAX_SOURCES] = item;
    }
    q->len = kept;
    s->queued = false;
}

void evloop_del_fd(struct evloop *loop, int fd)
{
    for (size_t i = 0; i < loop->reach; i++) {
        struct source *s = &loop->sources[i];
        if (s->used && s->fd == fd && !s->timer) {
            epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
            ready_remove(&loop->ready, s);
            s->used = false;
            return;
        }
    }
}

struct evloop_timer *
evloop_timer_new(struct evloop *loop, evloop_timer_fn *fn, void *ctx, struct perr *err)
{
    struct evloop_timer *t = calloc(1, sizeof(*t));
    struct source *s;

    if (!t) {
        perr_set(err, PERR_NOMEM, "out of memory creating a timer");
        return NULL;
    }
    t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (t->fd < 0) {
        perr_sys(err, "creating a timer (timerfd_create)");
        free(t);
        return NULL;
    }
    s = add_source(loop, t->fd, EPOLLIN, err);
    if (!s) {
        close(t->fd);
        free(t);
        return NULL;
    }
    t->loop = loop;
    t->fn = fn;
    t->ctx = ctx;
    s->timer = t;
    s->urgent = true;
    return t;
}

int evloop_timer_arm(struct evloop_timer *t, uint64_t delay_ms, struct perr *err)
{
    struct itimerspec its = {0};

    /* An all-zero it_value disarms, so "now" is expressed as one nanosecond. */
    its.it_value.tv_sec = (time_t)(delay_ms / 1000);
    its.it_value.tv_nsec = (long)(delay_ms % 1000) * 1000000L;
    if (delay_ms == 0)
        its.it_value.tv_nsec = 1;
    if (timerfd_settime(t->fd, 0, &its, NULL) < 0)
        return perr_sys(err, "arming a timer");
    return 0;
}

void evloop_timer_disarm(struct evloop_timer *t)
{
    struct itimerspec its = {0};
    uint64_t expirations;

    timerfd_settime(t->fd, 0, &its, NULL);
    /* Drop an expiry that happened before disarming, so it is not dispatched later. */
    while (read(t->fd, &expirations, sizeof(expirations)) < 0 && errno == EINTR)
        ;
}

static void dispatch(struct source *s, uint32_t events)
{
    if (s->timer) {
        uint64_t expirations;
        ssize_t n = read(s->fd, &expirations, sizeof(expirations));
        if (n == (ssize_t)sizeof(expirations))
            s->timer->fn(s->timer->ctx, s->timer);
        return;
    }
    s->fn(s->ctx, s->fd, events);
}

int evloop_run_once(struct evloop *loop, struct perr *err)
{
    struct epoll_event evs[EVLOOP_BATCH];
    /* With sources still queued, only look for news; otherwise block until something happens. */
    int n = epoll_wait(loop->epfd, evs, EVLOOP_BATCH, loop->ready.len ? 0 : -1);

    if (n < 0) {
        if (errno == EINTR)
            return 0;
        return perr_sys(err, "waiting for events (epoll_wait)");
    }
    /* Urgent sources (signals, timers) run at once; ordinary ones join the back of the queue,
     * unless already in it. Level-triggered epoll reports a source that is still ready again
     * at the next wait, which puts it behind everyone who was waiting. */
    for (int i = 0; i < n; i++) {
        struct source *s = evs[i].data.ptr;
        if (!s->urgent)
            ready_push(&loop->ready, s, evs[i].events);
    }
    for (int i = 0; i < n; i++) {
        struct source *s = evs[i].data.ptr;
        if (s->urgent && s->used)
            dispatch(s, evs[i].events);
    }
    /* A few from the front of the queue, then back to epoll_wait, so a signal never waits
     * behind a crowd of clients. A callback may remove any source, the queue stays right. */
    for (int served = 0; served < EVLOOP_ORDINARY_PER_TURN && loop->ready.len; served++) {
        struct source *s = ready_pop(&loop->ready);
        dispatch(s, s->queued_events);
    }
    return 0;
}
