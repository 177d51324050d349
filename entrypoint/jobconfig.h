/* SPDX-License-Identifier: MIT */
/* Where parity-init finds the job spec on EKS and locally: PARITY_JOB_CONFIG (inline JSON) or
 * PARITY_JOB_CONFIG_URI (file://, s3://, https://, an SSM parameter or Secrets Manager ARN). */
#ifndef PARITY_ENTRYPOINT_JOBCONFIG_H
#define PARITY_ENTRYPOINT_JOBCONFIG_H

#include <stdbool.h>

#include "lib/creds.h"
#include "lib/envlist.h"
#include "lib/err.h"
#include "lib/jobspec.h"

/* True when the environment names a job config. */
bool jobconfig_present(const struct envlist *env);

/* True when reading it needs AWS credentials (s3:// or an ARN): it is read after they are. */
bool jobconfig_needs_credentials(const struct envlist *env);

/* Loads and validates the job spec; every validation problem is logged, the summary is in err.
 * c: credentials for an s3:// or ARN URI, else NULL. */
PARITY_MUST_CHECK int jobconfig_load(const struct envlist *env,
                                     const struct creds *c,
                                     struct jobspec *js,
                                     struct perr *err);

#endif
