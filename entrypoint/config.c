/* SPDX-License-Identifier: MIT */
/* Image config: a small JSON file baked into the image, with environment twins that win. */
#include "entrypoint/config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"

/* Fields other parity-init features read (hardening); accepted here so images can carry them. */
static const char *const known_fields[] = {
    "train_command", "serve_command", "process_command", "user",    "capabilities",
    "no_new_privs",  "seccomp",       "umask",           "rlimits",
};

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
    struct buf b;
    int rc;

    buf_init(&b, CONFIG_IMAGE_MAX_BYTES);
    rc = buf_read_file(&b, path, err);
    if (rc < 0 && !must_exist && err->sys_errno == ENOENT) {
        buf_cleanup(&b);
        return 0;
    }
    if (rc == 0) {
        c->doc = jdoc_parse(b.data, b.len, NULL, err);
        rc = c->doc ? 0 : perr_wrap(err, "reading image config %s", path);
    }
    buf_cleanup(&b);
    if (rc < 0)
        return -1;
    snprintf(c->path, sizeof(c->path), "%s", path);
    if (c->doc->type != JDOC_OBJECT)
        return perr_set(err, PERR_PARSE, "image config %s must be a JSON object", path);
    for (size_t i = 0; i < c->doc->count; i++) {
        bool known = false;
        for (size_t k = 0; k < sizeof(known_fields) / sizeof(known_fields[0]); k++)
            known = known || strcmp(c->doc->keys[i], known_fields[k]) == 0;
        if (!known)
            log_warn("config", "ignoring unknown field in image config file=%s field=\"%s\"", path,
                     c->doc->keys[i]);
    }
    return 0;
}

static const char *const role_fields[] = {"train_command", "serve_command", "process_command"};
static const char *const role_vars[] = {"PARITY_TRAIN_COMMAND", "PARITY_SERVE_COMMAND",
                                        "PARITY_PROCESS_COMMAND"};

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
        snprintf(where, sizeof(where), "%s: %s", c->path, role_fields[role]);
        c->command_source[role] = "image config";
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

int config_load_image(struct image_config *c, const struct envlist *env, struct perr *err)
{
    const char *named = envlist_get(env, "PARITY_IMAGE_CONFIG");
    int rc;

    *c = (struct image_config){0};
    rc = read_file(c, named && *named ? named : CONFIG_IMAGE_PATH, named && *named, err);
    for (size_t role = 0; rc == 0 && role < 3; role++)
        rc = load_command(c, env, role, err);
    return rc;
}

void config_cleanup(struct image_config *c)
{
    jdoc_free(c->doc);
    for (size_t i = 0; i < 3; i++)
        jdoc_free(c->commands[i]);
    *c = (struct image_config){0};
}
