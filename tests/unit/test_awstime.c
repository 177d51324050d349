/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/awstime: the injected clock, the correction learned from a Date header,
 * and which AWS answers blame the clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lib/awstime.h"

static int64_t fixed(void)
{
    return 1795838400; /* Sat, 28 Nov 2026 04:00:00 GMT */
}

static void test_awstime_injected_clock_and_format(void **state)
{
    char d[17];

    (void)state;
    awstime_set_clock(fixed);
    assert_true(awstime_now() == 1795838400);
    awstime_amz_date(awstime_now(), d);
    assert_string_equal(d, "20261128T040000Z");
    awstime_set_clock(NULL);
}

static void test_awstime_learns_the_offset(void **state)
{
    (void)state;
    awstime_set_clock(fixed);
    /* the server is 20 minutes ahead of us */
    assert_true(awstime_correct_from_date("Sat, 28 Nov 2026 04:20:00 GMT") == 1200);
    assert_true(awstime_now() == 1795838400 + 1200);
    /* unreadable headers leave the correction alone */
    assert_true(awstime_correct_from_date("yesterday") == 0);
    assert_true(awstime_correct_from_date("Sat, 28 Foo 2026 04:20:00 GMT") == 0);
    assert_true(awstime_correct_from_date(NULL) == 0);
    assert_true(awstime_now() == 1795838400 + 1200);
    awstime_set_clock(NULL); /* forgets the correction too */
    awstime_set_clock(fixed);
    assert_true(awstime_now() == 1795838400);
    awstime_set_clock(NULL);
}

static void test_awstime_skew_errors(void **state)
{
    (void)state;
    assert_true(awstime_is_skew_error("<Code>RequestTimeTooSkewed</Code>"));
    assert_true(awstime_is_skew_error(
        "{\"message\":\"Signature expired: 20261128T040000Z is now earlier\"}"));
    assert_true(awstime_is_skew_error("Signature not yet current: 20261128T050000Z"));
    assert_false(awstime_is_skew_error("<Code>SignatureDoesNotMatch</Code>"));
    assert_false(awstime_is_skew_error(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_awstime_injected_clock_and_format),
        cmocka_unit_test(test_awstime_learns_the_offset),
        cmocka_unit_test(test_awstime_skew_errors),
    };
    return cmocka_run_group_tests_name("awstime", tests, NULL, NULL);
}
