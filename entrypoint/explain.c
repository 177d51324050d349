/* SPDX-License-Identifier: MIT */
/* The --explain document: platform and evidence, role, command, job, environment, files. */
#include "entrypoint/explain.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/capability.h>

#include "lib/buf.h"
#include "lib/pyfmt.h"

static const char *const secret_markers[] = {"SECRET",     "TOKEN",      "PASSWORD",
                                             "PASSWD",     "CREDENTIAL", "PRIVATE",
                                             "ACCESS_KEY", "API_KEY",    "SESSION"};

bool explain_is_secret_name(const char *name)
{
    char upper[256];
    size_t n = 0, len = strlen(name);

    /* Where a secret lives is not a secret: AWS_CONTAINER_CREDENTIALS_FULL_URI and the like. */
    if (len > 4 && (strcmp(name + len - 4, "_URI") == 0 || strcmp(name + len - 4, "_URL") == 0))
        return false;
    for (; name[n] && n < sizeof(upper) - 1; n++)
        upper[n] = (char)toupper((unsigned char)name[n]);
    upper[n] = '\0';
    for (size_t i = 0; i < sizeof(secret_markers) / sizeof(secret_markers[0]); i++) {
        if (strstr(upper, secret_markers[i]))
            return true;
    }
    return false;
}

static int put_str(struct jdoc *obj, const char *key, const char *value, struct perr *err)
{
    struct jdoc *v = value ? jdoc_new_str(value, strlen(value), err) : jdoc_new(JDOC_NULL, err);

    return v ? jdoc_put(obj, key, strlen(key), v, err) : -1;
}

static struct jdoc *string_list(char *const *items, struct perr *err)
{
    struct jdoc *a = jdoc_new(JDOC_ARRAY, err);

    for (size_t i = 0; a && items && items[i]; i++) {
        if (jdoc_append(a, jdoc_new_str(items[i], strlen(items[i]), err), err) < 0) {
            jdoc_free(a);
            return NULL;
        }
    }
    return a;
}

/* The inline job config with the values of its secret-looking environment entries redacted. */
static struct jdoc *redacted_job_config(const char *text, struct perr *err)
{
    struct jdoc *spec = jdoc_parse(text, strlen(text), NULL, err);
    struct jdoc *env = spec ? jdoc_get(spec, "environment") : NULL;
    struct buf b;
    struct jdoc *out;

    if (!spec)
        return NULL;
    for (size_t i = 0; env && env->type == JDOC_OBJECT && i < env->count; i++) {
        if (!explain_is_secret_name(env->keys[i]))
            continue;
        jdoc_free(env->items[i]);
        env->items[i] = jdoc_new_str("<redacted>", 10, err);
        if (!env->items[i]) {
            jdoc_free(spec);
            return NULL;
        }
    }
    buf_init(&b, 1u << 20);
    out = pyfmt_json_default(&b, spec, err) == 0 ? jdoc_new_str(b.data, b.len, err) : NULL;
    buf_cleanup(&b);
    jdoc_free(spec);
    return out;
}

static struct jdoc *environment(const struct envlist *env, struct perr *err)
{
    struct jdoc *o = jdoc_new(JDOC_OBJECT, err);

    for (size_t i = 0; o && i < env->count; i++) {
        const char *eq = strchr(env->vars[i], '=');
        size_t name_len = (size_t)(eq - env->vars[i]);
        char name[1024];
        struct jdoc *v;

        snprintf(name, sizeof(name), "%.*s", (int)name_len, env->vars[i]);
        if (explain_is_secret_name(name))
            v = jdoc_new_str("<redacted>", 10, err);
        else if (strcmp(name, "PARITY_JOB_CONFIG") == 0)
            v = redacted_job_config(eq + 1, err);
        else
            v = jdoc_new_str(eq + 1, strlen(eq + 1), err);
        if (!v || jdoc_put(o, env->vars[i], name_len, v, err) < 0) {
            jdoc_free(o);
            return NULL;
        }
    }
    return o;
}

static struct jdoc *job_summary(const struct job *j, struct perr *err)
{
    struct jdoc *o = jdoc_new(JDOC_OBJECT, err), *v;
    int rc = o ? 0 : -1;

    if (rc == 0)
        rc = put_str(o, "current_host", job_current_host(j), err);
    v = rc == 0 ? jdoc_clone(j->resourceconfig, err) : NULL;
    rc = v ? jdoc_put(o, "resourceconfig", 14, v, err) : -1;
    v = rc == 0 ? jdoc_clone(j->hyperparameters, err) : NULL;
    rc = v ? jdoc_put(o, "hyperparameters", 15, v, err) : -1;
    v = rc == 0 ? jdoc_clone(j->inputdataconfig, err) : NULL;
    rc = v ? jdoc_put(o, "inputdataconfig", 15, v, err) : -1;
    if (rc < 0) {
        jdoc_free(o);
        return NULL;
    }
    return o;
}

static struct jdoc *files(const char *lines, struct perr *err)
{
    struct jdoc *a = jdoc_new(JDOC_ARRAY, err);

    for (const char *p = lines; a && p && *p;) {
        size_t n = strcspn(p, "\n");
        if (jdoc_append(a, jdoc_new_str(p, n, err), err) < 0)
            return NULL;
        p += n + (p[n] == '\n');
    }
    return a;
}

static int put_bool(struct jdoc *obj, const char *key, bool v, struct perr *err)
{
    struct jdoc *d = jdoc_new(v ? JDOC_TRUE : JDOC_FALSE, err);

    return d ? jdoc_put(obj, key, strlen(key), d, err) : -1;
}

static int put_long(struct jdoc *obj, const char *key, long v, struct perr *err)
{
    char num[32];
    struct jdoc *d;

    snprintf(num, sizeof(num), "%ld", v);
    d = jdoc_new_number(num, err);
    return d ? jdoc_put(obj, key, strlen(key), d, err) : -1;
}

/* What the child will be allowed: user, capabilities by name, no_new_privs, seccomp, umask. */
static struct jdoc *hardening(const struct harden_plan *h, struct perr *err)
{
    struct jdoc *o = jdoc_new(JDOC_OBJECT, err), *caps = NULL;
    int rc = o ? put_bool(o, "enabled", h->enabled, err) : -1;

    if (rc == 0 && h->enabled && h->set_user) {
        rc = put_str(o, "user", h->user.name[0] ? h->user.name : NULL, err);
        if (rc == 0)
            rc = put_long(o, "uid", (long)h->user.uid, err);
        if (rc == 0)
            rc = put_long(o, "gid", (long)h->user.gid, err);
    }
    if (rc == 0 && h->enabled) {
        caps = jdoc_new(JDOC_ARRAY, err);
        for (int cap = 0; caps && rc == 0 && cap < 64; cap++) {
            char *name = (h->keep_caps & (1ULL << cap)) ? cap_to_name((cap_value_t)cap) : NULL;
            if (name)
                rc = jdoc_append(caps, jdoc_new_str(name, strlen(name), err), err);
            cap_free(name);
        }
        rc = rc == 0 && caps ? jdoc_put(o, "capabilities", 12, caps, err) : -1;
        if (rc == 0)
            rc = put_bool(o, "no_new_privs", h->no_new_privs, err);
        if (rc == 0)
            rc = put_str(o, "seccomp", h->seccomp_source, err);
        if (rc == 0 && h->set_umask)
            rc = put_long(o, "umask", (long)h->umask, err);
        if (rc == 0)
            rc = put_long(o, "rlimits", (long)h->rlimit_count, err);
    }
    if (rc < 0) {
        jdoc_free(o);
        return NULL;
    }
    return o;
}

/* {field: source} for every runtime setting that is set: an environment twin, the remote
 * config or the image config. */
static struct jdoc *
config_sources(const struct image_config *c, const struct envlist *env, struct perr *err)
{
    struct jdoc *o = jdoc_new(JDOC_OBJECT, err);
    int rc = o ? 0 : -1;

    for (size_t i = 0; rc == 0 && i < CONFIG_FIELD_COUNT; i++) {
        char buf[1200];
        const char *src = config_field_source(c, env, i, buf, sizeof(buf));
        if (src)
            rc = put_str(o, config_fields[i], src, err);
    }
    if (rc < 0) {
        jdoc_free(o);
        return NULL;
    }
    return o;
}

int explain_print(const struct explain_input *in, struct perr *err)
{
    struct jdoc *doc = jdoc_new(JDOC_OBJECT, err), *v;
    struct buf out;
    int rc = doc ? 0 : -1;

    if (rc == 0)
        rc = put_str(doc, "platform", detect_platform_name(in->det->platform), err);
    if (rc == 0)
        rc = put_str(doc, "evidence", in->det->evidence, err);
    if (rc == 0)
        rc = put_str(doc, "role", command_role_name(in->role), err);
    if (rc == 0 && (v = string_list(in->cmd->argv, err)))
        rc = jdoc_put(doc, "command", 7, v, err);
    else if (rc == 0)
        rc = -1;
    if (rc == 0)
        rc = put_str(doc, "command_source", in->cmd->source, err);
    if (rc == 0)
        rc = put_str(doc, "cwd", in->cmd->cwd[0] ? in->cmd->cwd : NULL, err);
    if (rc == 0)
        rc = put_str(doc, "ml_root", in->root, err);
    if (rc == 0) {
        v = in->job ? job_summary(in->job, err) : jdoc_new(JDOC_NULL, err);
        rc = v ? jdoc_put(doc, "job", 3, v, err) : -1;
    }
    if (rc == 0) {
        v = environment(in->env, err);
        rc = v ? jdoc_put(doc, "environment", 11, v, err) : -1;
    }
    if (rc == 0 && in->harden) {
        v = hardening(in->harden, err);
        rc = v ? jdoc_put(doc, "hardening", 9, v, err) : -1;
    }
    if (rc == 0 && in->config) {
        v = config_sources(in->config, in->env, err);
        rc = v ? jdoc_put(doc, "config_sources", 14, v, err) : -1;
    }
    if (rc == 0) {
        v = files(in->files, err);
        rc = v ? jdoc_put(doc, "files", 5, v, err) : -1;
    }
    buf_init(&out, 64u * 1024 * 1024);
    if (rc == 0)
        rc = pyfmt_json_default(&out, doc, err);
    if (rc == 0)
        rc = buf_append_str(&out, "\n", err);
    for (size_t off = 0; rc == 0 && off < out.len;) {
        ssize_t n = write(STDOUT_FILENO, out.data + off, out.len - off);
        if (n <= 0)
            rc = perr_sys(err, "writing the explanation");
        else
            off += (size_t)n;
    }
    buf_cleanup(&out);
    jdoc_free(doc);
    return rc;
}
