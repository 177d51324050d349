/* SPDX-License-Identifier: MIT */
/* Picks the credential source the environment names, in the SDKs' own order
 * (docs/credentials.md), and wraps it in AssumeRole when PARITY_ASSUME_ROLE_ARN asks. */
#include <string.h>
#include <strings.h>

#include "lib/creds.h"

static bool set(const struct envlist *env, const char *name)
{
    const char *v = envlist_get(env, name);

    return v && *v;
}

/* AWS_EC2_METADATA_DISABLED=true switches IMDS off in every SDK: no source, not an error. */
static bool disabled(const struct envlist *env)
{
    const char *v = envlist_get(env, "AWS_EC2_METADATA_DISABLED");

    return v && strcasecmp(v, "true") == 0;
}

void creds_provider_free(struct creds_provider *p)
{
    if (p)
        p->free(p);
}

struct creds_provider *creds_chain_select(const struct envlist *env,
                                          const char *region,
                                          const char *session_name,
                                          bool imds,
                                          struct perr *err)
{
    struct creds_provider *p = NULL;

    perr_clear(err);
    if (set(env, "AWS_ACCESS_KEY_ID") || set(env, "AWS_SECRET_ACCESS_KEY"))
        p = creds_env_new(env, err);
    else if (set(env, "AWS_ROLE_ARN") || set(env, "AWS_WEB_IDENTITY_TOKEN_FILE"))
        p = creds_web_identity_new(env, region, session_name, err);
    else if (set(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ||
             set(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI"))
        p = creds_container_new(env, err);
    else if (imds && !disabled(env))
        p = creds_imds_new(env, err);
    else
        return NULL; /* no source: err stays PERR_OK */
    if (!p)
        return NULL;
    /* Upstream calls: quick to fail, bounded, retried; the caller retries the whole fetch. */
    if (!p->http.connect_timeout_ms)
        p->http.connect_timeout_ms = 2000;
    if (!p->http.total_timeout_ms)
        p->http.total_timeout_ms = 10000;
    p->http.max_body_bytes = 64u * 1024;
    p->http.idempotent = true;
    if (set(env, "PARITY_ASSUME_ROLE_ARN"))
        p = creds_assume_role_new(p, env, region, session_name, err);
    return p;
}
