/* SPDX-License-Identifier: MIT */
/* Fuzz target: job spec parsing and validation (every problem collected, nothing leaked). */
#include <stdint.h>

#include "lib/jobspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jobspec js;
    struct buf problems;
    struct perr err = {0};

    buf_init(&problems, 1 << 20);
    if (jobspec_parse((const char *)data, size, &js, &problems, &err) == 0)
        jobspec_cleanup(&js);
    buf_cleanup(&problems);
    return 0;
}
