/* SPDX-License-Identifier: MIT */
/* One structured line per event on stderr; stdout belongs to the user's program. */
#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/json.h"

#define LOG_MSG_BYTES 4096
/* Room for a message escaped at the worst ratio (6 bytes per byte), so JSON is never cut. */
#define LOG_LINE_BYTES (6 * LOG_MSG_BYTES + 512)

enum log_level log_max_level = LOG_LEVEL_INFO;

static const char *log_prog = "parity";
static enum log_format log_fmt = LOG_FORMAT_TEXT;
static int log_fd = 2;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* A line under construction in a fixed buffer; appends past the end are cut, never overflow. */
struct line {
    char p[LOG_LINE_BYTES];
    size_t len;
};

void log_setup(const char *prog, enum log_level level, enum log_format format, int fd)
{
    log_prog = prog;
    log_max_level = level;
    log_fmt = format;
    log_fd = fd;
}

int log_level_parse(const char *s, enum log_level *out, struct perr *err)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return perr_set(err, PERR_USAGE, "unknown log level '%s'; use error, warn, info or debug", s);
}

int log_format_parse(const char *s, enum log_format *out, struct perr *err)
{
    if (strcmp(s, "text") == 0)
        *out = LOG_FORMAT_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else
        return perr_set(err, PERR_USAGE, "unknown log format '%s'; use text or json", s);
    return 0;
}

static void put(struct line *l, const char *s, size_t n)
{
    size_t room = sizeof(l->p) - 1 - l->len; /* keep one byte for the newline */

    if (n > room)
        n = room;
    memcpy(l->p + l->len, s, n);
    l->len += n;
}

static void puts_(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

static void put_escaped(struct line *l, const char *s, size_t n)
{
    l->len += json_escape(l->p + l->len, sizeof(l->p) - 1 - l->len, s, n);
}

static void putf(struct line *l, const char *fmt, ...) PARITY_PRINTF(2, 3);

static void putf(struct line *l, const char *fmt, ...)
{
    size_t room = sizeof(l->p) - 1 - l->len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(l->p + l->len, room + 1, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->len += (size_t)n < room ? (size_t)n : room;
}

/* Length of "key=" at s if s starts a field, else 0. */
static size_t field_key_len(const char *s)
{
    size_t i = 0;

    if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return 0;
    while ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')
        i++;
    return s[i] == '=' ? i : 0;
}

static bool is_number(const char *s, size_t n)
{
    size_t i = 0, digits = 0;

    if (i < n && s[i] == '-')
        i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (i < n && s[i] == '.' && digits) {
        i++;
        for (digits = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    }
    return digits && i == n && !(n > 1 && s[0] == '0' && s[1] != '.');
}

/* Start of the trailing `key=value` fields of a message, or its end if there are none. */
static const char *fields_start(const char *msg)
{
    for (const char *p = msg; *p; p++) {
        if ((p == msg || p[-1] == ' ') && field_key_len(p))
            return p;
    }
    return msg + strlen(msg);
}

/* Writes the fields of `key=value key="quoted value"` as JSON members. */
static void put_json_fields(struct line *l, const char *p)
{
    while (*p) {
        size_t klen = field_key_len(p);
        const char *key = p, *v;
        size_t vlen;
        bool quoted;

        if (!klen) { /* stray text between fields: skip the word */
            p += strcspn(p, " ");
            p += strspn(p, " ");
            continue;
        }
        v = key + klen + 1;
        quoted = *v == '"';
        if (quoted) {
            const char *e = ++v;
            while (*e && *e != '"')
                e += (*e == '\\' && e[1]) ? 2 : 1;
            vlen = (size_t)(e - v);
            p = *e ? e + 1 : e;
        } else {
            vlen = strcspn(v, " ");
            p = v + vlen;
        }
        puts_(l, ",\"");
        put_escaped(l, key, klen);
        puts_(l, "\":");
        if (!quoted && is_number(v, vlen)) {
            put(l, v, vlen);
        } else {
            puts_(l, "\"");
            put_escaped(l, v, vlen);
            puts_(l, "\"");
        }
        p += strspn(p, " ");
    }
}

static void format_json(struct line *l, enum log_level level, const char *phase, const char *msg)
{
    struct timespec ts;
    struct tm tm;
    const char *fields = fields_start(msg);
    size_t msg_len = (size_t)(fields - msg);

    while (msg_len && msg[msg_len - 1] == ' ')
        msg_len--;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    putf(l, "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\",\"prog\":\"",
         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
         ts.tv_nsec / 1000000, level_names[level]);
    put_escaped(l, log_prog, strlen(log_prog));
    putf(l, "\",\"pid\":%ld", (long)getpid());
    if (phase) {
        puts_(l, ",\"phase\":\"");
        put_escaped(l, phase, strlen(phase));
        puts_(l, "\"");
    }
    puts_(l, ",\"msg\":\"");
    put_escaped(l, msg, msg_len);
    puts_(l, "\"");
    put_json_fields(l, fields);
    puts_(l, "}");
}

/* Set once the log's reader is gone (EPIPE): later lines would only fail again. */
static volatile int log_reader_gone;

void log_write(enum log_level level, const char *phase, const char *fmt, ...)
{
    int saved = errno;
    char msg[LOG_MSG_BYTES];
    struct line l = {.len = 0};
    ssize_t w;
    va_list ap;

    if (log_reader_gone)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (log_fmt == LOG_FORMAT_JSON) {
        format_json(&l, level, phase, msg);
    } else {
        putf(&l, "%s[%ld]: %s: ", log_prog, (long)getpid(), level_names[level]);
        if (phase)
            putf(&l, "%s: ", phase);
        puts_(&l, msg);
    }
    l.p[l.len++] = '\n';
    /* One write per line so it cannot interleave with the child's output mid-line. */
    while ((w = write(log_fd, l.p, l.len)) < 0 && errno == EINTR)
        ;
    if (w < 0 && errno == EPIPE)
        log_reader_gone = 1;
    errno = saved;
}
