/* SPDX-License-Identifier: MIT */
/* SageMaker training toolkit parity: Environment() and to_env_vars(), rule for rule. */
#include "entrypoint/smenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/pyfmt.h"

#define ENV_VALUE_MAX_BYTES (8u * 1024 * 1024)

/* Hyperparameters the toolkit keeps for itself besides the "sagemaker_" prefix (params.py). */
static const char *const reserved_hps[] = {
    "sagemaker_program",
    "sagemaker_submit_directory",
    "sagemaker_enable_cloudwatch_metrics",
    "sagemaker_region",
    "sagemaker_container_log_level",
    "sagemaker_job_name",
    "default_user_module_name",
    "_tuning_objective_metric",
    "sagemaker_s3_output",
};

/* Any of these switches distribution on for the current instance group (environment.py). */
static const char *const distribution_flags[] = {
    "sagemaker_mpi_enabled",
    "sagemaker_parameter_server_enabled",
    "sagemaker_distributed_dataparallel_enabled",
    "sagemaker_pytorch_ddp_enabled",
    "sagemaker_pytorch_xla_multi_worker_enabled",
    "sagemaker_multi_worker_mirrored_strategy_enabled",
    "sagemaker_torch_distributed_enabled",
};

/* Everything one derivation builds; freed together. */
struct derivation {
    const struct job *job;
    const struct smenv_machine *machine;
    const struct envlist *env;
    struct jdoc *hps;       /* user hyperparameters, decoded */
    struct jdoc *sm_hps;    /* sagemaker_* and reserved ones, decoded */
    struct jdoc *framework; /* sagemaker_* minus the reserved set */
    struct jdoc *tenv;      /* the 37 properties of SM_TRAINING_ENV */
    struct perr *err;
};

static bool is_reserved(const char *key)
{
    for (size_t i = 0; i < sizeof(reserved_hps) / sizeof(reserved_hps[0]); i++) {
        if (strcmp(key, reserved_hps[i]) == 0)
            return true;
    }
    return false;
}

/* json.loads(v) for a string value, the raw value when that fails (TK read_hyperparameters). */
static struct jdoc *decode_hp(const struct jdoc *raw, struct perr *err)
{
    struct jdoc_opts o = {.allow_nonfinite = true};
    struct perr ignored = {0};
    struct jdoc *d;

    if (raw->type != JDOC_STRING)
        return jdoc_clone(raw, err);
    d = jdoc_parse(raw->text, raw->text_len, &o, &ignored);
    return d ? d : jdoc_clone(raw, err);
}

static int split_hyperparameters(struct derivation *dv)
{
    const struct jdoc *raw = dv->job->hyperparameters;

    dv->hps = jdoc_new(JDOC_OBJECT, dv->err);
    dv->sm_hps = jdoc_new(JDOC_OBJECT, dv->err);
    dv->framework = jdoc_new(JDOC_OBJECT, dv->err);
    if (!dv->hps || !dv->sm_hps || !dv->framework)
        return -1;
    for (size_t i = 0; i < raw->count; i++) {
        const char *k = raw->keys[i];
        size_t klen = raw->key_lens[i];
        bool sagemaker = strncmp(k, "sagemaker_", 10) == 0 || is_reserved(k);
        struct jdoc *v = decode_hp(raw->items[i], dv->err);

        if (!v)
            return -1;
        if (!sagemaker) {
            if (jdoc_put(dv->hps, k, klen, v, dv->err) < 0)
                return -1;
            continue;
        }
        if (!is_reserved(k)) {
            struct jdoc *copy = jdoc_clone(v, dv->err);
            if (!copy || jdoc_put(dv->framework, k, klen, copy, dv->err) < 0) {
                jdoc_free(v);
                return -1;
            }
        }
        if (jdoc_put(dv->sm_hps, k, klen, v, dv->err) < 0)
            return -1;
    }
    return 0;
}

static int put(struct derivation *dv, const char *key, struct jdoc *v)
{
    if (!v)
        return -1;
    return jdoc_put(dv->tenv, key, strlen(key), v, dv->err);
}

static int put_str(struct derivation *dv, const char *key, const char *s)
{
    return put(dv, key, s ? jdoc_new_str(s, strlen(s), dv->err) : jdoc_new(JDOC_NULL, dv->err));
}

static int put_path(struct derivation *dv, const char *key, const char *rel)
{
    char path[1200];

    snprintf(path, sizeof(path), "%s%s", dv->job->root, rel);
    return put_str(dv, key, path);
}

static int put_long(struct derivation *dv, const char *key, long v)
{
    char num[32];

    snprintf(num, sizeof(num), "%ld", v);
    return put(dv, key, jdoc_new_number(num, dv->err));
}

static int put_bool(struct derivation *dv, const char *key, bool v)
{
    return put(dv, key, jdoc_new(v ? JDOC_TRUE : JDOC_FALSE, dv->err));
}

/* resource_config.get(key, default) as a fresh node. */
static struct jdoc *rc_get(struct derivation *dv, const char *key, const char *dflt)
{
    const struct jdoc *v = jdoc_get(dv->job->resourceconfig, key);

    if (v)
        return jdoc_clone(v, dv->err);
    return dflt ? jdoc_new_str(dflt, strlen(dflt), dv->err) : jdoc_new(JDOC_ARRAY, dv->err);
}

static bool jdoc_equal_str(const struct jdoc *v, const struct jdoc *s)
{
    return v && s && v->type == JDOC_STRING && s->type == JDOC_STRING &&
           v->text_len == s->text_len && memcmp(v->text, s->text, v->text_len) == 0;
}

/* Python's `name in container` for a list (equality), a str (substring) or a dict (key). */
static bool python_in(const struct jdoc *name, const struct jdoc *container)
{
    if (!name || name->type != JDOC_STRING || !container)
        return false;
    if (container->type == JDOC_STRING)
        return memmem(container->text, container->text_len, name->text, name->text_len) != NULL;
    for (size_t i = 0; i < container->count; i++) {
        if (container->type == JDOC_ARRAY && jdoc_equal_str(container->items[i], name))
            return true;
        if (container->type == JDOC_OBJECT && container->key_lens[i] == name->text_len &&
            memcmp(container->keys[i], name->text, name->text_len) == 0)
            return true;
    }
    return false;
}

static int add_instance_groups(struct derivation *dv, const struct jdoc *cur_group)
{
    const struct jdoc *groups = jdoc_get(dv->job->resourceconfig, "instance_groups");
    struct jdoc *names = jdoc_new(JDOC_ARRAY, dv->err);
    struct jdoc *dict = jdoc_new(JDOC_OBJECT, dv->err);
    struct jdoc *cur_hosts = NULL;
    int rc = names && dict ? 0 : -1;

    for (size_t i = 0; rc == 0 && groups && groups->type == JDOC_ARRAY && i < groups->count; i++) {
        const struct jdoc *g = groups->items[i];
        const struct jdoc *gname = jdoc_get(g, "instance_group_name");
        struct jdoc *copy = jdoc_clone(g, dv->err);
        rc = copy ? jdoc_put(dict, gname->text, gname->text_len, copy, dv->err) : -1;
        if (rc == 0)
            rc = jdoc_append(names, jdoc_clone(gname, dv->err), dv->err);
        if (rc == 0 && !cur_hosts && jdoc_equal_str(gname, cur_group))
            cur_hosts = jdoc_clone(jdoc_get(g, "hosts"), dv->err);
    }
    if (rc == 0 && !cur_hosts)
        cur_hosts = jdoc_new(JDOC_ARRAY, dv->err);
    if (rc == 0)
        rc = put_bool(dv, "is_hetero", names->count > 1);
    if (rc == 0) {
        rc = put(dv, "current_instance_group_hosts", cur_hosts);
        cur_hosts = NULL;
    }
    if (rc == 0) {
        rc = put(dv, "instance_groups", names);
        names = NULL;
    }
    if (rc == 0) {
        rc = put(dv, "instance_groups_dict", dict);
        dict = NULL;
    }
    jdoc_free(names);
    jdoc_free(dict);
    jdoc_free(cur_hosts);
    return rc;
}

/* distribution_instance_groups, distribution_hosts, master_hostname, is_master. */
static int add_distribution(struct derivation *dv, const struct jdoc *cur_group)
{
    const struct jdoc *groups = jdoc_get(dv->job->resourceconfig, "instance_groups");
    const struct jdoc *given = jdoc_get(dv->framework, "sagemaker_distribution_instance_groups");
    struct jdoc *dist_groups, *dist_hosts;
    const struct jdoc *master;
    int rc = 0;

    if (given) {
        dist_groups = jdoc_clone(given, dv->err);
    } else {
        dist_groups = jdoc_new(JDOC_ARRAY, dv->err);
        for (size_t i = 0;
             dist_groups && i < sizeof(distribution_flags) / sizeof(distribution_flags[0]); i++) {
            const struct jdoc *flag = jdoc_get(dv->framework, distribution_flags[i]);
            if (flag && pyfmt_truthy(flag)) {
                rc = jdoc_append(dist_groups, jdoc_clone(cur_group, dv->err), dv->err);
                break;
            }
        }
    }
    if (!dist_groups || rc < 0)
        return -1;
    if (groups && groups->type == JDOC_ARRAY && groups->count > 0) {
        dist_hosts = jdoc_new(JDOC_ARRAY, dv->err);
        for (size_t i = 0; dist_hosts && rc == 0 && i < groups->count; i++) {
            const struct jdoc *g = groups->items[i];
            const struct jdoc *hosts = jdoc_get(g, "hosts");
            if (!python_in(jdoc_get(g, "instance_group_name"), dist_groups))
                continue;
            for (size_t k = 0; rc == 0 && k < hosts->count; k++)
                rc = jdoc_append(dist_hosts, jdoc_clone(hosts->items[k], dv->err), dv->err);
        }
    } else {
        dist_hosts = jdoc_clone(jdoc_get(dv->job->resourceconfig, "hosts"), dv->err);
    }
    if (!dist_hosts || rc < 0) {
        jdoc_free(dist_groups);
        jdoc_free(dist_hosts);
        return -1;
    }
    master = dist_hosts->count ? dist_hosts->items[0]
                               : jdoc_get(dv->job->resourceconfig, "hosts")->items[0];
    rc = put(dv, "master_hostname", jdoc_clone(master, dv->err));
    if (rc == 0)
        rc = put_bool(dv, "is_master", strcmp(master->text, job_current_host(dv->job)) == 0);
    if (rc == 0)
        rc = put(dv, "distribution_instance_groups", dist_groups);
    else
        jdoc_free(dist_groups);
    if (rc == 0)
        rc = put(dv, "distribution_hosts", dist_hosts);
    else
        jdoc_free(dist_hosts);
    return rc;
}

/* `which NAME` on the child's PATH. */
static bool on_path(const char *path_env, const char *name)
{
    char dir[4096];

    for (const char *p = path_env; p && *p;) {
        size_t n = strcspn(p, ":");
        if (n && n < sizeof(dir) - strlen(name) - 2) {
            snprintf(dir, sizeof(dir), "%.*s/%s", (int)n, p, name);
            if (access(dir, X_OK) == 0)
                return true;
        }
        p += n + (p[n] == ':');
    }
    return false;
}

/* SAGEMAKER_PROGRAM, else hp sagemaker_program: module_name, user_entry_point, module_dir. */
static int add_program(struct derivation *dv)
{
    const char *env_prog = envlist_get(dv->env, "SAGEMAKER_PROGRAM");
    const struct jdoc *hp_prog = jdoc_get(dv->sm_hps, "sagemaker_program");
    const struct jdoc *submit = jdoc_get(dv->sm_hps, "sagemaker_submit_directory");
    struct buf name;
    int rc;

    buf_init(&name, ENV_VALUE_MAX_BYTES);
    /* module_name = env value, else str(hp value or None); a trailing ".py" is dropped. */
    if (env_prog)
        rc = buf_append_str(&name, env_prog, dv->err);
    else if (hp_prog)
        rc = pyfmt_str(&name, hp_prog, dv->err);
    else
        rc = buf_append_str(&name, "None", dv->err);
    if (rc == 0 && name.len >= 3 && strcmp(name.data + name.len - 3, ".py") == 0)
        name.data[name.len -= 3] = '\0';
    if (rc == 0)
        rc = put_str(dv, "module_name", name.data);
    /* user_entry_point = the env value when non-empty, else the hp value, else None. */
    if (rc == 0 && env_prog && *env_prog)
        rc = put_str(dv, "user_entry_point", env_prog);
    else if (rc == 0)
        rc = put(dv, "user_entry_point",
                 hp_prog ? jdoc_clone(hp_prog, dv->err) : jdoc_new(JDOC_NULL, dv->err));
    buf_reset(&name);
    if (rc == 0 && submit)
        rc = pyfmt_str(&name, submit, dv->err);
    else if (rc == 0)
        rc = buf_printf(&name, dv->err, "%s/code", dv->job->root);
    if (rc == 0)
        rc = put_str(dv, "module_dir", name.data);
    buf_cleanup(&name);
    return rc;
}

static int add_misc(struct derivation *dv)
{
    const struct jdoc *log_level = jdoc_get(dv->sm_hps, "sagemaker_container_log_level");
    const char *mp = envlist_get(dv->env, "SM_HP_MP_PARAMETERS");
    const char *path = envlist_get(dv->env, "PATH");
    const char *fw = envlist_get(dv->env, "SAGEMAKER_TRAINING_MODULE");
    int rc = 0;

    rc = put(dv, "log_level",
             log_level ? jdoc_clone(log_level, dv->err) : jdoc_new_number("20", dv->err));
    if (rc == 0)
        rc = put_str(dv, "framework_module", fw);
    if (rc == 0)
        rc = put_str(dv, "job_name", envlist_get(dv->env, "TRAINING_JOB_NAME"));
    /* `mp and mp != "{}"`: None when unset, "" when empty, else a bool. */
    if (rc == 0 && !mp)
        rc = put(dv, "is_modelparallel_enabled", jdoc_new(JDOC_NULL, dv->err));
    else if (rc == 0 && !*mp)
        rc = put_str(dv, "is_modelparallel_enabled", "");
    else if (rc == 0)
        rc = put_bool(dv, "is_modelparallel_enabled", strcmp(mp, "{}") != 0);
    if (rc == 0)
        rc = put_bool(dv, "is_smddpmprun_installed", on_path(path, "smddpmprun"));
    if (rc == 0)
        rc = put_bool(dv, "is_smddprun_installed", on_path(path, "smddprun"));
    if (rc == 0)
        rc = put_long(dv, "num_cpus", dv->machine->num_cpus);
    if (rc == 0)
        rc = put_long(dv, "num_gpus", dv->machine->num_gpus);
    if (rc == 0)
        rc = put_long(dv, "num_neurons", dv->machine->num_neurons);
    return rc;
}

static int add_channels(struct derivation *dv)
{
    const struct jdoc *idc = dv->job->inputdataconfig;
    struct jdoc *dirs = jdoc_new(JDOC_OBJECT, dv->err);
    int rc = dirs ? 0 : -1;

    for (size_t i = 0; rc == 0 && i < idc->count; i++) {
        char path[1200];
        snprintf(path, sizeof(path), "%s/input/data/%s", dv->job->root, idc->keys[i]);
        rc = jdoc_put(dirs, idc->keys[i], idc->key_lens[i],
                      jdoc_new_str(path, strlen(path), dv->err), dv->err);
    }
    if (rc < 0) {
        jdoc_free(dirs);
        return -1;
    }
    return put(dv, "channel_input_dirs", dirs);
}

/* The Environment's properties (SM_TRAINING_ENV; also the source of every SM_* value). */
static int build_training_env(struct derivation *dv)
{
    struct jdoc *cur_group;
    int rc;

    dv->tenv = jdoc_new(JDOC_OBJECT, dv->err);
    cur_group = rc_get(dv, "current_group_name", "homogeneousCluster");
    if (!dv->tenv || !cur_group) {
        jdoc_free(cur_group);
        return -1;
    }
    rc = put(dv, "additional_framework_parameters", jdoc_clone(dv->framework, dv->err));
    if (rc == 0)
        rc = add_channels(dv);
    if (rc == 0)
        rc = put_str(dv, "current_host", job_current_host(dv->job));
    if (rc == 0)
        rc = put(dv, "current_instance_group", jdoc_clone(cur_group, dv->err));
    if (rc == 0)
        rc = put(dv, "current_instance_type", rc_get(dv, "current_instance_type", "local"));
    if (rc == 0)
        rc = add_instance_groups(dv, cur_group);
    if (rc == 0)
        rc = add_distribution(dv, cur_group);
    if (rc == 0)
        rc = put(dv, "hosts", jdoc_clone(jdoc_get(dv->job->resourceconfig, "hosts"), dv->err));
    if (rc == 0)
        rc = put(dv, "hyperparameters", jdoc_clone(dv->hps, dv->err));
    if (rc == 0)
        rc = put_path(dv, "input_config_dir", "/input/config");
    if (rc == 0)
        rc = put(dv, "input_data_config", jdoc_clone(dv->job->inputdataconfig, dv->err));
    if (rc == 0)
        rc = put_path(dv, "input_dir", "/input");
    if (rc == 0)
        rc = put_path(dv, "model_dir", "/model");
    if (rc == 0)
        rc = put(dv, "network_interface_name", rc_get(dv, "network_interface_name", "eth0"));
    if (rc == 0)
        rc = put_path(dv, "output_data_dir", "/output/data");
    if (rc == 0)
        rc = put_path(dv, "output_dir", "/output");
    if (rc == 0)
        rc = put_path(dv, "output_intermediate_dir", "/output/intermediate");
    if (rc == 0)
        rc = put(dv, "resource_config", jdoc_clone(dv->job->resourceconfig, dv->err));
    if (rc == 0)
        rc = put(dv, "topology", rc_get(dv, "topology", NULL));
    if (rc == 0)
        rc = add_program(dv);
    if (rc == 0)
        rc = add_misc(dv);
    jdoc_free(cur_group);
    return rc;
}

/* mapping.to_env_vars for one entry: "SM_" + upper(key); str as is, None as "", else JSON. */
static int export(struct derivation *dv,
                  struct envlist *out,
                  const char *key,
                  size_t key_len,
                  const struct jdoc *v)
{
    struct buf name, value;
    int rc;

    buf_init(&name, ENV_VALUE_MAX_BYTES);
    buf_init(&value, ENV_VALUE_MAX_BYTES);
    rc = buf_append_str(&name, "SM_", dv->err);
    if (rc == 0)
        rc = pyfmt_upper(&name, key, key_len, dv->err);
    if (rc == 0 && v->type == JDOC_STRING)
        rc = buf_append(&value, v->text, v->text_len, dv->err);
    else if (rc == 0 && v->type != JDOC_NULL)
        rc = pyfmt_json(&value, v, dv->err);
    else if (rc == 0)
        rc = buf_append(&value, "", 0, dv->err);
    if (rc == 0) {
        /* The toolkit would crash on these; a child cannot read such a variable either. */
        if (strchr(name.data, '=') || strlen(name.data) != name.len ||
            strlen(value.data) != value.len)
            log_warn("environment",
                     "skipping variable with '=' or NUL in its name or value name=\"%s\"",
                     name.data);
        else
            rc = envlist_set(out, name.data, value.data, dv->err);
    }
    buf_cleanup(&name);
    buf_cleanup(&value);
    return rc;
}

/* to_cmd_args(hyperparameters): sorted keys, --key or -k, str() values, dicts as k=v joins. */
static struct jdoc *user_args(struct derivation *dv)
{
    struct jdoc *args = jdoc_new(JDOC_ARRAY, dv->err), *sorted = NULL;
    struct buf b;
    int rc = 0;

    if (!args)
        return NULL;
    buf_init(&b, ENV_VALUE_MAX_BYTES);
    /* A sorted copy of the dict: pyfmt_json sorts, so reuse its order through a round trip. */
    rc = pyfmt_json(&b, dv->hps, dv->err);
    if (rc == 0)
        sorted = jdoc_parse(b.data, b.len, &(struct jdoc_opts){.allow_nonfinite = true}, dv->err);
    for (size_t i = 0; rc == 0 && sorted && i < sorted->count; i++) {
        const char *k = sorted->keys[i];
        size_t klen = sorted->key_lens[i], cps = 0;
        const struct jdoc *v = jdoc_get(dv->hps, k);
        for (size_t p = 0; p < klen; p++)
            cps += ((unsigned char)k[p] & 0xc0) != 0x80;
        buf_reset(&b);
        rc = klen ? buf_printf(&b, dv->err, "%s%s", cps > 1 ? "--" : "-", k)
                  : buf_append(&b, "", 0, dv->err);
        if (rc == 0)
            rc = jdoc_append(args, jdoc_new_str(b.data, b.len, dv->err), dv->err);
        buf_reset(&b);
        if (rc == 0 && v->type == JDOC_OBJECT) {
            struct jdoc *vs = NULL;
            struct buf tmp;
            buf_init(&tmp, ENV_VALUE_MAX_BYTES);
            rc = pyfmt_json(&tmp, v, dv->err);
            if (rc == 0)
                vs = jdoc_parse(tmp.data, tmp.len, &(struct jdoc_opts){.allow_nonfinite = true},
                                dv->err);
            for (size_t m = 0; rc == 0 && vs && m < vs->count; m++) {
                rc = buf_printf(&b, dv->err, "%s%s=", m ? "," : "", vs->keys[m]);
                if (rc == 0)
                    rc = pyfmt_str(&b, jdoc_get(v, vs->keys[m]), dv->err);
            }
            if (rc == 0 && !vs)
                rc = -1;
            jdoc_free(vs);
            buf_cleanup(&tmp);
        } else if (rc == 0 && v->type != JDOC_NULL) {
            rc = pyfmt_str(&b, v, dv->err);
        } else if (rc == 0) {
            rc = buf_append(&b, "", 0, dv->err);
        }
        if (rc == 0)
            rc = jdoc_append(args, jdoc_new_str(b.data, b.len, dv->err), dv->err);
    }
    buf_cleanup(&b);
    if (rc < 0 || !sorted) {
        jdoc_free(sorted);
        jdoc_free(args);
        return NULL;
    }
    jdoc_free(sorted);
    return args;
}

static const struct jdoc *prop(const struct derivation *dv, const char *key)
{
    return jdoc_get(dv->tenv, key);
}

/* The names to_env_vars() exports, in its order (later ones win a collision), each mapped from a
 * training-environment property; NULL marks the entries built specially. */
static const char *const exported[][2] = {
    {"hosts", "hosts"},
    {"network_interface_name", "network_interface_name"},
    {"hps", "hyperparameters"},
    {"user_entry_point", "user_entry_point"},
    {"framework_params", "additional_framework_parameters"},
    {"resource_config", "resource_config"},
    {"input_data_config", "input_data_config"},
    {"output_data_dir", "output_data_dir"},
    {"channels", NULL},
    {"current_host", "current_host"},
    {"current_instance_type", "current_instance_type"},
    {"current_instance_group", "current_instance_group"},
    {"current_instance_group_hosts", "current_instance_group_hosts"},
    {"instance_groups", "instance_groups"},
    {"instance_groups_dict", "instance_groups_dict"},
    {"distribution_instance_groups", "distribution_instance_groups"},
    {"is_hetero", "is_hetero"},
    {"module_name", "module_name"},
    {"log_level", "log_level"},
    {"framework_module", "framework_module"},
    {"input_dir", "input_dir"},
    {"input_config_dir", "input_config_dir"},
    {"output_dir", "output_dir"},
    {"num_cpus", "num_cpus"},
    {"num_gpus", "num_gpus"},
    {"num_neurons", "num_neurons"},
    {"model_dir", "model_dir"},
    {"module_dir", "module_dir"},
    {"training_env", NULL},
    {"user_args", NULL},
    {"output_intermediate_dir", "output_intermediate_dir"},
};

static int export_all(struct derivation *dv, struct envlist *out, const struct jdoc *args)
{
    const struct jdoc *dirs = prop(dv, "channel_input_dirs");
    struct jdoc *channels = NULL;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < sizeof(exported) / sizeof(exported[0]); i++) {
        const char *key = exported[i][0];
        const struct jdoc *v = exported[i][1] ? prop(dv, exported[i][1]) : NULL;
        if (strcmp(key, "training_env") == 0) {
            v = dv->tenv;
        } else if (strcmp(key, "user_args") == 0) {
            v = args;
        } else if (strcmp(key, "channels") == 0) {
            /* sorted(channel names): the sorted JSON of the dirs object gives that order */
            struct buf b;
            struct jdoc *sorted;
            buf_init(&b, ENV_VALUE_MAX_BYTES);
            rc = pyfmt_json(&b, dirs, dv->err);
            sorted = rc == 0 ? jdoc_parse(b.data, b.len, NULL, dv->err) : NULL;
            buf_cleanup(&b);
            channels = jdoc_new(JDOC_ARRAY, dv->err);
            for (size_t k = 0; sorted && channels && rc == 0 && k < sorted->count; k++)
                rc = jdoc_append(
                    channels, jdoc_new_str(sorted->keys[k], sorted->key_lens[k], dv->err), dv->err);
            jdoc_free(sorted);
            if (!channels || !sorted)
                rc = -1;
            v = channels;
        }
        if (rc == 0)
            rc = export(dv, out, key, strlen(key), v);
    }
    jdoc_free(channels);
    /* topology only when it is truthy (GB200 UltraServer jobs) */
    if (rc == 0 && pyfmt_truthy(prop(dv, "topology")))
        rc = export(dv, out, "topology", 8, prop(dv, "topology"));
    for (size_t i = 0; rc == 0 && i < dirs->count; i++) {
        char key[1100];
        int n = snprintf(key, sizeof(key), "channel_%.*s", (int)dirs->key_lens[i], dirs->keys[i]);
        rc = export(dv, out, key, (size_t)n, dirs->items[i]);
    }
    for (size_t i = 0; rc == 0 && i < dv->hps->count; i++) {
        struct buf key;
        buf_init(&key, ENV_VALUE_MAX_BYTES);
        rc = buf_append_str(&key, "hp_", dv->err);
        if (rc == 0)
            rc = buf_append(&key, dv->hps->keys[i], dv->hps->key_lens[i], dv->err);
        if (rc == 0)
            rc = export(dv, out, key.data, key.len, dv->hps->items[i]);
        buf_cleanup(&key);
    }
    return rc;
}

/* CURRENT_HOST, SAGEMAKER_JOB_NAME and SAGEMAKER_REGION, which the toolkit writes to os.environ,
 * and PYTHONPATH with the code folder first. */
static int
export_toolkit_side_effects(struct derivation *dv, struct envlist *out, const char *code_dir)
{
    const struct jdoc *job = jdoc_get(dv->sm_hps, "sagemaker_job_name");
    const struct jdoc *region = jdoc_get(dv->sm_hps, "sagemaker_region");
    const char *old_path = envlist_get(dv->env, "PYTHONPATH");
    struct buf b;
    int rc;

    buf_init(&b, ENV_VALUE_MAX_BYTES);
    rc = envlist_set(out, "CURRENT_HOST", job_current_host(dv->job), dv->err);
    if (rc == 0 && job)
        rc = pyfmt_str(&b, job, dv->err);
    if (rc == 0)
        rc = envlist_set(out, "SAGEMAKER_JOB_NAME", b.data ? b.data : "", dv->err);
    buf_reset(&b);
    /* hp value `or ""`; without the hp, boto3's region: AWS_DEFAULT_REGION (not AWS_REGION) */
    if (rc == 0 && region && pyfmt_truthy(region))
        rc = pyfmt_str(&b, region, dv->err);
    else if (rc == 0 && !region && envlist_get(dv->env, "AWS_DEFAULT_REGION"))
        rc = buf_append_str(&b, envlist_get(dv->env, "AWS_DEFAULT_REGION"), dv->err);
    if (rc == 0)
        rc = envlist_set(out, "SAGEMAKER_REGION", b.data ? b.data : "", dv->err);
    buf_reset(&b);
    if (rc == 0)
        rc = buf_printf(&b, dv->err, "%s%s%s", code_dir, old_path && *old_path ? ":" : "",
                        old_path ? old_path : "");
    if (rc == 0)
        rc = envlist_set(out, "PYTHONPATH", b.data, dv->err);
    buf_cleanup(&b);
    return rc;
}

static char *dup_or_fail(const char *s, struct perr *err)
{
    char *d = strdup(s);

    if (!d)
        perr_set(err, PERR_NOMEM, "out of memory");
    return d;
}

int smenv_derive(const struct job *j,
                 const struct smenv_machine *m,
                 const struct envlist *env,
                 struct envlist *out,
                 struct smenv *sm,
                 struct perr *err)
{
    struct derivation dv = {.job = j, .machine = m, .env = env, .err = err};
    const struct jdoc *entry;
    char code_dir[1200];
    int rc;

    snprintf(code_dir, sizeof(code_dir), "%s/code", j->root);
    rc = split_hyperparameters(&dv);
    if (rc == 0)
        rc = build_training_env(&dv);
    if (rc == 0) {
        sm->user_args = user_args(&dv);
        rc = sm->user_args ? 0 : -1;
    }
    if (rc == 0)
        rc = export_all(&dv, out, sm->user_args);
    if (rc == 0)
        rc = export_toolkit_side_effects(&dv, out, code_dir);
    if (rc == 0) {
        struct buf b;
        entry = prop(&dv, "user_entry_point");
        buf_init(&b, ENV_VALUE_MAX_BYTES);
        if (entry->type != JDOC_NULL && pyfmt_str(&b, entry, err) == 0)
            sm->entry_point = buf_steal(&b);
        buf_cleanup(&b);
        sm->master_host = dup_or_fail(prop(&dv, "master_hostname")->text, err);
        sm->code_dir = dup_or_fail(code_dir, err);
        if (!sm->master_host || !sm->code_dir)
            rc = -1;
    }
    jdoc_free(dv.hps);
    jdoc_free(dv.sm_hps);
    jdoc_free(dv.framework);
    jdoc_free(dv.tenv);
    return rc;
}

void smenv_cleanup(struct smenv *sm)
{
    jdoc_free(sm->user_args);
    free(sm->entry_point);
    free(sm->master_host);
    free(sm->code_dir);
    *sm = (struct smenv){0};
}
