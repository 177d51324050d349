/* SPDX-License-Identifier: MIT */
/* Digests for SigV4 and tokens (OpenSSL's one-shot functions), and SHA-256 of a file. */
#include "lib/crypto.h"

#include <errno.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_BYTES])
{
    SHA256(data, len, out);
}

int crypto_sha256_range(int fd, uint64_t off, uint64_t len, uint8_t out[CRYPTO_SHA256_BYTES])
{
    unsigned char data[65536];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int olen = CRYPTO_SHA256_BYTES;
    ssize_t n = 1;
    int rc = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ? 0 : -1;

    if (rc < 0)
        errno = ENOMEM;
    while (rc == 0 && len && n != 0) {
        n = pread(fd, data, len < sizeof(data) ? (size_t)len : sizeof(data), (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || !EVP_DigestUpdate(ctx, data, (size_t)n))
            rc = -1;
        else {
            off += (uint64_t)n;
            len -= (uint64_t)n;
        }
    }
    if (rc == 0 && !EVP_DigestFinal_ex(ctx, out, &olen))
        rc = -1;
    EVP_MD_CTX_free(ctx);
    return rc;
}

void crypto_hmac_sha256(
    const void *key, size_t key_len, const void *data, size_t len, uint8_t out[CRYPTO_SHA256_BYTES])
{
    unsigned int n = CRYPTO_SHA256_BYTES;

    HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n);
}

void crypto_hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0xf];
    }
    out[2 * n] = '\0';
}

int crypto_random(void *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = getrandom((char *)buf + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}
