/* SPDX-License-Identifier: MIT */
/* SHA-256, HMAC-SHA-256 and hex, through OpenSSL's libcrypto (the one linked into the binary). */
#ifndef PARITY_CRYPTO_H
#define PARITY_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_BYTES 32

void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_BYTES]);

/* SHA-256 of len bytes of fd from off (pread: the offset is not moved), fewer at end of file. */
int crypto_sha256_range(int fd, uint64_t off, uint64_t len, uint8_t out[CRYPTO_SHA256_BYTES]);

void crypto_hmac_sha256(const void *key,
                        size_t key_len,
                        const void *data,
                        size_t len,
                        uint8_t out[CRYPTO_SHA256_BYTES]);

/* Lowercase hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void crypto_hex(const uint8_t *in, size_t n, char *out);

/* Fills buf with n bytes from the kernel's CSPRNG (getrandom). Returns 0 or -1 (errno set). */
int crypto_random(void *buf, size_t n);

#endif
