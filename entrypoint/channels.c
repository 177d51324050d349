/* SPDX-License-Identifier: MIT */
/* s3:// input channels: list, check every key, then download with a few threads. */
#include "entrypoint/channels.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fsutil.h"
#include "lib/http.h"
#include "lib/num.h"
#include "lib/s3.h"

#define CHANNELS_MAX_OBJECTS  1000000
#define CHANNELS_DEFAULT_JOBS 8
#define CHANNELS_MAX_JOBS     64

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

struct download {
    const struct s3_client *s3;
    const char *bucket;
    const char *folder; /* ROOT/input/data/<channel> */
    const char *prefix;
    const struct s3_object *objects;
    size_t count;
    pthread_mutex_t mu;
    size_t next;
    uint64_t bytes;
    bool failed;
    struct perr err; /* the first failure */
};

/* Downloads one object below the folder, making its parent folders. */
static int fetch_one(struct download *d, const struct s3_object *o, struct perr *err)
{
    char path[8192], *slash;
    const char *rel;

    if (s3_relative_path(d->prefix, o->key, &rel, err) < 0)
        return -1;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", d->folder, rel) >= sizeof(path))
        return perr_set(err, PERR_LIMIT, "the path for key '%s' is too long", o->key);
    slash = strrchr(path, '/');
    *slash = '\0';
    if (fs_mkdirs(path, err) < 0)
        return -1;
    *slash = '/';
    return s3_get_file(d->s3, d->bucket, o, path, err);
}

static void *worker(void *arg)
{
    struct download *d = arg;

    for (;;) {
        struct perr err = {0};
        size_t i;
        pthread_mutex_lock(&d->mu);
        i = d->failed ? d->count : d->next++;
        pthread_mutex_unlock(&d->mu);
        if (i >= d->count)
            return NULL;
        int rc = fetch_one(d, &d->objects[i], &err);
        pthread_mutex_lock(&d->mu);
        if (rc < 0 && !d->failed) {
            d->failed = true;
            d->err = err;
        } else if (rc == 0) {
            d->bytes += d->objects[i].size;
        }
        pthread_mutex_unlock(&d->mu);
    }
}

/* PARITY_S3_CONCURRENCY: downloads at a time, 1 to CHANNELS_MAX_JOBS. */
static int jobs_from_env(const struct envlist *env, long *jobs, struct perr *err)
{
    const char *v = envlist_get(env, "PARITY_S3_CONCURRENCY");
    uint64_t n = CHANNELS_DEFAULT_JOBS;

    if (v && num_parse_u64(v, 1, CHANNELS_MAX_JOBS, &n, err) < 0)
        return perr_wrap(err, "PARITY_S3_CONCURRENCY");
    *jobs = (long)n;
    return 0;
}

/* Runs the downloads on `jobs` threads, all joined before returning: the child must start
 * while PID 1 has a single thread (spawn shares its memory). */
static int download_all(struct download *d, long jobs, struct perr *err)
{
    pthread_t threads[CHANNELS_MAX_JOBS];
    long started = 0;

    http_global_init();
    pthread_mutex_init(&d->mu, NULL);
    if (jobs > (long)d->count)
        jobs = d->count ? (long)d->count : 1;
    for (; started < jobs; started++) {
        if (pthread_create(&threads[started], NULL, worker, d) != 0)
            break;
    }
    if (started == 0)
        worker(d);
    for (long i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&d->mu);
    if (d->failed) {
        *err = d->err;
        return -1;
    }
    return 0;
}

static int download_channel(const struct jobspec_channel *ch,
                            const char *root,
                            const struct channels_host *host,
                            const struct s3_client *s3,
                            long jobs,
                            size_t *objects,
                            uint64_t *bytes,
                            struct perr *err)
{
    char bucket[64], prefix[S3_MAX_KEY + 1], folder[4200];
    struct listing l = {.prefix = prefix, .channel = ch->name};
    struct download d = {.s3 = s3, .bucket = bucket, .folder = folder, .prefix = prefix};
    bool sharded = ch->distribution && strcmp(ch->distribution, "ShardedByS3Key") == 0;
    int rc;

    if (ch->mode && strcmp(ch->mode, "Pipe") == 0)
        return perr_set(err, PERR_USAGE,
                        "channel %s: Pipe mode exists only on SageMaker; use File or FastFile",
                        ch->name);
    if (s3_parse_uri(ch->uri, bucket, prefix, err) < 0)
        return perr_wrap(err, "channel %s", ch->name);
    snprintf(folder, sizeof(folder), "%s/input/data/%s", root, ch->name);
    rc = s3_list(s3, bucket, prefix, collect, &l, err);
    if (rc == 0 && sharded) {
        /* every count-th object in key order, starting at this host's index */
        size_t kept = 0;
        size_t step = host->count > 0 ? (size_t)host->count : 1;
        for (size_t i = (size_t)host->index; i < l.count; i += step)
            l.objects[kept++] = l.objects[i];
        l.count = kept;
    }
    if (rc == 0) {
        d.objects = l.objects;
        d.count = l.count;
        rc = download_all(&d, jobs, err);
    }
    if (rc < 0)
        perr_wrap(err, "channel %s", ch->name);
    *objects += d.count;
    *bytes += d.bytes;
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
    size_t objects = 0;
    uint64_t bytes = 0;
    long jobs = CHANNELS_DEFAULT_JOBS;
    bool any = false;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < js->channel_count; i++) {
        const struct jobspec_channel *ch = &js->channels[i];
        if (strncmp(ch->uri, "s3://", 5) != 0)
            continue;
        if (!any && s3_client_init(&s3, env, c, err) < 0)
            return perr_wrap(err, "channel %s (%s)", ch->name, ch->uri);
        if (!any && jobs_from_env(env, &jobs, err) < 0)
            return -1;
        any = true;
        rc = download_channel(ch, root, host, &s3, jobs, &objects, &bytes, err);
    }
    if (rc == 0 && any)
        snprintf(note, note_len, " objects=%zu bytes=%" PRIu64, objects, bytes);
    return rc;
}
