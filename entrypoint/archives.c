/* SPDX-License-Identifier: MIT */
/* model.tar.gz and sourcedir.tar.gz: fetch, then extract safely. */
#include "entrypoint/archives.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/s3.h"
#include "lib/s3transfer.h"
#include "lib/untar.h"

/* Downloads s3://bucket/key to path, large ones in parallel ranges. */
static int download(const char *uri,
                    const char *path,
                    const struct envlist *env,
                    const struct creds *c,
                    struct perr *err)
{
    char bucket[64], key[S3_MAX_KEY + 1];
    struct s3transfer_item item = {.path = (char *)path};
    struct s3transfer_opts o;
    struct s3_client s3;
    uint64_t bytes;

    if (s3_client_init(&s3, env, c, err) < 0 || s3_parse_uri(uri, bucket, key, err) < 0 ||
        s3transfer_opts_from_env(&o, env, uri, "materialize", err) < 0 ||
        s3_head(&s3, bucket, key, &item.obj, err) < 0)
        return -1;
    return s3transfer_download(&s3, bucket, &item, 1, &o, &bytes, err);
}

int archives_extract_uri(const char *uri,
                         const char *dest,
                         const char *scratch,
                         const struct envlist *env,
                         const struct creds *c,
                         char *note,
                         size_t note_len,
                         struct perr *err)
{
    char local[4200];
    struct untar_stats st;
    bool fetched = strncmp(uri, "s3://", 5) == 0;
    int fd, rc;

    if (fetched) {
        if ((size_t)snprintf(local, sizeof(local), "%s/.parity-archive.tar.gz", scratch) >=
            sizeof(local))
            return perr_set(err, PERR_LIMIT, "the scratch path is too long");
        if (download(uri, local, env, c, err) < 0)
            return -1;
    } else if (strncmp(uri, "file://", 7) == 0 || uri[0] == '/') {
        snprintf(local, sizeof(local), "%s", uri[0] == '/' ? uri : uri + 7);
    } else {
        return perr_set(err, PERR_USAGE, "%s: an archive must be s3://, file:// or a path", uri);
    }
    fd = open(local, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = perr_sys(err, "opening %s", local);
    } else {
        rc = untar_gz(fd, dest, NULL, &st, err);
        close(fd);
        if (rc < 0)
            perr_wrap(err, "extracting %s into %s", uri, dest);
    }
    if (fetched)
        unlink(local);
    if (rc == 0)
        snprintf(note, note_len, " entries=%" PRIu64 " bytes=%" PRIu64, st.entries, st.bytes);
    return rc;
}

bool archives_dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    bool empty = true;

    if (!d)
        return true;
    while (empty && (de = readdir(d)))
        empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
    closedir(d);
    return empty;
}
