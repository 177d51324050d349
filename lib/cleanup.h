/* SPDX-License-Identifier: MIT */
/* Scope-bound release of locals (gcc/clang cleanup attribute) and ownership hand-off. */
#ifndef PARITY_CLEANUP_H
#define PARITY_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cleanup_free_fn(void *p)
{
    free(*(void **)p);
}

static inline void cleanup_close_fn(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}

static inline void cleanup_fclose_fn(FILE **f)
{
    if (*f)
        fclose(*f);
}

#define cleanup_free   __attribute__((cleanup(cleanup_free_fn)))
#define cleanup_close  __attribute__((cleanup(cleanup_close_fn)))
#define cleanup_fclose __attribute__((cleanup(cleanup_fclose_fn)))

/* Returns the pointer and forgets it, so the cleanup attribute no longer frees it. */
#define TAKE_PTR(p)                                                                                \
    ({                                                                                             \
        __typeof__(p) take_ptr_tmp_ = (p);                                                         \
        (p) = NULL;                                                                                \
        take_ptr_tmp_;                                                                             \
    })

/* Returns the fd and forgets it, so the cleanup attribute no longer closes it. */
#define TAKE_FD(fd)                                                                                \
    ({                                                                                             \
        int take_fd_tmp_ = (fd);                                                                   \
        (fd) = -1;                                                                                 \
        take_fd_tmp_;                                                                              \
    })

#endif
