/* SPDX-License-Identifier: MIT */
/* OCI runtime bundles for local runs: a config.json made by umoci or runc, adjusted. */
#include "shim/local_bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "shim/jsonout.h"

extern char **environ;

/* Runs a helper tool (umoci, runc) to its end; its output goes to our stderr. */
static int run_tool(char *const argv[], struct perr *err)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status, rc;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
    rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        errno = rc;
        return perr_sys(err, "running %s (is it installed?)", argv[0]);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return perr_set(err, PERR_IO, "%s %s failed (status %d)", argv[0], argv[1],
                        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}

static int mount_entry(struct jdoc *mounts,
                       const char *dest,
                       const char *type,
                       const char *source,
                       const char *const *options,
                       struct perr *err)
{
    struct jdoc *m = jo_object(err), *opts = m ? jo_array(err) : NULL;
    int rc = opts ? 0 : -1;

    for (size_t i = 0; rc == 0 && options[i]; i++)
        rc = jo_push_str(opts, options[i], err);
    if (rc == 0)
        rc = jo_put_str(m, "destination", dest, err);
    if (rc == 0)
        rc = jo_put_str(m, "type", type, err);
    if (rc == 0)
        rc = jo_put_str(m, "source", source, err);
    if (rc == 0) {
        rc = jo_put(m, "options", opts, err);
        opts = NULL;
    }
    jdoc_free(opts);
    if (rc == 0)
        return jo_push(mounts, m, err);
    jdoc_free(m);
    return -1;
}

/* KEY=VALUE into the process environment, replacing an earlier KEY. */
static int set_env(struct jdoc *envs, const char *key, const char *value, struct perr *err)
{
    struct buf kv;
    size_t klen = strlen(key);
    int rc;

    for (size_t i = 0; i < envs->count; i++) {
        const struct jdoc *e = envs->items[i];
        if (e->type == JDOC_STRING && e->text_len > klen && !strncmp(e->text, key, klen) &&
            e->text[klen] == '=') {
            jdoc_free(envs->items[i]);
            memmove(&envs->items[i], &envs->items[i + 1],
                    (envs->count - i - 1) * sizeof(envs->items[0]));
            envs->count--;
            break;
        }
    }
    buf_init(&kv, 2u << 20);
    rc = buf_printf(&kv, err, "%s=%s", key, value);
    if (rc == 0)
        rc = jo_push_str(envs, kv.data, err);
    buf_cleanup(&kv);
    return rc;
}

/* The spec's command behind parity-init, or the image's own arguments without one. */
static int
set_args(struct jdoc *process, const struct jobspec *js, bool image_args, struct perr *err)
{
    struct jdoc *args;
    int rc;

    if (!js->command && image_args)
        return 0;
    if (!js->command)
        return perr_set(err, PERR_USAGE,
                        "a root filesystem folder has no command of its own: give the spec a "
                        "\"command\"");
    args = jo_array(err);
    rc = args ? jo_push_str(args, LOCAL_BUNDLE_INIT, err) : -1;
    if (rc == 0)
        rc = jo_push_str(args, "--", err);
    for (size_t i = 0; rc == 0 && i < js->command->count; i++)
        rc = jo_push_str(args, js->command->items[i]->text, err);
    if (rc == 0)
        return jo_put(process, "args", args, err);
    jdoc_free(args);
    return -1;
}

/* Local runs share this machine's network: S3 and the other services on its loopback are
 * where the job can reach them. */
static int drop_network_namespace(struct jdoc *config, struct perr *err)
{
    struct jdoc *linux_ = jdoc_get(config, "linux");
    struct jdoc *ns = jdoc_get(linux_, "namespaces"), *kept;
    int rc;

    if (!ns || ns->type != JDOC_ARRAY)
        return 0;
    kept = jo_array(err);
    rc = kept ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < ns->count; i++) {
        const char *type = jdoc_get_str(ns->items[i], "type");
        if (type && !strcmp(type, "network"))
            continue;
        rc = jo_push(kept, jdoc_clone(ns->items[i], err), err);
    }
    if (rc == 0)
        return jo_put(linux_, "namespaces", kept, err);
    jdoc_free(kept);
    return -1;
}

/* A writable /etc/hosts of the container's own, as container engines give one: parity-init
 * adds the algo-N names of the job's hosts to it. */
static int hosts_file(const char *bundle, char *path, size_t len, struct perr *err)
{
    static const char text[] = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n";
    int fd;

    snprintf(path, len, "%s/hosts", bundle);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1) || close(fd) < 0)
        return perr_sys(err, "writing %s", path);
    return 0;
}

/* file:// channels, output and checkpoints name folders of this machine: the container sees
 * them at the same paths (channels read-only), as parity-init is told. */
static int file_uri_mounts(struct jdoc *mounts, const struct jobspec *js, struct perr *err)
{
    static const char *const ro[] = {"rbind", "ro", NULL}, *const rw[] = {"rbind", "rw", NULL};
    const char *writable[] = {js->output, js->checkpoint_uri};
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < js->channel_count; i++) {
        const char *uri = js->channels[i].uri;
        if (!strncmp(uri, "file://", 7))
            rc = mount_entry(mounts, uri + 7, "bind", uri + 7, ro, err);
    }
    for (size_t i = 0; rc == 0 && i < 2; i++) {
        if (!writable[i] || strncmp(writable[i], "file://", 7) != 0)
            continue;
        rc = fs_mkdirs(writable[i] + 7, err);
        if (rc == 0)
            rc = mount_entry(mounts, writable[i] + 7, "bind", writable[i] + 7, rw, err);
    }
    return rc;
}

static int adjust(struct jdoc *config,
                  const struct local_bundle_inputs *in,
                  const char *bundle,
                  const char *rootfs_dir,
                  struct perr *err)
{
    static const char *const ro_bind[] = {"rbind", "ro", NULL};
    char hosts[1200];
    static const char *const aws[] = {
        "AWS_ACCESS_KEY_ID",  "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",  "AWS_REGION",
        "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",      "AWS_ENDPOINT_URL_S3"};
    struct jdoc *process = jdoc_get(config, "process");
    struct jdoc *envs = jdoc_get(process, "env");
    struct jdoc *mounts = jdoc_get(config, "mounts");
    static const char *const bind[] = {"rbind", "rw", NULL};
    static const char *const tmp[] = {"nosuid", "nodev", "mode=1777", NULL};
    char host[32], idx[24];
    int rc = process && envs && mounts
                 ? 0
                 : perr_set(err, PERR_PARSE, "config.json lacks a process, env or mounts");

    snprintf(host, sizeof(host), "algo-%ld", in->index + 1);
    snprintf(idx, sizeof(idx), "%ld", in->index);
    if (rc == 0)
        rc = set_args(process, in->js, rootfs_dir == NULL, err);
    if (rc == 0)
        rc = jo_put_bool(process, "terminal", false, err);
    if (rc == 0)
        rc = set_env(envs, "PARITY_JOB_CONFIG", in->spec_json, err);
    if (rc == 0)
        rc = set_env(envs, "PARITY_HOST_INDEX", idx, err);
    for (size_t i = 0; rc == 0 && i < sizeof(aws) / sizeof(aws[0]); i++) {
        const char *v = envlist_get(in->env, aws[i]);
        if (v)
            rc = set_env(envs, aws[i], v, err);
    }
    if (rc == 0)
        rc = jo_put_str(config, "hostname", host, err);
    if (rc == 0)
        rc = mount_entry(mounts, "/opt/ml", "bind", in->ml_root, bind, err);
    if (rc == 0)
        rc = file_uri_mounts(mounts, in->js, err);
    if (rc == 0)
        rc = hosts_file(bundle, hosts, sizeof(hosts), err);
    if (rc == 0)
        rc = mount_entry(mounts, "/etc/hosts", "bind", hosts, bind, err);
    if (rc == 0 && access("/etc/resolv.conf", R_OK) == 0) /* this machine's DNS, as Docker's */
        rc = mount_entry(mounts, "/etc/resolv.conf", "bind", "/etc/resolv.conf", ro_bind, err);
    if (rc == 0 && rootfs_dir) {
        /* someone's folder: read-only, with a private /tmp */
        struct jdoc *root = jo_object(err);
        rc = root ? jo_put_str(root, "path", rootfs_dir, err) : -1;
        if (rc == 0)
            rc = jo_put_bool(root, "readonly", true, err);
        if (rc == 0)
            rc = jo_put(config, "root", root, err);
        else
            jdoc_free(root);
        if (rc == 0)
            rc = mount_entry(mounts, "/tmp", "tmpfs", "tmpfs", tmp, err);
    }
    if (rc == 0)
        rc = drop_network_namespace(config, err);
    return rc;
}

int local_bundle_prepare(const struct local_bundle_inputs *in, const char *bundle, struct perr *err)
{
    const char *image = in->js->image;
    char config_path[1200], layout[1100], rootfs[1100];
    struct stat st;
    struct jdoc *config = NULL;
    struct buf text;
    int rc;

    if (!image)
        return perr_set(err, PERR_USAGE, "the spec has no image to run (or use --no-container)");
    if (fs_mkdirs(bundle, err) < 0)
        return -1;
    snprintf(config_path, sizeof(config_path), "%s/config.json", bundle);
    if (strncmp(image, "oci:", 4) == 0) {
        char *argv[] = {"umoci", "unpack", "--image", layout, (char *)bundle, NULL};
        char pristine[1300];
        snprintf(layout, sizeof(layout), "%s%s", image + 4,
                 strrchr(image + 4, ':') ? "" : ":latest");
        snprintf(pristine, sizeof(pristine), "%s/config.umoci.json", bundle);
        rootfs[0] = '\0';
        /* unpacked once; each run adjusts umoci's own config afresh */
        if (access(pristine, F_OK) == 0) {
            rc = fs_copy_file(pristine, config_path, err);
        } else {
            rc = run_tool(argv, err);
            if (rc == 0)
                rc = fs_copy_file(config_path, pristine, err);
        }
    } else if (stat(image, &st) == 0 && S_ISDIR(st.st_mode)) {
        char *argv[] = {"runc", "spec", "--bundle", (char *)bundle, NULL};
        if (realpath(image, rootfs) == NULL)
            return perr_sys(err, "image %s", image);
        unlink(config_path); /* runc spec will not overwrite one */
        rc = run_tool(argv, err);
    } else {
        return perr_set(err, PERR_USAGE,
                        "image '%s': a local run takes an OCI image layout (oci:/path[:tag]) or a "
                        "root filesystem folder; copy a registry image into a layout first "
                        "(skopeo copy docker://IMAGE oci:/path:tag, or buildah push IMAGE "
                        "oci:/path:tag)",
                        image);
    }
    if (rc < 0)
        return perr_wrap(err, "preparing %s", bundle);
    buf_init(&text, 4u << 20);
    rc = buf_read_file(&text, config_path, err);
    if (rc == 0 && (config = jdoc_parse(text.data ? text.data : "", text.len, NULL, err)) == NULL)
        rc = perr_wrap(err, "%s", config_path);
    if (rc == 0)
        rc = adjust(config, in, bundle, rootfs[0] ? rootfs : NULL, err);
    buf_reset(&text);
    if (rc == 0)
        rc = jo_write(&text, config, true, err);
    jdoc_free(config);
    if (rc == 0) {
        int fd = open(config_path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd < 0 || write(fd, text.data, text.len) != (ssize_t)text.len || close(fd) < 0)
            rc = perr_sys(err, "writing %s", config_path);
    }
    buf_cleanup(&text);
    return rc;
}
