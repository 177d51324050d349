/* SPDX-License-Identifier: MIT */
/* Job spec -> batch/v1 Job and v1 Service. */
#include "shim/eks_manifest.h"

#include <stdio.h>
#include <string.h>

#include "shim/instance_types.h"
#include "shim/jsonout.h"
#include "shim/sagemaker_request.h"

#define TTL_AFTER_FINISHED 86400 /* a day to read logs and exit codes before GC takes the pods */
#define DEFAULT_VOLUME_GB  30

const char *eks_namespace(const struct jobspec *js, const char *override)
{
    if (override && *override)
        return override;
    return js->eks_namespace ? js->eks_namespace : "default";
}

static const char *service_name(const struct jobspec *js)
{
    return js->eks_service ? js->eks_service : js->name;
}

/* A one-entry object {k: v}. */
static struct jdoc *pair(const char *k, const char *v, struct perr *err)
{
    struct jdoc *o = jo_object(err);

    if (o && jo_put_str(o, k, v, err) < 0) {
        jdoc_free(o);
        return NULL;
    }
    return o;
}

static struct jdoc *metadata(const struct jobspec *js, const char *ns, bool job, struct perr *err)
{
    struct jdoc *m = jo_object(err),
                *labels = m ? pair("app.kubernetes.io/managed-by", "parity", err) : NULL;
    int rc = labels ? 0 : -1;

    if (rc == 0 && job)
        rc = jo_put_str(labels, "parity/job", js->name, err);
    if (rc == 0)
        rc = jo_put_str(m, "name", job ? js->name : service_name(js), err);
    if (rc == 0)
        rc = jo_put_str(m, "namespace", ns, err);
    if (rc == 0) {
        rc = jo_put(m, "labels", labels, err);
        labels = NULL;
    }
    jdoc_free(labels);
    if (rc < 0) {
        jdoc_free(m);
        return NULL;
    }
    return m;
}

/* Preemption and eviction do not count as the job failing; a non-zero exit fails it at once. */
static struct jdoc *pod_failure_policy(struct perr *err)
{
    static const char text[] =
        "{\"rules\": [{\"action\": \"Ignore\", \"onPodConditions\": [{\"type\": "
        "\"DisruptionTarget\"}]}, {\"action\": \"FailJob\", \"onExitCodes\": {\"containerName\": "
        "\"" EKS_CONTAINER "\", \"operator\": \"NotIn\", \"values\": [0]}}]}";

    return jdoc_parse(text, sizeof(text) - 1, NULL, err);
}

static struct jdoc *env_var(const char *name, const char *value, struct perr *err)
{
    struct jdoc *e = pair("name", name, err);

    if (e && jo_put_str(e, "value", value, err) < 0) {
        jdoc_free(e);
        return NULL;
    }
    return e;
}

static struct jdoc *environment(const struct jobspec *js, const char *spec_json, struct perr *err)
{
    struct jdoc *list = jo_array(err);
    int rc = list ? 0 : -1;

    if (rc == 0)
        rc = jo_push(list, env_var("PARITY_JOB_CONFIG", spec_json, err), err);
    if (rc == 0 && js->region)
        rc = jo_push(list, env_var("AWS_REGION", js->region, err), err);
    if (rc < 0) {
        jdoc_free(list);
        return NULL;
    }
    return list;
}

/* CPUs and memory from the instance type, a little under the node's own so the pod fits next
 * to the node's daemons; GPUs only as limits (Kubernetes takes requests from them). */
static struct jdoc *resources(const struct instance_type *t, struct perr *err)
{
    struct jdoc *r = jo_object(err), *lim = r ? jo_object(err) : NULL,
                *req = lim ? jo_object(err) : NULL;
    char cpu[16], mem[16], gpus[16];
    int rc = req ? 0 : -1;

    snprintf(cpu, sizeof(cpu), "%d", t->vcpus > 1 ? t->vcpus - 1 : 1);
    snprintf(mem, sizeof(mem), "%dGi", t->memory_gib * 7 / 8 > 0 ? t->memory_gib * 7 / 8 : 1);
    snprintf(gpus, sizeof(gpus), "%d", t->gpus);
    if (rc == 0 && t->gpus)
        rc = jo_put_str(lim, "nvidia.com/gpu", gpus, err);
    if (rc == 0)
        rc = jo_put_str(lim, "memory", mem, err);
    if (rc == 0)
        rc = jo_put_str(req, "cpu", cpu, err);
    if (rc == 0)
        rc = jo_put_str(req, "memory", mem, err);
    if (rc == 0) {
        rc = jo_put(r, "limits", lim, err);
        lim = NULL;
    }
    if (rc == 0) {
        rc = jo_put(r, "requests", req, err);
        req = NULL;
    }
    jdoc_free(lim);
    jdoc_free(req);
    if (rc < 0) {
        jdoc_free(r);
        return NULL;
    }
    return r;
}

static struct jdoc *mount(const char *name, const char *path, struct perr *err)
{
    struct jdoc *m = pair("name", name, err);

    if (m && jo_put_str(m, "mountPath", path, err) < 0) {
        jdoc_free(m);
        return NULL;
    }
    return m;
}

static struct jdoc *container(const struct jobspec *js,
                              const char *spec_json,
                              const struct instance_type *t,
                              struct perr *err)
{
    struct jdoc *c = jo_object(err), *cmd = c ? jo_array(err) : NULL, *mounts = NULL;
    int rc = cmd ? 0 : -1;

    if (rc == 0)
        rc = jo_put_str(c, "name", EKS_CONTAINER, err);
    if (rc == 0)
        rc = jo_put_str(c, "image", js->image, err);
    if (rc == 0)
        rc = jo_push_str(cmd, SAGEMAKER_ENTRYPOINT, err);
    if (rc == 0)
        rc = jo_push_str(cmd, "--", err);
    if (rc == 0) {
        rc = jo_put(c, "command", cmd, err);
        cmd = NULL;
    }
    /* no args: parity-init takes the command from the job config, or the image's for the role */
    if (rc == 0 && js->command)
        rc = jo_put(c, "args", jo_copy(js->command, err), err);
    if (rc == 0)
        rc = jo_put(c, "env", environment(js, spec_json, err), err);
    if (rc == 0 && t)
        rc = jo_put(c, "resources", resources(t, err), err);
    if (rc == 0)
        rc = jo_put_str(c, "terminationMessagePath", "/dev/termination-log", err);
    if (rc == 0)
        rc = jo_put_str(c, "terminationMessagePolicy", "FallbackToLogsOnError", err);
    if (rc == 0 && (mounts = jo_array(err)) == NULL)
        rc = -1;
    if (rc == 0)
        rc = jo_push(mounts, mount("opt-ml", "/opt/ml", err), err);
    if (rc == 0)
        rc = jo_push(mounts, mount("dshm", "/dev/shm", err), err);
    if (rc == 0) {
        rc = jo_put(c, "volumeMounts", mounts, err);
        mounts = NULL;
    }
    jdoc_free(cmd);
    jdoc_free(mounts);
    if (rc < 0) {
        jdoc_free(c);
        return NULL;
    }
    return c;
}

/* /opt/ml on the node's disk (volume_gb), /dev/shm in memory: Docker's 64 MiB default is too
 * small for PyTorch's DataLoader workers. */
static struct jdoc *
volumes(const struct jobspec *js, const struct instance_type *t, struct perr *err)
{
    char disk[32], shm[32];
    struct jdoc *list = jo_array(err), *ml = NULL, *dshm = NULL, *e1 = NULL, *e2 = NULL;
    int rc = list ? 0 : -1;

    snprintf(disk, sizeof(disk), "%ldGi", js->volume_gb > 0 ? js->volume_gb : DEFAULT_VOLUME_GB);
    snprintf(shm, sizeof(shm), "%dGi", t && t->memory_gib >= 2 ? t->memory_gib / 2 : 1);
    if (rc == 0 && (!(ml = pair("name", "opt-ml", err)) || !(e1 = pair("sizeLimit", disk, err))))
        rc = -1;
    if (rc == 0) {
        rc = jo_put(ml, "emptyDir", e1, err);
        e1 = NULL;
    }
    if (rc == 0) {
        rc = jo_push(list, ml, err);
        ml = NULL;
    }
    if (rc == 0 && (!(dshm = pair("name", "dshm", err)) || !(e2 = pair("medium", "Memory", err))))
        rc = -1;
    if (rc == 0)
        rc = jo_put_str(e2, "sizeLimit", shm, err);
    if (rc == 0) {
        rc = jo_put(dshm, "emptyDir", e2, err);
        e2 = NULL;
    }
    if (rc == 0) {
        rc = jo_push(list, dshm, err);
        dshm = NULL;
    }
    jdoc_free(ml);
    jdoc_free(dshm);
    jdoc_free(e1);
    jdoc_free(e2);
    if (rc < 0) {
        jdoc_free(list);
        return NULL;
    }
    return list;
}

static struct jdoc *node_selector(const struct jobspec *js, struct perr *err)
{
    const struct jdoc *given = jdoc_get(jdoc_get(js->doc, "eks"), "node_selector");
    struct jdoc *s = jo_object(err);
    int rc = s ? 0 : -1;

    if (rc == 0 && js->instance_type)
        rc = jo_put_str(s, "node.kubernetes.io/instance-type",
                        strncmp(js->instance_type, "ml.", 3) == 0 ? js->instance_type + 3
                                                                  : js->instance_type,
                        err);
    for (size_t i = 0; rc == 0 && given && i < given->count; i++)
        rc = jo_put_str(s, given->keys[i], given->items[i]->text, err);
    if (rc < 0) {
        jdoc_free(s);
        return NULL;
    }
    return s;
}

/* The spec's tolerations, or the common NVIDIA taint for GPU instance types. */
static struct jdoc *
tolerations(const struct jobspec *js, const struct instance_type *t, struct perr *err)
{
    static const char gpu[] =
        "[{\"key\": \"nvidia.com/gpu\", \"operator\": \"Exists\", \"effect\": \"NoSchedule\"}]";
    const struct jdoc *given = jdoc_get(jdoc_get(js->doc, "eks"), "tolerations");

    if (given)
        return jo_copy(given, err);
    if (t && t->gpus)
        return jdoc_parse(gpu, sizeof(gpu) - 1, NULL, err);
    return jo_array(err);
}

static struct jdoc *pod_spec(const struct jobspec *js, const char *spec_json, struct perr *err)
{
    const struct instance_type *t = instance_type_find(js->instance_type);
    struct jdoc *p = jo_object(err), *list = NULL, *sel = NULL, *tol = NULL;
    int rc = p ? 0 : -1;

    if (rc == 0)
        rc = jo_put_str(p, "restartPolicy", "Never", err);
    if (rc == 0 && js->instance_count > 1)
        rc = jo_put_str(p, "subdomain", service_name(js), err);
    if (rc == 0 && js->eks_service_account)
        rc = jo_put_str(p, "serviceAccountName", js->eks_service_account, err);
    if (rc == 0)
        rc = jo_put_int(p, "terminationGracePeriodSeconds", EKS_GRACE_SECONDS, err);
    if (rc == 0 && (sel = node_selector(js, err)) == NULL)
        rc = -1;
    if (rc == 0 && sel->count) {
        rc = jo_put(p, "nodeSelector", sel, err);
        sel = NULL;
    }
    if (rc == 0 && (tol = tolerations(js, t, err)) == NULL)
        rc = -1;
    if (rc == 0 && tol->count) {
        rc = jo_put(p, "tolerations", tol, err);
        tol = NULL;
    }
    if (rc == 0 && (list = jo_array(err)) == NULL)
        rc = -1;
    if (rc == 0)
        rc = jo_push(list, container(js, spec_json, t, err), err);
    if (rc == 0) {
        rc = jo_put(p, "containers", list, err);
        list = NULL;
    }
    if (rc == 0)
        rc = jo_put(p, "volumes", volumes(js, t, err), err);
    jdoc_free(list);
    jdoc_free(sel);
    jdoc_free(tol);
    if (rc < 0) {
        jdoc_free(p);
        return NULL;
    }
    return p;
}

static struct jdoc *job_spec(const struct jobspec *js, const char *spec_json, struct perr *err)
{
    struct jdoc *s = jo_object(err), *tmpl = NULL, *tmeta = NULL;
    int rc = s ? 0 : -1;

    if (rc == 0 && js->instance_count > 1)
        rc = jo_put_str(s, "completionMode", "Indexed", err);
    if (rc == 0)
        rc = jo_put_int(s, "completions", js->instance_count, err);
    if (rc == 0)
        rc = jo_put_int(s, "parallelism", js->instance_count, err);
    if (rc == 0) /* SageMaker does not retry a failed job either */
        rc = jo_put_int(s, "backoffLimit", 0, err);
    if (rc == 0 && js->max_runtime_s > 0)
        rc = jo_put_int(s, "activeDeadlineSeconds", js->max_runtime_s, err);
    if (rc == 0)
        rc = jo_put_int(s, "ttlSecondsAfterFinished", TTL_AFTER_FINISHED, err);
    if (rc == 0)
        rc = jo_put(s, "podFailurePolicy", pod_failure_policy(err), err);
    if (rc == 0 && ((tmpl = jo_object(err)) == NULL || (tmeta = jo_object(err)) == NULL))
        rc = -1;
    if (rc == 0)
        rc = jo_put(tmeta, "labels", pair("parity/job", js->name, err), err);
    if (rc == 0) {
        rc = jo_put(tmpl, "metadata", tmeta, err);
        tmeta = NULL;
    }
    if (rc == 0)
        rc = jo_put(tmpl, "spec", pod_spec(js, spec_json, err), err);
    if (rc == 0) {
        rc = jo_put(s, "template", tmpl, err);
        tmpl = NULL;
    }
    jdoc_free(tmpl);
    jdoc_free(tmeta);
    if (rc < 0) {
        jdoc_free(s);
        return NULL;
    }
    return s;
}

struct jdoc *
eks_job_manifest(const struct jobspec *js, const char *spec_json, const char *ns, struct perr *err)
{
    struct jdoc *j = jo_object(err);
    int rc = j ? 0 : -1;

    if (rc == 0)
        rc = jo_put_str(j, "apiVersion", "batch/v1", err);
    if (rc == 0)
        rc = jo_put_str(j, "kind", "Job", err);
    if (rc == 0)
        rc = jo_put(j, "metadata", metadata(js, ns, true, err), err);
    if (rc == 0)
        rc = jo_put(j, "spec", job_spec(js, spec_json, err), err);
    if (rc < 0) {
        jdoc_free(j);
        return NULL;
    }
    return j;
}

struct jdoc *eks_service_manifest(const struct jobspec *js, const char *ns, struct perr *err)
{
    struct jdoc *s = jo_object(err), *spec = NULL;
    int rc = s ? 0 : -1;

    if (rc == 0)
        rc = jo_put_str(s, "apiVersion", "v1", err);
    if (rc == 0)
        rc = jo_put_str(s, "kind", "Service", err);
    if (rc == 0)
        rc = jo_put(s, "metadata", metadata(js, ns, false, err), err);
    if (rc == 0 && (spec = jo_object(err)) == NULL)
        rc = -1;
    if (rc == 0) /* headless: DNS names for the pods, no virtual IP */
        rc = jo_put_str(spec, "clusterIP", "None", err);
    if (rc == 0) /* the names exist before the pods are ready: peers find each other at start */
        rc = jo_put_bool(spec, "publishNotReadyAddresses", true, err);
    if (rc == 0)
        rc = jo_put(spec, "selector", pair("job-name", js->name, err), err);
    if (rc == 0) {
        rc = jo_put(s, "spec", spec, err);
        spec = NULL;
    }
    jdoc_free(spec);
    if (rc < 0) {
        jdoc_free(s);
        return NULL;
    }
    return s;
}
