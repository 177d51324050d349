/* SPDX-License-Identifier: MIT */
/* mkdir -p, and a file copy that is whole or absent. */
#include "lib/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int copy_fd(int in, int out)
{
    char data[65536];

    for (;;) {
        ssize_t n = read(in, data, sizeof(data));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return (int)n;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, data + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return -1;
            off += w;
        }
    }
}

int fs_copy_file(const char *src, const char *dst, struct perr *err)
{
    char partial[4200], *slash;
    int in, out, rc;

    if ((size_t)snprintf(partial, sizeof(partial), "%s.parity-partial", dst) >= sizeof(partial))
        return perr_set(err, PERR_LIMIT, "path too long: %s", dst);
    slash = strrchr(partial, '/');
    if (slash && slash != partial) {
        *slash = '\0';
        rc = fs_mkdirs(partial, err);
        *slash = '/';
        if (rc < 0)
            return -1;
    }
    in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0)
        return perr_sys(err, "reading %s", src);
    out = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        rc = perr_sys(err, "creating %s", partial);
        close(in);
        return rc;
    }
    rc = copy_fd(in, out) < 0 ? perr_sys(err, "copying %s to %s", src, partial) : 0;
    close(in);
    if (close(out) < 0 && rc == 0)
        rc = perr_sys(err, "writing %s", partial);
    if (rc == 0 && rename(partial, dst) < 0)
        rc = perr_sys(err, "renaming %s", partial);
    if (rc < 0)
        unlink(partial);
    return rc;
}
