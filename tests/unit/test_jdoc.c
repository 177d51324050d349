/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/jdoc: exact numbers, order, escapes, limits and error positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lib/jdoc.h"

static struct jdoc *parse(const char *s, struct perr *e)
{
    return jdoc_parse(s, strlen(s), NULL, e);
}

static void test_jdoc_keeps_number_text_and_order(void **state)
{
    struct perr e = {0};
    struct jdoc *d =
        parse(" {\"b\": 10, \"a\": 10.0, \"big\": 123456789012345678901234567890} ", &e);

    (void)state;
    assert_non_null(d);
    assert_int_equal(d->count, 3);
    assert_string_equal(d->keys[0], "b");
    assert_string_equal(jdoc_get(d, "b")->text, "10");
    assert_true(jdoc_number_is_int(jdoc_get(d, "b")));
    assert_string_equal(jdoc_get(d, "a")->text, "10.0");
    assert_false(jdoc_number_is_int(jdoc_get(d, "a")));
    assert_string_equal(jdoc_get(d, "big")->text, "123456789012345678901234567890");
    assert_null(jdoc_get(d, "missing"));
    jdoc_free(d);
}

static void test_jdoc_last_duplicate_wins(void **state)
{
    struct perr e = {0};
    struct jdoc *d = parse("{\"k\": \"first\", \"k\": \"second\"}", &e);

    (void)state;
    assert_string_equal(jdoc_get_str(d, "k"), "second");
    jdoc_free(d);
}

static void test_jdoc_string_escapes(void **state)
{
    struct perr e = {0};
    struct jdoc *d = parse("\"a\\n\\u00e9\\ud83d\\ude00\\u0000z\"", &e);

    (void)state;
    assert_non_null(d);
    assert_int_equal(d->text_len, 1 + 1 + 2 + 4 + 1 + 1);
    assert_memory_equal(d->text, "a\n\xc3\xa9\xf0\x9f\x98\x80\0z", d->text_len);
    jdoc_free(d);
}

static void test_jdoc_errors_have_positions(void **state)
{
    static const struct {
        const char *in;
        const char *msg;
    } cases[] = {
        {"{\"a\": 1,\n \"b\" 2}", "line 2 column 6: expected ':'"},
        {"[1, 2", "line 1 column 6: expected ',' or ']'"},
        {"{\"a\": 01}", "line 1 column 8: expected ',' or '}'"},
        {"", "line 1 column 1: unexpected end of input"},
        {"[1] x", "line 1 column 5: extra data after the JSON value"},
        {"\"abc", "unterminated string"},
        {"\"a\tb\"", "control character in string"},
        {"NaN", "unexpected character"},
        {"1.", "expected digits after '.'"},
        {"tru", "invalid literal"},
        {"{1: 2}", "expected a member name in double quotes"},
        {"\"\\x\"", "invalid escape"},
        {"\"\\u12g4\"", "invalid \\u escape"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct perr e = {0};
        struct jdoc *d = parse(cases[i].in, &e);
        if (d)
            fail_msg("case '%s' parsed", cases[i].in);
        if (!strstr(e.msg, cases[i].msg))
            fail_msg("case '%s': got '%s', want '%s'", cases[i].in, e.msg, cases[i].msg);
    }
}

static void test_jdoc_depth_limit(void **state)
{
    char deep[200];
    struct jdoc_opts o = {.max_depth = 10};
    struct perr e = {0};
    struct jdoc *d;

    (void)state;
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    assert_null(jdoc_parse(deep, sizeof(deep), &o, &e));
    assert_non_null(strstr(e.msg, "nesting too deep"));
    d = jdoc_parse(deep + 95, 10, &o, &e); /* depth 5 is fine */
    assert_non_null(d);
    jdoc_free(d);
}

static void test_jdoc_nonfinite_only_when_allowed(void **state)
{
    struct jdoc_opts o = {.allow_nonfinite = true};
    struct perr e = {0};
    struct jdoc *d = jdoc_parse("[NaN, -Infinity, Infinity]", 26, &o, &e);

    (void)state;
    assert_non_null(d);
    assert_string_equal(d->items[1]->text, "-Infinity");
    jdoc_free(d);
    assert_null(parse("[Infinity]", &e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jdoc_keeps_number_text_and_order),
        cmocka_unit_test(test_jdoc_last_duplicate_wins),
        cmocka_unit_test(test_jdoc_string_escapes),
        cmocka_unit_test(test_jdoc_errors_have_positions),
        cmocka_unit_test(test_jdoc_depth_limit),
        cmocka_unit_test(test_jdoc_nonfinite_only_when_allowed),
    };
    return cmocka_run_group_tests_name("jdoc", tests, NULL, NULL);
}
