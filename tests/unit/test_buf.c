/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/buf: growth, the hard limit, formatted appends and bounded file reads. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/buf.h"

static void test_buf_appends_and_terminates(void **state)
{
    struct buf b;
    struct perr e = {0};

    (void)state;
    buf_init(&b, 1024);
    assert_int_equal(buf_append_str(&b, "hello", &e), 0);
    assert_int_equal(buf_printf(&b, &e, " %d %s", 42, "x"), 0);
    assert_string_equal(b.data, "hello 42 x");
    assert_int_equal(b.len, 10);
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    buf_cleanup(&b);
    buf_cleanup(&b); /* twice is safe */
}

static void test_buf_grows_across_many_appends(void **state)
{
    struct buf b;
    struct perr e = {0};

    (void)state;
    buf_init(&b, 1 << 20);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(buf_append(&b, "0123456789", 10, &e), 0);
    assert_int_equal(b.len, 100000);
    assert_memory_equal(b.data + 99990, "0123456789", 10);
    buf_cleanup(&b);
}

static void test_buf_limit_is_exact(void **state)
{
    struct buf b;
    struct perr e = {0};

    (void)state;
    buf_init(&b, 8);
    assert_int_equal(buf_append(&b, "12345678", 8, &e), 0);
    assert_int_equal(buf_append(&b, "9", 1, &e), -1);
    assert_int_equal(e.code, PERR_LIMIT);
    assert_non_null(strstr(e.msg, "8 bytes"));
    assert_int_equal(b.len, 8); /* a failed append changes nothing */
    assert_int_equal(buf_printf(&b, &e, "%s", "x"), -1);
    assert_int_equal(e.code, PERR_LIMIT);
    buf_cleanup(&b);
}

static void test_buf_limit_rejects_size_overflow(void **state)
{
    struct buf b;
    struct perr e = {0};

    (void)state;
    buf_init(&b, SIZE_MAX);
    assert_int_equal(buf_append(&b, "ab", 2, &e), 0);
    assert_int_equal(buf_append(&b, "x", SIZE_MAX, &e), -1);
    assert_int_equal(e.code, PERR_LIMIT);
    buf_cleanup(&b);
}

static void test_buf_reads_file_and_names_missing_path(void **state)
{
    char path[] = "/tmp/parity-test-buf-XXXXXX";
    int fd = mkstemp(path);
    struct buf b;
    struct perr e = {0};

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abc\n", 4), 4);
    close(fd);
    buf_init(&b, 100);
    assert_int_equal(buf_read_file(&b, path, &e), 0);
    assert_string_equal(b.data, "abc\n");
    buf_cleanup(&b);

    buf_init(&b, 3);
    assert_int_equal(buf_read_file(&b, path, &e), -1);
    assert_int_equal(e.code, PERR_LIMIT);
    assert_non_null(strstr(e.msg, path));
    buf_cleanup(&b);
    unlink(path);

    buf_init(&b, 100);
    assert_int_equal(buf_read_file(&b, "/nonexistent/x", &e), -1);
    assert_int_equal(e.code, PERR_IO);
    assert_string_equal(e.msg, "opening /nonexistent/x: No such file or directory");
    buf_cleanup(&b);
}

static void test_buf_empty_file_gives_empty_string(void **state)
{
    struct buf b;
    struct perr e = {0};

    (void)state;
    buf_init(&b, 10);
    assert_int_equal(buf_read_file(&b, "/dev/null", &e), 0);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    free(buf_steal(&b));
    assert_null(b.data);
    buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_appends_and_terminates),
        cmocka_unit_test(test_buf_grows_across_many_appends),
        cmocka_unit_test(test_buf_limit_is_exact),
        cmocka_unit_test(test_buf_limit_rejects_size_overflow),
        cmocka_unit_test(test_buf_reads_file_and_names_missing_path),
        cmocka_unit_test(test_buf_empty_file_gives_empty_string),
    };
    return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
