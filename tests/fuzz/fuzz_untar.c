/* SPDX-License-Identifier: MIT */
/* Fuzz target: tar and tar.gz archives extracted into a scratch folder, removed after each
 * input. Whatever the input, nothing may appear outside the folder (checked by the sanitizers
 * only for memory; the unit tests check the folder). */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/untar.h"

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct untar_limits limits = {.max_bytes = 1 << 20, .max_entries = 1000};
    struct untar_stats st;
    struct perr err = {0};
    char dest[] = "/tmp/parity-fuzz-untar-XXXXXX";
    int fd = memfd_create("archive", MFD_CLOEXEC);

    if (fd < 0 || !mkdtemp(dest)) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    if (write(fd, data, size) == (ssize_t)size && lseek(fd, 0, SEEK_SET) == 0)
        (void)!untar_gz(fd, dest, &limits, &st, &err);
    close(fd);
    nftw(dest, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
