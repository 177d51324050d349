/* SPDX-License-Identifier: MIT */
/* Filling struct perr: fixed buffers only, so it works in PID 1 and when memory is short. */
#include "lib/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int perr_set(struct perr *e, int code, const char *fmt, ...)
{
    va_list ap;

    e->code = code;
    e->sys_errno = 0;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return -1;
}

int perr_sys(struct perr *e, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    size_t len;

    e->code = PERR_IO;
    e->sys_errno = saved;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    len = strlen(e->msg);
    if (len < sizeof(e->msg))
        snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", strerror(saved));
    errno = saved;
    return -1;
}

static void append_cut(char *dst, size_t cap, const char *a, const char *b, const char *c)
{
    const char *parts[] = {a, b, c};
    size_t len = 0;

    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(parts[i]);
        if (n > cap - 1 - len)
            n = cap - 1 - len;
        memcpy(dst + len, parts[i], n);
        len += n;
    }
    dst[len] = '\0';
}

int perr_wrap(struct perr *e, const char *fmt, ...)
{
    char prefix[PERR_MSG_BYTES];
    char old[PERR_MSG_BYTES];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof(old));
    old[sizeof(old) - 1] = '\0';
    /* Cut from the end when too long: the outer context and the start of the cause matter most. */
    append_cut(e->msg, sizeof(e->msg), prefix, ": ", old);
    if (e->code == PERR_OK)
        e->code = PERR_IO;
    return -1;
}

void perr_clear(struct perr *e)
{
    e->code = PERR_OK;
    e->sys_errno = 0;
    e->msg[0] = '\0';
}
