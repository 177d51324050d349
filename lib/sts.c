/* SPDX-License-Identifier: MIT */
/* STS requests: form bodies, optional SigV4, XML answers (contract/aws-credentials.md §1a, §1g). */
#include "lib/sts.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/awssign.h"
#include "lib/awstime.h"
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
    static const char form_type[] = "application/x-www-form-urlencoded; charset=utf-8";
    static const char *const unsigned_headers[] = {
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8", NULL};
    struct awssign_headers signed_headers;
    struct http_request req = {.method = "POST",
                               .url = url,
                               .headers = unsigned_headers,
                               .body = form,
                               .body_len = form_len};
    struct http_response resp;
    int rc;

    *skewed = false;
    if (signer) {
        struct awssign_call call = {.method = "POST",
                                    .url = url,
                                    .content_type = form_type,
                                    .body = form,
                                    .body_len = form_len,
                                    .region = region ? region : "us-east-1",
                                    .service = "sts"};
        if (awssign_headers(&call, signer, &signed_headers, err) < 0)
            return -1;
        req.headers = signed_headers.lines;
    }
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
        awssign_wipe(&signed_headers);
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
