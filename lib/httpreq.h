/* SPDX-License-Identifier: MIT */
/* Reading an HTTP/1.1 request head (for the loopback endpoint): method, path, the headers it
 * cares about. Views into the caller's buffer; nothing is allocated. */
#ifndef PARITY_HTTPREQ_H
#define PARITY_HTTPREQ_H

#include <stdbool.h>
#include <stddef.h>

struct httpreq {
    const char *method;
    size_t method_len;
    const char *path; /* without the query */
    size_t path_len;
    const char *authorization; /* NULL when absent */
    size_t authorization_len;
    bool close; /* HTTP/1.0 or "Connection: close" */
};

/*
 * Finds the end of the head ("\r\n\r\n") in buf[0..len). Returns the head's length, 0 when it is
 * not complete yet, or -1 for a malformed request line.
 */
long httpreq_parse(const char *buf, size_t len, struct httpreq *out);

#endif
