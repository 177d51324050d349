/* SPDX-License-Identifier: MIT */
/* Python's own text forms of decoded JSON values, byte for byte: what SageMaker's training
 * toolkit exports is Python's json.dumps, str(), repr() and str.upper() of those values. */
#ifndef PARITY_PYFMT_H
#define PARITY_PYFMT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jdoc.h"

/* repr(float(text)) of a JSON number literal: "1e-05", "1000.0", "nan", "inf", "-0.0". */
void pyfmt_float_repr(double v, char out[32]);

/* The same from a JSON number literal's text, without strtod or printf, when it can be exact
 * (at most 15 significant digits, normal range); false means use pyfmt_float_repr. */
bool pyfmt_literal_repr(const char *text, char out[32]);

/* json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True) of json.loads'd v. */
PARITY_MUST_CHECK int pyfmt_json(struct buf *b, const struct jdoc *v, struct perr *err);

/* json.dumps(v) with Python's defaults: members in dict order (first position, last value),
 * separators ", " and ": ", ensure_ascii. This is how the SageMaker SDK encodes hyperparameters. */
PARITY_MUST_CHECK int pyfmt_json_default(struct buf *b, const struct jdoc *v, struct perr *err);

/* bool(v) in Python: false for null, false, 0, 0.0, "", [] and {}. */
bool pyfmt_truthy(const struct jdoc *v);

/* str(v): strings as they are, True/False/None, numbers as Python prints them, containers as
 * repr. */
PARITY_MUST_CHECK int pyfmt_str(struct buf *b, const struct jdoc *v, struct perr *err);

/* str.upper() of UTF-8 text (full Unicode mapping: "ß" -> "SS"). Invalid bytes pass through. */
PARITY_MUST_CHECK int pyfmt_upper(struct buf *b, const char *s, size_t len, struct perr *err);

#endif
