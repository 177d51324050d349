/* SPDX-License-Identifier: MIT */
/* The built-in seccomp profile (OCI format); tools/gen-seccomp-default.c compiles it. */
#ifndef PARITY_SECCOMP_DEFAULT_H
#define PARITY_SECCOMP_DEFAULT_H

/*
 * The built-in profile: allow everything except what ML code never needs and container escapes
 * and host tampering use (kernel modules, kexec, reboot, mounts, clocks, swap, keyrings,
 * handle-based opens, userfaultfd). Denied calls fail with EPERM.
 */
static const char seccomp_default_profile[] =
    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"action\": \"SCMP_ACT_ERRNO\","
    " \"errnoRet\": 1, \"names\": [\"acct\", \"add_key\", \"clock_adjtime\", \"clock_settime\","
    " \"create_module\", \"delete_module\", \"finit_module\", \"fsconfig\", \"fsmount\", \"fsopen\","
    " \"fspick\", \"get_kernel_syms\", \"init_module\", \"ioperm\", \"iopl\", \"kexec_file_load\","
    " \"kexec_load\", \"keyctl\", \"lookup_dcookie\", \"mount\", \"move_mount\", \"nfsservctl\","
    " \"open_by_handle_at\", \"open_tree\", \"pivot_root\", \"query_module\", \"quotactl\","
    " \"reboot\", \"request_key\", \"setdomainname\", \"sethostname\", \"settimeofday\","
    " \"swapoff\", \"swapon\", \"syslog\", \"_sysctl\", \"umount2\", \"uselib\","
    " \"userfaultfd\", \"ustat\", \"vhangup\"]}]}";

#endif
