/* SPDX-License-Identifier: MIT */
/* The credentials phase: pick the platform's source, fetch once, and give the child parity's
 * loopback endpoint instead of the platform's variables (docs/credentials.md). */
#ifndef PARITY_ENTRYPOINT_CREDENTIALS_H
#define PARITY_ENTRYPOINT_CREDENTIALS_H

#include <stdbool.h>

#include "entrypoint/credserver.h"
#include "lib/envlist.h"
#include "lib/err.h"

enum credentials_mode {
    CREDENTIALS_AUTO = 0,
    CREDENTIALS_PASSTHROUGH,
    CREDENTIALS_OFF,
};

struct credentials_inputs {
    const char *job_name;    /* for the STS session name */
    const char *spec_region; /* the job config's aws.region, or NULL */
    bool imds;               /* IMDS may be probed (SageMaker, or PARITY_CREDENTIALS_IMDS=1) */
    bool explain;            /* decide and rewrite the environment, fetch nothing */
};

/*
 * Reads PARITY_CREDENTIALS, selects the source, fetches the first credentials and opens the
 * endpoint (`server`), then edits env: removes what parity consumed, sets
 * AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_CONTAINER_AUTHORIZATION_TOKEN, AWS_REGION and
 * AWS_DEFAULT_REGION. `note` receives fields for the phase's log line. *served is false when
 * no endpoint runs (no source, passthrough, off, explain).
 */
PARITY_MUST_CHECK int credentials_setup(struct credserver *server,
                                        struct envlist *env,
                                        const struct credentials_inputs *in,
                                        bool *served,
                                        char *note,
                                        size_t note_len,
                                        struct perr *err);

#endif
