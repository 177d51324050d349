/* SPDX-License-Identifier: MIT */
/* A thread that hears SIGTERM during the finish phase. */
#include "entrypoint/stopwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t stopwatch_deadline(uint64_t at, uint64_t stop_s)
{
    return stop_s ? at + stop_s * 1000 - (stop_s > 2 ? 1000 : 0) : 0;
}

static void *watch(void *arg)
{
    struct stopwatch *w = arg;
    struct pollfd p[2] = {{w->sigfd, POLLIN, 0}, {w->wake[0], POLLIN, 0}};

    for (;;) {
        struct signalfd_siginfo si;
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return NULL;
        if (p[1].revents)
            return NULL;
        while (read(w->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
            if (si.ssi_signo != SIGTERM && si.ssi_signo != SIGINT)
                continue; /* children are reaped after the finish phase */
            uint64_t none = 0, at = stopwatch_deadline(now_ms(), w->stop_s);
            if (at && __atomic_compare_exchange_n(w->deadline, &none, at, false, __ATOMIC_RELAXED,
                                                  __ATOMIC_RELAXED))
                log_warn("finish",
                         "SIGTERM while uploading: what is not done in %llu s is given up",
                         (unsigned long long)w->stop_s);
        }
    }
}

void stopwatch_start(struct stopwatch *w, int sigfd, uint64_t stop_s, uint64_t *deadline)
{
    w->sigfd = sigfd;
    w->stop_s = stop_s;
    w->deadline = deadline;
    w->started = false;
    if (sigfd < 0 || !stop_s)
        return;
    if (pipe2(w->wake, O_CLOEXEC) < 0) {
        log_warn("finish", "no watch for SIGTERM during the uploads errno=%d", errno);
        return;
    }
    if (pthread_create(&w->thread, NULL, watch, w) != 0) {
        log_warn("finish", "no watch for SIGTERM during the uploads");
        close(w->wake[0]);
        close(w->wake[1]);
        return;
    }
    w->started = true;
}

void stopwatch_stop(struct stopwatch *w)
{
    if (!w->started)
        return;
    (void)!write(w->wake[1], "x", 1);
    pthread_join(w->thread, NULL);
    close(w->wake[0]);
    close(w->wake[1]);
    w->started = false;
}
