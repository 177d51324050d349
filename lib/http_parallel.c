/* SPDX-License-Identifier: MIT */
/* libcurl's multi interface under lib/http's request setup (lib/http_call.h). */
#include "lib/http_parallel.h"

#include <stdlib.h>

#include <curl/curl.h>

#include "lib/http_call.h"

#define IDLE_HANDLES 64 /* easy handles kept for the next requests */

struct running {
    struct http_call k;
    void *tag;
    struct running *prev, *next;
};

struct http_parallel {
    CURLM *multi; /* its connection cache keeps connections alive between requests */
    struct running *list;
    int count;
    CURL *idle[IDLE_HANDLES];
    int nidle;
};

struct http_parallel *http_parallel_new(void)
{
    struct http_parallel *p = calloc(1, sizeof(*p));

    http_global_init();
    if (p && !(p->multi = curl_multi_init())) {
        free(p);
        p = NULL;
    }
    return p;
}

int http_parallel_add(struct http_parallel *p,
                      const struct http_request *req,
                      const struct http_opts *opts,
                      struct http_response *resp,
                      void *tag,
                      struct perr *err)
{
    struct running *r = calloc(1, sizeof(*r));
    struct http_opts o = http_opts_defaults(opts);
    CURL *c = p->nidle ? p->idle[--p->nidle] : curl_easy_init();

    if (!r || !c) {
        free(r);
        if (c)
            p->idle[p->nidle++] = c;
        return perr_set(err, PERR_NOMEM, "out of memory starting an HTTP request");
    }
    if (resp->body.max_bytes == 0)
        buf_init(&resp->body, o.max_body_bytes);
    resp->attempts = 1;
    curl_easy_reset(c);
    http_call_begin(&r->k, c, req, &o, resp);
    curl_easy_setopt(c, CURLOPT_PRIVATE, r);
    if (curl_multi_add_handle(p->multi, c) != CURLM_OK) {
        bool retry;
        struct perr ignored = {0};
        (void)http_call_end(&r->k, CURLE_OK, &retry, &ignored);
        curl_easy_cleanup(c);
        free(r);
        return perr_set(err, PERR_NOMEM, "%s %s: could not start the request", req->method,
                        req->url);
    }
    r->tag = tag;
    r->next = p->list;
    if (p->list)
        p->list->prev = r;
    p->list = r;
    p->count++;
    return 0;
}

static void unlink_running(struct http_parallel *p, struct running *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        p->list = r->next;
    if (r->next)
        r->next->prev = r->prev;
    p->count--;
}

/* Hands the ended requests to done; returns how many there were. */
static int reap(struct http_parallel *p, http_parallel_done_fn *done, void *ctx)
{
    CURLMsg *m;
    int left, n = 0;

    while ((m = curl_multi_info_read(p->multi, &left)) != NULL) {
        struct running *r = NULL;
        struct perr err = {0};
        CURL *c = m->easy_handle;
        CURLcode result = m->data.result;
        bool retry;
        int rc;
        void *tag;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&r);
        curl_multi_remove_handle(p->multi, c);
        rc = http_call_end(&r->k, result, &retry, &err);
        unlink_running(p, r);
        tag = r->tag;
        free(r);
        if (p->nidle < IDLE_HANDLES)
            p->idle[p->nidle++] = c;
        else
            curl_easy_cleanup(c);
        done(ctx, tag, rc, &err);
        n++;
    }
    return n;
}

int http_parallel_run(struct http_parallel *p,
                      long timeout_ms,
                      http_parallel_done_fn *done,
                      void *ctx)
{
    int still = 0;

    curl_multi_perform(p->multi, &still);
    if (reap(p, done, ctx) == 0) {
        /* with nothing running this sleeps the whole timeout: a retry's pause */
        curl_multi_poll(p->multi, NULL, 0, (int)timeout_ms, NULL);
        curl_multi_perform(p->multi, &still);
        reap(p, done, ctx);
    }
    return p->count;
}

void http_parallel_free(struct http_parallel *p)
{
    if (!p)
        return;
    while (p->list) {
        struct running *r = p->list;
        struct perr ignored = {0};
        bool retry;
        curl_multi_remove_handle(p->multi, r->k.curl);
        (void)http_call_end(&r->k, CURLE_ABORTED_BY_CALLBACK, &retry, &ignored);
        curl_easy_cleanup(r->k.curl);
        unlink_running(p, r);
        free(r);
    }
    while (p->nidle > 0)
        curl_easy_cleanup(p->idle[--p->nidle]);
    curl_multi_cleanup(p->multi);
    free(p);
}
