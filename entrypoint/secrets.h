/* SPDX-License-Identifier: MIT */
/* The secrets phase: environment values that are SSM parameter or Secrets Manager ARNs are
 * replaced by what they refer to before the child starts (docs/secrets.md). */
#ifndef PARITY_ENTRYPOINT_SECRETS_H
#define PARITY_ENTRYPOINT_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/creds.h"
#include "lib/envlist.h"
#include "lib/err.h"

#define SECRETS_MAX_REFS 64

/*
 * Resolves every reference in env (unless PARITY_SECRETS=off) with credentials c (NULL when
 * parity-init has none). explain: only count them. `note` receives the phase's log fields,
 * variable names only. The first failure stops the boot; its message names the variable, the
 * ARN and the AWS error code, never a value.
 */
PARITY_MUST_CHECK int secrets_resolve(struct envlist *env,
                                      const struct creds *c,
                                      bool explain,
                                      char *note,
                                      size_t note_len,
                                      struct perr *err);

#endif
