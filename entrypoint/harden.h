/* SPDX-License-Identifier: MIT */
/* Shrinking what the user's code may do, between spawn and exec: rlimits, umask, user and
 * groups, capabilities, no_new_privs, seccomp. Everything is decided and compiled before the
 * child starts; the child only makes system calls. */
#ifndef PARITY_ENTRYPOINT_HARDEN_H
#define PARITY_ENTRYPOINT_HARDEN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "entrypoint/config.h"
#include "lib/envlist.h"
#include "lib/err.h"
#include "lib/passwd.h"
#include "lib/seccomp_profile.h"

#define HARDEN_MAX_RLIMITS 16

struct harden_rlimit {
    int resource;
    struct rlimit limit;
};

struct harden_plan {
    bool enabled; /* false with PARITY_HARDEN=off */
    bool set_user;
    struct passwd_user user;
    bool drop_caps;
    uint64_t keep_caps; /* the capabilities the child keeps (bit N = capability N) */
    bool no_new_privs;
    struct seccomp_program seccomp; /* count 0: no filter */
    char seccomp_source[1024];      /* "built-in default", "unconfined", a file path, "inline" */
    bool set_umask;
    mode_t umask;
    struct harden_rlimit rlimits[HARDEN_MAX_RLIMITS];
    size_t rlimit_count;
};

/*
 * Builds the plan from the image config (user, capabilities, no_new_privs, seccomp, umask,
 * rlimits) and their environment twins (PARITY_USER, PARITY_CAPABILITIES, PARITY_NO_NEW_PRIVS,
 * PARITY_SECCOMP, PARITY_UMASK; PARITY_HARDEN=off disables all). Users come from etc_dir.
 * Every bad value is an error naming its field; nothing is applied here.
 */
PARITY_MUST_CHECK int harden_plan_build(struct harden_plan *p,
                                        const struct image_config *img,
                                        const struct envlist *env,
                                        const char *etc_dir,
                                        struct perr *err);

/* Stages of harden_apply, for the one-line reason when a step fails in the child. */
enum harden_stage {
    HARDEN_STAGE_RLIMIT = 1,
    HARDEN_STAGE_CAPS_BOUNDING,
    HARDEN_STAGE_USER,
    HARDEN_STAGE_CAPS,
    HARDEN_STAGE_NO_NEW_PRIVS,
    HARDEN_STAGE_SECCOMP,
};

/*
 * In the child, right before exec; async-signal-safe (system calls only). Order: rlimits
 * and umask; keep capabilities across the user switch and drop the bounding set (while root
 * still may); groups, gid, uid; the capability sets and ambient set; no_new_privs; seccomp last,
 * so nothing after it needs a system call the filter may refuse. Returns 0, or the failed stage
 * with errno set.
 */
int harden_apply(const struct harden_plan *p);

const char *harden_stage_name(int stage);

void harden_cleanup(struct harden_plan *p);

#endif
