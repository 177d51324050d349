/* SPDX-License-Identifier: MIT */
/* fork + exec with the exec result reported over a close-on-exec pipe. */
#include "entrypoint/spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

extern char **environ;

int spawn_exec_failure_status(int exec_errno)
{
    /* The shell's convention, as tini uses it: 127 not found, 126 found but not runnable. */
    return exec_errno == ENOENT || exec_errno == ENOTDIR ? 127 : 126;
}

static void __attribute__((noreturn)) child_fail(int report_fd, int stage, int detail, int status)
{
    struct spawn_failure f = {.stage = stage, .detail = detail, .sys_errno = errno};

    while (write(report_fd, &f, sizeof(f)) < 0 && errno == EINTR)
        ;
    _exit(status);
}

/* Runs in the child: only async-signal-safe calls from here to exec. */
static void __attribute__((noreturn)) child_exec(const struct spawn_request *req, int report_fd)
{
    setpgid(0, 0);
    /* SIGTTOU is still ignored here, so a background group may take the terminal. */
    if (req->take_terminal)
        tcsetpgrp(STDIN_FILENO, getpid());
    if (req->stderr_fd >= 0 && dup2(req->stderr_fd, STDERR_FILENO) < 0)
        child_fail(report_fd, SPAWN_STAGE_EXEC, 0, 126);
    if (req->cwd && chdir(req->cwd) < 0)
        child_fail(report_fd, SPAWN_STAGE_CHDIR, 0, 126);
    signals_restore_for_child(req->sigs);
    if (req->harden) {
        int stage = harden_apply(req->harden);
        if (stage)
            child_fail(report_fd, SPAWN_STAGE_HARDEN, stage, 125);
    }
    /* execvp searches the PATH of `environ`, so the child's own PATH must be the one in place. */
    if (req->envp)
        environ = req->envp;
    execvp(req->argv[0], req->argv);
    child_fail(report_fd, SPAWN_STAGE_EXEC, 0, spawn_exec_failure_status(errno));
}

int spawn_child(const struct spawn_request *req,
                pid_t *pid,
                struct spawn_failure *fail,
                struct perr *err)
{
    struct spawn_failure f = {0};
    int fds[2];
    ssize_t n;
    pid_t p;

    if (pipe2(fds, O_CLOEXEC) < 0)
        return perr_sys(err, "creating the exec status pipe");
    p = fork();
    if (p < 0) {
        perr_sys(err, "forking the child");
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (p == 0)
        child_exec(req, fds[1]);
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

static void close_if_inherited(int fd)
{
    int flags = fcntl(fd, F_GETFD);

    if (flags >= 0 && !(flags & FD_CLOEXEC))
        close(fd);
}

void spawn_close_inherited_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct rlimit rl;
    struct dirent *de;
    int fds[1024];
    size_t n = 0;

    if (d) {
        /* Collect first, close after: closing while the directory is read changes it. */
        int self = dirfd(d);
        while ((de = readdir(d)) && n < sizeof(fds) / sizeof(fds[0])) {
            char *end;
            long fd = strtol(de->d_name, &end, 10);
            if (*end == '\0' && end != de->d_name && fd >= 3 && fd != self)
                fds[n++] = (int)fd;
        }
        closedir(d);
        for (size_t i = 0; i < n; i++)
            close_if_inherited(fds[i]);
        if (n < sizeof(fds) / sizeof(fds[0]))
            return;
    }
    /* No /proc (an unusual runtime), or very many fds: walk the possible range instead. */
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 65536)
        rl.rlim_cur = 65536;
    for (int fd = 3; fd < (int)rl.rlim_cur; fd++)
        close_if_inherited(fd);
}
