/* SPDX-License-Identifier: MIT */
/* SigV4 headers for AWS API calls (STS query API, AWS JSON 1.1). */
#include "lib/awssign.h"

#include <stdio.h>
#include <string.h>

#include "lib/awstime.h"
#include "lib/crypto.h"

/* "https://host:port/path" -> host:port and path (for the signed Host header). */
static void split_url(const char *url, char *host, size_t host_len, char *path, size_t path_len)
{
    const char *h = strstr(url, "://");
    size_t n;

    h = h ? h + 3 : url;
    n = strcspn(h, "/?");
    snprintf(host, host_len, "%.*s", (int)n, h);
    snprintf(path, path_len, "%s", h[n] == '/' ? h + n : "/");
    path[strcspn(path, "?")] = '\0';
}

int awssign_headers(const struct awssign_call *call,
                    const struct creds *c,
                    struct awssign_headers *h,
                    struct perr *err)
{
    char host[512], path[1024], amz_date[32], hash[65];
    uint8_t digest[CRYPTO_SHA256_BYTES];
    struct sigv4_header sh[AWSSIGN_MAX_EXTRA + 5];
    bool token = c->session_token[0] != '\0';
    size_t n = 0, nl = 0;
    struct buf authz;
    int rc;

    if (call->extra_count > AWSSIGN_MAX_EXTRA)
        return perr_set(err, PERR_LIMIT, "too many headers to sign");
    memset(h, 0, sizeof(*h));
    awstime_amz_date(awstime_now(), amz_date);
    split_url(call->url, host, sizeof(host), path, sizeof(path));
    if (call->path)
        snprintf(path, sizeof(path), "%s", call->path);
    if (call->s3_payload_hash) {
        snprintf(hash, sizeof(hash), "%s", call->s3_payload_hash);
    } else {
        crypto_sha256(call->body ? call->body : "", call->body_len, digest);
        crypto_hex(digest, sizeof(digest), hash);
    }
    if (call->content_type)
        sh[n++] = (struct sigv4_header){"content-type", call->content_type};
    if (call->s3)
        sh[n++] = (struct sigv4_header){"x-amz-content-sha256", hash};
    sh[n++] = (struct sigv4_header){"host", host};
    sh[n++] = (struct sigv4_header){"x-amz-date", amz_date};
    if (token)
        sh[n++] = (struct sigv4_header){"x-amz-security-token", c->session_token};
    for (size_t i = 0; i < call->extra_count; i++)
        sh[n++] = call->extra[i];

    struct sigv4_request sr = {call->method, path, call->query, sh, n, hash, !call->s3};
    struct sigv4_credentials sc = {c->access_key_id, c->secret_access_key,
                                   token ? c->session_token : NULL};
    struct sigv4_scope scope = {amz_date, call->region, call->service};
    buf_init(&authz, sizeof(h->authorization) - 32);
    rc = sigv4_authorization(&sr, &sc, &scope, &authz, err);
    if (rc == 0)
        snprintf(h->authorization, sizeof(h->authorization), "Authorization: %s", authz.data);
    buf_cleanup(&authz);
    if (rc < 0)
        return perr_wrap(err, "signing the %s request", call->service);

    snprintf(h->date, sizeof(h->date), "X-Amz-Date: %s", amz_date);
    if (call->content_type) {
        snprintf(h->content_type, sizeof(h->content_type), "Content-Type: %s", call->content_type);
        h->lines[nl++] = h->content_type;
    }
    if (call->s3) {
        snprintf(h->content_sha256, sizeof(h->content_sha256), "x-amz-content-sha256: %s", hash);
        h->lines[nl++] = h->content_sha256;
    }
    h->lines[nl++] = h->date;
    h->lines[nl++] = h->authorization;
    if (token) {
        snprintf(h->token, sizeof(h->token), "X-Amz-Security-Token: %s", c->session_token);
        h->lines[nl++] = h->token;
    }
    for (size_t i = 0; i < call->extra_count; i++) {
        snprintf(h->extra[i], sizeof(h->extra[i]), "%s: %s", call->extra[i].name,
                 call->extra[i].value);
        h->lines[nl++] = h->extra[i];
    }
    h->lines[nl] = NULL;
    return 0;
}

void awssign_wipe(struct awssign_headers *h)
{
    explicit_bzero(h, sizeof(*h));
}
