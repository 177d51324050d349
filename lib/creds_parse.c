/* SPDX-License-Identifier: MIT */
/* Reading credentials out of what AWS services answer: container JSON, STS XML, RFC 3339. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/creds.h"
#include "lib/jdoc.h"
#include "lib/xml.h"

void creds_wipe(struct creds *c)
{
    explicit_bzero(c, sizeof(*c));
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int creds_parse_time(const char *s, int64_t *out, struct perr *err)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, sec, offset = 0;
    const char *p = s + 19;

    if (strlen(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
        s[13] != ':' || s[16] != ':' || digits(s, 4, &y) < 0 || digits(s + 5, 2, &mo) < 0 ||
        digits(s + 8, 2, &d) < 0 || digits(s + 11, 2, &h) < 0 || digits(s + 14, 2, &mi) < 0 ||
        digits(s + 17, 2, &sec) < 0)
        return perr_set(err, PERR_PARSE, "'%.40s' is not an RFC 3339 time", s);
    if (*p == '.') /* fractions: the Pod Identity agent sends nanoseconds */
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh, om;
        if (digits(p + 1, 2, &oh) < 0 || digits(p + 4, 2, &om) < 0)
            return perr_set(err, PERR_PARSE, "'%.40s' has a bad time zone offset", s);
        offset = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return perr_set(err, PERR_PARSE, "'%.40s' has no time zone", s);
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return perr_set(err, PERR_PARSE, "'%.40s' is not an RFC 3339 time", s);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (int64_t)timegm(&tm) - offset;
    return 0;
}

static int copy_field(
    char *dst, size_t cap, const char *src, const char *name, bool required, struct perr *err)
{
    if (!src) {
        dst[0] = '\0';
        return required ? perr_set(err, PERR_PARSE, "the response has no %s", name) : 0;
    }
    if (strlen(src) >= cap)
        return perr_set(err, PERR_LIMIT, "%s in the response is longer than %zu bytes", name,
                        cap - 1);
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

int creds_parse_json(const char *text, size_t len, struct creds *out, struct perr *err)
{
    struct jdoc *d = jdoc_parse(text, len, NULL, err);
    const char *exp;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!d)
        return perr_wrap(err, "the credentials are not JSON");
    if (d->type != JDOC_OBJECT) {
        jdoc_free(d);
        return perr_set(err, PERR_PARSE, "the credentials are not a JSON object");
    }
    rc = copy_field(out->access_key_id, sizeof(out->access_key_id), jdoc_get_str(d, "AccessKeyId"),
                    "AccessKeyId", true, err);
    if (rc == 0)
        rc = copy_field(out->secret_access_key, sizeof(out->secret_access_key),
                        jdoc_get_str(d, "SecretAccessKey"), "SecretAccessKey", true, err);
    if (rc == 0)
        rc = copy_field(out->session_token, sizeof(out->session_token), jdoc_get_str(d, "Token"),
                        "Token", false, err);
    if (rc == 0)
        rc = copy_field(out->role_arn, sizeof(out->role_arn), jdoc_get_str(d, "RoleArn"), "RoleArn",
                        false, err);
    if (rc == 0)
        rc = copy_field(out->account_id, sizeof(out->account_id), jdoc_get_str(d, "AccountId"),
                        "AccountId", false, err);
    exp = jdoc_get_str(d, "Expiration");
    if (rc == 0 && exp)
        rc = creds_parse_time(exp, &out->expiry_epoch_s, err);
    if (rc == 0 && !exp && out->session_token[0])
        rc = perr_set(err, PERR_PARSE, "temporary credentials without an Expiration");
    /* jdoc keeps its own copies of the strings: wipe them before they are freed */
    for (size_t i = 0; i < d->count; i++) {
        if (d->items[i]->type == JDOC_STRING)
            explicit_bzero(d->items[i]->text, d->items[i]->text_len);
    }
    jdoc_free(d);
    if (rc < 0)
        creds_wipe(out);
    return rc;
}

int creds_parse_sts_xml(const char *text, size_t len, struct creds *out, struct perr *err)
{
    char code[128], message[512], exp[64];

    struct {
        const char *tag;
        char *dst;
        size_t cap;
    } fields[] = {
        {"AccessKeyId", out->access_key_id, sizeof(out->access_key_id)},
        {"SecretAccessKey", out->secret_access_key, sizeof(out->secret_access_key)},
        {"SessionToken", out->session_token, sizeof(out->session_token)},
        {"Expiration", exp, sizeof(exp)},
    };

    memset(out, 0, sizeof(*out));
    if (xml_text(text, len, "Code", code, sizeof(code)) == 0) {
        if (xml_text(text, len, "Message", message, sizeof(message)) != 0)
            message[0] = '\0';
        return perr_set(err, PERR_AUTH, "STS %s: %s", code, message);
    }
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        int rc = xml_text(text, len, fields[i].tag, fields[i].dst, fields[i].cap);
        if (rc < 0) {
            creds_wipe(out);
            return perr_set(err, rc == -2 ? PERR_LIMIT : PERR_PARSE, "the STS response %s %s",
                            rc == -2 ? "has an oversized" : "has no", fields[i].tag);
        }
    }
    if (xml_text(text, len, "Arn", out->role_arn, sizeof(out->role_arn)) != 0)
        out->role_arn[0] = '\0';
    if (creds_parse_time(exp, &out->expiry_epoch_s, err) < 0) {
        creds_wipe(out);
        return perr_wrap(err, "the STS response's Expiration");
    }
    return 0;
}

const char *creds_region_from_env(const struct envlist *env)
{
    const char *r = envlist_get(env, "AWS_REGION");

    if (!r || !*r)
        r = envlist_get(env, "AWS_DEFAULT_REGION");
    return r && *r ? r : NULL;
}

int64_t creds_refresh_at(int64_t issued_s, int64_t expiry_s)
{
    int64_t half, lead, floor;

    if (!expiry_s)
        return 0;
    half = issued_s + (expiry_s - issued_s) / 2;
    lead = expiry_s - 30 * 60;
    /* Short-lived sets (30 minutes or less) would be "due" at once: wait a quarter of their
     * life instead of asking upstream in a loop. */
    floor = issued_s + (expiry_s - issued_s) / 4;
    lead = half < lead ? half : lead;
    return lead > floor ? lead : floor;
}
