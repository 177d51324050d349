/* SPDX-License-Identifier: MIT */
/* kubeconfig files, in-cluster config, and the credentials they name. */
#include "shim/kube_config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/base64.h"
#include "lib/creds.h"
#include "lib/eks_token.h"
#include "lib/yaml.h"

#define MAX_KUBECONFIG_BYTES (4u << 20)
#define SA_DIR_DEFAULT       "/var/run/secrets/kubernetes.io/serviceaccount"

extern char **environ;

void kube_config_cleanup(struct kube_config *k)
{
    buf_cleanup(&k->ca_pem);
    buf_cleanup(&k->cert_pem);
    buf_cleanup(&k->key_pem);
    jdoc_free(k->exec);
    k->exec = NULL;
    memset(k->token, 0, sizeof(k->token));
    pthread_mutex_destroy(&k->mu);
}

/* A path in a kubeconfig is relative to the file's folder. */
static void resolve(const char *dir, const char *path, char *out, size_t len)
{
    if (path[0] == '/' || !dir[0])
        snprintf(out, len, "%s", path);
    else
        snprintf(out, len, "%s/%s", dir, path);
}

/* field-data (base64) or field (a file) into out. */
static int pem_from(const struct jdoc *obj,
                    const char *data_key,
                    const char *file_key,
                    const char *dir,
                    struct buf *out,
                    struct perr *err)
{
    const char *data = jdoc_get_str(obj, data_key), *file = jdoc_get_str(obj, file_key);
    char path[2048];

    if (data)
        return base64_decode(out, data, strlen(data), err) < 0 ? perr_wrap(err, "%s", data_key) : 0;
    if (!file)
        return 0;
    resolve(dir, file, path, sizeof(path));
    return buf_read_file(out, path, err) < 0 ? perr_wrap(err, "%s", file_key) : 0;
}

/* The named entry of a list of {name, <kind>: {...}}, merged over every file: the first file
 * that has the name wins, as kubectl merges. */
static const struct jdoc *named(struct jdoc *const *docs,
                                size_t n,
                                const char *list,
                                const char *kind,
                                const char *name,
                                size_t *which)
{
    for (size_t d = 0; d < n; d++) {
        const struct jdoc *l = jdoc_get(docs[d], list);
        for (size_t i = 0; l && l->type == JDOC_ARRAY && i < l->count; i++) {
            const char *nm = jdoc_get_str(l->items[i], "name");
            if (nm && strcmp(nm, name) == 0) {
                *which = d;
                return jdoc_get(l->items[i], kind);
            }
        }
    }
    return NULL;
}

/* Recognises the exec block `aws eks get-token --cluster-name NAME [--region R]` that `aws eks
 * update-kubeconfig` writes, which parity makes in-process (with a role, the CLI runs). */
static bool builtin_eks(struct kube_config *k, const struct jdoc *exec)
{
    const char *cmd = jdoc_get_str(exec, "command");
    const struct jdoc *args = jdoc_get(exec, "args");
    const char *base = cmd ? strrchr(cmd, '/') : NULL;
    bool eks = false, get_token = false;

    base = base ? base + 1 : cmd;
    if (!base || strcmp(base, "aws") != 0 || !args || args->type != JDOC_ARRAY)
        return false;
    for (size_t i = 0; i < args->count; i++) {
        const char *a = args->items[i]->type == JDOC_STRING ? args->items[i]->text : "";
        const char *next = i + 1 < args->count && args->items[i + 1]->type == JDOC_STRING
                               ? args->items[i + 1]->text
                               : NULL;
        if (!strcmp(a, "eks"))
            eks = true;
        else if (!strcmp(a, "get-token"))
            get_token = true;
        else if ((!strcmp(a, "--cluster-name") || !strcmp(a, "--cluster-id")) && next)
            snprintf(k->eks_cluster, sizeof(k->eks_cluster), "%s", next);
        else if (!strcmp(a, "--region") && next)
            snprintf(k->eks_region, sizeof(k->eks_region), "%s", next);
        else if (!strcmp(a, "--role") || !strcmp(a, "--role-arn"))
            return false;
    }
    return eks && get_token && k->eks_cluster[0];
}

static int
user_auth(struct kube_config *k, const struct jdoc *user, const char *dir, struct perr *err)
{
    const char *token = jdoc_get_str(user, "token"), *file = jdoc_get_str(user, "tokenFile");
    const struct jdoc *exec = jdoc_get(user, "exec");

    if (pem_from(user, "client-certificate-data", "client-certificate", dir, &k->cert_pem, err) <
            0 ||
        pem_from(user, "client-key-data", "client-key", dir, &k->key_pem, err) < 0)
        return -1;
    if (token) {
        k->auth = KUBE_AUTH_TOKEN;
        snprintf(k->token, sizeof(k->token), "%s", token);
    } else if (file) {
        k->auth = KUBE_AUTH_TOKEN;
        resolve(dir, file, k->token_file, sizeof(k->token_file));
    } else if (exec && exec->type == JDOC_OBJECT) {
        const char *api = jdoc_get_str(exec, "apiVersion");
        if (!jdoc_get_str(exec, "command"))
            return perr_set(err, PERR_PARSE, "users[].user.exec has no command");
        if (!api || (strcmp(api, "client.authentication.k8s.io/v1beta1") != 0 &&
                     strcmp(api, "client.authentication.k8s.io/v1") != 0))
            return perr_set(err, PERR_PARSE,
                            "users[].user.exec.apiVersion '%s': parity speaks "
                            "client.authentication.k8s.io/v1beta1 and v1",
                            api ? api : "");
        if (!strcmp(api, "client.authentication.k8s.io/v1") &&
            !jdoc_get_str(exec, "interactiveMode"))
            return perr_set(err, PERR_PARSE,
                            "users[].user.exec: interactiveMode must be specified to use "
                            "exec authentication with client.authentication.k8s.io/v1");
        k->auth = builtin_eks(k, exec) ? KUBE_AUTH_EKS : KUBE_AUTH_EXEC;
        k->exec = jdoc_clone(exec, err);
        if (!k->exec)
            return -1;
        snprintf(k->exec_dir, sizeof(k->exec_dir), "%s", dir);
    } else if (k->cert_pem.len && k->key_pem.len) {
        k->auth = KUBE_AUTH_CERT;
    } else if (jdoc_get(user, "auth-provider")) {
        return perr_set(err, PERR_USAGE,
                        "the kubeconfig user has an auth-provider, which Kubernetes removed: "
                        "use an exec plugin");
    }
    return 0;
}

static int in_cluster(struct kube_config *k, const struct envlist *env, struct perr *err)
{
    const char *host = envlist_get(env, "KUBERNETES_SERVICE_HOST");
    const char *port = envlist_get(env, "KUBERNETES_SERVICE_PORT");
    const char *dir = envlist_get(env, "PARITY_SERVICEACCOUNT_DIR");
    char path[1200];
    struct buf ns;

    if (!host || !*host)
        return perr_set(err, PERR_USAGE,
                        "no kubeconfig ($KUBECONFIG, ~/.kube/config) and not in a cluster");
    dir = dir && *dir ? dir : SA_DIR_DEFAULT;
    snprintf(k->server, sizeof(k->server), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s",
             host, port && *port ? port : "443");
    snprintf(path, sizeof(path), "%s/ca.crt", dir);
    if (buf_read_file(&k->ca_pem, path, err) < 0)
        return perr_wrap(err, "in-cluster config");
    snprintf(k->token_file, sizeof(k->token_file), "%s/token", dir);
    k->auth = KUBE_AUTH_TOKEN;
    snprintf(path, sizeof(path), "%s/namespace", dir);
    buf_init(&ns, 256);
    if (buf_read_file(&ns, path, err) == 0 && ns.len)
        snprintf(k->namespace_, sizeof(k->namespace_), "%.*s", (int)strcspn(ns.data, "\n"),
                 ns.data);
    buf_cleanup(&ns);
    snprintf(k->context, sizeof(k->context), "in-cluster");
    return 0;
}

int kube_config_load(struct kube_config *k,
                     const struct envlist *env,
                     const char *context,
                     struct perr *err)
{
    const char *list = envlist_get(env, "KUBECONFIG"), *home = envlist_get(env, "HOME");
    struct jdoc *docs[16];
    char dirs[16][1024], files[4096];
    size_t n = 0, which = 0;
    int rc = 0;

    memset(k, 0, sizeof(*k));
    k->env = env;
    pthread_mutex_init(&k->mu, NULL);
    buf_init(&k->ca_pem, 1u << 20);
    buf_init(&k->cert_pem, 1u << 20);
    buf_init(&k->key_pem, 1u << 20);
    if (list && *list)
        snprintf(files, sizeof(files), "%s", list);
    else
        snprintf(files, sizeof(files), "%s/.kube/config", home ? home : "");
    for (char *f = files, *next; f && *f && n < 16; f = next) {
        struct buf text;
        next = strchr(f, ':');
        if (next)
            *next++ = '\0';
        if (!*f || access(f, F_OK) != 0)
            continue; /* kubectl skips the files of the list that are not there */
        buf_init(&text, MAX_KUBECONFIG_BYTES);
        rc = buf_read_file(&text, f, err);
        docs[n] = rc == 0 ? yaml_parse(text.data ? text.data : "", text.len, err) : NULL;
        buf_cleanup(&text);
        if (!docs[n]) {
            rc = perr_wrap(err, "kubeconfig %s", f);
            break;
        }
        char *slash = strrchr(f, '/');
        snprintf(dirs[n], sizeof(dirs[n]), "%.*s", slash ? (int)(slash - f) : 0, f);
        n++;
    }
    if (rc == 0 && n == 0)
        rc = in_cluster(k, env, err);
    else if (rc == 0) {
        const char *ctx_name = context;
        for (size_t d = 0; !ctx_name && d < n; d++)
            ctx_name = jdoc_get_str(docs[d], "current-context");
        const struct jdoc *ctx =
            ctx_name ? named(docs, n, "contexts", "context", ctx_name, &which) : NULL;
        const char *cl_name = jdoc_get_str(ctx, "cluster"), *us_name = jdoc_get_str(ctx, "user");
        const struct jdoc *cluster =
            cl_name ? named(docs, n, "clusters", "cluster", cl_name, &which) : NULL;
        size_t cluster_file = which;
        const struct jdoc *user = us_name ? named(docs, n, "users", "user", us_name, &which) : NULL;
        const char *server = jdoc_get_str(cluster, "server"), *ns = jdoc_get_str(ctx, "namespace");
        const struct jdoc *insecure = jdoc_get(cluster, "insecure-skip-tls-verify");
        if (!ctx_name)
            rc = perr_set(err, PERR_USAGE, "the kubeconfig has no current-context: use --context");
        else if (!ctx)
            rc = perr_set(err, PERR_USAGE, "the kubeconfig has no context '%s'", ctx_name);
        else if (!cluster || !server)
            rc = perr_set(err, PERR_PARSE, "context '%s': no cluster with a server", ctx_name);
        if (rc == 0) {
            snprintf(k->context, sizeof(k->context), "%s", ctx_name);
            snprintf(k->server, sizeof(k->server), "%s", server);
            size_t len = strlen(k->server);
            while (len && k->server[len - 1] == '/')
                k->server[--len] = '\0';
            snprintf(k->namespace_, sizeof(k->namespace_), "%s", ns ? ns : "");
            k->insecure = insecure && insecure->type == JDOC_TRUE;
            rc = pem_from(cluster, "certificate-authority-data", "certificate-authority",
                          dirs[cluster_file], &k->ca_pem, err);
        }
        if (rc == 0 && user)
            rc = user_auth(k, user, dirs[which], err);
        if (rc < 0 && ctx_name)
            perr_wrap(err, "kubeconfig context '%s'", ctx_name);
    }
    for (size_t d = 0; d < n; d++)
        jdoc_free(docs[d]);
    if (rc == 0 && strncmp(k->server, "https://", 8) != 0 && k->auth != KUBE_AUTH_NONE)
        rc = perr_set(err, PERR_USAGE,
                      "the API server %s is not https://: parity sends no credentials over "
                      "plain http",
                      k->server);
    return rc;
}

/* Runs the exec plugin and reads its ExecCredential (contract §2.3). */
static int run_exec(struct kube_config *k, struct perr *err)
{
    const struct jdoc *args = jdoc_get(k->exec, "args"), *envs = jdoc_get(k->exec, "env");
    const char *api = jdoc_get_str(k->exec, "apiVersion");
    char cmd[2048], info[256], *argv[66];
    struct envlist e;
    struct buf out;
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int fds[2], status, rc, n = 0;

    resolve(strchr(jdoc_get_str(k->exec, "command"), '/') ? k->exec_dir : "",
            jdoc_get_str(k->exec, "command"), cmd, sizeof(cmd));
    argv[n++] = cmd;
    for (size_t i = 0; args && args->type == JDOC_ARRAY && i < args->count && n < 65; i++)
        if (args->items[i]->type == JDOC_STRING)
            argv[n++] = args->items[i]->text;
    argv[n] = NULL;
    if (envlist_init_from(&e, environ, err) < 0)
        return -1;
    snprintf(info, sizeof(info),
             "{\"kind\":\"ExecCredential\",\"apiVersion\":\"%s\",\"spec\":{\"interactive\":false}}",
             api);
    rc = envlist_set(&e, "KUBERNETES_EXEC_INFO", info, err);
    for (size_t i = 0; rc == 0 && envs && envs->type == JDOC_ARRAY && i < envs->count; i++) {
        const char *name = jdoc_get_str(envs->items[i], "name");
        const char *value = jdoc_get_str(envs->items[i], "value");
        if (name && value)
            rc = envlist_set(&e, name, value, err);
    }
    if (rc == 0 && pipe2(fds, O_CLOEXEC) < 0)
        rc = perr_sys(err, "pipe");
    if (rc < 0) {
        envlist_cleanup(&e);
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    rc = posix_spawnp(&pid, cmd, &fa, NULL, argv, envlist_array(&e));
    posix_spawn_file_actions_destroy(&fa);
    envlist_cleanup(&e);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        errno = rc;
        return perr_sys(err, "running the exec plugin %s", cmd);
    }
    buf_init(&out, 1u << 20);
    rc = buf_read_fd(&out, fds[0], err);
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        rc = perr_set(err, PERR_AUTH, "the exec plugin %s failed (status %d)", cmd,
                      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    struct jdoc *cred = rc == 0 ? jdoc_parse(out.data ? out.data : "", out.len, NULL, err) : NULL;
    buf_cleanup(&out);
    if (rc == 0 && !cred)
        rc = perr_wrap(err, "the exec plugin %s printed no JSON", cmd);
    if (rc == 0) {
        const char *got = jdoc_get_str(cred, "apiVersion");
        const struct jdoc *st = jdoc_get(cred, "status");
        const char *token = jdoc_get_str(st, "token");
        const char *exp = jdoc_get_str(st, "expirationTimestamp");
        const char *cert = jdoc_get_str(st, "clientCertificateData");
        const char *key = jdoc_get_str(st, "clientKeyData");
        if (!got || strcmp(got, api) != 0)
            rc = perr_set(err, PERR_AUTH,
                          "exec plugin is configured to use API version %s, plugin returned "
                          "version %s",
                          api, got ? got : "none");
        else if (token)
            snprintf(k->token, sizeof(k->token), "%s", token);
        else if (cert && key) {
            buf_reset(&k->cert_pem);
            buf_reset(&k->key_pem);
            rc = buf_append_str(&k->cert_pem, cert, err);
            if (rc == 0)
                rc = buf_append_str(&k->key_pem, key, err);
            k->token[0] = '\0';
        } else
            rc = perr_set(err, PERR_AUTH, "the exec plugin's ExecCredential has no token");
        k->token_expiry = 0;
        if (rc == 0 && exp && creds_parse_time(exp, &k->token_expiry, err) < 0)
            rc = perr_wrap(err, "the exec plugin's expirationTimestamp");
    }
    jdoc_free_secret(cred);
    return rc;
}

static int make_eks_token(struct kube_config *k, struct perr *err)
{
    const char *region = k->eks_region[0] ? k->eks_region : creds_region_from_env(k->env);
    struct creds_provider *p;
    struct creds c;
    struct buf token;
    int rc;

    if (!region || !*region)
        return perr_set(err, PERR_USAGE, "EKS token for %s: no region (--region or AWS_REGION)",
                        k->eks_cluster);
    p = creds_chain_select(k->env, region, "parity",
                           envlist_get(k->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT") != NULL, err);
    if (!p)
        return perr_wrap(err, "AWS credentials for the EKS token");
    rc = p->get(p, &c, err);
    creds_provider_free(p);
    if (rc < 0)
        return perr_wrap(err, "AWS credentials for the EKS token");
    buf_init(&token, sizeof(k->token));
    rc = eks_token(&c, region, k->eks_cluster, NULL, (int64_t)time(NULL), &token, NULL, err);
    if (rc == 0) {
        snprintf(k->token, sizeof(k->token), "%s", token.data);
        k->token_expiry = (int64_t)time(NULL) + EKS_TOKEN_LIFETIME_S;
    }
    creds_wipe(&c);
    buf_cleanup(&token);
    return rc;
}

int kube_config_token(struct kube_config *k, bool force, struct perr *err)
{
    struct buf t;
    int rc;

    switch (k->auth) {
    case KUBE_AUTH_NONE:
    case KUBE_AUTH_CERT:
        k->token[0] = '\0';
        return 0;
    case KUBE_AUTH_TOKEN:
        if (!k->token_file[0])
            return 0;
        buf_init(&t, sizeof(k->token) - 1);
        rc = buf_read_file(&t, k->token_file, err);
        if (rc == 0)
            snprintf(k->token, sizeof(k->token), "%.*s", (int)strcspn(t.data ? t.data : "", "\r\n"),
                     t.data ? t.data : "");
        buf_cleanup(&t);
        return rc < 0 ? perr_wrap(err, "the token file") : 0;
    case KUBE_AUTH_EXEC:
    case KUBE_AUTH_EKS:
        if (!force && (k->token[0] || k->cert_pem.len) &&
            (!k->token_expiry || time(NULL) + 60 < k->token_expiry))
            return 0;
        return k->auth == KUBE_AUTH_EKS ? make_eks_token(k, err) : run_exec(k, err);
    }
    return 0;
}
