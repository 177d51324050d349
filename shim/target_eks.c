/* SPDX-License-Identifier: MIT */
/* EKS (any Kubernetes): create the Job and Service, watch the Job, follow every pod's log, and
 * read the exit code from the containers' terminated state (contract/launcher-apis.md §2). */
#include "shim/target_eks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "shim/eks_manifest.h"
#include "shim/follow.h"
#include "shim/jobstate.h"
#include "shim/jsonout.h"
#include "shim/kube_client.h"
#include "shim/render.h"

#define MAX_PODS      256
#define WATCH_SECONDS 300 /* the server ends a watch; parity watches again from where it was */
#define LINE_MAX      65536

/* One pod whose log is followed, by a thread of its own. */
struct pod_log {
    char name[256];
    char host[32]; /* algo-N */
    pthread_t thread;
    struct eks_job *job;
};

/* A job being followed: the watcher thread's latest view, and the log threads. */
struct eks_job {
    struct cli *c;
    struct kube_config *k;
    const char *ns;
    const char *name;
    char uid[128];
    char rv[64];      /* the resourceVersion the Job's watch resumes from */
    char pod_rv[64];  /* and the pods' watch */
    char said[4096];  /* the waiting reasons printed already ("pod: reason\n"), under mu */
    uint64_t stop_at; /* 1: every stream stops now */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct jdoc *latest; /* the Job as last seen */
    unsigned generation; /* bumped at each change */
    bool watch_failed;
    struct perr watch_err;
    pthread_t watcher, pod_watcher;
    struct pod_log pods[MAX_PODS];
    size_t pod_count;
};

static void jobs_path(char *out, size_t len, const char *ns, const char *name, const char *query)
{
    snprintf(out, len, "/apis/batch/v1/namespaces/%s/jobs%s%s%s", ns, name ? "/" : "",
             name ? name : "", query ? query : "");
}

/* A Job's result: Complete or Failed, from its conditions; NULL while it runs. */
static const char *job_result(const struct jdoc *job, const char **reason, const char **message)
{
    const struct jdoc *conds = jdoc_get(jdoc_get(job, "status"), "conditions");

    for (size_t i = 0; conds && conds->type == JDOC_ARRAY && i < conds->count; i++) {
        const char *type = jdoc_get_str(conds->items[i], "type");
        const char *st = jdoc_get_str(conds->items[i], "status");
        if (type && st && !strcmp(st, "True") &&
            (!strcmp(type, "Complete") || !strcmp(type, "Failed"))) {
            *reason = jdoc_get_str(conds->items[i], "reason");
            *message = jdoc_get_str(conds->items[i], "message");
            return type;
        }
    }
    return NULL;
}

/* --- the watch ---------------------------------------------------------------------------- */

struct line_sink {
    struct buf line;
    void (*fn)(void *ctx, const char *line, size_t len);
    void *ctx;
};

static bool sink_lines(void *ctx, const char *data, size_t len)
{
    struct line_sink *s = ctx;
    struct perr ignored = {0};

    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n' || s->line.len + 1 >= LINE_MAX) {
            s->fn(s->ctx, s->line.data ? s->line.data : "", s->line.len);
            buf_reset(&s->line);
            if (data[i] == '\n')
                continue;
        }
        if (buf_append(&s->line, &data[i], 1, &ignored) < 0)
            return false;
    }
    return true;
}

static void take_job(struct eks_job *j, struct jdoc *job)
{
    const char *rv = jdoc_get_str(jdoc_get(job, "metadata"), "resourceVersion");

    pthread_mutex_lock(&j->mu);
    if (rv)
        snprintf(j->rv, sizeof(j->rv), "%s", rv);
    jdoc_free(j->latest);
    j->latest = job;
    j->generation++;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

struct watch_state {
    struct eks_job *j;
    bool gone; /* 410: the resourceVersion is too old */
};

static void on_watch_event(void *ctx, const char *line, size_t len)
{
    struct watch_state *w = ctx;
    struct perr ignored = {0};
    struct jdoc *ev = len ? jdoc_parse(line, len, NULL, &ignored) : NULL;
    const char *type = jdoc_get_str(ev, "type");
    struct jdoc *obj = jdoc_get(ev, "object");

    if (type && obj && !strcmp(type, "ERROR")) {
        const struct jdoc *code = jdoc_get(obj, "code");
        w->gone = code && code->type == JDOC_NUMBER && !strcmp(code->text, "410");
    } else if (type && obj && !strcmp(type, "BOOKMARK")) {
        const char *rv = jdoc_get_str(jdoc_get(obj, "metadata"), "resourceVersion");
        pthread_mutex_lock(&w->j->mu);
        if (rv)
            snprintf(w->j->rv, sizeof(w->j->rv), "%s", rv);
        pthread_mutex_unlock(&w->j->mu);
    } else if (type && obj &&
               (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED") || !strcmp(type, "DELETED"))) {
        struct jdoc *copy = jdoc_clone(obj, &ignored);
        if (copy)
            take_job(w->j, copy);
    }
    jdoc_free(ev);
}

/* GET the Job: its uid and a resourceVersion to watch from. */
static int get_job(struct eks_job *j, struct perr *err)
{
    char path[1024], msg[512];
    struct jdoc *job = NULL;
    long status = 0;

    jobs_path(path, sizeof(path), j->ns, j->name, NULL);
    if (kube_call(j->k, "GET", path, NULL, &status, &job, err) < 0)
        return -1;
    if (status != 200) {
        kube_status_message(job, status, msg, sizeof(msg));
        jdoc_free(job);
        return perr_set(err, status == 404 ? PERR_USAGE : PERR_HTTP, "job %s in %s: %s", j->name,
                        j->ns, msg);
    }
    const char *uid = jdoc_get_str(jdoc_get(job, "metadata"), "uid");
    snprintf(j->uid, sizeof(j->uid), "%s", uid ? uid : "");
    take_job(j, job);
    return 0;
}

static void *watcher(void *arg)
{
    struct eks_job *j = arg;

    while (!__atomic_load_n(&j->stop_at, __ATOMIC_RELAXED)) {
        struct watch_state w = {j, false};
        struct line_sink s = {.fn = on_watch_event, .ctx = &w};
        struct http_sink sink = {sink_lines, &s};
        struct perr err = {0};
        char path[1200], query[512];
        long status = 0;
        pthread_mutex_lock(&j->mu);
        snprintf(query, sizeof(query),
                 "?fieldSelector=metadata.name%%3D%s&watch=true&resourceVersion=%s"
                 "&allowWatchBookmarks=true&timeoutSeconds=%d",
                 j->name, j->rv, WATCH_SECONDS);
        pthread_mutex_unlock(&j->mu);
        jobs_path(path, sizeof(path), j->ns, NULL, query);
        buf_init(&s.line, LINE_MAX);
        int rc = kube_stream(j->k, path, &sink, &j->stop_at, &status, &err);
        buf_cleanup(&s.line);
        if (__atomic_load_n(&j->stop_at, __ATOMIC_RELAXED))
            break;
        /* too old a resourceVersion (410, in the stream or as the answer): list again */
        if (w.gone || status == 410) {
            if (get_job(j, &err) == 0)
                continue;
            rc = -1;
        } else if (rc == 0 && status != 200) {
            rc = perr_set(&err, PERR_HTTP, "watching job %s: HTTP %ld", j->name, status);
        }
        if (rc < 0) {
            pthread_mutex_lock(&j->mu);
            j->watch_failed = true;
            j->watch_err = err;
            pthread_cond_signal(&j->cv);
            pthread_mutex_unlock(&j->mu);
            break;
        }
    }
    return NULL;
}

/* --- pods and their logs ------------------------------------------------------------------ */

static void on_log_line(void *ctx, const char *line, size_t len)
{
    struct pod_log *p = ctx;

    follow_log(p->job->c, p->host, line, len);
}

static void *log_follower(void *arg)
{
    struct pod_log *p = arg;
    struct line_sink s = {.fn = on_log_line, .ctx = p};
    struct http_sink sink = {sink_lines, &s};
    struct perr err = {0};
    char path[1024];
    long status = 0;

    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s/log?container=%s&follow=true",
             p->job->ns, p->name, EKS_CONTAINER);
    buf_init(&s.line, LINE_MAX);
    if (kube_stream(p->job->k, path, &sink, &p->job->stop_at, &status, &err) < 0 &&
        !__atomic_load_n(&p->job->stop_at, __ATOMIC_RELAXED))
        fprintf(stderr, "parity: warning: the log of %s: %s\n", p->name, err.msg);
    if (s.line.len)
        follow_log(p->job->c, p->host, s.line.data, s.line.len);
    buf_cleanup(&s.line);
    return NULL;
}

/* algo-(index+1), from the completion index the Job controller gives Indexed pods. */
static void pod_host(const struct jdoc *pod, char *out, size_t len)
{
    const struct jdoc *meta = jdoc_get(pod, "metadata");
    const char *idx =
        jdoc_get_str(jdoc_get(meta, "labels"), "batch.kubernetes.io/job-completion-index");

    if (!idx)
        idx =
            jdoc_get_str(jdoc_get(meta, "annotations"), "batch.kubernetes.io/job-completion-index");
    snprintf(out, len, "algo-%ld", idx ? strtol(idx, NULL, 10) + 1 : 1L);
}

static const struct jdoc *main_container(const struct jdoc *pod)
{
    const struct jdoc *list = jdoc_get(jdoc_get(pod, "status"), "containerStatuses");

    for (size_t i = 0; list && list->type == JDOC_ARRAY && i < list->count; i++) {
        const char *n = jdoc_get_str(list->items[i], "name");
        if (n && !strcmp(n, EKS_CONTAINER))
            return list->items[i];
    }
    return NULL;
}

static int list_pods(struct eks_job *j, struct jdoc **out, struct perr *err)
{
    char path[1024], msg[512];
    long status = 0;

    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods?labelSelector=controller-uid%%3D%s",
             j->ns, j->uid);
    if (kube_call(j->k, "GET", path, NULL, &status, out, err) < 0)
        return -1;
    if (status != 200) {
        kube_status_message(*out, status, msg, sizeof(msg));
        jdoc_free(*out);
        *out = NULL;
        return perr_set(err, PERR_HTTP, "listing the pods of %s: %s", j->name, msg);
    }
    return 0;
}

/* ImagePullBackOff and friends look like a hang unless said: each once per pod. */
static void say_waiting(struct eks_job *j, const struct jdoc *pod)
{
    const char *name = jdoc_get_str(jdoc_get(pod, "metadata"), "name");
    const struct jdoc *state = jdoc_get(main_container(pod), "state");
    const char *waiting = jdoc_get_str(jdoc_get(state, "waiting"), "reason");
    char line[600];
    bool new_ = false;

    if (!name || !waiting || !strcmp(waiting, "ContainerCreating"))
        return;
    snprintf(line, sizeof(line), "%s: %s\n", name, waiting);
    pthread_mutex_lock(&j->mu);
    if (!strstr(j->said, line) && strlen(j->said) + strlen(line) < sizeof(j->said)) {
        strncat(j->said, line, sizeof(j->said) - strlen(j->said) - 1);
        new_ = true;
    }
    pthread_mutex_unlock(&j->mu);
    if (new_) {
        line[strlen(line) - 1] = '\0';
        follow_status(j->c, j->name, "Waiting", line);
    }
}

/* A change to one of the job's pods wakes the main loop, which lists them again: a waiting
 * reason such as ImagePullBackOff changes the pod, not the Job. */
struct pod_watch_state {
    struct eks_job *j;
    bool gone;   /* 410: list again */
    bool events; /* the stream carried something */
};

static void on_pod_event(void *ctx, const char *line, size_t len)
{
    struct pod_watch_state *w = ctx;
    struct perr ignored = {0};
    struct jdoc *ev = len ? jdoc_parse(line, len, NULL, &ignored) : NULL;
    const char *type = jdoc_get_str(ev, "type");
    const struct jdoc *obj = jdoc_get(ev, "object");
    const char *rv = jdoc_get_str(jdoc_get(obj, "metadata"), "resourceVersion");

    if (type && !strcmp(type, "ERROR")) {
        const struct jdoc *code = jdoc_get(obj, "code");
        w->gone = code && code->type == JDOC_NUMBER && !strcmp(code->text, "410");
    } else if (type) {
        w->events = true;
        if (obj)
            say_waiting(w->j, obj);
        pthread_mutex_lock(&w->j->mu);
        if (rv)
            snprintf(w->j->pod_rv, sizeof(w->j->pod_rv), "%s", rv);
        if (strcmp(type, "BOOKMARK") != 0) {
            w->j->generation++;
            pthread_cond_signal(&w->j->cv);
        }
        pthread_mutex_unlock(&w->j->mu);
    }
    jdoc_free(ev);
}

/* The pods' list resourceVersion: where their watch starts. */
static int pods_version(struct eks_job *j, struct perr *err)
{
    struct jdoc *pods = NULL;
    const char *rv;

    if (list_pods(j, &pods, err) < 0)
        return -1;
    rv = jdoc_get_str(jdoc_get(pods, "metadata"), "resourceVersion");
    pthread_mutex_lock(&j->mu);
    snprintf(j->pod_rv, sizeof(j->pod_rv), "%s", rv ? rv : "");
    pthread_mutex_unlock(&j->mu);
    jdoc_free(pods);
    return 0;
}

static void *pod_watcher(void *arg)
{
    struct eks_job *j = arg;
    int idle = 0;

    while (!__atomic_load_n(&j->stop_at, __ATOMIC_RELAXED)) {
        struct pod_watch_state w = {j, false, false};
        struct line_sink s = {.fn = on_pod_event, .ctx = &w};
        struct http_sink sink = {sink_lines, &s};
        struct perr err = {0};
        char path[1200];
        long status = 0;
        pthread_mutex_lock(&j->mu);
        snprintf(path, sizeof(path),
                 "/api/v1/namespaces/%s/pods?labelSelector=controller-uid%%3D%s&watch=true"
                 "&resourceVersion=%s&allowWatchBookmarks=true&timeoutSeconds=%d",
                 j->ns, j->uid, j->pod_rv, WATCH_SECONDS);
        pthread_mutex_unlock(&j->mu);
        buf_init(&s.line, LINE_MAX);
        int rc = kube_stream(j->k, path, &sink, &j->stop_at, &status, &err);
        buf_cleanup(&s.line);
        if (__atomic_load_n(&j->stop_at, __ATOMIC_RELAXED))
            break;
        if ((w.gone || status == 410) && pods_version(j, &err) == 0)
            continue;
        /* the server ended the watch: again from where it was (a server that ends every watch
         * at once leaves the pods to the Job's events) */
        idle = w.events ? 0 : idle + 1;
        if (rc == 0 && status == 200 && idle < 3)
            continue;
        if (rc < 0 || status != 200)
            fprintf(stderr,
                    "parity: warning: watching the pods of %s: %s; they are read at the "
                    "Job's changes\n",
                    j->name, rc < 0 ? err.msg : "the API server refused");
        break;
    }
    return NULL;
}

/* Starts following the log of every pod that has started; tells why a pod cannot start. */
static void follow_new_pods(struct eks_job *j, const struct jdoc *pods)
{
    const struct jdoc *items = jdoc_get(pods, "items");

    for (size_t i = 0; items && items->type == JDOC_ARRAY && i < items->count; i++) {
        const struct jdoc *pod = items->items[i];
        const char *name = jdoc_get_str(jdoc_get(pod, "metadata"), "name");
        const char *phase = jdoc_get_str(jdoc_get(pod, "status"), "phase");
        bool known = false;
        if (!name)
            continue;
        for (size_t k = 0; k < j->pod_count && !known; k++)
            known = !strcmp(j->pods[k].name, name);
        if (!known)
            say_waiting(j, pod);
        if (known || !phase || !strcmp(phase, "Pending") || j->pod_count == MAX_PODS)
            continue;
        struct pod_log *p = &j->pods[j->pod_count];
        snprintf(p->name, sizeof(p->name), "%s", name);
        pod_host(pod, p->host, sizeof(p->host));
        p->job = j;
        if (pthread_create(&p->thread, NULL, log_follower, p) == 0)
            j->pod_count++;
    }
}

/* The job's exit code: the first non-zero container exit (128+signal), by index; what failed
 * goes to why. */
static int exit_code_of(const struct jdoc *pods, const char *result, char *why, size_t why_len)
{
    const struct jdoc *items = jdoc_get(pods, "items");
    long best_index = -1;
    int code = 0;

    for (size_t i = 0; items && items->type == JDOC_ARRAY && i < items->count; i++) {
        const struct jdoc *pod = items->items[i];
        const struct jdoc *t = jdoc_get(jdoc_get(main_container(pod), "state"), "terminated");
        const struct jdoc *ec = jdoc_get(t, "exitCode"), *sig = jdoc_get(t, "signal");
        const char *preason = jdoc_get_str(jdoc_get(pod, "status"), "reason");
        char host[32];
        long c = ec && ec->type == JDOC_NUMBER ? strtol(ec->text, NULL, 10) : 0;
        pod_host(pod, host, sizeof(host));
        long index = strtol(host + 5, NULL, 10);
        if (!c && sig && sig->type == JDOC_NUMBER)
            c = 128 + strtol(sig->text, NULL, 10);
        if (!c && !preason)
            continue;
        if (best_index >= 0 && index >= best_index)
            continue;
        best_index = index;
        code = c ? (int)(c & 255) : 1;
        const char *reason = jdoc_get_str(t, "reason"), *msg = jdoc_get_str(t, "message");
        snprintf(why, why_len, "%s: %s%s%s", host,
                 preason  ? preason
                 : reason ? reason
                          : "Error",
                 msg ? ": " : "", msg ? msg : "");
    }
    if (!code && result && !strcmp(result, "Failed"))
        code = 1;
    return code;
}

/* Follows the job to its end; returns parity's exit status. */
static int follow_job(struct cli *c, struct kube_config *k, const char *ns, const char *name)
{
    struct eks_job *j = calloc(1, sizeof(*j));
    struct perr err = {0};
    struct jdoc *pods = NULL;
    char why[2048] = "", last_state[64] = "";
    const char *result = NULL, *reason = NULL, *message = NULL;
    unsigned seen = 0;
    int code = CLI_EXIT_FAILED;
    bool watching = false, pod_watching = false;

    if (!j)
        return CLI_EXIT_FAILED;
    *j = (struct eks_job){.c = c, .k = k, .ns = ns, .name = name};
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    follow_init();
    if (get_job(j, &err) < 0) {
        code = cli_fail(err.code == PERR_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_FAILED, &err);
        goto out;
    }
    watching = pthread_create(&j->watcher, NULL, watcher, j) == 0;
    pod_watching =
        pods_version(j, &err) == 0 && pthread_create(&j->pod_watcher, NULL, pod_watcher, j) == 0;
    for (;;) {
        struct jdoc *job;
        pthread_mutex_lock(&j->mu);
        while (j->generation == seen && !j->watch_failed && !follow_interrupted()) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1; /* only to notice Ctrl-C */
            pthread_cond_timedwait(&j->cv, &j->mu, &ts);
        }
        seen = j->generation;
        job = j->latest ? jdoc_clone(j->latest, &err) : NULL;
        bool failed = j->watch_failed;
        pthread_mutex_unlock(&j->mu);
        if (follow_interrupted()) {
            jdoc_free(job);
            code = follow_detached(c, name);
            goto out;
        }
        if (failed) {
            jdoc_free(job);
            code = cli_fail(CLI_EXIT_FAILED, &j->watch_err);
            goto out;
        }
        const struct jdoc *st = jdoc_get(job, "status");
        const struct jdoc *active = jdoc_get(st, "active");
        result = job_result(job, &reason, &message);
        const char *state =
            result                                                                    ? result
            : active && active->type == JDOC_NUMBER && strcmp(active->text, "0") != 0 ? "Running"
                                                                                      : "Pending";
        if (strcmp(state, last_state) != 0 && !result) {
            follow_status(c, name, state, NULL);
            snprintf(last_state, sizeof(last_state), "%s", state);
        }
        jdoc_free(pods);
        pods = NULL;
        if (list_pods(j, &pods, &err) == 0)
            follow_new_pods(j, pods);
        else
            fprintf(stderr, "parity: warning: %s\n", err.msg);
        if (result) {
            char r[256], m[512];
            snprintf(r, sizeof(r), "%s", result);
            snprintf(m, sizeof(m), "%s%s%s", reason ? reason : "", message ? ": " : "",
                     message ? message : "");
            jdoc_free(job);
            /* every log to its end (the pods have ended, so the streams do) */
            for (size_t i = 0; i < j->pod_count; i++)
                pthread_join(j->pods[i].thread, NULL);
            j->pod_count = 0;
            code = exit_code_of(pods, r, why, sizeof(why));
            follow_end(c, name, r, code, why[0] ? why : m);
            break;
        }
        jdoc_free(job);
    }
out:
    __atomic_store_n(&j->stop_at, 1, __ATOMIC_RELAXED); /* every stream ends now */
    for (size_t i = 0; i < j->pod_count; i++)
        pthread_join(j->pods[i].thread, NULL);
    if (watching)
        pthread_join(j->watcher, NULL);
    if (pod_watching)
        pthread_join(j->pod_watcher, NULL);
    jdoc_free(pods);
    jdoc_free(j->latest);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
    return code;
}

/* --- the verbs ----------------------------------------------------------------------------- */

static int open_cluster(struct cli *c, const char *context, struct kube_config *k, struct perr *err)
{
    return kube_config_load(k, &c->env, context && *context ? context : c->context, err);
}

/* The namespace: --namespace, the spec's, the record's, the context's, else "default". */
static const char *
pick_namespace(const struct cli *c, const char *given, const struct kube_config *k)
{
    if (c->namespace_ && *c->namespace_)
        return c->namespace_;
    if (given && *given)
        return given;
    return k->namespace_[0] ? k->namespace_ : "default";
}

static int create(struct kube_config *k,
                  const char *path,
                  const struct jdoc *obj,
                  const char *what,
                  struct perr *err)
{
    struct buf body;
    struct jdoc *answer = NULL;
    char msg[512];
    long status = 0;
    int rc;

    buf_init(&body, 8u * JOBSPEC_MAX_BYTES);
    rc = jo_write(&body, obj, false, err);
    if (rc == 0)
        rc = kube_call(k, "POST", path, body.data, &status, &answer, err);
    if (rc == 0 && status != 201 && status != 200) {
        kube_status_message(answer, status, msg, sizeof(msg));
        rc =
            perr_set(err, status == 409 ? PERR_USAGE : PERR_HTTP, "creating %s: %s%s", what, msg,
                     status == 409 ? ": give the spec a new name, or parity stop the old job" : "");
    }
    jdoc_free(answer);
    buf_cleanup(&body);
    return rc;
}

static int delete_object(struct kube_config *k, const char *path, struct perr *err)
{
    struct jdoc *answer = NULL;
    char msg[512];
    long status = 0;
    /* Background: the pods go too (the API's default for Jobs orphans them) */
    int rc = kube_call(k, "DELETE", path, "{\"propagationPolicy\": \"Background\"}", &status,
                       &answer, err);

    if (rc == 0 && status != 200 && status != 202 && status != 404) {
        kube_status_message(answer, status, msg, sizeof(msg));
        rc = perr_set(err, PERR_HTTP, "deleting %s: %s", path, msg);
    }
    jdoc_free(answer);
    return rc;
}

int eks_run(struct cli *c, const struct jobspec *js)
{
    struct kube_config k;
    struct perr err = {0};
    struct jdoc *list = NULL;
    char path[1024], svc_path[1024];
    int rc = open_cluster(c, NULL, &k, &err);
    const char *ns = rc == 0 ? pick_namespace(c, js->eks_namespace, &k) : NULL;
    bool service = false;

    if (rc == 0 && (list = render_eks(js, ns, &err)) == NULL)
        rc = -1;
    const struct jdoc *items = jdoc_get(list, "items");
    /* the Service first: the pods' names must resolve as soon as they start */
    if (rc == 0 && items && items->count > 1) {
        snprintf(svc_path, sizeof(svc_path),
                 "/api/v1/namespaces/%s/services?fieldValidation=Strict", ns);
        rc = create(&k, svc_path, items->items[1], "the headless Service", &err);
        service = rc == 0;
    }
    if (rc == 0) {
        jobs_path(path, sizeof(path), ns, NULL, "?fieldValidation=Strict");
        rc = create(&k, path, items->items[0], "the Job", &err);
        if (rc < 0 && service) { /* no Job, so no Service either */
            struct perr ignored = {0};
            snprintf(svc_path, sizeof(svc_path), "/api/v1/namespaces/%s/services/%s", ns,
                     js->eks_service ? js->eks_service : js->name);
            (void)delete_object(&k, svc_path, &ignored);
        }
    }
    jdoc_free(list);
    if (rc < 0) {
        kube_config_cleanup(&k);
        return cli_fail(err.code == PERR_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_FAILED, &err);
    }
    struct jobstate st = {.target = CLI_TARGET_EKS};
    snprintf(st.namespace_, sizeof(st.namespace_), "%s", ns);
    snprintf(st.context, sizeof(st.context), "%s", k.context);
    jobstate_save(&c->env, js->name, &st);
    if (c->detach) {
        printf("%s\n", js->name);
        fprintf(stderr,
                "parity: created job %s in namespace %s; follow it with: parity logs %s -f\n",
                js->name, ns, js->name);
        kube_config_cleanup(&k);
        return 0;
    }
    follow_status(c, js->name, "Created", ns);
    rc = follow_job(c, &k, ns, js->name);
    kube_config_cleanup(&k);
    return rc;
}

int eks_status(struct cli *c, const char *name, const struct jobstate *st)
{
    struct kube_config k;
    struct perr err = {0};
    struct eks_job j = {.c = c, .name = name};
    struct jdoc *pods = NULL;
    char why[2048] = "";
    const char *reason = NULL, *message = NULL;
    int rc = open_cluster(c, st->context, &k, &err);

    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    j.k = &k;
    j.ns = rc == 0 ? pick_namespace(c, st->namespace_, &k) : "";
    if (rc == 0)
        rc = get_job(&j, &err);
    if (rc == 0)
        rc = list_pods(&j, &pods, &err);
    if (rc == 0) {
        const char *result = job_result(j.latest, &reason, &message);
        const struct jdoc *active = jdoc_get(jdoc_get(j.latest, "status"), "active");
        const char *state = result ? result
                            : active && active->type == JDOC_NUMBER && strcmp(active->text, "0")
                                ? "Running"
                                : "Pending";
        int code = result ? exit_code_of(pods, result, why, sizeof(why)) : -1;
        if (c->json) {
            printf("{\"job\": \"%s\", \"target\": \"eks\", \"namespace\": \"%s\", \"status\": "
                   "\"%s\"",
                   name, j.ns, state);
            if (code >= 0)
                printf(", \"exit_code\": %d", code);
            printf("}\n");
        } else {
            printf("%s: %s (namespace %s)%s%s\n", name, state, j.ns, why[0] ? "\n  " : "", why);
        }
    }
    jdoc_free(pods);
    jdoc_free(j.latest);
    pthread_cond_destroy(&j.cv);
    pthread_mutex_destroy(&j.mu);
    kube_config_cleanup(&k);
    return rc < 0 ? cli_fail(err.code == PERR_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_FAILED, &err) : 0;
}

int eks_logs(struct cli *c, const char *name, const struct jobstate *st)
{
    struct kube_config k;
    struct perr err = {0};
    int rc = open_cluster(c, st->context, &k, &err);

    if (rc < 0)
        return cli_fail(CLI_EXIT_FAILED, &err);
    const char *ns = pick_namespace(c, st->namespace_, &k);
    if (c->follow) {
        rc = follow_job(c, &k, ns, name);
    } else {
        struct eks_job j = {.c = c, .k = &k, .ns = ns, .name = name};
        struct jdoc *pods = NULL;
        pthread_mutex_init(&j.mu, NULL);
        pthread_cond_init(&j.cv, NULL);
        rc = get_job(&j, &err) == 0 && list_pods(&j, &pods, &err) == 0 ? 0 : -1;
        const struct jdoc *items = jdoc_get(pods, "items");
        for (size_t i = 0; rc == 0 && items && i < items->count; i++) {
            struct pod_log p = {.job = &j};
            const char *pn = jdoc_get_str(jdoc_get(items->items[i], "metadata"), "name");
            if (!pn)
                continue;
            snprintf(p.name, sizeof(p.name), "%s", pn);
            pod_host(items->items[i], p.host, sizeof(p.host));
            struct line_sink s = {.fn = on_log_line, .ctx = &p};
            struct http_sink sink = {sink_lines, &s};
            char path[1024];
            long status = 0;
            snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s/log?container=%s", ns, pn,
                     EKS_CONTAINER);
            buf_init(&s.line, LINE_MAX);
            if (kube_stream(&k, path, &sink, NULL, &status, &err) == 0 && s.line.len)
                follow_log(c, p.host, s.line.data, s.line.len);
            buf_cleanup(&s.line);
        }
        jdoc_free(pods);
        jdoc_free(j.latest);
        pthread_cond_destroy(&j.cv);
        pthread_mutex_destroy(&j.mu);
        rc = rc < 0 ? cli_fail(CLI_EXIT_FAILED, &err) : 0;
    }
    kube_config_cleanup(&k);
    return rc;
}

int eks_stop(struct cli *c, const char *name, const struct jobstate *st)
{
    struct kube_config k;
    struct perr err = {0};
    struct jdoc *job = NULL;
    char path[1024];
    long status = 0;
    int rc = open_cluster(c, st->context, &k, &err);
    const char *ns = rc == 0 ? pick_namespace(c, st->namespace_, &k) : "";

    if (rc == 0) {
        jobs_path(path, sizeof(path), ns, name, NULL);
        rc = kube_call(&k, "GET", path, NULL, &status, &job, &err);
    }
    /* the headless Service the pods named themselves after (template.spec.subdomain) */
    const char *svc =
        jdoc_get_str(jdoc_get(jdoc_get(jdoc_get(job, "spec"), "template"), "spec"), "subdomain");
    if (rc == 0 && status == 404)
        rc = perr_set(&err, PERR_USAGE, "no job %s in namespace %s", name, ns);
    if (rc == 0)
        rc = delete_object(&k, path, &err);
    if (rc == 0 && svc) {
        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/services/%s", ns, svc);
        rc = delete_object(&k, path, &err);
    }
    jdoc_free(job);
    kube_config_cleanup(&k);
    if (rc < 0)
        return cli_fail(err.code == PERR_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_FAILED, &err);
    if (c->json)
        printf("{\"job\": \"%s\", \"stopping\": true}\n", name);
    else
        printf("%s: deleted with its pods (they get SIGTERM, then SIGKILL after %d s)%s%s\n", name,
               EKS_GRACE_SECONDS, svc ? "; service " : "", svc ? svc : "");
    return 0;
}
