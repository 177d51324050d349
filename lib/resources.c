/* SPDX-License-Identifier: MIT */
/* Hardware counts without running tools: the binary is static, so no nvidia-smi, no dlopen. */
#include "lib/resources.h"

#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/cgroup.h"

#define RESOURCES_MAX_CPU 65535

const struct resources_roots resources_roots_default = {
    .sysfs = "/sys",
    .dev = "/dev",
    .cgroup = "/sys/fs/cgroup",
    .proc_self_cgroup = "/proc/self/cgroup",
};

long resources_cpulist_count(const char *list)
{
    long total = 0;
    const char *p = list;

    while (*p && *p != '\n') {
        char *end;
        long a = strtol(p, &end, 10), b;
        /* Linux numbers CPUs well below this; larger values are a malformed list. */
        if (end == p || a < 0 || a > RESOURCES_MAX_CPU)
            return -1;
        b = a;
        if (*end == '-') {
            p = end + 1;
            b = strtol(p, &end, 10);
            if (end == p || b < a || b > RESOURCES_MAX_CPU)
                return -1;
        }
        total += b - a + 1;
        p = end;
        if (*p == ',')
            p++;
        else if (*p && *p != '\n')
            return -1;
    }
    return total;
}

static int read_small(const char *path, char *out, size_t out_len)
{
    FILE *f = fopen(path, "re");
    size_t n;

    if (!f)
        return -1;
    n = fread(out, 1, out_len - 1, f);
    fclose(f);
    out[n] = '\0';
    return 0;
}

/* glibc's sysconf(_SC_NPROCESSORS_ONLN), which Python uses, reads this file; musl's would count
 * the affinity mask instead, so read it directly to match the toolkit. */
static long online_cpus(const char *sysfs_root)
{
    char path[512], text[4096];
    long n;

    snprintf(path, sizeof(path), "%s/devices/system/cpu/online", sysfs_root);
    if (read_small(path, text, sizeof(text)) == 0 && (n = resources_cpulist_count(text)) > 0)
        return n;
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

static long count_nvidia_nodes(const char *dev_root)
{
    DIR *d = opendir(dev_root);
    struct dirent *de;
    long n = 0;

    if (!d)
        return 0;
    while ((de = readdir(d))) {
        const char *s = de->d_name;
        /* /dev/nvidia0, /dev/nvidia1, ...: not nvidiactl, nvidia-uvm, nvidia-caps */
        if (strncmp(s, "nvidia", 6) == 0 && s[6] >= '0' && s[6] <= '9' &&
            strspn(s + 6, "0123456789") == strlen(s + 6))
            n++;
    }
    closedir(d);
    return n;
}

/* CUDA_VISIBLE_DEVICES: entries up to the first invalid one count; "" or "-1" hides all. */
static long cuda_visible(const char *v)
{
    long n = 0;

    for (const char *p = v; *p;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || *p == '-')
            break;
        n++;
        p += len + (p[len] == ',');
    }
    return n;
}

static long visible_gpus(const char *dev_root, const struct envlist *env)
{
    const char *nvd = envlist_get(env, "NVIDIA_VISIBLE_DEVICES");
    const char *cvd = envlist_get(env, "CUDA_VISIBLE_DEVICES");
    long n = count_nvidia_nodes(dev_root), c;

    /* The NVIDIA runtime mounts only the requested devices; "void"/"none" request none. */
    if (nvd && (strcmp(nvd, "void") == 0 || strcmp(nvd, "none") == 0 || !*nvd))
        return 0;
    if (cvd) {
        c = cuda_visible(cvd);
        if (c < n)
            n = c;
    }
    return n;
}

void resources_probe(struct resources *r,
                     const struct resources_roots *roots,
                     const struct envlist *env,
                     const char *instance_type)
{
    const char *sysfs_root = roots->sysfs, *dev_root = roots->dev, *cgroup_root = roots->cgroup;
    const char *proc_self_cgroup = roots->proc_self_cgroup;
    struct perr err = {0};
    cpu_set_t set;
    long affinity = -1, quota;

    r->num_cpus = online_cpus(sysfs_root);
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        affinity = CPU_COUNT(&set);
    r->cpu_limit = affinity > 0 ? affinity : r->num_cpus;
    if (cgroup_cpu_quota(cgroup_root, proc_self_cgroup, &quota, &err) < 0)
        quota = -1;
    if (quota > 0 && quota < r->cpu_limit)
        r->cpu_limit = quota;
    r->num_gpus = visible_gpus(dev_root, env);
    /* The toolkit hard-codes trn2.48xlarge; elsewhere it asks neuron-ls, which a static PID 1
     * does not run. */
    r->num_neurons = instance_type && strstr(instance_type, "trn2.48xlarge") ? 64 : 0;
}
