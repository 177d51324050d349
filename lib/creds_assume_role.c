/* SPDX-License-Identifier: MIT */
/* Credentials provider: STS AssumeRole on top of another provider (role chaining). STS caps a
 * chained session at one hour. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/creds.h"
#include "lib/num.h"
#include "lib/sts.h"

struct assume_role_provider {
    struct creds_provider base;
    struct creds_provider *source;
    char role_arn[2048];
    char external_id[1300];
    char session_name[128];
    char duration[16];
    char region[64];
    char url[1024];
};

static int assume_role_get(struct creds_provider *base, struct creds *out, struct perr *err)
{
    struct assume_role_provider *p = (struct assume_role_provider *)base;
    struct creds signer;
    struct buf form;
    int rc;

    if (p->source->get(p->source, &signer, err) < 0)
        return perr_wrap(err, "assume role %s: the base credentials (%s)", p->role_arn,
                         p->source->name);
    buf_init(&form, 64u * 1024);
    rc = sts_form_add(&form, "Action", "AssumeRole", err);
    if (rc == 0)
        rc = sts_form_add(&form, "Version", "2011-06-15", err);
    if (rc == 0)
        rc = sts_form_add(&form, "RoleArn", p->role_arn, err);
    if (rc == 0)
        rc = sts_form_add(&form, "RoleSessionName", p->session_name, err);
    if (rc == 0)
        rc = sts_form_add(&form, "DurationSeconds", p->duration, err);
    if (rc == 0 && p->external_id[0])
        rc = sts_form_add(&form, "ExternalId", p->external_id, err);
    if (rc == 0)
        rc = sts_post(p->url, form.data, form.len, &signer, p->region[0] ? p->region : NULL,
                      &p->base.http, out, err);
    creds_wipe(&signer);
    buf_cleanup(&form);
    return rc < 0 ? perr_wrap(err, "assume role %s", p->role_arn) : 0;
}

static void assume_role_free(struct creds_provider *base)
{
    struct assume_role_provider *p = (struct assume_role_provider *)base;

    creds_provider_free(p->source);
    free(p);
}

struct creds_provider *creds_assume_role_new(struct creds_provider *source,
                                             const struct envlist *env,
                                             const char *region,
                                             const char *session_name,
                                             struct perr *err)
{
    const char *role = envlist_get(env, "PARITY_ASSUME_ROLE_ARN");
    const char *ext = envlist_get(env, "PARITY_ASSUME_ROLE_EXTERNAL_ID");
    const char *name = envlist_get(env, "PARITY_ASSUME_ROLE_SESSION_NAME");
    const char *dur = envlist_get(env, "PARITY_ASSUME_ROLE_DURATION_SECONDS");
    struct assume_role_provider *p;
    uint64_t seconds = 3600;

    if (dur && *dur && num_parse_u64(dur, 900, 3600, &seconds, err) < 0) {
        creds_provider_free(source);
        perr_wrap(err, "PARITY_ASSUME_ROLE_DURATION_SECONDS (chained sessions last 900..3600 s)");
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (!p) {
        creds_provider_free(source);
        perr_set(err, PERR_NOMEM, "out of memory");
        return NULL;
    }
    p->base = (struct creds_provider){.name = "assume-role",
                                      .get = assume_role_get,
                                      .free = assume_role_free,
                                      .http = source->http};
    p->source = source;
    snprintf(p->role_arn, sizeof(p->role_arn), "%s", role ? role : "");
    snprintf(p->external_id, sizeof(p->external_id), "%s", ext ? ext : "");
    snprintf(p->session_name, sizeof(p->session_name), "%s", name && *name ? name : session_name);
    snprintf(p->duration, sizeof(p->duration), "%llu", (unsigned long long)seconds);
    snprintf(p->region, sizeof(p->region), "%s", region ? region : "");
    sts_endpoint(env, region, p->url, sizeof(p->url));
    return &p->base;
}
