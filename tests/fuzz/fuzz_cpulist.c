/* SPDX-License-Identifier: MIT */
/* Fuzz target: the Linux CPU-list parser ("0-3,8,10-11") used for SM_NUM_CPUS. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/resources.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (resources_cpulist_count(s) < -1)
        abort(); /* a count, or -1 for a malformed list */
    free(s);
    return 0;
}
