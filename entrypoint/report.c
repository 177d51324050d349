/* SPDX-License-Identifier: MIT */
/* Failure reporting in the toolkit's shape (contract/sagemaker.md §2.1 step 6). */
#include "entrypoint/report.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "entrypoint/signals.h"
#include "lib/fsutil.h"
#include "lib/log.h"

/* Kubernetes keeps at most 4096 bytes of a termination message. */
#define TERMLOG_MAX_BYTES 4096

void report_tail_add(struct report_tail *t, const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        t->ring[(t->start + t->len) % REPORT_TAIL_BYTES] = data[i];
        if (t->len < REPORT_TAIL_BYTES)
            t->len++;
        else
            t->start = (t->start + 1) % REPORT_TAIL_BYTES;
    }
}

void report_tail_lines(const struct report_tail *t, size_t max_lines, char *out, size_t out_len)
{
    size_t len = t->len, from, lines = 0, n = 0;

    /* Ignore trailing newlines, then walk back over max_lines line breaks. */
    while (len > 0 && t->ring[(t->start + len - 1) % REPORT_TAIL_BYTES] == '\n')
        len--;
    from = len;
    while (from > 0) {
        if (t->ring[(t->start + from - 1) % REPORT_TAIL_BYTES] == '\n' && ++lines == max_lines)
            break;
        from--;
    }
    if (len - from > out_len - 1)
        from = len - (out_len - 1);
    for (size_t i = from; i < len; i++)
        out[n++] = t->ring[(t->start + i) % REPORT_TAIL_BYTES];
    out[n] = '\0';
}

void report_targets_init(struct report_targets *r,
                         const char *root,
                         const struct envlist *env,
                         bool job_owned_root)
{
    const char *termlog = envlist_get(env, "PARITY_TERMINATION_LOG");

    snprintf(r->failure_path, sizeof(r->failure_path), "%s/output/failure", root);
    r->create_output_dir = job_owned_root;
    if (termlog && *termlog)
        snprintf(r->termlog_path, sizeof(r->termlog_path), "%s", termlog);
    else if (access("/dev/termination-log", W_OK) == 0) /* the kubelet creates it in every pod */
        snprintf(r->termlog_path, sizeof(r->termlog_path), "/dev/termination-log");
    else
        r->termlog_path[0] = '\0';
}

static void write_text(const char *path, const char *text, size_t len, int flags)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);

    if (fd < 0) {
        if (errno != EEXIST)
            log_warn("report", "cannot write the failure reason path=%s errno=%d", path, errno);
        return;
    }
    if (write(fd, text, len) != (ssize_t)len)
        log_warn("report", "short write of the failure reason path=%s", path);
    close(fd);
}

void report_write(const struct report_targets *r, const char *text)
{
    char dir[1100];
    size_t len = strlen(text);
    struct perr ignored = {0};
    char *slash;

    snprintf(dir, sizeof(dir), "%s", r->failure_path);
    slash = strrchr(dir, '/');
    if (!slash)
        return; /* no targets yet: the failure came before the options were read */
    *slash = '\0';
    /* a fresh --root, or an image without /opt/ml, still gets its failure file */
    if (r->create_output_dir)
        (void)!fs_mkdirs(dir, &ignored);
    /* O_EXCL: the user's own failure file wins, as with the toolkit */
    if (access(dir, W_OK) == 0)
        write_text(r->failure_path, text, len, O_EXCL);
    if (r->termlog_path[0])
        write_text(r->termlog_path, text, len > TERMLOG_MAX_BYTES ? TERMLOG_MAX_BYTES : len,
                   O_TRUNC);
}

void report_format_child(char *out,
                         size_t out_len,
                         int wait_status,
                         const char *oom_verdict,
                         const struct report_tail *tail,
                         char *const *argv)
{
    char lines[1024], extra[160] = "", cmd[600];
    size_t n = 0;

    report_tail_lines(tail, 10, lines, sizeof(lines));
    if (WIFSIGNALED(wait_status)) {
        char name[32];
        int sig = WTERMSIG(wait_status);
        snprintf(extra, sizeof(extra), "ExtraInfo \"%sProcess killed by %s (signal %d)\"\n",
                 sig == SIGKILL && strcmp(oom_verdict, "yes") == 0 ? "OutOfMemory: " : "",
                 signals_name(sig, name, sizeof(name)), sig);
    }
    cmd[0] = '\0';
    for (size_t i = 0; argv && argv[i] && n < sizeof(cmd) - 1; i++)
        n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%s%s", i ? " " : "", argv[i]);
    /* No final newline: the toolkit strips its message. */
    snprintf(out, out_len,
             "ExecuteUserScriptError:\nExitCode %d\nErrorMessage \"%s\"\n%sCommand \"%s\"",
             WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status), lines,
             extra, cmd);
}
