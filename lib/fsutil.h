/* SPDX-License-Identifier: MIT */
/* Small file-system helpers shared by the phases that write under /opt/ml. */
#ifndef PARITY_FSUTIL_H
#define PARITY_FSUTIL_H

#include "lib/err.h"

/* mkdir -p with mode 0755: the folder and its missing parents; an existing folder is fine. */
PARITY_MUST_CHECK int fs_mkdirs(const char *path, struct perr *err);

/* Copies the regular file src to dst (its parent folders made): written to
 * "dst.parity-partial" and renamed when complete, so dst is whole or as it was. */
PARITY_MUST_CHECK int fs_copy_file(const char *src, const char *dst, struct perr *err);

#endif
