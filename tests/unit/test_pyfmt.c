/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/pyfmt: expected values were printed by Python 3.11 itself
 * (json.dumps(sort_keys, compact), str(), str.upper() of json.loads(input)). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The literal fast path must agree with repr(float(text)) computed the slow way, and refuse
 * what it cannot do exactly. */
static void test_pyfmt_literal_repr_matches_the_slow_path(void **state)
{
    static const char *const literals[] = {"0.001",
                                           "1.0",
                                           "1000.0",
                                           "1e-05",
                                           "1E-5",
                                           "12.5e3",
                                           "0.0",
                                           "-0.0",
                                           "0e10",
                                           "1e16",
                                           "1e15",
                                           "123456789012345.0",
                                           "0.1",
                                           "0.30000",
                                           "-2.5",
                                           "1e21",
                                           "9.99e307",
                                           "1.5e-306",
                                           "100e-3",
                                           "0.000123",
                                           "0.0001",
                                           "1e-4",
                                           "99999999999999.9",
                                           "3.14159265358979",
                                           "5e-1",
                                           "1.00000000000001",
                                           "123.456e-2",
                                           "7E+2"};
    static const char *const refused[] = {"0.10000000000000001",
                                          "1.0000000000000001",
                                          "1e400",
                                          "5e-324",
                                          "2.2250738585072014e-308",
                                          "1e-320",
                                          "1e309",
                                          "3.141592653589793",
                                          "1.000000000000001"};
    char fast[32], slow[32], text[64];
    unsigned int seed = 12345;

    (void)state;
    for (size_t i = 0; i < sizeof(literals) / sizeof(literals[0]); i++) {
        assert_true(pyfmt_literal_repr(literals[i], fast));
        pyfmt_float_repr(strtod(literals[i], NULL), slow);
        assert_string_equal(fast, slow);
    }
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        assert_false(pyfmt_literal_repr(refused[i], fast));
    /* Random literals: up to 15 digits split around the point, trailing zeros, exponents
     * across the whole normal range. */
    for (int i = 0; i < 20000; i++) {
        char mant[20];
        int nd = 1 + (int)(rand_r(&seed) % 15), point = (int)(rand_r(&seed) % (unsigned)(nd + 1));
        int e = (int)(rand_r(&seed) % 600) - 300;
        for (int d = 0; d < nd; d++)
            mant[d] = (char)('0' + rand_r(&seed) % 10);
        mant[0] = mant[0] == '0' ? '1' : mant[0];
        snprintf(text, sizeof(text), "%s%.*s.%.*s%se%d", i % 2 ? "-" : "", point ? point : 1,
                 point ? mant : "0", nd - point ? nd - point : 1, nd - point ? mant + point : "0",
                 i % 3 ? "" : "00", e);
        if (!pyfmt_literal_repr(text, fast))
            continue;
        pyfmt_float_repr(strtod(text, NULL), slow);
        assert_string_equal(fast, slow);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pyfmt_matches_python),
        cmocka_unit_test(test_pyfmt_float_repr_edges),
        cmocka_unit_test(test_pyfmt_literal_repr_matches_the_slow_path),
        cmocka_unit_test(test_pyfmt_upper_keeps_invalid_utf8),
    };
    return cmocka_run_group_tests_name("pyfmt", tests, NULL, NULL);
}
