/* SPDX-License-Identifier: MIT */
/* parity: the host-side launcher. A command table; each verb lives in cmd_<verb>.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/cli.h"

extern char **environ;

static const struct {
    const char *name;
    cli_verb_fn *fn;
    const char *arg; /* what the verb takes, for usage */
} verbs[] = {
    {"validate", cmd_validate, "SPEC"}, {"render", cmd_render, "SPEC"}, {"run", cmd_run, "SPEC"},
    {"status", cmd_status, "NAME"},     {"logs", cmd_logs, "NAME"},     {"stop", cmd_stop, "NAME"},
};

static void usage(FILE *f, const char *prog)
{
    fprintf(
        f,
        "Usage: %s VERB ARG [OPTIONS]\n"
        "\n"
        "  validate SPEC                         check a job spec against every target's rules\n"
        "  render SPEC --target sagemaker|eks    print what would be sent, send nothing\n"
        "  run SPEC --target local|sagemaker|eks [--detach]\n"
        "                                        launch, follow to the end, exit with the\n"
        "                                        job's exit code\n"
        "  status NAME                           the job's state\n"
        "  logs NAME [--follow]                  the logs of every host, prefixed algo-N\n"
        "  stop NAME                             stop the job (its pods too on EKS)\n"
        "\n"
        "Options:\n"
        "  --target T        local, sagemaker or eks (status, logs and stop remember the\n"
        "                    target of a job this machine launched)\n"
        "  --output FORMAT   human (default) or json\n"
        "  --detach          run: launch and return\n"
        "  -f, --follow      logs: keep following until the job ends\n"
        "  --no-container    local: run the command directly under parity-init\n"
        "  --root DIR        local: the job's private /opt/ml (default: a new folder)\n"
        "  --context NAME    eks: the kubeconfig context (default: current-context)\n"
        "  --namespace NS    eks: instead of the spec's namespace\n"
        "  -h, --help        this text;  -V, --version  the version\n"
        "\n"
        "Exit status: run and logs --follow exit with the job's exit code; 1: validate found\n"
        "problems; 2: usage; 125: the launcher failed; 130: stopped following (Ctrl-C).\n",
        prog);
}

const char *cli_target_name(enum cli_target t)
{
    switch (t) {
    case CLI_TARGET_LOCAL:
        return "local";
    case CLI_TARGET_SAGEMAKER:
        return "sagemaker";
    case CLI_TARGET_EKS:
        return "eks";
    case CLI_TARGET_NONE:
        break;
    }
    return "none";
}

int cli_fail(int code, const struct perr *err)
{
    fprintf(stderr, "parity: %s\n", err->msg);
    return code;
}

static int parse_target(const char *s, enum cli_target *t)
{
    for (enum cli_target i = CLI_TARGET_LOCAL; i <= CLI_TARGET_EKS; i++) {
        if (strcmp(s, cli_target_name(i)) == 0) {
            *t = i;
            return 0;
        }
    }
    return -1;
}

static int parse_options(int argc, char **argv, struct cli *c)
{
    enum {
        OPT_TARGET = 256,
        OPT_OUTPUT,
        OPT_DETACH,
        OPT_NO_CONTAINER,
        OPT_ROOT,
        OPT_CONTEXT,
        OPT_NAMESPACE
    };
    static const struct option long_options[] = {
        {"target", required_argument, NULL, OPT_TARGET},
        {"output", required_argument, NULL, OPT_OUTPUT},
        {"detach", no_argument, NULL, OPT_DETACH},
        {"follow", no_argument, NULL, 'f'},
        {"no-container", no_argument, NULL, OPT_NO_CONTAINER},
        {"root", required_argument, NULL, OPT_ROOT},
        {"context", required_argument, NULL, OPT_CONTEXT},
        {"namespace", required_argument, NULL, OPT_NAMESPACE},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int o;

    while ((o = getopt_long(argc, argv, "+fhV", long_options, NULL)) != -1) {
        switch (o) {
        case OPT_TARGET:
            if (parse_target(optarg, &c->target) < 0) {
                fprintf(stderr, "parity: --target must be local, sagemaker or eks, not '%s'\n",
                        optarg);
                return -1;
            }
            break;
        case OPT_OUTPUT:
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "human") != 0) {
                fprintf(stderr, "parity: --output must be human or json, not '%s'\n", optarg);
                return -1;
            }
            c->json = strcmp(optarg, "json") == 0;
            break;
        case OPT_DETACH:
            c->detach = true;
            break;
        case 'f':
            c->follow = true;
            break;
        case OPT_NO_CONTAINER:
            c->no_container = true;
            break;
        case OPT_ROOT:
            c->root = optarg;
            break;
        case OPT_CONTEXT:
            c->context = optarg;
            break;
        case OPT_NAMESPACE:
            c->namespace_ = optarg;
            break;
        case 'h':
            usage(stdout, c->prog);
            exit(0);
        case 'V':
            printf("parity %s\n", PARITY_VERSION);
            exit(0);
        default:
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cli c = {.prog = "parity"};
    struct perr err = {0};
    int rc;

    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
            usage(stdout, c.prog);
            return 0;
        }
        if (argc >= 2 && (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version"))) {
            printf("parity %s\n", PARITY_VERSION);
            return 0;
        }
        usage(stderr, c.prog);
        return CLI_EXIT_USAGE;
    }
    c.verb = argv[1];
    /* options may come before or after the argument: collect the argument, then parse */
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (strcmp(c.verb, verbs[i].name) != 0)
            continue;
        char **rest = calloc((size_t)argc + 1, sizeof(*rest));
        int n = 1;
        if (!rest)
            return CLI_EXIT_FAILED;
        rest[0] = argv[0];
        for (int k = 2; k < argc; k++) {
            bool takes_value = !strcmp(argv[k], "--target") || !strcmp(argv[k], "--output") ||
                               !strcmp(argv[k], "--root") || !strcmp(argv[k], "--context") ||
                               !strcmp(argv[k], "--namespace");
            if (argv[k][0] != '-' && !c.arg) {
                c.arg = argv[k];
                continue;
            }
            rest[n++] = argv[k];
            if (takes_value && k + 1 < argc)
                rest[n++] = argv[++k];
        }
        rc = parse_options(n, rest, &c);
        if (rc == 0 && optind < n) {
            fprintf(stderr, "parity: %s: unexpected argument '%s'\n", c.verb, rest[optind]);
            rc = -1;
        }
        free(rest);
        if (rc < 0)
            return CLI_EXIT_USAGE;
        if (!c.arg) {
            fprintf(stderr, "parity: %s needs %s (parity --help)\n", c.verb, verbs[i].arg);
            return CLI_EXIT_USAGE;
        }
        c.color = !c.json && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
        if (envlist_init_from(&c.env, environ, &err) < 0)
            return cli_fail(CLI_EXIT_FAILED, &err);
        rc = verbs[i].fn(&c);
        envlist_cleanup(&c.env);
        return rc;
    }
    fprintf(stderr, "parity: unknown verb '%s' (parity --help)\n", c.verb);
    return CLI_EXIT_USAGE;
}
