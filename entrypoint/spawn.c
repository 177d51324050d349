/* SPDX-License-Identifier: MIT */
/* vfork-style clone + exec with the exec result reported over a close-on-exec pipe. */
#include "entrypoint/spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

/* The child runs on its own small stack until exec; nothing in it recurses. */
#define CHILD_STACK_SIZE (64 * 1024)

extern char **environ;

int spawn_exec_failure_status(int exec_errno)
{
    /* The shell's convention, as tini uses it: 127 not found, 126 found but not runnable. */
    return exec_errno == ENOENT || exec_errno == ENOTDIR ? 127 : 126;
}

/* Reports why the command did not start; returns the exit status the child ends with. */
static int child_fail(int report_fd, int stage, int detail, int status)
{
    struct spawn_failure f = {.stage = stage, .detail = detail, .sys_errno = errno};

    while (write(report_fd, &f, sizeof(f)) < 0 && errno == EINTR)
        ;
    return status;
}

/* execvp's search (musl's rules: no shell fallback) in the PATH of the child's own
 * environment, without assigning `environ`, which is parity-init's memory too. */
static void exec_in_path(char *const argv[], char *const envp[])
{
    const char *file = argv[0], *path = NULL;
    size_t file_len = strlen(file);
    char candidate[PATH_MAX];
    bool denied = false;

    if (strchr(file, '/') || !*file) {
        execve(file, argv, envp);
        return;
    }
    for (char *const *e = envp; *e && !path; e++) {
        if (!strncmp(*e, "PATH=", 5))
            path = *e + 5;
    }
    if (!path)
        path = "/usr/local/bin:/bin:/usr/bin";
    for (const char *dir = path;; dir++) {
        const char *end = strchrnul(dir, ':');
        size_t dir_len = (size_t)(end - dir);
        if (dir_len + 1 + file_len < sizeof(candidate)) {
            /* An empty entry means the working directory, as in execvp. */
            memcpy(candidate, dir, dir_len);
            candidate[dir_len] = '/';
            memcpy(candidate + dir_len + (dir_len > 0), file, file_len + 1);
            execve(candidate, argv, envp);
            if (errno == EACCES)
                denied = true;
            else if (errno != ENOENT && errno != ENOTDIR)
                return;
        }
        if (!*end)
            break;
        dir = end;
    }
    errno = denied ? EACCES : ENOENT;
}

/* Runs in the child, which shares parity-init's memory until exec (CLONE_VM): only system
 * calls and functions that write nothing global from here to exec. Returns only if the command
 * did not start, with the status to exit with: returning from the clone function exits the
 * child, with no noreturn call on this borrowed stack (ASan would warn about one). */
static int child_exec(const struct spawn_request *req, int report_fd)
{
    setpgid(0, 0);
    /* SIGTTOU is still ignored here, so a background group may take the terminal. */
    if (req->take_terminal)
        tcsetpgrp(STDIN_FILENO, getpid());
    if (req->stderr_fd >= 0 && dup2(req->stderr_fd, STDERR_FILENO) < 0)
        return child_fail(report_fd, SPAWN_STAGE_EXEC, 0, 126);
    if (req->cwd && chdir(req->cwd) < 0)
        return child_fail(report_fd, SPAWN_STAGE_CHDIR, 0, 126);
    signals_restore_for_child(req->sigs);
    if (req->harden) {
        int stage = harden_apply(req->harden);
        if (stage)
            return child_fail(report_fd, SPAWN_STAGE_HARDEN, stage, 125);
    }
    exec_in_path(req->argv, req->envp ? req->envp : environ);
    return child_fail(report_fd, SPAWN_STAGE_EXEC, 0, spawn_exec_failure_status(errno));
}

struct child_start {
    const struct spawn_request *req;
    int report_fd;
};

static int child_main(void *arg)
{
    const struct child_start *start = arg;

    return child_exec(start->req, start->report_fd);
}

int spawn_child(const struct spawn_request *req,
                pid_t *pid,
                struct spawn_failure *fail,
                struct perr *err)
{
    struct spawn_failure f = {0};
    struct child_start start = {.req = req};
    void *stack;
    int fds[2];
    ssize_t n;
    pid_t p;

    if (pipe2(fds, O_CLOEXEC) < 0)
        return perr_sys(err, "creating the exec status pipe");
    stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        perr_sys(err, "allocating the child's start-up stack");
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    /* Like posix_spawn: sharing memory until exec spares copying PID 1's page tables and the
     * copy-on-write faults after a fork, most of what starting a child costs. parity-init
     * waits (CLONE_VFORK) until the child has exec'd or exited. */
    start.report_fd = fds[1];
    p = clone(child_main, (char *)stack + CHILD_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD,
              &start);
    munmap(stack, CHILD_STACK_SIZE);
    if (p < 0) {
        perr_sys(err, "starting the child (clone)");
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    close(fds[1]);
    /* Both sides set the group, so neither a signal nor tcsetpgrp can race the child's exec. */
    setpgid(p, p);
    /* EOF means exec succeeded: the pipe closed on exec. */
    do {
        n = read(fds[0], &f, sizeof(f));
    } while (n < 0 && errno == EINTR);
    close(fds[0]);
    *pid = p;
    *fail = n == (ssize_t)sizeof(f) ? f : (struct spawn_failure){0};
    return 0;
}

/* The fds the runtime gave PID 1 without close-on-exec: the child gets them; PID 1 closes its
 * copies after the spawn. Noted at the start, before any fd of PID 1's own exists, so that
 * what PID 1 opens later (connections kept alive by other threads) is never taken for one. */
static int inherited[4096];
static size_t inherited_count;

static void note_if_inherited(int fd)
{
    int flags = fcntl(fd, F_GETFD);

    if (flags >= 0 && !(flags & FD_CLOEXEC) &&
        inherited_count < sizeof(inherited) / sizeof(inherited[0]))
        inherited[inherited_count++] = fd;
}

void spawn_note_inherited_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct rlimit rl;
    struct dirent *de;

    inherited_count = 0;
    if (d) {
        int self = dirfd(d);
        while ((de = readdir(d))) {
            char *end;
            long fd = strtol(de->d_name, &end, 10);
            if (*end == '\0' && end != de->d_name && fd >= 3 && fd != self)
                note_if_inherited((int)fd);
        }
        closedir(d);
        return;
    }
    /* No /proc (an unusual runtime): walk the possible range instead. */
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 65536)
        rl.rlim_cur = 65536;
    for (int fd = 3; fd < (int)rl.rlim_cur; fd++)
        note_if_inherited(fd);
}

void spawn_close_inherited_fds(void)
{
    for (size_t i = 0; i < inherited_count; i++)
        close(inherited[i]);
    inherited_count = 0;
}
