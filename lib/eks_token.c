/* SPDX-License-Identifier: MIT */
/* EKS tokens: a SigV4 query presign with one extra signed header. */
#include "lib/eks_token.h"

#include <stdio.h>

#include "lib/awstime.h"
#include "lib/base64.h"
#include "lib/sigv4.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

int eks_token(const struct creds *c,
              const char *region,
              const char *cluster,
              const char *sts_host,
              int64_t now,
              struct buf *out,
              struct buf *url,
              struct perr *err)
{
    char host[256], date[17];
    struct sigv4_header headers[] = {{"host", host}, {"x-k8s-aws-id", cluster}};
    struct sigv4_request r = {.method = "GET",
                              .path = "/",
                              .query = "Action=GetCallerIdentity&Version=2011-06-15",
                              .headers = headers,
                              .header_count = 2,
                              .payload_hash = EMPTY_SHA256};
    struct sigv4_credentials k = {c->access_key_id, c->secret_access_key,
                                  c->session_token[0] ? c->session_token : NULL};
    struct sigv4_scope scope = {date, region, "sts"};
    struct buf query, full;
    int rc;

    if (sts_host)
        snprintf(host, sizeof(host), "%s", sts_host);
    else
        snprintf(host, sizeof(host), "sts.%s.amazonaws.com", region);
    awstime_amz_date(now, date);
    buf_init(&query, 64u * 1024);
    buf_init(&full, 64u * 1024);
    /* X-Amz-Expires says 60, as the CLI's; the server allows 15 minutes from X-Amz-Date anyway */
    rc = sigv4_presign(&r, &k, &scope, 60, &query, err);
    if (rc == 0)
        rc = buf_printf(&full, err, "https://%s/?%s", host, query.data);
    if (rc == 0)
        rc = buf_append_str(out, "k8s-aws-v1.", err);
    if (rc == 0)
        rc = base64_encode(out, full.data, full.len, true, err);
    if (rc == 0 && url)
        rc = buf_append(url, full.data, full.len, err);
    buf_cleanup(&query);
    buf_cleanup(&full);
    return rc;
}
