/* SPDX-License-Identifier: MIT */
/* Input channels on S3, downloaded where SageMaker would have put them (EKS, local):
 * /opt/ml/input/data/<channel>/<key below the prefix>, in parallel, before the child starts. */
#ifndef PARITY_ENTRYPOINT_CHANNELS_H
#define PARITY_ENTRYPOINT_CHANNELS_H

#include <stddef.h>

#include "lib/creds.h"
#include "lib/envlist.h"
#include "lib/err.h"
#include "lib/jobspec.h"

struct channels_host {
    long index; /* this host, 0-based */
    long count;
};

/*
 * Downloads every s3:// channel of js under root. ShardedByS3Key gives this host every
 * count-th object (in key order) starting at its index; FullyReplicated gives it all. Keys that
 * would leave the channel's folder are refused before anything is downloaded. `note` receives
 * the phase's log fields (objects, bytes).
 */
PARITY_MUST_CHECK int channels_download(const struct jobspec *js,
                                        const char *root,
                                        const struct channels_host *host,
                                        const struct envlist *env,
                                        const struct creds *c,
                                        char *note,
                                        size_t note_len,
                                        struct perr *err);

#endif
