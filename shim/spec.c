/* SPDX-License-Identifier: MIT */
/* Job spec files and per-target rules. */
#include "shim/spec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int spec_load(
    const char *path, struct jobspec *js, struct buf *text, struct buf *problems, struct perr *err)
{
    buf_init(text, JOBSPEC_MAX_BYTES);
    if (strcmp(path, "-") == 0 ? buf_read_fd(text, 0, err) < 0 : buf_read_file(text, path, err) < 0)
        return perr_wrap(err, "reading the job spec %s", path);
    return jobspec_parse(text->data ? text->data : "", text->len, js, problems, err);
}

static void add(struct buf *p, size_t *n, enum cli_target t, const char *path, const char *fmt, ...)
    PARITY_PRINTF(5, 6);

static void add(struct buf *p, size_t *n, enum cli_target t, const char *path, const char *fmt, ...)
{
    char msg[512];
    struct perr ignored = {0};
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    (*n)++;
    if (buf_printf(p, &ignored, "%s: %s (%s)\n", path, msg, cli_target_name(t)) < 0)
        return; /* the list is full: the count still counts this one */
}

static bool is_s3(const char *uri)
{
    return uri && strncmp(uri, "s3://", 5) == 0;
}

/* Kubernetes names the pods of an Indexed Job "<job>-<index>"; with the hostname limit of 63
 * that leaves the job name 63 minus the longest "-<index>". */
static size_t max_eks_name(long hosts)
{
    size_t digits = 1;

    for (long n = hosts - 1; n >= 10; n /= 10)
        digits++;
    return 63 - 1 - digits;
}

size_t spec_target_problems(const struct jobspec *js, enum cli_target t, struct buf *p)
{
    size_t n = 0;

    if (t == CLI_TARGET_SAGEMAKER || t == CLI_TARGET_EKS) {
        if (!js->image)
            add(p, &n, t, "$.image", "is required: the container image to run");
        for (size_t i = 0; i < js->channel_count; i++) {
            if (!is_s3(js->channels[i].uri))
                add(p, &n, t, "$.inputs", "channel %s: '%s' must be an s3:// URI",
                    js->channels[i].name, js->channels[i].uri);
        }
        if (js->checkpoint_uri && !is_s3(js->checkpoint_uri))
            add(p, &n, t, "$.checkpoints.uri", "'%s' must be an s3:// URI", js->checkpoint_uri);
        if (js->output && !is_s3(js->output))
            add(p, &n, t, "$.output", "'%s' must be an s3:// URI", js->output);
    }
    if (t == CLI_TARGET_SAGEMAKER) {
        if (!js->role_arn)
            add(p, &n, t, "$.aws.role_arn", "is required: the IAM role SageMaker runs the job as");
        if (!js->instance_type && !js->instance_groups)
            add(p, &n, t, "$.resources.instance_type", "is required (ml.*), or instance_groups");
        if (!js->output)
            add(p, &n, t, "$.output", "is required: where SageMaker puts model.tar.gz");
        if (js->role && strcmp(js->role, "train") != 0)
            add(p, &n, t, "$.role", "'%s': parity runs training jobs on SageMaker", js->role);
        if (js->spot && !js->spot_max_wait_s)
            add(p, &n, t, "$.spot.max_wait_seconds", "is required with spot training");
        if (js->command && js->command->count > 100)
            add(p, &n, t, "$.command", "has %zu arguments; SageMaker takes at most 100",
                js->command->count);
    }
    if ((t == CLI_TARGET_EKS || t == CLI_TARGET_LOCAL) && js->instance_groups)
        add(p, &n, t, "$.resources.instance_groups",
            "heterogeneous clusters run on SageMaker only: use instance_type and instance_count");
    if (t == CLI_TARGET_EKS) {
        size_t max = max_eks_name(js->instance_count);
        if (strlen(js->name) > max)
            add(p, &n, t, "$.name",
                "is %zu characters; with %ld hosts Kubernetes allows %zu (pod hostnames add "
                "\"-<index>\")",
                strlen(js->name), js->instance_count, max);
    }
    return n;
}

int spec_load_checked(
    const char *path, enum cli_target t, struct jobspec *js, struct buf *text, struct perr *err)
{
    struct buf problems;
    size_t extra = 0;
    int rc;

    buf_init(&problems, 256u * 1024);
    rc = spec_load(path, js, text, &problems, err);
    if (rc == 0) {
        for (enum cli_target i = CLI_TARGET_LOCAL; i <= CLI_TARGET_EKS; i++) {
            if (t == CLI_TARGET_NONE || t == i)
                extra += spec_target_problems(js, i, &problems);
        }
        if (extra)
            rc = perr_set(err, PERR_PARSE, "%s: %zu problem%s for %s", path, extra,
                          extra == 1 ? "" : "s",
                          t == CLI_TARGET_NONE ? "the targets" : cli_target_name(t));
    }
    if (problems.len)
        fputs(problems.data, stderr);
    buf_cleanup(&problems);
    return rc;
}
