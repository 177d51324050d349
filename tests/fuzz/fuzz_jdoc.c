/* SPDX-License-Identifier: MIT */
/* Fuzz target: the JSON parser and the Python-compatible formatters over whatever it accepts. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/pyfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jdoc_opts o = {.allow_nonfinite = true, .max_depth = 32};
    struct perr err = {0};
    struct jdoc *d = jdoc_parse((const char *)data, size, &o, &err);
    struct buf b;

    if (!d)
        return 0;
    buf_init(&b, 1 << 20);
    (void)!pyfmt_json(&b, d, &err);
    buf_reset(&b);
    (void)!pyfmt_str(&b, d, &err);
    buf_reset(&b);
    if (d->type == JDOC_STRING)
        (void)!pyfmt_upper(&b, d->text, d->text_len, &err);
    buf_cleanup(&b);
    jdoc_free(d);
    return 0;
}
