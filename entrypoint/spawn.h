/* SPDX-License-Identifier: MIT */
/* Starting the user's command: new process group, terminal, inherited signal state, exec. */
#ifndef PARITY_ENTRYPOINT_SPAWN_H
#define PARITY_ENTRYPOINT_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "entrypoint/signals.h"
#include "lib/err.h"

struct spawn_request {
    char **argv;                 /* NULL-terminated; argv[0] is looked up in PATH */
    const struct sigstate *sigs; /* what the child gets back before exec */
    bool take_terminal;          /* make the child's group the terminal's foreground group */
};

/*
 * Forks and execs the command in a new process group whose id is the child's pid. On return the
 * child exists; *exec_errno is 0 if exec succeeded, or the errno of the failed exec, in which
 * case the child exits 127 (not found) or 126 (not executable) and must still be reaped.
 */
PARITY_MUST_CHECK int
spawn_child(const struct spawn_request *req, pid_t *pid, int *exec_errno, struct perr *err);

/* The exit status a failed exec maps to: 127 for not found, 126 otherwise. */
int spawn_exec_failure_status(int exec_errno);

/* Closes every inherited fd >= 3 that is not close-on-exec (the child has its own copies). */
void spawn_close_inherited_fds(void);

#endif
