/* SPDX-License-Identifier: MIT */
/* AWS JSON 1.1 calls (SSM, Secrets Manager): a signed POST with X-Amz-Target, and the service's
 * error shape ({"__type": "...#Code", "message": "..."}) turned into one clear message. */
#ifndef PARITY_AWSJSON_H
#define PARITY_AWSJSON_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/creds.h"
#include "lib/err.h"
#include "lib/http.h"

struct awsjson_call {
    const char *url;     /* the service endpoint; requests go to its path ("/") */
    const char *target;  /* X-Amz-Target: "AmazonSSM.GetParameter" */
    const char *service; /* signing name: "ssm" */
    const char *region;
    const char *body; /* the JSON request */
    size_t body_len;
    bool once;    /* not idempotent (a create): one attempt, the caller decides what next */
    int attempts; /* tries for the others, 0: lib/http's default */
};

/*
 * Sends the call signed with c (read-only calls: retried on throttling, 5xx and transport
 * errors by lib/http; once more after a clock-skew correction). On HTTP 200 returns 0 with
 * the answer in resp. Otherwise returns -1 with `code` set to the AWS error code when the
 * service gave one ("" if not) and err saying "TARGET: CODE: message (HTTP N)".
 */
PARITY_MUST_CHECK int awsjson_call(const struct awsjson_call *call,
                                   const struct creds *c,
                                   struct http_response *resp,
                                   char code[128],
                                   struct perr *err);

/* The error code and message of an AWS JSON error body; false if it is not one. */
bool awsjson_parse_error(const char *body, size_t len, char code[128], char message[256]);

#endif
