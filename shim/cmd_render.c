/* SPDX-License-Identifier: MIT */
/* parity render SPEC --target sagemaker|eks: exactly what run would send, sent nowhere. */
#include <stdio.h>

#include "shim/eks_manifest.h"
#include "shim/jsonout.h"
#include "shim/render.h"
#include "shim/spec.h"

int cmd_render(struct cli *c)
{
    struct jobspec js = {0};
    struct jdoc *doc = NULL;
    struct buf text, out;
    struct perr err = {0};
    int rc;

    if (c->target != CLI_TARGET_SAGEMAKER && c->target != CLI_TARGET_EKS) {
        fprintf(stderr, "parity: render needs --target sagemaker or --target eks\n");
        return CLI_EXIT_USAGE;
    }
    buf_init(&out, 8u * JOBSPEC_MAX_BYTES);
    rc = spec_load_checked(c->arg, c->target, &js, &text, &err);
    if (rc == 0) {
        doc = c->target == CLI_TARGET_SAGEMAKER
                  ? render_sagemaker(&js, text.data, text.len, &err)
                  : render_eks(&js, eks_namespace(&js, c->namespace_), &err);
        rc = doc ? jo_write(&out, doc, true, &err) : -1;
    }
    if (rc == 0)
        printf("%s\n", out.data);
    jdoc_free(doc);
    jobspec_cleanup(&js);
    buf_cleanup(&text);
    buf_cleanup(&out);
    return rc == 0 ? 0
                   : cli_fail(err.code == PERR_PARSE ? CLI_EXIT_INVALID : CLI_EXIT_FAILED, &err);
}
