/* SPDX-License-Identifier: MIT */
/* Reading this process's own cgroup (OOM kills, CPU quota): cgroup v2 first, then v1. */
#include "lib/cgroup.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The cgroup path after "0::" (v2) or after ":<hierarchy>:" (v1) in /proc/self/cgroup. */
static int cgroup_path(const char *text, const char *tag, char *out, size_t out_len)
{
    size_t tlen = strlen(tag);
    bool v2 = strcmp(tag, "0::") == 0;

    for (const char *line = text; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        const char *p = strstr(line, tag);
        const char *nl = strchr(line, '\n');
        size_t n;

        if (!p || (nl && p > nl) || (v2 && p != line))
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

/* Where this process's cgroup keeps a controller's files: "<root><path>" on v2 when `v2_file`
 * exists there, else "<root>/<v1_hierarchy><path>". A namespaced "/" path adds nothing. */
static int controller_dir(const char *sysfs_root,
                          const char *proc_self_cgroup,
                          const char *v2_file,
                          const char *v1_hierarchy,
                          char *out,
                          size_t out_len,
                          struct perr *err)
{
    char rel[1024], tag[64], probe[2100];
    struct buf self;
    int rc = -1;

    buf_init(&self, CGROUP_FILE_MAX_BYTES);
    if (buf_read_file(&self, proc_self_cgroup, err) < 0) {
        buf_cleanup(&self);
        return -1;
    }
    if (cgroup_path(self.data, "0::", rel, sizeof(rel)) == 0) {
        snprintf(out, out_len, "%s%s", sysfs_root, strcmp(rel, "/") ? rel : "");
        snprintf(probe, sizeof(probe), "%s/%s", out, v2_file);
        rc = access(probe, R_OK) == 0 ? 0 : -1;
    }
    snprintf(tag, sizeof(tag), ":%s:", v1_hierarchy);
    if (rc < 0 && cgroup_path(self.data, tag, rel, sizeof(rel)) == 0) {
        snprintf(out, out_len, "%s/%s%s", sysfs_root, v1_hierarchy, strcmp(rel, "/") ? rel : "");
        rc = 0;
    }
    buf_cleanup(&self);
    if (rc < 0)
        return perr_set(err, PERR_IO, "no %s controller found in %s", v1_hierarchy,
                        proc_self_cgroup);
    return 0;
}

static int read_text(const char *dir, const char *name, struct buf *b, struct perr *err)
{
    char path[2200];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    buf_reset(b);
    return buf_read_file(b, path, err);
}

int cgroup_oom_kills(const char *sysfs_root,
                     const char *proc_self_cgroup,
                     uint64_t *out,
                     struct perr *err)
{
    char dir[2048];
    struct buf b;
    int rc;

    if (controller_dir(sysfs_root, proc_self_cgroup, "memory.events", "memory", dir, sizeof(dir),
                       err) < 0)
        return -1;
    buf_init(&b, CGROUP_FILE_MAX_BYTES);
    /* v2 memory.events and v1 memory.oom_control both count kills on an "oom_kill N" line. */
    rc = read_text(dir, "memory.events", &b, err);
    if (rc < 0)
        rc = read_text(dir, "memory.oom_control", &b, err);
    if (rc == 0)
        rc = cgroup_keyed_value(b.data, "oom_kill", out, err);
    buf_cleanup(&b);
    return rc < 0 ? perr_wrap(err, "reading OOM kills in %s", dir) : 0;
}

int cgroup_cpu_quota(const char *sysfs_root,
                     const char *proc_self_cgroup,
                     long *cpus,
                     struct perr *err)
{
    long long quota = -1, period = 0;
    char dir[2048];
    struct buf b;
    int rc;

    if (controller_dir(sysfs_root, proc_self_cgroup, "cpu.max", "cpu,cpuacct", dir, sizeof(dir),
                       err) < 0)
        return -1;
    buf_init(&b, CGROUP_FILE_MAX_BYTES);
    /* v2: "max 100000" or "150000 100000"; v1: cfs_quota_us (-1: none) over cfs_period_us */
    rc = read_text(dir, "cpu.max", &b, err);
    if (rc == 0 && sscanf(b.data, "%lld %lld", &quota, &period) != 2)
        quota = -1;
    if (rc < 0) {
        rc = read_text(dir, "cpu.cfs_quota_us", &b, err);
        if (rc == 0 && sscanf(b.data, "%lld", &quota) != 1)
            quota = -1;
        if (rc == 0)
            rc = read_text(dir, "cpu.cfs_period_us", &b, err);
        if (rc == 0 && sscanf(b.data, "%lld", &period) != 1)
            period = 0;
    }
    buf_cleanup(&b);
    if (rc < 0)
        return perr_wrap(err, "reading the CPU quota in %s", dir);
    if (quota <= 0 || period <= 0)
        return perr_set(err, PERR_PARSE, "no CPU quota is set in %s", dir);
    *cpus = (long)((quota + period - 1) / period);
    return 0;
}
