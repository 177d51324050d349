/* SPDX-License-Identifier: MIT */
/* parity validate SPEC: every problem at once, for every target. */
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "shim/spec.h"

/* {"valid": bool, "problems": ["$.path: message", ...]} */
static void print_json(const struct buf *problems)
{
    const char *line = problems->data ? problems->data : "";
    bool first = true;

    printf("{\"valid\": %s, \"problems\": [", problems->len ? "false" : "true");
    while (*line) {
        char esc[1200];
        size_t n = strcspn(line, "\n");
        size_t e = json_escape(esc, sizeof(esc), line, n);
        printf("%s\"%.*s\"", first ? "" : ", ", (int)e, esc);
        first = false;
        line += n + (line[n] == '\n');
    }
    printf("]}\n");
}

int cmd_validate(struct cli *c)
{
    struct jobspec js = {0};
    struct buf text, problems;
    struct perr err = {0};
    int rc;

    buf_init(&problems, 256u * 1024);
    rc = spec_load(c->arg, &js, &text, &problems, &err);
    if (rc < 0 && !problems.len) { /* not a spec at all: unreadable, not JSON */
        buf_cleanup(&text);
        buf_cleanup(&problems);
        return cli_fail(CLI_EXIT_INVALID, &err);
    }
    if (rc == 0) {
        for (enum cli_target t = CLI_TARGET_LOCAL; t <= CLI_TARGET_EKS; t++) {
            if (c->target == CLI_TARGET_NONE || c->target == t)
                spec_target_problems(&js, t, &problems);
        }
    }
    if (c->json)
        print_json(&problems);
    else if (problems.len)
        fprintf(stderr, "%s", problems.data);
    else
        printf("%s: valid for %s\n", c->arg,
               c->target ? cli_target_name(c->target) : "local, sagemaker and eks");
    rc = problems.len ? CLI_EXIT_INVALID : 0;
    jobspec_cleanup(&js);
    buf_cleanup(&text);
    buf_cleanup(&problems);
    return rc;
}
