/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/crypto: SHA-256 of memory and of a file (S3 uploads sign the file's). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/crypto.h"

static void test_crypto_sha256_range_matches_the_one_shot_digest(void **state)
{
    /* FIPS 180-2's "abc" vector, then a file larger than the 64 KiB read buffer */
    static const char abc_hex[] =
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    uint8_t digest[CRYPTO_SHA256_BYTES], want[CRYPTO_SHA256_BYTES];
    char hex[2 * CRYPTO_SHA256_BYTES + 1], path[] = "/tmp/parity-sha-XXXXXX";
    size_t big_len = 200 * 1024 + 7;
    char *big = malloc(big_len);
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0 && big);
    unlink(path);
    assert_int_equal(write(fd, "abc", 3), 3);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(crypto_sha256_range(fd, 0, UINT64_MAX, digest), 0);
    crypto_hex(digest, sizeof(digest), hex);
    assert_string_equal(hex, abc_hex);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (char)(i * 31 + 7);
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(write(fd, big, big_len), (ssize_t)big_len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(crypto_sha256_range(fd, 0, UINT64_MAX, digest), 0);
    crypto_sha256(big, big_len, want);
    assert_memory_equal(digest, want, sizeof(want));
    /* a range (a multipart part) across the read buffer's edge, the file offset left alone;
     * one that runs past the end hashes what is there */
    assert_int_equal(lseek(fd, 3, SEEK_SET), 3);
    assert_int_equal(crypto_sha256_range(fd, 65530, 70000, digest), 0);
    crypto_sha256(big + 65530, 70000, want);
    assert_memory_equal(digest, want, sizeof(want));
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 3);
    assert_int_equal(crypto_sha256_range(fd, big_len - 5, 100, digest), 0);
    crypto_sha256(big + big_len - 5, 5, want);
    assert_memory_equal(digest, want, sizeof(want));
    close(fd);
    /* a read error is reported, not hashed over */
    assert_int_equal(crypto_sha256_range(fd, 0, UINT64_MAX, digest), -1);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crypto_sha256_range_matches_the_one_shot_digest),
    };
    return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
