/* SPDX-License-Identifier: MIT */
/* The error model: a failed operation fills one fixed-size struct perr where the cause is known. */
#ifndef PARITY_ERR_H
#define PARITY_ERR_H

#define PARITY_MUST_CHECK        __attribute__((warn_unused_result))
#define PARITY_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

enum perr_code {
    PERR_OK = 0,
    PERR_IO,      /* a system call failed; sys_errno says why */
    PERR_PARSE,   /* malformed input */
    PERR_USAGE,   /* bad option or argument */
    PERR_HTTP,    /* an HTTP exchange failed */
    PERR_AUTH,    /* credentials missing or refused */
    PERR_LIMIT,   /* a size or count bound was exceeded */
    PERR_TIMEOUT, /* a deadline passed */
    PERR_NOMEM,   /* allocation failed */
};

#define PERR_MSG_BYTES 512

struct perr {
    int code;      /* enum perr_code */
    int sys_errno; /* errno at the failure, 0 if none */
    char msg[PERR_MSG_BYTES];
};

/* Fills *e (no allocation) and returns -1, so callers can `return perr_set(...)`. */
int perr_set(struct perr *e, int code, const char *fmt, ...) PARITY_PRINTF(3, 4);

/* Like perr_set with code PERR_IO, appending ": strerror(errno)"; errno is read on entry. */
int perr_sys(struct perr *e, const char *fmt, ...) PARITY_PRINTF(2, 3);

/* Prepends "<context>: " to the message already in *e; keeps code and errno. Returns -1. */
int perr_wrap(struct perr *e, const char *fmt, ...) PARITY_PRINTF(2, 3);

/* Resets *e to "no error". */
void perr_clear(struct perr *e);

#endif
