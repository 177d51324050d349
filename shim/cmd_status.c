/* SPDX-License-Identifier: MIT */
/* parity status NAME: the job's state, from its target. */
#include "shim/jobstate.h"
#include "shim/target_eks.h"
#include "shim/target_sagemaker.h"

int cmd_status(struct cli *c)
{
    struct jobstate st;
    int rc = jobstate_locate(c, &st);

    if (rc)
        return rc;
    if (st.target == CLI_TARGET_SAGEMAKER)
        return sagemaker_status(c, c->arg, st.region[0] ? st.region : NULL);
    if (st.target == CLI_TARGET_EKS)
        return eks_status(c, c->arg, &st);
    return jobstate_not_yet(&st);
}
