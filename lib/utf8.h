/* SPDX-License-Identifier: MIT */
/* UTF-8 code points in and out, for the JSON parser and the Python formatters. */
#ifndef PARITY_UTF8_H
#define PARITY_UTF8_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"

/* Decodes one sequence at s (len > 0). Returns its length, or 0 when it is not valid UTF-8
 * (overlong forms and values past U+10FFFF are invalid; surrogates are accepted, as Python's
 * json module produces them). */
size_t utf8_decode(const char *s, size_t len, unsigned int *cp);

/* Writes code point cp (at most U+10FFFF, not a surrogate) as UTF-8; returns 1 to 4 bytes. */
size_t utf8_encode(unsigned int cp, char out[4]);

/* Appends cp (at most U+10FFFF) encoded as UTF-8. */
PARITY_MUST_CHECK int utf8_append(struct buf *b, unsigned int cp, struct perr *err);

#endif
