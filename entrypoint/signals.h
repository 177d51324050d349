/* SPDX-License-Identifier: MIT */
/* PID 1's signal state: what it inherited (given back to the child) and what it blocks. */
#ifndef PARITY_ENTRYPOINT_SIGNALS_H
#define PARITY_ENTRYPOINT_SIGNALS_H

#include <signal.h>
#include <stdbool.h>

#include "lib/err.h"

struct sigstate {
    sigset_t inherited_mask;    /* the mask parity-init was started with */
    sigset_t inherited_ignored; /* signals that were SIG_IGN when parity-init started */
    sigset_t handled;           /* signals parity-init blocks and reads from its signalfd */
};

/*
 * Records the inherited mask and ignored set, then blocks every signal parity-init handles
 * (all but SIGKILL, SIGSTOP, SIGTTIN, SIGTTOU and the kernel's fault signals), resets their
 * dispositions to default so none is discarded, and ignores SIGTTIN/SIGTTOU.
 */
PARITY_MUST_CHECK int signals_take_over(struct sigstate *st, struct perr *err);

/*
 * In the child before exec: restores the inherited dispositions and mask.
 * Async-signal-safe.
 */
void signals_restore_for_child(const struct sigstate *st);

/* A non-blocking close-on-exec signalfd for the handled signals. */
PARITY_MUST_CHECK int signals_open_fd(const struct sigstate *st, struct perr *err);

/* True for signals sent because parity-init itself faulted; these are never forwarded. */
bool signals_is_kernel_fault(int sig);

/* "SIGTERM", "SIGRTMIN+3", or "signal 99". The buffer holds at least 16 bytes. */
const char *signals_name(int sig, char *buf, size_t buf_len);

#endif
