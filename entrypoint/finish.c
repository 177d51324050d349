/* SPDX-License-Identifier: MIT */
/* Turning the child's wait status into parity-init's exit status, with the evidence logged. */
#include "entrypoint/finish.h"

#include <signal.h>
#include <sys/wait.h>

#include "entrypoint/signals.h"
#include "lib/cgroup.h"
#include "lib/log.h"

#define PHASE "finish"

void finish_oom_baseline(struct oom_baseline *b)
{
    struct perr err = {0};

    b->known = cgroup_oom_kills("/sys/fs/cgroup", "/proc/self/cgroup", &b->kills, &err) == 0;
    if (!b->known)
        log_debug(PHASE, "no OOM accounting: %s", err.msg);
}

int finish_exit_code(int wait_status)
{
    if (WIFEXITED(wait_status))
        return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status))
        return 128 + WTERMSIG(wait_status);
    return 125; /* waitpid without WUNTRACED reports only these two */
}

static const char *oom_verdict(const struct oom_baseline *b)
{
    struct perr err = {0};
    uint64_t now;

    if (!b->known || cgroup_oom_kills("/sys/fs/cgroup", "/proc/self/cgroup", &now, &err) < 0)
        return "unknown";
    return now > b->kills ? "yes" : "no";
}

const char *finish_oom_verdict(int wait_status, const struct oom_baseline *b)
{
    if (!WIFSIGNALED(wait_status) || WTERMSIG(wait_status) != SIGKILL)
        return "no";
    return oom_verdict(b);
}

int finish_report(int wait_status, const struct oom_baseline *b, uint64_t run_ms)
{
    int code = finish_exit_code(wait_status);
    char name[32];

    if (WIFSIGNALED(wait_status)) {
        int sig = WTERMSIG(wait_status);
        log_warn(
            PHASE,
            "child killed by signal signal=%d signal_name=%s exit_code=%d oom_kill=%s duration_ms=%llu",
            sig, signals_name(sig, name, sizeof(name)), code, finish_oom_verdict(wait_status, b),
            (unsigned long long)run_ms);
    } else {
        log_info(PHASE, "child exited exit_code=%d duration_ms=%llu", code,
                 (unsigned long long)run_ms);
    }
    return code;
}
