/* SPDX-License-Identifier: MIT */
/* Sizes of common SageMaker training instance types (AWS's instance type pages). */
#include "shim/instance_types.h"

#include <string.h>

static const struct instance_type types[] = {
    {"ml.m5.large", 2, 8, 0},          {"ml.m5.xlarge", 4, 16, 0},
    {"ml.m5.2xlarge", 8, 32, 0},       {"ml.m5.4xlarge", 16, 64, 0},
    {"ml.m5.12xlarge", 48, 192, 0},    {"ml.m5.24xlarge", 96, 384, 0},
    {"ml.c5.xlarge", 4, 8, 0},         {"ml.c5.2xlarge", 8, 16, 0},
    {"ml.c5.4xlarge", 16, 32, 0},      {"ml.c5.9xlarge", 36, 72, 0},
    {"ml.c5.18xlarge", 72, 144, 0},    {"ml.r5.large", 2, 16, 0},
    {"ml.r5.xlarge", 4, 32, 0},        {"ml.r5.2xlarge", 8, 64, 0},
    {"ml.g4dn.xlarge", 4, 16, 1},      {"ml.g4dn.2xlarge", 8, 32, 1},
    {"ml.g4dn.4xlarge", 16, 64, 1},    {"ml.g4dn.8xlarge", 32, 128, 1},
    {"ml.g4dn.12xlarge", 48, 192, 4},  {"ml.g4dn.16xlarge", 64, 256, 1},
    {"ml.g5.xlarge", 4, 16, 1},        {"ml.g5.2xlarge", 8, 32, 1},
    {"ml.g5.4xlarge", 16, 64, 1},      {"ml.g5.8xlarge", 32, 128, 1},
    {"ml.g5.12xlarge", 48, 192, 4},    {"ml.g5.16xlarge", 64, 256, 1},
    {"ml.g5.24xlarge", 96, 384, 4},    {"ml.g5.48xlarge", 192, 768, 8},
    {"ml.g6.xlarge", 4, 16, 1},        {"ml.g6.2xlarge", 8, 32, 1},
    {"ml.g6.12xlarge", 48, 192, 4},    {"ml.g6.48xlarge", 192, 768, 8},
    {"ml.p3.2xlarge", 8, 61, 1},       {"ml.p3.8xlarge", 32, 244, 4},
    {"ml.p3.16xlarge", 64, 488, 8},    {"ml.p3dn.24xlarge", 96, 768, 8},
    {"ml.p4d.24xlarge", 96, 1152, 8},  {"ml.p4de.24xlarge", 96, 1152, 8},
    {"ml.p5.48xlarge", 192, 2048, 8},  {"ml.trn1.2xlarge", 8, 32, 0},
    {"ml.trn1.32xlarge", 128, 512, 0},
};

const struct instance_type *instance_type_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(types[i].name, name) == 0)
            return &types[i];
    }
    return NULL;
}
