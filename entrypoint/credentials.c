/* SPDX-License-Identifier: MIT */
/* Choosing the credential source and handing the child parity's endpoint. */
#include "entrypoint/credentials.h"

#include <stdio.h>
#include <string.h>

#include "lib/num.h"

/* Everything the child must not see once parity serves credentials: the SDKs would use these
 * before the container endpoint (contract/aws-credentials.md §0). */
static const char *const consumed[] = {
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_SESSION_NAME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "PARITY_ASSUME_ROLE_ARN",
    "PARITY_ASSUME_ROLE_EXTERNAL_ID",
    "PARITY_ASSUME_ROLE_SESSION_NAME",
    "PARITY_ASSUME_ROLE_DURATION_SECONDS",
};

static int mode_of(const struct envlist *env, enum credentials_mode *m, struct perr *err)
{
    const char *v = envlist_get(env, "PARITY_CREDENTIALS");

    *m = CREDENTIALS_AUTO;
    if (!v || !*v || strcmp(v, "auto") == 0)
        return 0;
    if (strcmp(v, "passthrough") == 0)
        *m = CREDENTIALS_PASSTHROUGH;
    else if (strcmp(v, "off") == 0)
        *m = CREDENTIALS_OFF;
    else
        return perr_set(err, PERR_USAGE, "PARITY_CREDENTIALS '%s': use auto, passthrough or off",
                        v);
    return 0;
}

static int set_region(struct envlist *env, const char *region, struct perr *err)
{
    if (!region)
        return 0;
    if (envlist_set(env, "AWS_REGION", region, err) < 0)
        return -1;
    return envlist_set(env, "AWS_DEFAULT_REGION", region, err);
}

int credentials_setup(struct credserver *server,
                      struct envlist *env,
                      const struct credentials_inputs *in,
                      bool *served,
                      char *note,
                      size_t note_len,
                      struct perr *err)
{
    const char *region = creds_region_from_env(env);
    const char *imds_var = envlist_get(env, "PARITY_CREDENTIALS_IMDS");
    const char *timeout = envlist_get(env, "PARITY_CREDENTIALS_TIMEOUT_SECONDS");
    enum credentials_mode mode;
    struct creds_provider *p;
    const char *source;
    char session[128], url[128], region_copy[64] = "";
    uint64_t deadline_s = 60;

    *served = false;
    if (mode_of(env, &mode, err) < 0)
        return -1;
    if (timeout && *timeout && num_parse_u64(timeout, 1, 3600, &deadline_s, err) < 0)
        return perr_wrap(err, "PARITY_CREDENTIALS_TIMEOUT_SECONDS");
    if (!region)
        region = in->spec_region;
    if (region)
        snprintf(region_copy, sizeof(region_copy), "%s", region);
    if (mode != CREDENTIALS_AUTO) {
        snprintf(note, note_len, " mode=%s", mode == CREDENTIALS_OFF ? "off" : "passthrough");
        return mode == CREDENTIALS_OFF ? 0
                                       : set_region(env, region_copy[0] ? region_copy : NULL, err);
    }
    snprintf(session, sizeof(session), "parity-%.100s",
             in->job_name && *in->job_name ? in->job_name : "job");
    p = creds_chain_select(env, region_copy[0] ? region_copy : NULL, session,
                           in->imds || (imds_var && strcmp(imds_var, "1") == 0), err);
    if (!p && err->code != PERR_OK)
        return -1;
    if (!p) {
        snprintf(note, note_len, " source=none");
        return 0;
    }
    source = p->name; /* a string literal: still valid once p is freed */
    if (in->explain) {
        creds_provider_free(p);
        snprintf(url, sizeof(url), "http://127.0.0.1:PORT%s", CREDSERVER_PATH);
    } else {
        if (credserver_open(server, p, (unsigned)deadline_s, err) < 0)
            return -1;
        *served = true;
        if (!region_copy[0] && server->current.region[0]) /* what IMDS said */
            snprintf(region_copy, sizeof(region_copy), "%s", server->current.region);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", server->port, CREDSERVER_PATH);
    }
    snprintf(note, note_len, " source=%s region=%s", source,
             region_copy[0] ? region_copy : "unset");
    for (size_t i = 0; i < sizeof(consumed) / sizeof(consumed[0]); i++)
        envlist_unset(env, consumed[i]);
    if (envlist_set(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI", url, err) < 0 ||
        envlist_set(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                    in->explain ? "<redacted>" : server->token, err) < 0)
        return -1;
    return set_region(env, region_copy[0] ? region_copy : NULL, err);
}
