/* SPDX-License-Identifier: MIT */
/* --version: parity-init's own version and those of the libraries linked into it. */
#ifndef PARITY_ENTRYPOINT_VERSION_H
#define PARITY_ENTRYPOINT_VERSION_H

/* Writes the version report to stdout. */
void version_print(void);

#endif
