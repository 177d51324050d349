/* SPDX-License-Identifier: MIT */
/* jdoc builders with ownership rules that make chains short, and a JSON writer. */
#include "shim/jsonout.h"

#include <stdio.h>
#include <string.h>

#include "lib/json.h"

struct jdoc *jo_object(struct perr *err)
{
    return jdoc_new(JDOC_OBJECT, err);
}

struct jdoc *jo_array(struct perr *err)
{
    return jdoc_new(JDOC_ARRAY, err);
}

int jo_put(struct jdoc *obj, const char *key, struct jdoc *v, struct perr *err)
{
    if (!v)
        return -1; /* the builder that made v failed and set err */
    return jdoc_put(obj, key, strlen(key), v, err);
}

int jo_put_str(struct jdoc *obj, const char *key, const char *value, struct perr *err)
{
    return jo_put(obj, key, jdoc_new_str(value, strlen(value), err), err);
}

int jo_put_int(struct jdoc *obj, const char *key, long long v, struct perr *err)
{
    char text[32];

    snprintf(text, sizeof(text), "%lld", v);
    return jo_put(obj, key, jdoc_new_number(text, err), err);
}

int jo_put_bool(struct jdoc *obj, const char *key, bool v, struct perr *err)
{
    return jo_put(obj, key, jdoc_new(v ? JDOC_TRUE : JDOC_FALSE, err), err);
}

int jo_push(struct jdoc *arr, struct jdoc *v, struct perr *err)
{
    if (!v)
        return -1;
    return jdoc_append(arr, v, err);
}

int jo_push_str(struct jdoc *arr, const char *value, struct perr *err)
{
    return jo_push(arr, jdoc_new_str(value, strlen(value), err), err);
}

struct jdoc *jo_copy(const struct jdoc *v, struct perr *err)
{
    return jdoc_clone(v, err);
}

static int write_string(struct buf *out, const char *s, size_t len, struct perr *err)
{
    char esc[1024];
    int rc = buf_append(out, "\"", 1, err);

    while (rc == 0 && len) {
        /* escape in pieces small enough that one escaped piece always fits */
        size_t piece = len < 150 ? len : 150;
        size_t n = json_escape(esc, sizeof(esc), s, piece);
        rc = buf_append(out, esc, n, err);
        s += piece;
        len -= piece;
    }
    return rc == 0 ? buf_append(out, "\"", 1, err) : rc;
}

static int indent(struct buf *out, bool pretty, int depth, struct perr *err)
{
    if (!pretty)
        return 0;
    int rc = buf_append(out, "\n", 1, err);
    for (int i = 0; rc == 0 && i < depth; i++)
        rc = buf_append(out, "  ", 2, err);
    return rc;
}

static int
write_value(struct buf *out, const struct jdoc *v, bool pretty, int depth, struct perr *err)
{
    int rc = 0;

    switch (v->type) {
    case JDOC_NULL:
        return buf_append_str(out, "null", err);
    case JDOC_FALSE:
        return buf_append_str(out, "false", err);
    case JDOC_TRUE:
        return buf_append_str(out, "true", err);
    case JDOC_NUMBER:
        return buf_append(out, v->text, v->text_len, err);
    case JDOC_STRING:
        return write_string(out, v->text, v->text_len, err);
    case JDOC_ARRAY:
    case JDOC_OBJECT:
        break;
    }
    bool obj = v->type == JDOC_OBJECT;
    rc = buf_append(out, obj ? "{" : "[", 1, err);
    for (size_t i = 0; rc == 0 && i < v->count; i++) {
        if (i)
            rc = buf_append(out, pretty ? "," : ", ", pretty ? 1 : 2, err);
        if (rc == 0)
            rc = indent(out, pretty, depth + 1, err);
        if (rc == 0 && obj) {
            rc = write_string(out, v->keys[i], v->key_lens[i], err);
            if (rc == 0)
                rc = buf_append(out, ": ", 2, err);
        }
        if (rc == 0)
            rc = write_value(out, v->items[i], pretty, depth + 1, err);
    }
    if (rc == 0 && v->count)
        rc = indent(out, pretty, depth, err);
    return rc == 0 ? buf_append(out, obj ? "}" : "]", 1, err) : rc;
}

int jo_write(struct buf *out, const struct jdoc *v, bool pretty, struct perr *err)
{
    return write_value(out, v, pretty, 0, err);
}
