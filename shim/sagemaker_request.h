/* SPDX-License-Identifier: MIT */
/* The CreateTrainingJob request a job spec maps to (contract/launcher-apis.md §1.2). */
#ifndef PARITY_SHIM_SAGEMAKER_REQUEST_H
#define PARITY_SHIM_SAGEMAKER_REQUEST_H

#include "lib/jdoc.h"
#include "lib/jobspec.h"

/* Where parity-init sits in parity-base images: the container's entrypoint on SageMaker. */
#define SAGEMAKER_ENTRYPOINT "/usr/local/bin/parity-init"

/* The variable that marks a create as this launcher's own, for the check after a create that
 * timed out (CreateTrainingJob has no idempotency token; DescribeTrainingJob returns the
 * environment, not the tags). */
#define SAGEMAKER_REQUEST_VAR "PARITY_REQUEST_ID"

/*
 * The request body for js (checked for the sagemaker target): image, role, channels, output,
 * checkpoints, resources, stopping condition, spot, hyperparameters JSON-encoded as the
 * SageMaker SDK sends them, environment (plus request_id as SAGEMAKER_REQUEST_VAR when not
 * NULL), tags, and parity-init as the entrypoint with the spec's command as its arguments.
 */
PARITY_MUST_CHECK struct jdoc *
sagemaker_create_request(const struct jobspec *js, const char *request_id, struct perr *err);

#endif
