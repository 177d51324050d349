/* SPDX-License-Identifier: MIT */
/* Fuzz target: the credential endpoint's request-head parser; every view must stay in bounds. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/httpreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct httpreq r;
    long head = httpreq_parse(buf, size, &r);

    if (head > 0) {
        const char *end = buf + head;
        if (r.method + r.method_len > end || r.path + r.path_len > end ||
            (r.authorization && r.authorization + r.authorization_len > end))
            abort();
    }
    return 0;
}
