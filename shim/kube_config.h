/* SPDX-License-Identifier: MIT */
/* Where a Kubernetes API server is and how to prove who we are (contract/launcher-apis.md
 * §2.3): kubeconfig ($KUBECONFIG, a ':'-separated list merged as kubectl does, else
 * ~/.kube/config; a context from --context or current-context) or in-cluster config. */
#ifndef PARITY_SHIM_KUBE_CONFIG_H
#define PARITY_SHIM_KUBE_CONFIG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/envlist.h"
#include "lib/err.h"
#include "lib/jdoc.h"

enum kube_auth {
    KUBE_AUTH_NONE = 0,
    KUBE_AUTH_TOKEN, /* a bearer token, given or read from a file (re-read each time) */
    KUBE_AUTH_CERT,  /* a client certificate */
    KUBE_AUTH_EXEC,  /* an exec plugin printing an ExecCredential */
    KUBE_AUTH_EKS,   /* `aws eks get-token` made in-process: no AWS CLI needed */
};

struct kube_config {
    const struct envlist *env;
    pthread_mutex_t mu; /* the token is renewed by whichever thread finds it old */
    char server[1024];  /* https://host:port, no trailing '/' */
    char context[256];
    char namespace_[254]; /* the context's, or "" */
    struct buf ca_pem;    /* the cluster's CA (empty: the system's) */
    struct buf cert_pem;  /* client certificate and key, when the user has them */
    struct buf key_pem;
    bool insecure;
    enum kube_auth auth;
    char token[8192];      /* the current bearer token */
    char token_file[1024]; /* re-read for each request: projected tokens rotate */
    int64_t token_expiry;  /* exec/EKS tokens: when to make a new one (epoch s; 0: never) */
    struct jdoc *exec;     /* the user's exec block */
    char exec_dir[1024];   /* the kubeconfig's folder: relative commands start from there */
    char eks_cluster[256]; /* KUBE_AUTH_EKS */
    char eks_region[64];
};

/*
 * Loads the config for context (NULL: current-context; in-cluster config when there is no
 * kubeconfig and KUBERNETES_SERVICE_HOST is set). Names the file and the field on errors.
 */
PARITY_MUST_CHECK int kube_config_load(struct kube_config *k,
                                       const struct envlist *env,
                                       const char *context,
                                       struct perr *err);

/* The bearer token to send now ("" for certificate auth): runs the exec plugin or makes an EKS
 * token when the cached one is missing or expires within a minute; force: make a new one (after
 * a 401). */
PARITY_MUST_CHECK int kube_config_token(struct kube_config *k, bool force, struct perr *err);

void kube_config_cleanup(struct kube_config *k);

#endif
