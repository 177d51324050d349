/* SPDX-License-Identifier: MIT */
/* Fuzz target: SigV4's path normalisation, query parsing and header folding on any input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), *query;
    struct buf creq, sh;
    struct perr err = {0};

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    query = strchr(s, '?');
    if (query)
        *query++ = '\0';
    struct sigv4_header h[] = {{"Host", "example.amazonaws.com"}, {"X-Folded", query ? query : s}};
    struct sigv4_request r = {"GET", s, query, h, 2, SIGV4_UNSIGNED_PAYLOAD, size % 2 == 0};
    buf_init(&creq, 1 << 20);
    buf_init(&sh, 1 << 20);
    (void)!sigv4_canonical_request(&r, &creq, &sh, &err);
    buf_cleanup(&creq);
    buf_cleanup(&sh);
    free(s);
    return 0;
}
