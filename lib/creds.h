/* SPDX-License-Identifier: MIT */
/* Temporary AWS credentials and the providers that fetch them: one small interface, one provider
 * per file (environment, container endpoint, web identity, IMDSv2, AssumeRole chaining). */
#ifndef PARITY_CREDS_H
#define PARITY_CREDS_H

#include <stdint.h>

#include "lib/envlist.h"
#include "lib/err.h"
#include "lib/http.h"

struct creds {
    char access_key_id[128];
    char secret_access_key[256];
    char session_token[8192]; /* "" for long-term keys */
    char role_arn[512];
    char account_id[32];
    char region[64];        /* the region the source reported (IMDS), or "" */
    int64_t expiry_epoch_s; /* 0: does not expire */
};

/* Zeroes a credential set (secrets must not linger in freed or reused memory). */
void creds_wipe(struct creds *c);

struct creds_provider;

/* Fetches a fresh set. Fails with a message naming the source and the cause, never a secret. */
typedef int creds_get_fn(struct creds_provider *p, struct creds *out, struct perr *err);
typedef void creds_free_fn(struct creds_provider *p);

struct creds_provider {
    const char *name; /* "environment", "container", "web-identity", "imds", "assume-role" */
    creds_get_fn *get;
    creds_free_fn *free;
    struct http_opts http; /* timeouts and retries for every upstream call */
};

/* Each constructor reads what it needs from env now (later changes to env do not matter) and
 * returns NULL with err set when its variables are incomplete or malformed. */
PARITY_MUST_CHECK struct creds_provider *creds_env_new(const struct envlist *env, struct perr *err);
PARITY_MUST_CHECK struct creds_provider *creds_container_new(const struct envlist *env,
                                                             struct perr *err);
PARITY_MUST_CHECK struct creds_provider *creds_web_identity_new(const struct envlist *env,
                                                                const char *region,
                                                                const char *session_name,
                                                                struct perr *err);
PARITY_MUST_CHECK struct creds_provider *creds_imds_new(const struct envlist *env,
                                                        struct perr *err);

/* Chains through STS AssumeRole, signed with what `base` provides (takes ownership of base). */
PARITY_MUST_CHECK struct creds_provider *creds_assume_role_new(struct creds_provider *base,
                                                               const struct envlist *env,
                                                               const char *region,
                                                               const char *session_name,
                                                               struct perr *err);

/* The provider the environment calls for (docs/credentials.md, order of sources), or NULL with
 * err->code PERR_OK when there is no source at all. `imds` allows the IMDS probe. */
PARITY_MUST_CHECK struct creds_provider *creds_chain_select(const struct envlist *env,
                                                            const char *region,
                                                            const char *session_name,
                                                            bool imds,
                                                            struct perr *err);

void creds_provider_free(struct creds_provider *p);

/* Parsing shared by the providers, exposed for tests and fuzzing. */

/* "2026-11-28T04:05:43Z", with optional fraction and "+hh:mm" offset -> epoch seconds. */
PARITY_MUST_CHECK int creds_parse_time(const char *s, int64_t *out, struct perr *err);

/* The container-credentials / IMDS JSON document. */
PARITY_MUST_CHECK int
creds_parse_json(const char *text, size_t len, struct creds *out, struct perr *err);

/* An STS AssumeRole* XML response, or its ErrorResponse as an error "STS <Code>: <Message>". */
PARITY_MUST_CHECK int
creds_parse_sts_xml(const char *text, size_t len, struct creds *out, struct perr *err);

/* When to refresh credentials issued at issued_s that expire at expiry_s: when half the lifetime
 * has passed or 30 minutes are left, whichever comes first (the SDKs start refreshing 15 minutes
 * before expiry, so they never see less than that), but not before a quarter of the lifetime;
 * 0 for credentials that never expire. */
int64_t creds_refresh_at(int64_t issued_s, int64_t expiry_s);

/* The region: AWS_REGION, else AWS_DEFAULT_REGION, else NULL. */
const char *creds_region_from_env(const struct envlist *env);

#endif
