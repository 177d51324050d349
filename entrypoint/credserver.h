/* SPDX-License-Identifier: MIT */
/* The loopback credentials endpoint the child's SDKs call (AWS container-credentials format),
 * and the refresher thread that keeps what it serves fresh. */
#ifndef PARITY_ENTRYPOINT_CREDSERVER_H
#define PARITY_ENTRYPOINT_CREDSERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/creds.h"
#include "lib/err.h"
#include "lib/evloop.h"

#define CREDSERVER_PATH        "/parity/credentials"
#define CREDSERVER_MAX_CLIENTS 512

struct credserver_conn;

struct credserver {
    int listen_fd;
    int port;
    char token[65]; /* 256 random bits, hex; the child's AWS_CONTAINER_AUTHORIZATION_TOKEN */
    struct evloop *loop;
    struct credserver_conn *conns[CREDSERVER_MAX_CLIENTS];
    /* shared with the refresher thread, under mu */
    pthread_mutex_t mu;
    pthread_cond_t wake;
    struct creds current;
    int64_t issued_epoch_s; /* when `current` was fetched */
    struct creds_provider *provider;
    bool refresher_running;
    bool stop;
};

/* Fetches the first credentials (retrying until deadline_s have passed), then opens the
 * listening socket on 127.0.0.1 with an ephemeral port and makes the token. Takes ownership of
 * provider. */
PARITY_MUST_CHECK int credserver_open(struct credserver *s,
                                      struct creds_provider *provider,
                                      unsigned deadline_s,
                                      struct perr *err);

/* Serves from PID 1's loop (after supervise_prepare made it). */
PARITY_MUST_CHECK int
credserver_attach(struct credserver *s, struct evloop *loop, struct perr *err);

/* Starts the refresher thread (after the child is started: no thread may exist while it shares PID
 * 1's memory). */
PARITY_MUST_CHECK int credserver_start_refresher(struct credserver *s, struct perr *err);

/* Copies the credentials being served (the refresher may replace them at any time). */
void credserver_snapshot(struct credserver *s, struct creds *out);

/* Closes the sockets and wipes the credentials; the refresher thread is left to end with the
 * process. Safe on a zeroed struct (listen_fd 0 is never ours: it is opened after fds 0-2). */
void credserver_cleanup(struct credserver *s);

#endif
