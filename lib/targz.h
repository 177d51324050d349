/* SPDX-License-Identifier: MIT */
/* Packing a folder as a gzip-compressed tar (POSIX ustar, with pax records for long names and
 * sizes), as SageMaker packs /opt/ml/model into model.tar.gz. */
#ifndef PARITY_TARGZ_H
#define PARITY_TARGZ_H

#include <stdint.h>

#include "lib/err.h"

struct targz_stats {
    uint64_t entries;
    uint64_t bytes;  /* file content, before compression */
    uint64_t stored; /* bytes of the archive stream kept as they are: they did not compress */
};

/*
 * Writes every entry below dir (not dir itself), in name order, to out_fd: folders, regular
 * files and symbolic links (stored as links, never followed); other kinds are skipped and
 * counted as errors in the message if any. Names are relative ("sub/file"), owners numeric.
 */
PARITY_MUST_CHECK int
targz_write_dir(const char *dir, int out_fd, struct targz_stats *stats, struct perr *err);

#endif
