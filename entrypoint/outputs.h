/* SPDX-License-Identifier: MIT */
/* The end of a job on EKS and locally, as SageMaker ends one: /opt/ml/model packed into
 * model.tar.gz and /opt/ml/output/data into output.tar.gz, uploaded to
 * <output>/<job>/output/ (docs/data.md). */
#ifndef PARITY_ENTRYPOINT_OUTPUTS_H
#define PARITY_ENTRYPOINT_OUTPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/creds.h"
#include "lib/envlist.h"
#include "lib/err.h"
#include "lib/jobspec.h"

/*
 * Packs and uploads both archives when the job config names an output (s3://bucket/prefix, or
 * file:///folder for local runs). c: the credentials for S3 (NULL when there are none).
 * deadline_ms: when S3 transfers must be over (CLOCK_MONOTONIC, read as they run; 0: none). `note`
 * receives the log fields. Nothing is uploaded under the final name unless it is complete.
 */
PARITY_MUST_CHECK int outputs_upload(const struct jobspec *js,
                                     const char *root,
                                     const struct envlist *env,
                                     const struct creds *c,
                                     const uint64_t *deadline_ms,
                                     char *note,
                                     size_t note_len,
                                     struct perr *err);

#endif
