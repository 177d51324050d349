/* SPDX-License-Identifier: MIT */
/* Strict decimal parsing: the whole string, in range, or a message saying what was wrong. */
#include "lib/num.h"

#include <errno.h>
#include <stdlib.h>

int num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, struct perr *err)
{
    unsigned long long v;
    char *end;

    if (s[0] < '0' || s[0] > '9')
        return perr_set(err, PERR_PARSE, "'%s' is not a number", s);
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end != '\0')
        return perr_set(err, PERR_PARSE, "'%s' is not a number", s);
    if (errno == ERANGE || v < min || v > max)
        return perr_set(err, PERR_PARSE, "'%s' is out of range %llu..%llu", s,
                        (unsigned long long)min, (unsigned long long)max);
    *out = v;
    return 0;
}
