/* SPDX-License-Identifier: MIT */
/* Secret references: SSM parameter and Secrets Manager ARNs in environment values. */
#include "lib/secretref.h"

#include <stdio.h>
#include <string.h>

/* Characters AWS allows in parameter and secret names (plus '/' for paths). */
static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("/_+=.@-", c) != NULL;
}

static bool all_of(const char *s, size_t n, const char *allowed_extra, bool alnum)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (alnum && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) ||
                  (c && strchr(allowed_extra, c));
        if (!ok)
            return false;
    }
    return true;
}

/* Copies the `n` bytes of s into out (size out_len), refusing what does not fit. */
static bool take(char *out, size_t out_len, const char *s, size_t n)
{
    if (n >= out_len)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

int secretref_parse(const char *value, struct secretref *out, struct perr *err)
{
    const char *f[6];
    size_t len[6];
    const char *p = value, *name, *hash;
    size_t name_len;

    memset(out, 0, sizeof(*out));
    if (strncmp(value, "arn:", 4) != 0)
        return 0;
    /* arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, the resource may hold ':' itself. */
    for (int i = 0; i < 6; i++) {
        const char *end = i < 5 ? strchr(p, ':') : p + strlen(p);
        if (!end)
            return 0; /* too few fields: some other kind of text */
        f[i] = p;
        len[i] = (size_t)(end - p);
        p = *end ? end + 1 : end;
    }
    if (len[2] == 3 && memcmp(f[2], "ssm", 3) == 0)
        out->kind = SECRETREF_SSM;
    else if (len[2] == 14 && memcmp(f[2], "secretsmanager", 14) == 0)
        out->kind = SECRETREF_SECRETSMGR;
    else
        return 0; /* another service's ARN: a plain value */
    if (strlen(value) >= SECRETREF_MAX_ARN)
        return perr_set(err, PERR_USAGE, "the ARN is longer than %d bytes", SECRETREF_MAX_ARN - 1);
    if (!len[1] || !all_of(f[1], len[1], "-", true) ||
        !take(out->partition, sizeof(out->partition), f[1], len[1]))
        return perr_set(err, PERR_USAGE, "the ARN's partition is missing or malformed");
    if (!len[3] || !all_of(f[3], len[3], "-", true) ||
        !take(out->region, sizeof(out->region), f[3], len[3]))
        return perr_set(err, PERR_USAGE, "the ARN has no region (the service is regional)");
    if (len[4] != 12 || !all_of(f[4], len[4], "0123456789", false))
        return perr_set(err, PERR_USAGE, "the ARN's account is not 12 digits");
    if (out->kind == SECRETREF_SSM) {
        if (len[5] < 10 || strncmp(f[5], "parameter/", 10) != 0)
            return perr_set(err, PERR_USAGE, "an SSM reference must name a parameter/...");
        name = f[5] + 10;
        name_len = len[5] - 10;
        hash = NULL;
    } else {
        if (len[5] < 7 || strncmp(f[5], "secret:", 7) != 0)
            return perr_set(err, PERR_USAGE, "a Secrets Manager reference must name a secret:...");
        name = f[5] + 7;
        hash = strchr(name, '#');
        name_len = hash ? (size_t)(hash - name) : len[5] - 7;
        if (hash && (!hash[1] || !take(out->key, sizeof(out->key), hash + 1, strlen(hash + 1))))
            return perr_set(err, PERR_USAGE, "the JSON key after '#' is empty or too long");
    }
    if (!name_len || name[name_len - 1] == '/')
        return perr_set(err, PERR_USAGE, "the ARN names no parameter or secret");
    for (size_t i = 0; i < name_len; i++) {
        if (!name_char(name[i]))
            return perr_set(err, PERR_USAGE,
                            "the name holds a character AWS does not allow (byte %zu)",
                            (size_t)(name + i - value));
    }
    take(out->arn, sizeof(out->arn), value, (size_t)(name + name_len - value));
    return 0;
}

void secretref_endpoint(const struct secretref *ref,
                        const struct envlist *env,
                        char *out,
                        size_t out_len)
{
    const char *service_url =
        env ? envlist_get(env, ref->kind == SECRETREF_SSM ? "AWS_ENDPOINT_URL_SSM"
                                                          : "AWS_ENDPOINT_URL_SECRETS_MANAGER")
            : NULL;
    const char *global_url = env ? envlist_get(env, "AWS_ENDPOINT_URL") : NULL;
    const char *service = ref->kind == SECRETREF_SSM ? "ssm" : "secretsmanager";
    const char *domain =
        strcmp(ref->partition, "aws-cn") == 0 ? "amazonaws.com.cn" : "amazonaws.com";

    if (service_url && *service_url)
        snprintf(out, out_len, "%s", service_url);
    else if (global_url && *global_url)
        snprintf(out, out_len, "%s", global_url);
    else
        snprintf(out, out_len, "https://%s.%s.%s/", service, ref->region, domain);
}
