/* SPDX-License-Identifier: MIT */
/* Fuzz target: the YAML reader (kubeconfig files). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct perr err = {0};
    struct jdoc *d = yaml_parse((const char *)data, size, &err);

    jdoc_free(d);
    return 0;
}
