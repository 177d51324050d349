/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/json: escaping table and never cutting inside an escape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lib/json.h"

static void test_json_escape_table(void **state)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"plain", "plain"},
        {"q\"b\\", "q\\\"b\\\\"},
        {"a\nb\tc\r", "a\\nb\\tc\\r"},
        {"\x01\x1f\x7f", "\\u0001\\u001f\\u007f"},
        {"h\xc3\xa9 \xe2\x82\xac", "h\xc3\xa9 \xe2\x82\xac"}, /* UTF-8 passes through */
        {"", ""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[64];
        size_t n = json_escape(out, sizeof(out), cases[i].in, strlen(cases[i].in));
        out[n] = '\0';
        assert_string_equal(out, cases[i].want);
    }
}

static void test_json_escape_stops_before_partial_escape(void **state)
{
    char out[8];
    size_t n;

    (void)state;
    n = json_escape(out, 5, "ab\x01", 3); /* "ab" fits, "\u0001" (6 bytes) does not */
    assert_int_equal(n, 2);
    assert_memory_equal(out, "ab", 2);
    n = json_escape(out, 3, "a\"", 2);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "a\\\"", 3);
    n = json_escape(out, 0, "abc", 3);
    assert_int_equal(n, 0);
}

static void test_json_escape_embedded_nul(void **state)
{
    char out[16];
    size_t n;

    (void)state;
    n = json_escape(out, sizeof(out), "a\0b", 3);
    assert_int_equal(n, 8);
    assert_memory_equal(out, "a\\u0000b", 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_escape_table),
        cmocka_unit_test(test_json_escape_stops_before_partial_escape),
        cmocka_unit_test(test_json_escape_embedded_nul),
    };
    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
