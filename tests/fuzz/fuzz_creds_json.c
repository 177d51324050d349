/* SPDX-License-Identifier: MIT */
/* Fuzz target: container-credentials / IMDS JSON documents and their RFC 3339 times. */
#include <stdint.h>

#include "lib/creds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct creds c;
    struct perr err = {0};

    (void)!creds_parse_json((const char *)data, size, &c, &err);
    creds_wipe(&c);
    return 0;
}
