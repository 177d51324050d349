/* SPDX-License-Identifier: MIT */
/* The config files SageMaker writes, written the same way from the job spec
 * (contract/sagemaker.md §1.2-1.3), so one code path derives the environment everywhere. */
#include "entrypoint/materialize.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "entrypoint/job.h"
#include "lib/fsutil.h"
#include "lib/pyfmt.h"

/* Paths under /opt/ml in the spec follow --root, like every SM_* path. */
static void ml_path(char *out, size_t out_len, const char *root, const char *path)
{
    if (strncmp(path, "/opt/ml", 7) == 0 && (path[7] == '/' || path[7] == '\0'))
        snprintf(out, out_len, "%s%s", root, path + 7);
    else
        snprintf(out, out_len, "%s", path);
}

static int put_json_string(struct buf *b, const char *s, struct perr *err)
{
    struct jdoc v = {.type = JDOC_STRING, .text = (char *)s, .text_len = strlen(s)};

    return pyfmt_json_default(b, &v, err);
}

/* {"key": "<json.dumps(value)>", ...}: the SageMaker SDK's encoding of hyperparameters. */
static int plan_hyperparameters(struct buf *b, const struct jobspec *js, struct perr *err)
{
    const struct jdoc *hps = js->hyperparameters;
    struct jdoc *encoded = jdoc_new(JDOC_OBJECT, err);
    struct buf v;
    int rc = encoded ? 0 : -1;

    buf_init(&v, JOB_CONFIG_MAX_BYTES);
    for (size_t i = 0; rc == 0 && hps && i < hps->count; i++) {
        buf_reset(&v);
        rc = pyfmt_json_default(&v, hps->items[i], err);
        if (rc == 0)
            rc = jdoc_put(encoded, hps->keys[i], hps->key_lens[i], jdoc_new_str(v.data, v.len, err),
                          err);
    }
    if (rc == 0)
        rc = pyfmt_json_default(b, encoded, err);
    buf_cleanup(&v);
    jdoc_free(encoded);
    return rc;
}

static int put_hosts(struct buf *b, const struct hostplan *h, struct perr *err)
{
    int rc = buf_append_str(b, "[", err);

    for (long i = 0; rc == 0 && i < h->count; i++)
        rc = buf_printf(b, err, "%s\"algo-%ld\"", i ? ", " : "", i + 1);
    return rc < 0 ? -1 : buf_append_str(b, "]", err);
}

/* Key order and defaults as SageMaker writes the file for a homogeneous cluster. */
static int plan_resourceconfig(struct buf *b,
                               const struct jobspec *js,
                               const struct hostplan *h,
                               struct perr *err)
{
    const char *type = js->instance_type ? js->instance_type : "local";
    int rc = buf_printf(
        b, err, "{\"current_host\": \"algo-%ld\", \"current_instance_type\": ", h->index + 1);

    if (rc == 0)
        rc = put_json_string(b, type, err);
    if (rc == 0)
        rc =
            buf_append_str(b, ", \"current_group_name\": \"homogeneousCluster\", \"hosts\": ", err);
    if (rc == 0)
        rc = put_hosts(b, h, err);
    if (rc == 0)
        rc = buf_append_str(
            b,
            ", \"instance_groups\": [{\"instance_group_name\": \"homogeneousCluster\", "
            "\"instance_type\": ",
            err);
    if (rc == 0)
        rc = put_json_string(b, type, err);
    if (rc == 0)
        rc = buf_append_str(b, ", \"hosts\": ", err);
    if (rc == 0)
        rc = put_hosts(b, h, err);
    if (rc == 0)
        rc =
            buf_append_str(b, "}], \"network_interface_name\": \"eth0\", \"topology\": null}", err);
    return rc;
}

static int plan_inputdataconfig(struct buf *b, const struct jobspec *js, struct perr *err)
{
    int rc = buf_append_str(b, "{", err);

    for (size_t i = 0; rc == 0 && i < js->channel_count; i++) {
        const struct jobspec_channel *c = &js->channels[i];
        if (i)
            rc = buf_append_str(b, ", ", err);
        if (rc == 0)
            rc = put_json_string(b, c->name, err);
        if (rc == 0)
            rc = buf_append_str(b, ": {", err);
        if (rc == 0 && c->content_type) {
            rc = buf_append_str(b, "\"ContentType\": ", err);
            if (rc == 0)
                rc = put_json_string(b, c->content_type, err);
            if (rc == 0)
                rc = buf_append_str(b, ", ", err);
        }
        if (rc == 0)
            rc = buf_printf(b, err,
                            "\"TrainingInputMode\": \"%s\", \"S3DistributionType\": \"%s\", "
                            "\"RecordWrapperType\": \"None\"}",
                            c->mode, c->distribution);
    }
    return rc < 0 ? -1 : buf_append_str(b, "}", err);
}

int materialize_plan(struct materialized *m,
                     const struct jobspec *js,
                     const struct hostplan *h,
                     const char *root,
                     struct perr *err)
{
    char ck[4200];

    int rc;

    buf_init(&m->hyperparameters, JOB_CONFIG_MAX_BYTES);
    buf_init(&m->resourceconfig, JOB_CONFIG_MAX_BYTES);
    buf_init(&m->inputdataconfig, JOB_CONFIG_MAX_BYTES);
    buf_init(&m->checkpointconfig, JOB_CONFIG_MAX_BYTES);
    rc = plan_hyperparameters(&m->hyperparameters, js, err);
    if (rc == 0)
        rc = plan_resourceconfig(&m->resourceconfig, js, h, err);
    if (rc == 0)
        rc = plan_inputdataconfig(&m->inputdataconfig, js, err);
    if (rc == 0 && js->checkpoint_uri) {
        ml_path(ck, sizeof(ck), root, js->checkpoint_local_path);
        rc = buf_append_str(&m->checkpointconfig, "{\"LocalPath\": ", err);
        if (rc == 0)
            rc = put_json_string(&m->checkpointconfig, ck, err);
        if (rc == 0)
            rc = buf_append_str(&m->checkpointconfig, "}", err);
    }
    return rc;
}

void materialize_cleanup(struct materialized *m)
{
    buf_cleanup(&m->hyperparameters);
    buf_cleanup(&m->resourceconfig);
    buf_cleanup(&m->inputdataconfig);
    buf_cleanup(&m->checkpointconfig);
}

/* Writes through a temporary name and renames, so a reader never sees half a file. */
static int write_file(const char *dir, const char *name, const struct buf *b, struct perr *err)
{
    char path[4200], tmp[4300];
    int fd;
    ssize_t n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return perr_sys(err, "creating %s", tmp);
    n = write(fd, b->data ? b->data : "", b->len);
    if (n != (ssize_t)b->len) {
        perr_sys(err, "writing %s", tmp);
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        perr_sys(err, "renaming %s to %s", tmp, path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* A file:// channel appears at ROOT/input/data/<name> as a link to the local folder. */
static int link_channel(const char *root, const struct jobspec_channel *c, struct perr *err)
{
    const char *target = c->uri + strlen("file://");
    char path[4200];
    struct stat st;

    snprintf(path, sizeof(path), "%s/input/data/%s", root, c->name);
    if (stat(target, &st) < 0)
        return perr_sys(err, "channel %s: reading %s", c->name, target);
    if (lstat(path, &st) == 0) {
        if (S_ISLNK(st.st_mode) || (S_ISDIR(st.st_mode) && rmdir(path) == 0)) {
            if (S_ISLNK(st.st_mode) && unlink(path) < 0)
                return perr_sys(err, "replacing %s", path);
        } else {
            return perr_set(err, PERR_IO,
                            "channel %s: %s already exists and is not empty; "
                            "use a fresh --root",
                            c->name, path);
        }
    }
    if (symlink(target, path) < 0)
        return perr_sys(err, "linking channel %s at %s", c->name, path);
    return 0;
}

static const char *const job_dirs[] = {
    "/model", "/output/data", "/output/intermediate", "/code", "/input/config", "/input/data",
};

void materialize_standard_dirs(const char *root)
{
    static const char *const dirs[] = {"/model", "/output/data", "/output/intermediate", "/code"};
    struct perr ignored = {0};
    char dir[4200];

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(dir, sizeof(dir), "%s%s", root, dirs[i]);
        (void)!fs_mkdirs(dir, &ignored);
    }
}

int materialize_paths(const struct jobspec *js, const char *root, struct buf *out, struct perr *err)
{
    static const char *const files[] = {"hyperparameters.json", "resourceconfig.json",
                                        "inputdataconfig.json"};
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < sizeof(job_dirs) / sizeof(job_dirs[0]); i++)
        rc = buf_printf(out, err, "%s%s/\n", root, job_dirs[i]);
    if (rc == 0 && js->checkpoint_uri) {
        char ck[4200];
        ml_path(ck, sizeof(ck), root, js->checkpoint_local_path);
        rc = buf_printf(out, err, "%s/\n", ck);
    }
    for (size_t i = 0; rc == 0 && i < sizeof(files) / sizeof(files[0]); i++)
        rc = buf_printf(out, err, "%s/input/config/%s\n", root, files[i]);
    if (rc == 0 && js->checkpoint_uri)
        rc = buf_printf(out, err, "%s/input/config/checkpointconfig.json\n", root);
    for (size_t i = 0; rc == 0 && i < js->channel_count; i++)
        rc = buf_printf(out, err, "%s/input/data/%s/\n", root, js->channels[i].name);
    return rc;
}

int materialize_write(const struct materialized *m,
                      const struct jobspec *js,
                      const char *root,
                      struct perr *err)
{
    char dir[4200];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < sizeof(job_dirs) / sizeof(job_dirs[0]); i++) {
        snprintf(dir, sizeof(dir), "%s%s", root, job_dirs[i]);
        rc = fs_mkdirs(dir, err);
    }
    if (rc == 0 && js->checkpoint_uri) {
        ml_path(dir, sizeof(dir), root, js->checkpoint_local_path);
        rc = fs_mkdirs(dir, err);
    }
    snprintf(dir, sizeof(dir), "%s/input/config", root);
    if (rc == 0)
        rc = write_file(dir, "hyperparameters.json", &m->hyperparameters, err);
    if (rc == 0)
        rc = write_file(dir, "resourceconfig.json", &m->resourceconfig, err);
    if (rc == 0)
        rc = write_file(dir, "inputdataconfig.json", &m->inputdataconfig, err);
    if (rc == 0 && js->checkpoint_uri)
        rc = write_file(dir, "checkpointconfig.json", &m->checkpointconfig, err);
    for (size_t i = 0; rc == 0 && i < js->channel_count; i++) {
        const struct jobspec_channel *c = &js->channels[i];
        if (strncmp(c->uri, "file://", 7) == 0) {
            rc = link_channel(root, c, err);
        } else {
            /* s3:// channels are filled by entrypoint/channels.c once credentials exist */
            snprintf(dir, sizeof(dir), "%s/input/data/%s", root, c->name);
            rc = fs_mkdirs(dir, err);
        }
    }
    return rc;
}
