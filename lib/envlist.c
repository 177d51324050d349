/* SPDX-License-Identifier: MIT */
/* The child's environment as a list that phases edit; becomes execve's envp at the end. */
#include "lib/envlist.h"

#include <stdlib.h>
#include <string.h>

/* The slot of NAME (n bytes, no NUL in them). An inline compare: this runs for every variable
 * set while deriving SM_*, and strncmp's call cost dominated boot's profile. */
static char **find(const struct envlist *l, const char *name, size_t n)
{
    for (size_t i = 0; i < l->count; i++) {
        const char *v = l->vars[i];
        size_t k = 0;
        while (k < n && v[k] == name[k]) /* stops at v's NUL too: name has none */
            k++;
        if (k == n && v[k] == '=')
            return &l->vars[i];
    }
    return NULL;
}

static int grow(struct envlist *l, struct perr *err)
{
    size_t cap;
    char **v;

    if (l->count + 2 <= l->cap)
        return 0;
    cap = l->cap ? l->cap * 2 : 64;
    v = realloc(l->vars, cap * sizeof(*v));
    if (!v)
        return perr_set(err, PERR_NOMEM, "out of memory building the environment");
    l->vars = v;
    l->cap = cap;
    return 0;
}

static int
put(struct envlist *l, const char *name, size_t name_len, const char *value, struct perr *err)
{
    size_t vlen = strlen(value);
    char *s = malloc(name_len + vlen + 2);
    char **slot;

    if (!s)
        return perr_set(err, PERR_NOMEM, "out of memory building the environment");
    memcpy(s, name, name_len);
    s[name_len] = '=';
    memcpy(s + name_len + 1, value, vlen + 1);
    slot = find(l, name, name_len);
    if (slot) {
        free(*slot);
        *slot = s;
        return 0;
    }
    if (grow(l, err) < 0) {
        free(s);
        return -1;
    }
    l->vars[l->count++] = s;
    l->vars[l->count] = NULL;
    return 0;
}

int envlist_init_from(struct envlist *l, char *const *environ_, struct perr *err)
{
    *l = (struct envlist){0};
    if (grow(l, err) < 0)
        return -1;
    l->vars[0] = NULL;
    for (size_t i = 0; environ_ && environ_[i]; i++) {
        const char *eq = strchr(environ_[i], '=');
        if (!eq || eq == environ_[i])
            continue; /* not NAME=VALUE: execve would pass it, but no program can read it */
        if (put(l, environ_[i], (size_t)(eq - environ_[i]), eq + 1, err) < 0) {
            envlist_cleanup(l);
            return -1;
        }
    }
    return 0;
}

void envlist_cleanup(struct envlist *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->vars[i]);
    free(l->vars);
    *l = (struct envlist){0};
}

int envlist_set(struct envlist *l, const char *name, const char *value, struct perr *err)
{
    return put(l, name, strlen(name), value, err);
}

int envlist_set_default(struct envlist *l, const char *name, const char *value, struct perr *err)
{
    if (find(l, name, strlen(name)))
        return 0;
    return put(l, name, strlen(name), value, err);
}

void envlist_unset(struct envlist *l, const char *name)
{
    char **slot = find(l, name, strlen(name));

    if (!slot)
        return;
    free(*slot);
    memmove(slot, slot + 1, (size_t)(&l->vars[l->count] - slot) * sizeof(*slot));
    l->count--;
}

const char *envlist_get(const struct envlist *l, const char *name)
{
    char **slot = find(l, name, strlen(name));

    return slot ? strchr(*slot, '=') + 1 : NULL;
}

char **envlist_array(struct envlist *l)
{
    return l->vars;
}
