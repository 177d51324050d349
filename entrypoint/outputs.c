/* SPDX-License-Identifier: MIT */
/* model.tar.gz and output.tar.gz at the end of a job. */
#include "entrypoint/outputs.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/s3.h"
#include "lib/s3transfer.h"
#include "lib/targz.h"

static const struct {
    const char *folder; /* below ROOT */
    const char *archive;
} packs[] = {{"model", "model.tar.gz"}, {"output/data", "output.tar.gz"}};

/* What the archives hold and weigh, for the log. */
struct totals {
    uint64_t content; /* file bytes packed */
    uint64_t archive; /* archive bytes written */
    uint64_t stored;  /* content that did not compress and was stored as it is */
};

/* Packs ROOT/folder into path, adding to the totals. */
static int
pack(const char *root, const char *folder, const char *path, struct totals *t, struct perr *err)
{
    struct targz_stats st;
    char dir[4200];
    off_t size;
    int fd, rc;

    snprintf(dir, sizeof(dir), "%s/%s", root, folder);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return perr_sys(err, "creating %s", path);
    rc = targz_write_dir(dir, fd, &st, err);
    size = lseek(fd, 0, SEEK_CUR);
    if (rc == 0) {
        t->content += st.bytes;
        t->archive += size > 0 ? (uint64_t)size : 0;
        t->stored += st.stored;
    }
    if (close(fd) < 0 && rc == 0)
        rc = perr_sys(err, "writing %s", path);
    if (rc < 0) {
        unlink(path);
        return perr_wrap(err, "packing %s", dir);
    }
    return 0;
}

/* file:///folder: the archives land in folder/<job>/output/, renamed once complete. */
static int
to_folder(const char *folder, const char *job, const char *root, struct totals *t, struct perr *err)
{
    char dir[4096], final[4200], tmp[4300];
    int rc = 0;

    if ((size_t)snprintf(dir, sizeof(dir), "%s/%s/output", folder, job) >= sizeof(dir))
        return perr_set(err, PERR_LIMIT, "the output folder's path is too long");
    if (fs_mkdirs(dir, err) < 0)
        return -1;
    for (size_t i = 0; rc == 0 && i < sizeof(packs) / sizeof(packs[0]); i++) {
        snprintf(final, sizeof(final), "%s/%s", dir, packs[i].archive);
        snprintf(tmp, sizeof(tmp), "%s.parity-partial", final);
        rc = pack(root, packs[i].folder, tmp, t, err);
        if (rc == 0 && rename(tmp, final) < 0) {
            rc = perr_sys(err, "renaming %s", tmp);
            unlink(tmp);
        }
    }
    return rc;
}

/* s3://bucket/prefix: each archive is packed next to the ML root, then uploaded. */
static int to_s3(const char *uri,
                 const char *job,
                 const char *root,
                 const struct envlist *env,
                 const struct creds *c,
                 const uint64_t *deadline_ms,
                 struct totals *t,
                 struct perr *err)
{
    char bucket[64], prefix[S3_MAX_KEY + 1], tmp[4300];
    struct s3_client s3;
    struct s3transfer_opts o;
    size_t plen;
    int rc = 0;

    if (s3_parse_uri(uri, bucket, prefix, err) < 0 || s3_client_init(&s3, env, c, err) < 0 ||
        s3transfer_opts_from_env(&o, env, "", "finish", err) < 0)
        return -1;
    s3.deadline_ms = deadline_ms;
    plen = strlen(prefix);
    while (plen && prefix[plen - 1] == '/')
        prefix[--plen] = '\0';
    for (size_t i = 0; rc == 0 && i < sizeof(packs) / sizeof(packs[0]); i++) {
        struct s3transfer_item item = {.path = tmp};
        uint64_t sent;
        if ((size_t)snprintf(item.obj.key, sizeof(item.obj.key), "%s%s%s/output/%s", prefix,
                             plen ? "/" : "", job, packs[i].archive) >= sizeof(item.obj.key)) {
            rc = perr_set(err, PERR_LIMIT, "the key for %s is longer than %d bytes",
                          packs[i].archive, S3_MAX_KEY);
            break;
        }
        o.what = packs[i].archive;
        snprintf(tmp, sizeof(tmp), "%s/output/.parity-%s", root, packs[i].archive);
        rc = pack(root, packs[i].folder, tmp, t, err);
        if (rc == 0)
            rc = s3transfer_upload(&s3, bucket, &item, 1, &o, &sent, err);
        unlink(tmp);
    }
    return rc;
}

int outputs_upload(const struct jobspec *js,
                   const char *root,
                   const struct envlist *env,
                   const struct creds *c,
                   const uint64_t *deadline_ms,
                   char *note,
                   size_t note_len,
                   struct perr *err)
{
    struct totals t = {0};
    int rc;

    if (!js->output)
        return 0;
    if (strncmp(js->output, "file://", 7) == 0)
        rc = to_folder(js->output + 7, js->name, root, &t, err);
    else
        rc = to_s3(js->output, js->name, root, env, c, deadline_ms, &t, err);
    if (rc < 0)
        return perr_wrap(err, "output %s", js->output);
    snprintf(note, note_len,
             " output=\"%s/%s/output/\" bytes=%" PRIu64 " archive_bytes=%" PRIu64
             " stored_bytes=%" PRIu64,
             js->output, js->name, t.content, t.archive, t.stored);
    return 0;
}
