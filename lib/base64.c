/* SPDX-License-Identifier: MIT */
/* Base64 by table: small enough not to need a library call per block. */
#include "lib/base64.h"

#include <stdint.h>

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int base64_encode(struct buf *out, const void *data, size_t len, bool url, struct perr *err)
{
    const unsigned char *p = data;
    const char *a = url ? url_alphabet : std_alphabet;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        size_t left = len - i;
        char q[4];
        if (left > 1)
            v |= (uint32_t)p[i + 1] << 8;
        if (left > 2)
            v |= p[i + 2];
        q[0] = a[(v >> 18) & 63];
        q[1] = a[(v >> 12) & 63];
        q[2] = left > 1 ? a[(v >> 6) & 63] : '=';
        q[3] = left > 2 ? a[v & 63] : '=';
        size_t n = 4;
        if (url)
            n = left > 2 ? 4 : left + 1; /* no padding */
        rc = buf_append(out, q, n, err);
    }
    return rc;
}

static int value_of(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int base64_decode(struct buf *out, const char *text, size_t len, struct perr *err)
{
    uint32_t acc = 0;
    int bits = 0, rc = 0;
    size_t pad = 0;

    for (size_t i = 0; rc == 0 && i < len; i++) {
        char c = text[i];
        if (c == '\n' || c == '\r' || c == ' ' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = value_of(c);
        if (v < 0 || pad)
            return perr_set(err, PERR_PARSE, "not base64: '%c' at position %zu", c, i);
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            unsigned char byte = (unsigned char)(acc >> bits);
            rc = buf_append(out, &byte, 1, err);
        }
    }
    if (rc == 0 && (bits >= 6 || pad > 2))
        return perr_set(err, PERR_PARSE, "not base64: it ends in the middle of a byte");
    return rc;
}
