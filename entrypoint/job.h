/* SPDX-License-Identifier: MIT */
/* The job model: SageMaker's three config documents, read from files or made by materialize. */
#ifndef PARITY_ENTRYPOINT_JOB_H
#define PARITY_ENTRYPOINT_JOB_H

#include <stddef.h>

#include "lib/err.h"
#include "lib/jdoc.h"

/* hyperparameters.json allows 100 values of 2500 characters; this leaves room, and bounds memory.
 */
#define JOB_CONFIG_MAX_BYTES (4u * 1024 * 1024)

struct job {
    char root[1024];               /* the ML root: /opt/ml, or --root */
    struct jdoc *hyperparameters;  /* object of raw values, as SageMaker wrote them */
    struct jdoc *resourceconfig;   /* object with current_host and hosts */
    struct jdoc *inputdataconfig;  /* object: channel name -> channel object */
    struct jdoc *checkpointconfig; /* object, or NULL when the file is absent */
};

/* Reads ROOT/input/config/{hyperparameters,resourceconfig,inputdataconfig}.json (and
 * checkpointconfig.json when present), bounded, and checks their shapes. Messages name the file
 * and, for malformed JSON, the line and column. */
PARITY_MUST_CHECK int job_load_files(struct job *j, const char *root, struct perr *err);

/* Parses one config document from text; `name` (e.g. "resourceconfig.json") is for messages. */
PARITY_MUST_CHECK int
job_load_text(struct job *j, const char *name, const char *text, size_t len, struct perr *err);

/* Frees the documents; safe to call twice and on a zeroed struct. */
void job_cleanup(struct job *j);

const char *job_current_host(const struct job *j);

/* The hosts list of resourceconfig.json, in file order. */
size_t job_host_count(const struct job *j);
const char *job_host(const struct job *j, size_t i);

/* Index of the current host in the hosts list (the node rank), or -1. */
long job_host_rank(const struct job *j);

#endif
