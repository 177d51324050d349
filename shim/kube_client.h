/* SPDX-License-Identifier: MIT */
/* Kubernetes API calls: JSON requests, and the streams of watches and followed logs. Each call
 * sends the current credentials and, after a 401 with exec or EKS credentials, makes new ones
 * and tries once more. */
#ifndef PARITY_SHIM_KUBE_CLIENT_H
#define PARITY_SHIM_KUBE_CLIENT_H

#include "lib/http.h"
#include "lib/jdoc.h"
#include "shim/kube_config.h"

/* METHOD path?query with an optional JSON body; *out gets the answer (any status) parsed, or
 * NULL when it is not JSON. Fails only when no answer came (or credentials failed). */
PARITY_MUST_CHECK int kube_call(struct kube_config *k,
                                const char *method,
                                const char *path,
                                const char *body,
                                long *status,
                                struct jdoc **out,
                                struct perr *err);

/* GET path?query streamed to sink until the server ends it (watch=true, follow=true), or until
 * *stop_at (CLOCK_MONOTONIC ms, read as it runs; 1 stops at once) passes. */
PARITY_MUST_CHECK int kube_stream(struct kube_config *k,
                                  const char *path,
                                  const struct http_sink *sink,
                                  const uint64_t *stop_at,
                                  long *status,
                                  struct perr *err);

/* The message of a Status answer ("jobs.batch \"x\" already exists"), or the HTTP status. */
void kube_status_message(const struct jdoc *answer, long status, char *out, size_t len);

#endif
