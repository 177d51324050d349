/* SPDX-License-Identifier: MIT */
/* Capability names through libcap, so the list follows the library, not a table of ours. */
#include "lib/caps.h"

#include <ctype.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>

#include <sys/capability.h>

uint64_t caps_runtime_default(void)
{
    static const int defaults[] = {
        CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
        CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
        CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
        CAP_KILL,    CAP_AUDIT_WRITE,
    };
    uint64_t mask = 0;

    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        mask |= 1ULL << defaults[i];
    return mask;
}

int caps_from_name(const char *name, int *cap, struct perr *err)
{
    char lower[64];
    cap_value_t v;
    size_t n = 0;

    if (strncasecmp(name, "CAP_", 4) != 0)
        n = (size_t)snprintf(lower, sizeof(lower), "cap_");
    for (const char *p = name; *p && n < sizeof(lower) - 1; p++)
        lower[n++] = (char)tolower((unsigned char)*p);
    lower[n] = '\0';
    if (cap_from_name(lower, &v) < 0 || v < 0 || v > 63)
        return perr_set(err, PERR_USAGE, "unknown capability '%s'", name);
    *cap = (int)v;
    return 0;
}

static int add_name(const char *name, uint64_t *mask, const char *where, struct perr *err)
{
    int cap;

    if (caps_from_name(name, &cap, err) < 0)
        return perr_wrap(err, "%s", where);
    *mask |= 1ULL << cap;
    return 0;
}

int caps_mask_from_list(
    const struct jdoc *list, const char *text, uint64_t *mask, const char *where, struct perr *err)
{
    char name[64];

    *mask = 0;
    if (list) {
        if (list->type != JDOC_ARRAY)
            return perr_set(err, PERR_PARSE, "%s must be a list of capability names", where);
        for (size_t i = 0; i < list->count; i++) {
            if (list->items[i]->type != JDOC_STRING)
                return perr_set(err, PERR_PARSE, "%s[%zu] must be a capability name", where, i);
            if (add_name(list->items[i]->text, mask, where, err) < 0)
                return -1;
        }
        return 0;
    }
    for (const char *p = text; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n && n < sizeof(name)) {
            snprintf(name, sizeof(name), "%.*s", (int)n, p);
            if (add_name(name, mask, where, err) < 0)
                return -1;
        }
        p += n + (p[n] == ',');
    }
    return 0;
}

int caps_last_cap(void)
{
    int last = (int)cap_max_bits() - 1;

    return last > 63 ? 63 : last;
}
