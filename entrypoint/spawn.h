/* SPDX-License-Identifier: MIT */
/* Starting the user's command: new process group, terminal, inherited signal state, exec. */
#ifndef PARITY_ENTRYPOINT_SPAWN_H
#define PARITY_ENTRYPOINT_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "entrypoint/harden.h"
#include "entrypoint/signals.h"
#include "lib/err.h"

struct spawn_request {
    char **argv;                 /* NULL-terminated; argv[0] is looked up in the child's PATH */
    char **envp;                 /* the child's environment; NULL keeps parity-init's */
    const char *cwd;             /* working directory, or NULL to keep parity-init's */
    int stderr_fd;               /* becomes the child's fd 2 (a pipe PID 1 reads), or -1 */
    const struct sigstate *sigs; /* what the child gets back before exec */
    const struct harden_plan *harden; /* applied last before exec, or NULL */
    bool take_terminal;               /* make the child's group the terminal's foreground group */
};

/* Why the child never ran its command. */
enum spawn_stage {
    SPAWN_STAGE_NONE = 0,
    SPAWN_STAGE_CHDIR,
    SPAWN_STAGE_HARDEN, /* detail: enum harden_stage; the child exits 125 */
    SPAWN_STAGE_EXEC,
};

struct spawn_failure {
    int stage; /* enum spawn_stage */
    int detail;
    int sys_errno;
};

/*
 * Starts the command (a vfork-style clone, then exec) in a new process group whose id is the
 * child's pid. On return the child exists; fail->stage is SPAWN_STAGE_NONE if exec succeeded, else
 * the child exits 127 (not found) or 126 (not runnable, or the working directory failed) and must
 * still be reaped.
 */
PARITY_MUST_CHECK int spawn_child(const struct spawn_request *req,
                                  pid_t *pid,
                                  struct spawn_failure *fail,
                                  struct perr *err);

/* The exit status a failed exec maps to: 127 for not found, 126 otherwise. */
int spawn_exec_failure_status(int exec_errno);

/* Notes every fd >= 3 the runtime handed over without close-on-exec: call it first thing. */
void spawn_note_inherited_fds(void);

/* Closes PID 1's copies of those fds once the child has its own. */
void spawn_close_inherited_fds(void);

#endif
