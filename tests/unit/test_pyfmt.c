/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/pyfmt: expected values were printed by Python 3.11 itself
 * (json.dumps(sort_keys, compact), str(), str.upper() of json.loads(input)). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lib/pyfmt.h"

static const struct {
    const char *in, *json, *str, *upper;
} cases[] = {

#include "tests/unit/pyfmt_cases.inc"
};

static void test_pyfmt_matches_python(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jdoc_opts o = {.allow_nonfinite = true};
        struct perr e = {0};
        struct jdoc *d = jdoc_parse(cases[i].in, strlen(cases[i].in), &o, &e);
        struct buf j, s, u;

        if (!d)
            fail_msg("case %zu '%s': %s", i, cases[i].in, e.msg);
        buf_init(&j, 4096);
        buf_init(&s, 4096);
        buf_init(&u, 4096);
        assert_int_equal(pyfmt_json(&j, d, &e), 0);
        assert_int_equal(pyfmt_str(&s, d, &e), 0);
        assert_string_equal(j.data, cases[i].json);
        assert_string_equal(s.data, cases[i].str);
        if (d->type == JDOC_STRING) {
            assert_int_equal(pyfmt_upper(&u, d->text, d->text_len, &e), 0);
            assert_string_equal(u.data, cases[i].upper);
        }
        buf_cleanup(&j);
        buf_cleanup(&s);
        buf_cleanup(&u);
        jdoc_free(d);
    }
}

static void test_pyfmt_float_repr_edges(void **state)
{
    char out[32];

    (void)state;
    pyfmt_float_repr(0.0, out);
    assert_string_equal(out, "0.0");
    pyfmt_float_repr(-0.0, out);
    assert_string_equal(out, "-0.0");
    pyfmt_float_repr(NAN, out);
    assert_string_equal(out, "nan");
    pyfmt_float_repr(-INFINITY, out);
    assert_string_equal(out, "-inf");
    pyfmt_float_repr(1e22, out);
    assert_string_equal(out, "1e+22");
    pyfmt_float_repr(123456789.125, out);
    assert_string_equal(out, "123456789.125");
}

static void test_pyfmt_upper_keeps_invalid_utf8(void **state)
{
    struct buf b;
    struct perr e = {0};

    (void)state;
    buf_init(&b, 64);
    assert_int_equal(pyfmt_upper(&b,
                                 "a\xff"
                                 "b",
                                 3, &e),
                     0);
    assert_string_equal(b.data, "A\xff"
                                "B");
    buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pyfmt_matches_python),
        cmocka_unit_test(test_pyfmt_float_repr_edges),
        cmocka_unit_test(test_pyfmt_upper_keeps_invalid_utf8),
    };
    return cmocka_run_group_tests_name("pyfmt", tests, NULL, NULL);
}
