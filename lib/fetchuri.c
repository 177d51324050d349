/* SPDX-License-Identifier: MIT */
/* Fetching a small document by URI: file, S3, HTTPS, SSM parameter, Secrets Manager secret. */
#include "lib/fetchuri.h"

#include <string.h>

#include "lib/http.h"
#include "lib/s3.h"
#include "lib/secretref.h"
#include "lib/secrets.h"

bool fetchuri_needs_credentials(const char *uri)
{
    return strncmp(uri, "arn:", 4) == 0 || strncmp(uri, "s3://", 5) == 0;
}

static int get_s3(const char *uri,
                  const struct envlist *env,
                  const struct creds *c,
                  size_t max_bytes,
                  struct buf *out,
                  struct perr *err)
{
    char bucket[64], key[S3_MAX_KEY + 1];
    struct s3_client s3;
    struct buf b;
    int rc;

    if (s3_parse_uri(uri, bucket, key, err) < 0 || s3_client_init(&s3, env, c, err) < 0)
        return perr_wrap(err, "%s", uri);
    if (!key[0])
        return perr_set(err, PERR_USAGE, "%s: names a bucket, not an object", uri);
    buf_init(&b, max_bytes);
    rc = s3_get_buf(&s3, bucket, key, &b, err);
    if (rc == 0)
        rc = buf_append(out, b.data ? b.data : "", b.len, err);
    buf_cleanup(&b);
    return rc;
}

/* Plain HTTP carries no integrity: only to this machine (an agent, a test server). The host is
 * read from the whole authority, so "http://127.0.0.1:80@elsewhere/" is not loopback. */
static bool loopback_http(const char *uri)
{
    static const char *const hosts[] = {"127.0.0.1", "localhost", "[::1]"};
    const char *auth = uri + 7;
    size_t len = strcspn(auth, "/?#"), host_len;

    if (strncmp(uri, "http://", 7) != 0 || memchr(auth, '@', len))
        return false;
    host_len = auth[0] == '[' ? strcspn(auth, "]") + 1 : strcspn(auth, ":/?#");
    if (host_len > len || (host_len < len && auth[host_len] != ':'))
        return false;
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        if (host_len == strlen(hosts[i]) && strncmp(auth, hosts[i], host_len) == 0)
            return true;
    }
    return false;
}

static int get_http(const char *uri, size_t max_bytes, struct buf *out, struct perr *err)
{
    struct http_request req = {.method = "GET", .url = uri};
    struct http_opts opts = {.max_body_bytes = max_bytes, .idempotent = true};
    struct http_response resp;
    int rc;

    http_response_init(&resp);
    rc = http_do(&req, &opts, &resp, err);
    if (rc == 0 && resp.status != 200)
        rc = perr_set(err, PERR_HTTP, "GET %s: HTTP %ld", uri, resp.status);
    if (rc == 0)
        rc = buf_append(out, resp.body.data ? resp.body.data : "", resp.body.len, err);
    http_response_cleanup(&resp);
    return rc;
}

static int get_arn(const char *uri,
                   const struct envlist *env,
                   const struct creds *c,
                   size_t max_bytes,
                   struct buf *out,
                   struct perr *err)
{
    struct secretref ref;
    char endpoint[1024], code[128];
    int rc;

    if (secretref_parse(uri, &ref, err) < 0)
        return perr_wrap(err, "%s", uri);
    if (ref.kind == SECRETREF_NONE)
        return perr_set(err, PERR_USAGE,
                        "%s: only SSM parameter and Secrets Manager ARNs name documents", uri);
    if (!c)
        return perr_set(err, PERR_AUTH, "%s: no AWS credentials to fetch it with", uri);
    secretref_endpoint(&ref, env, endpoint, sizeof(endpoint));
    rc = secrets_fetch(&ref, endpoint, c, out, code, err);
    if (rc == 0 && out->len > max_bytes)
        rc = perr_set(err, PERR_LIMIT, "%s: the document is over %zu bytes", uri, max_bytes);
    return rc;
}

int fetchuri_get(const char *uri,
                 const struct envlist *env,
                 const struct creds *c,
                 size_t max_bytes,
                 struct buf *out,
                 struct perr *err)
{
    if (strncmp(uri, "file://", 7) == 0) {
        struct buf b;
        int rc;
        buf_init(&b, max_bytes);
        rc = buf_read_file(&b, uri + 7, err);
        if (rc == 0)
            rc = buf_append(out, b.data ? b.data : "", b.len, err);
        buf_cleanup(&b);
        return rc < 0 ? perr_wrap(err, "%s", uri) : 0;
    }
    if (strncmp(uri, "https://", 8) == 0 || loopback_http(uri))
        return get_http(uri, max_bytes, out, err);
    if (strncmp(uri, "s3://", 5) == 0)
        return get_s3(uri, env, c, max_bytes, out, err);
    if (fetchuri_needs_credentials(uri))
        return get_arn(uri, env, c, max_bytes, out, err);
    return perr_set(err, PERR_USAGE,
                    "%s: use file://, s3://, https:// (http:// only to this machine), or an SSM "
                    "parameter or Secrets Manager ARN",
                    uri);
}
