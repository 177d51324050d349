/* SPDX-License-Identifier: MIT */
/* Fuzz target: strict decimal parsing of option and environment values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/num.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    struct perr err = {0};
    uint64_t v;

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (num_parse_u64(s, 0, 86400, &v, &err) == 0 && v > 86400)
        abort(); /* the range check is the contract */
    free(s);
    return 0;
}
