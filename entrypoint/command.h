/* SPDX-License-Identifier: MIT */
/* Which role runs and with what command: argv (train/serve as SageMaker passes them), the image
 * config, or SageMaker's script-mode convention. */
#ifndef PARITY_ENTRYPOINT_COMMAND_H
#define PARITY_ENTRYPOINT_COMMAND_H

#include <stdbool.h>

#include "entrypoint/config.h"
#include "lib/err.h"
#include "lib/jdoc.h"

enum role {
    ROLE_TRAIN = CONFIG_ROLE_TRAIN,
    ROLE_SERVE = CONFIG_ROLE_SERVE,
    ROLE_PROCESS = CONFIG_ROLE_PROCESS,
};

/* More arguments than any real command line needs; bounds what a job config may ask for. */
#define COMMAND_MAX_ARGS 4096

struct command {
    char **argv;        /* owned, NULL-terminated */
    char cwd[1024];     /* "" keeps parity-init's working directory */
    const char *source; /* "command line", "image config", "PARITY_TRAIN_COMMAND", "script mode" */
};

const char *command_role_name(enum role r);

/* "train" -> ROLE_TRAIN...; returns -1 for other names. */
int command_role_parse(const char *name, enum role *out);

/*
 * True when argv selects a role the way SageMaker starts containers: argv[0] is a "train" or
 * "serve" link to parity-init, or COMMAND is exactly "train" or "serve". *rest then points at the
 * arguments after that word (possibly none).
 */
bool command_role_from_argv(const char *argv0, char **cmd, enum role *role, char ***rest);

/* What script mode needs from the job (SageMaker's training toolkit convention). */
struct command_script {
    const char *entry_point;      /* SM_USER_ENTRY_POINT, or NULL */
    const struct jdoc *user_args; /* SM_USER_ARGS (array of strings) */
    const char *code_dir;         /* cwd for the script */
};

/*
 * Picks the command: `given` (argv after options, role not selected by it) runs as is; otherwise
 * the role's command from the image config (plus `extra` args), else script mode for training.
 * Fails with a message that says what to configure.
 */
PARITY_MUST_CHECK int command_resolve(struct command *c,
                                      char **given,
                                      char **extra,
                                      enum role role,
                                      const struct image_config *img,
                                      const struct command_script *script,
                                      struct perr *err);

void command_cleanup(struct command *c);

#endif
