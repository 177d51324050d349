/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/num: table of accepted and rejected decimal strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lib/num.h"

static void test_num_table(void **state)
{
    static const struct {
        const char *in;
        uint64_t min, max;
        int rc;
        uint64_t want;
    } cases[] = {
        {"0", 0, 10, 0, 0},
        {"10", 0, 10, 0, 10},
        {"007", 0, 10, 0, 7},
        {"11", 0, 10, -1, 0},
        {"4", 5, 10, -1, 0},
        {"", 0, 10, -1, 0},
        {" 1", 0, 10, -1, 0},
        {"1 ", 0, 10, -1, 0},
        {"-1", 0, 10, -1, 0},
        {"+1", 0, 10, -1, 0},
        {"1x", 0, 10, -1, 0},
        {"abc", 0, 10, -1, 0},
        {"18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX},
        {"18446744073709551616", 0, UINT64_MAX, -1, 0},
        {"99999999999999999999999", 0, UINT64_MAX, -1, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct perr e = {0};
        uint64_t v = 12345;
        int rc = num_parse_u64(cases[i].in, cases[i].min, cases[i].max, &v, &e);
        if (rc != cases[i].rc)
            fail_msg("case '%s': rc %d, want %d", cases[i].in, rc, cases[i].rc);
        if (rc == 0)
            assert_true(v == cases[i].want);
        else
            assert_non_null(strstr(e.msg, cases[i].in));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_num_table),
    };
    return cmocka_run_group_tests_name("num", tests, NULL, NULL);
}
