/* SPDX-License-Identifier: MIT */
/* Fuzz target: the passwd(5)/group(5) reader, with the input as both files of a fake /etc. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/passwd.h"

static void put(const char *dir, const char *name, const uint8_t *data, size_t size)
{
    char path[128];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[] = "/tmp/parity-fuzz-passwd-XXXXXX";
    static int made;
    struct passwd_user u;
    struct perr err = {0};

    if (!made && !mkdtemp(dir))
        abort();
    made = 1;
    put(dir, "passwd", data, size);
    put(dir, "group", data, size);
    (void)!passwd_resolve(dir, "root", &u, &err);
    (void)!passwd_resolve(dir, "1000:staff", &u, &err);
    return 0;
}
