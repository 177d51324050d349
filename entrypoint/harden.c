/* SPDX-License-Identifier: MIT */
/* The hardening plan (decided before spawn) and its application in the child (syscalls only). */
#include "entrypoint/harden.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/caps.h"
#include "lib/log.h"
#include "lib/num.h"

#define SECCOMP_PROFILE_MAX_BYTES (1u << 20)

/* The built-in profile, compiled when parity-init is built (tools/gen-seccomp-default.c). */
#include "seccomp_default_bpf.h"

static const struct {
    const char *name;
    int resource;
} rlimit_names[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},           {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},         {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

/* A field of the image config, or its environment twin (the variable wins). */
static const char *setting(const struct image_config *img,
                           const struct envlist *env,
                           const char *field,
                           const char *var,
                           const struct jdoc **doc)
{
    const char *v = envlist_get(env, var);

    *doc = img->doc ? jdoc_get(img->doc, field) : NULL;
    if (v && *v) {
        *doc = NULL;
        return v;
    }
    return *doc && (*doc)->type == JDOC_STRING ? (*doc)->text : NULL;
}

static int plan_user(struct harden_plan *p,
                     const struct image_config *img,
                     const struct envlist *env,
                     const char *etc_dir,
                     struct perr *err)
{
    const struct jdoc *doc;
    const char *spec = setting(img, env, "user", "PARITY_USER", &doc);

    if (doc && doc->type != JDOC_STRING)
        return perr_set(err, PERR_PARSE, "user must be a string like \"trainer\" or \"1000:1000\"");
    if (!spec)
        return 0;
    if (passwd_resolve(etc_dir, spec, &p->user, err) < 0)
        return perr_wrap(err, "user");
    p->set_user = true;
    return 0;
}

static int plan_caps(struct harden_plan *p,
                     const struct image_config *img,
                     const struct envlist *env,
                     struct perr *err)
{
    const struct jdoc *doc;
    const char *text = setting(img, env, "capabilities", "PARITY_CAPABILITIES", &doc);

    /* Without a setting: the set container runtimes give by default, so a privileged start
     * does not hand SYS_ADMIN and friends to the user's code. */
    if (!doc && !text) {
        p->keep_caps = caps_runtime_default();
    } else if (caps_mask_from_list(doc && doc->type != JDOC_STRING ? doc : NULL, text,
                                   &p->keep_caps, "capabilities", err) < 0) {
        return -1;
    }
    p->drop_caps = true;
    return 0;
}

static int plan_seccomp(struct harden_plan *p,
                        const struct image_config *img,
                        const struct envlist *env,
                        struct perr *err)
{
    const struct jdoc *doc;
    const char *v = setting(img, env, "seccomp", "PARITY_SECCOMP", &doc);
    struct jdoc *parsed = NULL;
    const struct jdoc *profile = doc && doc->type == JDOC_OBJECT ? doc : NULL;
    int rc = 0;

    if (v && strcmp(v, "unconfined") == 0) {
        snprintf(p->seccomp_source, sizeof(p->seccomp_source), "unconfined");
        return 0;
    }
    if (!profile && doc && doc->type != JDOC_STRING)
        return perr_set(
            err, PERR_PARSE,
            "seccomp must be a profile object, a file path, \"default\" or \"unconfined\"");
    if (!profile && (!v || strcmp(v, "default") == 0)) {
        /* Compiled at build time: libseccomp would cost more than the rest of the boot. */
        snprintf(p->seccomp_source, sizeof(p->seccomp_source), "built-in default");
        p->seccomp.insns = malloc(sizeof(seccomp_default_bpf));
        if (!p->seccomp.insns)
            return perr_set(err, PERR_NOMEM, "out of memory copying the default seccomp filter");
        memcpy(p->seccomp.insns, seccomp_default_bpf, sizeof(seccomp_default_bpf));
        p->seccomp.count =
            (unsigned short)(sizeof(seccomp_default_bpf) / sizeof(seccomp_default_bpf[0]));
        return 0;
    }
    if (!profile) {
        struct buf b;
        buf_init(&b, SECCOMP_PROFILE_MAX_BYTES);
        if (buf_read_file(&b, v, err) < 0) {
            buf_cleanup(&b);
            return perr_wrap(err, "seccomp profile");
        }
        snprintf(p->seccomp_source, sizeof(p->seccomp_source), "%s", v);
        parsed = jdoc_parse(b.data, b.len, NULL, err);
        buf_cleanup(&b);
        if (!parsed)
            return perr_wrap(err, "seccomp profile %s", p->seccomp_source);
        profile = parsed;
    } else {
        snprintf(p->seccomp_source, sizeof(p->seccomp_source), "inline");
    }
    if (seccomp_profile_compile(profile, p->keep_caps, &p->seccomp, err) < 0)
        rc = perr_wrap(err, "seccomp profile %s", p->seccomp_source);
    jdoc_free(parsed);
    return rc;
}

static int plan_umask(struct harden_plan *p,
                      const struct image_config *img,
                      const struct envlist *env,
                      struct perr *err)
{
    const struct jdoc *doc;
    const char *v = setting(img, env, "umask", "PARITY_UMASK", &doc);
    char *end;
    long m;

    if (doc && doc->type == JDOC_NUMBER) {
        /* JSON has no octal: a number is taken as written in octal digits (22 means 0022). */
        v = doc->text;
    } else if (doc && doc->type != JDOC_STRING) {
        return perr_set(err, PERR_PARSE, "umask must be an octal string like \"0022\"");
    }
    if (!v)
        return 0;
    m = strtol(v, &end, 8);
    if (!*v || *end || m < 0 || m > 0777)
        return perr_set(err, PERR_PARSE, "umask '%s' is not an octal mode between 0000 and 0777",
                        v);
    p->set_umask = true;
    p->umask = (mode_t)m;
    return 0;
}

static int limit_value(const struct jdoc *v, rlim_t *out)
{
    uint64_t n;
    struct perr ignored = {0};

    if (v && v->type == JDOC_STRING && strcmp(v->text, "unlimited") == 0) {
        *out = RLIM_INFINITY;
        return 0;
    }
    if (!v || v->type != JDOC_NUMBER || num_parse_u64(v->text, 0, UINT64_MAX, &n, &ignored) < 0)
        return -1;
    *out = (rlim_t)n;
    return 0;
}

/* OCI's process.rlimits: [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096}]. */
static int plan_rlimits(struct harden_plan *p, const struct image_config *img, struct perr *err)
{
    const struct jdoc *list = img->doc ? jdoc_get(img->doc, "rlimits") : NULL;

    if (!list)
        return 0;
    if (list->type != JDOC_ARRAY)
        return perr_set(err, PERR_PARSE,
                        "rlimits must be a list of {\"type\", \"soft\", \"hard\"}");
    for (size_t i = 0; i < list->count; i++) {
        const char *type = jdoc_get_str(list->items[i], "type");
        struct harden_rlimit *r = &p->rlimits[p->rlimit_count];
        size_t k = 0;
        if (i >= HARDEN_MAX_RLIMITS)
            return perr_set(err, PERR_LIMIT, "rlimits: at most %d entries", HARDEN_MAX_RLIMITS);
        while (k < sizeof(rlimit_names) / sizeof(rlimit_names[0]) &&
               (!type || strcmp(type, rlimit_names[k].name)))
            k++;
        if (k == sizeof(rlimit_names) / sizeof(rlimit_names[0]))
            return perr_set(err, PERR_PARSE, "rlimits[%zu].type: unknown limit '%s'", i,
                            type ? type : "");
        r->resource = rlimit_names[k].resource;
        if (limit_value(jdoc_get(list->items[i], "soft"), &r->limit.rlim_cur) < 0 ||
            limit_value(jdoc_get(list->items[i], "hard"), &r->limit.rlim_max) < 0)
            return perr_set(err, PERR_PARSE,
                            "rlimits[%zu]: soft and hard must be numbers or \"unlimited\"", i);
        if (r->limit.rlim_cur > r->limit.rlim_max)
            return perr_set(err, PERR_PARSE, "rlimits[%zu]: soft is above hard", i);
        p->rlimit_count++;
    }
    return 0;
}

static int plan_no_new_privs(struct harden_plan *p,
                             const struct image_config *img,
                             const struct envlist *env,
                             struct perr *err)
{
    const struct jdoc *doc;
    const char *v = setting(img, env, "no_new_privs", "PARITY_NO_NEW_PRIVS", &doc);

    /* On whenever anything is dropped: setuid binaries must not win back what was taken. */
    p->no_new_privs = p->drop_caps || p->seccomp.count > 0 || p->set_user;
    if (doc && (doc->type == JDOC_TRUE || doc->type == JDOC_FALSE)) {
        p->no_new_privs = doc->type == JDOC_TRUE;
    } else if (doc && doc->type != JDOC_STRING) {
        return perr_set(err, PERR_PARSE, "no_new_privs must be true or false");
    } else if (v) {
        if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
            p->no_new_privs = true;
        else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
            p->no_new_privs = false;
        else
            return perr_set(err, PERR_PARSE, "no_new_privs '%s': use true or false", v);
    }
    return 0;
}

int harden_plan_build(struct harden_plan *p,
                      const struct image_config *img,
                      const struct envlist *env,
                      const char *etc_dir,
                      struct perr *err)
{
    const char *off = envlist_get(env, "PARITY_HARDEN");
    int rc;

    *p = (struct harden_plan){0};
    if (off && (strcmp(off, "off") == 0 || strcmp(off, "0") == 0 || strcmp(off, "false") == 0))
        return 0;
    if (off && *off && strcmp(off, "on") != 0 && strcmp(off, "1") != 0 && strcmp(off, "true") != 0)
        return perr_set(err, PERR_USAGE, "PARITY_HARDEN '%s': use on or off", off);
    p->enabled = true;
    rc = plan_user(p, img, env, etc_dir, err);
    if (rc == 0)
        rc = plan_caps(p, img, env, err);
    if (rc == 0)
        rc = plan_seccomp(p, img, env, err);
    if (rc == 0)
        rc = plan_umask(p, img, env, err);
    if (rc == 0)
        rc = plan_rlimits(p, img, err);
    if (rc == 0)
        rc = plan_no_new_privs(p, img, env, err);
    /* The kernel loads a filter only with no_new_privs or CAP_SYS_ADMIN: say so now, not after
     * the child starts. */
    if (rc == 0 && p->seccomp.count && !p->no_new_privs &&
        !(p->keep_caps & (1ULL << CAP_SYS_ADMIN)))
        rc = perr_set(err, PERR_USAGE,
                      "no_new_privs: false needs CAP_SYS_ADMIN kept or seccomp \"unconfined\"; "
                      "the kernel loads a seccomp filter only with one of them");
    return rc;
}

void harden_cleanup(struct harden_plan *p)
{
    seccomp_program_cleanup(&p->seccomp);
}

static const char *const stage_names[] = {
    [HARDEN_STAGE_RLIMIT] = "setting rlimits",
    [HARDEN_STAGE_CAPS_BOUNDING] = "dropping capabilities from the bounding set",
    [HARDEN_STAGE_USER] = "switching user",
    [HARDEN_STAGE_CAPS] = "setting capabilities",
    [HARDEN_STAGE_NO_NEW_PRIVS] = "setting no_new_privs",
    [HARDEN_STAGE_SECCOMP] = "loading the seccomp filter",
};

const char *harden_stage_name(int stage)
{
    if (stage > 0 && (size_t)stage < sizeof(stage_names) / sizeof(stage_names[0]))
        return stage_names[stage];
    return "hardening";
}

/* capget/capset through the raw system call: libcap allocates, and the child must not. */
static int set_cap_sets(uint64_t keep)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2];

    if (syscall(SYS_capget, &h, d) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        uint32_t k = (uint32_t)(keep >> (32 * i));
        d[i].permitted &= k;
        d[i].effective = d[i].permitted;
        d[i].inheritable = d[i].permitted;
    }
    return (int)syscall(SYS_capset, &h, d);
}

static int apply_caps_and_user(const struct harden_plan *p)
{
    int last = caps_last_cap();

    /* Keep the permitted set across setuid, and drop from the bounding set while CAP_SETPCAP
     * is still ours. */
    if (p->drop_caps && p->set_user && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return HARDEN_STAGE_USER;
    for (int cap = 0; p->drop_caps && cap <= last; cap++) {
        if (!(p->keep_caps & (1ULL << cap)) && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 &&
            prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
            return HARDEN_STAGE_CAPS_BOUNDING;
    }
    if (p->set_user) {
        /* Raw system calls: libc's wrappers apply the change to every thread of the process,
         * and this child still shares parity-init's memory and thread list. */
        if (syscall(SYS_setgroups, p->user.group_count, p->user.groups) < 0 ||
            syscall(SYS_setgid, p->user.gid) < 0 || syscall(SYS_setuid, p->user.uid) < 0)
            return HARDEN_STAGE_USER;
    }
    if (p->drop_caps) {
        if (set_cap_sets(p->keep_caps) < 0)
            return HARDEN_STAGE_CAPS;
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        /* A non-root user loses every capability at exec unless it is ambient. */
        for (int cap = 0; p->set_user && p->user.uid != 0 && cap <= last; cap++) {
            if ((p->keep_caps & (1ULL << cap)) &&
                prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EPERM)
                return HARDEN_STAGE_CAPS;
        }
    }
    return 0;
}

int harden_apply(const struct harden_plan *p)
{
    int stage;

    if (!p->enabled)
        return 0;
    for (size_t i = 0; i < p->rlimit_count; i++) {
        /* prlimit64 directly, for the same reason as setuid below. */
        if (syscall(SYS_prlimit64, 0, p->rlimits[i].resource, &p->rlimits[i].limit, NULL) < 0)
            return HARDEN_STAGE_RLIMIT;
    }
    if (p->set_umask)
        umask(p->umask);
    stage = apply_caps_and_user(p);
    if (stage)
        return stage;
    if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return HARDEN_STAGE_NO_NEW_PRIVS;
    if (p->seccomp.count) {
        struct sock_fprog prog = {.len = p->seccomp.count, .filter = p->seccomp.insns};
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
            return HARDEN_STAGE_SECCOMP;
    }
    return 0;
}
