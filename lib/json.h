/* SPDX-License-Identifier: MIT */
/* JSON text helpers that need no allocation: string escaping for log lines and documents. */
#ifndef PARITY_JSON_H
#define PARITY_JSON_H

#include <stddef.h>

/*
 * Writes in[0..in_len) as the body of a JSON string (no surrounding quotes) into out, which has
 * room for out_len bytes. Escapes quotes, backslashes and control bytes; passes UTF-8 through.
 * Stops before an escape that would not fit, so the output is always valid JSON text. Does not
 * NUL-terminate. Returns the number of bytes written.
 */
size_t json_escape(char *out, size_t out_len, const char *in, size_t in_len);

#endif
