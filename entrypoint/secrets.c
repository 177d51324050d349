/* SPDX-License-Identifier: MIT */
/* Secret references in the child's environment, resolved before it starts. */
#include "entrypoint/secrets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/secretref.h"
#include "lib/secrets.h"

struct pending {
    char name[256];
    struct secretref ref;
};

/* Appends ",NAME" to the note while it fits (names only: values never reach a log). */
static void note_name(char *names, size_t len, const char *name)
{
    size_t used = strlen(names), n = strlen(name);

    if (used + 1 + n >= len)
        return; /* the log line names as many as fit */
    if (used)
        names[used++] = ',';
    memcpy(names + used, name, n + 1);
}

/* Finds the references; the list is taken first because resolving edits env. Most
 * environments hold none, so nothing is allocated until one turns up. */
static int collect(struct envlist *env, struct pending **refs, size_t *count, struct perr *err)
{
    char *const *vars = envlist_array(env);

    *count = 0;
    for (size_t i = 0; vars && vars[i]; i++) {
        const char *eq = strchr(vars[i], '=');
        struct secretref ref;
        struct perr perr = {0};
        struct pending *grown;
        /* PARITY_* are parity-init's own settings: PARITY_CONFIG_URI names its document by ARN */
        if (!eq || (size_t)(eq - vars[i]) >= sizeof((*refs)->name) ||
            strncmp(vars[i], "PARITY_", 7) == 0 || strncmp(eq + 1, "arn:", 4) != 0)
            continue;
        if (secretref_parse(eq + 1, &ref, &perr) < 0)
            return perr_set(err, PERR_USAGE,
                            "%.*s (%.200s) looks like a secret reference but is not one: %s",
                            (int)(eq - vars[i]), vars[i], eq + 1, perr.msg);
        if (ref.kind == SECRETREF_NONE)
            continue;
        if (*count == SECRETS_MAX_REFS)
            return perr_set(err, PERR_LIMIT, "more than %d secret references in the environment",
                            SECRETS_MAX_REFS);
        grown = realloc(*refs, (*count + 1) * sizeof(**refs));
        if (!grown)
            return perr_set(err, PERR_NOMEM, "out of memory listing secret references");
        *refs = grown;
        snprintf(grown[*count].name, sizeof(grown[0].name), "%.*s", (int)(eq - vars[i]), vars[i]);
        grown[(*count)++].ref = ref;
    }
    return 0;
}

int secrets_resolve(struct envlist *env,
                    const struct creds *c,
                    bool explain,
                    char *note,
                    size_t note_len,
                    struct perr *err)
{
    const char *mode = envlist_get(env, "PARITY_SECRETS");
    struct pending *refs = NULL;
    char names[256] = "";
    size_t count;
    int rc = 0;

    if (mode && strcmp(mode, "off") == 0) {
        snprintf(note, note_len, " secrets=off");
        return 0;
    }
    if (mode && *mode && strcmp(mode, "on") != 0)
        return perr_set(err, PERR_USAGE, "PARITY_SECRETS must be on or off, not '%s'", mode);
    rc = collect(env, &refs, &count, err);
    for (size_t i = 0; rc == 0 && !explain && i < count; i++) {
        const struct secretref *ref = &refs[i].ref;
        char endpoint[1024], code[128] = "";
        struct buf value;
        if (!c) {
            rc = perr_set(err, PERR_AUTH,
                          "%s refers to %s, but parity-init has no AWS credentials to fetch it "
                          "(see docs/credentials.md)",
                          refs[i].name, ref->arn);
            break;
        }
        secretref_endpoint(ref, env, endpoint, sizeof(endpoint));
        buf_init(&value, SECRETS_MAX_VALUE);
        rc = secrets_fetch(ref, endpoint, c, &value, code, err);
        if (rc == 0)
            rc = envlist_set(env, refs[i].name, value.data ? value.data : "", err);
        else
            perr_wrap(err, "%s (%s)", refs[i].name, ref->arn);
        if (value.data)
            explicit_bzero(value.data, value.len);
        buf_cleanup(&value);
        if (rc == 0)
            note_name(names, sizeof(names), refs[i].name);
    }
    if (rc == 0 && explain)
        snprintf(note, note_len, " references=%zu (explain: not resolved)", count);
    else if (rc == 0 && count)
        snprintf(note, note_len, " resolved=%zu vars=\"%s\"", count, names);
    else if (rc == 0)
        snprintf(note, note_len, " resolved=0");
    free(refs); /* ARNs and names: nothing secret to wipe */
    return rc;
}
