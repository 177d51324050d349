/* SPDX-License-Identifier: MIT */
/* The Kubernetes objects a job spec maps to (contract/launcher-apis.md §2.1): a batch/v1 Job
 * (Indexed for more than one host) and, for more than one host, the headless Service that
 * gives its pods the stable names parity-init maps to algo-N. */
#ifndef PARITY_SHIM_EKS_MANIFEST_H
#define PARITY_SHIM_EKS_MANIFEST_H

#include "lib/jdoc.h"
#include "lib/jobspec.h"

#define EKS_CONTAINER     "main"
#define EKS_GRACE_SECONDS 120 /* SageMaker's SIGTERM -> SIGKILL window, kept on EKS */

/* The namespace: the override, else the spec's eks.namespace, else "default". */
const char *eks_namespace(const struct jobspec *js, const char *override);

/* The Job. spec_json: the spec as compact JSON, passed to parity-init as PARITY_JOB_CONFIG. */
PARITY_MUST_CHECK struct jdoc *
eks_job_manifest(const struct jobspec *js, const char *spec_json, const char *ns, struct perr *err);

/* The headless Service (only for more than one host). */
PARITY_MUST_CHECK struct jdoc *
eks_service_manifest(const struct jobspec *js, const char *ns, struct perr *err);

#endif
