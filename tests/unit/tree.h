/* SPDX-License-Identifier: MIT */
/* Unit-test helper: a throw-away folder tree (fake /sys, /dev, cgroup files) under /tmp.
 * Include after <cmocka.h>; each test file gets its own copy (all functions are static). */
#ifndef PARITY_TESTS_UNIT_TREE_H
#define PARITY_TESTS_UNIT_TREE_H

#include <stdio.h>
#include <stdlib.h>

static char tree_root[64];

/* Writes text to tree_root/rel, creating the folders on the way. */
static void tree_put(const char *rel, const char *text)
{
    char path[512], cmd[700];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tree_root, rel);
    snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
    assert_int_equal(system(cmd), 0);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int tree_setup(void **state)
{
    (void)state;
    snprintf(tree_root, sizeof(tree_root), "/tmp/parity-unit-XXXXXX");
    return mkdtemp(tree_root) ? 0 : -1;
}

static int tree_teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree_root);
    return system(cmd);
}

#endif
