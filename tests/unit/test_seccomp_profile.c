/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/seccomp_profile: errors with their paths, and compiled filters loaded in a
 * forked child to see what they really do. */
#include <errno.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/seccomp_profile.h"

static int compile(const char *json, uint64_t caps, struct seccomp_program *p, struct perr *e)
{
    struct jdoc *d = jdoc_parse(json, strlen(json), NULL, e);
    int rc;

    assert_non_null(d);
    rc = seccomp_profile_compile(d, caps, p, e);
    jdoc_free(d);
    return rc;
}

/* Loads the program in a child, which then calls mkdir and exits with the errno it got. */
static int errno_of_mkdir_under(const struct seccomp_program *p)
{
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0) {
        struct sock_fprog prog = {.len = p->count, .filter = p->insns};
        char dir[] = "/tmp/parity-seccomp-XXXXXX";
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || !mkdtemp(dir))
            _exit(200);
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
            _exit(201);
        char sub[64];
        snprintf(sub, sizeof(sub), "%s/x", dir);
        _exit(mkdir(sub, 0700) < 0 ? errno : 0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_seccomp_denies_with_configured_errno(void **state)
{
    struct seccomp_program p;
    struct perr e = {0};

    (void)state;
    assert_int_equal(
        compile("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\":"
                " [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13}]}",
                0, &p, &e),
        0);
    assert_true(p.count > 0);
    assert_int_equal(errno_of_mkdir_under(&p), EACCES);
    seccomp_program_cleanup(&p);
    assert_int_equal(
        compile(
            "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\":"
            " [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_ERRNO\", \"errno\": \"EROFS\"}]}",
            0, &p, &e),
        0);
    assert_int_equal(errno_of_mkdir_under(&p), EROFS);
    seccomp_program_cleanup(&p);
}

static void test_seccomp_capability_conditions(void **state)
{
    const char *profile =
        "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\":"
        " [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1,"
        " \"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}}]}";
    struct seccomp_program p;
    struct perr e = {0};

    (void)state;
    assert_int_equal(compile(profile, 0, &p, &e), 0); /* SYS_ADMIN dropped: the rule applies */
    assert_int_equal(errno_of_mkdir_under(&p), EPERM);
    seccomp_program_cleanup(&p);
    assert_int_equal(compile(profile, 1ULL << CAP_SYS_ADMIN, &p, &e), 0); /* kept: it does not */
    assert_int_equal(errno_of_mkdir_under(&p), 0);
    seccomp_program_cleanup(&p);
}

static void test_seccomp_default_deny_with_allow_list(void **state)
{
    struct seccomp_program p;
    struct perr e = {0};

    (void)state;
    /* Only execve allowed, everything else ENOSYS: compiles, since exec stays possible. */
    assert_int_equal(
        compile("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,"
                " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],"
                " \"syscalls\": [{\"names\": [\"execve\"], \"action\": \"SCMP_ACT_ALLOW\"},"
                " {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\":"
                " [{\"index\": 0, \"value\": 0, \"valueTwo\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}",
                0, &p, &e),
        0);
    seccomp_program_cleanup(&p);
}

static void test_seccomp_errors_have_paths(void **state)
{
    static const struct {
        const char *profile, *msg;
    } cases[] = {
        {"[]", "must be a JSON object"},
        {"{\"syscalls\": []}", "defaultAction is required"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\", \"frobnicate\"],"
         " \"action\": \"SCMP_ACT_ERRNO\"}]}",
         "syscalls[0].names[1]: unknown syscall 'frobnicate'"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_BOOM\"}]}",
         "syscalls[0].action: unsupported action 'SCMP_ACT_BOOM'"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\"], \"action\":"
         " \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_SOMETIMES\"}]}]}",
         "syscalls[0].args[0].op: unknown operator 'SCMP_CMP_SOMETIMES'"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\"], \"action\":"
         " \"SCMP_ACT_ERRNO\", \"errno\": \"EWHATEVER\"}]}",
         "syscalls[0].errno: unknown errno name 'EWHATEVER'"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"execve\"], \"action\": \"SCMP_ACT_ERRNO\"}]}",
         "does not allow execve"},
        {"{\"defaultAction\": \"SCMP_ACT_KILL\"}", "does not allow execve"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\"], \"action\":"
         " \"SCMP_ACT_ERRNO\", \"excludes\": {\"caps\": [\"CAP_WIZARD\"]}}]}",
         "syscalls[0].excludes.caps[0]: unknown capability 'CAP_WIZARD'"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_Z80\"]}",
         "architectures[0]: unknown architecture 'SCMP_ARCH_Z80'"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct seccomp_program p;
        struct perr e = {0};
        if (compile(cases[i].profile, 0, &p, &e) == 0)
            fail_msg("case %zu compiled", i);
        if (!strstr(e.msg, cases[i].msg))
            fail_msg("case %zu: got '%s', want '%s'", i, e.msg, cases[i].msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seccomp_denies_with_configured_errno),
        cmocka_unit_test(test_seccomp_capability_conditions),
        cmocka_unit_test(test_seccomp_default_deny_with_allow_list),
        cmocka_unit_test(test_seccomp_errors_have_paths),
    };
    return cmocka_run_group_tests_name("seccomp_profile", tests, NULL, NULL);
}
