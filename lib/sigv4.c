/* SPDX-License-Identifier: MIT */
/* SigV4 (docs.aws.amazon.com/general/latest/gr/sigv4_signing.html), checked against the AWS
 * test suites in shared/testdata/sigv4. */
#include "lib/sigv4.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crypto.h"

#define SIGV4_MAX_BYTES    (8u * 1024 * 1024)
#define SIGV4_MAX_PARAMS   1024
#define SIGV4_MAX_HEADERS  128
#define SIGV4_MAX_SEGMENTS 512

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

int sigv4_uri_encode(struct buf *b, const char *s, size_t len, bool keep_slash, struct perr *err)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[3] = {'%', hex[c >> 4], hex[c & 0xf]};
        int rc = unreserved(c) || (keep_slash && c == '/') ? buf_append(b, &s[i], 1, err)
                                                           : buf_append(b, esc, 3, err);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Removes "." and ".." segments and empty ones (RFC 3986 §5.2.4, plus //), keeping a final
 * slash: "/a/./b/../c//" -> "/a/c/". */
static int normalized_path(const char *path, struct buf *out, struct perr *err)
{
    const char *segs[SIGV4_MAX_SEGMENTS];
    size_t lens[SIGV4_MAX_SEGMENTS], n = 0, len = strlen(path);
    bool trailing = len > 1 && path[len - 1] == '/';

    for (const char *p = path; *p;) {
        size_t l;
        p += strspn(p, "/");
        l = strcspn(p, "/");
        if (l == 0)
            break;
        if (l == 1 && p[0] == '.') {
            /* skip */
        } else if (l == 2 && p[0] == '.' && p[1] == '.') {
            if (n)
                n--;
        } else {
            if (n == SIGV4_MAX_SEGMENTS)
                return perr_set(err, PERR_LIMIT, "path has more than %d segments",
                                SIGV4_MAX_SEGMENTS);
            segs[n] = p;
            lens[n++] = l;
        }
        p += l;
    }
    if (n == 0)
        return buf_append(out, "/", 1, err);
    for (size_t i = 0; i < n; i++) {
        if (buf_append(out, "/", 1, err) < 0 ||
            sigv4_uri_encode(out, segs[i], lens[i], false, err) < 0)
            return -1;
    }
    return trailing ? buf_append(out, "/", 1, err) : 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes %XX (leaving malformed escapes as they are), then encodes the SigV4 way. */
static int reencode(struct buf *out, const char *s, size_t len, struct perr *err)
{
    struct buf raw;
    int rc = 0;

    buf_init(&raw, SIGV4_MAX_BYTES);
    for (size_t i = 0; rc == 0 && i < len; i++) {
        char c = s[i];
        if (c == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        }
        rc = buf_append(&raw, &c, 1, err);
    }
    if (rc == 0)
        rc = sigv4_uri_encode(out, raw.data ? raw.data : "", raw.len, false, err);
    buf_cleanup(&raw);
    return rc;
}

struct param {
    char *pair; /* "key=value", encoded */
    size_t key_len;
};

static int compare_params(const void *a, const void *b)
{
    const struct param *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->pair, y->pair, n);

    if (c)
        return c;
    if (x->key_len != y->key_len)
        return x->key_len < y->key_len ? -1 : 1;
    return strcmp(x->pair + x->key_len, y->pair + y->key_len);
}

/* Parameters encoded, sorted by key then value, joined with '&'; "key" alone becomes "key=". */
static int canonical_query(const char *query, struct buf *out, struct perr *err)
{
    struct param *params = NULL;
    size_t n = 0;
    int rc = 0;

    for (const char *p = query; rc == 0 && p && *p;) {
        size_t l = strcspn(p, "&"), k = strcspn(p, "=");
        struct buf pair;
        if (l == 0) {
            p++;
            continue;
        }
        if (k > l)
            k = l;
        if (n == SIGV4_MAX_PARAMS) {
            rc = perr_set(err, PERR_LIMIT, "query has more than %d parameters", SIGV4_MAX_PARAMS);
            break;
        }
        buf_init(&pair, SIGV4_MAX_BYTES);
        rc = reencode(&pair, p, k, err);
        size_t key_len = pair.len;
        if (rc == 0)
            rc = buf_append(&pair, "=", 1, err);
        if (rc == 0 && k < l)
            rc = reencode(&pair, p + k + 1, l - k - 1, err);
        if (rc == 0) {
            struct param *grown = realloc(params, (n + 1) * sizeof(*params));
            if (!grown) {
                rc = perr_set(err, PERR_NOMEM, "out of memory signing a request");
            } else {
                params = grown;
                params[n].key_len = key_len;
                params[n++].pair = buf_steal(&pair);
            }
        }
        buf_cleanup(&pair);
        p += l + (p[l] == '&');
    }
    if (rc == 0 && n > 1)
        qsort(params, n, sizeof(*params), compare_params);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (i)
            rc = buf_append(out, "&", 1, err);
        if (rc == 0)
            rc = buf_append_str(out, params[i].pair, err);
    }
    for (size_t i = 0; i < n; i++)
        free(params[i].pair);
    free(params);
    return rc;
}

struct header_line {
    char *name;  /* lowercase */
    char *value; /* trimmed, inner whitespace folded to one space */
};

static int compare_headers(const void *a, const void *b)
{
    return strcmp(((const struct header_line *)a)->name, ((const struct header_line *)b)->name);
}

static char *folded(const char *v)
{
    char *out = malloc(strlen(v) + 1);
    size_t n = 0;
    bool space = false;

    if (!out)
        return NULL;
    for (const char *p = v; *p; p++) {
        if (isspace((unsigned char)*p)) {
            space = n > 0;
            continue;
        }
        if (space)
            out[n++] = ' ';
        space = false;
        out[n++] = *p;
    }
    out[n] = '\0';
    return out;
}

/* Headers lowercased and sorted; repeated names joined with ',' in the order given. */
static int canonical_headers(const struct sigv4_request *r,
                             struct buf *out,
                             struct buf *signed_list,
                             struct perr *err)
{
    struct header_line lines[SIGV4_MAX_HEADERS];
    size_t n = 0;
    int rc = 0;

    if (r->header_count > SIGV4_MAX_HEADERS)
        return perr_set(err, PERR_LIMIT, "more than %d headers to sign", SIGV4_MAX_HEADERS);
    for (size_t i = 0; i < r->header_count; i++) {
        lines[n].name = strdup(r->headers[i].name);
        lines[n].value = folded(r->headers[i].value);
        if (!lines[n].name || !lines[n].value) {
            free(lines[n].name);
            free(lines[n].value);
            rc = perr_set(err, PERR_NOMEM, "out of memory signing a request");
            break;
        }
        for (char *p = lines[n].name; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        n++;
    }
    /* A stable merge of repeated names keeps their values in request order. */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        for (size_t k = i + 1; k < n; k++) {
            if (strcmp(lines[i].name, lines[k].name) != 0)
                continue;
            size_t a = strlen(lines[i].value), b = strlen(lines[k].value);
            char *joined = malloc(a + b + 2);
            if (!joined) {
                rc = perr_set(err, PERR_NOMEM, "out of memory signing a request");
                break;
            }
            memcpy(joined, lines[i].value, a);
            joined[a] = ',';
            memcpy(joined + a + 1, lines[k].value, b + 1);
            free(lines[i].value);
            lines[i].value = joined;
            free(lines[k].name);
            free(lines[k].value);
            memmove(&lines[k], &lines[k + 1], (n - k - 1) * sizeof(lines[0]));
            n--;
            k--;
        }
    }
    if (rc == 0)
        qsort(lines, n, sizeof(lines[0]), compare_headers);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = buf_printf(out, err, "%s:%s\n", lines[i].name, lines[i].value);
        if (rc == 0)
            rc = buf_printf(signed_list, err, "%s%s", i ? ";" : "", lines[i].name);
    }
    for (size_t i = 0; i < n; i++) {
        free(lines[i].name);
        free(lines[i].value);
    }
    return rc;
}

int sigv4_canonical_request(const struct sigv4_request *r,
                            struct buf *out,
                            struct buf *signed_headers,
                            struct perr *err)
{
    int rc = buf_printf(out, err, "%s\n", r->method);

    if (rc == 0)
        rc = r->normalize_path ? normalized_path(r->path, out, err)
                               : sigv4_uri_encode(out, r->path, strlen(r->path), true, err);
    if (rc == 0)
        rc = buf_append(out, "\n", 1, err);
    if (rc == 0)
        rc = canonical_query(r->query, out, err);
    if (rc == 0)
        rc = buf_append(out, "\n", 1, err);
    if (rc == 0)
        rc = canonical_headers(r, out, signed_headers, err);
    if (rc == 0)
        rc = buf_printf(out, err, "\n%s\n%s", signed_headers->data ? signed_headers->data : "",
                        r->payload_hash);
    return rc;
}

static void scope_text(const struct sigv4_scope *s, char *out, size_t len)
{
    snprintf(out, len, "%.8s/%s/%s/aws4_request", s->amz_date, s->region, s->service);
}

int sigv4_string_to_sign(const struct sigv4_scope *s,
                         const char *creq,
                         size_t creq_len,
                         struct buf *out,
                         struct perr *err)
{
    uint8_t digest[CRYPTO_SHA256_BYTES];
    char hex[2 * CRYPTO_SHA256_BYTES + 1], scope[256];

    crypto_sha256(creq, creq_len, digest);
    crypto_hex(digest, sizeof(digest), hex);
    scope_text(s, scope, sizeof(scope));
    return buf_printf(out, err, "AWS4-HMAC-SHA256\n%s\n%s\n%s", s->amz_date, scope, hex);
}

void sigv4_signature(
    const char *secret, const struct sigv4_scope *s, const char *sts, size_t sts_len, char hex[65])
{
    uint8_t k[CRYPTO_SHA256_BYTES];
    char seed[256];
    int n = snprintf(seed, sizeof(seed), "AWS4%s", secret);

    /* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
    crypto_hmac_sha256(seed, (size_t)n, s->amz_date, 8, k);
    crypto_hmac_sha256(k, sizeof(k), s->region, strlen(s->region), k);
    crypto_hmac_sha256(k, sizeof(k), s->service, strlen(s->service), k);
    crypto_hmac_sha256(k, sizeof(k), "aws4_request", 12, k);
    crypto_hmac_sha256(k, sizeof(k), sts, sts_len, k);
    crypto_hex(k, sizeof(k), hex);
    explicit_bzero(seed, sizeof(seed));
}

int sigv4_authorization(const struct sigv4_request *r,
                        const struct sigv4_credentials *c,
                        const struct sigv4_scope *s,
                        struct buf *out,
                        struct perr *err)
{
    struct buf creq, signed_headers, sts;
    char sig[65], scope[256];
    int rc;

    buf_init(&creq, SIGV4_MAX_BYTES);
    buf_init(&signed_headers, SIGV4_MAX_BYTES);
    buf_init(&sts, SIGV4_MAX_BYTES);
    rc = sigv4_canonical_request(r, &creq, &signed_headers, err);
    if (rc == 0)
        rc = sigv4_string_to_sign(s, creq.data, creq.len, &sts, err);
    if (rc == 0) {
        sigv4_signature(c->secret_access_key, s, sts.data, sts.len, sig);
        scope_text(s, scope, sizeof(scope));
        rc = buf_printf(out, err,
                        "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                        c->access_key_id, scope, signed_headers.data, sig);
    }
    buf_cleanup(&creq);
    buf_cleanup(&signed_headers);
    buf_cleanup(&sts);
    return rc;
}

int sigv4_presign(const struct sigv4_request *r,
                  const struct sigv4_credentials *c,
                  const struct sigv4_scope *s,
                  unsigned expires_s,
                  struct buf *out,
                  struct perr *err)
{
    struct sigv4_request q = *r;
    struct buf query, creq, signed_headers, sts, credential;
    char sig[65], scope[256];
    int rc;

    buf_init(&query, SIGV4_MAX_BYTES);
    buf_init(&creq, SIGV4_MAX_BYTES);
    buf_init(&signed_headers, SIGV4_MAX_BYTES);
    buf_init(&sts, SIGV4_MAX_BYTES);
    buf_init(&credential, SIGV4_MAX_BYTES);
    scope_text(s, scope, sizeof(scope));
    rc = buf_printf(&credential, err, "%s/%s", c->access_key_id, scope);
    /* The signed header list goes into the query, so work it out first. */
    if (rc == 0)
        rc = canonical_headers(r, &creq, &signed_headers, err);
    buf_reset(&creq);
    if (rc == 0 && r->query && *r->query)
        rc = buf_printf(&query, err, "%s&", r->query);
    if (rc == 0)
        rc = buf_append_str(&query, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=", err);
    if (rc == 0)
        rc = sigv4_uri_encode(&query, credential.data, credential.len, false, err);
    if (rc == 0)
        rc = buf_printf(&query, err, "&X-Amz-Date=%s&X-Amz-Expires=%u", s->amz_date, expires_s);
    if (rc == 0 && c->session_token) {
        rc = buf_append_str(&query, "&X-Amz-Security-Token=", err);
        if (rc == 0)
            rc = sigv4_uri_encode(&query, c->session_token, strlen(c->session_token), false, err);
    }
    if (rc == 0)
        rc = buf_append_str(&query, "&X-Amz-SignedHeaders=", err);
    if (rc == 0)
        rc = sigv4_uri_encode(&query, signed_headers.data, signed_headers.len, false, err);
    buf_reset(&signed_headers);
    q.query = query.data;
    if (rc == 0)
        rc = sigv4_canonical_request(&q, &creq, &signed_headers, err);
    if (rc == 0)
        rc = sigv4_string_to_sign(s, creq.data, creq.len, &sts, err);
    if (rc == 0) {
        sigv4_signature(c->secret_access_key, s, sts.data, sts.len, sig);
        rc = buf_printf(out, err, "%s&X-Amz-Signature=%s", query.data, sig);
    }
    buf_cleanup(&query);
    buf_cleanup(&creq);
    buf_cleanup(&signed_headers);
    buf_cleanup(&sts);
    buf_cleanup(&credential);
    return rc;
}
