/* SPDX-License-Identifier: MIT */
/* The OCI bundle one host of a local job runs in under runc: the spec's image (an OCI image
 * layout unpacked with umoci, or a root filesystem folder), parity-init as its entrypoint, the
 * host's own /opt/ml bind-mounted, the job config in its environment, the host's network. */
#ifndef PARITY_SHIM_LOCAL_BUNDLE_H
#define PARITY_SHIM_LOCAL_BUNDLE_H

#include "lib/envlist.h"
#include "lib/err.h"
#include "lib/jobspec.h"

/* Where parity-init sits in parity-base images (and must sit in a rootfs folder). */
#define LOCAL_BUNDLE_INIT "/usr/local/bin/parity-init"

struct local_bundle_inputs {
    const struct jobspec *js;
    const struct envlist *env; /* the launcher's: AWS_* variables are passed on */
    const char *spec_json;     /* PARITY_JOB_CONFIG */
    const char *ml_root;       /* the host's /opt/ml on this machine */
    long index;                /* the host: algo-(index+1) */
};

/*
 * Makes the bundle in folder `bundle` (created): "oci:LAYOUT[:TAG]" is unpacked there with
 * `umoci unpack`; an existing folder is used as a read-only root. Anything else is an error
 * that says how to get an image into one of those forms.
 */
PARITY_MUST_CHECK int
local_bundle_prepare(const struct local_bundle_inputs *in, const char *bundle, struct perr *err);

#endif
