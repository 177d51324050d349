/* SPDX-License-Identifier: MIT */
/* The value behind a secret reference: SSM GetParameter (decrypted) or Secrets Manager
 * GetSecretValue, optionally one field of a JSON secret. */
#ifndef PARITY_SECRETS_H
#define PARITY_SECRETS_H

#include "lib/buf.h"
#include "lib/creds.h"
#include "lib/err.h"
#include "lib/secretref.h"

#define SECRETS_MAX_VALUE (64 * 1024) /* Secrets Manager's own limit; SSM's is 8 KiB */

/*
 * Fetches ref's value from endpoint (secretref_endpoint) into value, signed with c. On failure
 * `code` holds the AWS error code when the service gave one. Never puts the value in err.
 */
PARITY_MUST_CHECK int secrets_fetch(const struct secretref *ref,
                                    const char *endpoint,
                                    const struct creds *c,
                                    struct buf *value,
                                    char code[128],
                                    struct perr *err);

/* The field `key` of a JSON object secret: strings as they are, other values as compact JSON.
 * Exposed for tests. */
PARITY_MUST_CHECK int secrets_pick_field(
    const char *json, size_t len, const char *key, struct buf *out, struct perr *err);

#endif
