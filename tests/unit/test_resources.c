/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/resources: CPU lists, online CPUs, quotas, GPU visibility, from fake roots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/resources.h"
#include "tests/unit/tree.h"

static void probe(struct resources *r, char *const *env_vars, const char *type)
{
    char sys[128], dev[128], cg[128], self[128];
    struct resources_roots roots = {sys, dev, cg, self};
    struct envlist env;
    struct perr e = {0};

    snprintf(sys, sizeof(sys), "%s/sys", tree_root);
    snprintf(dev, sizeof(dev), "%s/dev", tree_root);
    snprintf(cg, sizeof(cg), "%s/cgroup", tree_root);
    snprintf(self, sizeof(self), "%s/self-cgroup", tree_root);
    assert_int_equal(envlist_init_from(&env, env_vars, &e), 0);
    resources_probe(r, &roots, &env, type);
    envlist_cleanup(&env);
}

static void test_resources_cpulist(void **state)
{
    (void)state;
    assert_int_equal(resources_cpulist_count("0-3\n"), 4);
    assert_int_equal(resources_cpulist_count("0-3,8,10-11"), 7);
    assert_int_equal(resources_cpulist_count("5"), 1);
    assert_int_equal(resources_cpulist_count("3-1"), -1);
    assert_int_equal(resources_cpulist_count("x"), -1);
    assert_int_equal(resources_cpulist_count("1;2"), -1);
}

static void test_resources_cpus_and_quota_v2(void **state)
{
    struct resources r;
    char *env[] = {NULL};

    (void)state;
    tree_put("sys/devices/system/cpu/online", "0-63\n");
    tree_put("self-cgroup", "0::/kubepods/pod1\n");
    tree_put("cgroup/kubepods/pod1/cpu.max", "150000 100000\n");
    probe(&r, env, NULL);
    assert_int_equal(r.num_cpus, 64);
    assert_int_equal(r.cpu_limit, 2); /* 1.5 CPUs round up, below this machine's affinity */
    assert_int_equal(r.num_gpus, 0);
    assert_int_equal(r.num_neurons, 0);
    tree_put("cgroup/kubepods/pod1/cpu.max", "max 100000\n");
    probe(&r, env, NULL);
    assert_true(r.cpu_limit >= 1);
    assert_true(r.cpu_limit <= sysconf(_SC_NPROCESSORS_ONLN));
}

static void test_resources_quota_v1(void **state)
{
    struct resources r;
    char *env[] = {NULL};

    (void)state;
    tree_put("self-cgroup", "5:cpu,cpuacct:/docker/x\n3:memory:/docker/x\n");
    tree_put("cgroup/cpu,cpuacct/docker/x/cpu.cfs_quota_us", "50000\n");
    tree_put("cgroup/cpu,cpuacct/docker/x/cpu.cfs_period_us", "100000\n");
    probe(&r, env, NULL);
    assert_int_equal(r.cpu_limit, 1);
}

static void test_resources_gpus(void **state)
{
    struct resources r;
    char *none[] = {NULL};
    char *cuda2[] = {"CUDA_VISIBLE_DEVICES=0,1", NULL};
    char *cuda_bad[] = {"CUDA_VISIBLE_DEVICES=0,-1,2", NULL};
    char *cuda_empty[] = {"CUDA_VISIBLE_DEVICES=", NULL};
    char *nvd_void[] = {"NVIDIA_VISIBLE_DEVICES=void", NULL};

    (void)state;
    tree_put("dev/nvidia0", "");
    tree_put("dev/nvidia1", "");
    tree_put("dev/nvidia2", "");
    tree_put("dev/nvidia3", "");
    tree_put("dev/nvidiactl", "");
    tree_put("dev/nvidia-uvm", "");
    tree_put("dev/nvidia-caps/nvidia-cap1", "");
    probe(&r, none, NULL);
    assert_int_equal(r.num_gpus, 4);
    probe(&r, cuda2, NULL);
    assert_int_equal(r.num_gpus, 2);
    probe(&r, cuda_bad, NULL);
    assert_int_equal(r.num_gpus, 1);
    probe(&r, cuda_empty, NULL);
    assert_int_equal(r.num_gpus, 0);
    probe(&r, nvd_void, NULL);
    assert_int_equal(r.num_gpus, 0);
    probe(&r, none, "ml.trn2.48xlarge");
    assert_int_equal(r.num_neurons, 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resources_cpulist),
        cmocka_unit_test_setup_teardown(test_resources_cpus_and_quota_v2, tree_setup,
                                        tree_teardown),
        cmocka_unit_test_setup_teardown(test_resources_quota_v1, tree_setup, tree_teardown),
        cmocka_unit_test_setup_teardown(test_resources_gpus, tree_setup, tree_teardown),
    };
    return cmocka_run_group_tests_name("resources", tests, NULL, NULL);
}
