/* SPDX-License-Identifier: MIT */
/* Base64 (RFC 4648): standard decoding of kubeconfig's *-data fields, and the URL-safe,
 * unpadded encoding of EKS tokens. */
#ifndef PARITY_BASE64_H
#define PARITY_BASE64_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"

/* Appends the encoding of data: standard alphabet with '=' padding, or with url the URL-safe
 * alphabet (- and _) and no padding. */
PARITY_MUST_CHECK int
base64_encode(struct buf *out, const void *data, size_t len, bool url, struct perr *err);

/* Appends the bytes text encodes (standard alphabet; padding optional; line breaks and spaces
 * skipped). Anything else is an error naming the position. */
PARITY_MUST_CHECK int
base64_decode(struct buf *out, const char *text, size_t len, struct perr *err);

#endif
