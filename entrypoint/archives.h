/* SPDX-License-Identifier: MIT */
/* Archives a job names, fetched and safely extracted before the child starts: the model to
 * serve (model.tar.gz into /opt/ml/model) and script mode's source directory
 * (sagemaker_submit_directory into /opt/ml/code), as SageMaker and its toolkit do. */
#ifndef PARITY_ENTRYPOINT_ARCHIVES_H
#define PARITY_ENTRYPOINT_ARCHIVES_H

#include <stddef.h>

#include "lib/creds.h"
#include "lib/envlist.h"
#include "lib/err.h"

/*
 * Fetches the .tar.gz at uri (s3://bucket/key, file:///path or an absolute path) and extracts
 * it into dest (which must exist); an s3:// archive is downloaded to scratch first and removed
 * after. `note` receives "entries=N bytes=M".
 */
PARITY_MUST_CHECK int archives_extract_uri(const char *uri,
                                           const char *dest,
                                           const char *scratch,
                                           const struct envlist *env,
                                           const struct creds *c,
                                           char *note,
                                           size_t note_len,
                                           struct perr *err);

/* True when dir is missing or empty (the toolkit extracts the source only into an empty
 * /opt/ml/code). */
bool archives_dir_is_empty(const char *dir);

#endif
