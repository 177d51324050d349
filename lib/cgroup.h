/* SPDX-License-Identifier: MIT */
/* What the process's own cgroup records: OOM kills (v2 memory.events, v1 memory.oom_control). */
#ifndef PARITY_CGROUP_H
#define PARITY_CGROUP_H

#include <stdint.h>

#include "lib/err.h"

/*
 * The number of OOM kills the memory controller of this process's cgroup has recorded, read from
 * `sysfs_root` (normally "/sys/fs/cgroup") and the cgroup path in `proc_self_cgroup` (normally
 * "/proc/self/cgroup"). Fails when neither cgroup v2 nor v1 memory accounting is readable.
 */
PARITY_MUST_CHECK int cgroup_oom_kills(const char *sysfs_root,
                                       const char *proc_self_cgroup,
                                       uint64_t *out,
                                       struct perr *err);

/*
 * CPUs the cgroup's CPU quota allows, rounded up (cgroup v2 cpu.max, else v1 cfs_quota_us /
 * cfs_period_us), for this process's cgroup. Fails when there is no quota ("max" or -1) or
 * nothing is readable.
 */
PARITY_MUST_CHECK int cgroup_cpu_quota(const char *sysfs_root,
                                       const char *proc_self_cgroup,
                                       long *cpus,
                                       struct perr *err);

/* Finds `key N` in a flat-keyed cgroup file's text (memory.events, memory.oom_control). */
PARITY_MUST_CHECK int
cgroup_keyed_value(const char *text, const char *key, uint64_t *out, struct perr *err);

#endif
