/* SPDX-License-Identifier: MIT */
/* The boot phases of parity-init, in the order main() runs them (DESIGN.md, boot flow). */
#include "entrypoint/boot.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "entrypoint/archives.h"
#include "entrypoint/channels.h"
#include "entrypoint/credentials.h"
#include "entrypoint/environ.h"
#include "entrypoint/explain.h"
#include "entrypoint/jobconfig.h"
#include "entrypoint/outputs.h"
#include "entrypoint/secrets.h"
#include "entrypoint/spawn.h"
#include "entrypoint/stopwatch.h"
#include "lib/fetchuri.h"
#include "lib/fsutil.h"
#include "lib/http.h"
#include "lib/log.h"

extern char **environ;

int boot_options(struct boot *b, struct perr *err)
{
    int rc = options_parse(b->argc, b->argv, &b->opts, err);

    log_setup("parity-init", b->opts.log_level, b->opts.log_format, STDERR_FILENO);
    if (envlist_init_from(&b->env, environ, err) < 0)
        return -1;
    report_targets_init(&b->report, b->opts.root ? b->opts.root : "/opt/ml", &b->env, false);
    return rc;
}

static enum role platform_role(enum platform p)
{
    if (p == PLATFORM_SAGEMAKER_PROCESSING)
        return ROLE_PROCESS;
    if (p == PLATFORM_SAGEMAKER_HOSTING)
        return ROLE_SERVE;
    return ROLE_TRAIN;
}

int boot_detect(struct boot *b, struct perr *err)
{
    struct detect_hints hints = {.job_config = jobconfig_present(&b->env)};

    b->role_from_argv =
        command_role_from_argv(b->argv[0], b->opts.command, &b->role, &b->role_extra);
    hints.argv_train = b->role_from_argv && b->role == ROLE_TRAIN;
    hints.argv_serve = b->role_from_argv && b->role == ROLE_SERVE;
    if (detect_platform(b->opts.platform, b->opts.root, &hints, &b->det, err) < 0)
        return -1;
    if (!b->role_from_argv)
        b->role = platform_role(b->det.platform);
    if (b->opts.grace_s == OPTIONS_UNSET)
        b->opts.grace_s = detect_default_grace_s(b->det.platform);
    if (b->opts.stop_s == OPTIONS_UNSET)
        b->opts.stop_s = detect_default_stop_s(b->det.platform);
    snprintf(b->note, sizeof(b->note), " platform=%s evidence=\"%s\" grace_seconds=%llu",
             detect_platform_name(b->det.platform), b->det.evidence,
             (unsigned long long)b->opts.grace_s);
    return 0;
}

static bool sagemaker(enum platform p)
{
    return p == PLATFORM_SAGEMAKER_TRAINING || p == PLATFORM_SAGEMAKER_PROCESSING ||
           p == PLATFORM_SAGEMAKER_HOSTING;
}

/* EKS and local: the job spec becomes SageMaker's config documents, in memory for now. */
static int job_from_spec(struct boot *b, struct perr *err)
{
    struct materialized *m = &b->mat;
    int rc;

    if (jobconfig_load(&b->env, b->creds_served ? &b->creds->current : NULL, &b->spec, err) < 0)
        return -1;
    b->have_spec = true;
    if (!b->role_from_argv && command_role_parse(b->spec.role, &b->role) < 0)
        return perr_set(err, PERR_PARSE, "job config role '%s' is not train, serve or process",
                        b->spec.role);
    rc = hosts_plan(&b->hosts, b->spec.instance_count, b->det.platform == PLATFORM_EKS,
                    b->spec.name, b->spec.eks_service, &b->env, err);
    if (rc == 0)
        rc = materialize_plan(m, &b->spec, &b->hosts, b->opts.root, err);
    snprintf(b->job.root, sizeof(b->job.root), "%s", b->opts.root);
    if (rc == 0)
        rc = job_load_text(&b->job, "hyperparameters.json", m->hyperparameters.data,
                           m->hyperparameters.len, err);
    if (rc == 0)
        rc = job_load_text(&b->job, "resourceconfig.json", m->resourceconfig.data,
                           m->resourceconfig.len, err);
    if (rc == 0)
        rc = job_load_text(&b->job, "inputdataconfig.json", m->inputdataconfig.data,
                           m->inputdataconfig.len, err);
    return rc;
}

static void job_loaded(struct boot *b)
{
    size_t used = strlen(b->note);

    b->have_job = true;
    snprintf(b->note + used, sizeof(b->note) - used,
             " role=%s current_host=%s hosts=%zu channels=%zu", command_role_name(b->role),
             job_current_host(&b->job), job_host_count(&b->job), b->job.inputdataconfig->count);
}

int boot_job(struct boot *b, struct perr *err)
{
    int rc = 0;

    if (b->det.platform == PLATFORM_SAGEMAKER_TRAINING) {
        report_targets_init(&b->report, b->opts.root, &b->env, true);
        rc = job_load_files(&b->job, b->opts.root, err);
        snprintf(b->note, sizeof(b->note), " source=sagemaker");
        /* The folders the toolkit and the other platforms provide, so /opt/ml has one shape. */
        if (rc == 0 && !b->opts.explain)
            materialize_standard_dirs(b->opts.root);
    } else if (!sagemaker(b->det.platform) && jobconfig_present(&b->env)) {
        report_targets_init(&b->report, b->opts.root, &b->env, true);
        if (jobconfig_needs_credentials(&b->env)) {
            /* s3:// or an ARN: read once the credentials phase has them (boot_job_deferred) */
            b->job_deferred = true;
            snprintf(b->note, sizeof(b->note), " source=job-config deferred=credentials");
            return 0;
        }
        rc = job_from_spec(b, err);
        snprintf(b->note, sizeof(b->note), " source=job-config");
    } else {
        snprintf(b->note, sizeof(b->note), " source=none");
        return 0;
    }
    if (rc < 0)
        return -1;
    job_loaded(b);
    return 0;
}

int boot_job_deferred(struct boot *b, struct perr *err)
{
    if (job_from_spec(b, err) < 0)
        return -1;
    snprintf(b->note, sizeof(b->note), " source=job-config");
    job_loaded(b);
    return 0;
}

int boot_credentials(struct boot *b, struct perr *err)
{
    static struct credserver server;
    struct credentials_inputs in = {
        .job_name = b->have_spec ? b->spec.name : envlist_get(&b->env, "TRAINING_JOB_NAME"),
        .spec_region = b->have_spec ? b->spec.region : NULL,
        /* SageMaker jobs get container credentials; an IMDS probe elsewhere only costs time */
        .imds = envlist_get(&b->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT") != NULL,
        .explain = b->opts.explain,
    };

    b->creds = &server;
    return credentials_setup(&server, &b->env, &in, &b->creds_served, b->note, sizeof(b->note),
                             err);
}

int boot_secrets(struct boot *b, struct perr *err)
{
    /* Before the child exists there is no refresher thread: `current` is stable to read. */
    const struct creds *c = b->creds_served ? &b->creds->current : NULL;

    return secrets_resolve(&b->env, c, b->opts.explain, b->note, sizeof(b->note), err);
}

int boot_materialize(struct boot *b, struct perr *err)
{
    struct channels_host host = {.index = b->hosts.index, .count = b->hosts.count};

    if (!b->have_spec || b->opts.explain)
        return 0;
    if (b->hosts.write_aliases) {
        const char *hosts_file = envlist_get(&b->env, "PARITY_HOSTS_FILE");
        if (hosts_write_aliases(&b->hosts, hosts_file ? hosts_file : "/etc/hosts",
                                (unsigned)b->opts.peer_wait_s, err) < 0)
            return -1;
    }
    if (materialize_write(&b->mat, &b->spec, b->opts.root, err) < 0)
        return -1;
    if (channels_download(&b->spec, b->opts.root, &host, &b->env,
                          b->creds_served ? &b->creds->current : NULL, b->note, sizeof(b->note),
                          err) < 0)
        return -1;
    size_t used = strlen(b->note);
    if (checkpoints_restore(&b->ckpt, &b->spec, b->opts.root, &b->env,
                            b->creds_served ? b->creds : NULL, &b->stop_deadline_ms, b->note + used,
                            sizeof(b->note) - used, err) < 0)
        return -1;
    /* Serving: the model artifact, extracted where SageMaker hosting puts it. */
    if (b->role == ROLE_SERVE && b->spec.model) {
        char dir[1100], note[128];
        snprintf(dir, sizeof(dir), "%s/model", b->opts.root);
        if (archives_extract_uri(b->spec.model, dir, b->opts.root, &b->env,
                                 b->creds_served ? &b->creds->current : NULL, note, sizeof(note),
                                 err) < 0)
            return perr_wrap(err, "model %s", b->spec.model);
        log_info("materialize", "model extracted into %s%s", dir, note);
    }
    return 0;
}

int boot_code(struct boot *b, struct perr *err)
{
    const char *src = envlist_get(&b->env, "SM_MODULE_DIR");
    const char *dir = b->sm.code_dir;
    bool sagemaker = b->det.platform <= PLATFORM_SAGEMAKER_HOSTING;
    struct perr why = {0};
    struct stat st;

    /* Without a submit directory the toolkit's module_dir is the code folder itself. */
    if (b->opts.explain || !src || !dir || strcmp(src, dir) == 0 ||
        !(strncmp(src, "s3://", 5) == 0 || strncmp(src, "file://", 7) == 0 || src[0] == '/'))
        return 0;
    if (!archives_dir_is_empty(dir)) {
        snprintf(b->note, sizeof(b->note), " code=\"%s\" (not empty: kept)", dir);
        return 0;
    }
    if (src[0] == '/' && stat(src, &st) == 0 && S_ISDIR(st.st_mode)) {
        log_warn("code", "sagemaker_submit_directory %s is a folder; mount it at %s instead", src,
                 dir);
        return 0;
    }
    if (fs_mkdirs(dir, &why) == 0 &&
        archives_extract_uri(src, dir, b->opts.root, &b->env,
                             b->creds_served ? &b->creds->current : NULL, b->note, sizeof(b->note),
                             &why) == 0) {
        log_info("code", "%s extracted into %s", src, dir);
        return 0;
    }
    /* On EKS and locally the job asked for it: no code, no start. On SageMaker the toolkit's
     * download is parity-init's extra; the image may hold the code itself, so it warns. */
    if (sagemaker) {
        log_warn("code", "sagemaker_submit_directory %s not extracted: %s", src, why.msg);
        return 0;
    }
    *err = why;
    return perr_wrap(err, "sagemaker_submit_directory %s", src);
}

int boot_environment(struct boot *b, struct perr *err)
{
    const char *type =
        b->have_job ? jdoc_get_str(b->job.resourceconfig, "current_instance_type") : NULL;
    struct environ_inputs in = {
        .platform = b->det.platform,
        .role = b->role,
        .root = b->opts.root,
        .job = b->have_job ? &b->job : NULL,
        .spec = b->have_spec ? &b->spec : NULL,
        .res = &b->res,
        .master_port = b->opts.master_port,
        /* Run directly on this machine, algo-N names resolve nowhere: the master is here. */
        .master_addr = b->have_spec && b->det.platform == PLATFORM_LOCAL && !b->hosts.write_aliases
                           ? "127.0.0.1"
                           : NULL,
    };

    resources_probe(&b->res, &resources_roots_default, &b->env, type);
    snprintf(b->note, sizeof(b->note), " num_cpus=%ld cpu_limit=%ld num_gpus=%ld", b->res.num_cpus,
             b->res.cpu_limit, b->res.num_gpus);
    return environ_build(&b->env, &in, &b->sm, err);
}

/* The image config with the remote layer PARITY_CONFIG_URI names laid over it. */
static int load_runtime_config(struct boot *b, struct perr *err)
{
    const char *uri = envlist_get(&b->env, "PARITY_CONFIG_URI");
    struct config_remote remote = {.uri = uri};
    struct buf text;
    int rc;

    if (!uri || !*uri)
        return config_load_image(&b->img, &b->env, NULL, err);
    if (b->opts.explain && fetchuri_needs_credentials(uri)) {
        log_warn("config", "--explain fetches no credentials, so the remote config %s is not read",
                 uri);
        return config_load_image(&b->img, &b->env, NULL, err);
    }
    buf_init(&text, CONFIG_IMAGE_MAX_BYTES);
    rc = fetchuri_get(uri, &b->env, b->creds_served ? &b->creds->current : NULL,
                      CONFIG_IMAGE_MAX_BYTES, &text, err);
    if (rc < 0)
        perr_wrap(err, "remote config (PARITY_CONFIG_URI)");
    remote.text = text.data ? text.data : "";
    remote.len = text.len;
    if (rc == 0)
        rc = config_load_image(&b->img, &b->env, &remote, err);
    buf_cleanup(&text);
    return rc;
}

int boot_command(struct boot *b, struct perr *err)
{
    struct command_script script = {
        .entry_point = b->sm.entry_point,
        .user_args = b->sm.user_args,
        .code_dir = b->sm.code_dir,
    };
    char **given = b->role_from_argv ? NULL : b->opts.command;
    char *from_spec[COMMAND_MAX_ARGS + 1];
    const struct jdoc *sc = b->have_spec ? b->spec.command : NULL;

    if (load_runtime_config(b, err) < 0)
        return -1;
    /* On EKS the launcher passes the spec's command as the container's arguments; a local run
     * without arguments takes it from the spec the same way. */
    if ((!given || !given[0]) && sc) {
        if (sc->count > COMMAND_MAX_ARGS)
            return perr_set(err, PERR_LIMIT, "job config command has more than %d arguments",
                            COMMAND_MAX_ARGS);
        for (size_t i = 0; i < sc->count; i++)
            from_spec[i] = sc->items[i]->text;
        from_spec[sc->count] = NULL;
        given = from_spec;
    }
    if (command_resolve(&b->cmd, given, b->role_extra, b->role, &b->img, &script, err) < 0)
        return -1;
    if (given == from_spec)
        b->cmd.source = "job config";
    snprintf(b->note, sizeof(b->note), " role=%s source=\"%s\" command=\"%s\"",
             command_role_name(b->role), b->cmd.source, b->cmd.argv[0]);
    return 0;
}

int boot_harden(struct boot *b, struct perr *err)
{
    if (harden_plan_build(&b->harden, &b->img, &b->env, "/etc", err) < 0)
        return -1;
    /* Like a login: the user's own home, so tools find their config and caches there. */
    if (b->harden.set_user && envlist_set(&b->env, "HOME", b->harden.user.home, err) < 0)
        return -1;
    if (!b->harden.enabled) {
        snprintf(b->note, sizeof(b->note), " hardening=off");
        return 0;
    }
    snprintf(b->note, sizeof(b->note), " uid=%ld caps=0x%llx no_new_privs=%s seccomp=\"%.200s\"",
             b->harden.set_user ? (long)b->harden.user.uid : (long)getuid(),
             (unsigned long long)b->harden.keep_caps, b->harden.no_new_privs ? "yes" : "no",
             b->harden.seccomp_source);
    return 0;
}

int boot_explain(struct boot *b, struct perr *err)
{
    struct explain_input in = {
        .det = &b->det,
        .role = b->role,
        .cmd = &b->cmd,
        .job = b->have_job ? &b->job : NULL,
        .root = b->opts.root,
        .env = &b->env,
        .harden = &b->harden,
        .config = &b->img,
    };
    struct buf files;
    int rc = 0;

    buf_init(&files, 1u << 20);
    if (b->have_spec)
        rc = materialize_paths(&b->spec, b->opts.root, &files, err);
    in.files = files.data;
    if (rc == 0)
        rc = explain_print(&in, err);
    buf_cleanup(&files);
    return rc;
}

int boot_prepare(struct boot *b, struct perr *err)
{
    b->sup.single_child = b->opts.single_child;
    b->sup.grace_s = b->opts.grace_s;
    b->sup.reap_s = b->opts.reap_s;
    finish_oom_baseline(&b->oom);
    if (supervise_prepare(&b->sup, err) < 0)
        return -1;
    if (b->creds_served && credserver_attach(b->creds, b->sup.loop, err) < 0)
        return -1;
    /* The child's stderr goes through PID 1 so the failure reason can quote its last lines; a
     * terminal stays the child's own, for interactive programs. */
    if (!isatty(STDERR_FILENO)) {
        if (pipe2(b->stderr_pipe, O_CLOEXEC) < 0)
            return perr_sys(err, "creating the stderr pipe");
        fcntl(b->stderr_pipe[0], F_SETFL, O_NONBLOCK);
    }
    return 0;
}

int boot_spawn(struct boot *b, struct perr *err)
{
    struct spawn_request req = {
        .argv = b->cmd.argv,
        .envp = envlist_array(&b->env),
        .cwd = b->cmd.cwd[0] ? b->cmd.cwd : NULL,
        .stderr_fd = b->stderr_pipe[1],
        .sigs = &b->sup.sigs,
        .harden = &b->harden,
        .take_terminal = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp(),
    };
    struct spawn_failure fail;

    /* the child must not inherit connections this thread kept alive (S3, credentials) */
    http_thread_release();
    if (spawn_child(&req, &b->child, &fail, err) < 0)
        return -1;
    if (b->stderr_pipe[1] >= 0) {
        close(b->stderr_pipe[1]);
        b->stderr_pipe[1] = -1;
    }
    b->sup.stderr_pipe = b->stderr_pipe[0];
    b->stderr_pipe[0] = -1;
    spawn_close_inherited_fds();
    /* The child exists and exits 126/127: report now, then reap it as usual. */
    if (fail.stage == SPAWN_STAGE_HARDEN) {
        snprintf(b->spawn_failure, sizeof(b->spawn_failure), "%s: %s",
                 harden_stage_name(fail.detail), strerror(fail.sys_errno));
        log_error("harden", "%s; the command did not start", b->spawn_failure);
    } else if (fail.stage == SPAWN_STAGE_CHDIR)
        log_error("spawn", "cannot enter working directory '%s': %s", b->cmd.cwd,
                  strerror(fail.sys_errno));
    else if (fail.stage == SPAWN_STAGE_EXEC)
        log_error("spawn", "cannot run '%s': %s; check that it exists and is executable",
                  b->cmd.argv[0], strerror(fail.sys_errno));
    snprintf(b->note, sizeof(b->note), " child_pid=%ld", (long)b->child);
    /* Only now may a thread exist: the child has been started. A refresher that cannot start
     * leaves the first credentials in place; PID 1 must not fail once the child runs. */
    if (b->creds_served && credserver_start_refresher(b->creds, err) < 0)
        log_error("credentials", "%s; credentials will not be refreshed", err->msg);
    return 0;
}

/* At the first SIGTERM: transfers must end before the platform's SIGKILL, and the checkpoints
 * are synced at once. */
static void on_stop(void *ctx)
{
    struct boot *b = ctx;

    __atomic_store_n(&b->stop_deadline_ms, stopwatch_deadline(b->sup.stop_at_ms, b->opts.stop_s),
                     __ATOMIC_RELAXED);
    checkpoints_request(&b->ckpt);
}

void boot_running(struct boot *b)
{
    struct perr err = {0};

    b->sup.on_stop = on_stop;
    b->sup.on_stop_ctx = b;
    if (checkpoints_start(&b->ckpt, &err) < 0)
        log_error("checkpoints", "%s; checkpoints are synced only when the child exits", err.msg);
}

/* A failed transfer after the child ends fails a run that had succeeded (exit 1, with the
 * reason where the platform reads it); after a failed run it is logged. */
static int transfer_failed(struct boot *b, int code, const struct perr *err)
{
    log_error("finish", "%s", err->msg);
    if (code == 0) {
        char reason[PERR_MSG_BYTES + 32];
        snprintf(reason, sizeof(reason), "parity-init: finish: %s", err->msg);
        report_write(&b->report, reason);
        return 1;
    }
    return code;
}

/* EKS and local: the last checkpoint sync, then model.tar.gz and output.tar.gz where
 * SageMaker would put them, all before the platform's SIGKILL when a SIGTERM came. */
static int upload_outputs(struct boot *b, int code)
{
    struct stopwatch watch;
    struct perr err = {0};
    struct creds c;
    char note[512] = "";
    int rc = 0;

    if (!b->have_spec)
        return code;
    /* a SIGTERM from here on no longer reaches the loop: the watch sets the deadline */
    stopwatch_start(&watch, b->sup.sigfd, b->opts.stop_s, &b->stop_deadline_ms);
    if (checkpoints_finish(&b->ckpt, &err) < 0)
        code = transfer_failed(b, code, &err);
    if (b->spec.output) {
        if (b->creds_served)
            credserver_snapshot(b->creds, &c);
        rc = outputs_upload(&b->spec, b->opts.root, &b->env, b->creds_served ? &c : NULL,
                            &b->stop_deadline_ms, note, sizeof(note), &err);
        creds_wipe(&c);
    }
    stopwatch_stop(&watch);
    if (rc < 0)
        return transfer_failed(b, code, &err);
    if (b->spec.output)
        log_info("finish", "uploaded%s", note);
    return code;
}

int boot_finish(struct boot *b, uint64_t run_ms)
{
    int status = b->sup.child_status;
    int code = finish_report(status, &b->oom, run_ms);

    if (code != 0 && b->spawn_failure[0]) {
        char reason[PERR_MSG_BYTES + 32];
        snprintf(reason, sizeof(reason), "parity-init: harden: %s", b->spawn_failure);
        report_write(&b->report, reason);
    } else if (code != 0) {
        char reason[4096];
        report_format_child(reason, sizeof(reason), status, finish_oom_verdict(status, &b->oom),
                            &b->sup.tail, b->cmd.argv);
        report_write(&b->report, reason);
    }
    return upload_outputs(b, code);
}

void boot_cleanup(struct boot *b)
{
    checkpoints_cleanup(&b->ckpt);
    if (b->creds_served)
        credserver_cleanup(b->creds);
    supervise_cleanup(&b->sup);
    command_cleanup(&b->cmd);
    harden_cleanup(&b->harden);
    config_cleanup(&b->img);
    smenv_cleanup(&b->sm);
    job_cleanup(&b->job);
    materialize_cleanup(&b->mat);
    hosts_cleanup(&b->hosts);
    jobspec_cleanup(&b->spec);
    envlist_cleanup(&b->env);
    for (int i = 0; i < 2; i++) {
        if (b->stderr_pipe[i] >= 0)
            close(b->stderr_pipe[i]);
    }
}
