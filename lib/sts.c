/* SPDX-License-Identifier: MIT */
/* STS requests: form bodies, optional SigV4, XML answers (contract/aws-credentials.md §1a, §1g). */
#include "lib/sts.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/awstime.h"
#include "lib/crypto.h"
#include "lib/sigv4.h"

void sts_endpoint(const struct envlist *env, const char *region, char *out, size_t out_len)
{
    const char *url = envlist_get(env, "AWS_ENDPOINT_URL_STS");

    if (!url || !*url)
        url = envlist_get(env, "AWS_ENDPOINT_URL");
    if (url && *url)
        snprintf(out, out_len, "%s", url);
    else if (region)
        snprintf(out, out_len, "https://sts.%s.amazonaws.com/", region);
    else
        snprintf(out, out_len, "https://sts.amazonaws.com/");
}

int sts_form_add(struct buf *form, const char *name, const char *value, struct perr *err)
{
    int rc = buf_printf(form, err, "%s%s=", form->len ? "&" : "", name);

    return rc < 0 ? -1 : sigv4_uri_encode(form, value, strlen(value), false, err);
}

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

static int post_once(const char *url,
                     const char *form,
                     size_t form_len,
                     const struct creds *signer,
                     const char *region,
                     const struct http_opts *opts,
                     struct creds *out,
                     bool *skewed,
                     struct perr *err)
{
    char host[512], path[1024], date[32], hash[65], authz_header[2048];
    char token_header[sizeof(signer->session_token) + 32], date_header[64];
    const char *headers[6] = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8"};
    struct http_request req = {"POST", url, headers, form, form_len};
    struct http_response resp;
    size_t nh = 1;
    int rc;

    *skewed = false;
    if (signer) {
        uint8_t digest[CRYPTO_SHA256_BYTES];
        struct buf authz;
        awstime_amz_date(awstime_now(), date);
        split_url(url, host, sizeof(host), path, sizeof(path));
        crypto_sha256(form, form_len, digest);
        crypto_hex(digest, sizeof(digest), hash);
        struct sigv4_header sh[4] = {
            {"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
            {"host", host},
            {"x-amz-date", date},
            {"x-amz-security-token", signer->session_token},
        };
        struct sigv4_request sr = {"POST", path, NULL, sh, signer->session_token[0] ? 4 : 3,
                                   hash,   true};
        struct sigv4_credentials sc = {signer->access_key_id, signer->secret_access_key,
                                       signer->session_token[0] ? signer->session_token : NULL};
        struct sigv4_scope scope = {date, region ? region : "us-east-1", "sts"};
        buf_init(&authz, sizeof(authz_header) - 32);
        if (sigv4_authorization(&sr, &sc, &scope, &authz, err) < 0) {
            buf_cleanup(&authz);
            return perr_wrap(err, "signing the STS request");
        }
        snprintf(authz_header, sizeof(authz_header), "Authorization: %s", authz.data);
        buf_cleanup(&authz);
        snprintf(date_header, sizeof(date_header), "X-Amz-Date: %s", date);
        headers[nh++] = date_header;
        headers[nh++] = authz_header;
        if (signer->session_token[0]) {
            snprintf(token_header, sizeof(token_header), "X-Amz-Security-Token: %s",
                     signer->session_token);
            headers[nh++] = token_header;
        }
    }
    headers[nh] = NULL;
    http_response_init(&resp);
    rc = http_do(&req, opts, &resp, err);
    /* A clock that is off fails the signature: learn the offset from the answer's Date. */
    *skewed = rc == 0 && signer && resp.status >= 400 && awstime_is_skew_error(resp.body.data) &&
              awstime_correct_from_date(resp.date) != 0;
    /* STS answers errors as XML too, so the body says what went wrong whatever the status. */
    if (rc == 0)
        rc = creds_parse_sts_xml(resp.body.data ? resp.body.data : "", resp.body.len, out, err);
    if (rc < 0 && resp.status && resp.status != 200 && err->code != PERR_AUTH)
        perr_set(err, PERR_HTTP, "POST %s: HTTP %ld", url, resp.status);
    if (resp.body.data)
        explicit_bzero(resp.body.data, resp.body.len);
    http_response_cleanup(&resp);
    if (signer)
        explicit_bzero(token_header, sizeof(token_header));
    return rc;
}

int sts_post(const char *url,
             const char *form,
             size_t form_len,
             const struct creds *signer,
             const char *region,
             const struct http_opts *opts,
             struct creds *out,
             struct perr *err)
{
    bool skewed = false;
    int rc = post_once(url, form, form_len, signer, region, opts, out, &skewed, err);

    if (rc < 0 && skewed)
        rc = post_once(url, form, form_len, signer, region, opts, out, &skewed, err);
    return rc;
}
