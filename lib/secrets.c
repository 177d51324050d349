/* SPDX-License-Identifier: MIT */
/* Resolving a secret reference to its value (SSM, Secrets Manager). */
#include "lib/secrets.h"

#include <stdio.h>
#include <string.h>

#include "lib/awsjson.h"
#include "lib/jdoc.h"
#include "lib/pyfmt.h"

int secrets_pick_field(
    const char *json, size_t len, const char *key, struct buf *out, struct perr *err)
{
    struct perr parse_err = {0};
    struct jdoc *d = jdoc_parse(json, len, NULL, &parse_err);
    const struct jdoc *v;
    int rc;

    /* The parse error would quote the secret's text: say only where it broke. */
    if (!d || d->type != JDOC_OBJECT) {
        jdoc_free_secret(d);
        return perr_set(err, PERR_PARSE,
                        "the secret is not a JSON object, so '#%s' selects nothing", key);
    }
    v = jdoc_get(d, key);
    if (!v)
        rc = perr_set(err, PERR_USAGE, "the secret's JSON has no field '%s'", key);
    else if (v->type == JDOC_STRING)
        rc = buf_append(out, v->text, v->text_len, err);
    else
        rc = pyfmt_json(out, v, err);
    jdoc_free_secret(d);
    return rc;
}

/* The string at obj.field (or obj.outer.field), or NULL. */
static const struct jdoc *string_at(const struct jdoc *d, const char *outer, const char *field)
{
    const struct jdoc *v = outer ? jdoc_get(d, outer) : d;

    v = v && v->type == JDOC_OBJECT ? jdoc_get(v, field) : NULL;
    return v && v->type == JDOC_STRING ? v : NULL;
}

int secrets_fetch(const struct secretref *ref,
                  const char *endpoint,
                  const struct creds *c,
                  struct buf *value,
                  char code[128],
                  struct perr *err)
{
    bool ssm = ref->kind == SECRETREF_SSM;
    char body[SECRETREF_MAX_ARN + 64];
    struct awsjson_call call = {
        .url = endpoint,
        .target = ssm ? "AmazonSSM.GetParameter" : "secretsmanager.GetSecretValue",
        .service = ssm ? "ssm" : "secretsmanager",
        .region = ref->region,
        .body = body,
    };
    struct http_response resp;
    struct perr parse_err = {0};
    const struct jdoc *v;
    struct jdoc *d = NULL;
    int rc = -1;

    /* secretref_parse let through only characters that need no JSON escaping. */
    call.body_len = (size_t)snprintf(
        body, sizeof(body),
        ssm ? "{\"Name\":\"%s\",\"WithDecryption\":true}" : "{\"SecretId\":\"%s\"}", ref->arn);
    http_response_init(&resp);
    if (awsjson_call(&call, c, &resp, code, err) < 0)
        goto out;
    d = jdoc_parse(resp.body.data ? resp.body.data : "", resp.body.len, NULL, &parse_err);
    if (!d) {
        perr_set(err, PERR_PARSE, "%s: the answer is not JSON", call.target);
        goto out;
    }
    v = ssm ? string_at(d, "Parameter", "Value") : string_at(d, NULL, "SecretString");
    if (!v) {
        perr_set(err, PERR_PARSE, "%s: the answer holds no %s", call.target,
                 ssm ? "Parameter.Value"
                 : jdoc_get(d, "SecretBinary")
                     ? "SecretString (the secret is binary, which an environment value cannot hold)"
                     : "SecretString");
        goto out;
    }
    if (v->text_len > SECRETS_MAX_VALUE || memchr(v->text, '\0', v->text_len)) {
        perr_set(err, PERR_LIMIT, "the value is over %d bytes or holds a NUL byte",
                 SECRETS_MAX_VALUE);
        goto out;
    }
    rc = ref->key[0] ? secrets_pick_field(v->text, v->text_len, ref->key, value, err)
                     : buf_append(value, v->text, v->text_len, err);
out:
    jdoc_free_secret(d);
    if (resp.body.data)
        explicit_bzero(resp.body.data, resp.body.len);
    http_response_cleanup(&resp);
    return rc;
}
