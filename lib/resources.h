/* SPDX-License-Identifier: MIT */
/* What the machine gives the job: CPUs as the toolkit counts them, the real CPU limit, GPUs. */
#ifndef PARITY_RESOURCES_H
#define PARITY_RESOURCES_H

#include "lib/envlist.h"

struct resources {
    long num_cpus;    /* online CPUs: Python's os.cpu_count(), as SM_NUM_CPUS */
    long cpu_limit;   /* min(affinity, ceil(cgroup quota)): what the job may really use */
    long num_gpus;    /* NVIDIA GPUs visible to the container */
    long num_neurons; /* AWS Neuron cores (trn2.48xlarge: 64; else 0 without neuron-ls) */
};

/* Where the facts are read; resources_roots_default() gives the real ones. */
struct resources_roots {
    const char *sysfs;            /* "/sys" */
    const char *dev;              /* "/dev" */
    const char *cgroup;           /* "/sys/fs/cgroup" */
    const char *proc_self_cgroup; /* "/proc/self/cgroup" */
};

extern const struct resources_roots resources_roots_default;

/*
 * Counts online CPUs, the CPU limit (affinity and this cgroup's quota) and the GPUs NVIDIA's
 * runtime made visible, reading NVIDIA_VISIBLE_DEVICES and CUDA_VISIBLE_DEVICES from env. Never
 * fails: what cannot be read counts as no GPUs, no quota, or falls back to sysconf().
 */
void resources_probe(struct resources *r,
                     const struct resources_roots *roots,
                     const struct envlist *env,
                     const char *instance_type);

/* Parses a Linux CPU list ("0-3,8,10-11") and returns how many CPUs it names, or -1. */
long resources_cpulist_count(const char *list);

#endif
