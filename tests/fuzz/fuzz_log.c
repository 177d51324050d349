/* SPDX-License-Identifier: MIT */
/* Fuzz target: the log line formatter, whose JSON mode parses `key=value` fields out of text. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int devnull = -1;
    char *s = malloc(size + 1);

    if (!s)
        return 0;
    if (devnull < 0)
        devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    memcpy(s, data, size);
    s[size] = '\0';
    log_setup("fuzz", LOG_LEVEL_DEBUG, LOG_FORMAT_JSON, devnull);
    log_info("phase", "%s", s);
    log_setup("fuzz", LOG_LEVEL_DEBUG, LOG_FORMAT_TEXT, devnull);
    log_info(NULL, "%s", s);
    free(s);
    return 0;
}
