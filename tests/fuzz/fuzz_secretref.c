/* SPDX-License-Identifier: MIT */
/* Fuzz target: secret references (ARN parsing) and the AWS JSON error shape. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/awsjson.h"
#include "lib/secretref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), code[128], message[256], url[1024];
    struct secretref ref;
    struct perr err = {0};

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (secretref_parse(text, &ref, &err) == 0 && ref.kind != SECRETREF_NONE)
        secretref_endpoint(&ref, NULL, url, sizeof(url));
    (void)awsjson_parse_error(text, size, code, message);
    free(text);
    return 0;
}
