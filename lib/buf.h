/* SPDX-License-Identifier: MIT */
/* A growable byte buffer with a hard size limit, so every read from outside is bounded. */
#ifndef PARITY_BUF_H
#define PARITY_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "lib/err.h"

struct buf {
    char *data;       /* always NUL-terminated when len > 0 or after any append */
    size_t len;       /* bytes used, not counting the terminating NUL */
    size_t cap;       /* bytes allocated */
    size_t max_bytes; /* appends that would pass this fail with PERR_LIMIT */
};

/* Prepares an empty buffer; nothing is allocated until the first append. */
void buf_init(struct buf *b, size_t max_bytes);

/* Frees the data; safe to call twice and on a zeroed struct. */
void buf_cleanup(struct buf *b);

/* Empties the buffer, keeping its allocation. */
void buf_reset(struct buf *b);

/* Appends n bytes. Fails with PERR_LIMIT past max_bytes, PERR_NOMEM on allocation failure. */
PARITY_MUST_CHECK int buf_append(struct buf *b, const void *p, size_t n, struct perr *err);

/* Appends a NUL-terminated string. */
PARITY_MUST_CHECK int buf_append_str(struct buf *b, const char *s, struct perr *err);

/* Appends formatted text. */
PARITY_MUST_CHECK int buf_printf(struct buf *b, struct perr *err, const char *fmt, ...)
    PARITY_PRINTF(3, 4);

/* Reads an fd to EOF into b (bounded by max_bytes). */
PARITY_MUST_CHECK int buf_read_fd(struct buf *b, int fd, struct perr *err);

/* Reads a whole file into b (bounded by max_bytes); the message names the path. */
PARITY_MUST_CHECK int buf_read_file(struct buf *b, const char *path, struct perr *err);

/* Hands the data to the caller (who frees it) and leaves b empty. Never NULL after an append. */
char *buf_steal(struct buf *b);

#endif
