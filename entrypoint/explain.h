/* SPDX-License-Identifier: MIT */
/* --explain: everything the child would get, as one JSON document, with nothing run or written. */
#ifndef PARITY_ENTRYPOINT_EXPLAIN_H
#define PARITY_ENTRYPOINT_EXPLAIN_H

#include "entrypoint/command.h"
#include "entrypoint/config.h"
#include "entrypoint/detect.h"
#include "entrypoint/harden.h"
#include "entrypoint/job.h"
#include "lib/envlist.h"
#include "lib/err.h"

struct explain_input {
    const struct detection *det;
    enum role role;
    const struct command *cmd;
    const struct job *job; /* NULL when the run has no job model */
    const char *root;
    const struct envlist *env;
    const char *files; /* paths that would be written, one per line */
    const struct harden_plan *harden;
    const struct image_config *config; /* for where each runtime setting came from, or NULL */
};

/* Writes the document to fd 1. Secret-looking values (tokens, keys, passwords) are redacted. */
PARITY_MUST_CHECK int explain_print(const struct explain_input *in, struct perr *err);

/* True when a variable's name says its value is a secret. */
bool explain_is_secret_name(const char *name);

#endif
