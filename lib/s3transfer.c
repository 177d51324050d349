/* SPDX-License-Identifier: MIT */
/* A plan of whole objects and parts, transferred many at a time: downloads on the calling thread
 * (lib/http_parallel, as curl --parallel runs them), uploads by a few threads working a shared
 * queue (their bodies are read and signed per part). Progress is logged every few seconds. */
#include "lib/s3transfer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/http.h"
#include "lib/http_parallel.h"
#include "lib/log.h"
#include "lib/num.h"

#define DEFAULT_JOBS      16 /* requests at a time; the AWS CLI makes 10 */
#define DEFAULT_GET_PART  (8ULL << 20)
#define DEFAULT_PUT_PART  (16ULL << 20)
#define DEFAULT_THRESHOLD (64ULL << 20)
#define MAX_PART          (5ULL << 30) /* S3's largest part */
#define PROGRESS_EVERY_MS 5000

int s3transfer_opts_from_env(struct s3transfer_opts *o,
                             const struct envlist *env,
                             const char *what,
                             const char *phase,
                             struct perr *err)
{
    static const struct {
        const char *name;
        uint64_t min, max;
    } knobs[] = {{"PARITY_S3_CONCURRENCY", 1, S3TRANSFER_MAX_JOBS},
                 {"PARITY_S3_PART_SIZE", S3_MIN_PART, MAX_PART},
                 {"PARITY_S3_MULTIPART_THRESHOLD", S3_MIN_PART, UINT64_MAX}};

    uint64_t v[3] = {DEFAULT_JOBS, DEFAULT_PUT_PART, DEFAULT_THRESHOLD};

    for (size_t i = 0; i < 3; i++) {
        const char *text = envlist_get(env, knobs[i].name);
        if (text && num_parse_u64(text, knobs[i].min, knobs[i].max, &v[i], err) < 0)
            return perr_wrap(err, "%s", knobs[i].name);
    }
    *o = (struct s3transfer_opts){.jobs = (int)v[0],
                                  .get_part = DEFAULT_GET_PART,
                                  .put_part = v[1],
                                  .multipart_threshold = v[2],
                                  .what = what,
                                  .phase = phase};
    return 0;
}

/* One request's worth of work: a whole object, or one range or part of a large one. */
struct task {
    size_t item;
    unsigned part; /* 0-based */
    uint64_t off, len;
};

struct item_state {
    int fd;         /* open while parts are in flight, else -1 */
    unsigned parts; /* how many tasks the item has */
    unsigned done;
    bool finished;      /* renamed (download) or stored (upload) */
    char *upload_id;    /* multipart: the upload, else NULL */
    char (*etags)[128]; /* multipart: one per part */
};

struct transfer {
    struct s3_client s3; /* the caller's, counting bytes into `moved` */
    const char *bucket;
    struct s3transfer_item *items;
    struct item_state *state;
    size_t count;
    struct task *tasks;
    size_t ntasks;
    bool upload;
    uint64_t total;
    uint64_t moved;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a worker ended */
    size_t next;
    int running;
    bool failed;
    struct perr err; /* the first failure */
};

static void partial_path(const struct s3transfer_item *it, char *out, size_t len)
{
    snprintf(out, len, "%s.parity-partial", it->path);
}

/* Opens the item's file the first time one of its tasks starts. Called with the lock held:
 * only the first task of an item opens, and opens are quick. */
static int open_item(struct transfer *t, size_t i, struct perr *err)
{
    struct item_state *st = &t->state[i];
    char path[4300], *slash;

    if (st->fd >= 0 || (t->upload && !st->upload_id))
        return 0; /* open already, or a single PUT, which opens the file itself */
    if (t->upload) {
        st->fd = open(t->items[i].path, O_RDONLY | O_CLOEXEC);
        return st->fd < 0 ? perr_sys(err, "opening %s", t->items[i].path) : 0;
    }
    if ((size_t)snprintf(path, sizeof(path), "%s.parity-partial", t->items[i].path) >= sizeof(path))
        return perr_set(err, PERR_LIMIT, "the path %s is too long", t->items[i].path);
    slash = strrchr(path, '/');
    if (slash && slash != path) {
        *slash = '\0';
        if (fs_mkdirs(path, err) < 0)
            return -1;
        *slash = '/';
    }
    st->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return st->fd < 0 ? perr_sys(err, "creating %s", path) : 0;
}

/* The item's last part is in: close, then rename into place (download) or complete the
 * multipart upload (upload). Without the lock: completing is a request. */
static int finish_item(struct transfer *t, size_t i, int fd, struct perr *err)
{
    struct s3transfer_item *it = &t->items[i];
    struct item_state *st = &t->state[i];
    char partial[4300];

    if (t->upload) {
        if (fd >= 0)
            close(fd);
        if (!st->upload_id)
            return 0;
        return s3_mpu_complete(&t->s3, t->bucket, it->obj.key, st->upload_id, st->etags, st->parts,
                               err);
    }
    partial_path(it, partial, sizeof(partial));
    if (close(fd) < 0 || rename(partial, it->path) < 0) {
        int rc = perr_sys(err, "writing %s", partial);
        unlink(partial);
        return rc;
    }
    return 0;
}

static int run_upload_task(struct transfer *t, const struct task *k, int fd, struct perr *err)
{
    struct s3transfer_item *it = &t->items[k->item];
    struct item_state *st = &t->state[k->item];

    if (!st->upload_id)
        return s3_put_file(&t->s3, t->bucket, it->obj.key, it->path, err);
    return s3_mpu_part(&t->s3, t->bucket, it->obj.key, st->upload_id, k->part + 1, fd, k->off,
                       k->len, st->etags[k->part], err);
}

static void *upload_worker(void *arg)
{
    struct transfer *t = arg;

    pthread_mutex_lock(&t->mu);
    while (!t->failed && t->next < t->ntasks) {
        const struct task *k = &t->tasks[t->next++];
        struct item_state *st = &t->state[k->item];
        struct perr err = {0};
        int fd, rc = open_item(t, k->item, &err);
        fd = st->fd;
        pthread_mutex_unlock(&t->mu);
        if (rc == 0)
            rc = run_upload_task(t, k, fd, &err);
        pthread_mutex_lock(&t->mu);
        if (rc == 0 && ++st->done == st->parts) {
            st->fd = -1; /* this thread owns the fd now */
            pthread_mutex_unlock(&t->mu);
            rc = finish_item(t, k->item, fd, &err);
            pthread_mutex_lock(&t->mu);
            st->finished = rc == 0;
        }
        if (rc < 0 && !t->failed) {
            t->failed = true;
            t->err = err;
        }
    }
    t->running--;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void log_progress(struct transfer *t, const struct s3transfer_opts *o, uint64_t t0)
{
    uint64_t moved = __atomic_load_n(&t->moved, __ATOMIC_RELAXED);
    uint64_t ms = now_ms() - t0;

    log_info(o->phase, "progress %s %s bytes=%" PRIu64 " of=%" PRIu64 " percent=%u mib_s=%.1f",
             t->upload ? "uploading" : "downloading", o->what, moved, t->total,
             t->total ? (unsigned)(moved * 100 / t->total) : 100,
             ms ? (double)moved / (1 << 20) / ((double)ms / 1000) : 0.0);
}

/* Waits for the workers, logging progress every few seconds once the transfer is slow enough
 * for someone to wonder. */
static void wait_logging(struct transfer *t, const struct s3transfer_opts *o, uint64_t t0)
{
    pthread_mutex_lock(&t->mu);
    while (t->running > 0) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += PROGRESS_EVERY_MS / 1000;
        if (pthread_cond_timedwait(&t->cv, &t->mu, &until) == ETIMEDOUT && t->running > 0)
            log_progress(t, o, t0);
    }
    pthread_mutex_unlock(&t->mu);
}

static int run_uploads(struct transfer *t, const struct s3transfer_opts *o)
{
    pthread_t threads[S3TRANSFER_MAX_JOBS];
    pthread_condattr_t ca;
    int jobs = o->jobs < 1 ? 1 : o->jobs > S3TRANSFER_MAX_JOBS ? S3TRANSFER_MAX_JOBS : o->jobs;
    int started = 0;
    uint64_t t0 = now_ms();

    if ((size_t)jobs > t->ntasks)
        jobs = t->ntasks ? (int)t->ntasks : 1;
    http_global_init();
    pthread_mutex_init(&t->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    for (; started < jobs; started++) {
        pthread_mutex_lock(&t->mu);
        t->running++; /* before the thread exists: it may be done before we look again */
        pthread_mutex_unlock(&t->mu);
        if (pthread_create(&threads[started], NULL, upload_worker, t) != 0) {
            pthread_mutex_lock(&t->mu);
            t->running--;
            pthread_mutex_unlock(&t->mu);
            break;
        }
    }
    if (started == 0) {
        t->running = 1;
        upload_worker(t);
    }
    wait_logging(t, o, t0);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    return t->failed ? -1 : 0;
}

/* Downloads: one thread runs every request at once (lib/http_parallel), as curl --parallel
 * does; each slot is one request in flight (or waiting to try again), with its own buffer. */

/* Received bytes go to the file in writes of this size. Measured (bench/README.md): larger
 * writes make the page cache allocate larger folios, which on the benchmark VM cost up to three
 * times the CPU of 32 KiB ones; smaller ones cost more system calls. */
#define GET_BUFFER (32u << 10)

struct slot {
    const struct task *k;
    struct s3_get *g;     /* NULL: free */
    uint64_t start_at_ms; /* > 0: waiting to try again from then */
    char *buf;
};

struct downloads {
    struct transfer *t;
    struct http_parallel *p;
    struct slot slots[S3TRANSFER_MAX_JOBS];
    int nslots;
};

static void slot_failed(struct downloads *d, struct perr *err)
{
    if (!d->t->failed) {
        d->t->failed = true;
        d->t->err = *err;
    }
}

static void slot_release(struct slot *sl)
{
    s3_get_free(sl->g);
    sl->g = NULL;
    sl->k = NULL;
    sl->start_at_ms = 0;
}

/* Sends the slot's next attempt. */
static void slot_send(struct downloads *d, struct slot *sl)
{
    const struct http_request *req;
    const struct http_opts *opts;
    struct http_response *resp;
    struct perr err = {0};

    sl->start_at_ms = 0;
    if (s3_get_next(sl->g, &req, &opts, &resp, &err) < 0 ||
        http_parallel_add(d->p, req, opts, resp, sl, &err) < 0) {
        slot_failed(d, &err);
        slot_release(sl);
    }
}

/* Starts the next task in a free slot. */
static void slot_start(struct downloads *d, struct slot *sl)
{
    struct transfer *t = d->t;
    const struct task *k = &t->tasks[t->next++];
    struct item_state *st = &t->state[k->item];
    struct perr err = {0};

    if (open_item(t, k->item, &err) < 0) {
        slot_failed(d, &err);
        return;
    }
    sl->k = k;
    sl->g = s3_get_new(&t->s3, t->bucket, &t->items[k->item].obj, st->fd, k->off, k->len, sl->buf,
                       GET_BUFFER);
    if (!sl->g) {
        perr_set(&err, PERR_NOMEM, "out of memory downloading %s", t->items[k->item].obj.key);
        slot_failed(d, &err);
        return;
    }
    slot_send(d, sl);
}

static void on_get_done(void *ctx, void *tag, int rc, struct perr *err)
{
    struct downloads *d = ctx;
    struct slot *sl = tag;
    struct transfer *t = d->t;
    struct item_state *st = &t->state[sl->k->item];
    long pause_ms = 0;

    rc = s3_get_ended(sl->g, rc, err, &pause_ms);
    if (rc > 0 && !t->failed) {
        sl->start_at_ms = now_ms() + (uint64_t)pause_ms;
        return;
    }
    if (rc == 0 && ++st->done == st->parts) {
        int fd = st->fd;
        st->fd = -1; /* finish_item closes it */
        rc = finish_item(t, sl->k->item, fd, err);
        st->finished = rc == 0;
    }
    if (rc < 0)
        slot_failed(d, err);
    slot_release(sl);
}

static int run_downloads(struct transfer *t, const struct s3transfer_opts *o)
{
    struct downloads d = {.t = t};
    uint64_t t0 = now_ms(), next_log = t0 + PROGRESS_EVERY_MS;
    int jobs = o->jobs < 1 ? 1 : o->jobs > S3TRANSFER_MAX_JOBS ? S3TRANSFER_MAX_JOBS : o->jobs;
    struct perr err = {0};
    bool ok;

    d.nslots = (size_t)jobs > t->ntasks ? (int)t->ntasks : jobs;
    d.p = http_parallel_new();
    ok = d.p != NULL;
    for (int i = 0; i < d.nslots; i++) {
        d.slots[i].buf = malloc(GET_BUFFER);
        ok = ok && d.slots[i].buf;
    }
    if (!ok) {
        perr_set(&err, PERR_NOMEM, "out of memory starting %zu downloads", t->ntasks);
        slot_failed(&d, &err);
    }
    /* After a failure nothing new starts and what is in flight is dropped: the caller removes
     * the partial files. */
    while (!t->failed) {
        uint64_t now = now_ms(), wake = next_log;
        bool busy = false;
        for (int i = 0; i < d.nslots && !t->failed; i++) {
            struct slot *sl = &d.slots[i];
            if (!sl->g && t->next < t->ntasks)
                slot_start(&d, sl);
            else if (sl->g && sl->start_at_ms && sl->start_at_ms <= now)
                slot_send(&d, sl);
            if (sl->g && sl->start_at_ms && sl->start_at_ms < wake)
                wake = sl->start_at_ms;
            busy = busy || sl->g;
        }
        if (!busy || t->failed)
            break;
        (void)http_parallel_run(d.p, wake > now ? (long)(wake - now) : 0, on_get_done, &d);
        if (now_ms() >= next_log) {
            log_progress(t, o, t0);
            next_log += PROGRESS_EVERY_MS;
        }
    }
    http_parallel_free(d.p);
    for (int i = 0; i < d.nslots; i++) {
        s3_get_free(d.slots[i].g);
        free(d.slots[i].buf);
    }
    return t->failed ? -1 : 0;
}

/* Splits every item into tasks of at most `part` bytes (the whole object when part is 0). */
static int plan(struct transfer *t, const uint64_t *parts_of, struct perr *err)
{
    size_t n = 0;

    for (size_t i = 0; i < t->count; i++)
        n += t->state[i].parts;
    t->tasks = calloc(n ? n : 1, sizeof(*t->tasks));
    if (!t->tasks)
        return perr_set(err, PERR_NOMEM, "out of memory planning %zu transfers", n);
    for (size_t i = 0; i < t->count; i++) {
        uint64_t size = t->items[i].obj.size, part = parts_of[i];
        for (unsigned p = 0; p < t->state[i].parts; p++) {
            uint64_t off = part ? (uint64_t)p * part : 0;
            t->tasks[t->ntasks++] =
                (struct task){i, p, off, part && size - off > part ? part : size - off};
        }
        t->total += size;
    }
    return 0;
}

static int transfer_init(struct transfer *t,
                         const struct s3_client *s,
                         const char *bucket,
                         struct s3transfer_item *items,
                         size_t count,
                         bool upload,
                         struct perr *err)
{
    memset(t, 0, sizeof(*t));
    t->s3 = *s;
    t->s3.moved = &t->moved;
    t->bucket = bucket;
    t->items = items;
    t->count = count;
    t->upload = upload;
    t->state = calloc(count ? count : 1, sizeof(*t->state));
    if (!t->state)
        return perr_set(err, PERR_NOMEM, "out of memory planning %zu transfers", count);
    for (size_t i = 0; i < count; i++)
        t->state[i].fd = -1;
    return 0;
}

/* Closes what a failed transfer left open; a download's partial files go. */
static void transfer_cleanup(struct transfer *t)
{
    for (size_t i = 0; t->state && i < t->count; i++) {
        struct item_state *st = &t->state[i];
        if (st->fd >= 0) {
            close(st->fd);
            if (!t->upload) {
                char partial[4300];
                partial_path(&t->items[i], partial, sizeof(partial));
                unlink(partial);
            }
        }
        free(st->upload_id);
        free(st->etags);
    }
    free(t->state);
    free(t->tasks);
}

/* Splits each object into ranges of get_part bytes (small ones stay whole). */
static int prepare_downloads(struct transfer *t,
                             const struct s3transfer_opts *o,
                             uint64_t *parts_of,
                             struct perr *err)
{
    (void)err;
    for (size_t i = 0; i < t->count; i++) {
        uint64_t size = t->items[i].obj.size;
        bool ranged = o->get_part && size > o->get_part;
        parts_of[i] = ranged ? o->get_part : 0;
        t->state[i].parts = ranged ? (unsigned)((size + o->get_part - 1) / o->get_part) : 1;
    }
    return 0;
}

/* The part size for a file: the configured one, larger when 10,000 parts would not hold it. */
static uint64_t part_size_for(uint64_t size, uint64_t want)
{
    uint64_t min = (size + S3_MAX_PARTS - 1) / S3_MAX_PARTS;

    if (want < min)
        want = (min + (1 << 20) - 1) & ~(uint64_t)((1 << 20) - 1);
    return want;
}

/* Stats each file and starts the multipart uploads the large ones need. */
static int prepare_uploads(struct transfer *t,
                           const struct s3transfer_opts *o,
                           uint64_t *parts_of,
                           struct perr *err)
{
    for (size_t i = 0; i < t->count; i++) {
        struct s3transfer_item *it = &t->items[i];
        struct item_state *st = &t->state[i];
        struct stat sb;
        uint64_t size, part;
        if (stat(it->path, &sb) < 0)
            return perr_sys(err, "uploading %s", it->path);
        size = it->obj.size = (uint64_t)sb.st_size;
        st->parts = 1;
        if (size < o->multipart_threshold && size <= (5ULL << 30))
            continue;
        part = part_size_for(size, o->put_part);
        parts_of[i] = part;
        st->parts = size ? (unsigned)((size + part - 1) / part) : 1;
        st->upload_id = malloc(1024);
        st->etags = calloc(st->parts, sizeof(*st->etags));
        if (!st->upload_id || !st->etags)
            return perr_set(err, PERR_NOMEM, "out of memory planning the upload of %s", it->path);
        if (s3_mpu_create(&t->s3, t->bucket, it->obj.key, st->upload_id, 1024, err) < 0) {
            free(st->upload_id);
            st->upload_id = NULL;
            return -1;
        }
    }
    return 0;
}

/* After a failure: the multipart uploads that were started and not completed are dropped. */
static void abort_unfinished(struct transfer *t, const struct s3transfer_opts *o)
{
    struct s3_client s3 = t->s3;
    uint64_t deadline = s3.deadline_ms ? __atomic_load_n(s3.deadline_ms, __ATOMIC_RELAXED) : 0;

    /* An abort leaves no parts behind to pay for: worth a few seconds past a stop budget. */
    if (deadline && deadline < now_ms() + 5000)
        deadline = now_ms() + 5000;
    s3.deadline_ms = &deadline;
    for (size_t i = 0; i < t->count; i++) {
        struct item_state *st = &t->state[i];
        struct perr err = {0};
        if (!st->upload_id || st->finished)
            continue;
        if (s3_mpu_abort(&s3, t->bucket, t->items[i].obj.key, st->upload_id, &err) < 0)
            log_warn(o->phase, "%s; its parts stay until a lifecycle rule removes them", err.msg);
        else
            log_info(o->phase, "aborted the multipart upload of s3://%s/%s", t->bucket,
                     t->items[i].obj.key);
    }
}

/* Plans, runs and cleans up one transfer either way. */
static int transfer(const struct s3_client *s,
                    const char *bucket,
                    struct s3transfer_item *items,
                    size_t count,
                    const struct s3transfer_opts *o,
                    bool upload,
                    uint64_t *bytes,
                    struct perr *err)
{
    struct transfer t;
    uint64_t *parts_of = calloc(count ? count : 1, sizeof(*parts_of));
    int rc;

    if (!parts_of)
        return perr_set(err, PERR_NOMEM, "out of memory planning a transfer of %zu files", count);
    rc = transfer_init(&t, s, bucket, items, count, upload, err);
    if (rc == 0)
        rc = upload ? prepare_uploads(&t, o, parts_of, err)
                    : prepare_downloads(&t, o, parts_of, err);
    if (rc == 0)
        rc = plan(&t, parts_of, err);
    if (rc == 0)
        rc = upload ? run_uploads(&t, o) : run_downloads(&t, o);
    if (rc < 0 && t.failed)
        *err = t.err;
    if (rc < 0 && upload && t.state)
        abort_unfinished(&t, o);
    *bytes = t.moved;
    transfer_cleanup(&t);
    free(parts_of);
    return rc;
}

int s3transfer_download(const struct s3_client *s,
                        const char *bucket,
                        struct s3transfer_item *items,
                        size_t count,
                        const struct s3transfer_opts *o,
                        uint64_t *bytes,
                        struct perr *err)
{
    return transfer(s, bucket, items, count, o, false, bytes, err);
}

int s3transfer_upload(const struct s3_client *s,
                      const char *bucket,
                      struct s3transfer_item *items,
                      size_t count,
                      const struct s3transfer_opts *o,
                      uint64_t *bytes,
                      struct perr *err)
{
    return transfer(s, bucket, items, count, o, true, bytes, err);
}
