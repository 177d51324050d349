/* SPDX-License-Identifier: MIT */
/* Strict decimal parsing of option and environment values (no atoi: errors are reported). */
#ifndef PARITY_NUM_H
#define PARITY_NUM_H

#include <stdint.h>

#include "lib/err.h"

/*
 * Parses all of s as a decimal unsigned integer in [min, max]. Leading/trailing spaces, signs,
 * empty strings and trailing garbage are errors; the message quotes the input.
 */
PARITY_MUST_CHECK int
num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, struct perr *err);

#endif
