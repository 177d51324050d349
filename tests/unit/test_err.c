/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/err: messages, errno capture, wrapping and truncation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lib/err.h"

static void test_err_set_returns_minus_one_and_formats(void **state)
{
    struct perr e = {0};

    (void)state;
    assert_int_equal(perr_set(&e, PERR_PARSE, "reading %s: line %d", "x.json", 3), -1);
    assert_int_equal(e.code, PERR_PARSE);
    assert_int_equal(e.sys_errno, 0);
    assert_string_equal(e.msg, "reading x.json: line 3");
}

static void test_err_sys_appends_strerror_and_keeps_errno(void **state)
{
    struct perr e = {0};

    (void)state;
    errno = ENOENT;
    assert_int_equal(perr_sys(&e, "opening %s", "/nope"), -1);
    assert_int_equal(e.code, PERR_IO);
    assert_int_equal(e.sys_errno, ENOENT);
    assert_int_equal(errno, ENOENT);
    assert_string_equal(e.msg, "opening /nope: No such file or directory");
}

static void test_err_wrap_prepends_context(void **state)
{
    struct perr e = {0};

    (void)state;
    perr_set(&e, PERR_PARSE, "line 3: expected ','");
    assert_int_equal(perr_wrap(&e, "loading %s", "a.json"), -1);
    assert_string_equal(e.msg, "loading a.json: line 3: expected ','");
    assert_int_equal(e.code, PERR_PARSE);
}

static void test_err_wrap_cuts_long_messages_safely(void **state)
{
    struct perr e = {0};
    char big[2000];

    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    perr_set(&e, PERR_IO, "%s", big);
    assert_int_equal(strlen(e.msg), PERR_MSG_BYTES - 1);
    perr_wrap(&e, "context");
    assert_int_equal(strlen(e.msg), PERR_MSG_BYTES - 1);
    assert_memory_equal(e.msg, "context: aaa", 12);
}

static void test_err_clear_resets(void **state)
{
    struct perr e = {0};

    (void)state;
    perr_set(&e, PERR_LIMIT, "x");
    perr_clear(&e);
    assert_int_equal(e.code, PERR_OK);
    assert_string_equal(e.msg, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_set_returns_minus_one_and_formats),
        cmocka_unit_test(test_err_sys_appends_strerror_and_keeps_errno),
        cmocka_unit_test(test_err_wrap_prepends_context),
        cmocka_unit_test(test_err_wrap_cuts_long_messages_safely),
        cmocka_unit_test(test_err_clear_resets),
    };
    return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
