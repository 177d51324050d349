/* SPDX-License-Identifier: MIT */
/* SageMaker training jobs: create (with the check after a timed-out create), follow, stop. */
#include "shim/target_sagemaker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/http.h"
#include "lib/json.h"
#include "shim/aws_client.h"
#include "shim/follow.h"
#include "shim/jobstate.h"
#include "shim/jsonout.h"
#include "shim/render.h"
#include "shim/sagemaker_request.h"

#define LOG_GROUP    "/aws/sagemaker/TrainingJobs"
#define CREATE_TRIES 5
#define MAX_STREAMS  1024
#define MAX_PAGES    100 /* GetLogEvents pages per stream per poll */

int sagemaker_exit_code(const char *reason)
{
    static const char *const marks[] = {"exit code: ", "ExitCode "};

    for (size_t i = 0; reason && i < sizeof(marks) / sizeof(marks[0]); i++) {
        const char *p = strstr(reason, marks[i]);
        char *end;
        long v = p ? strtol(p + strlen(marks[i]), &end, 10) : 0;
        if (p && end != p + strlen(marks[i]) && v > 0 && v < 256)
            return (int)v;
    }
    return 1; /* failed, and nothing says with which code */
}

/* {"TrainingJobName": "NAME"} */
static int name_body(struct buf *b, const char *name, struct perr *err)
{
    char esc[256];
    size_t n = json_escape(esc, sizeof(esc), name, strlen(name));

    buf_reset(b);
    return buf_printf(b, err, "{\"TrainingJobName\": \"%.*s\"}", (int)n, esc);
}

static int describe(struct aws_client *a, const char *name, struct jdoc **out, struct perr *err)
{
    struct buf body;
    char code[128];
    int rc;

    buf_init(&body, 4096);
    rc = name_body(&body, name, err);
    if (rc == 0)
        rc = aws_call(a, AWS_SAGEMAKER, "DescribeTrainingJob", body.data, false, out, code, err);
    if (rc < 0 && strcmp(code, "ValidationException") == 0 && strstr(err->msg, "not found"))
        perr_set(err, PERR_USAGE, "SageMaker has no training job %s in %s", name, a->region);
    buf_cleanup(&body);
    return rc;
}

/* After a create that may have happened: is there a job of this name, and is it ours? */
static int created_by_us(struct aws_client *a, const char *name, const char *request_id, bool *ours)
{
    struct perr err = {0};
    struct jdoc *d = NULL;

    *ours = false;
    if (describe(a, name, &d, &err) < 0)
        return err.code == PERR_USAGE ? 0 : -1; /* not there: the create did not happen */
    const char *id = jdoc_get_str(jdoc_get(d, "Environment"), SAGEMAKER_REQUEST_VAR);
    *ours = id && strcmp(id, request_id) == 0;
    jdoc_free(d);
    return 1;
}

/* CreateTrainingJob has no idempotency token: a create whose answer was lost is checked with
 * DescribeTrainingJob (our request id in its environment) before any retry. */
static int create(struct aws_client *a,
                  const struct jobspec *js,
                  const char *body,
                  const char *request_id,
                  struct perr *err)
{
    for (int attempt = 1;; attempt++) {
        struct jdoc *out = NULL;
        char code[128] = "";
        bool ours;
        int rc = aws_call(a, AWS_SAGEMAKER, "CreateTrainingJob", body, true, &out, code, err);
        jdoc_free(out);
        if (rc == 0)
            return 0;
        if (attempt == CREATE_TRIES)
            return -1;
        if (code[0] && http_is_retryable(400, code)) { /* throttled: nothing was created */
            http_backoff(1000, 20000, attempt);
            continue;
        }
        if (strcmp(code, "ResourceInUse") == 0 || !code[0]) {
            /* a lost answer (no code) or a name taken, maybe by our own earlier try */
            int found = created_by_us(a, js->name, request_id, &ours);
            if (found > 0 && ours)
                return 0;
            if (found > 0)
                return perr_set(err, PERR_USAGE,
                                "a training job named %s exists already: give the spec a new name",
                                js->name);
            if (found == 0 && !code[0]) {
                http_backoff(1000, 20000, attempt);
                continue;
            }
        }
        return -1;
    }
}

struct stream {
    char name[512];
    char host[64]; /* algo-N */
    char token[1024];
};

struct log_event {
    long long ts;
    const char *host;
    const char *message;
};

struct follower {
    struct cli *c;
    struct aws_client *a;
    const char *job;
    struct stream *streams;
    size_t count;
    size_t transitions_seen;
};

/* "job/algo-2-1704067200" -> "algo-2" */
static void host_of(const char *stream, char *out, size_t len)
{
    const char *slash = strchr(stream, '/'), *dash;

    snprintf(out, len, "%s", slash ? slash + 1 : stream);
    dash = strrchr(out, '-');
    if (dash && dash != out && strspn(dash + 1, "0123456789") == strlen(dash + 1) && dash[1])
        out[dash - out] = '\0';
}

/* Finds the job's streams, page by page (nextToken passed on, unlike the SDK's loop). */
static int discover_streams(struct follower *f, struct perr *err)
{
    char token[2048] = "", esc[512];
    size_t n = json_escape(esc, sizeof(esc), f->job, strlen(f->job));
    int rc = 0;

    for (int page = 0; rc == 0 && page < MAX_PAGES; page++) {
        struct buf body;
        struct jdoc *out = NULL;
        char code[128] = "", tesc[4096];
        buf_init(&body, 16384);
        size_t tn = json_escape(tesc, sizeof(tesc), token, strlen(token));
        rc = buf_printf(&body, err,
                        "{\"logGroupName\": \"" LOG_GROUP "\", \"logStreamNamePrefix\": "
                        "\"%.*s/\", \"orderBy\": \"LogStreamName\", \"limit\": 50%s%.*s%s}",
                        (int)n, esc, token[0] ? ", \"nextToken\": \"" : "", (int)tn, tesc,
                        token[0] ? "\"" : "");
        if (rc == 0)
            rc = aws_call(f->a, AWS_LOGS, "DescribeLogStreams", body.data, false, &out, code, err);
        buf_cleanup(&body);
        if (rc < 0 && strcmp(code, "ResourceNotFoundException") == 0)
            return 0; /* no log group yet: nothing written yet */
        const struct jdoc *list = rc == 0 ? jdoc_get(out, "logStreams") : NULL;
        for (size_t i = 0; list && i < list->count; i++) {
            const char *s = jdoc_get_str(list->items[i], "logStreamName");
            bool known = false;
            for (size_t k = 0; s && k < f->count && !known; k++)
                known = strcmp(f->streams[k].name, s) == 0;
            if (!s || known || f->count == MAX_STREAMS)
                continue;
            struct stream *st = &f->streams[f->count++];
            snprintf(st->name, sizeof(st->name), "%s", s);
            host_of(s, st->host, sizeof(st->host));
            st->token[0] = '\0';
        }
        const char *next = rc == 0 ? jdoc_get_str(out, "nextToken") : NULL;
        snprintf(token, sizeof(token), "%s", next ? next : "");
        jdoc_free(out);
        if (!next)
            break;
    }
    return rc;
}

static int by_time(const void *a, const void *b)
{
    const struct log_event *x = a, *y = b;

    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* Reads every stream from its last forward token to its end; prints the new events merged by
 * timestamp, as the SDK does for several hosts. */
static int pump_logs(struct follower *f, struct perr *err)
{
    struct jdoc **pages = NULL;
    struct log_event *events = NULL;
    size_t npages = 0, nevents = 0, cap_events = 0;
    int rc = discover_streams(f, err);

    for (size_t s = 0; rc == 0 && s < f->count; s++) {
        struct stream *st = &f->streams[s];
        for (int page = 0; rc == 0 && page < MAX_PAGES; page++) {
            struct buf body;
            struct jdoc *out = NULL, **grown;
            char code[128] = "", nesc[1100], tesc[2200];
            size_t nn = json_escape(nesc, sizeof(nesc), st->name, strlen(st->name));
            size_t tn = json_escape(tesc, sizeof(tesc), st->token, strlen(st->token));
            buf_init(&body, 16384);
            rc = buf_printf(&body, err,
                            "{\"logGroupName\": \"" LOG_GROUP "\", \"logStreamName\": \"%.*s\", "
                            "\"startFromHead\": true%s%.*s%s}",
                            (int)nn, nesc, st->token[0] ? ", \"nextToken\": \"" : "", (int)tn, tesc,
                            st->token[0] ? "\"" : "");
            if (rc == 0)
                rc = aws_call(f->a, AWS_LOGS, "GetLogEvents", body.data, false, &out, code, err);
            buf_cleanup(&body);
            if (rc < 0)
                break;
            grown = realloc(pages, (npages + 1) * sizeof(*pages));
            if (!grown) {
                jdoc_free(out);
                rc = perr_set(err, PERR_NOMEM, "out of memory reading logs");
                break;
            }
            pages = grown;
            pages[npages++] = out;
            const struct jdoc *list = jdoc_get(out, "events");
            for (size_t i = 0; list && i < list->count; i++) {
                const struct jdoc *ts = jdoc_get(list->items[i], "timestamp");
                const char *msg = jdoc_get_str(list->items[i], "message");
                if (!msg)
                    continue;
                if (nevents == cap_events) {
                    size_t cap = cap_events ? cap_events * 2 : 256;
                    struct log_event *g = realloc(events, cap * sizeof(*g));
                    if (!g) {
                        rc = perr_set(err, PERR_NOMEM, "out of memory reading logs");
                        break;
                    }
                    events = g;
                    cap_events = cap;
                }
                events[nevents++] = (struct log_event){
                    ts && ts->type == JDOC_NUMBER ? strtoll(ts->text, NULL, 10) : 0, st->host, msg};
            }
            /* the end of the stream: the service gives back the token it was given */
            const char *next = jdoc_get_str(out, "nextForwardToken");
            if (!next || strcmp(next, st->token) == 0)
                break;
            snprintf(st->token, sizeof(st->token), "%s", next);
        }
    }
    qsort(events, nevents, sizeof(*events), by_time);
    for (size_t i = 0; i < nevents; i++)
        follow_log(f->c, events[i].host, events[i].message, strlen(events[i].message));
    for (size_t i = 0; i < npages; i++)
        jdoc_free(pages[i]);
    free(pages);
    free(events);
    return rc;
}

static bool terminal(const char *status)
{
    return status && (!strcmp(status, "Completed") || !strcmp(status, "Failed") ||
                      !strcmp(status, "Stopped"));
}

/* Prints the SecondaryStatusTransitions not printed yet. */
static void print_transitions(struct follower *f, const struct jdoc *d)
{
    const struct jdoc *list = jdoc_get(d, "SecondaryStatusTransitions");

    for (size_t i = f->transitions_seen; list && i < list->count; i++)
        follow_status(f->c, f->job, jdoc_get_str(list->items[i], "Status") ?: "?",
                      jdoc_get_str(list->items[i], "StatusMessage"));
    if (list)
        f->transitions_seen = list->count;
}

/* The exit code parity returns for a finished job. */
static int outcome(const char *status, const char *reason)
{
    if (!strcmp(status, "Completed"))
        return 0;
    if (!strcmp(status, "Stopped"))
        return 143; /* stopped: SIGTERM, as the container saw it */
    return sagemaker_exit_code(reason);
}

/* Follows the job to its end (logs too when with_logs); returns parity's exit status. */
static int follow_job(struct cli *c, struct aws_client *a, const char *job, bool with_logs)
{
    struct follower f = {.c = c, .a = a, .job = job};
    struct perr err = {0};
    int code = CLI_EXIT_FAILED;

    f.streams = calloc(MAX_STREAMS, sizeof(*f.streams));
    if (!f.streams)
        return CLI_EXIT_FAILED;
    follow_init();
    for (;;) {
        struct jdoc *d = NULL;
        if (describe(a, job, &d, &err) < 0) {
            code = cli_fail(CLI_EXIT_FAILED, &err);
            break;
        }
        const char *status = jdoc_get_str(d, "TrainingJobStatus");
        print_transitions(&f, d);
        if (with_logs && pump_logs(&f, &err) < 0)
            fprintf(stderr, "parity: warning: %s\n", err.msg);
        if (terminal(status)) {
            const char *reason = jdoc_get_str(d, "FailureReason");
            /* the last lines may land after the status changed: one more read */
            if (with_logs && pump_logs(&f, &err) < 0)
                fprintf(stderr, "parity: warning: %s\n", err.msg);
            code = outcome(status, reason);
            follow_end(c, job, status, code, reason);
            jdoc_free(d);
            break;
        }
        jdoc_free(d);
        if (follow_interrupted() || (follow_pause(&c->env), follow_interrupted())) {
            code = follow_detached(c, job);
            break;
        }
    }
    free(f.streams);
    return code;
}

int sagemaker_run(struct cli *c, const struct jobspec *js, const char *text, size_t len)
{
    struct aws_client a;
    struct perr err = {0};
    struct jdoc *req = NULL;
    struct buf body;
    char id[33];
    int rc;

    buf_init(&body, 8u * JOBSPEC_MAX_BYTES);
    render_request_id(text, len, id);
    rc = aws_client_init(&a, &c->env, js->region, &err);
    if (rc == 0 && (req = sagemaker_create_request(js, id, &err)) == NULL)
        rc = -1;
    if (rc == 0)
        rc = jo_write(&body, req, false, &err);
    if (rc == 0)
        rc = create(&a, js, body.data, id, &err);
    jdoc_free(req);
    buf_cleanup(&body);
    if (rc < 0) {
        aws_client_cleanup(&a);
        return cli_fail(CLI_EXIT_FAILED, &err);
    }
    struct jobstate st = {.target = CLI_TARGET_SAGEMAKER};
    snprintf(st.region, sizeof(st.region), "%s", a.region);
    jobstate_save(&c->env, js->name, &st);
    if (c->detach) {
        printf("%s\n", js->name);
        fprintf(stderr,
                "parity: created training job %s in %s; follow it with: parity logs %s -f\n",
                js->name, a.region, js->name);
        aws_client_cleanup(&a);
        return 0;
    }
    follow_status(c, js->name, "Created", a.region);
    rc = follow_job(c, &a, js->name, true);
    aws_client_cleanup(&a);
    return rc;
}

int sagemaker_status(struct cli *c, const char *name, const char *region)
{
    struct aws_client a;
    struct perr err = {0};
    struct jdoc *d = NULL;
    struct buf out;
    int rc = aws_client_init(&a, &c->env, region, &err);

    if (rc == 0)
        rc = describe(&a, name, &d, &err);
    aws_client_cleanup(&a);
    if (rc < 0)
        return cli_fail(err.code == PERR_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_FAILED, &err);
    const char *status = jdoc_get_str(d, "TrainingJobStatus") ?: "?";
    const char *secondary = jdoc_get_str(d, "SecondaryStatus") ?: "";
    const char *reason = jdoc_get_str(d, "FailureReason");
    buf_init(&out, 1u << 20);
    if (c->json) {
        struct jdoc *o = jo_object(&err);
        rc = o ? 0 : -1;
        if (rc == 0)
            rc = jo_put_str(o, "job", name, &err);
        if (rc == 0)
            rc = jo_put_str(o, "target", "sagemaker", &err);
        if (rc == 0)
            rc = jo_put_str(o, "status", status, &err);
        if (rc == 0)
            rc = jo_put_str(o, "detail", secondary, &err);
        if (rc == 0 && terminal(status))
            rc = jo_put_int(o, "exit_code", outcome(status, reason), &err);
        if (rc == 0 && reason)
            rc = jo_put_str(o, "reason", reason, &err);
        if (rc == 0)
            rc = jo_write(&out, o, false, &err);
        jdoc_free(o);
        if (rc == 0)
            printf("%s\n", out.data);
    } else {
        printf("%s: %s (%s)%s%s\n", name, status, secondary, reason ? "\n  " : "",
               reason ? reason : "");
    }
    buf_cleanup(&out);
    jdoc_free(d);
    return rc < 0 ? cli_fail(CLI_EXIT_FAILED, &err) : 0;
}

int sagemaker_logs(struct cli *c, const char *name, const char *region)
{
    struct aws_client a;
    struct perr err = {0};
    int rc = aws_client_init(&a, &c->env, region, &err);

    if (rc < 0)
        return cli_fail(CLI_EXIT_FAILED, &err);
    if (c->follow) {
        rc = follow_job(c, &a, name, true);
    } else {
        struct follower f = {.c = c, .a = &a, .job = name};
        f.streams = calloc(MAX_STREAMS, sizeof(*f.streams));
        rc = f.streams && pump_logs(&f, &err) == 0 ? 0 : cli_fail(CLI_EXIT_FAILED, &err);
        free(f.streams);
    }
    aws_client_cleanup(&a);
    return rc;
}

int sagemaker_stop(struct cli *c, const char *name, const char *region)
{
    struct aws_client a;
    struct perr err = {0};
    struct jdoc *out = NULL;
    struct buf body;
    char code[128] = "";
    int rc = aws_client_init(&a, &c->env, region, &err);

    buf_init(&body, 4096);
    if (rc == 0)
        rc = name_body(&body, name, &err);
    if (rc == 0)
        rc = aws_call(&a, AWS_SAGEMAKER, "StopTrainingJob", body.data, false, &out, code, &err);
    /* stopping a job that has ended already is done, not an error */
    if (rc < 0 && strcmp(code, "ValidationException") == 0 && !strstr(err.msg, "not found")) {
        fprintf(stderr, "parity: %s\n", err.msg);
        rc = 0;
    }
    jdoc_free(out);
    buf_cleanup(&body);
    aws_client_cleanup(&a);
    if (rc < 0)
        return cli_fail(CLI_EXIT_FAILED, &err);
    if (!c->json)
        printf("%s: stopping (SageMaker sends SIGTERM, then SIGKILL 120 s later)\n", name);
    else
        printf("{\"job\": \"%s\", \"stopping\": true}\n", name);
    return 0;
}
