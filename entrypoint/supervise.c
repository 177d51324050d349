/* SPDX-License-Identifier: MIT */
/* Supervision: every event (signal, timer, later sockets) arrives through one epoll loop. */
#include "entrypoint/supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

#define PHASE "supervise"

/* Runtimes may start us with a closed std fd; a later open() would then land on 0-2. */
static void ensure_std_fds(void)
{
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int nfd = open("/dev/null", O_RDWR);
            if (nfd >= 0 && nfd != fd)
                close(nfd);
        }
    }
}

static bool group_alive(pid_t pgid)
{
    return kill(-pgid, 0) == 0 || errno == EPERM;
}

static void start_reaping(struct supervisor *s)
{
    struct perr err = {0};

    s->reaping = true;
    log_info(PHASE,
             "child exited; stopping the rest of its process group pgid=%ld reap_seconds=%llu",
             (long)s->child, (unsigned long long)s->reap_s);
    kill(-s->child, SIGTERM);
    kill(-s->child, SIGCONT); /* a stopped process cannot act on SIGTERM */
    if (evloop_timer_arm(s->reap_timer, s->reap_s * 1000, &err) < 0) {
        log_error(PHASE, "%s; sending SIGKILL now", err.msg);
        kill(-s->child, SIGKILL);
    }
}

static void reap(struct supervisor *s)
{
    for (;;) {
        int status;
        pid_t p = waitpid(-1, &status, WNOHANG);
        if (p <= 0)
            break;
        if (p == s->child) {
            s->child_status = status;
            s->child_exited = true;
        } else {
            log_debug(PHASE, "reaped pid=%ld", (long)p);
        }
    }
    if (!s->child_exited)
        return;
    if (!group_alive(s->child)) {
        s->done = true;
        return;
    }
    if (!s->reaping)
        start_reaping(s);
}

static void forward(struct supervisor *s, int sig)
{
    /* Once the child is gone, what is left of its group still deserves the signal. */
    pid_t target = s->single_child && !s->child_exited ? s->child : -s->child;
    char name[32];

    if (kill(target, sig) < 0 && errno != ESRCH)
        log_warn(PHASE, "forwarding %s failed errno=%d", signals_name(sig, name, sizeof(name)),
                 errno);
    else
        log_debug(PHASE, "forwarded %s to %s %ld", signals_name(sig, name, sizeof(name)),
                  target < 0 ? "group" : "pid", (long)s->child);
    if ((sig == SIGTERM || sig == SIGINT) && !s->grace_armed) {
        struct perr err = {0};
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s->stop_at_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
        s->grace_armed = true;
        if (s->on_stop)
            s->on_stop(s->on_stop_ctx);
        if (evloop_timer_arm(s->grace_timer, s->grace_s * 1000, &err) < 0)
            log_error(PHASE, "%s; no grace escalation", err.msg);
    }
}

static void on_signal(void *ctx, int fd, uint32_t events)
{
    struct supervisor *s = ctx;
    struct signalfd_siginfo si;

    (void)events;
    while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        int sig = (int)si.ssi_signo;
        if (sig == SIGCHLD)
            reap(s);
        else if (sig == SIGPIPE && (si.ssi_code == SI_KERNEL ||
                                    (si.ssi_code == SI_USER && (pid_t)si.ssi_pid == getpid())))
            continue; /* our own write to a closed pipe (the kernel sends it as from us), not a
                       * signal sent to the container: forwarding it and logging that would
                       * write again, fail again, and starve every higher-numbered signal */
        else
            forward(s, sig);
    }
}

/* Relays one read of the child's stderr byte for byte and keeps its tail for the failure
 * reason. Returns the bytes read, 0 at end of file, -1 with errno set. */
static ssize_t relay_stderr(struct supervisor *s)
{
    char data[65536];
    ssize_t n = read(s->stderr_pipe, data, sizeof(data));

    if (n <= 0)
        return n;
    report_tail_add(&s->tail, data, (size_t)n);
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(STDERR_FILENO, data + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* our stderr is gone; keep reading so the child never blocks on the pipe */
        off += w;
    }
    return n;
}

static void close_stderr_pipe(struct supervisor *s)
{
    evloop_del_fd(s->loop, s->stderr_pipe);
    close(s->stderr_pipe);
    s->stderr_pipe = -1;
}

static void on_stderr(void *ctx, int fd, uint32_t events)
{
    struct supervisor *s = ctx;

    ssize_t n;

    (void)fd;
    (void)events;
    n = relay_stderr(s);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        close_stderr_pipe(s);
}

static void on_grace(void *ctx, struct evloop_timer *t)
{
    struct supervisor *s = ctx;

    (void)t;
    if (!group_alive(s->child))
        return;
    log_warn(PHASE,
             "grace period over; sending SIGKILL to the process group grace_seconds=%llu pgid=%ld",
             (unsigned long long)s->grace_s, (long)s->child);
    kill(-s->child, SIGKILL);
}

static void on_reap(void *ctx, struct evloop_timer *t)
{
    struct supervisor *s = ctx;

    (void)t;
    if (!group_alive(s->child))
        return;
    log_warn(
        PHASE,
        "processes of the child's group outlived reap-seconds; sending SIGKILL reap_seconds=%llu pgid=%ld",
        (unsigned long long)s->reap_s, (long)s->child);
    kill(-s->child, SIGKILL);
}

int supervise_prepare(struct supervisor *s, struct perr *err)
{
    s->sigfd = -1;
    s->stderr_pipe = -1;
    ensure_std_fds();
    /* Outside a PID namespace we still want the orphans of the child's tree. */
    if (getpid() != 1) {
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
            return perr_sys(err, "becoming a child subreaper");
        log_debug(PHASE, "not PID 1: running as child subreaper");
    }
    if (signals_take_over(&s->sigs, err) < 0)
        return -1;
    s->loop = evloop_new(err);
    if (!s->loop)
        return -1;
    s->sigfd = signals_open_fd(&s->sigs, err);
    if (s->sigfd < 0)
        return -1;
    if (evloop_add_fd(s->loop, s->sigfd, EPOLLIN, on_signal, s, err) < 0 ||
        evloop_set_urgent(s->loop, s->sigfd, err) < 0)
        return -1;
    s->grace_timer = evloop_timer_new(s->loop, on_grace, s, err);
    if (!s->grace_timer)
        return -1;
    s->reap_timer = evloop_timer_new(s->loop, on_reap, s, err);
    if (!s->reap_timer)
        return -1;
    return 0;
}

void supervise_run(struct supervisor *s, pid_t child)
{
    s->child = child;
    if (s->stderr_pipe >= 0) {
        struct perr err = {0};
        if (evloop_add_fd(s->loop, s->stderr_pipe, EPOLLIN, on_stderr, s, &err) < 0) {
            log_error(PHASE, "%s; the child's stderr is no longer relayed", err.msg);
            close(s->stderr_pipe);
            s->stderr_pipe = -1;
        }
    }
    /* A SIGCHLD that arrived before the loop is pending in the signalfd; this catches up anyway. */
    reap(s);
    while (!s->done) {
        struct perr err = {0};
        if (evloop_run_once(s->loop, &err) < 0) {
            log_error(PHASE, "%s; reaping directly", err.msg);
            reap(s);
        }
    }
    /* What the child wrote before it exited is still in the pipe; a daemon may keep the pipe
     * open forever, so take only what is there now. */
    if (s->stderr_pipe >= 0) {
        while (relay_stderr(s) > 0)
            ;
        close_stderr_pipe(s);
    }
}

void supervise_cleanup(struct supervisor *s)
{
    /* The signalfd is only ever opened after the loop, so a zeroed struct closes nothing. */
    if (!s->loop)
        return;
    evloop_free(s->loop);
    s->loop = NULL;
    if (s->sigfd >= 0)
        close(s->sigfd);
    s->sigfd = -1;
}
