/* SPDX-License-Identifier: MIT */
/* The end of the boot: the exit status parity-init returns and the line that explains it. */
#ifndef PARITY_ENTRYPOINT_FINISH_H
#define PARITY_ENTRYPOINT_FINISH_H

#include <stdbool.h>
#include <stdint.h>

/* OOM kills recorded by our cgroup before the child ran, to tell a new one apart. */
struct oom_baseline {
    bool known;
    uint64_t kills;
};

/* Reads the cgroup's OOM kill count now; leaves known false when it is not readable. */
void finish_oom_baseline(struct oom_baseline *b);

/* "yes" when the child died of SIGKILL and the cgroup counted a new OOM kill since the baseline,
 * "unknown" when that cannot be told, else "no". */
const char *finish_oom_verdict(int wait_status, const struct oom_baseline *b);

/* The child's exit code, or 128+N when signal N killed it. */
int finish_exit_code(int wait_status);

/* Logs the child's end (code or signal, OOM evidence for SIGKILL, run time) and returns the
 * exit status for parity-init. */
int finish_report(int wait_status, const struct oom_baseline *b, uint64_t run_ms);

#endif
