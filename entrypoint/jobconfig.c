/* SPDX-License-Identifier: MIT */
/* Reading the job spec from the environment, bounded, with every problem reported at once. */
#include "entrypoint/jobconfig.h"

#include <string.h>

#include "lib/buf.h"
#include "lib/fetchuri.h"
#include "lib/log.h"

bool jobconfig_present(const struct envlist *env)
{
    const char *inline_ = envlist_get(env, "PARITY_JOB_CONFIG");
    const char *uri = envlist_get(env, "PARITY_JOB_CONFIG_URI");

    return (inline_ && *inline_) || (uri && *uri);
}

bool jobconfig_needs_credentials(const struct envlist *env)
{
    const char *inline_ = envlist_get(env, "PARITY_JOB_CONFIG");
    const char *uri = envlist_get(env, "PARITY_JOB_CONFIG_URI");

    return !(inline_ && *inline_) && uri && fetchuri_needs_credentials(uri);
}

static int report(int rc, struct buf *problems, const char *source, struct perr *err)
{
    if (rc < 0 && problems->data) {
        for (char *line = problems->data; *line;) {
            size_t n = strcspn(line, "\n");
            log_error("job", "%s: %.*s", source, (int)n, line);
            line += n + (line[n] == '\n');
        }
    }
    buf_cleanup(problems);
    return rc < 0 ? perr_wrap(err, "reading the job config from %s", source) : 0;
}

int jobconfig_load(const struct envlist *env,
                   const struct creds *c,
                   struct jobspec *js,
                   struct perr *err)
{
    const char *inline_ = envlist_get(env, "PARITY_JOB_CONFIG");
    const char *uri = envlist_get(env, "PARITY_JOB_CONFIG_URI");
    struct buf problems, text;
    int rc;

    buf_init(&problems, 64u * 1024);
    if (inline_ && *inline_) {
        rc = jobspec_parse(inline_, strlen(inline_), js, &problems, err);
        return report(rc, &problems, "PARITY_JOB_CONFIG", err);
    }
    buf_init(&text, JOBSPEC_MAX_BYTES);
    rc = fetchuri_get(uri, env, c, JOBSPEC_MAX_BYTES, &text, err);
    if (rc == 0)
        rc = jobspec_parse(text.data, text.len, js, &problems, err);
    buf_cleanup(&text);
    return report(rc, &problems, uri, err);
}
