/* SPDX-License-Identifier: MIT */
/* What the machine gives the job: CPUs as the toolkit counts them, the real CPU limit, GPUs. */
#ifndef PARITY_ENTRYPOINT_RESOURCES_H
#define PARITY_ENTRYPOINT_RESOURCES_H

#include "lib/envlist.h"

struct resources {
    long num_cpus;    /* online CPUs: Python's os.cpu_count(), as SM_NUM_CPUS */
    long cpu_limit;   /* min(affinity, ceil(cgroup quota)): what the job may really use */
    long num_gpus;    /* NVIDIA GPUs visible to the container */
    long num_neurons; /* AWS Neuron cores (trn2.48xlarge: 64; else 0 without neuron-ls) */
};

/*
 * Counts from sysfs_root ("/sys" normally), dev_root ("/dev") and cgroup_root ("/sys/fs/cgroup"),
 * reading NVIDIA_VISIBLE_DEVICES and CUDA_VISIBLE_DEVICES from env. Never fails: what cannot be
 * read counts as 0 GPUs or falls back to sysconf().
 */
void resources_probe(struct resources *r, const char *sysfs_root, const char *dev_root,
                     const char *cgroup_root, const struct envlist *env, const char *instance_type);

/* Parses a Linux CPU list ("0-3,8,10-11") and returns how many CPUs it names, or -1. */
long resources_cpulist_count(const char *list);

#endif
