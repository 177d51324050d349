/* SPDX-License-Identifier: MIT */
/* Credentials provider: static keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. */
#include <stdlib.h>
#include <string.h>

#include "lib/creds.h"

struct env_provider {
    struct creds_provider base;
    struct creds keys;
};

static int env_get(struct creds_provider *p, struct creds *out, struct perr *err)
{
    (void)err;
    *out = ((struct env_provider *)p)->keys;
    return 0;
}

static void env_free(struct creds_provider *p)
{
    creds_wipe(&((struct env_provider *)p)->keys);
    free(p);
}

static int copy(char *dst, size_t cap, const char *src, const char *name, struct perr *err)
{
    if (strlen(src) >= cap)
        return perr_set(err, PERR_LIMIT, "%s is longer than %zu bytes", name, cap - 1);
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

struct creds_provider *creds_env_new(const struct envlist *env, struct perr *err)
{
    const char *ak = envlist_get(env, "AWS_ACCESS_KEY_ID");
    const char *sk = envlist_get(env, "AWS_SECRET_ACCESS_KEY");
    const char *token = envlist_get(env, "AWS_SESSION_TOKEN");
    struct env_provider *p;

    if (!ak || !*ak || !sk || !*sk) {
        perr_set(err, PERR_AUTH, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set");
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (!p) {
        perr_set(err, PERR_NOMEM, "out of memory");
        return NULL;
    }
    p->base = (struct creds_provider){.name = "environment", .get = env_get, .free = env_free};
    if (copy(p->keys.access_key_id, sizeof(p->keys.access_key_id), ak, "AWS_ACCESS_KEY_ID", err) <
            0 ||
        copy(p->keys.secret_access_key, sizeof(p->keys.secret_access_key), sk,
             "AWS_SECRET_ACCESS_KEY", err) < 0 ||
        copy(p->keys.session_token, sizeof(p->keys.session_token), token ? token : "",
             "AWS_SESSION_TOKEN", err) < 0) {
        env_free(&p->base);
        return NULL;
    }
    return &p->base;
}
