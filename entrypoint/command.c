/* SPDX-License-Identifier: MIT */
/* Role and command selection (contract/sagemaker.md §1.1, §2.1 step 5). */
#include "entrypoint/command.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[] = {"train", "serve", "process"};

const char *command_role_name(enum role r)
{
    return role_names[r];
}

int command_role_parse(const char *name, enum role *out)
{
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(name, role_names[i]) == 0) {
            *out = (enum role)i;
            return 0;
        }
    }
    return -1;
}

bool command_role_from_argv(const char *argv0, char **cmd, enum role *role, char ***rest)
{
    const char *base = strrchr(argv0, '/');

    base = base ? base + 1 : argv0;
    if ((strcmp(base, "train") == 0 || strcmp(base, "serve") == 0) &&
        command_role_parse(base, role) == 0) {
        *rest = cmd;
        return true;
    }
    if (cmd && cmd[0] && (strcmp(cmd[0], "train") == 0 || strcmp(cmd[0], "serve") == 0) &&
        command_role_parse(cmd[0], role) == 0) {
        *rest = cmd + 1;
        return true;
    }
    return false;
}

static int append(char ***argv, size_t *n, const char *s, struct perr *err)
{
    char **v = realloc(*argv, (*n + 2) * sizeof(**argv));

    if (!v)
        return perr_set(err, PERR_NOMEM, "out of memory building the command");
    *argv = v;
    v[*n] = strdup(s);
    if (!v[*n])
        return perr_set(err, PERR_NOMEM, "out of memory building the command");
    v[++*n] = NULL;
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The toolkit's runners: .py with the image's python3, .sh with sh, anything else directly;
 * always in the code folder, with the hyperparameters as arguments. */
static int
script_mode(struct command *c, size_t *n, const struct command_script *s, struct perr *err)
{
    char local[1100];
    int rc = 0;

    if (ends_with(s->entry_point, ".py"))
        rc = append(&c->argv, n, "python3", err);
    else if (ends_with(s->entry_point, ".sh"))
        rc = append(&c->argv, n, "/bin/sh", err);
    if (rc < 0)
        return -1;
    /* execvp would search PATH for a bare name; the toolkit runs the file in the code folder. */
    snprintf(local, sizeof(local), "%s%s", *n || strchr(s->entry_point, '/') ? "" : "./",
             s->entry_point);
    rc = append(&c->argv, n, local, err);
    for (size_t i = 0; rc == 0 && s->user_args && i < s->user_args->count; i++)
        rc = append(&c->argv, n, s->user_args->items[i]->text, err);
    snprintf(c->cwd, sizeof(c->cwd), "%s", s->code_dir);
    c->source = "script mode";
    return rc;
}

int command_resolve(struct command *c,
                    char **given,
                    char **extra,
                    enum role role,
                    const struct image_config *img,
                    const struct command_script *script,
                    struct perr *err)
{
    const struct jdoc *from_img = img->commands[role];
    size_t n = 0;
    int rc = 0;

    *c = (struct command){0};
    if (given && given[0]) {
        for (size_t i = 0; rc == 0 && given[i]; i++)
            rc = append(&c->argv, &n, given[i], err);
        c->source = "command line";
        return rc;
    }
    if (from_img) {
        for (size_t i = 0; rc == 0 && i < from_img->count; i++)
            rc = append(&c->argv, &n, from_img->items[i]->text, err);
        for (size_t i = 0; rc == 0 && extra && extra[i]; i++)
            rc = append(&c->argv, &n, extra[i], err);
        c->source = img->command_source[role];
        return rc;
    }
    if (role == ROLE_TRAIN && script && script->entry_point && *script->entry_point)
        return script_mode(c, &n, script, err);
    return perr_set(err, PERR_USAGE,
                    "no command for role %s: give one after --, set %s_command in %s, set "
                    "PARITY_%s_COMMAND%s",
                    role_names[role], role_names[role],
                    img->path[0] ? img->path : CONFIG_IMAGE_PATH,
                    role == ROLE_TRAIN   ? "TRAIN"
                    : role == ROLE_SERVE ? "SERVE"
                                         : "PROCESS",
                    role == ROLE_TRAIN ? ", or SAGEMAKER_PROGRAM (script mode)" : "");
}

void command_cleanup(struct command *c)
{
    for (size_t i = 0; c->argv && c->argv[i]; i++)
        free(c->argv[i]);
    free(c->argv);
    *c = (struct command){0};
}
