/* SPDX-License-Identifier: MIT */
/* ustar + pax writer over zlib's gzip deflate. */
#include "lib/targz.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "lib/buf.h"

#define BLOCK       512
#define OCTAL_SIZE  077777777777ULL /* what 11 octal digits hold */
#define MAX_DEPTH   64
#define MAX_NAMELEN 4096

/* Incompressible data (weights, checkpoints, media) costs deflate ~30 MiB/s for nothing: a
 * window of input that deflate shrinks by less than 3% switches to stored blocks for the next
 * few windows, then deflate tries again, as it does at the start of every large file. */
#define LEVEL          6
#define WINDOW         (4u << 20)
#define STORED_WINDOWS 8

struct writer {
    z_stream z;
    int fd;
    unsigned char out[65536];
    struct targz_stats *stats;
    int level;       /* LEVEL, or 0 (stored) while data does not compress */
    uLong window_in; /* total_in and total_out where the window started */
    uLong window_out;
    unsigned stored_left; /* windows to go at level 0 */
};

static int flush_out(struct writer *w, struct perr *err)
{
    size_t n = sizeof(w->out) - w->z.avail_out;

    for (size_t off = 0; off < n;) {
        ssize_t k = write(w->fd, w->out + off, n - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return perr_sys(err, "writing the archive");
        off += (size_t)k;
    }
    w->z.next_out = w->out;
    w->z.avail_out = sizeof(w->out);
    return 0;
}

/* Changes the deflate level between inputs: what deflate holds is written at the old level,
 * which may need the output buffer emptied first. */
static int set_level(struct writer *w, int level, struct perr *err)
{
    for (int tries = 0; tries < 64; tries++) {
        if (flush_out(w, err) < 0)
            return -1;
        int rc = deflateParams(&w->z, level, Z_DEFAULT_STRATEGY);
        if (rc == Z_OK) {
            w->level = level;
            return 0;
        }
        if (rc != Z_BUF_ERROR)
            break;
    }
    return perr_set(err, PERR_IO, "changing the compression level failed");
}

/* At the end of each window: stored blocks while data does not compress, deflate otherwise. */
static int adapt_level(struct writer *w, struct perr *err)
{
    uLong in = w->z.total_in - w->window_in, out = w->z.total_out - w->window_out;
    int want = w->level;

    if (in < WINDOW)
        return 0;
    if (w->level == LEVEL && out > in - in / 32) {
        want = 0;
        w->stored_left = STORED_WINDOWS;
    } else if (w->level == 0 && --w->stored_left == 0) {
        want = LEVEL;
    }
    if (want != w->level && set_level(w, want, err) < 0)
        return -1;
    w->window_in = w->z.total_in;
    w->window_out = w->z.total_out;
    return 0;
}

/* Compresses len bytes (finish: end the gzip stream). */
static int put(struct writer *w, const void *data, size_t len, bool finish, struct perr *err)
{
    if (adapt_level(w, err) < 0)
        return -1;
    if (w->level == 0)
        w->stats->stored += len;
    w->z.next_in = (Bytef *)(uintptr_t)data;
    w->z.avail_in = (uInt)len;
    for (;;) {
        int rc = deflate(&w->z, finish ? Z_FINISH : Z_NO_FLUSH);
        if (rc == Z_STREAM_ERROR)
            return perr_set(err, PERR_IO, "compressing the archive failed");
        if (w->z.avail_out == 0 || (finish && rc == Z_STREAM_END)) {
            if (flush_out(w, err) < 0)
                return -1;
        }
        if (finish ? rc == Z_STREAM_END : w->z.avail_in == 0 && w->z.avail_out > 0)
            return 0;
    }
}

static void octal(char *field, size_t width, uint64_t v)
{
    snprintf(field, width, "%0*" PRIo64, (int)width - 1, v);
}

/* One header block; name and link must already fit (pax records carry longer ones). */
static int header(struct writer *w,
                  const char *name,
                  const struct stat *st,
                  char type,
                  const char *link,
                  uint64_t size,
                  struct perr *err)
{
    char h[BLOCK] = {0};
    unsigned sum = 0;

    memcpy(h, name, strnlen(name, 100));
    octal(h + 100, 8, st ? st->st_mode & 07777 : 0644);
    octal(h + 108, 8, st ? (uint64_t)st->st_uid & 07777777 : 0);
    octal(h + 116, 8, st ? (uint64_t)st->st_gid & 07777777 : 0);
    octal(h + 124, 12, size > OCTAL_SIZE ? 0 : size);
    octal(h + 136, 12, st && st->st_mtime > 0 ? (uint64_t)st->st_mtime & OCTAL_SIZE : 0);
    memset(h + 148, ' ', 8);
    h[156] = type;
    if (link)
        memcpy(h + 157, link, strnlen(link, 100));
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    for (size_t i = 0; i < BLOCK; i++)
        sum += (unsigned char)h[i];
    snprintf(h + 148, 8, "%06o", sum);
    h[155] = ' ';
    return put(w, h, BLOCK, false, err);
}

static int pad(struct writer *w, uint64_t size, struct perr *err)
{
    static const char zeros[BLOCK];
    size_t rest = (size_t)(size % BLOCK);

    return rest ? put(w, zeros, BLOCK - rest, false, err) : 0;
}

/* "LEN key=value\n", where LEN counts the whole record, its own digits included. */
static int pax_record(struct buf *b, const char *key, const char *value, struct perr *err)
{
    size_t body = 1 + strlen(key) + 1 + strlen(value) + 1, len = body + 1;

    while ((size_t)snprintf(NULL, 0, "%zu", len) + body != len)
        len++;
    return buf_printf(b, err, "%zu %s=%s\n", len, key, value);
}

/* Writes a pax extended header before an entry whose name, link or size ustar cannot hold. */
static int
pax_if_needed(struct writer *w, const char *name, const char *link, uint64_t size, struct perr *err)
{
    struct buf b;
    char num[32];
    int rc = 0;

    if (strlen(name) < 100 && (!link || strlen(link) < 100) && size <= OCTAL_SIZE)
        return 0;
    buf_init(&b, 3 * MAX_NAMELEN);
    if (strlen(name) >= 100)
        rc = pax_record(&b, "path", name, err);
    if (rc == 0 && link && strlen(link) >= 100)
        rc = pax_record(&b, "linkpath", link, err);
    if (rc == 0 && size > OCTAL_SIZE) {
        snprintf(num, sizeof(num), "%" PRIu64, size);
        rc = pax_record(&b, "size", num, err);
    }
    if (rc == 0)
        rc = header(w, "PaxHeader", NULL, 'x', NULL, b.len, err);
    if (rc == 0)
        rc = put(w, b.data, b.len, false, err);
    if (rc == 0)
        rc = pad(w, b.len, err);
    buf_cleanup(&b);
    return rc;
}

static int add_file(
    struct writer *w, const char *path, const char *name, const struct stat *st, struct perr *err)
{
    char data[65536];
    uint64_t left = (uint64_t)st->st_size;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int rc;

    if (fd < 0)
        return perr_sys(err, "reading %s", path);
    rc = pax_if_needed(w, name, NULL, left, err);
    if (rc == 0)
        rc = header(w, name, st, '0', NULL, left, err);
    /* a large file is judged on its own data; small ones go with the ones before them */
    if (rc == 0 && left >= WINDOW && w->level != LEVEL)
        rc = set_level(w, LEVEL, err);
    if (left >= WINDOW) {
        w->window_in = w->z.total_in;
        w->window_out = w->z.total_out;
    }
    /* Exactly the size in the header: a file that grows or shrinks meanwhile is an error,
     * never a corrupt archive. */
    while (rc == 0 && left) {
        ssize_t n = read(fd, data, left < sizeof(data) ? (size_t)left : sizeof(data));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = n < 0 ? perr_sys(err, "reading %s", path)
                       : perr_set(err, PERR_IO, "%s shrank while it was archived", path);
        else
            rc = put(w, data, (size_t)n, false, err);
        left -= n > 0 ? (uint64_t)n : 0;
    }
    close(fd);
    if (rc == 0)
        rc = pad(w, (uint64_t)st->st_size, err);
    if (rc == 0) {
        w->stats->entries++;
        w->stats->bytes += (uint64_t)st->st_size;
    }
    return rc;
}

static int
add_dir(struct writer *w, const char *path, const char *prefix, int depth, struct perr *err)
{
    struct dirent **names;
    int n, rc = 0;

    if (depth > MAX_DEPTH)
        return perr_set(err, PERR_LIMIT, "%s is nested deeper than %d folders", path, MAX_DEPTH);
    n = scandir(path, &names, NULL, alphasort);
    if (n < 0)
        return perr_sys(err, "listing %s", path);
    for (int i = 0; i < n; i++) {
        const char *d = names[i]->d_name;
        char full[MAX_NAMELEN + 256], name[MAX_NAMELEN + 2], link[MAX_NAMELEN];
        struct stat st;
        ssize_t ll;
        if (rc < 0 || !strcmp(d, ".") || !strcmp(d, ".."))
            continue;
        if ((size_t)snprintf(full, sizeof(full), "%s/%s", path, d) >= sizeof(full) ||
            (size_t)snprintf(name, sizeof(name), "%s%s", prefix, d) >= MAX_NAMELEN) {
            rc = perr_set(err, PERR_LIMIT, "a path below %s is too long to archive", path);
            continue;
        }
        if (lstat(full, &st) < 0) {
            rc = perr_sys(err, "reading %s", full);
        } else if (S_ISDIR(st.st_mode)) {
            size_t len = strlen(name);
            name[len] = '/'; /* room was checked: name is shorter than MAX_NAMELEN */
            name[len + 1] = '\0';
            rc = pax_if_needed(w, name, NULL, 0, err);
            if (rc == 0)
                rc = header(w, name, &st, '5', NULL, 0, err);
            if (rc == 0) {
                w->stats->entries++;
                rc = add_dir(w, full, name, depth + 1, err);
            }
        } else if (S_ISREG(st.st_mode)) {
            rc = add_file(w, full, name, &st, err);
        } else if (S_ISLNK(st.st_mode)) {
            ll = readlink(full, link, sizeof(link) - 1);
            if (ll < 0) {
                rc = perr_sys(err, "reading the link %s", full);
                continue;
            }
            link[ll] = '\0';
            rc = pax_if_needed(w, name, link, 0, err);
            if (rc == 0)
                rc = header(w, name, &st, '2', link, 0, err);
            w->stats->entries++;
        }
        /* sockets, pipes and devices have no place in a model archive: left out */
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int targz_write_dir(const char *dir, int out_fd, struct targz_stats *stats, struct perr *err)
{
    static const char end[2 * BLOCK];
    struct writer *w = calloc(1, sizeof(*w));
    int rc;

    if (!w)
        return perr_set(err, PERR_NOMEM, "out of memory packing %s", dir);
    *stats = (struct targz_stats){0};
    w->fd = out_fd;
    w->stats = stats;
    w->z.next_out = w->out;
    w->z.avail_out = sizeof(w->out);
    /* 15 + 16: a gzip wrapper around the deflate stream */
    w->level = LEVEL;
    if (deflateInit2(&w->z, LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(w);
        return perr_set(err, PERR_NOMEM, "out of memory starting compression");
    }
    rc = add_dir(w, dir, "", 0, err);
    if (rc == 0)
        rc = put(w, end, sizeof(end), true, err);
    deflateEnd(&w->z);
    free(w);
    return rc;
}
