/* SPDX-License-Identifier: MIT */
/* Linux capability names and sets, as 64-bit masks (bit N = capability N). */
#ifndef PARITY_CAPS_H
#define PARITY_CAPS_H

#include <stdint.h>

#include "lib/err.h"
#include "lib/jdoc.h"

/* Docker's and runc's default set, which the container runtimes give a root process. */
uint64_t caps_runtime_default(void);

/* "CAP_NET_BIND_SERVICE", "net_bind_service" or "NET_BIND_SERVICE" -> its number (libcap's
 * names). Fails naming the unknown capability. */
PARITY_MUST_CHECK int caps_from_name(const char *name, int *cap, struct perr *err);

/* A JSON array of names, or a comma-separated string, as a mask. `where` names it in errors. */
PARITY_MUST_CHECK int caps_mask_from_list(
    const struct jdoc *list, const char *text, uint64_t *mask, const char *where, struct perr *err);

/* The highest capability number this kernel knows. */
int caps_last_cap(void);

#endif
