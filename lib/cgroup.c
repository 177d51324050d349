/* SPDX-License-Identifier: MIT */
/* Reading OOM evidence from the cgroup filesystem, v2 first, then v1. */
#include "lib/cgroup.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

#define CGROUP_FILE_MAX_BYTES (64 * 1024)

int cgroup_keyed_value(const char *text, const char *key, uint64_t *out, struct perr *err)
{
    size_t klen = strlen(key);

    for (const char *line = text; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
            char *end;
            unsigned long long v = strtoull(line + klen + 1, &end, 10);
            if (end == line + klen + 1 || (*end != '\n' && *end != '\0'))
                return perr_set(err, PERR_PARSE, "value of '%s' is not a number", key);
            *out = v;
            return 0;
        }
    }
    return perr_set(err, PERR_PARSE, "no '%s' line", key);
}

/* The path after "0::" (v2) or after ":memory:" (v1) in /proc/self/cgroup's text. */
static int cgroup_path(const char *text, const char *tag, char *out, size_t out_len)
{
    size_t tlen = strlen(tag);

    for (const char *line = text; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        const char *p = strstr(line, tag);
        const char *nl = strchr(line, '\n');
        size_t n;

        if (!p || (nl && p > nl))
            continue;
        if (strcmp(tag, "0::") == 0 && p != line)
            continue;
        p += tlen;
        n = nl ? (size_t)(nl - p) : strlen(p);
        if (n >= out_len)
            return -1;
        memcpy(out, p, n);
        out[n] = '\0';
        return 0;
    }
    return -1;
}

static int read_key(const char *path, const char *key, uint64_t *out, struct perr *err)
{
    struct buf b;
    int rc;

    buf_init(&b, CGROUP_FILE_MAX_BYTES);
    rc = buf_read_file(&b, path, err);
    if (rc == 0)
        rc = cgroup_keyed_value(b.data, key, out, err);
    buf_cleanup(&b);
    if (rc < 0)
        return perr_wrap(err, "reading %s", path);
    return 0;
}

int cgroup_oom_kills(const char *sysfs_root,
                     const char *proc_self_cgroup,
                     uint64_t *out,
                     struct perr *err)
{
    char rel[1024], path[2048];
    struct buf self;
    bool found = false;
    int rc = -1;

    buf_init(&self, CGROUP_FILE_MAX_BYTES);
    if (buf_read_file(&self, proc_self_cgroup, err) < 0) {
        buf_cleanup(&self);
        return -1;
    }
    /* A container's cgroup namespace shows "/" as its own cgroup; the file then sits at the root.
     */
    if (cgroup_path(self.data, "0::", rel, sizeof(rel)) == 0) {
        found = true;
        snprintf(path, sizeof(path), "%s%s/memory.events", sysfs_root, strcmp(rel, "/") ? rel : "");
        rc = read_key(path, "oom_kill", out, err);
    }
    if (rc < 0 && cgroup_path(self.data, ":memory:", rel, sizeof(rel)) == 0) {
        found = true;
        snprintf(path, sizeof(path), "%s/memory%s/memory.oom_control", sysfs_root,
                 strcmp(rel, "/") ? rel : "");
        rc = read_key(path, "oom_kill", out, err);
    }
    if (!found)
        perr_set(err, PERR_IO, "no memory controller found in %s", proc_self_cgroup);
    buf_cleanup(&self);
    return rc;
}

static int read_text(const char *path, char *out, size_t out_len, struct perr *err)
{
    struct buf b;

    buf_init(&b, out_len - 1);
    if (buf_read_file(&b, path, err) < 0) {
        buf_cleanup(&b);
        return -1;
    }
    memcpy(out, b.data, b.len + 1);
    buf_cleanup(&b);
    return 0;
}

int cgroup_cpu_quota(const char *sysfs_root,
                     const char *proc_self_cgroup,
                     long *cpus,
                     struct perr *err)
{
    char rel[1024], path[2048], text[256];
    long long quota = -1, period = 0;
    struct buf self;
    int rc = -1;

    buf_init(&self, CGROUP_FILE_MAX_BYTES);
    if (buf_read_file(&self, proc_self_cgroup, err) < 0) {
        buf_cleanup(&self);
        return -1;
    }
    if (cgroup_path(self.data, "0::", rel, sizeof(rel)) == 0) {
        snprintf(path, sizeof(path), "%s%s/cpu.max", sysfs_root, strcmp(rel, "/") ? rel : "");
        if (read_text(path, text, sizeof(text), err) == 0) {
            rc = 0;
            if (strncmp(text, "max", 3) == 0 || sscanf(text, "%lld %lld", &quota, &period) != 2)
                quota = -1;
        }
    }
    if (rc < 0 && cgroup_path(self.data, ":cpu,cpuacct:", rel, sizeof(rel)) == 0) {
        const char *r = strcmp(rel, "/") ? rel : "";
        snprintf(path, sizeof(path), "%s/cpu,cpuacct%s/cpu.cfs_quota_us", sysfs_root, r);
        if (read_text(path, text, sizeof(text), err) == 0 && sscanf(text, "%lld", &quota) == 1) {
            snprintf(path, sizeof(path), "%s/cpu,cpuacct%s/cpu.cfs_period_us", sysfs_root, r);
            if (read_text(path, text, sizeof(text), err) == 0 && sscanf(text, "%lld", &period) == 1)
                rc = 0;
        }
    }
    buf_cleanup(&self);
    if (rc < 0)
        return perr_wrap(err, "reading the CPU quota");
    if (quota <= 0 || period <= 0)
        return perr_set(err, PERR_PARSE, "no CPU quota is set");
    *cpus = (long)((quota + period - 1) / period);
    return 0;
}
