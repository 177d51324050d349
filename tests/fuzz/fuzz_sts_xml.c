/* SPDX-License-Identifier: MIT */
/* Fuzz target: STS XML responses (credentials and ErrorResponse), with entity decoding. */
#include <stdint.h>

#include "lib/creds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct creds c;
    struct perr err = {0};

    (void)!creds_parse_sts_xml((const char *)data, size, &c, &err);
    creds_wipe(&c);
    return 0;
}
