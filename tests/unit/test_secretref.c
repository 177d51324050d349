/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/secretref, lib/secrets' field picking and lib/awsjson's error shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/awsjson.h"
#include "lib/secretref.h"
#include "lib/secrets.h"

static void test_secretref_recognises_both_services(void **state)
{
    struct secretref r;
    struct perr e = {0};

    (void)state;
    assert_int_equal(secretref_parse("arn:aws:ssm:eu-west-1:123456789012:parameter/app/db", &r, &e),
                     0);
    assert_int_equal(r.kind, SECRETREF_SSM);
    assert_string_equal(r.arn, "arn:aws:ssm:eu-west-1:123456789012:parameter/app/db");
    assert_string_equal(r.region, "eu-west-1");
    assert_string_equal(r.partition, "aws");
    assert_string_equal(r.key, "");

    assert_int_equal(secretref_parse("arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:"
                                     "prod/db-AbCdEf#password",
                                     &r, &e),
                     0);
    assert_int_equal(r.kind, SECRETREF_SECRETSMGR);
    assert_string_equal(r.arn,
                        "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:prod/db-AbCdEf");
    assert_string_equal(r.key, "password");
    assert_string_equal(r.partition, "aws-cn");
}

static void test_secretref_leaves_other_values_alone(void **state)
{
    static const char *const plain[] = {"",
                                        "hello",
                                        "arn",
                                        "arn:",
                                        "arn:aws:iam::123456789012:role/x",
                                        "arn:aws:s3:::bucket/key",
                                        "arn:aws:ssm",
                                        "s3://bucket/key",
                                        "arnold"};
    struct secretref r;
    struct perr e = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        assert_int_equal(secretref_parse(plain[i], &r, &e), 0);
        assert_int_equal(r.kind, SECRETREF_NONE);
    }
}

static void test_secretref_refuses_malformed_references(void **state)
{
    static const char *const bad[] = {
        "arn:aws:ssm:us-east-1:123456789012:parameter/",
        "arn:aws:ssm:us-east-1:123456789012:parameter",
        "arn:aws:ssm::123456789012:parameter/x",
        "arn:aws:ssm:us-east-1:12345:parameter/x",
        "arn:aws:ssm:us-east-1:12345678901a:parameter/x",
        "arn:aws:ssm:us-east-1:123456789012:document/x",
        "arn:aws:ssm:us-east-1:123456789012:parameter/a\"b",
        "arn:aws:ssm:us-east-1:123456789012:parameter/a b",
        "arn:aws:ssm:us-east-1:123456789012:parameter/a#b",
        "arn:aws:ssm:US-EAST-1:123456789012:parameter/x",
        "arn::ssm:us-east-1:123456789012:parameter/x",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:db#",
        "arn:aws:secretsmanager:us-east-1:123456789012:db",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:a\\b",
    };
    struct secretref r;
    struct perr e = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        e.code = PERR_OK;
        assert_int_equal(secretref_parse(bad[i], &r, &e), -1);
        assert_int_equal(e.code, PERR_USAGE);
    }
}

static void test_secretref_endpoints(void **state)
{
    struct secretref r;
    struct perr e = {0};
    struct envlist env = {0};
    char url[256];

    (void)state;
    assert_int_equal(secretref_parse("arn:aws:ssm:eu-west-1:123456789012:parameter/x", &r, &e), 0);
    secretref_endpoint(&r, NULL, url, sizeof(url));
    assert_string_equal(url, "https://ssm.eu-west-1.amazonaws.com/");
    assert_int_equal(envlist_set(&env, "AWS_ENDPOINT_URL_SSM", "", &e), 0);
    assert_int_equal(envlist_set(&env, "AWS_ENDPOINT_URL", "http://127.0.0.1:9/", &e), 0);
    secretref_endpoint(&r, &env, url, sizeof(url));
    assert_string_equal(url, "http://127.0.0.1:9/");
    assert_int_equal(envlist_set(&env, "AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:8/", &e), 0);
    secretref_endpoint(&r, &env, url, sizeof(url));
    assert_string_equal(url, "http://127.0.0.1:8/");
    assert_int_equal(
        secretref_parse("arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x", &r, &e), 0);
    secretref_endpoint(&r, &env, url, sizeof(url));
    assert_string_equal(url, "http://127.0.0.1:9/"); /* the SSM override is not for this service */
    secretref_endpoint(&r, NULL, url, sizeof(url));
    assert_string_equal(url, "https://secretsmanager.cn-north-1.amazonaws.com.cn/");
    envlist_cleanup(&env);
}

static void test_secrets_pick_field(void **state)
{
    static const char secret[] =
        "{\"user\": \"app\", \"port\": 5432, \"opts\": {\"b\": 1, \"a\": true}}";
    struct perr e = {0};
    struct buf out;

    (void)state;
    buf_init(&out, 1024);
    assert_int_equal(secrets_pick_field(secret, strlen(secret), "user", &out, &e), 0);
    assert_string_equal(out.data, "app");
    out.len = 0;
    assert_int_equal(secrets_pick_field(secret, strlen(secret), "port", &out, &e), 0);
    assert_string_equal(out.data, "5432");
    out.len = 0;
    assert_int_equal(secrets_pick_field(secret, strlen(secret), "opts", &out, &e), 0);
    assert_string_equal(out.data, "{\"a\":true,\"b\":1}");
    assert_int_equal(secrets_pick_field(secret, strlen(secret), "password", &out, &e), -1);
    assert_non_null(strstr(e.msg, "no field 'password'"));
    /* Not JSON: the message must not quote the secret's text. */
    assert_int_equal(secrets_pick_field("hunter2", 7, "x", &out, &e), -1);
    assert_null(strstr(e.msg, "hunter2"));
    buf_cleanup(&out);
}

static void test_awsjson_error_shapes(void **state)
{
    char code[128], message[256];
    static const char qualified[] =
        "{\"__type\":\"com.amazonaws.ssm#ParameterNotFound\",\"message\":\"not here\"}";
    static const char plain[] = "{\"__type\":\"AccessDeniedException\",\"Message\":\"no\"}";

    (void)state;
    assert_true(awsjson_parse_error(qualified, strlen(qualified), code, message));
    assert_string_equal(code, "ParameterNotFound");
    assert_string_equal(message, "not here");
    assert_true(awsjson_parse_error(plain, strlen(plain), code, message));
    assert_string_equal(code, "AccessDeniedException");
    assert_string_equal(message, "no");
    assert_false(awsjson_parse_error("<html>", 6, code, message));
    assert_false(awsjson_parse_error("{}", 2, code, message));
    assert_string_equal(code, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secretref_recognises_both_services),
        cmocka_unit_test(test_secretref_leaves_other_values_alone),
        cmocka_unit_test(test_secretref_refuses_malformed_references),
        cmocka_unit_test(test_secretref_endpoints),
        cmocka_unit_test(test_secrets_pick_field),
        cmocka_unit_test(test_awsjson_error_shapes),
    };
    return cmocka_run_group_tests_name("secretref", tests, NULL, NULL);
}
