/* SPDX-License-Identifier: MIT */
/* parity-init: the boot pipeline of DESIGN.md, one timed and logged call per phase. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "entrypoint/detect.h"
#include "entrypoint/finish.h"
#include "entrypoint/options.h"
#include "entrypoint/spawn.h"
#include "entrypoint/supervise.h"
#include "entrypoint/version.h"
#include "lib/log.h"

#define EXIT_BOOT_FAILURE 125

struct boot {
    int argc;
    char **argv;
    struct options opts;
    struct detection det;
    struct supervisor sup;
    struct oom_baseline oom;
    pid_t child;
    uint64_t child_start_ms;
    char note[512]; /* fields a phase adds to its log line */
};

typedef int phase_fn(struct boot *b, struct perr *err);

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int phase_options(struct boot *b, struct perr *err)
{
    int rc = options_parse(b->argc, b->argv, &b->opts, err);

    log_setup("parity-init", b->opts.log_level, b->opts.log_format, STDERR_FILENO);
    return rc;
}

static int phase_detect(struct boot *b, struct perr *err)
{
    if (detect_platform(b->opts.platform, "/opt/ml", &b->det, err) < 0)
        return -1;
    if (b->opts.grace_s == OPTIONS_UNSET)
        b->opts.grace_s = detect_default_grace_s(b->det.platform);
    snprintf(b->note, sizeof(b->note), " platform=%s evidence=\"%s\" grace_seconds=%llu",
             detect_platform_name(b->det.platform), b->det.evidence,
             (unsigned long long)b->opts.grace_s);
    return 0;
}

static int phase_prepare(struct boot *b, struct perr *err)
{
    b->sup.single_child = b->opts.single_child;
    b->sup.grace_s = b->opts.grace_s;
    b->sup.reap_s = b->opts.reap_s;
    finish_oom_baseline(&b->oom);
    return supervise_prepare(&b->sup, err);
}

static int phase_spawn(struct boot *b, struct perr *err)
{
    struct spawn_request req = {
        .argv = b->opts.command,
        .sigs = &b->sup.sigs,
        .take_terminal = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp(),
    };
    int exec_errno;

    if (spawn_child(&req, &b->child, &exec_errno, err) < 0)
        return -1;
    b->child_start_ms = now_ms();
    spawn_close_inherited_fds();
    if (exec_errno) /* the child exists and exits 126/127: report, then reap it as usual */
        log_error("spawn", "cannot run '%s': %s; check that it exists and is executable",
                  b->opts.command[0], strerror(exec_errno));
    snprintf(b->note, sizeof(b->note), " child_pid=%ld", (long)b->child);
    return 0;
}

/* Runs one phase: times it, logs one line, and reports a failure once, here. */
static int run_phase(struct boot *b, const char *name, phase_fn *fn, enum log_level level)
{
    struct perr err = {0};
    uint64_t t0 = now_ms();

    b->note[0] = '\0';
    if (fn(b, &err) < 0) {
        log_error(name, "%s", err.msg);
        return -1;
    }
    log_at(level, name, "done duration_ms=%llu%s", (unsigned long long)(now_ms() - t0), b->note);
    return 0;
}

int main(int argc, char **argv)
{
    struct boot b = {.argc = argc, .argv = argv};
    int code;

    if (run_phase(&b, "options", phase_options, LOG_LEVEL_DEBUG) < 0)
        return EXIT_BOOT_FAILURE;
    if (b.opts.action == OPTIONS_HELP) {
        options_usage("parity-init");
        return 0;
    }
    if (b.opts.action == OPTIONS_VERSION) {
        version_print();
        return 0;
    }
    /* The platform decision is logged at info with its evidence; routine phases at debug. */
    if (run_phase(&b, "detect", phase_detect, LOG_LEVEL_INFO) < 0 ||
        run_phase(&b, "prepare", phase_prepare, LOG_LEVEL_DEBUG) < 0 ||
        run_phase(&b, "spawn", phase_spawn, LOG_LEVEL_DEBUG) < 0) {
        supervise_cleanup(&b.sup);
        return EXIT_BOOT_FAILURE;
    }
    supervise_run(&b.sup, b.child);
    code = finish_report(b.sup.child_status, &b.oom, now_ms() - b.child_start_ms);
    supervise_cleanup(&b.sup);
    return code;
}
