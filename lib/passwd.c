/* SPDX-License-Identifier: MIT */
/* Parsing passwd(5) and group(5) lines: name:x:uid:gid:gecos:home:shell, name:x:gid:members. */
#include "lib/passwd.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

#define PASSWD_FILE_MAX_BYTES (4u * 1024 * 1024)

/* Splits a line in place into at most max fields on ':'; returns the count. Fields the line
 * does not have are empty strings, never what a previous line left there. */
static size_t split(char *line, char **fields, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < max; i++)
        fields[i] = "";
    while (n < max) {
        fields[n++] = line;
        line = strchr(line, ':');
        if (!line)
            break;
        *line++ = '\0';
    }
    return n;
}

static bool parse_id(const char *s, unsigned long *out)
{
    char *end;

    if (!*s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return *end == '\0' && errno == 0 && *out < 0xffffffffUL;
}

static int read_lines(const char *etc_dir, const char *name, struct buf *b, struct perr *err)
{
    char path[1100];

    snprintf(path, sizeof(path), "%s/%s", etc_dir, name);
    buf_init(b, PASSWD_FILE_MAX_BYTES);
    if (buf_read_file(b, path, err) < 0) {
        if (err->sys_errno != ENOENT)
            return -1;
        return buf_append(b, "", 0, err); /* no file: no names, numeric ids still work */
    }
    return 0;
}

/* Finds the passwd entry whose name (or uid, when by_uid) matches. */
static bool
find_user(char *text, const char *name, bool by_uid, unsigned long uid, struct passwd_user *u)
{
    char *save = NULL;

    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[7];
        unsigned long id, gid;
        if (split(line, f, 7) < 4 || !parse_id(f[2], &id) || !parse_id(f[3], &gid))
            continue;
        if (by_uid ? id != uid : strcmp(f[0], name) != 0)
            continue;
        u->uid = (uid_t)id;
        u->gid = (gid_t)gid;
        snprintf(u->name, sizeof(u->name), "%s", f[0]);
        snprintf(u->home, sizeof(u->home), "%s", f[5] && *f[5] ? f[5] : "/");
        return true;
    }
    return false;
}

static bool member(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len + (p[len] == ',');
    }
    return false;
}

static void add_group(struct passwd_user *u, gid_t g)
{
    for (size_t i = 0; i < u->group_count; i++) {
        if (u->groups[i] == g)
            return;
    }
    if (u->group_count < PASSWD_MAX_GROUPS - 1) /* room for the primary group */
        u->groups[u->group_count++] = g;
}

/* Resolves a group name (or checks a gid) and collects the user's supplementary groups. */
static int scan_groups(char *text, const char *group_spec, struct passwd_user *u, struct perr *err)
{
    unsigned long want = 0;
    bool by_gid = group_spec && parse_id(group_spec, &want), found = !group_spec || by_gid;
    char *save = NULL;

    if (by_gid)
        u->gid = (gid_t)want;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[4];
        unsigned long gid;
        if (split(line, f, 4) < 3 || !parse_id(f[2], &gid))
            continue;
        if (group_spec && !by_gid && strcmp(f[0], group_spec) == 0) {
            u->gid = (gid_t)gid;
            found = true;
        }
        if (u->name[0] && f[3] && member(f[3], u->name))
            add_group(u, (gid_t)gid);
    }
    if (!found)
        return perr_set(err, PERR_USAGE, "group '%s' is not in the image's /etc/group", group_spec);
    return 0;
}

int passwd_resolve(const char *etc_dir, const char *spec, struct passwd_user *u, struct perr *err)
{
    char user[256], *colon;
    const char *group = NULL;
    struct buf pw = {0}, gr = {0};
    unsigned long uid = 0;
    bool numeric;
    int rc;

    *u = (struct passwd_user){.home = "/"};
    if (snprintf(user, sizeof(user), "%s", spec) >= (int)sizeof(user) || !*user)
        return perr_set(err, PERR_USAGE, "user '%s' is empty or too long", spec);
    colon = strchr(user, ':');
    if (colon) {
        *colon = '\0';
        group = colon + 1;
        if (!*group)
            return perr_set(err, PERR_USAGE, "user '%s' has an empty group after ':'", spec);
    }
    numeric = parse_id(user, &uid);
    rc = read_lines(etc_dir, "passwd", &pw, err);
    if (rc == 0 && !find_user(pw.data, user, numeric, uid, u)) {
        if (!numeric)
            rc = perr_set(err, PERR_USAGE, "user '%s' is not in the image's /etc/passwd", user);
        u->uid = (uid_t)uid; /* a bare uid: gid 0 unless given, as Docker does */
    }
    if (rc == 0)
        rc = read_lines(etc_dir, "group", &gr, err);
    if (rc == 0)
        rc = scan_groups(gr.data, group, u, err);
    if (rc == 0) {
        /* The primary group first, then the supplementary ones found in /etc/group. */
        memmove(u->groups + 1, u->groups, u->group_count * sizeof(u->groups[0]));
        u->groups[0] = u->gid;
        u->group_count++;
        for (size_t i = 1; i < u->group_count; i++) {
            if (u->groups[i] == u->gid) {
                memmove(u->groups + i, u->groups + i + 1,
                        (u->group_count - i - 1) * sizeof(u->groups[0]));
                u->group_count--;
                break;
            }
        }
    }
    buf_cleanup(&pw);
    buf_cleanup(&gr);
    return rc;
}
