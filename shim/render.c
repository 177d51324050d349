/* SPDX-License-Identifier: MIT */
/* Rendering a spec for a target. */
#include "shim/render.h"

#include "lib/crypto.h"
#include "shim/eks_manifest.h"
#include "shim/jsonout.h"
#include "shim/sagemaker_request.h"

void render_request_id(const char *spec_text, size_t len, char out[33])
{
    uint8_t digest[CRYPTO_SHA256_BYTES];

    crypto_sha256(spec_text, len, digest);
    crypto_hex(digest, 16, out);
}

struct jdoc *
render_sagemaker(const struct jobspec *js, const char *spec_text, size_t len, struct perr *err)
{
    char id[33];

    render_request_id(spec_text, len, id);
    return sagemaker_create_request(js, id, err);
}

struct jdoc *render_eks(const struct jobspec *js, const char *ns, struct perr *err)
{
    struct jdoc *list = jo_object(err), *items = list ? jo_array(err) : NULL;
    struct buf spec_json;
    int rc = items ? 0 : -1;

    buf_init(&spec_json, 2 * JOBSPEC_MAX_BYTES);
    if (rc == 0)
        rc = jo_write(&spec_json, js->doc, false, err);
    if (rc == 0)
        rc = jo_push(items, eks_job_manifest(js, spec_json.data, ns, err), err);
    if (rc == 0 && js->instance_count > 1)
        rc = jo_push(items, eks_service_manifest(js, ns, err), err);
    if (rc == 0)
        rc = jo_put_str(list, "apiVersion", "v1", err);
    if (rc == 0)
        rc = jo_put_str(list, "kind", "List", err);
    if (rc == 0) {
        rc = jo_put(list, "items", items, err);
        items = NULL;
    }
    buf_cleanup(&spec_json);
    jdoc_free(items);
    if (rc < 0) {
        jdoc_free(list);
        return NULL;
    }
    return list;
}
