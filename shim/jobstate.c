/* SPDX-License-Identifier: MIT */
/* Launch records under the XDG state folder. */
#include "shim/jobstate.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/jdoc.h"
#include "lib/jobspec.h"
#include "shim/jsonout.h"

static int folder(const struct envlist *env, char *out, size_t len, struct perr *err)
{
    const char *state = envlist_get(env, "XDG_STATE_HOME"), *home = envlist_get(env, "HOME");

    if (state && *state)
        snprintf(out, len, "%s/parity/jobs", state);
    else if (home && *home)
        snprintf(out, len, "%s/.local/state/parity/jobs", home);
    else
        return perr_set(err, PERR_USAGE, "neither XDG_STATE_HOME nor HOME is set");
    return 0;
}

void jobstate_save(const struct envlist *env, const char *name, const struct jobstate *s)
{
    char dir[1024], path[1200], tmp[1300];
    struct perr err = {0};
    struct jdoc *d = jo_object(&err);
    struct buf text;
    int rc = d ? 0 : -1;

    buf_init(&text, 64u * 1024);
    if (rc == 0 && folder(env, dir, sizeof(dir), &err) == 0 && fs_mkdirs(dir, &err) == 0) {
        rc = jo_put_str(d, "target", cli_target_name(s->target), &err);
        if (rc == 0 && s->region[0])
            rc = jo_put_str(d, "region", s->region, &err);
        if (rc == 0 && s->namespace_[0])
            rc = jo_put_str(d, "namespace", s->namespace_, &err);
        if (rc == 0 && s->context[0])
            rc = jo_put_str(d, "context", s->context, &err);
        if (rc == 0 && s->root[0])
            rc = jo_put_str(d, "root", s->root, &err);
        if (rc == 0)
            rc = jo_write(&text, d, false, &err);
        snprintf(path, sizeof(path), "%s/%s.json", dir, name);
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        int fd = rc == 0 ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
        if (fd < 0 || write(fd, text.data, text.len) != (ssize_t)text.len || close(fd) < 0 ||
            rename(tmp, path) < 0) {
            rc = perr_sys(&err, "writing %s", path);
            unlink(tmp);
        }
    } else {
        rc = -1;
    }
    if (rc < 0)
        fprintf(stderr, "parity: warning: %s; status, logs and stop will need --target\n", err.msg);
    jdoc_free(d);
    buf_cleanup(&text);
}

int jobstate_load(const struct envlist *env, const char *name, struct jobstate *s, struct perr *err)
{
    char dir[1024], path[1200];
    const char *v;
    struct jdoc *d;
    struct buf text;

    memset(s, 0, sizeof(*s));
    if (!jobspec_valid_name(name))
        return perr_set(err, PERR_USAGE, "'%s' is not a job name", name);
    if (folder(env, dir, sizeof(dir), err) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/%s.json", dir, name);
    buf_init(&text, 64u * 1024);
    if (access(path, F_OK) != 0) {
        buf_cleanup(&text);
        return perr_set(err, PERR_USAGE,
                        "this machine did not launch a job named %s: say where it runs with "
                        "--target",
                        name);
    }
    if (buf_read_file(&text, path, err) < 0) {
        buf_cleanup(&text);
        return -1;
    }
    d = jdoc_parse(text.data ? text.data : "", text.len, NULL, err);
    buf_cleanup(&text);
    if (!d)
        return perr_wrap(err, "%s", path);
    v = jdoc_get_str(d, "target");
    s->target = v && !strcmp(v, "sagemaker") ? CLI_TARGET_SAGEMAKER
                : v && !strcmp(v, "eks")     ? CLI_TARGET_EKS
                : v && !strcmp(v, "local")   ? CLI_TARGET_LOCAL
                                             : CLI_TARGET_NONE;
    snprintf(s->region, sizeof(s->region), "%s", (v = jdoc_get_str(d, "region")) ? v : "");
    snprintf(s->namespace_, sizeof(s->namespace_), "%s",
             (v = jdoc_get_str(d, "namespace")) ? v : "");
    snprintf(s->context, sizeof(s->context), "%s", (v = jdoc_get_str(d, "context")) ? v : "");
    snprintf(s->root, sizeof(s->root), "%s", (v = jdoc_get_str(d, "root")) ? v : "");
    jdoc_free(d);
    if (s->target == CLI_TARGET_NONE)
        return perr_set(err, PERR_PARSE, "%s names no target", path);
    return 0;
}

/* The target and where the job lives: from the command line, else this machine's record. */
int jobstate_locate(struct cli *c, struct jobstate *st)
{
    struct perr err = {0};

    if (c->target != CLI_TARGET_NONE) {
        memset(st, 0, sizeof(*st));
        st->target = c->target;
        if (jobstate_load(&c->env, c->arg, st, &err) == 0 && st->target != c->target)
            memset(st, 0, sizeof(*st)); /* a record for another target says nothing here */
        st->target = c->target;
        return 0;
    }
    if (jobstate_load(&c->env, c->arg, st, &err) < 0)
        return cli_fail(CLI_EXIT_USAGE, &err);
    return 0;
}

int jobstate_not_yet(const struct jobstate *st)
{
    fprintf(stderr, "parity: --target %s is not in this build yet\n", cli_target_name(st->target));
    return CLI_EXIT_USAGE;
}
