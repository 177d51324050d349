/* SPDX-License-Identifier: MIT */
/* A JSON document tree that keeps what cJSON loses: number text, member order, embedded NULs. */
#ifndef PARITY_JDOC_H
#define PARITY_JDOC_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"

enum jdoc_type {
    JDOC_NULL = 0,
    JDOC_FALSE,
    JDOC_TRUE,
    JDOC_NUMBER, /* text as written; also NaN, Infinity, -Infinity when allowed */
    JDOC_STRING,
    JDOC_ARRAY,
    JDOC_OBJECT,
};

struct jdoc {
    enum jdoc_type type;
    char *text;      /* NUMBER: the literal; STRING: decoded UTF-8, NUL-terminated */
    size_t text_len; /* bytes in text (a string may hold NUL bytes) */
    char **keys;     /* OBJECT: member names, in document order (duplicates kept) */
    size_t *key_lens;
    struct jdoc **items; /* ARRAY elements or OBJECT values */
    size_t count;
};

struct jdoc_opts {
    size_t max_depth;     /* nesting bound; 0 means 64 */
    bool allow_nonfinite; /* accept NaN, Infinity, -Infinity as Python's json module does */
};

/*
 * Parses exactly one JSON value from text[0..len) (surrounding whitespace allowed). On error the
 * message gives line and column: "line 3 column 7: expected ',' or '}'". Returns NULL on error.
 */
PARITY_MUST_CHECK struct jdoc *
jdoc_parse(const char *text, size_t len, const struct jdoc_opts *o, struct perr *err);

/* Frees a tree; NULL is fine. */
void jdoc_free(struct jdoc *d);

/* jdoc_free for a document that holds secrets: every string, number and key is zeroed first. */
void jdoc_free_secret(struct jdoc *d);

/* The value of the last member named key (Python keeps the last duplicate), or NULL. */
struct jdoc *jdoc_get(const struct jdoc *obj, const char *key);

/* The string value of member key, or NULL if absent or not a string. */
const char *jdoc_get_str(const struct jdoc *obj, const char *key);

/* True when a NUMBER's text is an integer literal (no fraction, no exponent). */
bool jdoc_number_is_int(const struct jdoc *num);

/* Builders for documents made in code. Each returns NULL (with err set) on allocation failure. */
PARITY_MUST_CHECK struct jdoc *jdoc_new(enum jdoc_type type, struct perr *err);
PARITY_MUST_CHECK struct jdoc *jdoc_new_str(const char *s, size_t len, struct perr *err);

/* A NUMBER node with the given literal text (an integer or float literal). */
PARITY_MUST_CHECK struct jdoc *jdoc_new_number(const char *literal, struct perr *err);

/* A deep copy. */
PARITY_MUST_CHECK struct jdoc *jdoc_clone(const struct jdoc *d, struct perr *err);

/* Appends item to an ARRAY, taking ownership (freed on failure too). */
PARITY_MUST_CHECK int jdoc_append(struct jdoc *arr, struct jdoc *item, struct perr *err);

/* Sets key in an OBJECT like a Python dict: an existing member keeps its place and gets the
 * new value. Takes ownership of v (freed on failure too). */
PARITY_MUST_CHECK int
jdoc_put(struct jdoc *obj, const char *key, size_t key_len, struct jdoc *v, struct perr *err);

static inline void cleanup_jdoc_fn(struct jdoc **d)
{
    jdoc_free(*d);
}

#define cleanup_jdoc __attribute__((cleanup(cleanup_jdoc_fn)))

#endif
