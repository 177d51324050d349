/* SPDX-License-Identifier: MIT */
/* An environment under construction: NAME=VALUE strings, one per name, in insertion order. */
#ifndef PARITY_ENVLIST_H
#define PARITY_ENVLIST_H

#include <stddef.h>

#include "lib/err.h"

struct envlist {
    char **vars; /* "NAME=VALUE", NULL-terminated when count > 0 */
    size_t count;
    size_t cap;
};

/* Copies a NULL-terminated environ into a fresh list (later duplicates replace earlier ones). */
PARITY_MUST_CHECK int envlist_init_from(struct envlist *l, char *const *environ_, struct perr *err);

/* Frees every string; safe to call twice and on a zeroed struct. */
void envlist_cleanup(struct envlist *l);

/* Sets NAME to value (a value may be empty), replacing an existing entry in place. */
PARITY_MUST_CHECK int
envlist_set(struct envlist *l, const char *name, const char *value, struct perr *err);

/* Sets NAME only when it is not already present. */
PARITY_MUST_CHECK int
envlist_set_default(struct envlist *l, const char *name, const char *value, struct perr *err);

/* Removes NAME if present. */
void envlist_unset(struct envlist *l, const char *name);

/* The value of NAME, or NULL. */
const char *envlist_get(const struct envlist *l, const char *name);

/* The NULL-terminated array for execve (valid until the next change). */
char **envlist_array(struct envlist *l);

#endif
