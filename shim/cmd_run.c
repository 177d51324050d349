/* SPDX-License-Identifier: MIT */
/* parity run SPEC --target T: launch, then follow to the end. */
#include <stdio.h>

#include "shim/spec.h"
#include "shim/target_eks.h"
#include "shim/target_local.h"
#include "shim/target_sagemaker.h"

int cmd_run(struct cli *c)
{
    struct jobspec js = {0};
    struct buf text;
    struct perr err = {0};
    int rc;

    if (c->target == CLI_TARGET_NONE) {
        fprintf(stderr, "parity: run needs --target local, sagemaker or eks\n");
        return CLI_EXIT_USAGE;
    }
    rc = spec_load_checked(c->arg, c->target, &js, &text, &err);
    if (rc < 0) {
        rc = cli_fail(err.code == PERR_PARSE ? CLI_EXIT_INVALID : CLI_EXIT_FAILED, &err);
    } else if (c->target == CLI_TARGET_SAGEMAKER) {
        rc = sagemaker_run(c, &js, text.data, text.len);
    } else if (c->target == CLI_TARGET_EKS) {
        rc = eks_run(c, &js);
    } else if (c->target == CLI_TARGET_LOCAL) {
        rc = local_run(c, &js);
    } else {
        perr_set(&err, PERR_USAGE, "--target %s is not in this build yet",
                 cli_target_name(c->target));
        rc = cli_fail(CLI_EXIT_USAGE, &err);
    }
    jobspec_cleanup(&js);
    buf_cleanup(&text);
    return rc;
}
