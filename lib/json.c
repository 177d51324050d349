/* SPDX-License-Identifier: MIT */
/* JSON string escaping (RFC 8259 §7) into caller-owned memory. */
#include "lib/json.h"

#include <string.h>

size_t json_escape(char *out, size_t out_len, const char *in, size_t in_len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    for (size_t i = 0; i < in_len; i++) {
        unsigned char c = (unsigned char)in[i];
        char esc[6];
        size_t n;

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            n = 2;
        } else if (c == '\n' || c == '\t' || c == '\r') {
            esc[0] = '\\';
            esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
            n = 2;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            n = 6;
        } else {
            esc[0] = (char)c;
            n = 1;
        }
        if (o + n > out_len)
            break;
        memcpy(out + o, esc, n);
        o += n;
    }
    return o;
}
