/* SPDX-License-Identifier: MIT */
/* From the OCI seccomp JSON to BPF: parse with paths, add rules with libseccomp, export. */
#include "lib/seccomp_profile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <seccomp.h>

#include "lib/buf.h"
#include "lib/caps.h"
#include "lib/num.h"

#define SECCOMP_PROFILE_API_LEVEL 3u

#define MAX_RULE_ARGS 6
#define MAX_BPF_BYTES (1u << 20)

static const struct {
    const char *name;
    int value;
} errno_names[] = {
    {"EPERM", EPERM},   {"ENOENT", ENOENT}, {"EIO", EIO},       {"E2BIG", E2BIG},
    {"EBADF", EBADF},   {"EAGAIN", EAGAIN}, {"ENOMEM", ENOMEM}, {"EACCES", EACCES},
    {"EFAULT", EFAULT}, {"EBUSY", EBUSY},   {"EEXIST", EEXIST}, {"EINVAL", EINVAL},
    {"ENOSPC", ENOSPC}, {"EROFS", EROFS},   {"ENOSYS", ENOSYS}, {"ENOTSUP", ENOTSUP},
};

static const struct {
    const char *name;
    enum scmp_compare op;
} operators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* The Go architecture names profiles use in includes/excludes ("amd64"), for this machine. */
static const char *const native_arch_names[] = {
#if defined(__x86_64__)
    "amd64",
    "x86_64",
#elif defined(__aarch64__)
    "arm64",
    "aarch64",
#endif
    NULL,
};

struct compiler {
    scmp_filter_ctx ctx;
    uint64_t caps;
    struct perr *err;
};

static int errno_of(const struct jdoc *obj,
                    const char *num_key,
                    const char *name_key,
                    int dflt,
                    int *out,
                    const char *path,
                    struct perr *err)
{
    const struct jdoc *n = jdoc_get(obj, num_key);
    const char *name = jdoc_get_str(obj, name_key);
    uint64_t v;

    *out = dflt;
    if (n) {
        if (n->type != JDOC_NUMBER || num_parse_u64(n->text, 0, 4095, &v, err) < 0)
            return perr_set(err, PERR_PARSE, "%s%s must be an errno number", path, num_key);
        *out = (int)v;
        return 0;
    }
    if (!name)
        return 0;
    for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++) {
        if (strcmp(name, errno_names[i].name) == 0) {
            *out = errno_names[i].value;
            return 0;
        }
    }
    return perr_set(err, PERR_PARSE, "%s%s: unknown errno name '%s'", path, name_key, name);
}

/* `field` names the setting in messages: "defaultAction" or "syscalls[3].action". */
static int
action_of(const char *name, int errno_ret, uint32_t *out, const char *field, struct perr *err)
{
    if (!name)
        return perr_set(err, PERR_PARSE, "%s is required", field);
    if (strcmp(name, "SCMP_ACT_ALLOW") == 0)
        *out = SCMP_ACT_ALLOW;
    else if (strcmp(name, "SCMP_ACT_ERRNO") == 0)
        *out = SCMP_ACT_ERRNO((uint32_t)errno_ret);
    else if (strcmp(name, "SCMP_ACT_KILL") == 0 || strcmp(name, "SCMP_ACT_KILL_THREAD") == 0)
        *out = SCMP_ACT_KILL_THREAD;
    else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0)
        *out = SCMP_ACT_KILL_PROCESS;
    else if (strcmp(name, "SCMP_ACT_TRAP") == 0)
        *out = SCMP_ACT_TRAP;
    else if (strcmp(name, "SCMP_ACT_TRACE") == 0)
        *out = SCMP_ACT_TRACE((uint32_t)errno_ret);
    else if (strcmp(name, "SCMP_ACT_LOG") == 0)
        *out = SCMP_ACT_LOG;
    else
        return perr_set(err, PERR_PARSE, "%s: unsupported action '%s'", field, name);
    return 0;
}

static bool list_has(const struct jdoc *list, const char *const *names)
{
    for (size_t i = 0; list && list->type == JDOC_ARRAY && i < list->count; i++) {
        for (const char *const *n = names; *n; n++) {
            if (list->items[i]->type == JDOC_STRING && strcmp(list->items[i]->text, *n) == 0)
                return true;
        }
    }
    return false;
}

/* Every capability in the list is kept (includes) / any is kept (excludes). */
static int caps_in(
    const struct jdoc *list, uint64_t caps, bool all, bool *out, const char *path, struct perr *err)
{
    *out = all;
    for (size_t i = 0; list && list->type == JDOC_ARRAY && i < list->count; i++) {
        int cap;
        if (list->items[i]->type != JDOC_STRING ||
            caps_from_name(list->items[i]->text, &cap, err) < 0)
            return perr_wrap(err, "%scaps[%zu]", path, i);
        bool kept = caps & (1ULL << cap);
        if (all && !kept)
            *out = false;
        if (!all && kept)
            *out = true;
    }
    return 0;
}

static bool kernel_at_least(const char *min)
{
    struct utsname u;
    unsigned have_major = 0, have_minor = 0, want_major = 0, want_minor = 0;

    if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &have_major, &have_minor) < 1 ||
        sscanf(min, "%u.%u", &want_major, &want_minor) < 1)
        return true;
    return have_major > want_major || (have_major == want_major && have_minor >= want_minor);
}

/* includes: all of its conditions hold; excludes: none of its conditions hold. */
static int rule_applies(
    const struct jdoc *rule, uint64_t caps, bool *applies, const char *path, struct perr *err)
{
    const struct jdoc *inc = jdoc_get(rule, "includes"), *exc = jdoc_get(rule, "excludes");
    const char *min = jdoc_get_str(inc, "minKernel");
    char p[600];
    bool ok;

    *applies = true;
    snprintf(p, sizeof(p), "%sincludes.", path);
    if (caps_in(jdoc_get(inc, "caps"), caps, true, &ok, p, err) < 0)
        return -1;
    if (!ok || (jdoc_get(inc, "arches") && !list_has(jdoc_get(inc, "arches"), native_arch_names)) ||
        (min && !kernel_at_least(min))) {
        *applies = false;
        return 0;
    }
    snprintf(p, sizeof(p), "%sexcludes.", path);
    if (caps_in(jdoc_get(exc, "caps"), caps, false, &ok, p, err) < 0)
        return -1;
    if (ok || list_has(jdoc_get(exc, "arches"), native_arch_names))
        *applies = false;
    return 0;
}

static int parse_args(const struct jdoc *args,
                      struct scmp_arg_cmp *out,
                      unsigned *n,
                      bool *same_index,
                      const char *path,
                      struct perr *err)
{
    *n = 0;
    *same_index = false;
    for (size_t i = 0; args && args->type == JDOC_ARRAY && i < args->count; i++) {
        const struct jdoc *a = args->items[i];
        const char *op = jdoc_get_str(a, "op");
        uint64_t index, value = 0, two = 0;
        size_t k = 0;
        const struct jdoc *v = jdoc_get(a, "value"), *v2 = jdoc_get(a, "valueTwo");
        if (i >= MAX_RULE_ARGS)
            return perr_set(err, PERR_PARSE, "%sargs: at most %d conditions", path, MAX_RULE_ARGS);
        if (!jdoc_get(a, "index") || jdoc_get(a, "index")->type != JDOC_NUMBER ||
            num_parse_u64(jdoc_get(a, "index")->text, 0, 5, &index, err) < 0)
            return perr_set(err, PERR_PARSE, "%sargs[%zu].index must be 0..5", path, i);
        if ((v &&
             (v->type != JDOC_NUMBER || num_parse_u64(v->text, 0, UINT64_MAX, &value, err) < 0)) ||
            (v2 &&
             (v2->type != JDOC_NUMBER || num_parse_u64(v2->text, 0, UINT64_MAX, &two, err) < 0)))
            return perr_set(err, PERR_PARSE,
                            "%sargs[%zu]: value and valueTwo must be unsigned integers", path, i);
        while (k < sizeof(operators) / sizeof(operators[0]) &&
               (!op || strcmp(op, operators[k].name) != 0))
            k++;
        if (k == sizeof(operators) / sizeof(operators[0]))
            return perr_set(err, PERR_PARSE, "%sargs[%zu].op: unknown operator '%s'", path, i,
                            op ? op : "");
        for (unsigned j = 0; j < *n; j++)
            *same_index = *same_index || out[j].arg == index;
        out[(*n)++] = (struct scmp_arg_cmp){(unsigned)index, operators[k].op, value, two};
    }
    return 0;
}

static int
add_rule(struct compiler *c, const struct jdoc *rule, uint32_t default_action, const char *path)
{
    const struct jdoc *names = jdoc_get(rule, "names");
    const char *name = jdoc_get_str(rule, "name");
    struct scmp_arg_cmp args[MAX_RULE_ARGS];
    unsigned nargs;
    bool applies, same_index;
    uint32_t action;
    int errno_ret;
    char field[96];

    snprintf(field, sizeof(field), "%saction", path);
    if (rule_applies(rule, c->caps, &applies, path, c->err) < 0)
        return -1;
    if (!applies)
        return 0;
    if (errno_of(rule, "errnoRet", "errno", EPERM, &errno_ret, path, c->err) < 0 ||
        action_of(jdoc_get_str(rule, "action"), errno_ret, &action, field, c->err) < 0 ||
        parse_args(jdoc_get(rule, "args"), args, &nargs, &same_index, path, c->err) < 0)
        return -1;
    if (!names && !name)
        return perr_set(c->err, PERR_PARSE, "%snames is required", path);
    for (size_t i = 0; i < (names ? names->count : 1); i++) {
        const char *sys =
            names ? (names->items[i]->type == JDOC_STRING ? names->items[i]->text : "") : name;
        int nr = seccomp_syscall_resolve_name(sys);
        int rc = 0;
        if (nr == __NR_SCMP_ERROR)
            return perr_set(c->err, PERR_PARSE, "%snames[%zu]: unknown syscall '%s'", path, i, sys);
        if (action == default_action)
            continue; /* libseccomp refuses a rule that repeats the default */
        /* Several conditions on one argument: one rule each, as runc does. */
        if (same_index) {
            for (unsigned k = 0; rc == 0 && k < nargs; k++)
                rc = seccomp_rule_add_array(c->ctx, action, nr, 1, &args[k]);
        } else {
            rc = seccomp_rule_add_array(c->ctx, action, nr, nargs, args);
        }
        if (rc < 0)
            return perr_set(c->err, PERR_PARSE,
                            "%snames[%zu]: libseccomp refused the rule for '%s': %s", path, i, sys,
                            strerror(-rc));
    }
    return 0;
}

static int add_architectures(struct compiler *c, const struct jdoc *profile)
{
    const struct jdoc *arches = jdoc_get(profile, "architectures");
    const struct jdoc *map = jdoc_get(profile, "archMap");

    for (size_t i = 0; map && map->type == JDOC_ARRAY && i < map->count; i++) {
        const char *arch = jdoc_get_str(map->items[i], "architecture");
        const struct jdoc *subs = jdoc_get(map->items[i], "subArchitectures");
        char lower[64];
        size_t n = 0;
        if (!arch || strncmp(arch, "SCMP_ARCH_", 10) != 0)
            continue;
        for (const char *p = arch + 10; *p && n < sizeof(lower) - 1; p++)
            lower[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        lower[n] = '\0';
        if (seccomp_arch_resolve_name(lower) != seccomp_arch_native())
            continue;
        /* The native architecture's companions (x86, x32 on x86_64) get the same rules. */
        for (size_t k = 0; subs && k < subs->count; k++) {
            const char *sub = subs->items[k]->type == JDOC_STRING ? subs->items[k]->text : "";
            char sl[64];
            size_t m = 0;
            if (strncmp(sub, "SCMP_ARCH_", 10) != 0)
                return perr_set(c->err, PERR_PARSE,
                                "archMap[%zu].subArchitectures[%zu]: unknown architecture '%s'", i,
                                k, sub);
            for (const char *p = sub + 10; *p && m < sizeof(sl) - 1; p++)
                sl[m++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
            sl[m] = '\0';
            uint32_t a = seccomp_arch_resolve_name(sl);
            if (a && seccomp_arch_add(c->ctx, a) < 0 && seccomp_arch_exist(c->ctx, a) != 0)
                return perr_set(c->err, PERR_PARSE, "archMap[%zu]: cannot add architecture '%s'", i,
                                sub);
        }
    }
    for (size_t i = 0; arches && arches->type == JDOC_ARRAY && i < arches->count; i++) {
        const char *arch = arches->items[i]->type == JDOC_STRING ? arches->items[i]->text : "";
        char lower[64];
        size_t n = 0;
        if (strncmp(arch, "SCMP_ARCH_", 10) != 0)
            return perr_set(c->err, PERR_PARSE, "architectures[%zu]: unknown architecture '%s'", i,
                            arch);
        for (const char *p = arch + 10; *p && n < sizeof(lower) - 1; p++)
            lower[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        lower[n] = '\0';
        uint32_t a = seccomp_arch_resolve_name(lower);
        if (!a)
            return perr_set(c->err, PERR_PARSE, "architectures[%zu]: unknown architecture '%s'", i,
                            arch);
        if (seccomp_arch_exist(c->ctx, a) != 0 && seccomp_arch_add(c->ctx, a) < 0)
            return perr_set(c->err, PERR_PARSE, "architectures[%zu]: cannot add '%s'", i, arch);
    }
    return 0;
}

/* A profile that denies execve would stop the command before it starts: say so now. */
static int check_exec_allowed(const struct jdoc *profile,
                              uint32_t default_action,
                              uint64_t caps,
                              struct perr *err)
{
    const struct jdoc *rules = jdoc_get(profile, "syscalls");

    for (size_t i = 0; rules && i < rules->count; i++) {
        const struct jdoc *r = rules->items[i], *names = jdoc_get(r, "names");
        bool applies;
        struct perr ignored = {0};
        const struct jdoc *args = jdoc_get(r, "args");
        /* a rule with conditions does not allow execve as such; "args": [] has none */
        if (rule_applies(r, caps, &applies, "", &ignored) < 0 || !applies ||
            (args && args->type == JDOC_ARRAY && args->count > 0))
            continue;
        for (size_t k = 0; names && k < names->count; k++) {
            if (names->items[k]->type == JDOC_STRING &&
                strcmp(names->items[k]->text, "execve") == 0) {
                const char *a = jdoc_get_str(r, "action");
                return a && strcmp(a, "SCMP_ACT_ALLOW") == 0
                           ? 0
                           : perr_set(
                                 err, PERR_PARSE,
                                 "syscalls[%zu] does not allow execve; the command could not start",
                                 i);
            }
        }
    }
    if (default_action != SCMP_ACT_ALLOW && default_action != SCMP_ACT_LOG)
        return perr_set(err, PERR_PARSE,
                        "the profile does not allow execve; the command could not start");
    return 0;
}

static int export_bpf(scmp_filter_ctx ctx, struct seccomp_program *out, struct perr *err)
{
    int fd = memfd_create("parity-seccomp", MFD_CLOEXEC);
    struct buf b;
    int rc;

    if (fd < 0)
        return perr_sys(err, "creating a buffer for the seccomp program");
    rc = seccomp_export_bpf(ctx, fd);
    if (rc < 0) {
        close(fd);
        return perr_set(err, PERR_IO, "exporting the seccomp program: %s", strerror(-rc));
    }
    buf_init(&b, MAX_BPF_BYTES);
    rc = lseek(fd, 0, SEEK_SET) < 0 ? perr_sys(err, "rewinding the seccomp program")
                                    : buf_read_fd(&b, fd, err);
    close(fd);
    if (rc == 0 && (b.len == 0 || b.len % sizeof(struct sock_filter) != 0 ||
                    b.len / sizeof(struct sock_filter) > 0xffff))
        rc = perr_set(err, PERR_LIMIT, "the seccomp program has an unusable size (%zu bytes)",
                      b.len);
    if (rc < 0) {
        buf_cleanup(&b);
        return -1;
    }
    out->count = (unsigned short)(b.len / sizeof(struct sock_filter));
    out->insns = (struct sock_filter *)(void *)buf_steal(&b);
    return 0;
}

int seccomp_profile_compile(const struct jdoc *profile,
                            uint64_t kept_caps,
                            struct seccomp_program *out,
                            struct perr *err)
{
    struct compiler c = {.caps = kept_caps, .err = err};
    const struct jdoc *rules;
    uint32_t default_action;
    int default_errno, rc;

    *out = (struct seccomp_program){0};
    if (!profile || profile->type != JDOC_OBJECT)
        return perr_set(err, PERR_PARSE, "the profile must be a JSON object");
    rules = jdoc_get(profile, "syscalls");
    if (rules && rules->type != JDOC_ARRAY)
        return perr_set(err, PERR_PARSE, "syscalls must be a list");
    if (errno_of(profile, "defaultErrnoRet", "defaultErrno", EPERM, &default_errno, "", err) < 0 ||
        action_of(jdoc_get_str(profile, "defaultAction"), default_errno, &default_action,
                  "defaultAction", err) < 0)
        return -1;
    if (check_exec_allowed(profile, default_action, kept_caps, err) < 0)
        return -1;
    /*
     * libseccomp only compiles here; the child loads the program with prctl. Pinning the API
     * level (actions up to SCMP_ACT_LOG and KILL_PROCESS, Linux 4.14) keeps libseccomp from
     * probing the kernel with seccomp(2), so compiling is the same on every host.
     */
    seccomp_api_set(SECCOMP_PROFILE_API_LEVEL);
    c.ctx = seccomp_init(default_action);
    if (!c.ctx)
        return perr_set(err, PERR_NOMEM, "libseccomp could not start a filter");
    /* parity-init sets no_new_privs itself, in the order it documents. */
    rc = seccomp_attr_set(c.ctx, SCMP_FLTATR_CTL_NNP, 0) < 0
             ? perr_set(err, PERR_IO, "libseccomp: cannot leave no_new_privs alone")
             : 0;
    if (rc == 0)
        rc = add_architectures(&c, profile);
    for (size_t i = 0; rc == 0 && rules && i < rules->count; i++) {
        char path[64];
        snprintf(path, sizeof(path), "syscalls[%zu].", i);
        if (rules->items[i]->type != JDOC_OBJECT)
            rc = perr_set(err, PERR_PARSE, "syscalls[%zu] must be an object", i);
        else
            rc = add_rule(&c, rules->items[i], default_action, path);
    }
    if (rc == 0)
        rc = export_bpf(c.ctx, out, err);
    seccomp_release(c.ctx);
    return rc;
}

void seccomp_program_cleanup(struct seccomp_program *p)
{
    free(p->insns);
    *p = (struct seccomp_program){0};
}
