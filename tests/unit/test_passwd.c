/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/passwd: names, numbers, groups, and what an image does not know. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lib/passwd.h"
#include "tests/unit/tree.h"

static void write_etc(void)
{
    tree_put("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                           "trainer:x:1000:1000:Trainer:/home/trainer:/bin/sh\n"
                           "broken line\n"
                           "nohome:x:1001:1001::::\n");
    tree_put("etc/group", "root:x:0:\ntrainer:x:1000:\nvideo:x:44:trainer,other\n"
                          "render:x:105:trainer\nstaff:x:50:other\n");
}

static void resolve(const char *spec, struct passwd_user *u, int want_rc, struct perr *e)
{
    char etc[128];

    snprintf(etc, sizeof(etc), "%s/etc", tree_root);
    assert_int_equal(passwd_resolve(etc, spec, u, e), want_rc);
}

static void test_passwd_name_gets_home_and_groups(void **state)
{
    struct passwd_user u;
    struct perr e = {0};

    (void)state;
    write_etc();
    resolve("trainer", &u, 0, &e);
    assert_int_equal(u.uid, 1000);
    assert_int_equal(u.gid, 1000);
    assert_string_equal(u.home, "/home/trainer");
    assert_int_equal(u.group_count, 3);
    assert_int_equal(u.groups[0], 1000); /* the primary group first */
    assert_int_equal(u.groups[1], 44);
    assert_int_equal(u.groups[2], 105);
}

static void test_passwd_numbers_and_group_names(void **state)
{
    struct passwd_user u;
    struct perr e = {0};

    (void)state;
    write_etc();
    resolve("1000:video", &u, 0, &e);
    assert_int_equal(u.uid, 1000);
    assert_int_equal(u.gid, 44);
    assert_string_equal(u.name, "trainer");
    resolve("4242", &u, 0, &e); /* unknown to the image: gid 0, no name, home / */
    assert_int_equal(u.uid, 4242);
    assert_int_equal(u.gid, 0);
    assert_string_equal(u.home, "/");
    assert_int_equal(u.group_count, 1);
    resolve("4242:4343", &u, 0, &e);
    assert_int_equal(u.gid, 4343);
    resolve("nohome", &u, 0, &e);
    assert_string_equal(u.home, "/");
}

static void test_passwd_errors_name_what_is_missing(void **state)
{
    struct passwd_user u;
    struct perr e = {0};

    (void)state;
    write_etc();
    resolve("ghost", &u, -1, &e);
    assert_non_null(strstr(e.msg, "user 'ghost' is not in the image's /etc/passwd"));
    resolve("trainer:nogroup", &u, -1, &e);
    assert_non_null(strstr(e.msg, "group 'nogroup'"));
    resolve("trainer:", &u, -1, &e);
    assert_non_null(strstr(e.msg, "empty group"));
    resolve("", &u, -1, &e);
    assert_non_null(strstr(e.msg, "empty"));
}

static void test_passwd_missing_files_allow_numbers_only(void **state)
{
    struct passwd_user u;
    struct perr e = {0};

    (void)state;
    resolve("123:456", &u, 0, &e);
    assert_int_equal(u.uid, 123);
    assert_int_equal(u.gid, 456);
    resolve("trainer", &u, -1, &e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_passwd_name_gets_home_and_groups, tree_setup,
                                        tree_teardown),
        cmocka_unit_test_setup_teardown(test_passwd_numbers_and_group_names, tree_setup,
                                        tree_teardown),
        cmocka_unit_test_setup_teardown(test_passwd_errors_name_what_is_missing, tree_setup,
                                        tree_teardown),
        cmocka_unit_test_setup_teardown(test_passwd_missing_files_allow_numbers_only, tree_setup,
                                        tree_teardown),
    };
    return cmocka_run_group_tests_name("passwd", tests, NULL, NULL);
}
