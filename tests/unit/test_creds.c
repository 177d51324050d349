/* SPDX-License-Identifier: MIT */
/* Unit tests for the credential parsers (RFC 3339, container JSON, STS XML), the request-head
 * parser of the endpoint, provider selection, and the refresh schedule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/creds.h"
#include "lib/httpreq.h"
#include "lib/sts.h"

static void test_creds_time_forms(void **state)
{
    struct perr e = {0};
    int64_t t;

    (void)state;
    assert_int_equal(creds_parse_time("2026-11-28T04:05:43Z", &t, &e), 0);
    assert_true(t == 1795838743);
    assert_int_equal(creds_parse_time("2026-11-28T04:05:43.225640123Z", &t, &e), 0);
    assert_true(t == 1795838743);
    assert_int_equal(creds_parse_time("2026-11-28T05:05:43+01:00", &t, &e), 0);
    assert_true(t == 1795838743);
    assert_int_equal(creds_parse_time("2026-11-28 04:05:43Z", &t, &e), -1);
    assert_int_equal(creds_parse_time("2026-11-28T04:05:43", &t, &e), -1);
    assert_non_null(strstr(e.msg, "no time zone"));
    assert_int_equal(creds_parse_time("2026-13-28T04:05:43Z", &t, &e), -1);
    assert_int_equal(creds_parse_time("", &t, &e), -1);
}

static void test_creds_json(void **state)
{
    const char *ok =
        "{\"AccessKeyId\":\"ASIA1\",\"SecretAccessKey\":\"s\",\"Token\":\"t\","
        "\"Expiration\":\"2026-11-28T04:05:43Z\",\"RoleArn\":\"arn:r\",\"AccountId\":\"1\"}";
    struct creds c;
    struct perr e = {0};

    (void)state;
    assert_int_equal(creds_parse_json(ok, strlen(ok), &c, &e), 0);
    assert_string_equal(c.access_key_id, "ASIA1");
    assert_string_equal(c.session_token, "t");
    assert_string_equal(c.role_arn, "arn:r");
    assert_true(c.expiry_epoch_s == 1795838743);
    assert_int_equal(creds_parse_json("{\"AccessKeyId\":\"A\"}", 19, &c, &e), -1);
    assert_non_null(strstr(e.msg, "no SecretAccessKey"));
    assert_string_equal(c.access_key_id, ""); /* wiped on failure */
    const char *no_exp = "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\",\"Token\":\"t\"}";
    assert_int_equal(creds_parse_json(no_exp, strlen(no_exp), &c, &e), -1);
    assert_non_null(strstr(e.msg, "without an Expiration"));
    assert_int_equal(creds_parse_json("<html>", 6, &c, &e), -1);
    assert_non_null(strstr(e.msg, "not JSON"));
    assert_int_equal(
        creds_parse_json("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\"", 38, &c, &e), -1);
}

static void test_creds_sts_xml(void **state)
{
    const char *ok =
        "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><AssumedRoleUser>"
        "<Arn>arn:aws:sts::1:assumed-role/r/s</Arn></AssumedRoleUser><Credentials>"
        "<AccessKeyId>ASIA2</AccessKeyId><SecretAccessKey>a&amp;b&lt;c</SecretAccessKey>"
        "<SessionToken>tok</SessionToken><Expiration>2026-11-28T04:05:43Z</Expiration>"
        "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
    const char *fail = "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
                       "<Message>bad &quot;token&quot;</Message></Error></ErrorResponse>";
    struct creds c;
    struct perr e = {0};

    (void)state;
    assert_int_equal(creds_parse_sts_xml(ok, strlen(ok), &c, &e), 0);
    assert_string_equal(c.secret_access_key, "a&b<c");
    assert_string_equal(c.role_arn, "arn:aws:sts::1:assumed-role/r/s");
    assert_int_equal(creds_parse_sts_xml(fail, strlen(fail), &c, &e), -1);
    assert_int_equal(e.code, PERR_AUTH);
    assert_string_equal(e.msg, "STS InvalidIdentityToken: bad \"token\"");
    assert_int_equal(creds_parse_sts_xml("<Credentials><AccessKeyId>A</AccessKeyId>", 41, &c, &e),
                     -1);
    assert_non_null(strstr(e.msg, "has no SecretAccessKey"));
}

static void test_httpreq_heads(void **state)
{
    const char *get =
        "GET /parity/credentials?x=1 HTTP/1.1\r\nHost: a\r\nAuthorization:  tok \r\n\r\nNEXT";
    struct httpreq r;

    (void)state;
    assert_int_equal(httpreq_parse(get, strlen(get), &r), (long)(strlen(get) - 4));
    assert_int_equal(r.method_len, 3);
    assert_memory_equal(r.path, "/parity/credentials", r.path_len);
    assert_int_equal(r.path_len, 19);
    assert_int_equal(r.authorization_len, 3);
    assert_memory_equal(r.authorization, "tok", 3);
    assert_false(r.close);
    assert_int_equal(httpreq_parse("GET / HTTP/1.1\r\nHost: a\r\n", 24, &r), 0); /* incomplete */
    assert_int_equal(httpreq_parse("GARBAGE\r\n\r\n", 11, &r), -1);
    assert_int_equal(httpreq_parse("GET  HTTP/1.1\r\n\r\n", 17, &r), -1);
    assert_true(httpreq_parse("GET / HTTP/1.0\r\n\r\n", 18, &r) > 0);
    assert_true(r.close);
    assert_true(httpreq_parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 37, &r) > 0);
    assert_true(r.close);
    assert_null(r.authorization);
}

static void test_creds_chain_picks_by_environment(void **state)
{
    char *none[] = {"PATH=/bin", NULL};
    char *keys[] = {"AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=s", "AWS_ROLE_ARN=arn:r",
                    NULL};
    char *irsa[] = {"AWS_ROLE_ARN=arn:r", "AWS_WEB_IDENTITY_TOKEN_FILE=/t", NULL};
    char *half[] = {"AWS_ROLE_ARN=arn:r", NULL};
    char *pod[] = {"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:1/v1", NULL};
    char *imds_off[] = {"AWS_EC2_METADATA_DISABLED=true", NULL};
    char *chained[] = {"AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=s",
                       "PARITY_ASSUME_ROLE_ARN=arn:t", NULL};
    char **cases[] = {none, keys, irsa, half, pod, imds_off, chained};
    const char *want[] = {NULL,        "environment", "web-identity", NULL,
                          "container", NULL,          "assume-role"};
    int want_err[] = {0, 0, 0, 1, 0, 0, 0}; /* IMDS disabled: no source, not an error */

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct envlist env;
        struct perr e = {0};
        struct creds_provider *p;
        assert_int_equal(envlist_init_from(&env, cases[i], &e), 0);
        p = creds_chain_select(&env, "eu-west-1", "parity-test", i == 5, &e);
        if (want[i]) {
            assert_non_null(p);
            assert_string_equal(p->name, want[i]);
        } else {
            assert_null(p);
            assert_int_equal(e.code != PERR_OK, want_err[i]);
        }
        creds_provider_free(p);
        envlist_cleanup(&env);
    }
}

static void test_sts_endpoint_and_form(void **state)
{
    char *plain[] = {NULL};
    char *over[] = {"AWS_ENDPOINT_URL=http://a", "AWS_ENDPOINT_URL_STS=http://127.0.0.1:9/", NULL};
    struct envlist env;
    struct perr e = {0};
    char url[256];
    struct buf form;

    (void)state;
    assert_int_equal(envlist_init_from(&env, plain, &e), 0);
    sts_endpoint(&env, "eu-central-1", url, sizeof(url));
    assert_string_equal(url, "https://sts.eu-central-1.amazonaws.com/");
    sts_endpoint(&env, NULL, url, sizeof(url));
    assert_string_equal(url, "https://sts.amazonaws.com/");
    envlist_cleanup(&env);
    assert_int_equal(envlist_init_from(&env, over, &e), 0);
    sts_endpoint(&env, "eu-central-1", url, sizeof(url));
    assert_string_equal(url, "http://127.0.0.1:9/");
    envlist_cleanup(&env);
    buf_init(&form, 1024);
    assert_int_equal(sts_form_add(&form, "RoleArn", "arn:aws:iam::1:role/a b", &e), 0);
    assert_int_equal(sts_form_add(&form, "Version", "2011-06-15", &e), 0);
    assert_string_equal(form.data,
                        "RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b&Version=2011-06-15");
    buf_cleanup(&form);
}

static void test_creds_refresh_schedule(void **state)
{
    (void)state;
    assert_true(creds_refresh_at(1000, 0) == 0); /* long-term keys: never */
    /* 1 h: half the lifetime and 30 minutes before expiry coincide */
    assert_true(creds_refresh_at(1000, 1000 + 3600) == 1000 + 1800);
    /* 6 h (IMDS, Pod Identity): half the lifetime comes first */
    assert_true(creds_refresh_at(1000, 1000 + 6 * 3600) == 1000 + 3 * 3600);
    /* 45 min: 30 minutes before expiry comes first */
    assert_true(creds_refresh_at(1000, 1000 + 2700) == 1000 + 900);
    /* 15 min and 60 s: "30 minutes left" has passed already; a quarter of the life instead */
    assert_true(creds_refresh_at(1000, 1000 + 900) == 1000 + 225);
    assert_true(creds_refresh_at(0, 60) == 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_creds_time_forms),
        cmocka_unit_test(test_creds_json),
        cmocka_unit_test(test_creds_sts_xml),
        cmocka_unit_test(test_httpreq_heads),
        cmocka_unit_test(test_creds_chain_picks_by_environment),
        cmocka_unit_test(test_sts_endpoint_and_form),
        cmocka_unit_test(test_creds_refresh_schedule),
    };
    return cmocka_run_group_tests_name("creds", tests, NULL, NULL);
}
