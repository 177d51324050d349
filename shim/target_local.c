/* SPDX-License-Identifier: MIT */
/* Local jobs: one parity-init per host (in a runc container, or directly), their output
 * prefixed algo-N, their codes collected. */
#include "shim/target_local.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/jdoc.h"
#include "shim/follow.h"
#include "shim/jobstate.h"
#include "shim/jsonout.h"
#include "shim/local_bundle.h"

#define MAX_LOCAL_HOSTS 16
#define LINE_MAX_BYTES  65536

extern char **environ;

struct host {
    char name[32]; /* algo-N */
    pid_t pid;
    int out;    /* stdout and stderr of parity-init and the job, merged */
    char *line; /* a line not yet complete */
    size_t used;
    int status;
    bool done;
};

/* parity-init: PARITY_INIT, else the one installed beside this parity, else on PATH. */
static void find_init(const struct envlist *env, char *out, size_t len)
{
    const char *given = envlist_get(env, "PARITY_INIT");
    char self[PATH_MAX];
    ssize_t n;

    if (given && *given) {
        snprintf(out, len, "%s", given);
        return;
    }
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            snprintf(out, len, "%.*s/parity-init", (int)(slash - self), self);
            if (access(out, X_OK) == 0)
                return;
        }
    }
    snprintf(out, len, "parity-init");
}

/* The environment of host i: ours, plus the job config and which host it is. */
static int host_env(struct envlist *e, const char *spec_json, long index, struct perr *err)
{
    char idx[24];

    snprintf(idx, sizeof(idx), "%ld", index);
    if (envlist_init_from(e, environ, err) < 0)
        return -1;
    envlist_unset(e, "PARITY_JOB_CONFIG_URI");
    if (envlist_set(e, "PARITY_JOB_CONFIG", spec_json, err) < 0 ||
        envlist_set(e, "PARITY_HOST_INDEX", idx, err) < 0) {
        envlist_cleanup(e);
        return -1;
    }
    return 0;
}

/* Starts argv (parity-init, or runc) with its stdout and stderr going to the host's pipe. */
static int start_host(struct host *h, char **argv, char **envp, struct perr *err)
{
    posix_spawn_file_actions_t fa;
    int fds[2], rc;

    if (pipe2(fds, O_CLOEXEC) < 0)
        return perr_sys(err, "pipe");
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
    rc = posix_spawnp(&h->pid, argv[0], &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        errno = rc;
        return perr_sys(err, "starting %s", argv[0]);
    }
    h->out = fds[0];
    h->line = malloc(LINE_MAX_BYTES);
    return h->line ? 0 : perr_set(err, PERR_NOMEM, "out of memory");
}

/* Reads what a host wrote; prints whole lines (and a line that fills the buffer). */
static void drain(const struct cli *c, struct host *h)
{
    char data[8192];
    ssize_t n = read(h->out, data, sizeof(data));

    if (n <= 0) {
        if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            if (h->used)
                follow_log(c, h->name, h->line, h->used);
            h->used = 0;
            close(h->out);
            h->out = -1;
        }
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        h->line[h->used++] = data[i];
        if (data[i] == '\n' || h->used == LINE_MAX_BYTES) {
            follow_log(c, h->name, h->line, h->used);
            h->used = 0;
        }
    }
}

/* --no-container: parity-init itself, on this machine, with the host's own ML root. */
static int start_direct(struct host *h,
                        const struct jobspec *js,
                        const char *init,
                        const char *host_root,
                        const char *spec_json,
                        long index,
                        struct perr *err)
{
    char *argv[8 + 128];
    struct envlist env;
    int n = 0, rc;

    if (host_env(&env, spec_json, index, err) < 0)
        return -1;
    argv[n++] = (char *)init;
    argv[n++] = "--platform";
    argv[n++] = "local";
    argv[n++] = "--root";
    argv[n++] = (char *)host_root;
    argv[n++] = "--";
    for (size_t i = 0; i < js->command->count && n < (int)(sizeof(argv) / sizeof(argv[0])) - 1; i++)
        argv[n++] = js->command->items[i]->text;
    argv[n] = NULL;
    rc = start_host(h, argv, envlist_array(&env), err);
    envlist_cleanup(&env);
    return rc;
}

/* The state folder of this job's runc containers, and their names. */
static void runc_names(
    const char *root, const char *job, long index, char *state, size_t slen, char *id, size_t ilen)
{
    snprintf(state, slen, "%s.bundles/runc", root);
    snprintf(id, ilen, "parity-%s-algo-%ld", job, index + 1);
}

/* A container: the image unpacked into a bundle beside the ML root, run by runc. */
static int start_container(struct host *h,
                           const struct cli *c,
                           const struct jobspec *js,
                           const char *root,
                           const char *host_root,
                           const char *spec_json,
                           long index,
                           struct perr *err)
{
    struct local_bundle_inputs in = {js, &c->env, spec_json, host_root, index};
    char bundle[1200], state[1200], id[128];

    snprintf(bundle, sizeof(bundle), "%s.bundles/algo-%ld", root, index + 1);
    runc_names(root, js->name, index, state, sizeof(state), id, sizeof(id));
    if (local_bundle_prepare(&in, bundle, err) < 0)
        return -1;
    char *argv[] = {"runc", "--root", state, "run", "--bundle", bundle, id, NULL};
    return start_host(h, argv, environ, err);
}

/* runc keeps a stopped container's state: deleted once the job is over. */
static void delete_containers(const char *root, const char *job, long count)
{
    for (long i = 0; i < count; i++) {
        char state[1200], id[128];
        pid_t pid;
        int status;
        runc_names(root, job, i, state, sizeof(state), id, sizeof(id));
        char *argv[] = {"runc", "--root", state, "delete", "-f", id, NULL};
        if (posix_spawnp(&pid, "runc", NULL, NULL, argv, environ) == 0)
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
    }
}

int local_run(struct cli *c, const struct jobspec *js)
{
    struct host hosts[MAX_LOCAL_HOSTS];
    char init[PATH_MAX], cwd[768], root[1024], host_root[1100];
    struct perr err = {0};
    struct buf spec_json;
    long count = js->instance_count;
    int code = 0, rc = 0;
    bool forwarded = false;

    if (c->no_container && !js->command) {
        perr_set(&err, PERR_USAGE,
                 "--no-container needs the spec's \"command\" (no image to take "
                 "one from)");
        return cli_fail(CLI_EXIT_USAGE, &err);
    }
    if (count > MAX_LOCAL_HOSTS) {
        perr_set(&err, PERR_LIMIT, "a local run takes at most %d hosts, not %ld", MAX_LOCAL_HOSTS,
                 count);
        return cli_fail(CLI_EXIT_USAGE, &err);
    }
    find_init(&c->env, init, sizeof(init));
    if (c->root)
        snprintf(root, sizeof(root), "%s", c->root);
    else
        snprintf(root, sizeof(root), "%s/parity-runs/%s", getcwd(cwd, sizeof(cwd)) ? cwd : ".",
                 js->name);
    buf_init(&spec_json, 2 * JOBSPEC_MAX_BYTES);
    if (jo_write(&spec_json, js->doc, false, &err) < 0 || fs_mkdirs(root, &err) < 0) {
        buf_cleanup(&spec_json);
        return cli_fail(CLI_EXIT_FAILED, &err);
    }
    struct jobstate st = {.target = CLI_TARGET_LOCAL};
    snprintf(st.root, sizeof(st.root), "%s", root);
    jobstate_save(&c->env, js->name, &st);
    follow_init();
    memset(hosts, 0, sizeof(hosts));
    for (long i = 0; i < count; i++) {
        hosts[i].out = -1;
        snprintf(hosts[i].name, sizeof(hosts[i].name), "algo-%ld", i + 1);
    }
    for (long i = 0; rc == 0 && i < count; i++) {
        /* one ML root per host, as SageMaker gives each instance its own /opt/ml */
        if (count > 1)
            snprintf(host_root, sizeof(host_root), "%s/algo-%ld", root, i + 1);
        else
            snprintf(host_root, sizeof(host_root), "%s", root);
        rc = fs_mkdirs(host_root, &err);
        if (rc == 0)
            rc = c->no_container
                     ? start_direct(&hosts[i], js, init, host_root, spec_json.data, i, &err)
                     : start_container(&hosts[i], c, js, root, host_root, spec_json.data, i, &err);
    }
    buf_cleanup(&spec_json);
    if (rc < 0)
        fprintf(stderr, "parity: %s\n", err.msg);
    if (rc == 0)
        follow_status(c, js->name, "Running", root);
    /* follow until every host has ended; Ctrl-C is passed on (the job is on this machine) */
    for (;;) {
        struct pollfd pfd[MAX_LOCAL_HOSTS];
        int n = 0, map[MAX_LOCAL_HOSTS];
        for (long i = 0; i < count; i++) {
            if (hosts[i].out >= 0) {
                pfd[n] = (struct pollfd){hosts[i].out, POLLIN, 0};
                map[n++] = (int)i;
            }
        }
        if (n == 0)
            break;
        if (follow_interrupted() && !forwarded) {
            for (long i = 0; i < count; i++)
                if (hosts[i].pid > 0)
                    kill(hosts[i].pid, SIGTERM);
            forwarded = true;
        }
        if (poll(pfd, (nfds_t)n, 1000) <= 0)
            continue;
        for (int k = 0; k < n; k++)
            if (pfd[k].revents)
                drain(c, &hosts[map[k]]);
    }
    for (long i = 0; i < count; i++) {
        struct host *h = &hosts[i];
        if (h->pid > 0) {
            while (waitpid(h->pid, &h->status, 0) < 0 && errno == EINTR)
                ;
            int hc = WIFEXITED(h->status) ? WEXITSTATUS(h->status) : 128 + WTERMSIG(h->status);
            if (hc && !code)
                code = hc;
        } else if (!code) {
            code = CLI_EXIT_FAILED;
        }
        free(h->line);
    }
    if (!c->no_container)
        delete_containers(root, js->name, count);
    follow_end(c, js->name, code ? "Failed" : "Completed", code, NULL);
    return code;
}
