/* SPDX-License-Identifier: MIT */
/* Fuzz target: S3 ListObjectsV2 pages (XML, entities) and key placement under a prefix. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/s3.h"

static int place(void *ctx, const struct s3_object *o, struct perr *err)
{
    const char *rel;

    (void)ctx;
    (void)!s3_relative_path("data/", o->key, &rel, err);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char token[2048];
    struct perr err = {0};

    (void)!s3_parse_list_page((const char *)data, size, place, NULL, token, sizeof(token), &err);
    return 0;
}
