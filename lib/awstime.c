/* SPDX-License-Identifier: MIT */
/* A corrected clock for SigV4 (±15 minutes is all AWS allows). */
#include "lib/awstime.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static awstime_clock_fn *clock_fn;
static _Atomic int64_t offset_s;

void awstime_set_clock(awstime_clock_fn *fn)
{
    clock_fn = fn;
    atomic_store(&offset_s, 0);
}

static int64_t raw_now(void)
{
    return clock_fn ? clock_fn() : (int64_t)time(NULL);
}

int64_t awstime_now(void)
{
    return raw_now() + atomic_load(&offset_s);
}

void awstime_amz_date(int64_t t, char out[17])
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

bool awstime_is_skew_error(const char *body)
{
    return body && (strstr(body, "RequestTimeTooSkewed") || strstr(body, "Signature expired") ||
                    strstr(body, "Signature not yet current"));
}

int64_t awstime_correct_from_date(const char *http_date)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char mon[4];
    struct tm tm = {0};
    int day, year, h, m, s;
    const char *hit;

    /* IMF-fixdate (RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT" */
    if (!http_date ||
        sscanf(http_date, "%*3s, %d %3s %d %d:%d:%d GMT", &day, mon, &year, &h, &m, &s) != 6)
        return 0;
    mon[3] = '\0';
    hit = strstr(months, mon);
    if (!hit || (hit - months) % 3 != 0)
        return 0;
    tm.tm_mday = day;
    tm.tm_mon = (int)((hit - months) / 3);
    tm.tm_year = year - 1900;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = s;
    int64_t off = (int64_t)timegm(&tm) - raw_now();
    atomic_store(&offset_s, off);
    return off;
}
