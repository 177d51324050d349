/* SPDX-License-Identifier: MIT */
/* The YAML that kubeconfig files are written in, read into a jdoc tree: block mappings and
 * sequences (a sequence may sit at its key's indentation), flow mappings and sequences on one
 * line, plain, single- and double-quoted scalars, literal and folded block scalars, comments,
 * and JSON (read as JSON, over as many lines as it likes). Anchors, aliases, tags and
 * multi-document streams are refused with a clear error rather than read wrongly. */
#ifndef PARITY_YAML_H
#define PARITY_YAML_H

#include <stddef.h>

#include "lib/err.h"
#include "lib/jdoc.h"

/* Plain scalars become null (null, ~, empty), true/false, numbers (JSON's number syntax) or
 * strings. Errors say "line N: ...". Returns NULL on error. */
PARITY_MUST_CHECK struct jdoc *yaml_parse(const char *text, size_t len, struct perr *err);

#endif
