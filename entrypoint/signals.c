/* SPDX-License-Identifier: MIT */
/* Signal ownership: PID 1 blocks what it forwards and gives the child a clean inheritance. */
#include "entrypoint/signals.h"

#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>

/* Sent by the kernel when *we* fault; forwarding them would hide our own crash (catatonit). */
static const int kernel_fault_signals[] = {SIGFPE,  SIGILL,  SIGSEGV, SIGBUS,
                                           SIGABRT, SIGTRAP, SIGSYS};

bool signals_is_kernel_fault(int sig)
{
    for (size_t i = 0; i < sizeof(kernel_fault_signals) / sizeof(kernel_fault_signals[0]); i++) {
        if (kernel_fault_signals[i] == sig)
            return true;
    }
    return false;
}

static bool never_handled(int sig)
{
    return sig == SIGKILL || sig == SIGSTOP || sig == SIGTTIN || sig == SIGTTOU ||
           signals_is_kernel_fault(sig);
}

int signals_take_over(struct sigstate *st, struct perr *err)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL}, ign = {.sa_handler = SIG_IGN};

    if (sigprocmask(SIG_SETMASK, NULL, &st->inherited_mask) < 0)
        return perr_sys(err, "reading the signal mask");
    sigemptyset(&st->inherited_ignored);
    sigemptyset(&st->handled);
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction old;
        /* libc reserves a few real-time signals; sigaction refuses them, skip those. */
        if (sigaction(sig, NULL, &old) < 0)
            continue;
        if (!never_handled(sig))
            sigaddset(&st->handled, sig);
        /* exec leaves only SIG_IGN and SIG_DFL, so only ignored signals need a change: an
         * inherited SIG_IGN would make the kernel drop the signal before signalfd sees it. */
        if (old.sa_handler != SIG_IGN)
            continue;
        sigaddset(&st->inherited_ignored, sig);
        if (!never_handled(sig) && sigaction(sig, &dfl, NULL) < 0)
            return perr_sys(err, "resetting the disposition of signal %d", sig);
    }
    /* Ignored so that parity-init can hand the terminal to the child from the background. */
    if (sigaction(SIGTTIN, &ign, NULL) < 0 || sigaction(SIGTTOU, &ign, NULL) < 0)
        return perr_sys(err, "ignoring SIGTTIN/SIGTTOU");
    if (sigprocmask(SIG_BLOCK, &st->handled, NULL) < 0)
        return perr_sys(err, "blocking signals");
    return 0;
}

void signals_restore_for_child(const struct sigstate *st)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL}, ign = {.sa_handler = SIG_IGN};

    /* The child starts with parity-init's dispositions: default everywhere except what
     * signals_take_over ignored (SIGTTIN, SIGTTOU) and what stayed ignored (kernel faults). */
    for (int sig = 1; sig < NSIG; sig++) {
        bool was_ignored = sigismember(&st->inherited_ignored, sig);
        if (was_ignored && !never_handled(sig))
            sigaction(sig, &ign, NULL);
        else if (!was_ignored && (sig == SIGTTIN || sig == SIGTTOU))
            sigaction(sig, &dfl, NULL);
    }
    sigprocmask(SIG_SETMASK, &st->inherited_mask, NULL);
}

int signals_open_fd(const struct sigstate *st, struct perr *err)
{
    int fd = signalfd(-1, &st->handled, SFD_NONBLOCK | SFD_CLOEXEC);

    if (fd < 0)
        return perr_sys(err, "creating the signalfd");
    return fd;
}

/* musl has no sigabbrev_np(), so the standard Linux names are listed here. */
static const char *const signal_names[] = {
    [SIGHUP] = "SIGHUP",       [SIGINT] = "SIGINT",       [SIGQUIT] = "SIGQUIT",
    [SIGILL] = "SIGILL",       [SIGTRAP] = "SIGTRAP",     [SIGABRT] = "SIGABRT",
    [SIGBUS] = "SIGBUS",       [SIGFPE] = "SIGFPE",       [SIGKILL] = "SIGKILL",
    [SIGUSR1] = "SIGUSR1",     [SIGSEGV] = "SIGSEGV",     [SIGUSR2] = "SIGUSR2",
    [SIGPIPE] = "SIGPIPE",     [SIGALRM] = "SIGALRM",     [SIGTERM] = "SIGTERM",
    [SIGSTKFLT] = "SIGSTKFLT", [SIGCHLD] = "SIGCHLD",     [SIGCONT] = "SIGCONT",
    [SIGSTOP] = "SIGSTOP",     [SIGTSTP] = "SIGTSTP",     [SIGTTIN] = "SIGTTIN",
    [SIGTTOU] = "SIGTTOU",     [SIGURG] = "SIGURG",       [SIGXCPU] = "SIGXCPU",
    [SIGXFSZ] = "SIGXFSZ",     [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",
    [SIGWINCH] = "SIGWINCH",   [SIGIO] = "SIGIO",         [SIGPWR] = "SIGPWR",
    [SIGSYS] = "SIGSYS",
};

const char *signals_name(int sig, char *buf, size_t buf_len)
{
    if (sig > 0 && (size_t)sig < sizeof(signal_names) / sizeof(signal_names[0]) &&
        signal_names[sig])
        snprintf(buf, buf_len, "%s", signal_names[sig]);
    else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
        snprintf(buf, buf_len, "SIGRTMIN+%d", sig - SIGRTMIN);
    else
        snprintf(buf, buf_len, "signal %d", sig);
    return buf;
}
