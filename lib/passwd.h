/* SPDX-License-Identifier: MIT */
/* Users and groups from an image's own /etc/passwd and /etc/group, without NSS: a static
 * binary must not dlopen the image's NSS modules, and the image's files are the truth. */
#ifndef PARITY_PASSWD_H
#define PARITY_PASSWD_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/err.h"

#define PASSWD_MAX_GROUPS 64

struct passwd_user {
    uid_t uid;
    gid_t gid;
    gid_t groups[PASSWD_MAX_GROUPS]; /* supplementary groups, the primary one included */
    size_t group_count;
    char name[256];  /* "" for a numeric uid the image does not know */
    char home[1024]; /* "/" when unknown */
};

/*
 * Resolves "name", "uid", "name:group", "uid:gid" (and mixes) against ETC/passwd and ETC/group
 * (etc_dir is normally "/etc"). A numeric uid the image does not list gets gid 0 unless one is
 * given, as Docker does; an unknown name is an error naming it.
 */
PARITY_MUST_CHECK int
passwd_resolve(const char *etc_dir, const char *spec, struct passwd_user *u, struct perr *err);

#endif
