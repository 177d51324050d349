/* SPDX-License-Identifier: MIT */
/* credential_process output from the loopback endpoint (contract/aws-credentials.md §1f). */
#include "entrypoint/credproc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/creds.h"
#include "lib/http.h"

bool credproc_requested(int argc, char **argv)
{
    const char *base = strrchr(argv[0], '/');

    base = base ? base + 1 : argv[0];
    return strcmp(base, "credential-process") == 0 ||
           (argc > 1 && strcmp(argv[1], "credential-process") == 0);
}

int credproc_main(void)
{
    const char *url = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *token = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    char header[256], exp[32];
    const char *headers[] = {header, NULL};
    struct http_opts opts = {.connect_timeout_ms = 2000,
                             .total_timeout_ms = 5000,
                             .idempotent = true,
                             .max_body_bytes = 64u * 1024};
    struct http_request req = {.method = "GET", .url = url, .headers = headers};
    struct http_response resp;
    struct creds c;
    struct perr err = {0};
    int rc;

    if (!url || !token) {
        fprintf(stderr,
                "parity-init credential-process: AWS_CONTAINER_CREDENTIALS_FULL_URI and "
                "AWS_CONTAINER_AUTHORIZATION_TOKEN are not set; run it under parity-init\n");
        return 1;
    }
    snprintf(header, sizeof(header), "Authorization: %s", token);
    http_response_init(&resp);
    rc = http_do(&req, &opts, &resp, &err);
    if (rc == 0 && resp.status != 200)
        rc = perr_set(&err, PERR_HTTP, "GET %s: HTTP %ld", url, resp.status);
    if (rc == 0)
        rc = creds_parse_json(resp.body.data, resp.body.len, &c, &err);
    if (resp.body.data)
        explicit_bzero(resp.body.data, resp.body.len);
    http_response_cleanup(&resp);
    explicit_bzero(header, sizeof(header));
    if (rc < 0) {
        fprintf(stderr, "parity-init credential-process: %s\n", err.msg);
        return 1;
    }
    time_t t = (time_t)c.expiry_epoch_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\", "
           "\"SessionToken\": \"%s\", \"Expiration\": \"%s\"}\n",
           c.access_key_id, c.secret_access_key, c.session_token, exp);
    fflush(stdout);
    creds_wipe(&c);
    return 0;
}
