/* SPDX-License-Identifier: MIT */
/* AWS JSON 1.1: signed POSTs and the error shape. */
#include "lib/awsjson.h"

#include <stdio.h>
#include <string.h>

#include "lib/awssign.h"
#include "lib/awstime.h"
#include "lib/jdoc.h"

#define AWSJSON_MAX_BODY (1024 * 1024)

bool awsjson_parse_error(const char *body, size_t len, char code[128], char message[256])
{
    struct perr ignored = {0};
    struct jdoc *d = jdoc_parse(body, len, NULL, &ignored);
    const char *type, *msg;

    code[0] = message[0] = '\0';
    if (!d)
        return false;
    type = jdoc_get_str(d, "__type");
    msg = jdoc_get_str(d, "message");
    if (!msg)
        msg = jdoc_get_str(d, "Message");
    if (type) {
        /* "com.amazonaws.ssm#ParameterNotFound" or plain "ParameterNotFound" */
        const char *hash = strrchr(type, '#');
        snprintf(code, 128, "%s", hash ? hash + 1 : type);
    }
    if (msg)
        snprintf(message, 256, "%s", msg);
    jdoc_free(d);
    return type != NULL;
}

static int call_once(const struct awsjson_call *call,
                     const struct creds *c,
                     struct http_response *resp,
                     char code[128],
                     bool *skewed,
                     struct perr *err)
{
    struct sigv4_header target = {"x-amz-target", call->target};
    struct awssign_call sc = {.method = "POST",
                              .url = call->url,
                              .content_type = "application/x-amz-json-1.1",
                              .extra = &target,
                              .extra_count = 1,
                              .body = call->body,
                              .body_len = call->body_len,
                              .region = call->region,
                              .service = call->service};
    struct http_opts opts = {.max_body_bytes = AWSJSON_MAX_BODY,
                             .idempotent = !call->once,
                             .max_attempts = call->attempts};
    struct http_request req = {
        .method = "POST", .url = call->url, .body = call->body, .body_len = call->body_len};
    struct awssign_headers h;
    char message[256];
    int rc;

    *skewed = false;
    code[0] = '\0';
    if (awssign_headers(&sc, c, &h, err) < 0)
        return -1;
    req.headers = h.lines;
    rc = http_do(&req, &opts, resp, err);
    awssign_wipe(&h);
    if (rc < 0)
        return perr_wrap(err, "%s", call->target);
    if (resp->status == 200)
        return 0;
    *skewed = resp->status >= 400 && awstime_is_skew_error(resp->body.data) &&
              awstime_correct_from_date(resp->date) != 0;
    if (awsjson_parse_error(resp->body.data ? resp->body.data : "", resp->body.len, code, message))
        return perr_set(err, resp->status == 400 && strstr(code, "Denied") ? PERR_AUTH : PERR_HTTP,
                        "%s: %s%s%s (HTTP %ld)", call->target, code, message[0] ? ": " : "",
                        message, resp->status);
    return perr_set(err, PERR_HTTP, "%s: HTTP %ld from %s", call->target, resp->status, call->url);
}

int awsjson_call(const struct awsjson_call *call,
                 const struct creds *c,
                 struct http_response *resp,
                 char code[128],
                 struct perr *err)
{
    bool skewed = false;
    int rc = call_once(call, c, resp, code, &skewed, err);

    if (rc < 0 && skewed) {
        http_response_cleanup(resp);
        http_response_init(resp);
        rc = call_once(call, c, resp, code, &skewed, err);
    }
    return rc;
}
