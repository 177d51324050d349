/* SPDX-License-Identifier: MIT */
/* s3:// input channels: list, check every key, then download them all (lib/s3transfer). */
#include "entrypoint/channels.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/s3.h"
#include "lib/s3transfer.h"

#define CHANNELS_MAX_OBJECTS 1000000

struct listing {
    struct s3_object *objects;
    size_t count, cap;
    const char *prefix;
    const char *channel;
};

static int collect(void *ctx, const struct s3_object *o, struct perr *err)
{
    struct listing *l = ctx;
    const char *rel;

    if (s3_relative_path(l->prefix, o->key, &rel, err) < 0)
        return -1;
    if (rel[strlen(rel) - 1] == '/')
        return 0; /* a folder marker: folders come with their files */
    if (l->count == CHANNELS_MAX_OBJECTS)
        return perr_set(err, PERR_LIMIT, "channel %s has more than %d objects", l->channel,
                        CHANNELS_MAX_OBJECTS);
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct s3_object *grown = realloc(l->objects, cap * sizeof(*grown));
        if (!grown)
            return perr_set(err, PERR_NOMEM, "out of memory listing channel %s", l->channel);
        l->objects = grown;
        l->cap = cap;
    }
    l->objects[l->count++] = *o;
    return 0;
}

/* The items to download: each listed object and its path below the folder. */
static int plan_items(const struct listing *l,
                      const char *folder,
                      struct s3transfer_item **out,
                      struct perr *err)
{
    struct s3transfer_item *items = calloc(l->count ? l->count : 1, sizeof(*items));

    if (!items)
        return perr_set(err, PERR_NOMEM, "out of memory planning channel %s", l->channel);
    *out = items;
    for (size_t i = 0; i < l->count; i++) {
        const char *rel;
        items[i].obj = l->objects[i];
        if (s3_relative_path(l->prefix, l->objects[i].key, &rel, err) < 0)
            return -1;
        if (asprintf(&items[i].path, "%s/%s", folder, rel) < 0) {
            items[i].path = NULL;
            return perr_set(err, PERR_NOMEM, "out of memory planning channel %s", l->channel);
        }
    }
    return 0;
}

static void free_items(struct s3transfer_item *items, size_t count)
{
    for (size_t i = 0; items && i < count; i++)
        free(items[i].path);
    free(items);
}

static int download_channel(const struct jobspec_channel *ch,
                            const char *root,
                            const struct channels_host *host,
                            const struct s3_client *s3,
                            const struct s3transfer_opts *base,
                            size_t *objects,
                            uint64_t *bytes,
                            struct perr *err)
{
    char bucket[64], prefix[S3_MAX_KEY + 1], folder[4200], what[256];
    struct listing l = {.prefix = prefix, .channel = ch->name};
    struct s3transfer_opts o = *base;
    struct s3transfer_item *items = NULL;
    bool sharded = ch->distribution && strcmp(ch->distribution, "ShardedByS3Key") == 0;
    uint64_t got = 0;
    int rc;

    if (ch->mode && strcmp(ch->mode, "Pipe") == 0)
        return perr_set(err, PERR_USAGE,
                        "channel %s: Pipe mode exists only on SageMaker; use File or FastFile",
                        ch->name);
    if (s3_parse_uri(ch->uri, bucket, prefix, err) < 0)
        return perr_wrap(err, "channel %s", ch->name);
    snprintf(folder, sizeof(folder), "%s/input/data/%s", root, ch->name);
    snprintf(what, sizeof(what), "channel=%s", ch->name);
    o.what = what;
    rc = s3_list(s3, bucket, prefix, collect, &l, err);
    if (rc == 0 && sharded) {
        /* every count-th object in key order, starting at this host's index */
        size_t kept = 0;
        size_t step = host->count > 0 ? (size_t)host->count : 1;
        for (size_t i = (size_t)host->index; i < l.count; i += step)
            l.objects[kept++] = l.objects[i];
        l.count = kept;
    }
    if (rc == 0)
        rc = plan_items(&l, folder, &items, err);
    if (rc == 0)
        rc = s3transfer_download(s3, bucket, items, l.count, &o, &got, err);
    if (rc < 0)
        perr_wrap(err, "channel %s", ch->name);
    *objects += l.count;
    *bytes += got;
    free_items(items, l.count);
    free(l.objects);
    return rc;
}

int channels_download(const struct jobspec *js,
                      const char *root,
                      const struct channels_host *host,
                      const struct envlist *env,
                      const struct creds *c,
                      char *note,
                      size_t note_len,
                      struct perr *err)
{
    struct s3_client s3;
    struct s3transfer_opts o;
    size_t objects = 0;
    uint64_t bytes = 0;
    bool any = false;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < js->channel_count; i++) {
        const struct jobspec_channel *ch = &js->channels[i];
        if (strncmp(ch->uri, "s3://", 5) != 0)
            continue;
        if (!any && s3_client_init(&s3, env, c, err) < 0)
            return perr_wrap(err, "channel %s (%s)", ch->name, ch->uri);
        if (!any && s3transfer_opts_from_env(&o, env, "", "materialize", err) < 0)
            return -1;
        any = true;
        rc = download_channel(ch, root, host, &s3, &o, &objects, &bytes, err);
    }
    if (rc == 0 && any)
        snprintf(note, note_len, " objects=%zu bytes=%" PRIu64, objects, bytes);
    return rc;
}
