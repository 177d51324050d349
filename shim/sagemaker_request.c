/* SPDX-License-Identifier: MIT */
/* Job spec -> CreateTrainingJob. */
#include "shim/sagemaker_request.h"

#include <string.h>

#include "lib/pyfmt.h"
#include "shim/jsonout.h"

#define DEFAULT_VOLUME_GB   30    /* the SageMaker SDK's default */
#define DEFAULT_MAX_RUNTIME 86400 /* SageMaker's own default: a day */

static struct jdoc *algorithm(const struct jobspec *js, struct perr *err)
{
    struct jdoc *a = jo_object(err), *entry = a ? jo_array(err) : NULL, *args = NULL;
    int rc = a && entry ? 0 : -1;

    if (rc == 0)
        rc = jo_put_str(a, "TrainingImage", js->image, err);
    if (rc == 0)
        rc = jo_put_str(a, "TrainingInputMode", "File", err);
    /* parity-init as PID 1, whatever the image's ENTRYPOINT; the role's command otherwise */
    if (rc == 0)
        rc = jo_push_str(entry, SAGEMAKER_ENTRYPOINT, err);
    if (rc == 0)
        rc = jo_push_str(entry, "--", err);
    if (rc == 0) {
        rc = jo_put(a, "ContainerEntrypoint", entry, err);
        entry = NULL;
    }
    if (rc == 0) {
        args = js->command ? jo_copy(js->command, err) : jo_array(err);
        if (args && !js->command)
            rc = jo_push_str(args, "train", err);
        if (rc == 0)
            rc = jo_put(a, "ContainerArguments", args, err);
    }
    jdoc_free(entry);
    if (rc < 0) {
        jdoc_free(a);
        return NULL;
    }
    return a;
}

/* {"key": "<json.dumps(value)>"}: what the SageMaker Python SDK sends. */
static struct jdoc *hyperparameters(const struct jobspec *js, struct perr *err)
{
    struct jdoc *h = jo_object(err);
    const struct jdoc *hp = js->hyperparameters;
    int rc = h ? 0 : -1;

    for (size_t i = 0; rc == 0 && hp && i < hp->count; i++) {
        struct buf v;
        buf_init(&v, 64u * 1024);
        rc = pyfmt_json_default(&v, hp->items[i], err);
        if (rc == 0)
            rc = jo_put_str(h, hp->keys[i], v.data ? v.data : "", err);
        buf_cleanup(&v);
    }
    if (rc < 0) {
        jdoc_free(h);
        return NULL;
    }
    return h;
}

static struct jdoc *channel(const struct jobspec_channel *ch, struct perr *err)
{
    struct jdoc *c = jo_object(err), *ds = c ? jo_object(err) : NULL,
                *s3 = ds ? jo_object(err) : NULL;
    int rc = s3 ? 0 : -1;

    if (rc == 0)
        rc = jo_put_str(s3, "S3DataType", "S3Prefix", err);
    if (rc == 0)
        rc = jo_put_str(s3, "S3Uri", ch->uri, err);
    if (rc == 0)
        rc = jo_put_str(s3, "S3DataDistributionType",
                        ch->distribution ? ch->distribution : "FullyReplicated", err);
    if (rc == 0) {
        rc = jo_put(ds, "S3DataSource", s3, err);
        s3 = NULL;
    }
    if (rc == 0)
        rc = jo_put_str(c, "ChannelName", ch->name, err);
    if (rc == 0) {
        rc = jo_put(c, "DataSource", ds, err);
        ds = NULL;
    }
    if (rc == 0 && ch->mode)
        rc = jo_put_str(c, "InputMode", ch->mode, err);
    if (rc == 0 && ch->content_type)
        rc = jo_put_str(c, "ContentType", ch->content_type, err);
    jdoc_free(s3);
    jdoc_free(ds);
    if (rc < 0) {
        jdoc_free(c);
        return NULL;
    }
    return c;
}

static struct jdoc *inputs(const struct jobspec *js, struct perr *err)
{
    struct jdoc *list = jo_array(err);
    int rc = list ? 0 : -1;

    for (size_t i = 0; rc == 0 && i < js->channel_count; i++)
        rc = jo_push(list, channel(&js->channels[i], err), err);
    if (rc < 0) {
        jdoc_free(list);
        return NULL;
    }
    return list;
}

/* InstanceGroups: {InstanceType, InstanceCount, InstanceGroupName} each (checked by jobspec). */
static struct jdoc *instance_groups(const struct jdoc *groups, struct perr *err)
{
    struct jdoc *list = jo_array(err);
    int rc = list ? 0 : -1;

    for (size_t i = 0; rc == 0 && i < groups->count; i++) {
        const struct jdoc *g = groups->items[i];
        struct jdoc *o = jo_object(err);
        rc = o ? jo_put_str(o, "InstanceType", jdoc_get_str(g, "instance_type"), err) : -1;
        if (rc == 0)
            rc = jo_put(o, "InstanceCount", jdoc_clone(jdoc_get(g, "instance_count"), err), err);
        if (rc == 0)
            rc = jo_put_str(o, "InstanceGroupName", jdoc_get_str(g, "name"), err);
        if (rc == 0)
            rc = jo_push(list, o, err);
        else
            jdoc_free(o);
    }
    if (rc < 0) {
        jdoc_free(list);
        return NULL;
    }
    return list;
}

static struct jdoc *resources(const struct jobspec *js, struct perr *err)
{
    struct jdoc *r = jo_object(err);
    int rc = r ? 0 : -1;

    /* a heterogeneous cluster names its groups instead of one type and count */
    if (rc == 0 && js->instance_groups)
        rc = jo_put(r, "InstanceGroups", instance_groups(js->instance_groups, err), err);
    if (rc == 0 && !js->instance_groups)
        rc = jo_put_str(r, "InstanceType", js->instance_type, err);
    if (rc == 0 && !js->instance_groups)
        rc = jo_put_int(r, "InstanceCount", js->instance_count, err);
    if (rc == 0)
        rc = jo_put_int(r, "VolumeSizeInGB", js->volume_gb > 0 ? js->volume_gb : DEFAULT_VOLUME_GB,
                        err);
    if (rc < 0) {
        jdoc_free(r);
        return NULL;
    }
    return r;
}

static struct jdoc *stopping(const struct jobspec *js, struct perr *err)
{
    struct jdoc *s = jo_object(err);
    int rc = s ? 0 : -1;

    if (rc == 0)
        rc = jo_put_int(s, "MaxRuntimeInSeconds",
                        js->max_runtime_s > 0 ? js->max_runtime_s : DEFAULT_MAX_RUNTIME, err);
    if (rc == 0 && js->spot)
        rc = jo_put_int(s, "MaxWaitTimeInSeconds", js->spot_max_wait_s, err);
    if (rc < 0) {
        jdoc_free(s);
        return NULL;
    }
    return s;
}

/* A {"Key": k, "Value": v} pair. */
static struct jdoc *tag(const char *k, const char *v, struct perr *err)
{
    struct jdoc *t = jo_object(err);

    if (t && (jo_put_str(t, "Key", k, err) < 0 || jo_put_str(t, "Value", v, err) < 0)) {
        jdoc_free(t);
        return NULL;
    }
    return t;
}

static struct jdoc *tags(const struct jobspec *js, struct perr *err)
{
    const struct jdoc *given = jdoc_get(jdoc_get(js->doc, "sagemaker"), "tags");
    struct jdoc *list = jo_array(err);
    int rc = list ? 0 : -1;

    for (size_t i = 0; rc == 0 && given && i < given->count; i++)
        rc = jo_push(list, tag(given->keys[i], given->items[i]->text, err), err);
    if (rc < 0) {
        jdoc_free(list);
        return NULL;
    }
    return list;
}

static struct jdoc *output(const struct jobspec *js, struct perr *err)
{
    struct jdoc *o = jo_object(err);

    if (o && jo_put_str(o, "S3OutputPath", js->output, err) < 0) {
        jdoc_free(o);
        return NULL;
    }
    return o;
}

static struct jdoc *checkpoints(const struct jobspec *js, struct perr *err)
{
    struct jdoc *c = jo_object(err);

    if (c && (jo_put_str(c, "S3Uri", js->checkpoint_uri, err) < 0 ||
              jo_put_str(c, "LocalPath", js->checkpoint_local_path, err) < 0)) {
        jdoc_free(c);
        return NULL;
    }
    return c;
}

struct jdoc *
sagemaker_create_request(const struct jobspec *js, const char *request_id, struct perr *err)
{
    struct jdoc *r = jo_object(err);
    int rc = r ? 0 : -1;

    if (rc == 0)
        rc = jo_put_str(r, "TrainingJobName", js->name, err);
    if (rc == 0)
        rc = jo_put(r, "AlgorithmSpecification", algorithm(js, err), err);
    if (rc == 0)
        rc = jo_put_str(r, "RoleArn", js->role_arn, err);
    if (rc == 0 && js->hyperparameters && js->hyperparameters->count)
        rc = jo_put(r, "HyperParameters", hyperparameters(js, err), err);
    if (rc == 0 && js->channel_count)
        rc = jo_put(r, "InputDataConfig", inputs(js, err), err);
    if (rc == 0)
        rc = jo_put(r, "OutputDataConfig", output(js, err), err);
    if (rc == 0)
        rc = jo_put(r, "ResourceConfig", resources(js, err), err);
    if (rc == 0)
        rc = jo_put(r, "StoppingCondition", stopping(js, err), err);
    if (rc == 0 && js->spot)
        rc = jo_put_bool(r, "EnableManagedSpotTraining", true, err);
    if (rc == 0 && js->checkpoint_uri)
        rc = jo_put(r, "CheckpointConfig", checkpoints(js, err), err);
    if (rc == 0 && ((js->environment && js->environment->count) || request_id)) {
        struct jdoc *env = js->environment ? jo_copy(js->environment, err) : jo_object(err);
        if (env && request_id && jo_put_str(env, SAGEMAKER_REQUEST_VAR, request_id, err) < 0) {
            jdoc_free(env);
            env = NULL;
        }
        rc = jo_put(r, "Environment", env, err);
    }
    if (rc == 0) {
        struct jdoc *t = tags(js, err);
        if (t && t->count == 0)
            jdoc_free(t); /* Tags takes no empty list */
        else
            rc = jo_put(r, "Tags", t, err);
    }
    if (rc < 0) {
        jdoc_free(r);
        return NULL;
    }
    return r;
}
