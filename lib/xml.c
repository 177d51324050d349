/* SPDX-License-Identifier: MIT */
/* Element text and repeated elements in AWS XML answers. */
#include "lib/xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"

/* Decodes the entity at p (which starts with '&', end bounds it) into out; returns its length
 * in the input, or 0 when it is not one AWS would send. */
static size_t entity(const char *p, const char *end, char out[4], size_t *out_len)
{
    static const struct {
        const char *ent;
        char c;
    } named[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};

    const char *semi = memchr(p, ';', (size_t)(end - p));
    char num[16];
    unsigned long cp;
    char *stop;

    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        size_t el = strlen(named[i].ent);
        if ((size_t)(end - p) >= el && memcmp(p, named[i].ent, el) == 0) {
            out[0] = named[i].c;
            *out_len = 1;
            return el;
        }
    }
    if (!semi || p + 2 >= semi || p[1] != '#' || semi - p > 12)
        return 0;
    snprintf(num, sizeof(num), "%.*s", (int)(semi - p - 2), p + 2);
    cp = num[0] == 'x' ? strtoul(num + 1, &stop, 16) : strtoul(num, &stop, 10);
    if (*stop || stop == num || cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *out_len = utf8_encode((unsigned)cp, out);
    return (size_t)(semi - p) + 1;
}

int xml_text(const char *text, size_t len, const char *tag, char *dst, size_t cap)
{
    const char *inner;
    size_t inner_len, pos = 0, n = 0;

    if (!xml_next(text, len, tag, &pos, &inner, &inner_len))
        return -1;
    for (const char *p = inner, *end = inner + inner_len; p < end;) {
        char dec[4];
        size_t dec_len = 1, used = 1;
        dec[0] = *p;
        if (*p == '&' && !(used = entity(p, end, dec, &dec_len)))
            return -1;
        if (n + dec_len >= cap)
            return -2;
        memcpy(dst + n, dec, dec_len);
        n += dec_len;
        p += used;
    }
    dst[n] = '\0';
    return 0;
}

bool xml_next(const char *text,
              size_t len,
              const char *tag,
              size_t *pos,
              const char **inner,
              size_t *inner_len)
{
    char open[64], close[64];
    const char *a, *b, *end = text + len;
    size_t ol, cl;

    if (*pos >= len)
        return false;
    ol = (size_t)snprintf(open, sizeof(open), "<%s>", tag);
    cl = (size_t)snprintf(close, sizeof(close), "</%s>", tag);
    if (ol >= sizeof(open) || cl >= sizeof(close))
        return false;
    a = memmem(text + *pos, len - *pos, open, ol);
    if (!a)
        return false;
    a += ol;
    b = memmem(a, (size_t)(end - a), close, cl);
    if (!b)
        return false;
    *inner = a;
    *inner_len = (size_t)(b - a);
    *pos = (size_t)(b - text) + cl;
    return true;
}
