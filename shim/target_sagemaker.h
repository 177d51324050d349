/* SPDX-License-Identifier: MIT */
/* Jobs on SageMaker: CreateTrainingJob / DescribeTrainingJob / StopTrainingJob, and the job's
 * CloudWatch logs, every host's stream (contract/launcher-apis.md §1). */
#ifndef PARITY_SHIM_TARGET_SAGEMAKER_H
#define PARITY_SHIM_TARGET_SAGEMAKER_H

#include <stddef.h>

#include "lib/jobspec.h"
#include "shim/cli.h"

/* Creates the job and, unless --detach, follows it; returns the exit status for parity. */
int sagemaker_run(struct cli *c, const struct jobspec *js, const char *text, size_t len);

/* status / logs / stop NAME in region. */
int sagemaker_status(struct cli *c, const char *name, const char *region);
int sagemaker_logs(struct cli *c, const char *name, const char *region);
int sagemaker_stop(struct cli *c, const char *name, const char *region);

/* The job's exit code from a FailureReason ("... exit code: 3" as SageMaker wraps the failure
 * file, or "ExitCode 3" from the file itself); 1 when it says none. */
int sagemaker_exit_code(const char *failure_reason);

#endif
