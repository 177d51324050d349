/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/caps: name forms, lists, the runtime default set. */
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lib/caps.h"

static void test_caps_name_forms(void **state)
{
    struct perr e = {0};
    int cap;

    (void)state;
    assert_int_equal(caps_from_name("CAP_NET_BIND_SERVICE", &cap, &e), 0);
    assert_int_equal(cap, CAP_NET_BIND_SERVICE);
    assert_int_equal(caps_from_name("net_admin", &cap, &e), 0);
    assert_int_equal(cap, CAP_NET_ADMIN);
    assert_int_equal(caps_from_name("Sys_Admin", &cap, &e), 0);
    assert_int_equal(cap, CAP_SYS_ADMIN);
    assert_int_equal(caps_from_name("CAP_FLY", &cap, &e), -1);
    assert_non_null(strstr(e.msg, "unknown capability 'CAP_FLY'"));
}

static void test_caps_lists(void **state)
{
    struct perr e = {0};
    const char *list_text = "[\"CHOWN\", \"cap_kill\"]", *bad_text = "[\"CHOWN\", 7]";
    struct jdoc *list = jdoc_parse(list_text, strlen(list_text), NULL, &e);
    struct jdoc *bad = jdoc_parse(bad_text, strlen(bad_text), NULL, &e);
    uint64_t mask;

    (void)state;
    assert_int_equal(caps_mask_from_list(list, NULL, &mask, "capabilities", &e), 0);
    assert_true(mask == ((1ULL << CAP_CHOWN) | (1ULL << CAP_KILL)));
    assert_int_equal(caps_mask_from_list(NULL, "NET_RAW,CAP_SETUID,", &mask, "x", &e), 0);
    assert_true(mask == ((1ULL << CAP_NET_RAW) | (1ULL << CAP_SETUID)));
    assert_int_equal(caps_mask_from_list(NULL, "", &mask, "x", &e), 0);
    assert_true(mask == 0);
    assert_int_equal(caps_mask_from_list(bad, NULL, &mask, "capabilities", &e), -1);
    assert_non_null(strstr(e.msg, "capabilities[1]"));
    assert_int_equal(caps_mask_from_list(NULL, "CHOWN,NOPE", &mask, "PARITY_CAPABILITIES", &e), -1);
    assert_non_null(strstr(e.msg, "PARITY_CAPABILITIES: unknown capability 'NOPE'"));
    jdoc_free(list);
    jdoc_free(bad);
}

static void test_caps_runtime_default(void **state)
{
    (void)state;
    assert_true(caps_runtime_default() == 0xa80425fbULL); /* Docker's 14 */
    assert_true(caps_last_cap() >= CAP_AUDIT_READ);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caps_name_forms),
        cmocka_unit_test(test_caps_lists),
        cmocka_unit_test(test_caps_runtime_default),
    };
    return cmocka_run_group_tests_name("caps", tests, NULL, NULL);
}
