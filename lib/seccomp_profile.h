/* SPDX-License-Identifier: MIT */
/* OCI / Docker seccomp profiles (the JSON teams already have), compiled with libseccomp into a
 * BPF program that the child loads with one system call right before exec. */
#ifndef PARITY_SECCOMP_PROFILE_H
#define PARITY_SECCOMP_PROFILE_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/jdoc.h"

struct seccomp_program {
    struct sock_filter *insns; /* owned */
    unsigned short count;
};

/*
 * Compiles a profile: defaultAction, defaultErrnoRet/defaultErrno, architectures, archMap,
 * syscalls[].names/action/args/errnoRet/errno/includes/excludes (caps evaluated against
 * `kept_caps`, arches against this machine, minKernel against the running kernel). Unknown
 * syscall, action, operator or errno names, and a profile that would refuse execve, are errors
 * with the JSON path: "syscalls[3].names[1]: unknown syscall 'frobnicate'".
 */
PARITY_MUST_CHECK int seccomp_profile_compile(const struct jdoc *profile,
                                              uint64_t kept_caps,
                                              struct seccomp_program *out,
                                              struct perr *err);

void seccomp_program_cleanup(struct seccomp_program *p);

#endif
