/* SPDX-License-Identifier: MIT */
/* What a SageMaker instance type gives a container: CPUs, memory and GPUs, so that an EKS pod
 * asks for the same (the EC2 type of the same name, without "ml."). */
#ifndef PARITY_SHIM_INSTANCE_TYPES_H
#define PARITY_SHIM_INSTANCE_TYPES_H

struct instance_type {
    const char *name; /* "ml.g5.xlarge" */
    int vcpus;
    int memory_gib;
    int gpus;
};

/* The entry for name, or NULL for a type this table does not know. */
const struct instance_type *instance_type_find(const char *name);

#endif
