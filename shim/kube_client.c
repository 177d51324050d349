/* SPDX-License-Identifier: MIT */
/* Requests to the API server with the kubeconfig's TLS and credentials. */
#include "shim/kube_client.h"

#include <stdio.h>
#include <string.h>

#define MAX_ANSWER (16u << 20) /* a list of pods of a large job */

static int send_once(struct kube_config *k,
                     const char *method,
                     const char *path,
                     const char *body,
                     const struct http_sink *sink,
                     const uint64_t *stop_at,
                     struct http_response *resp,
                     bool force_token,
                     struct perr *err)
{
    char url[4096], auth[8300];
    const char *headers[4];
    size_t h = 0;
    struct http_opts opts = {.max_body_bytes = MAX_ANSWER,
                             .idempotent = strcmp(method, "GET") == 0,
                             .total_timeout_ms = sink ? 24L * 3600 * 1000 : 30000,
                             .connect_timeout_ms = 5000,
                             .abort_at_ms = stop_at};
    if ((size_t)snprintf(url, sizeof(url), "%s%s", k->server, path) >= sizeof(url))
        return perr_set(err, PERR_LIMIT, "the request path is too long");
    pthread_mutex_lock(&k->mu);
    int trc = kube_config_token(k, force_token, err);
    if (trc == 0 && k->token[0]) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", k->token);
        headers[h++] = auth;
    }
    pthread_mutex_unlock(&k->mu);
    if (trc < 0)
        return -1;
    headers[h++] = "Accept: application/json";
    if (body)
        headers[h++] = "Content-Type: application/json";
    headers[h] = NULL;
    struct http_request req = {.method = method,
                               .url = url,
                               .headers = headers,
                               .body = body,
                               .body_len = body ? strlen(body) : 0,
                               .sink = sink,
                               .ca_pem = k->ca_pem.len ? k->ca_pem.data : NULL,
                               .ca_pem_len = k->ca_pem.len,
                               .cert_pem = k->cert_pem.len ? k->cert_pem.data : NULL,
                               .cert_pem_len = k->cert_pem.len,
                               .key_pem = k->key_pem.len ? k->key_pem.data : NULL,
                               .key_pem_len = k->key_pem.len,
                               .insecure = k->insecure};
    if (sink)
        opts.max_attempts = 1;
    int rc = http_do(&req, &opts, resp, err);
    memset(auth, 0, sizeof(auth));
    return rc;
}

static int call(struct kube_config *k,
                const char *method,
                const char *path,
                const char *body,
                const struct http_sink *sink,
                const uint64_t *stop_at,
                struct http_response *resp,
                struct perr *err)
{
    int rc = send_once(k, method, path, body, sink, stop_at, resp, false, err);

    /* exec and EKS tokens expire or get revoked: a new one, once */
    if (rc == 0 && resp->status == 401 && (k->auth == KUBE_AUTH_EXEC || k->auth == KUBE_AUTH_EKS)) {
        http_response_cleanup(resp);
        http_response_init(resp);
        rc = send_once(k, method, path, body, sink, stop_at, resp, true, err);
    }
    return rc;
}

int kube_call(struct kube_config *k,
              const char *method,
              const char *path,
              const char *body,
              long *status,
              struct jdoc **out,
              struct perr *err)
{
    struct http_response resp;
    struct perr ignored = {0};
    int rc;

    *out = NULL;
    http_response_init(&resp);
    rc = call(k, method, path, body, NULL, NULL, &resp, err);
    if (rc == 0) {
        *status = resp.status;
        if (resp.body.len)
            *out = jdoc_parse(resp.body.data, resp.body.len, NULL, &ignored);
    }
    http_response_cleanup(&resp);
    return rc;
}

int kube_stream(struct kube_config *k,
                const char *path,
                const struct http_sink *sink,
                const uint64_t *stop_at,
                long *status,
                struct perr *err)
{
    struct http_response resp;
    int rc;

    http_response_init(&resp);
    rc = call(k, "GET", path, NULL, sink, stop_at, &resp, err);
    if (rc == 0)
        *status = resp.status;
    else if (resp.status)
        *status = resp.status;
    http_response_cleanup(&resp);
    return rc;
}

void kube_status_message(const struct jdoc *answer, long status, char *out, size_t len)
{
    const char *m = jdoc_get_str(answer, "message");

    if (m)
        snprintf(out, len, "%s (HTTP %ld)", m, status);
    else
        snprintf(out, len, "HTTP %ld", status);
}
