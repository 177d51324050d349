/* SPDX-License-Identifier: MIT */
/* Fuzz target: cgroup keyed-file parsing (memory.events, memory.oom_control). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct perr err = {0};
    uint64_t v;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    (void)!cgroup_keyed_value(text, "oom_kill", &v, &err);
    (void)!cgroup_keyed_value(text, "oom", &v, &err);
    free(text);
    return 0;
}
