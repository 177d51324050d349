/* SPDX-License-Identifier: MIT */
/* Loading and checking the SageMaker config documents (contract/sagemaker.md §1.2-1.3). */
#include "entrypoint/job.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"

static const char *const config_files[] = {
    "hyperparameters.json",
    "resourceconfig.json",
    "inputdataconfig.json",
    "checkpointconfig.json",
};

static struct jdoc **slot(struct job *j, const char *name)
{
    struct jdoc **slots[] = {&j->hyperparameters, &j->resourceconfig, &j->inputdataconfig,
                             &j->checkpointconfig};

    for (size_t i = 0; i < sizeof(config_files) / sizeof(config_files[0]); i++) {
        if (strcmp(name, config_files[i]) == 0)
            return slots[i];
    }
    return NULL;
}

static bool is_string_list(const struct jdoc *d, bool non_empty)
{
    if (!d || d->type != JDOC_ARRAY || (non_empty && d->count == 0))
        return false;
    for (size_t i = 0; i < d->count; i++) {
        if (d->items[i]->type != JDOC_STRING)
            return false;
    }
    return true;
}

static int check_resourceconfig(const struct jdoc *rc, struct perr *err)
{
    const struct jdoc *groups = jdoc_get(rc, "instance_groups");

    if (!jdoc_get_str(rc, "current_host"))
        return perr_set(err, PERR_PARSE, "\"current_host\" must be a string");
    if (!is_string_list(jdoc_get(rc, "hosts"), true))
        return perr_set(err, PERR_PARSE, "\"hosts\" must be a non-empty list of host names");
    if (!groups || groups->type == JDOC_NULL)
        return 0;
    if (groups->type != JDOC_ARRAY)
        return perr_set(err, PERR_PARSE, "\"instance_groups\" must be a list");
    for (size_t i = 0; i < groups->count; i++) {
        const struct jdoc *g = groups->items[i];
        if (g->type != JDOC_OBJECT || !jdoc_get_str(g, "instance_group_name") ||
            !is_string_list(jdoc_get(g, "hosts"), false))
            return perr_set(err, PERR_PARSE,
                            "\"instance_groups\"[%zu] needs \"instance_group_name\" and \"hosts\"",
                            i);
    }
    return 0;
}

static int check_shape(const char *name, const struct jdoc *d, struct perr *err)
{
    if (d->type != JDOC_OBJECT)
        return perr_set(err, PERR_PARSE, "expected a JSON object");
    if (strcmp(name, "resourceconfig.json") == 0)
        return check_resourceconfig(d, err);
    if (strcmp(name, "inputdataconfig.json") == 0) {
        for (size_t i = 0; i < d->count; i++) {
            if (d->items[i]->type != JDOC_OBJECT)
                return perr_set(err, PERR_PARSE, "channel \"%s\" must be an object", d->keys[i]);
        }
    }
    return 0;
}

int job_load_text(struct job *j, const char *name, const char *text, size_t len, struct perr *err)
{
    struct jdoc **dst = slot(j, name);
    struct jdoc *d;

    if (!dst)
        return perr_set(err, PERR_PARSE, "unknown config document %s", name);
    d = jdoc_parse(text, len, NULL, err);
    if (!d)
        return -1;
    if (check_shape(name, d, err) < 0) {
        jdoc_free(d);
        return -1;
    }
    jdoc_free(*dst);
    *dst = d;
    return 0;
}

int job_load_files(struct job *j, const char *root, struct perr *err)
{
    snprintf(j->root, sizeof(j->root), "%s", root);
    for (size_t i = 0; i < sizeof(config_files) / sizeof(config_files[0]); i++) {
        char path[1200];
        struct buf b;
        int rc;

        snprintf(path, sizeof(path), "%s/input/config/%s", root, config_files[i]);
        buf_init(&b, JOB_CONFIG_MAX_BYTES);
        rc = buf_read_file(&b, path, err);
        if (rc < 0 && err->sys_errno == ENOENT &&
            strcmp(config_files[i], "checkpointconfig.json") == 0) {
            buf_cleanup(&b);
            continue; /* only written when the job has a CheckpointConfig */
        }
        if (rc == 0)
            rc = job_load_text(j, config_files[i], b.data, b.len, err);
        buf_cleanup(&b);
        if (rc < 0) {
            if (err->code == PERR_IO && err->sys_errno == ENOENT)
                return perr_set(
                    err, PERR_IO,
                    "reading %s: the file is missing; SageMaker writes it "
                    "before the container starts, elsewhere parity-init needs a job config "
                    "(PARITY_JOB_CONFIG)",
                    path);
            if (err->code == PERR_IO || err->code == PERR_LIMIT)
                return -1; /* the message already names the path */
            return perr_wrap(err, "reading %s", path);
        }
    }
    return 0;
}

void job_cleanup(struct job *j)
{
    jdoc_free(j->hyperparameters);
    jdoc_free(j->resourceconfig);
    jdoc_free(j->inputdataconfig);
    jdoc_free(j->checkpointconfig);
    j->hyperparameters = j->resourceconfig = j->inputdataconfig = j->checkpointconfig = NULL;
}

const char *job_current_host(const struct job *j)
{
    return jdoc_get_str(j->resourceconfig, "current_host");
}

size_t job_host_count(const struct job *j)
{
    const struct jdoc *hosts = jdoc_get(j->resourceconfig, "hosts");

    return hosts ? hosts->count : 0;
}

const char *job_host(const struct job *j, size_t i)
{
    return jdoc_get(j->resourceconfig, "hosts")->items[i]->text;
}

long job_host_rank(const struct job *j)
{
    const char *cur = job_current_host(j);

    for (size_t i = 0; i < job_host_count(j); i++) {
        if (strcmp(job_host(j, i), cur) == 0)
            return (long)i;
    }
    return -1;
}
