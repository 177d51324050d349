/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/utf8: round trips at every length boundary, and what is not UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lib/utf8.h"

static void test_utf8_round_trips(void **state)
{
    static const unsigned int cps[] = {0x0,    0x7f,   0x80,    0x7ff,    0x800,
                                       0xd800, 0xffff, 0x10000, 0x10ffff, 0xdf};

    (void)state;
    for (size_t i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
        struct buf b;
        struct perr e = {0};
        unsigned int back = 0xffffffff;
        buf_init(&b, 16);
        assert_int_equal(utf8_append(&b, cps[i], &e), 0);
        assert_int_equal(utf8_decode(b.data, b.len, &back), b.len);
        assert_int_equal(back, cps[i]);
        buf_cleanup(&b);
    }
}

static void test_utf8_rejects_invalid(void **state)
{
    static const char *const bad[] = {
        "\x80",             /* a continuation byte first */
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong, three bytes */
        "\xf4\x90\x80\x80", /* past U+10FFFF */
        "\xf5\x80\x80\x80", /* no such lead byte */
        "\xe2\x82",         /* cut short */
        "\xe2\x28\xa1",     /* a bad continuation */
    };
    unsigned int cp;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(utf8_decode(bad[i], strlen(bad[i]), &cp), 0);
    assert_int_equal(utf8_decode("\xe2\x82\xac", 3, &cp), 3);
    assert_int_equal(cp, 0x20ac);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_round_trips),
        cmocka_unit_test(test_utf8_rejects_invalid),
    };
    return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
