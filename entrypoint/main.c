/* SPDX-License-Identifier: MIT */
/* parity-init: the boot pipeline of DESIGN.md, one timed and logged call per phase. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "entrypoint/boot.h"
#include "entrypoint/credproc.h"
#include "entrypoint/finish.h"
#include "entrypoint/residency.h"
#include "entrypoint/spawn.h"
#include "entrypoint/version.h"
#include "lib/log.h"

#define EXIT_BOOT_FAILURE 125

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs one phase: times it, logs one line, and reports a failure once, here. */
static int run_phase(struct boot *b, const char *name, boot_phase_fn *fn, enum log_level level)
{
    struct perr err = {0};
    uint64_t t0 = now_ms();

    b->note[0] = '\0';
    if (fn(b, &err) < 0) {
        char reason[PERR_MSG_BYTES + 32];
        log_error(name, "%s", err.msg);
        snprintf(reason, sizeof(reason), "parity-init: %s: %s\n", name, err.msg);
        report_write(&b->report, reason);
        return -1;
    }
    log_at(level, name, "done duration_ms=%llu%s", (unsigned long long)(now_ms() - t0), b->note);
    return 0;
}

int main(int argc, char **argv)
{
    struct boot b = {.argc = argc, .argv = argv, .stderr_pipe = {-1, -1}};
    int code = EXIT_BOOT_FAILURE;

    if (credproc_requested(argc, argv))
        return credproc_main();
    spawn_note_inherited_fds(); /* before PID 1 opens anything of its own */
    if (run_phase(&b, "options", boot_options, LOG_LEVEL_DEBUG) < 0)
        goto out;
    if (b.opts.action != OPTIONS_RUN) {
        b.opts.action == OPTIONS_HELP ? options_usage("parity-init") : version_print();
        code = 0;
        goto out;
    }
    /* Decisions are logged at info with their evidence; routine phases at debug. */
    if (run_phase(&b, "detect", boot_detect, LOG_LEVEL_INFO) < 0 ||
        run_phase(&b, "job", boot_job, LOG_LEVEL_INFO) < 0 ||
        run_phase(&b, "credentials", boot_credentials, LOG_LEVEL_INFO) < 0 ||
        (b.job_deferred && run_phase(&b, "job", boot_job_deferred, LOG_LEVEL_INFO) < 0) ||
        run_phase(&b, "secrets", boot_secrets, LOG_LEVEL_INFO) < 0 ||
        run_phase(&b, "materialize", boot_materialize, LOG_LEVEL_INFO) < 0 ||
        run_phase(&b, "environment", boot_environment, LOG_LEVEL_DEBUG) < 0 ||
        run_phase(&b, "code", boot_code, LOG_LEVEL_DEBUG) < 0 ||
        run_phase(&b, "command", boot_command, LOG_LEVEL_INFO) < 0 ||
        run_phase(&b, "harden", boot_harden, LOG_LEVEL_DEBUG) < 0)
        goto out;
    if (b.opts.explain) {
        code = run_phase(&b, "explain", boot_explain, LOG_LEVEL_DEBUG) < 0 ? EXIT_BOOT_FAILURE : 0;
        goto out;
    }
    if (run_phase(&b, "prepare", boot_prepare, LOG_LEVEL_DEBUG) < 0 ||
        run_phase(&b, "spawn", boot_spawn, LOG_LEVEL_DEBUG) < 0)
        goto out;
    b.child_start_ms = now_ms();
    residency_release_boot_pages();
    boot_running(&b);
    supervise_run(&b.sup, b.child);
    code = boot_finish(&b, now_ms() - b.child_start_ms);
out:
    boot_cleanup(&b);
    return code;
}
