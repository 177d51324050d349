/* SPDX-License-Identifier: MIT */
/* Image config: a small JSON file baked into the image, with environment twins that win. */
#include "entrypoint/config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"

const char *const config_fields[CONFIG_FIELD_COUNT] = {
    "train_command", "serve_command", "process_command", "user",    "capabilities",
    "no_new_privs",  "seccomp",       "umask",           "rlimits",
};
const char *const config_field_vars[CONFIG_FIELD_COUNT] = {
    "PARITY_TRAIN_COMMAND", "PARITY_SERVE_COMMAND", "PARITY_PROCESS_COMMAND",
    "PARITY_USER",          "PARITY_CAPABILITIES",  "PARITY_NO_NEW_PRIVS",
    "PARITY_SECCOMP",       "PARITY_UMASK",         NULL,
};

static int field_index(const char *name)
{
    for (int i = 0; i < CONFIG_FIELD_COUNT; i++) {
        if (strcmp(name, config_fields[i]) == 0)
            return i;
    }
    return -1;
}

/* Parses one layer: a JSON object; unknown fields are logged and ignored. */
static struct jdoc *parse_layer(const char *text, size_t len, const char *what, struct perr *err)
{
    struct jdoc *d = jdoc_parse(text, len, NULL, err);

    if (!d) {
        perr_wrap(err, "reading %s", what);
        return NULL;
    }
    if (d->type != JDOC_OBJECT) {
        jdoc_free(d);
        perr_set(err, PERR_PARSE, "%s must be a JSON object", what);
        return NULL;
    }
    for (size_t i = 0; i < d->count; i++) {
        if (field_index(d->keys[i]) < 0)
            log_warn("config", "ignoring unknown field in %s field=\"%s\"", what, d->keys[i]);
    }
    return d;
}

static bool is_command(const struct jdoc *v)
{
    if (!v || v->type != JDOC_ARRAY || v->count == 0)
        return false;
    for (size_t i = 0; i < v->count; i++) {
        if (v->items[i]->type != JDOC_STRING ||
            memchr(v->items[i]->text, '\0', v->items[i]->text_len))
            return false;
    }
    return true;
}

static int read_file(struct image_config *c, const char *path, bool must_exist, struct perr *err)
{
    char what[1100];
    struct buf b;
    int rc;

    buf_init(&b, CONFIG_IMAGE_MAX_BYTES);
    rc = buf_read_file(&b, path, err);
    if (rc < 0 && !must_exist && err->sys_errno == ENOENT) {
        buf_cleanup(&b);
        return 0;
    }
    snprintf(what, sizeof(what), "image config %s", path);
    if (rc == 0) {
        c->doc = parse_layer(b.data, b.len, what, err);
        rc = c->doc ? 0 : -1;
    }
    buf_cleanup(&b);
    if (rc < 0)
        return -1;
    snprintf(c->path, sizeof(c->path), "%s", path);
    for (size_t i = 0; i < c->doc->count; i++) {
        int f = field_index(c->doc->keys[i]);
        if (f >= 0)
            c->field_layer[f] = CONFIG_LAYER_IMAGE;
    }
    return 0;
}

/* Lays the remote document over the image config: each field it has replaces the image's. */
static int apply_remote(struct image_config *c, const struct config_remote *r, struct perr *err)
{
    char what[1100];
    struct jdoc *d;
    int rc = 0;

    snprintf(what, sizeof(what), "remote config %s (PARITY_CONFIG_URI)", r->uri);
    d = parse_layer(r->text, r->len, what, err);
    if (!d)
        return -1;
    if (!c->doc && !(c->doc = jdoc_new(JDOC_OBJECT, err)))
        rc = -1;
    for (size_t i = 0; rc == 0 && i < d->count; i++) {
        int f = field_index(d->keys[i]);
        struct jdoc *v;
        if (f < 0)
            continue;
        v = jdoc_clone(d->items[i], err);
        rc = v ? jdoc_put(c->doc, d->keys[i], d->key_lens[i], v, err) : -1;
        c->field_layer[f] = CONFIG_LAYER_REMOTE;
    }
    jdoc_free(d);
    snprintf(c->remote_uri, sizeof(c->remote_uri), "%s", r->uri);
    return rc;
}

static const char *layer_label(enum config_layer l)
{
    return l == CONFIG_LAYER_REMOTE ? "remote config" : "image config";
}

/* The file or URI of a layer. */
static const char *layer_where(const struct image_config *c, enum config_layer l)
{
    return l == CONFIG_LAYER_REMOTE ? c->remote_uri : c->path;
}

/* The first three fields are the roles' commands, in enum config_role order. */
static const char *const *const role_fields = config_fields;
static const char *const *const role_vars = config_field_vars;

/* The variable wins over the file: the image sets a default, the deployment may override it. */
static int
load_command(struct image_config *c, const struct envlist *env, size_t role, struct perr *err)
{
    const char *v = envlist_get(env, role_vars[role]);
    const struct jdoc *from_file = c->doc ? jdoc_get(c->doc, role_fields[role]) : NULL;
    struct jdoc *cmd;
    char where[1100];

    if (v && *v) {
        cmd = jdoc_parse(v, strlen(v), NULL, err);
        if (!cmd)
            return perr_wrap(err, "%s is not JSON", role_vars[role]);
        snprintf(where, sizeof(where), "%s", role_vars[role]);
        c->command_source[role] = role_vars[role];
    } else if (from_file) {
        cmd = jdoc_clone(from_file, err);
        if (!cmd)
            return -1;
        snprintf(where, sizeof(where), "%s %s: %s", layer_label(c->field_layer[role]),
                 layer_where(c, c->field_layer[role]), role_fields[role]);
        c->command_source[role] = layer_label(c->field_layer[role]);
    } else {
        return 0;
    }
    c->commands[role] = cmd;
    if (!is_command(cmd))
        return perr_set(
            err, PERR_PARSE,
            "%s must be a non-empty JSON array of strings, like [\"python3\", \"train.py\"]",
            where);
    return 0;
}

int config_load_image(struct image_config *c,
                      const struct envlist *env,
                      const struct config_remote *remote,
                      struct perr *err)
{
    const char *named = envlist_get(env, "PARITY_IMAGE_CONFIG");
    int rc;

    *c = (struct image_config){0};
    rc = read_file(c, named && *named ? named : CONFIG_IMAGE_PATH, named && *named, err);
    if (rc == 0 && remote)
        rc = apply_remote(c, remote, err);
    for (size_t role = 0; rc == 0 && role < 3; role++)
        rc = load_command(c, env, role, err);
    return rc;
}

const char *config_field_source(
    const struct image_config *c, const struct envlist *env, size_t i, char *buf, size_t buf_len)
{
    const char *twin = config_field_vars[i] ? envlist_get(env, config_field_vars[i]) : NULL;

    if (twin && *twin)
        return config_field_vars[i];
    if (c->field_layer[i] == CONFIG_LAYER_NONE)
        return NULL;
    snprintf(buf, buf_len, "%s %s", layer_label(c->field_layer[i]),
             layer_where(c, c->field_layer[i]));
    return buf;
}

void config_cleanup(struct image_config *c)
{
    jdoc_free(c->doc);
    for (size_t i = 0; i < 3; i++)
        jdoc_free(c->commands[i]);
    *c = (struct image_config){0};
}
