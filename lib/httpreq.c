/* SPDX-License-Identifier: MIT */
/* Request-head parsing with views and bounds: every pointer stays inside the head. */
#include "lib/httpreq.h"

#include <string.h>
#include <strings.h>

long httpreq_parse(const char *buf, size_t len, struct httpreq *out)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4), *line_end, *sp1, *sp2;
    size_t head;

    memset(out, 0, sizeof(*out));
    if (!end)
        return 0;
    head = (size_t)(end - buf) + 4;
    line_end = memchr(buf, '\r', head);
    sp1 = memchr(buf, ' ', (size_t)(line_end - buf));
    sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp1 == buf || sp2 == sp1 + 1)
        return -1;
    out->method = buf;
    out->method_len = (size_t)(sp1 - buf);
    out->path = sp1 + 1;
    out->path_len = strcspn(out->path, "? ");
    if (out->path_len > (size_t)(sp2 - out->path))
        out->path_len = (size_t)(sp2 - out->path);
    out->close = (size_t)(line_end - sp2) >= 9 && memcmp(sp2 + 1, "HTTP/1.0", 8) == 0;
    for (const char *h = line_end + 2; h < end;) {
        const char *e = memmem(h, (size_t)(end + 2 - h), "\r\n", 2);
        size_t n = (size_t)(e - h);
        if (n > 14 && strncasecmp(h, "authorization:", 14) == 0) {
            out->authorization = h + 14;
            out->authorization_len = n - 14;
            while (out->authorization_len &&
                   (*out->authorization == ' ' || *out->authorization == '\t')) {
                out->authorization++;
                out->authorization_len--;
            }
            while (out->authorization_len &&
                   (out->authorization[out->authorization_len - 1] == ' ' ||
                    out->authorization[out->authorization_len - 1] == '\t'))
                out->authorization_len--;
        } else if (n >= 17 && strncasecmp(h, "connection:", 11) == 0 &&
                   memmem(h + 11, n - 11, "close", 5)) {
            out->close = true;
        }
        h = e + 2;
    }
    return (long)head;
}
