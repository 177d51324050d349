/* SPDX-License-Identifier: MIT */
/* Structured logging to stderr: one write(2) per line, text or JSON, level-checked macros. */
#ifndef PARITY_LOG_H
#define PARITY_LOG_H

#include "lib/err.h"

enum log_level {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DEBUG,
};

enum log_format {
    LOG_FORMAT_TEXT = 0,
    LOG_FORMAT_JSON,
};

/* The most verbose level printed; read by the macros before they evaluate arguments. */
extern enum log_level log_max_level;

/* Sets the program name (kept by pointer), level, format and output fd (2 for stderr). */
void log_setup(const char *prog, enum log_level level, enum log_format format, int fd);

/* Parses "error|warn|info|debug" and "text|json". Return 0 or fill err. */
PARITY_MUST_CHECK int log_level_parse(const char *s, enum log_level *out, struct perr *err);
PARITY_MUST_CHECK int log_format_parse(const char *s, enum log_format *out, struct perr *err);

/*
 * Formats one line and writes it with a single write(2); errno is preserved. The message is free
 * text followed by fields written `key=value` (quote values that hold spaces: key="a b"); the JSON
 * format turns those trailing fields into members. phase may be NULL. Lines longer than 4 KiB are
 * cut.
 */
void log_write(enum log_level level, const char *phase, const char *fmt, ...) PARITY_PRINTF(3, 4);

#define log_at(level, phase, ...)                                                                  \
    do {                                                                                           \
        if ((level) <= log_max_level)                                                              \
            log_write((level), (phase), __VA_ARGS__);                                              \
    } while (0)

#define log_error(phase, ...) log_at(LOG_LEVEL_ERROR, phase, __VA_ARGS__)
#define log_warn(phase, ...)  log_at(LOG_LEVEL_WARN, phase, __VA_ARGS__)
#define log_info(phase, ...)  log_at(LOG_LEVEL_INFO, phase, __VA_ARGS__)
#define log_debug(phase, ...) log_at(LOG_LEVEL_DEBUG, phase, __VA_ARGS__)

#endif
