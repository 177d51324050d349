/* SPDX-License-Identifier: MIT */
/* Building the JSON documents parity sends (jdoc trees made in code), and printing them. Every
 * builder takes ownership of what it is given and returns -1 with err set on failure, so a
 * chain of calls can stop at the first one that fails. */
#ifndef PARITY_SHIM_JSONOUT_H
#define PARITY_SHIM_JSONOUT_H

#include <stdbool.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jdoc.h"

/* A new empty object or array (NULL with err set). */
struct jdoc *jo_object(struct perr *err);
struct jdoc *jo_array(struct perr *err);

PARITY_MUST_CHECK int jo_put(struct jdoc *obj, const char *key, struct jdoc *v, struct perr *err);
PARITY_MUST_CHECK int
jo_put_str(struct jdoc *obj, const char *key, const char *value, struct perr *err);
PARITY_MUST_CHECK int jo_put_int(struct jdoc *obj, const char *key, long long v, struct perr *err);
PARITY_MUST_CHECK int jo_put_bool(struct jdoc *obj, const char *key, bool v, struct perr *err);
PARITY_MUST_CHECK int jo_push(struct jdoc *arr, struct jdoc *v, struct perr *err);
PARITY_MUST_CHECK int jo_push_str(struct jdoc *arr, const char *value, struct perr *err);

/* A copy of a string array (the spec's command) as a new array. */
struct jdoc *jo_copy(const struct jdoc *v, struct perr *err);

/* The document as JSON text: compact (what goes on the wire) or indented by two (for people). */
PARITY_MUST_CHECK int
jo_write(struct buf *out, const struct jdoc *v, bool pretty, struct perr *err);

#endif
