/* SPDX-License-Identifier: MIT */
/* Signals, pace and output of a follow. */
#include "shim/follow.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"
#include "lib/num.h"

#define DEFAULT_POLL_MS 5000

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

void follow_init(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: a pause ends at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool follow_interrupted(void)
{
    return interrupted != 0;
}

void follow_pause(const struct envlist *env)
{
    const char *v = envlist_get(env, "PARITY_POLL_MS");
    uint64_t ms = DEFAULT_POLL_MS;
    struct perr ignored = {0};
    struct timespec ts;

    if (v && num_parse_u64(v, 0, 600000, &ms, &ignored) < 0)
        ms = DEFAULT_POLL_MS;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (!interrupted && nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void json_field(const char *name, const char *value, size_t len, bool last)
{
    char esc[8192];
    size_t n = json_escape(esc, sizeof(esc), value, len);

    printf("\"%s\": \"%.*s\"%s", name, (int)n, esc, last ? "" : ", ");
}

void follow_status(const struct cli *c, const char *job, const char *status, const char *detail)
{
    if (c->json) {
        printf("{\"event\": \"status\", ");
        json_field("job", job, strlen(job), false);
        json_field("status", status, strlen(status), false);
        json_field("detail", detail ? detail : "", detail ? strlen(detail) : 0, true);
        printf("}\n");
    } else {
        printf("%s%s%s %s%s%s%s\n", c->color ? "\033[1m" : "", "==>", c->color ? "\033[0m" : "",
               status, detail && *detail ? " (" : "", detail ? detail : "",
               detail && *detail ? ")" : "");
    }
    fflush(stdout);
}

void follow_log(const struct cli *c, const char *host, const char *line, size_t len)
{
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (c->json) {
        printf("{\"event\": \"log\", ");
        json_field("host", host, strlen(host), false);
        json_field("message", line, len, true);
        printf("}\n");
    } else {
        printf("%s%s%s | %.*s\n", c->color ? "\033[36m" : "", host, c->color ? "\033[0m" : "",
               (int)len, line);
    }
    fflush(stdout);
}

void follow_end(const struct cli *c, const char *job, const char *status, int code, const char *why)
{
    if (c->json) {
        printf("{\"event\": \"end\", ");
        json_field("job", job, strlen(job), false);
        json_field("status", status, strlen(status), false);
        json_field("reason", why ? why : "", why ? strlen(why) : 0, false);
        printf("\"exit_code\": %d}\n", code);
    } else {
        printf("%s==> %s %s: exit code %d%s%s%s\n",
               c->color ? (code ? "\033[31m" : "\033[32m") : "", job, status, code,
               why && *why ? "\n    " : "", why ? why : "", c->color ? "\033[0m" : "");
    }
    fflush(stdout);
}

int follow_detached(const struct cli *c, const char *job)
{
    fprintf(stderr,
            "parity: stopped following %s; the job keeps running.\n"
            "  follow it again:  parity logs %s --follow\n"
            "  stop it:          parity stop %s\n",
            job, job, job);
    (void)c;
    return CLI_EXIT_DETACHED;
}
