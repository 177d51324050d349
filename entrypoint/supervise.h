/* SPDX-License-Identifier: MIT */
/* PID 1's event loop: forward signals, reap zombies, escalate, clean up the child's group. */
#ifndef PARITY_ENTRYPOINT_SUPERVISE_H
#define PARITY_ENTRYPOINT_SUPERVISE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "entrypoint/report.h"
#include "entrypoint/signals.h"
#include "lib/err.h"
#include "lib/evloop.h"

struct supervisor {
    /* set by the caller */
    bool single_child;          /* forward to the child only instead of its process group */
    uint64_t grace_s;           /* SIGTERM/SIGINT → SIGKILL delay */
    uint64_t reap_s;            /* child gone → SIGKILL of leftovers delay */
    void (*on_stop)(void *ctx); /* at the first SIGTERM/SIGINT, or NULL; must not block */
    void *on_stop_ctx;
    /* set by supervise_prepare */
    struct sigstate sigs;
    struct evloop *loop;
    int sigfd;
    struct evloop_timer *grace_timer;
    struct evloop_timer *reap_timer;
    /* set by the caller before supervise_run */
    int stderr_pipe; /* read end of the child's stderr, relayed to ours; -1 when none */
    /* state while running */
    pid_t child;             /* also the process group id */
    struct report_tail tail; /* the last bytes of the child's stderr */
    bool grace_armed;
    uint64_t stop_at_ms; /* CLOCK_MONOTONIC ms of the first SIGTERM/SIGINT, or 0 */
    bool reaping;
    bool child_exited;
    bool done;
    int child_status; /* waitpid status of the child */
};

/*
 * Before the child exists: becomes a child subreaper unless PID 1, makes sure fds 0-2 are open,
 * takes over signals and creates the loop, signalfd and timers. Failing here is fine (exit 125).
 */
PARITY_MUST_CHECK int supervise_prepare(struct supervisor *s, struct perr *err);

/*
 * Runs until the child has exited and its process group is empty, then returns. Never fails:
 * once the child runs, PID 1 logs its own problems and carries on.
 */
void supervise_run(struct supervisor *s, pid_t child);

/* Releases the loop and signalfd; safe to call twice and on a zeroed struct. */
void supervise_cleanup(struct supervisor *s);

#endif
