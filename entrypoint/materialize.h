/* SPDX-License-Identifier: MIT */
/* Making SageMaker's /opt/ml contract true on EKS and locally, from the job spec. */
#ifndef PARITY_ENTRYPOINT_MATERIALIZE_H
#define PARITY_ENTRYPOINT_MATERIALIZE_H

#include <stdbool.h>

#include "entrypoint/hosts.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jobspec.h"

/* The config documents, as SageMaker would have written them, before anything is written. */
struct materialized {
    struct buf hyperparameters;
    struct buf resourceconfig;
    struct buf inputdataconfig;
    struct buf checkpointconfig; /* empty when the spec has no checkpoints */
};

/* Builds the documents in memory (nothing touches the disk: --explain uses this too). */
PARITY_MUST_CHECK int materialize_plan(struct materialized *m,
                                       const struct jobspec *js,
                                       const struct hostplan *h,
                                       const char *root,
                                       struct perr *err);

/*
 * Creates ROOT/{model,output/data,output/intermediate,checkpoints,code,input/data/<ch>}, writes
 * the documents into ROOT/input/config (each through a temporary file and rename), and links
 * file:// channels into place. s3:// channels are the data plane's job.
 */
PARITY_MUST_CHECK int materialize_write(const struct materialized *m,
                                        const struct jobspec *js,
                                        const char *root,
                                        struct perr *err);

/* Creates ROOT/{model,output/data,output/intermediate,code} where missing (on SageMaker, where
 * the platform made the rest); a read-only root is left as it is. */
void materialize_standard_dirs(const char *root);

/* Lists the paths materialize_write would create, one per line (for --explain). */
PARITY_MUST_CHECK int
materialize_paths(const struct jobspec *js, const char *root, struct buf *out, struct perr *err);

void materialize_cleanup(struct materialized *m);

#endif
