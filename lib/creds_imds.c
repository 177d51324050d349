/* SPDX-License-Identifier: MIT */
/* Credentials provider: EC2 IMDSv2 (token, role name, role credentials). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/creds.h"

struct imds_provider {
    struct creds_provider base;
    char endpoint[512]; /* without a trailing slash */
};

/* One IMDS call; the body lands in out (NUL-terminated, at most cap-1 bytes). */
static int imds_call(struct imds_provider *p,
                     const char *method,
                     const char *path,
                     const char *header,
                     char *out,
                     size_t cap,
                     struct perr *err)
{
    char url[1024];
    const char *headers[] = {header, NULL};
    struct http_request req = {.method = method,
                               .url = url,
                               .headers = header ? headers : NULL,
                               .body = method[0] == 'P' ? "" : NULL};
    struct http_response resp;
    int rc;

    snprintf(url, sizeof(url), "%s%s", p->endpoint, path);
    http_response_init(&resp);
    rc = http_do(&req, &p->base.http, &resp, err);
    if (rc == 0 && resp.status != 200)
        rc = perr_set(err, PERR_HTTP, "%s %s: HTTP %ld%s", method, url, resp.status,
                      resp.status == 404 ? " (no instance profile?)" : "");
    if (rc == 0 && resp.body.len >= cap)
        rc = perr_set(err, PERR_LIMIT, "%s %s: the answer is longer than %zu bytes", method, url,
                      cap - 1);
    if (rc == 0)
        memcpy(out, resp.body.data ? resp.body.data : "", resp.body.len + 1);
    if (resp.body.data)
        explicit_bzero(resp.body.data, resp.body.len);
    http_response_cleanup(&resp);
    return rc;
}

static int imds_get(struct creds_provider *base, struct creds *out, struct perr *err)
{
    struct imds_provider *p = (struct imds_provider *)base;
    char token[1024], header[1100], role[256], path[512], doc[16384];
    int rc;

    /* A container behind an extra hop may never see the PUT's answer (hop limit 1): the short
     * timeout of the provider's options keeps that from stalling the start for long. */
    rc = imds_call(p, "PUT", "/latest/api/token", "X-aws-ec2-metadata-token-ttl-seconds: 21600",
                   token, sizeof(token), err);
    if (rc == 0) {
        snprintf(header, sizeof(header), "X-aws-ec2-metadata-token: %s", token);
        rc = imds_call(p, "GET", "/latest/meta-data/iam/security-credentials/", header, role,
                       sizeof(role), err);
    }
    if (rc == 0) {
        role[strcspn(role, "\r\n")] = '\0';
        snprintf(path, sizeof(path), "/latest/meta-data/iam/security-credentials/%s", role);
        rc = imds_call(p, "GET", path, header, doc, sizeof(doc), err);
    }
    if (rc == 0)
        rc = creds_parse_json(doc, strlen(doc), out, err);
    /* The instance's region, for AWS_REGION when nothing else names one; optional. */
    if (rc == 0) {
        struct perr ignored = {0};
        if (imds_call(p, "GET", "/latest/meta-data/placement/region", header, out->region,
                      sizeof(out->region), &ignored) == 0)
            out->region[strcspn(out->region, "\r\n")] = '\0';
        else
            out->region[0] = '\0';
    }
    explicit_bzero(doc, sizeof(doc));
    explicit_bzero(token, sizeof(token));
    return rc < 0 ? perr_wrap(err, "IMDS") : 0;
}

static void imds_free(struct creds_provider *base)
{
    free(base);
}

struct creds_provider *creds_imds_new(const struct envlist *env, struct perr *err)
{
    const char *ep = envlist_get(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *off = envlist_get(env, "AWS_EC2_METADATA_DISABLED");
    struct imds_provider *p;
    size_t n;

    if (off && strcasecmp(off, "true") == 0) {
        perr_set(err, PERR_AUTH, "IMDS is disabled by AWS_EC2_METADATA_DISABLED");
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (!p) {
        perr_set(err, PERR_NOMEM, "out of memory");
        return NULL;
    }
    p->base = (struct creds_provider){.name = "imds", .get = imds_get, .free = imds_free};
    snprintf(p->endpoint, sizeof(p->endpoint), "%s", ep && *ep ? ep : "http://169.254.169.254");
    n = strlen(p->endpoint);
    while (n && p->endpoint[n - 1] == '/')
        p->endpoint[--n] = '\0';
    /* The SDKs' own IMDS timeouts: a second to connect and answer, so a missing IMDS is quick. */
    p->base.http.connect_timeout_ms = 1000;
    p->base.http.total_timeout_ms = 2000;
    return &p->base;
}
