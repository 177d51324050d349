/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/sigv4: every case of both AWS SigV4 suites in shared/testdata/sigv4, each
 * stage against its expected file, plus SageMaker's golden CreateTrainingJob signature. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/crypto.h"
#include "lib/jdoc.h"
#include "lib/sigv4.h"

#define MAX_HEADERS 32

static const char *vectors(void)
{
    const char *v = getenv("PARITY_SIGV4_VECTORS");

    return v ? v : "../shared/testdata/sigv4";
}

/* Reads a whole file; NULL if it does not exist. */
static char *slurp(const char *path, size_t *len)
{
    struct buf b;
    struct perr e = {0};

    buf_init(&b, 1 << 22);
    if (buf_read_file(&b, path, &e) < 0) {
        buf_cleanup(&b);
        return NULL;
    }
    if (len)
        *len = b.len;
    return buf_steal(&b);
}

/* A request from a suite file: "METHOD TARGET HTTP/1.1", "Name:value" lines (a line starting
 * with a space continues the previous value), an empty line, the body. */
struct parsed {
    char *text;
    char method[16];
    char *path, *query, *body;
    size_t body_len;
    struct sigv4_header headers[MAX_HEADERS];
    char *names[MAX_HEADERS], *values[MAX_HEADERS];
    size_t count;
};

static void parse_request(char *text, struct parsed *p)
{
    char *line_end = strchr(text, '\n'), *target, *version, *cur;

    memset(p, 0, sizeof(*p));
    p->text = text;
    assert_non_null(line_end);
    *line_end = '\0';
    target = strchr(text, ' ');
    version = strrchr(text, ' ');
    assert_true(target && version && target < version);
    snprintf(p->method, sizeof(p->method), "%.*s", (int)(target - text), text);
    *version = '\0';
    p->path = target + 1;
    p->query = strchr(p->path, '?');
    if (p->query)
        *p->query++ = '\0';
    cur = line_end + 1;
    while (*cur && *cur != '\n') {
        char *end = strchr(cur, '\n');
        size_t n = end ? (size_t)(end - cur) : strlen(cur);
        if ((*cur == ' ' || *cur == '\t') && p->count) {
            size_t old = strlen(p->values[p->count - 1]);
            p->values[p->count - 1] = realloc(p->values[p->count - 1], old + n + 2);
            p->values[p->count - 1][old] = '\n';
            memcpy(p->values[p->count - 1] + old + 1, cur, n);
            p->values[p->count - 1][old + 1 + n] = '\0';
        } else {
            char *colon = memchr(cur, ':', n);
            assert_non_null(colon);
            assert_true(p->count < MAX_HEADERS);
            p->names[p->count] = strndup(cur, (size_t)(colon - cur));
            p->values[p->count] = strndup(colon + 1, n - (size_t)(colon - cur) - 1);
            p->count++;
        }
        cur = end ? end + 1 : cur + n;
    }
    p->body = *cur == '\n' ? cur + 1 : cur;
    p->body_len = strlen(p->body);
}

static void add_header(struct parsed *p, const char *name, const char *value)
{
    p->names[p->count] = strdup(name);
    p->values[p->count] = strdup(value);
    p->count++;
}

static int find_header(const struct parsed *p, const char *name)
{
    for (size_t i = 0; i < p->count; i++) {
        if (strcasecmp(p->names[i], name) == 0)
            return (int)i;
    }
    return -1;
}

static void drop_header(struct parsed *p, int i)
{
    free(p->names[i]);
    free(p->values[i]);
    memmove(&p->names[i], &p->names[i + 1], (p->count - (size_t)i - 1) * sizeof(char *));
    memmove(&p->values[i], &p->values[i + 1], (p->count - (size_t)i - 1) * sizeof(char *));
    p->count--;
}

static void free_parsed(struct parsed *p)
{
    for (size_t i = 0; i < p->count; i++) {
        free(p->names[i]);
        free(p->values[i]);
    }
    free(p->text);
}

static struct sigv4_request as_request(struct parsed *p, char *hash, bool normalize)
{
    uint8_t digest[CRYPTO_SHA256_BYTES];

    for (size_t i = 0; i < p->count; i++)
        p->headers[i] = (struct sigv4_header){p->names[i], p->values[i]};
    crypto_sha256(p->body, p->body_len, digest);
    crypto_hex(digest, sizeof(digest), hash);
    return (struct sigv4_request){
        .method = p->method,
        .path = p->path,
        .query = p->query,
        .headers = p->headers,
        .header_count = p->count,
        .payload_hash = hash,
        .normalize_path = normalize,
    };
}

static void expect_file(const char *dir, const char *name, const char *got, const char *what)
{
    char path[1024];
    char *want;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    want = slurp(path, NULL);
    if (!want)
        fail_msg("missing %s", path);
    if (strcmp(want, got) != 0)
        fail_msg("%s: %s differs\n--- want\n%s\n--- got\n%s", dir, what, want, got);
    free(want);
}

/* One case of the classic suite: <dir>/<name>.{req,creq,sts,authz}. */
static void run_classic_case(const char *dir, const char *name)
{
    static const struct sigv4_credentials creds_base = {
        "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};
    struct sigv4_credentials creds = creds_base;
    char path[1024], hash[65], file[300], *creq_want, *token_line;
    struct parsed p;
    struct buf creq, signed_headers, sts, authz;
    struct perr e = {0};
    struct sigv4_request r;
    int date_at, token_at;

    snprintf(path, sizeof(path), "%s/%s.req", dir, name);
    parse_request(slurp(path, NULL), &p);
    snprintf(path, sizeof(path), "%s/%s.creq", dir, name);
    creq_want = slurp(path, NULL);
    /* The session token is in the expected canonical request, not always in the .req file;
     * post-sts-header-after adds it after signing, so it is not signed there. */
    token_line = strstr(creq_want, "x-amz-security-token:");
    token_at = find_header(&p, "X-Amz-Security-Token");
    if (token_line && token_at < 0) {
        char token[1024];
        snprintf(token, sizeof(token), "%.*s", (int)strcspn(token_line + 21, "\n"),
                 token_line + 21);
        add_header(&p, "X-Amz-Security-Token", token);
    } else if (!token_line && token_at >= 0) {
        drop_header(&p, token_at);
    }
    free(creq_want);
    date_at = find_header(&p, "X-Amz-Date");
    assert_true(date_at >= 0);
    r = as_request(&p, hash, true);
    struct sigv4_scope scope = {p.values[date_at], "us-east-1", "service"};
    buf_init(&creq, 1 << 20);
    buf_init(&signed_headers, 1 << 20);
    buf_init(&sts, 1 << 20);
    buf_init(&authz, 1 << 20);
    assert_int_equal(sigv4_canonical_request(&r, &creq, &signed_headers, &e), 0);
    snprintf(file, sizeof(file), "%s.creq", name);
    expect_file(dir, file, creq.data, "canonical request");
    assert_int_equal(sigv4_string_to_sign(&scope, creq.data, creq.len, &sts, &e), 0);
    snprintf(file, sizeof(file), "%s.sts", name);
    expect_file(dir, file, sts.data, "string to sign");
    assert_int_equal(sigv4_authorization(&r, &creds, &scope, &authz, &e), 0);
    snprintf(file, sizeof(file), "%s.authz", name);
    expect_file(dir, file, authz.data, "authorization");
    buf_cleanup(&creq);
    buf_cleanup(&signed_headers);
    buf_cleanup(&sts);
    buf_cleanup(&authz);
    free_parsed(&p);
}

static int classic_cases(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    assert_non_null(d);
    while ((de = readdir(d))) {
        char sub[1024], req[1300];
        struct stat st;
        if (de->d_name[0] == '.' || strcmp(de->d_name, "aws-c-auth-v4") == 0)
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
        if (stat(sub, &st) < 0 || !S_ISDIR(st.st_mode))
            continue;
        snprintf(req, sizeof(req), "%s/%s.req", sub, de->d_name);
        if (access(req, R_OK) == 0) {
            run_classic_case(sub, de->d_name);
            n++;
        } else {
            n += classic_cases(sub); /* normalize-path/, post-sts-token/ */
        }
    }
    closedir(d);
    return n;
}

static void test_sigv4_classic_suite(void **state)
{
    (void)state;
    /* 24 top-level cases, 8 under normalize-path, 2 under post-sts-token */
    assert_int_equal(classic_cases(vectors()), 34);
}

/* One case of the aws-c-auth suite: context.json, request.txt, header-* and query-* files. */
static void run_crt_case(const char *dir)
{
    char path[1024], hash[65], date[32], sig[65];
    struct parsed p, q;
    struct perr e = {0};
    size_t len;
    char *ctx_text;
    struct jdoc *ctx;
    const struct jdoc *creds_doc;
    const char *ts, *token;
    bool normalize, sign_body, omit_token;
    struct buf creq, signed_headers, sts, out;

    snprintf(path, sizeof(path), "%s/context.json", dir);
    ctx_text = slurp(path, &len);
    ctx = jdoc_parse(ctx_text, len, NULL, &e);
    assert_non_null(ctx);
    creds_doc = jdoc_get(ctx, "credentials");
    ts = jdoc_get_str(ctx, "timestamp"); /* 2015-08-30T12:36:00Z */
    snprintf(date, sizeof(date), "%.4s%.2s%.2sT%.2s%.2s%.2sZ", ts, ts + 5, ts + 8, ts + 11, ts + 14,
             ts + 17);
    token = jdoc_get_str(creds_doc, "token");
    normalize = jdoc_get(ctx, "normalize")->type == JDOC_TRUE;
    sign_body = jdoc_get(ctx, "sign_body")->type == JDOC_TRUE;
    omit_token = jdoc_get(ctx, "omit_session_token") &&
                 jdoc_get(ctx, "omit_session_token")->type == JDOC_TRUE;
    struct sigv4_credentials creds = {jdoc_get_str(creds_doc, "access_key_id"),
                                      jdoc_get_str(creds_doc, "secret_access_key"),
                                      omit_token ? NULL : token};
    struct sigv4_scope scope = {date, jdoc_get_str(ctx, "region"), jdoc_get_str(ctx, "service")};

    /* Header form: X-Amz-Date, the token and the body hash are headers, all signed. */
    snprintf(path, sizeof(path), "%s/request.txt", dir);
    parse_request(slurp(path, NULL), &p);
    add_header(&p, "X-Amz-Date", date);
    if (creds.session_token)
        add_header(&p, "X-Amz-Security-Token", creds.session_token);
    struct sigv4_request r = as_request(&p, hash, normalize);
    if (sign_body) {
        add_header(&p, "X-Amz-Content-Sha256", hash);
        r = as_request(&p, hash, normalize);
    }
    buf_init(&creq, 1 << 20);
    buf_init(&signed_headers, 1 << 20);
    buf_init(&sts, 1 << 20);
    buf_init(&out, 1 << 20);
    assert_int_equal(sigv4_canonical_request(&r, &creq, &signed_headers, &e), 0);
    expect_file(dir, "header-canonical-request.txt", creq.data, "header canonical request");
    assert_int_equal(sigv4_string_to_sign(&scope, creq.data, creq.len, &sts, &e), 0);
    expect_file(dir, "header-string-to-sign.txt", sts.data, "header string to sign");
    sigv4_signature(creds.secret_access_key, &scope, sts.data, sts.len, sig);
    expect_file(dir, "header-signature.txt", sig, "header signature");

    /* Query form: the X-Amz-* parameters are in the query, the signature last. */
    snprintf(path, sizeof(path), "%s/request.txt", dir);
    parse_request(slurp(path, NULL), &q);
    struct sigv4_request rq = as_request(&q, hash, normalize);
    unsigned expires = (unsigned)strtoul(jdoc_get(ctx, "expiration_in_seconds")->text, NULL, 10);
    assert_int_equal(sigv4_presign(&rq, &creds, &scope, expires, &out, &e), 0);
    /* The signed query minus its signature is what the canonical request was made from. */
    char *sig_at = strstr(out.data, "&X-Amz-Signature=");
    assert_non_null(sig_at);
    expect_file(dir, "query-signature.txt", sig_at + 17, "query signature");
    *sig_at = '\0';
    rq.query = out.data;
    buf_reset(&creq);
    buf_reset(&signed_headers);
    buf_reset(&sts);
    assert_int_equal(sigv4_canonical_request(&rq, &creq, &signed_headers, &e), 0);
    expect_file(dir, "query-canonical-request.txt", creq.data, "query canonical request");
    assert_int_equal(sigv4_string_to_sign(&scope, creq.data, creq.len, &sts, &e), 0);
    expect_file(dir, "query-string-to-sign.txt", sts.data, "query string to sign");

    buf_cleanup(&creq);
    buf_cleanup(&signed_headers);
    buf_cleanup(&sts);
    buf_cleanup(&out);
    free_parsed(&p);
    free_parsed(&q);
    jdoc_free(ctx);
    free(ctx_text);
}

static void test_sigv4_crt_suite(void **state)
{
    char dir[1024];
    DIR *d;
    struct dirent *de;
    int n = 0;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/aws-c-auth-v4", vectors());
    d = opendir(dir);
    assert_non_null(d);
    while ((de = readdir(d))) {
        char sub[1300], ctx[1400];
        snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
        snprintf(ctx, sizeof(ctx), "%s/context.json", sub);
        if (de->d_name[0] == '.' || access(ctx, R_OK) != 0)
            continue;
        run_crt_case(sub);
        n++;
    }
    closedir(d);
    assert_int_equal(n, 38);
}

/* contract/launcher-apis.md §1.1: botocore's signature for a captured CreateTrainingJob. */
static void test_sigv4_sagemaker_golden_vector(void **state)
{
    static const struct {
        const char *token, *signature;
    } cases[] = {
        {NULL, "0073ea4e72b73684a18595fb3aee057f01de38889a334d60628e44a4bfc56dff"},
        {"SESSIONTOKEN/EXAMPLE+=",
         "d884e1a38b733ca4064c2e6b3b0d930aad139562540ca90f2e7108fb80772f7e"},
    };

    char path[1024], hash[65];
    uint8_t digest[CRYPTO_SHA256_BYTES];
    size_t len;
    char *body;

    (void)state;
    snprintf(path, sizeof(path), "%s/../launcher/golden_create_training_job_body.json", vectors());
    body = slurp(path, &len);
    assert_non_null(body);
    assert_int_equal(len, 988);
    crypto_sha256(body, len, digest);
    crypto_hex(digest, sizeof(digest), hash);
    for (size_t i = 0; i < 2; i++) {
        struct sigv4_header h[5] = {
            {"Content-Type", "application/x-amz-json-1.1"},
            {"Host", "api.sagemaker.us-east-1.amazonaws.com"},
            {"X-Amz-Date", "20240102T030405Z"},
            {"X-Amz-Target", "SageMaker.CreateTrainingJob"},
            {"X-Amz-Security-Token", cases[i].token},
        };
        struct sigv4_request r = {"POST", "/", NULL, h, cases[i].token ? 5 : 4, hash, true};
        struct sigv4_credentials c = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                      cases[i].token};
        struct sigv4_scope sc = {"20240102T030405Z", "us-east-1", "sagemaker"};
        struct buf authz;
        struct perr e = {0};
        buf_init(&authz, 4096);
        assert_int_equal(sigv4_authorization(&r, &c, &sc, &authz, &e), 0);
        assert_non_null(strstr(authz.data, cases[i].signature));
        buf_cleanup(&authz);
    }
    free(body);
}

static void test_sigv4_s3_paths_are_encoded_once(void **state)
{
    struct sigv4_header h[] = {{"host", "bucket.s3.amazonaws.com"},
                               {"x-amz-date", "20150830T123600Z"}};
    struct sigv4_request r = {
        "GET", "/dir//a b+c%/../k", "list-type=2&prefix=a%2Fb", h, 2, SIGV4_UNSIGNED_PAYLOAD,
        false};
    struct buf creq, sh;
    struct perr e = {0};

    (void)state;
    buf_init(&creq, 4096);
    buf_init(&sh, 4096);
    assert_int_equal(sigv4_canonical_request(&r, &creq, &sh, &e), 0);
    /* No normalisation, each byte encoded once, '/' kept; the query re-encoded and sorted. */
    assert_string_equal(creq.data, "GET\n/dir//a%20b%2Bc%25/../k\nlist-type=2&prefix=a%2Fb\n"
                                   "host:bucket.s3.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                                   "host;x-amz-date\nUNSIGNED-PAYLOAD");
    buf_cleanup(&creq);
    buf_cleanup(&sh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigv4_classic_suite),
        cmocka_unit_test(test_sigv4_crt_suite),
        cmocka_unit_test(test_sigv4_sagemaker_golden_vector),
        cmocka_unit_test(test_sigv4_s3_paths_are_encoded_once),
    };
    return cmocka_run_group_tests_name("sigv4", tests, NULL, NULL);
}
