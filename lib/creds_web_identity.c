/* SPDX-License-Identifier: MIT */
/* Credentials provider: IRSA, STS AssumeRoleWithWebIdentity with a projected service-account
 * token that kubelet rotates, so the file is read again at every fetch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/creds.h"
#include "lib/sts.h"

#define WEB_TOKEN_MAX_BYTES (64u * 1024)

struct web_identity_provider {
    struct creds_provider base;
    char role_arn[2048];
    char token_file[1024];
    char session_name[128];
    char url[1024];
};

static int web_identity_get(struct creds_provider *base, struct creds *out, struct perr *err)
{
    struct web_identity_provider *p = (struct web_identity_provider *)base;
    struct buf token, form;
    int rc;

    buf_init(&token, WEB_TOKEN_MAX_BYTES);
    buf_init(&form, 4 * WEB_TOKEN_MAX_BYTES);
    rc = buf_read_file(&token, p->token_file, err);
    while (rc == 0 && token.len &&
           (token.data[token.len - 1] == '\n' || token.data[token.len - 1] == '\r'))
        token.data[--token.len] = '\0';
    if (rc == 0)
        rc = sts_form_add(&form, "Action", "AssumeRoleWithWebIdentity", err);
    if (rc == 0)
        rc = sts_form_add(&form, "Version", "2011-06-15", err);
    if (rc == 0)
        rc = sts_form_add(&form, "RoleArn", p->role_arn, err);
    if (rc == 0)
        rc = sts_form_add(&form, "RoleSessionName", p->session_name, err);
    if (rc == 0)
        rc = sts_form_add(&form, "WebIdentityToken", token.data, err);
    if (rc == 0)
        rc = sts_post(p->url, form.data, form.len, NULL, NULL, &p->base.http, out, err);
    if (token.data)
        explicit_bzero(token.data, token.len);
    if (form.data)
        explicit_bzero(form.data, form.len);
    buf_cleanup(&token);
    buf_cleanup(&form);
    return rc < 0 ? perr_wrap(err, "web identity (role %s)", p->role_arn) : 0;
}

static void web_identity_free(struct creds_provider *base)
{
    free(base);
}

struct creds_provider *creds_web_identity_new(const struct envlist *env,
                                              const char *region,
                                              const char *session_name,
                                              struct perr *err)
{
    const char *role = envlist_get(env, "AWS_ROLE_ARN");
    const char *file = envlist_get(env, "AWS_WEB_IDENTITY_TOKEN_FILE");
    const char *name = envlist_get(env, "AWS_ROLE_SESSION_NAME");
    struct web_identity_provider *p;

    if (!role || !*role || !file || !*file) {
        perr_set(err, PERR_AUTH, "AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE must both be set");
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (!p) {
        perr_set(err, PERR_NOMEM, "out of memory");
        return NULL;
    }
    p->base = (struct creds_provider){
        .name = "web-identity", .get = web_identity_get, .free = web_identity_free};
    snprintf(p->role_arn, sizeof(p->role_arn), "%s", role);
    snprintf(p->token_file, sizeof(p->token_file), "%s", file);
    snprintf(p->session_name, sizeof(p->session_name), "%s", name && *name ? name : session_name);
    sts_endpoint(env, region, p->url, sizeof(p->url));
    return &p->base;
}
