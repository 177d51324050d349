/* SPDX-License-Identifier: MIT */
/* Safe extraction of a gzip-compressed tar (model.tar.gz, sourcedir.tar.gz) into a folder:
 * nothing is ever written outside it, whatever the archive holds. */
#ifndef PARITY_UNTAR_H
#define PARITY_UNTAR_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

struct untar_limits {
    uint64_t max_bytes;   /* total file content; 0: 64 GiB */
    uint64_t max_entries; /* 0: 1,000,000 */
};

struct untar_stats {
    uint64_t entries;
    uint64_t bytes;
};

/*
 * Extracts the archive read from in_fd (gzip or plain tar: ustar, pax and GNU long names) into
 * the existing folder dest. Refused, with the entry's name in the message: absolute names and
 * ".." segments, symbolic links whose target is absolute or leaves dest, hard links to anything
 * but a file extracted before, device nodes and FIFOs, writing through a symbolic link, and
 * archives over the limits. Modes keep their permission bits only (no setuid, setgid, sticky);
 * owners are not changed. Files appear under their name only when complete.
 */
PARITY_MUST_CHECK int untar_gz(int in_fd,
                               const char *dest,
                               const struct untar_limits *limits,
                               struct untar_stats *stats,
                               struct perr *err);

/* The name checks alone (exposed for tests): 0 and the name without leading "./", or -1. */
PARITY_MUST_CHECK int
untar_clean_name(const char *name, char *out, size_t out_len, struct perr *err);

#endif
