/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/eks_token and lib/base64: the golden EKS tokens of
 * contract/launcher-apis.md §2.4, which botocore and an independent presigner agree on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base64.h"
#include "lib/eks_token.h"

#define AT_20240102T030405Z 1704164645

static void example_creds(struct creds *c, const char *token)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->access_key_id, sizeof(c->access_key_id), "AKIDEXAMPLE");
    snprintf(c->secret_access_key, sizeof(c->secret_access_key),
             "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    snprintf(c->session_token, sizeof(c->session_token), "%s", token);
}

static void test_eks_token_matches_the_golden_vectors(void **state)
{
    static const char url_us_east_1[] =
        "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&"
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240102%2Fus-east-1%2F"
        "sts%2Faws4_request&X-Amz-Date=20240102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders="
        "host%3Bx-k8s-aws-id&X-Amz-Signature="
        "b9c52540c7aed8adbc93935c90eca6cf36a27e75841b841bf1c08dffb059c2b5";
    static const char token_us_east_1[] =
        "k8s-aws-v1.aHR0cHM6Ly9zdHMudXMtZWFzdC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGV"
        "udGl0eSZWZXJzaW9uPTIwMTEtMDYtMTUmWC1BbXotQWxnb3JpdGhtPUFXUzQtSE1BQy1TSEEyNTYmWC1BbXotQ3"
        "JlZGVudGlhbD1BS0lERVhBTVBMRSUyRjIwMjQwMTAyJTJGdXMtZWFzdC0xJTJGc3RzJTJGYXdzNF9yZXF1ZXN0Jl"
        "gtQW16LURhdGU9MjAyNDAxMDJUMDMwNDA1WiZYLUFtei1FeHBpcmVzPTYwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG"
        "9zdCUzQngtazhzLWF3cy1pZCZYLUFtei1TaWduYXR1cmU9YjljNTI1NDBjN2FlZDhhZGJjOTM5MzVjOTBlY2E2Y2"
        "YzNmEyN2U3NTg0MWI4NDFiZjFjMDhkZmZiMDU5YzJiNQ";
    struct creds c;
    struct perr e = {0};
    struct buf token, url;

    (void)state;
    buf_init(&token, 1 << 16);
    buf_init(&url, 1 << 16);
    example_creds(&c, "");
    assert_int_equal(
        eks_token(&c, "us-east-1", "my-cluster", NULL, AT_20240102T030405Z, &token, &url, &e), 0);
    assert_string_equal(url.data, url_us_east_1);
    assert_string_equal(token.data, token_us_east_1);

    /* with a session token, and on the global host of Debian's botocore */
    buf_reset(&url);
    example_creds(&c, "SESSIONTOKEN/EXAMPLE+=");
    assert_int_equal(
        eks_token(&c, "eu-west-1", "my-cluster", NULL, AT_20240102T030405Z, &token, &url, &e), 0);
    assert_non_null(strstr(url.data,
                           "X-Amz-Signature="
                           "6ae4eba01d075a720a8d5eaa7cfa8215e549130bbb1ce1d3a93ed873eb3dc90e"));
    assert_non_null(strstr(url.data, "X-Amz-Security-Token=SESSIONTOKEN%2FEXAMPLE%2B%3D"));
    buf_reset(&url);
    example_creds(&c, "");
    assert_int_equal(eks_token(&c, "us-east-1", "my-cluster", "sts.amazonaws.com",
                               AT_20240102T030405Z, &token, &url, &e),
                     0);
    assert_non_null(strstr(url.data, "https://sts.amazonaws.com/?"));
    assert_non_null(strstr(url.data,
                           "X-Amz-Signature="
                           "1b99ca65d791fa1e13f0981fdbbe487dcde7724174e39abfd7cb3da9a6383bd5"));
    buf_cleanup(&token);
    buf_cleanup(&url);
}

static void test_base64_round_trips_and_refuses_garbage(void **state)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const encoded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                          "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    struct perr e = {0};
    struct buf b;

    (void)state;
    buf_init(&b, 1 << 16);
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) { /* RFC 4648 §10 */
        buf_reset(&b);
        assert_int_equal(base64_encode(&b, plain[i], strlen(plain[i]), false, &e), 0);
        assert_string_equal(b.len ? b.data : "", encoded[i]);
        buf_reset(&b);
        assert_int_equal(base64_decode(&b, encoded[i], strlen(encoded[i]), &e), 0);
        assert_int_equal(b.len, strlen(plain[i]));
        assert_memory_equal(b.len ? b.data : "", plain[i], b.len);
    }
    buf_reset(&b);
    assert_int_equal(base64_encode(&b, "\xfb\xff", 2, true, &e), 0);
    assert_string_equal(b.data, "-_8"); /* URL-safe, unpadded */
    buf_reset(&b);
    assert_int_equal(base64_decode(&b, "Zm9v\nYmFy\n", 10, &e), 0); /* PEM line breaks */
    assert_memory_equal(b.data, "foobar", 6);
    assert_int_equal(base64_decode(&b, "Zm9v!", 5, &e), -1);
    assert_non_null(strstr(e.msg, "position 4"));
    assert_int_equal(base64_decode(&b, "Zm9vY", 5, &e), -1);  /* a cut-off byte */
    assert_int_equal(base64_decode(&b, "Zg==Zg", 6, &e), -1); /* data after padding */
    buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eks_token_matches_the_golden_vectors),
        cmocka_unit_test(test_base64_round_trips_and_refuses_garbage),
    };
    return cmocka_run_group_tests_name("eks_token", tests, NULL, NULL);
}
