/* SPDX-License-Identifier: MIT */
/* An epoll event loop: fd sources and monotonic timers, dispatched one event at a time. */
#ifndef PARITY_EVLOOP_H
#define PARITY_EVLOOP_H

#include <stdint.h>

#include "lib/err.h"

struct evloop;
struct evloop_timer;

/* Called when fd is ready; events are EPOLLIN/EPOLLOUT/EPOLLHUP/... bits. */
typedef void evloop_fd_fn(void *ctx, int fd, uint32_t events);

/* Called once each time an armed timer expires. */
typedef void evloop_timer_fn(void *ctx, struct evloop_timer *timer);

PARITY_MUST_CHECK struct evloop *evloop_new(struct perr *err);

/* Closes every timer and the epoll fd; fd sources stay open (the caller owns them). NULL is ok. */
void evloop_free(struct evloop *loop);

/* Watches fd for events; the loop does not take ownership of fd. */
PARITY_MUST_CHECK int evloop_add_fd(
    struct evloop *loop, int fd, uint32_t events, evloop_fd_fn *fn, void *ctx, struct perr *err);

/* Marks an fd source as urgent: its events are dispatched as soon as epoll reports them, while
 * ordinary sources queue up and are served a few per wait in arrival order, so a signal never
 * waits behind a crowd of clients. Timers are always urgent. */
PARITY_MUST_CHECK int evloop_set_urgent(struct evloop *loop, int fd, struct perr *err);

/* Changes the events watched on an fd already added (EPOLLIN, EPOLLOUT, ...). */
PARITY_MUST_CHECK int
evloop_set_events(struct evloop *loop, int fd, uint32_t events, struct perr *err);

/* Stops watching fd (before the caller closes it). */
void evloop_del_fd(struct evloop *loop, int fd);

/* Creates a disarmed timer owned by the loop. */
PARITY_MUST_CHECK struct evloop_timer *
evloop_timer_new(struct evloop *loop, evloop_timer_fn *fn, void *ctx, struct perr *err);

/* Arms (or re-arms) a one-shot timer to fire after delay_ms; 0 fires at the next dispatch. */
PARITY_MUST_CHECK int evloop_timer_arm(struct evloop_timer *t, uint64_t delay_ms, struct perr *err);

/* Disarms a timer; a disarmed timer never fires. */
void evloop_timer_disarm(struct evloop_timer *t);

/* Waits for events (no polling tick: blocks until one arrives unless sources are still queued),
 * dispatches the urgent ones and up to 8 queued ordinary ones. */
PARITY_MUST_CHECK int evloop_run_once(struct evloop *loop, struct perr *err);

#endif
