/* SPDX-License-Identifier: MIT */
/* Checkpoint restore and sync: a record of what S3 holds from us, compared with the folder. */
#include "entrypoint/checkpoints.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/num.h"

#define PHASE              "checkpoints"
#define DEFAULT_INTERVAL_S 60
#define MAX_FILES          1000000
#define MAX_DEPTH          64

struct checkpoint_file {
    char *rel; /* path below the folder, which is also the key below the prefix */
    uint64_t size;
    int64_t mtime_ns;
};

struct file_list {
    struct checkpoint_file *files;
    size_t count, cap;
};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void list_free(struct file_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->files[i].rel);
    free(l->files);
    *l = (struct file_list){0};
}

static int64_t mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static int list_add(struct file_list *l, const char *rel, const struct stat *st, struct perr *err)
{
    if (l->count == MAX_FILES)
        return perr_set(err, PERR_LIMIT, "more than %d checkpoint files", MAX_FILES);
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct checkpoint_file *grown = realloc(l->files, cap * sizeof(*grown));
        if (!grown)
            return perr_set(err, PERR_NOMEM, "out of memory listing checkpoints");
        l->files = grown;
        l->cap = cap;
    }
    l->files[l->count].rel = strdup(rel);
    if (!l->files[l->count].rel)
        return perr_set(err, PERR_NOMEM, "out of memory listing checkpoints");
    l->files[l->count].size = (uint64_t)st->st_size;
    l->files[l->count].mtime_ns = mtime_ns(st);
    l->count++;
    return 0;
}

static int by_rel(const void *a, const void *b)
{
    return strcmp(((const struct checkpoint_file *)a)->rel,
                  ((const struct checkpoint_file *)b)->rel);
}

/* Every regular file below dir/rel (links are not followed; partial downloads are skipped). */
static int walk(const char *dir, const char *rel, int depth, struct file_list *l, struct perr *err)
{
    char path[8192];
    DIR *d;
    struct dirent *de;
    int rc = 0;

    if (depth > MAX_DEPTH)
        return perr_set(err, PERR_LIMIT, "%s/%s: folders nested deeper than %d", dir, rel,
                        MAX_DEPTH);
    snprintf(path, sizeof(path), "%s%s%s", dir, *rel ? "/" : "", rel);
    d = opendir(path);
    if (!d)
        return errno == ENOENT && !*rel ? 0 : perr_sys(err, "reading %s", path);
    while (rc == 0 && (de = readdir(d))) {
        char sub[4096];
        struct stat st;
        size_t n = strlen(de->d_name);
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (n > 15 && !strcmp(de->d_name + n - 15, ".parity-partial"))
            continue;
        if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name) >=
            sizeof(sub) - 1)
            rc = perr_set(err, PERR_LIMIT, "a checkpoint path under %s is too long", path);
        else if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            rc = errno == ENOENT ? 0 : perr_sys(err, "reading %s/%s", path, de->d_name);
        else if (S_ISDIR(st.st_mode))
            rc = walk(dir, sub, depth + 1, l, err);
        else if (S_ISREG(st.st_mode))
            rc = list_add(l, sub, &st, err);
    }
    closedir(d);
    return rc;
}

static int client(struct checkpoints *ck, struct s3_client *s3, struct creds *c, struct perr *err)
{
    if (ck->creds)
        credserver_snapshot(ck->creds, c);
    if (s3_client_init(s3, ck->env, ck->creds ? c : NULL, err) < 0)
        return -1;
    s3->deadline_ms = ck->deadline_ms;
    return 0;
}

/* The objects a restore downloads, and where. */
struct restore_list {
    struct s3transfer_item *items;
    size_t count, cap;
    struct checkpoints *ck;
};

static int collect(void *ctx, const struct s3_object *o, struct perr *err)
{
    struct restore_list *l = ctx;
    const char *rel;

    if (s3_relative_path(l->ck->prefix, o->key, &rel, err) < 0)
        return -1;
    if (rel[strlen(rel) - 1] == '/')
        return 0; /* a folder marker */
    if (l->count == MAX_FILES)
        return perr_set(err, PERR_LIMIT, "more than %d checkpoint objects", MAX_FILES);
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct s3transfer_item *grown = realloc(l->items, cap * sizeof(*grown));
        if (!grown)
            return perr_set(err, PERR_NOMEM, "out of memory listing checkpoints");
        l->items = grown;
        l->cap = cap;
    }
    l->items[l->count].obj = *o;
    if (asprintf(&l->items[l->count].path, "%s/%s", l->ck->dir, rel) < 0)
        return perr_set(err, PERR_NOMEM, "out of memory listing checkpoints");
    l->count++;
    return 0;
}

/* Records what the store holds from us: l, sorted, taken over. */
static void set_known(struct checkpoints *ck, struct file_list *l)
{
    qsort(l->files, l->count, sizeof(*l->files), by_rel);
    ck->known = l->files;
    ck->known_count = l->count;
}

/* What S3 holds from us after a restore: each restored file as it now is on disk. */
static int record_restored(struct checkpoints *ck,
                           const struct s3transfer_item *items,
                           size_t count,
                           struct perr *err)
{
    struct file_list l = {0};
    size_t dir_len = strlen(ck->dir);

    for (size_t i = 0; i < count; i++) {
        struct stat st;
        if (stat(items[i].path, &st) < 0)
            continue;
        if (list_add(&l, items[i].path + dir_len + 1, &st, err) < 0) {
            list_free(&l);
            return -1;
        }
    }
    set_known(ck, &l);
    return 0;
}

/* file:// checkpoints: the store folder's files copied into the local folder. */
static int restore_folder(struct checkpoints *ck, uint64_t *bytes, struct perr *err)
{
    struct file_list l = {0};
    int rc = walk(ck->store, "", 0, &l, err);

    for (size_t i = 0; rc == 0 && i < l.count; i++) {
        char src[8400], dst[8400];
        snprintf(src, sizeof(src), "%s/%s", ck->store, l.files[i].rel);
        snprintf(dst, sizeof(dst), "%s/%s", ck->dir, l.files[i].rel);
        rc = fs_copy_file(src, dst, err);
        *bytes += l.files[i].size;
        /* what the store holds from us: the copy as it is on disk now */
        struct stat st;
        if (rc == 0 && stat(dst, &st) == 0) {
            l.files[i].size = (uint64_t)st.st_size;
            l.files[i].mtime_ns = mtime_ns(&st);
        }
    }
    if (rc < 0) {
        list_free(&l);
        return -1;
    }
    set_known(ck, &l);
    return 0;
}

/* s3:// checkpoints: every object under the prefix downloaded into the local folder. */
static int restore_s3(struct checkpoints *ck, uint64_t *bytes, struct perr *err)
{
    struct restore_list l = {.ck = ck};
    struct s3_client s3;
    struct creds c = {0};
    int rc = client(ck, &s3, &c, err);

    if (rc == 0)
        rc = s3_list(&s3, ck->bucket, ck->prefix, collect, &l, err);
    if (rc == 0)
        rc = s3transfer_download(&s3, ck->bucket, l.items, l.count, &ck->opts, bytes, err);
    if (rc == 0)
        rc = record_restored(ck, l.items, l.count, err);
    for (size_t i = 0; i < l.count; i++)
        free(l.items[i].path);
    free(l.items);
    creds_wipe(&c);
    return rc;
}

int checkpoints_restore(struct checkpoints *ck,
                        const struct jobspec *js,
                        const char *root,
                        const struct envlist *env,
                        struct credserver *creds,
                        const uint64_t *deadline_ms,
                        char *note,
                        size_t note_len,
                        struct perr *err)
{
    const char *uri = js->checkpoint_uri, *local = js->checkpoint_local_path;
    const char *v = envlist_get(env, "PARITY_CHECKPOINT_SECONDS");
    uint64_t interval_s = DEFAULT_INTERVAL_S, bytes = 0;
    size_t plen;
    int rc;

    if (!uri)
        return 0;
    if (v && num_parse_u64(v, 0, 7 * 86400, &interval_s, err) < 0)
        return perr_wrap(err, "PARITY_CHECKPOINT_SECONDS");
    ck->interval_ms = interval_s * 1000;
    ck->env = env;
    ck->creds = creds;
    ck->deadline_ms = deadline_ms;
    ck->uri = uri;
    if (strncmp(uri, "file://", 7) == 0) {
        snprintf(ck->store, sizeof(ck->store), "%s", uri + 7);
        plen = strlen(ck->store);
        while (plen > 1 && ck->store[plen - 1] == '/')
            ck->store[--plen] = '\0';
    } else if (s3_parse_uri(uri, ck->bucket, ck->prefix, err) < 0) {
        return perr_wrap(err, "checkpoints");
    }
    plen = strlen(ck->prefix);
    if (plen && ck->prefix[plen - 1] != '/') {
        if (plen == S3_MAX_KEY)
            return perr_set(err, PERR_LIMIT, "the checkpoint prefix is too long");
        ck->prefix[plen] = '/';
        ck->prefix[plen + 1] = '\0';
    }
    /* the folder as materialize made it: /opt/ml paths follow the ML root */
    if (strncmp(local, "/opt/ml", 7) == 0 && (local[7] == '/' || !local[7]))
        snprintf(ck->dir, sizeof(ck->dir), "%s%s", root, local + 7);
    else
        snprintf(ck->dir, sizeof(ck->dir), "%s", local);
    rc = s3transfer_opts_from_env(&ck->opts, env, "checkpoints", PHASE, err);
    if (rc == 0 && fs_mkdirs(ck->dir, err) < 0)
        rc = -1;
    if (rc == 0)
        rc = ck->store[0] ? restore_folder(ck, &bytes, err) : restore_s3(ck, &bytes, err);
    if (rc < 0)
        return perr_wrap(err, "restoring checkpoints from %s", uri);
    ck->active = true;
    snprintf(note, note_len, " checkpoints=%zu checkpoint_bytes=%" PRIu64, ck->known_count, bytes);
    return 0;
}

struct sync_stats {
    size_t uploaded, deleted;
    uint64_t bytes;
};

/* Puts the files now.files[idx[0..n)] where the checkpoint URI keeps them. */
static int store_put(struct checkpoints *ck,
                     const struct s3_client *s3,
                     const struct file_list *now,
                     const size_t *idx,
                     size_t n,
                     uint64_t *bytes,
                     struct perr *err)
{
    struct s3transfer_item *items;
    int rc = 0;

    if (ck->store[0]) {
        for (size_t k = 0; rc == 0 && k < n; k++) {
            char src[8400], dst[8400];
            snprintf(src, sizeof(src), "%s/%s", ck->dir, now->files[idx[k]].rel);
            snprintf(dst, sizeof(dst), "%s/%s", ck->store, now->files[idx[k]].rel);
            rc = fs_copy_file(src, dst, err);
            *bytes += rc == 0 ? now->files[idx[k]].size : 0;
        }
        return rc;
    }
    items = calloc(n ? n : 1, sizeof(*items));
    if (!items)
        return perr_set(err, PERR_NOMEM, "out of memory syncing checkpoints");
    for (size_t k = 0; rc == 0 && k < n; k++) {
        const char *rel = now->files[idx[k]].rel;
        if ((size_t)snprintf(items[k].obj.key, sizeof(items[k].obj.key), "%s%s", ck->prefix, rel) >=
                sizeof(items[k].obj.key) ||
            asprintf(&items[k].path, "%s/%s", ck->dir, rel) < 0) {
            items[k].path = NULL;
            rc = perr_set(err, PERR_LIMIT, "checkpoint %s: the key or path is too long", rel);
        }
    }
    if (rc == 0)
        rc = s3transfer_upload(s3, ck->bucket, items, n, &ck->opts, bytes, err);
    for (size_t k = 0; k < n; k++)
        free(items[k].path);
    free(items);
    return rc;
}

/* Removes what the checkpoint URI keeps as rel; already gone is fine. */
static int
store_delete(struct checkpoints *ck, const struct s3_client *s3, const char *rel, struct perr *err)
{
    char path[8400];

    if (ck->store[0]) {
        snprintf(path, sizeof(path), "%s/%s", ck->store, rel);
        return unlink(path) < 0 && errno != ENOENT ? perr_sys(err, "deleting %s", path) : 0;
    }
    if ((size_t)snprintf(path, sizeof(path), "%s%s", ck->prefix, rel) > S3_MAX_KEY)
        return 0; /* it could not have been stored either */
    return s3_delete(s3, ck->bucket, path, err);
}

/* One sync: upload what is new or changed since the store last got it, then delete what is
 * gone from the folder; the record then says the store holds the folder as walked. */
static int sync_once(struct checkpoints *ck, struct sync_stats *out, struct perr *err)
{
    struct file_list now = {0};
    size_t *changed = NULL, n = 0;
    struct s3_client s3;
    struct creds c = {0};
    int rc;

    *out = (struct sync_stats){0};
    /* one client, with the credentials of the moment, for the whole sync */
    rc = ck->store[0] ? 0 : client(ck, &s3, &c, err);
    if (rc == 0)
        rc = walk(ck->dir, "", 0, &now, err);
    if (rc == 0) {
        qsort(now.files, now.count, sizeof(*now.files), by_rel);
        changed = calloc(now.count ? now.count : 1, sizeof(*changed));
        if (!changed)
            rc = perr_set(err, PERR_NOMEM, "out of memory syncing checkpoints");
    }
    /* both lists are sorted: one pass finds the new and the changed */
    for (size_t i = 0, j = 0; rc == 0 && i < now.count; i++) {
        while (j < ck->known_count && strcmp(ck->known[j].rel, now.files[i].rel) < 0)
            j++;
        if (j == ck->known_count || strcmp(ck->known[j].rel, now.files[i].rel) != 0 ||
            ck->known[j].size != now.files[i].size ||
            ck->known[j].mtime_ns != now.files[i].mtime_ns)
            changed[n++] = i;
    }
    if (rc == 0 && n)
        rc = store_put(ck, &s3, &now, changed, n, &out->bytes, err);
    out->uploaded = rc == 0 ? n : 0;
    /* and the gone: what the store had from us and the folder no longer has */
    for (size_t i = 0, j = 0; rc == 0 && j < ck->known_count; j++) {
        while (i < now.count && strcmp(now.files[i].rel, ck->known[j].rel) < 0)
            i++;
        if (i < now.count && strcmp(now.files[i].rel, ck->known[j].rel) == 0)
            continue;
        rc = store_delete(ck, &s3, ck->known[j].rel, err);
        out->deleted += rc == 0;
    }
    if (rc == 0) {
        struct file_list old = {ck->known, ck->known_count, ck->known_count};
        list_free(&old);
        ck->known = now.files;
        ck->known_count = now.count;
        now = (struct file_list){0};
    }
    free(changed);
    list_free(&now);
    creds_wipe(&c);
    return rc;
}

/* Syncs and logs the outcome; `reason` says what asked for it. */
static int
sync_logged(struct checkpoints *ck, const char *reason, struct sync_stats *st, struct perr *err)
{
    uint64_t t0 = now_ms();

    if (sync_once(ck, st, err) < 0) {
        perr_wrap(err, "checkpoint sync (%s) to %s", reason, ck->uri);
        return -1;
    }
    log_at(st->uploaded || st->deleted ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG, PHASE,
           "synced reason=%s uploaded=%zu deleted=%zu bytes=%" PRIu64 " duration_ms=%" PRIu64,
           reason, st->uploaded, st->deleted, st->bytes, now_ms() - t0);
    return 0;
}

static void *sync_thread(void *arg)
{
    struct checkpoints *ck = arg;
    uint64_t next = ck->interval_ms ? now_ms() + ck->interval_ms : 0;

    pthread_mutex_lock(&ck->mu);
    while (!ck->stopping) {
        const char *reason = "interval";
        struct sync_stats st;
        struct perr err = {0};
        if (!ck->requested && (!next || now_ms() < next)) {
            struct timespec until = {(time_t)(next / 1000), (long)(next % 1000) * 1000000L};
            if (next)
                pthread_cond_timedwait(&ck->cv, &ck->mu, &until);
            else
                pthread_cond_wait(&ck->cv, &ck->mu);
            continue;
        }
        if (ck->requested)
            reason = "sigterm";
        ck->requested = false;
        pthread_mutex_unlock(&ck->mu);
        /* a failed sync is retried at the next one; the last one decides the exit status */
        if (sync_logged(ck, reason, &st, &err) < 0)
            log_warn(PHASE, "%s", err.msg);
        next = ck->interval_ms ? now_ms() + ck->interval_ms : 0;
        pthread_mutex_lock(&ck->mu);
    }
    pthread_mutex_unlock(&ck->mu);
    return NULL;
}

int checkpoints_start(struct checkpoints *ck, struct perr *err)
{
    pthread_condattr_t ca;
    int e;

    if (!ck->active)
        return 0;
    pthread_mutex_init(&ck->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ck->cv, &ca);
    pthread_condattr_destroy(&ca);
    e = pthread_create(&ck->thread, NULL, sync_thread, ck);
    if (e != 0) {
        errno = e;
        return perr_sys(err, "starting the checkpoint sync thread");
    }
    ck->thread_started = true;
    return 0;
}

void checkpoints_request(struct checkpoints *ck)
{
    if (!ck->thread_started)
        return;
    pthread_mutex_lock(&ck->mu);
    ck->requested = true;
    pthread_cond_signal(&ck->cv);
    pthread_mutex_unlock(&ck->mu);
}

static void stop_thread(struct checkpoints *ck)
{
    if (!ck->thread_started)
        return;
    pthread_mutex_lock(&ck->mu);
    ck->stopping = true;
    pthread_cond_signal(&ck->cv);
    pthread_mutex_unlock(&ck->mu);
    pthread_join(ck->thread, NULL);
    pthread_cond_destroy(&ck->cv);
    pthread_mutex_destroy(&ck->mu);
    ck->thread_started = false;
}

int checkpoints_finish(struct checkpoints *ck, struct perr *err)
{
    struct sync_stats st;

    if (!ck->active)
        return 0;
    stop_thread(ck);
    return sync_logged(ck, "exit", &st, err);
}

void checkpoints_cleanup(struct checkpoints *ck)
{
    struct file_list l = {ck->known, ck->known_count, ck->known_count};

    stop_thread(ck);
    list_free(&l);
    ck->known = NULL;
    ck->known_count = 0;
}
