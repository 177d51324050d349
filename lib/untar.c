/* SPDX-License-Identifier: MIT */
/* A tar reader that extracts into one folder and refuses everything that could leave it. */
#include "lib/untar.h"

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

#define BLOCK        512
#define NAME_MAX_LEN 4096
#define PAX_MAX      (1u << 20)

struct entry {
    char name[NAME_MAX_LEN];
    char link[NAME_MAX_LEN];
    uint64_t size;
    unsigned mode;
    char type;
};

/* What a pax header or a GNU long-name entry says about the next entry. */
struct pending {
    char name[NAME_MAX_LEN];
    char link[NAME_MAX_LEN];
    bool has_size;
    uint64_t size;
};

struct reader {
    gzFile gz;
    int dest;
    const struct untar_limits *limits;
    struct untar_stats *stats;
};

static int read_exact(struct reader *r, void *buf, size_t n, struct perr *err)
{
    for (size_t got = 0; got < n;) {
        int k =
            gzread(r->gz, (char *)buf + got, (unsigned)(n - got > (1u << 30) ? 1u << 30 : n - got));
        if (k <= 0) {
            int zerr;
            const char *msg = gzerror(r->gz, &zerr);
            return perr_set(err, PERR_PARSE, "the archive is %s",
                            k == 0 ? "truncated" : (zerr == Z_ERRNO ? strerror(errno) : msg));
        }
        got += (size_t)k;
    }
    return 0;
}

static int skip(struct reader *r, uint64_t n, struct perr *err)
{
    char buf[BLOCK * 16];

    while (n) {
        size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);
        if (read_exact(r, buf, k, err) < 0)
            return -1;
        n -= k;
    }
    return 0;
}

static uint64_t padded(uint64_t size)
{
    return (size + BLOCK - 1) / BLOCK * BLOCK;
}

/* An octal field, or GNU's base-256 form (first byte 0x80) for big numbers. */
static bool number(const unsigned char *f, size_t width, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;

    if (f[0] & 0x80) {
        for (i = 1; i < width; i++) {
            if (v >> 56)
                return false;
            v = v << 8 | f[i];
        }
        *out = v;
        return !(f[0] & 0x7f);
    }
    while (i < width && f[i] == ' ')
        i++;
    for (; i < width && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v >> 61)
            return false;
        v = v * 8 + (uint64_t)(f[i] - '0');
    }
    for (; i < width; i++) {
        if (f[i] != ' ' && f[i] != '\0')
            return false;
    }
    *out = v;
    return true;
}

static bool checksum_ok(const unsigned char *h)
{
    uint64_t want;
    unsigned long usum = 0;
    long ssum = 0;

    if (!number(h + 148, 8, &want))
        return false;
    for (size_t i = 0; i < BLOCK; i++) {
        unsigned char c = i >= 148 && i < 156 ? ' ' : h[i];
        usum += c;
        ssum += (signed char)c; /* some old writers summed signed chars */
    }
    return want == usum || (long)want == ssum;
}

int untar_clean_name(const char *name, char *out, size_t out_len, struct perr *err)
{
    size_t n;

    while (name[0] == '.' && name[1] == '/')
        name += 2 + strspn(name + 2, "/");
    n = strlen(name);
    while (n && name[n - 1] == '/')
        n--;
    if (n >= out_len)
        return perr_set(err, PERR_LIMIT, "a name is longer than %zu bytes", out_len - 1);
    memcpy(out, name, n);
    out[n] = '\0';
    if (out[0] == '/')
        return perr_set(err, PERR_USAGE, "'%s' is an absolute name", out);
    for (const char *seg = out; *seg;) {
        size_t len = strcspn(seg, "/");
        if (len == 0 || (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return perr_set(err, PERR_USAGE, "'%s' has an empty, '.' or '..' segment", out);
        seg += len + (seg[len] == '/');
    }
    return 0;
}

/* A link target, taken from the link's own folder, must stay inside dest. */
static bool link_stays_inside(const char *link_name, const char *target)
{
    int depth = 0;

    if (!*target || target[0] == '/')
        return false;
    for (const char *p = link_name; *p; p++)
        depth += *p == '/';
    for (const char *seg = target; *seg;) {
        size_t len = strcspn(seg, "/");
        if (len == 2 && seg[0] == '.' && seg[1] == '.')
            depth--;
        else if (len && !(len == 1 && seg[0] == '.'))
            depth++;
        if (depth < 0)
            return false;
        seg += len + (seg[len] == '/');
    }
    return true;
}

/* Opens the folder holding `name` below dest, making missing folders, never following a
 * symbolic link; *last points at the final component. Returns an fd or -1. */
static int open_parent(int dest, const char *name, const char **last, struct perr *err)
{
    char comp[NAME_MAX_LEN];
    const char *p = name, *slash;
    int dir = dup(dest);

    if (dir < 0)
        return perr_sys(err, "opening the destination");
    while ((slash = strchr(p, '/'))) {
        size_t len = (size_t)(slash - p);
        int next;
        memcpy(comp, p, len);
        comp[len] = '\0';
        if (mkdirat(dir, comp, 0755) < 0 && errno != EEXIST) {
            perr_sys(err, "creating the folder of '%s'", name);
            close(dir);
            return -1;
        }
        next = openat(dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            if (errno == ELOOP || errno == ENOTDIR)
                perr_set(err, PERR_USAGE, "'%s' would be written through a link or a file", name);
            else
                perr_sys(err, "opening the folder of '%s'", name);
            close(dir);
            return -1;
        }
        close(dir);
        dir = next;
        p = slash + 1;
    }
    *last = p;
    return dir;
}

static int
extract_file(struct reader *r, const struct entry *e, int dir, const char *last, struct perr *err)
{
    char tmp[NAME_MAX_LEN + 32], buf[65536];
    uint64_t left = e->size;
    int fd, rc = 0;

    snprintf(tmp, sizeof(tmp), ".parity-partial-%s", last);
    unlinkat(dir, tmp, 0);
    fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return perr_sys(err, "creating '%s'", e->name);
    while (rc == 0 && left) {
        size_t k = left < sizeof(buf) ? (size_t)left : sizeof(buf);
        rc = read_exact(r, buf, k, err);
        for (size_t off = 0; rc == 0 && off < k;) {
            ssize_t w = write(fd, buf + off, k - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                rc = perr_sys(err, "writing '%s'", e->name);
            else
                off += (size_t)w;
        }
        left -= k;
    }
    if (rc == 0 && fchmod(fd, e->mode & 0777) < 0)
        rc = perr_sys(err, "setting the mode of '%s'", e->name);
    if (close(fd) < 0 && rc == 0)
        rc = perr_sys(err, "writing '%s'", e->name);
    if (rc == 0 && renameat(dir, tmp, dir, last) < 0)
        rc = perr_sys(err, "placing '%s'", e->name);
    if (rc < 0)
        unlinkat(dir, tmp, 0);
    else
        r->stats->bytes += e->size;
    return rc < 0 ? rc : skip(r, padded(e->size) - e->size, err);
}

static int extract(struct reader *r, const struct entry *e, struct perr *err)
{
    const char *last = NULL;
    int dir, rc = 0;
    struct stat st;

    if (!e->name[0]) /* "." or "./": the destination itself */
        return e->type == '5' ? 0 : perr_set(err, PERR_USAGE, "an entry without a name");
    dir = open_parent(r->dest, e->name, &last, err);
    if (dir < 0)
        return -1;
    switch (e->type) {
    case '5':
        if (mkdirat(dir, last, (e->mode & 0777) | 0700) < 0 &&
            (errno != EEXIST || fstatat(dir, last, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
             !S_ISDIR(st.st_mode)))
            rc = perr_set(err, PERR_USAGE, "'%s': cannot make the folder (a file or link is there)",
                          e->name);
        break;
    case '2':
        if (!link_stays_inside(e->name, e->link)) {
            rc = perr_set(err, PERR_USAGE, "'%s' links to '%s', outside the destination", e->name,
                          e->link);
            break;
        }
        if (fstatat(dir, last, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
            unlinkat(dir, last, 0);
        if (symlinkat(e->link, dir, last) < 0)
            rc = perr_sys(err, "making the link '%s'", e->name);
        break;
    case '1': {
        char target[NAME_MAX_LEN];
        const char *tlast;
        int tdir;
        rc = untar_clean_name(e->link, target, sizeof(target), err);
        tdir = rc == 0 ? open_parent(r->dest, target, &tlast, err) : -1;
        if (tdir < 0) {
            rc = perr_wrap(err, "'%s' is a hard link to '%s'", e->name, e->link);
            break;
        }
        if (fstatat(tdir, tlast, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            rc = perr_set(err, PERR_USAGE,
                          "'%s' is a hard link to '%s', which is not a file "
                          "extracted before",
                          e->name, e->link);
        else if (fstatat(dir, last, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode) &&
                 unlinkat(dir, last, 0) < 0)
            rc = perr_sys(err, "replacing '%s'", e->name);
        if (rc == 0 && linkat(tdir, tlast, dir, last, 0) < 0)
            rc = perr_sys(err, "making the hard link '%s'", e->name);
        close(tdir);
        break;
    }
    default:
        rc = extract_file(r, e, dir, last, err);
    }
    close(dir);
    return rc;
}

/* Applies "LEN key=value\n" records; unknown keys are ignored, as POSIX allows. */
static int parse_pax(const char *data, size_t len, struct pending *p, struct perr *err)
{
    for (size_t off = 0; off < len;) {
        char *end;
        unsigned long n = strtoul(data + off, &end, 10);
        const char *rec = data + off, *kv = end + 1, *eq;
        if (end == rec || *end != ' ' || n < 5 || n > len - off || rec[n - 1] != '\n')
            return perr_set(err, PERR_PARSE, "a malformed pax record");
        eq = memchr(kv, '=', (size_t)(rec + n - 1 - kv));
        if (!eq)
            return perr_set(err, PERR_PARSE, "a pax record without '='");
        size_t klen = (size_t)(eq - kv), vlen = (size_t)(rec + n - 1 - (eq + 1));
        if (klen == 4 && !memcmp(kv, "path", 4) && vlen < sizeof(p->name)) {
            memcpy(p->name, eq + 1, vlen);
            p->name[vlen] = '\0';
        } else if (klen == 8 && !memcmp(kv, "linkpath", 8) && vlen < sizeof(p->link)) {
            memcpy(p->link, eq + 1, vlen);
            p->link[vlen] = '\0';
        } else if (klen == 4 && !memcmp(kv, "size", 4)) {
            char num[32];
            snprintf(num, sizeof(num), "%.*s", (int)(vlen < 31 ? vlen : 31), eq + 1);
            p->size = strtoull(num, &end, 10);
            p->has_size = *end == '\0' && num[0] >= '0' && num[0] <= '9';
            if (!p->has_size)
                return perr_set(err, PERR_PARSE, "a pax size that is not a number");
        }
        off += n;
    }
    return 0;
}

/* Reads the data of a pax header or GNU long name into buf (NUL-terminated). */
static int read_meta(struct reader *r, uint64_t size, char *buf, size_t cap, struct perr *err)
{
    if (size >= cap)
        return perr_set(err, PERR_LIMIT, "a pax header or long name of %" PRIu64 " bytes", size);
    if (read_exact(r, buf, (size_t)size, err) < 0)
        return -1;
    buf[size] = '\0';
    return skip(r, padded(size) - size, err);
}

/* Files (also contiguous ones), folders, symbolic and hard links. */
static bool supported(char type)
{
    return type == '0' || type == '\0' || type == '7' || type == '5' || type == '2' || type == '1';
}

static int run(struct reader *r, struct perr *err)
{
    unsigned char h[BLOCK];
    struct pending p = {0};
    struct entry *e = calloc(1, sizeof(*e));
    char *meta = malloc(PAX_MAX + 1);
    int rc = 0;

    if (!e || !meta) {
        free(e);
        free(meta);
        return perr_set(err, PERR_NOMEM, "out of memory extracting");
    }
    while (rc == 0) {
        char raw[NAME_MAX_LEN];
        uint64_t size, mode;
        if ((rc = read_exact(r, h, BLOCK, err)) < 0)
            break;
        if (h[0] == '\0' && !memcmp(h, h + 1, BLOCK - 1))
            break; /* the end-of-archive block */
        if (!checksum_ok(h) || !number(h + 124, 12, &size) || !number(h + 100, 8, &mode)) {
            rc = perr_set(err, PERR_PARSE,
                          "a header that is not a tar header (bad checksum "
                          "or number), after %" PRIu64 " entries",
                          r->stats->entries);
            break;
        }
        e->type = (char)h[156];
        if (e->type == 'x' || e->type == 'L' || e->type == 'K') {
            rc = read_meta(r, size, meta, PAX_MAX + 1, err);
            if (rc == 0 && e->type == 'x')
                rc = parse_pax(meta, (size_t)size, &p, err);
            else if (rc == 0)
                snprintf(e->type == 'L' ? p.name : p.link, sizeof(p.name), "%s", meta);
            continue;
        }
        if (e->type == 'g') {
            rc = skip(r, padded(size), err);
            continue;
        }
        /* ustar: prefix "/" name; a pax or GNU name wins */
        if (p.name[0])
            snprintf(raw, sizeof(raw), "%s", p.name);
        else if (h[345] && !memcmp(h + 257, "ustar", 5))
            snprintf(raw, sizeof(raw), "%.155s/%.100s", (const char *)h + 345, (const char *)h);
        else
            snprintf(raw, sizeof(raw), "%.100s", (const char *)h);
        snprintf(e->link, sizeof(e->link), "%s", p.link[0] ? p.link : "");
        if (!p.link[0])
            snprintf(e->link, sizeof(e->link), "%.100s", (const char *)h + 157);
        e->size = p.has_size ? p.size : size;
        e->mode = (unsigned)mode;
        p = (struct pending){0};
        rc = untar_clean_name(raw, e->name, sizeof(e->name), err);
        if (rc == 0 && !supported(e->type))
            rc = perr_set(err, PERR_USAGE, "'%s' is a %s, which has no place here", raw,
                          e->type == '3' || e->type == '4' ? "device node"
                          : e->type == '6'                 ? "FIFO"
                                                           : "kind of entry this reader refuses");
        if (rc == 0 && ++r->stats->entries > r->limits->max_entries)
            rc = perr_set(err, PERR_LIMIT, "more than %" PRIu64 " entries", r->limits->max_entries);
        if (rc == 0 && (e->type == '0' || e->type == '\0' || e->type == '7') &&
            e->size > r->limits->max_bytes - r->stats->bytes)
            rc = perr_set(err, PERR_LIMIT, "'%s' would take the content over %" PRIu64 " bytes",
                          raw, r->limits->max_bytes);
        if (rc == 0)
            rc = extract(r, e, err);
        if (rc == 0 && (e->type == '5' || e->type == '2' || e->type == '1'))
            rc = skip(r, padded(e->size), err);
        if (rc < 0 && !strstr(err->msg, raw) && raw[0])
            perr_wrap(err, "'%s'", raw);
    }
    free(e);
    free(meta);
    return rc;
}

int untar_gz(int in_fd,
             const char *dest,
             const struct untar_limits *limits,
             struct untar_stats *stats,
             struct perr *err)
{
    struct untar_limits l = {
        .max_bytes = limits && limits->max_bytes ? limits->max_bytes : 64ULL << 30,
        .max_entries = limits && limits->max_entries ? limits->max_entries : 1000000};
    struct reader r = {.limits = &l, .stats = stats};
    int fd = dup(in_fd), rc;

    *stats = (struct untar_stats){0};
    if (fd < 0)
        return perr_sys(err, "reading the archive");
    r.dest = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r.dest < 0) {
        close(fd);
        return perr_sys(err, "opening %s", dest);
    }
    r.gz = gzdopen(fd, "rb"); /* reads plain tar too */
    if (!r.gz) {
        close(fd);
        close(r.dest);
        return perr_set(err, PERR_NOMEM, "out of memory opening the archive");
    }
    gzbuffer(r.gz, 128 * 1024);
    rc = run(&r, err);
    gzclose(r.gz);
    close(r.dest);
    return rc;
}
