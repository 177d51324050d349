/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/untar (and lib/targz, which writes what it reads): a round trip, and
 * hostile archives built header by header. */
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/targz.h"
#include "lib/untar.h"

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *path)
{
    nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A tar (plain: untar reads both) built one entry at a time. */
struct tar {
    char path[64];
    FILE *f;
};

static void
tar_entry(struct tar *t, const char *name, char type, const char *link, const char *data)
{
    unsigned char h[512] = {0};
    size_t size = data ? strlen(data) : 0;
    unsigned sum = 0;
    static const char pad[512];

    snprintf((char *)h, 100, "%s", name);
    snprintf((char *)h + 100, 8, "%07o", 0644);
    snprintf((char *)h + 108, 8, "%07o", 0);
    snprintf((char *)h + 116, 8, "%07o", 0);
    snprintf((char *)h + 124, 12, "%011zo", size);
    snprintf((char *)h + 136, 12, "%011o", 0);
    memset(h + 148, ' ', 8);
    h[156] = (unsigned char)type;
    if (link)
        snprintf((char *)h + 157, 100, "%s", link);
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    for (size_t i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    fwrite(h, 1, 512, t->f);
    if (size) {
        fwrite(data, 1, size, t->f);
        fwrite(pad, 1, (512 - size % 512) % 512, t->f);
    }
}

static int
tar_extract(struct tar *t, const char *dest, const struct untar_limits *l, struct perr *e)
{
    static const char end[1024];
    struct untar_stats st;
    int fd, rc;

    fwrite(end, 1, sizeof(end), t->f);
    fclose(t->f);
    fd = open(t->path, O_RDONLY);
    assert_true(fd >= 0);
    rc = untar_gz(fd, dest, l, &st, e);
    close(fd);
    unlink(t->path);
    return rc;
}

static void tar_start(struct tar *t)
{
    int fd;

    snprintf(t->path, sizeof(t->path), "/tmp/parity-untar-XXXXXX");
    fd = mkstemp(t->path);
    assert_true(fd >= 0);
    t->f = fdopen(fd, "w");
}

static void make_dest(char *dest)
{
    strcpy(dest, "/tmp/parity-dest-XXXXXX");
    assert_non_null(mkdtemp(dest));
}

static void test_untar_round_trip_of_targz(void **state)
{
    char src[] = "/tmp/parity-src-XXXXXX", dest[64], path[256], long_name[200], buf[64];
    struct targz_stats ws;
    struct untar_stats rs;
    struct perr e = {0};
    int fd;

    (void)state;
    assert_non_null(mkdtemp(src));
    make_dest(dest);
    snprintf(path, sizeof(path), "%s/sub", src);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/sub/a.txt", src);
    write_text(path, "alpha");
    memset(long_name, 'n', 150);
    long_name[150] = '\0';
    snprintf(path, sizeof(path), "%s/%s", src, long_name);
    write_text(path, "long");
    snprintf(path, sizeof(path), "%s/link", src);
    assert_int_equal(symlink("sub/a.txt", path), 0);
    fd = open("/tmp/parity-rt.tar.gz", O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_int_equal(targz_write_dir(src, fd, &ws, &e), 0);
    assert_true(ws.entries == 4 && ws.bytes == 9);
    lseek(fd, 0, SEEK_SET);
    assert_int_equal(untar_gz(fd, dest, NULL, &rs, &e), 0);
    close(fd);
    unlink("/tmp/parity-rt.tar.gz");
    assert_true(rs.entries == 4 && rs.bytes == 9);
    snprintf(path, sizeof(path), "%s/link", dest);
    assert_int_equal(readlink(path, buf, sizeof(buf)), 9);
    snprintf(path, sizeof(path), "%s/%s", dest, long_name);
    assert_int_equal(access(path, R_OK), 0);
    rm_rf(src);
    rm_rf(dest);
}

/* Writes len bytes to path: random (incompressible) or a repeating text (compressible). */
static void write_bytes(const char *path, size_t len, bool random)
{
    static char chunk[1 << 16];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    for (size_t done = 0; done < len; done += sizeof(chunk)) {
        if (random)
            assert_int_equal(getrandom(chunk, sizeof(chunk), 0), (ssize_t)sizeof(chunk));
        else
            for (size_t i = 0; i < sizeof(chunk); i++)
                chunk[i] = "epoch,loss,accuracy\n"[i % 20];
        assert_int_equal(write(fd, chunk, sizeof(chunk)), (ssize_t)sizeof(chunk));
    }
    close(fd);
}

/* Random data is stored (the archive barely grows past it, and packing stays fast) while
 * compressible data after it is still deflated; both come back byte for byte. */
static void test_targz_stores_incompressible_data_and_deflates_the_rest(void **state)
{
    char src[] = "/tmp/parity-src-XXXXXX", dest[64], a[128], b[128], cmd[512];
    const size_t size = 24u << 20;
    struct targz_stats ws;
    struct untar_stats rs;
    struct perr e = {0};
    struct stat st;
    int fd;

    (void)state;
    assert_non_null(mkdtemp(src));
    make_dest(dest);
    snprintf(a, sizeof(a), "%s/a-weights.bin", src);
    snprintf(b, sizeof(b), "%s/b-log.csv", src);
    write_bytes(a, size, true);
    write_bytes(b, size, false);
    fd = open("/tmp/parity-mixed.tar.gz", O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_int_equal(targz_write_dir(src, fd, &ws, &e), 0);
    assert_int_equal(fstat(fd, &st), 0);
    /* the random half is stored (it cannot shrink), the text half shrinks to almost nothing */
    assert_true((uint64_t)st.st_size > size && (uint64_t)st.st_size < size + size / 50);
    /* all of the random file but its first window went as stored blocks, none of the text */
    assert_true(ws.stored >= size - (4u << 20) && ws.stored <= size + 4096);
    lseek(fd, 0, SEEK_SET);
    assert_int_equal(untar_gz(fd, dest, NULL, &rs, &e), 0);
    close(fd);
    unlink("/tmp/parity-mixed.tar.gz");
    assert_true(rs.entries == 2 && rs.bytes == 2 * size);
    snprintf(cmd, sizeof(cmd), "cmp -s %s %s/a-weights.bin && cmp -s %s %s/b-log.csv", a, dest, b,
             dest);
    assert_int_equal(system(cmd), 0);
    rm_rf(src);
    rm_rf(dest);
}

static void test_untar_refuses_hostile_entries(void **state)
{
    static const struct {
        const char *name;
        char type;
        const char *link;
    } hostile[] = {
        {"../evil", '0', NULL},       {"/abs", '0', NULL},       {"a/../../evil", '0', NULL},
        {"up", '2', "../outside"},    {"abs-link", '2', "/etc"}, {"deep/up", '2', "../../x"},
        {"hard", '1', "/etc/passwd"}, {"hard2", '1', "missing"}, {"dev", '3', NULL},
        {"fifo", '6', NULL},          {"a//b", '0', NULL},
    };

    char dest[64], path[128];
    struct perr e = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        struct tar t;
        make_dest(dest);
        tar_start(&t);
        tar_entry(&t, hostile[i].name, hostile[i].type, hostile[i].link,
                  hostile[i].type == '0' ? "evil" : NULL);
        assert_int_equal(tar_extract(&t, dest, NULL, &e), -1);
        snprintf(path, sizeof(path), "%s/../evil", dest);
        assert_int_not_equal(access(path, F_OK), 0);
        rm_rf(dest);
    }
}

static void test_untar_never_writes_through_a_link(void **state)
{
    char dest[64], path[128];
    struct perr e = {0};
    struct tar t;

    (void)state;
    make_dest(dest);
    tar_start(&t);
    tar_entry(&t, "dir", '5', NULL, NULL);
    tar_entry(&t, "alias", '2', "dir", NULL);    /* inside: allowed as a link */
    tar_entry(&t, "alias/file", '0', NULL, "x"); /* but never followed */
    assert_int_equal(tar_extract(&t, dest, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "through a link"));
    snprintf(path, sizeof(path), "%s/dir/file", dest);
    assert_int_not_equal(access(path, F_OK), 0);
    rm_rf(dest);
}

static void test_untar_limits_and_modes(void **state)
{
    struct untar_limits few = {.max_entries = 2}, small = {.max_bytes = 3};
    char dest[64], path[128];
    struct perr e = {0};
    struct stat st;
    struct tar t;

    (void)state;
    make_dest(dest);
    tar_start(&t);
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "f%d", i);
        tar_entry(&t, path, '0', NULL, "x");
    }
    assert_int_equal(tar_extract(&t, dest, &few, &e), -1);
    assert_non_null(strstr(e.msg, "more than 2 entries"));
    tar_start(&t);
    tar_entry(&t, "big", '0', NULL, "four");
    assert_int_equal(tar_extract(&t, dest, &small, &e), -1);
    tar_start(&t);
    tar_entry(&t, "./ok", '0', NULL, "ok");
    assert_int_equal(tar_extract(&t, dest, NULL, &e), 0);
    snprintf(path, sizeof(path), "%s/ok", dest);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    /* a truncated archive is an error, and leaves no partial file under its name */
    tar_start(&t);
    tar_entry(&t, "whole", '0', NULL, "whole");
    fflush(t.f);
    assert_int_equal(ftruncate(fileno(t.f), 512 + 2), 0);
    fclose(t.f);
    {
        int fd = open(t.path, O_RDONLY);
        struct untar_stats rs;
        assert_int_equal(untar_gz(fd, dest, NULL, &rs, &e), -1);
        close(fd);
        unlink(t.path);
    }
    assert_non_null(strstr(e.msg, "truncated"));
    snprintf(path, sizeof(path), "%s/whole", dest);
    assert_int_not_equal(access(path, F_OK), 0);
    rm_rf(dest);
}

static void test_untar_clean_name(void **state)
{
    char out[64];
    struct perr e = {0};

    (void)state;
    assert_int_equal(untar_clean_name("./a/b/", out, sizeof(out), &e), 0);
    assert_string_equal(out, "a/b");
    assert_int_equal(untar_clean_name("./", out, sizeof(out), &e), 0);
    assert_string_equal(out, "");
    assert_int_equal(untar_clean_name("a/./b", out, sizeof(out), &e), -1);
    assert_int_equal(untar_clean_name("..", out, sizeof(out), &e), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_untar_round_trip_of_targz),
        cmocka_unit_test(test_targz_stores_incompressible_data_and_deflates_the_rest),
        cmocka_unit_test(test_untar_refuses_hostile_entries),
        cmocka_unit_test(test_untar_never_writes_through_a_link),
        cmocka_unit_test(test_untar_limits_and_modes),
        cmocka_unit_test(test_untar_clean_name),
    };
    return cmocka_run_group_tests_name("untar", tests, NULL, NULL);
}
