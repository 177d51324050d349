/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/envlist: copy, replace in place, defaults, unset, odd entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/envlist.h"

static void test_envlist_copies_and_replaces(void **state)
{
    char *env[] = {"A=1", "B=two=2", "NOEQUALS", "=novalue", "A=3", "EMPTY=", NULL};
    struct envlist l;
    struct perr e = {0};

    (void)state;
    assert_int_equal(envlist_init_from(&l, env, &e), 0);
    assert_int_equal(l.count, 3); /* A (last wins), B, EMPTY; malformed entries dropped */
    assert_string_equal(envlist_get(&l, "A"), "3");
    assert_string_equal(envlist_get(&l, "B"), "two=2");
    assert_string_equal(envlist_get(&l, "EMPTY"), "");
    assert_null(envlist_get(&l, "NOEQUALS"));
    assert_null(envlist_get(&l, "AB"));
    assert_int_equal(envlist_set(&l, "B", "x", &e), 0);
    assert_string_equal(l.vars[1], "B=x"); /* replaced in place */
    assert_int_equal(envlist_set_default(&l, "B", "ignored", &e), 0);
    assert_string_equal(envlist_get(&l, "B"), "x");
    assert_int_equal(envlist_set_default(&l, "C", "new", &e), 0);
    assert_string_equal(envlist_get(&l, "C"), "new");
    envlist_unset(&l, "A");
    envlist_unset(&l, "missing");
    assert_null(envlist_get(&l, "A"));
    assert_int_equal(l.count, 3);
    assert_null(envlist_array(&l)[3]);
    envlist_cleanup(&l);
    envlist_cleanup(&l);
}

static void test_envlist_grows(void **state)
{
    struct envlist l;
    struct perr e = {0};
    char name[32];

    (void)state;
    assert_int_equal(envlist_init_from(&l, NULL, &e), 0);
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "V%d", i);
        assert_int_equal(envlist_set(&l, name, name, &e), 0);
    }
    assert_int_equal(l.count, 1000);
    assert_string_equal(envlist_get(&l, "V999"), "V999");
    assert_null(l.vars[1000]);
    envlist_cleanup(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envlist_copies_and_replaces),
        cmocka_unit_test(test_envlist_grows),
    };
    return cmocka_run_group_tests_name("envlist", tests, NULL, NULL);
}
