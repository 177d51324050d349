/* SPDX-License-Identifier: MIT */
/* Growable buffer with a limit: the one place that grows memory from outside input. */
#include "lib/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"

void buf_init(struct buf *b, size_t max_bytes)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max_bytes = max_bytes;
}

void buf_cleanup(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Makes room for n more bytes plus the NUL. */
static int reserve(struct buf *b, size_t n, struct perr *err)
{
    size_t need, cap;
    char *p;

    if (__builtin_add_overflow(b->len, n, &need) || need > b->max_bytes)
        return perr_set(err, PERR_LIMIT, "data exceeds the limit of %zu bytes", b->max_bytes);
    need += 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (b->max_bytes < SIZE_MAX && cap > b->max_bytes + 1)
        cap = b->max_bytes + 1;
    p = realloc(b->data, cap);
    if (!p)
        return perr_set(err, PERR_NOMEM, "out of memory growing a buffer to %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const void *p, size_t n, struct perr *err)
{
    if (reserve(b, n, err) < 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_append_str(struct buf *b, const char *s, struct perr *err)
{
    return buf_append(b, s, strlen(s), err);
}

int buf_printf(struct buf *b, struct perr *err, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return perr_set(err, PERR_PARSE, "formatting text failed");
    if (reserve(b, (size_t)n, err) < 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int buf_read_fd(struct buf *b, int fd, struct perr *err)
{
    char chunk[4096];

    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return perr_sys(err, "read failed");
        }
        if (buf_append(b, chunk, (size_t)n, err) < 0)
            return -1;
    }
    if (!b->data)
        return buf_append(b, "", 0, err);
    return 0;
}

int buf_read_file(struct buf *b, const char *path, struct perr *err)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        return perr_sys(err, "opening %s", path);
    if (buf_read_fd(b, fd, err) < 0)
        return perr_wrap(err, "reading %s", path);
    return 0;
}

char *buf_steal(struct buf *b)
{
    char *p = b->data;

    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
