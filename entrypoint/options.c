/* SPDX-License-Identifier: MIT */
/* Command-line and environment parsing: every flag has a PARITY_* twin, flags win. */
#include "entrypoint/options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/num.h"

/* A day: longer than any platform's grace period, short enough to catch a unit mistake. */
#define OPTIONS_MAX_SECONDS 86400

enum {
    OPT_GRACE = 256,
    OPT_REAP,
    OPT_SINGLE_CHILD,
    OPT_PLATFORM,
    OPT_LOG_FORMAT,
    OPT_LOG_LEVEL,
    OPT_ROOT,
    OPT_EXPLAIN,
    OPT_MASTER_PORT,
    OPT_PEER_WAIT,
    OPT_STOP,
};

static const struct option long_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {"verbose", no_argument, NULL, 'v'},
    {"grace-seconds", required_argument, NULL, OPT_GRACE},
    {"reap-seconds", required_argument, NULL, OPT_REAP},
    {"stop-seconds", required_argument, NULL, OPT_STOP},
    {"single-child", no_argument, NULL, OPT_SINGLE_CHILD},
    {"platform", required_argument, NULL, OPT_PLATFORM},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"root", required_argument, NULL, OPT_ROOT},
    {"explain", no_argument, NULL, OPT_EXPLAIN},
    {"master-port", required_argument, NULL, OPT_MASTER_PORT},
    {"peer-wait-seconds", required_argument, NULL, OPT_PEER_WAIT},
    {NULL, 0, NULL, 0},
};

void options_usage(const char *prog)
{
    printf(
        "Usage: %s [OPTIONS] [--] COMMAND [ARG...]\n"
        "\n"
        "Runs COMMAND as PID 1's child: forwards signals to its process group, reaps zombies,\n"
        "and exits with its status (128+N if killed by signal N).\n"
        "\n"
        "Options (environment twin in brackets):\n"
        "  --grace-seconds N   SIGKILL the group N s after SIGTERM/SIGINT [PARITY_GRACE_SECONDS]\n"
        "                      (default from the platform: sagemaker-training 110,\n"
        "                      sagemaker-processing 110, sagemaker-hosting 25, eks 25, local 10)\n"
        "  --reap-seconds N    after the child exits, wait N s for the rest of its group\n"
        "                      after SIGTERM before SIGKILL (default 5) [PARITY_REAP_SECONDS]\n"
        "  --stop-seconds N    the platform kills N s after SIGTERM: uploads must end by then\n"
        "                      (default: sagemaker-training and -processing 120, sagemaker-\n"
        "                      hosting 30, eks 30, local 0 = no limit) [PARITY_STOP_SECONDS]\n"
        "  --single-child      forward signals to the child only [PARITY_SINGLE_CHILD=1]\n"
        "  --platform NAME     sagemaker-training, sagemaker-processing, sagemaker-hosting,\n"
        "                      eks or local, instead of detecting it [PARITY_PLATFORM]\n"
        "  --root DIR          the ML root instead of /opt/ml; every SM_* path follows it\n"
        "                      [PARITY_ML_ROOT]\n"
        "  --explain           print the platform, role, command, environment and files the\n"
        "                      child would get, as JSON, and exit [PARITY_EXPLAIN=1]\n"
        "  --master-port N     MASTER_PORT for distributed training (default 7777)\n"
        "                      [PARITY_MASTER_PORT]\n"
        "  --peer-wait-seconds N  EKS: wait up to N s for peer pods in DNS (default 900)\n"
        "                      [PARITY_PEER_WAIT_SECONDS]\n"
        "  --log-format FMT    text or json (default text) [PARITY_LOG_FORMAT]\n"
        "  --log-level LEVEL   error, warn, info or debug (default info) [PARITY_LOG_LEVEL]\n"
        "  -v, --verbose       same as --log-level debug\n"
        "  -h, --help          show this help and exit\n"
        "  -V, --version       show versions and exit\n"
        "\n"
        "Exit status: the child's; 128+N if it was killed by signal N; 125 if parity-init\n"
        "failed before starting it; 126 if COMMAND is not executable; 127 if not found.\n",
        prog);
}

static int parse_seconds(const char *s, const char *name, uint64_t *out, struct perr *err)
{
    if (num_parse_u64(s, 0, OPTIONS_MAX_SECONDS, out, err) < 0)
        return perr_wrap(err, "invalid %s", name);
    return 0;
}

static int parse_bool(const char *s, const char *name, bool *out, struct perr *err)
{
    if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
        *out = true;
    else if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || !*s)
        *out = false;
    else
        return perr_set(err, PERR_USAGE, "invalid %s '%s'; use 1 or 0", name, s);
    return 0;
}

static int read_environment(struct options *o, struct perr *err)
{
    const char *v;

    if ((v = getenv("PARITY_GRACE_SECONDS")) &&
        parse_seconds(v, "PARITY_GRACE_SECONDS", &o->grace_s, err) < 0)
        return -1;
    if ((v = getenv("PARITY_STOP_SECONDS")) &&
        parse_seconds(v, "PARITY_STOP_SECONDS", &o->stop_s, err) < 0)
        return -1;
    if ((v = getenv("PARITY_REAP_SECONDS")) &&
        parse_seconds(v, "PARITY_REAP_SECONDS", &o->reap_s, err) < 0)
        return -1;
    if ((v = getenv("PARITY_SINGLE_CHILD")) &&
        parse_bool(v, "PARITY_SINGLE_CHILD", &o->single_child, err) < 0)
        return -1;
    if ((v = getenv("PARITY_PLATFORM")) && *v)
        o->platform = v;
    if ((v = getenv("PARITY_ML_ROOT")) && *v)
        o->root = v;
    if ((v = getenv("PARITY_EXPLAIN")) && parse_bool(v, "PARITY_EXPLAIN", &o->explain, err) < 0)
        return -1;
    if ((v = getenv("PARITY_MASTER_PORT")) && num_parse_u64(v, 1, 65535, &o->master_port, err) < 0)
        return perr_wrap(err, "invalid PARITY_MASTER_PORT");
    if ((v = getenv("PARITY_PEER_WAIT_SECONDS")) &&
        parse_seconds(v, "PARITY_PEER_WAIT_SECONDS", &o->peer_wait_s, err) < 0)
        return -1;
    if ((v = getenv("PARITY_LOG_LEVEL")) && *v && log_level_parse(v, &o->log_level, err) < 0)
        return perr_wrap(err, "invalid PARITY_LOG_LEVEL");
    if ((v = getenv("PARITY_LOG_FORMAT")) && *v && log_format_parse(v, &o->log_format, err) < 0)
        return perr_wrap(err, "invalid PARITY_LOG_FORMAT");
    return 0;
}

static int apply_flag(struct options *o, int c, const char *arg, struct perr *err)
{
    switch (c) {
    case 'h':
        o->action = OPTIONS_HELP;
        return 0;
    case 'V':
        o->action = OPTIONS_VERSION;
        return 0;
    case 'v':
        o->log_level = LOG_LEVEL_DEBUG;
        return 0;
    case OPT_GRACE:
        return parse_seconds(arg, "--grace-seconds", &o->grace_s, err);
    case OPT_STOP:
        return parse_seconds(arg, "--stop-seconds", &o->stop_s, err);
    case OPT_REAP:
        return parse_seconds(arg, "--reap-seconds", &o->reap_s, err);
    case OPT_SINGLE_CHILD:
        o->single_child = true;
        return 0;
    case OPT_PLATFORM:
        o->platform = arg;
        return 0;
    case OPT_LOG_FORMAT:
        return log_format_parse(arg, &o->log_format, err) < 0
                   ? perr_wrap(err, "invalid --log-format")
                   : 0;
    case OPT_ROOT:
        o->root = arg;
        return 0;
    case OPT_EXPLAIN:
        o->explain = true;
        return 0;
    case OPT_MASTER_PORT:
        return num_parse_u64(arg, 1, 65535, &o->master_port, err) < 0
                   ? perr_wrap(err, "invalid --master-port")
                   : 0;
    case OPT_PEER_WAIT:
        return parse_seconds(arg, "--peer-wait-seconds", &o->peer_wait_s, err);
    case OPT_LOG_LEVEL:
        return log_level_parse(arg, &o->log_level, err) < 0 ? perr_wrap(err, "invalid --log-level")
                                                            : 0;
    default:
        return perr_set(err, PERR_USAGE, "unexpected option code %d", c);
    }
}

static bool job_config_given(void)
{
    const char *inline_ = getenv("PARITY_JOB_CONFIG"), *uri = getenv("PARITY_JOB_CONFIG_URI");

    return (inline_ && *inline_) || (uri && *uri);
}

/* parity-init installed as "train" or "serve": the role then names the command. */
static bool role_link(const char *argv0)
{
    const char *base = strrchr(argv0, '/');

    base = base ? base + 1 : argv0;
    return strcmp(base, "train") == 0 || strcmp(base, "serve") == 0;
}

int options_parse(int argc, char **argv, struct options *o, struct perr *err)
{
    int c;

    *o = (struct options){
        .action = OPTIONS_RUN,
        .grace_s = OPTIONS_UNSET,
        .stop_s = OPTIONS_UNSET,
        .reap_s = 5,
        .log_level = LOG_LEVEL_INFO,
        .log_format = LOG_FORMAT_TEXT,
        .root = "/opt/ml",
        .master_port = 7777, /* what AWS's PyTorch images export (contract/sagemaker.md §5) */
        .peer_wait_s = 900,  /* the toolkit waits up to 15 minutes for peers' DNS */
    };
    if (read_environment(o, err) < 0)
        return -1;
    opterr = 0; /* errors are reported once, by the caller, in the log format */
    optind = 1;
    /* "+": stop at the first non-option, so the command's own flags are left alone. */
    while ((c = getopt_long(argc, argv, "+hVv", long_options, NULL)) != -1) {
        if (c == '?' || c == ':') {
            const char *bad = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
            return perr_set(err, PERR_USAGE, "unknown option or missing value in '%s'; see --help",
                            bad);
        }
        if (apply_flag(o, c, optarg, err) < 0)
            return -1;
    }
    if (o->action != OPTIONS_RUN)
        return 0;
    o->command = argv + optind;
    /* With a job config the role's command can come from it or the image (an EKS pod that
     * the launcher starts as `parity-init --` without args). */
    if (optind >= argc && !role_link(argv[0]) && !job_config_given())
        return perr_set(err, PERR_USAGE,
                        "no command given; usage: parity-init [OPTIONS] [--] COMMAND [ARG...]");
    return 0;
}
