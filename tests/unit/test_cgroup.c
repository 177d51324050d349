/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/cgroup: keyed-file parsing and OOM counts from fake v2 and v1 trees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/cgroup.h"
#include "tests/unit/tree.h"

static void test_cgroup_keyed_value_table(void **state)
{
    const char *text = "low 0\nhigh 12\nmax 3\noom 2\noom_kill 1\noom_group_kill 0\n";
    struct perr e = {0};
    uint64_t v;

    (void)state;
    assert_int_equal(cgroup_keyed_value(text, "oom_kill", &v, &e), 0);
    assert_true(v == 1);
    assert_int_equal(cgroup_keyed_value(text, "oom", &v, &e), 0); /* not confused by oom_kill */
    assert_true(v == 2);
    assert_int_equal(cgroup_keyed_value("oom_kill 7", "oom_kill", &v, &e), 0);
    assert_true(v == 7);
    assert_int_equal(cgroup_keyed_value(text, "missing", &v, &e), -1);
    assert_int_equal(cgroup_keyed_value("oom_kill x\n", "oom_kill", &v, &e), -1);
    assert_int_equal(cgroup_keyed_value("oom_kill 5x\n", "oom_kill", &v, &e), -1);
    assert_int_equal(cgroup_keyed_value("", "oom_kill", &v, &e), -1);
}

static void test_cgroup_v2_namespaced_root(void **state)
{
    char self[512];
    struct perr e = {0};
    uint64_t v = 99;

    (void)state;
    tree_put("self", "0::/\n");
    tree_put("sys/memory.events", "low 0\nhigh 0\nmax 0\noom 1\noom_kill 4\n");
    snprintf(self, sizeof(self), "%s/self", tree_root);
    snprintf(self + 256, 256, "%s/sys", tree_root);
    assert_int_equal(cgroup_oom_kills(self + 256, self, &v, &e), 0);
    assert_true(v == 4);
}

static void test_cgroup_v2_nested_path(void **state)
{
    char self[256], sys[256];
    struct perr e = {0};
    uint64_t v = 0;

    (void)state;
    tree_put("self", "0::/kubepods/pod1/c1\n");
    tree_put("sys/kubepods/pod1/c1/memory.events", "oom_kill 2\n");
    snprintf(self, sizeof(self), "%s/self", tree_root);
    snprintf(sys, sizeof(sys), "%s/sys", tree_root);
    assert_int_equal(cgroup_oom_kills(sys, self, &v, &e), 0);
    assert_true(v == 2);
}

static void test_cgroup_v1_memory_controller(void **state)
{
    char self[256], sys[256];
    struct perr e = {0};
    uint64_t v = 0;

    (void)state;
    tree_put("self", "12:pids:/docker/x\n5:memory:/docker/x\n1:name=systemd:/docker/x\n");
    tree_put("sys/memory/docker/x/memory.oom_control",
             "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
    snprintf(self, sizeof(self), "%s/self", tree_root);
    snprintf(sys, sizeof(sys), "%s/sys", tree_root);
    assert_int_equal(cgroup_oom_kills(sys, self, &v, &e), 0);
    assert_true(v == 3);
}

static void test_cgroup_missing_files_are_errors(void **state)
{
    char self[256], sys[256];
    struct perr e = {0};
    uint64_t v = 0;

    (void)state;
    snprintf(self, sizeof(self), "%s/none", tree_root);
    snprintf(sys, sizeof(sys), "%s/sys", tree_root);
    assert_int_equal(cgroup_oom_kills(sys, self, &v, &e), -1);
    assert_non_null(strstr(e.msg, "none"));
    tree_put("self", "3:cpu:/x\n");
    snprintf(self, sizeof(self), "%s/self", tree_root);
    assert_int_equal(cgroup_oom_kills(sys, self, &v, &e), -1);
    assert_non_null(strstr(e.msg, "no memory controller"));
    tree_put("self", "0::/gone\n"); /* a v2 path whose files are not there */
    assert_int_equal(cgroup_oom_kills(sys, self, &v, &e), -1);
    assert_non_null(strstr(e.msg, "no memory controller"));
    tree_put("self", "0::/\n");
    tree_put("sys/memory.events", "oom 1\n"); /* the file, without an oom_kill line */
    assert_int_equal(cgroup_oom_kills(sys, self, &v, &e), -1);
    assert_non_null(strstr(e.msg, "no 'oom_kill' line"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cgroup_keyed_value_table),
        cmocka_unit_test_setup_teardown(test_cgroup_v2_namespaced_root, tree_setup, tree_teardown),
        cmocka_unit_test_setup_teardown(test_cgroup_v2_nested_path, tree_setup, tree_teardown),
        cmocka_unit_test_setup_teardown(test_cgroup_v1_memory_controller, tree_setup,
                                        tree_teardown),
        cmocka_unit_test_setup_teardown(test_cgroup_missing_files_are_errors, tree_setup,
                                        tree_teardown),
    };
    return cmocka_run_group_tests_name("cgroup", tests, NULL, NULL);
}
