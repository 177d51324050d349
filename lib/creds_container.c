/* SPDX-License-Identifier: MIT */
/* Credentials provider: a container credentials endpoint (SageMaker/ECS relative URI on
 * 169.254.170.2, or a full URI with a token such as EKS Pod Identity's agent). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/creds.h"

#define TOKEN_MAX_BYTES (16u * 1024)

struct container_provider {
    struct creds_provider base;
    char url[2048];
    char token[TOKEN_MAX_BYTES]; /* from AWS_CONTAINER_AUTHORIZATION_TOKEN */
    char token_file[1024];       /* read again at every fetch: kubelet rotates it */
};

/* The token, without the trailing newline files usually have. */
static int read_token(struct container_provider *p, char *out, struct perr *err)
{
    struct buf b;

    if (!p->token_file[0]) {
        snprintf(out, TOKEN_MAX_BYTES, "%s", p->token);
        return 0;
    }
    buf_init(&b, TOKEN_MAX_BYTES - 1);
    if (buf_read_file(&b, p->token_file, err) < 0) {
        buf_cleanup(&b);
        return perr_wrap(err, "reading the container credentials token");
    }
    while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
        b.data[--b.len] = '\0';
    memcpy(out, b.data, b.len + 1);
    explicit_bzero(b.data, b.len);
    buf_cleanup(&b);
    return 0;
}

static int container_get(struct creds_provider *base, struct creds *out, struct perr *err)
{
    struct container_provider *p = (struct container_provider *)base;
    char token[TOKEN_MAX_BYTES], header[TOKEN_MAX_BYTES + 32];
    const char *headers[] = {"Accept: application/json", header, NULL};
    struct http_request req = {.method = "GET", .url = p->url, .headers = headers};
    struct http_response resp;
    int rc;

    if (read_token(p, token, err) < 0)
        return -1;
    snprintf(header, sizeof(header), "Authorization: %s", token);
    if (!token[0])
        headers[1] = NULL;
    http_response_init(&resp);
    rc = http_do(&req, &p->base.http, &resp, err);
    if (rc == 0 && resp.status != 200)
        rc = perr_set(err, PERR_HTTP, "GET %s: HTTP %ld", p->url, resp.status);
    if (rc == 0)
        rc = creds_parse_json(resp.body.data, resp.body.len, out, err);
    if (rc < 0)
        perr_wrap(err, "container credentials");
    explicit_bzero(token, sizeof(token));
    explicit_bzero(header, sizeof(header));
    if (resp.body.data)
        explicit_bzero(resp.body.data, resp.body.len);
    http_response_cleanup(&resp);
    return rc;
}

static void container_free(struct creds_provider *base)
{
    explicit_bzero(((struct container_provider *)base)->token, TOKEN_MAX_BYTES);
    free(base);
}

struct creds_provider *creds_container_new(const struct envlist *env, struct perr *err)
{
    const char *rel = envlist_get(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = envlist_get(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *token = envlist_get(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
    const char *token_file = envlist_get(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    struct container_provider *p = calloc(1, sizeof(*p));

    if (!p) {
        perr_set(err, PERR_NOMEM, "out of memory");
        return NULL;
    }
    p->base =
        (struct creds_provider){.name = "container", .get = container_get, .free = container_free};
    /* The relative form wins, as in every SDK: that is what ECS and SageMaker set. */
    if (rel && *rel)
        snprintf(p->url, sizeof(p->url), "http://169.254.170.2%s", rel);
    else if (full && *full)
        snprintf(p->url, sizeof(p->url), "%s", full);
    else {
        free(p);
        perr_set(err, PERR_AUTH, "no AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI");
        return NULL;
    }
    /* The token file wins over the token variable, as in current SDKs. */
    if (token_file && *token_file)
        snprintf(p->token_file, sizeof(p->token_file), "%s", token_file);
    else if (token && strlen(token) < sizeof(p->token))
        memcpy(p->token, token, strlen(token) + 1);
    return &p->base;
}
