/* SPDX-License-Identifier: MIT */
/* After the child exits nobody reads PID 1's signals, yet a SIGTERM then (the platform stopping
 * the container during the uploads) must still bound them: a thread watches the signalfd while
 * the finish phase runs and sets the stop deadline the transfers read. */
#ifndef PARITY_ENTRYPOINT_STOPWATCH_H
#define PARITY_ENTRYPOINT_STOPWATCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct stopwatch {
    int sigfd;          /* the supervisor's signalfd */
    uint64_t stop_s;    /* the platform's SIGTERM -> SIGKILL window; 0: no limit */
    uint64_t *deadline; /* set (atomically) at the first SIGTERM/SIGINT, unless set already */
    int wake[2];
    pthread_t thread;
    bool started;
};

/* Starts watching; failing to start only means a late SIGTERM is not heard (logged). */
void stopwatch_start(struct stopwatch *w, int sigfd, uint64_t stop_s, uint64_t *deadline);

/* Stops and joins the watcher; safe when it never started. */
void stopwatch_stop(struct stopwatch *w);

/* The deadline for a SIGTERM at now_ms: the window less a second to exit in. */
uint64_t stopwatch_deadline(uint64_t now_ms, uint64_t stop_s);

#endif
