/* SPDX-License-Identifier: MIT */
/* What a target is sent for a spec, in one place for render and run. */
#ifndef PARITY_SHIM_RENDER_H
#define PARITY_SHIM_RENDER_H

#include "lib/jdoc.h"
#include "lib/jobspec.h"
#include "shim/cli.h"

/* A launch's identity for the check after a create that timed out: the spec's SHA-256,
 * shortened. The same spec always renders the same request. */
void render_request_id(const char *spec_text, size_t len, char out[33]);

/* SageMaker: the CreateTrainingJob body. */
PARITY_MUST_CHECK struct jdoc *
render_sagemaker(const struct jobspec *js, const char *spec_text, size_t len, struct perr *err);

/* EKS: a v1 List of the Job and, for more than one host, the Service. */
PARITY_MUST_CHECK struct jdoc *
render_eks(const struct jobspec *js, const char *ns, struct perr *err);

#endif
