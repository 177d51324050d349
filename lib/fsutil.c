/* SPDX-License-Identifier: MIT */
/* mkdir -p. */
#include "lib/fsutil.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

int fs_mkdirs(const char *path, struct perr *err)
{
    char p[4096];
    size_t n = strlen(path);

    /* Most folders have their parents already: one call, and the walk only when it fails. */
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return perr_sys(err, "creating %s", path);
    if (n >= sizeof(p))
        return perr_set(err, PERR_LIMIT, "path too long: %s", path);
    memcpy(p, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        p[i] = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return perr_sys(err, "creating %s", p);
        p[i] = path[i];
    }
    return 0;
}
