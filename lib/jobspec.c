/* SPDX-License-Identifier: MIT */
/* Job spec validation: a small schema table walked once, collecting every problem. */
#include "lib/jobspec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/pyfmt.h"

/* SageMaker's limits (contract/launcher-apis.md §1.2): kept on every target so a spec that runs
 * locally also runs on SageMaker. */
#define MAX_HYPERPARAMETERS 100
#define MAX_HP_KEY_CHARS    256
#define MAX_HP_VALUE_CHARS  2500
#define MAX_CHANNELS        20
#define MAX_INSTANCE_GROUPS 5
/* the older botocore model's limit (the stricter one), less the one variable the launcher adds
 * on SageMaker (PARITY_REQUEST_ID) */
#define MAX_ENVIRONMENT     47
#define MAX_ENV_VALUE_CHARS 512
#define MAX_RUNTIME_SECONDS (28L * 24 * 3600)

enum ftype {
    F_STRING,
    F_INT,
    F_BOOL,
    F_OBJECT,   /* children describe its fields */
    F_STRMAP,   /* object of string values */
    F_STRLIST,  /* array of strings */
    F_ARRAY,    /* any array */
    F_ANYMAP,   /* object of any values (hyperparameters) */
    F_CHANNELS, /* inputs */
};

struct field {
    const char *name;
    enum ftype type;
    bool required;
    const struct field *children;
};

struct checker {
    struct buf *problems;
    size_t count;
    struct perr *err;
    bool nomem;
};

static const struct field checkpoint_fields[] = {
    {"uri", F_STRING, true, NULL},
    {"local_path", F_STRING, false, NULL},
    {NULL, 0, false, NULL},
};

static const struct field resource_fields[] = {
    {"instance_type", F_STRING, false, NULL},
    {"instance_count", F_INT, false, NULL},
    {"instance_groups", F_ARRAY, false, NULL},
    {"volume_gb", F_INT, false, NULL},
    {NULL, 0, false, NULL},
};

static const struct field spot_fields[] = {
    {"enabled", F_BOOL, false, NULL},
    {"max_wait_seconds", F_INT, false, NULL},
    {NULL, 0, false, NULL},
};

static const struct field aws_fields[] = {
    {"region", F_STRING, false, NULL},
    {"role_arn", F_STRING, false, NULL},
    {NULL, 0, false, NULL},
};

static const struct field sagemaker_fields[] = {
    {"tags", F_STRMAP, false, NULL},
    {NULL, 0, false, NULL},
};

static const struct field eks_fields[] = {
    {"namespace", F_STRING, false, NULL},  {"service_account", F_STRING, false, NULL},
    {"service", F_STRING, false, NULL},    {"node_selector", F_STRMAP, false, NULL},
    {"tolerations", F_ARRAY, false, NULL}, {NULL, 0, false, NULL},
};

static const struct field spec_fields[] = {
    {"apiVersion", F_STRING, true, NULL},
    {"name", F_STRING, true, NULL},
    {"role", F_STRING, false, NULL},
    {"image", F_STRING, false, NULL},
    {"command", F_STRLIST, false, NULL},
    {"hyperparameters", F_ANYMAP, false, NULL},
    {"inputs", F_CHANNELS, false, NULL},
    {"output", F_STRING, false, NULL},
    {"checkpoints", F_OBJECT, false, checkpoint_fields},
    {"model", F_STRING, false, NULL},
    {"resources", F_OBJECT, false, resource_fields},
    {"environment", F_STRMAP, false, NULL},
    {"max_runtime_seconds", F_INT, false, NULL},
    {"spot", F_OBJECT, false, spot_fields},
    {"aws", F_OBJECT, false, aws_fields},
    {"sagemaker", F_OBJECT, false, sagemaker_fields},
    {"eks", F_OBJECT, false, eks_fields},
    {NULL, 0, false, NULL},
};

static void problem(struct checker *c, const char *path, const char *fmt, ...) PARITY_PRINTF(3, 4);
static void check_instance_groups(struct checker *c, const struct jobspec *js);

static void problem(struct checker *c, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->count++;
    if (c->problems && buf_printf(c->problems, c->err, "%s: %s\n", path, msg) < 0)
        c->nomem = true;
}

static const char *type_name(enum ftype t)
{
    switch (t) {
    case F_STRING:
        return "a string";
    case F_INT:
        return "an integer";
    case F_BOOL:
        return "true or false";
    case F_STRLIST:
        return "a list of strings";
    case F_ARRAY:
        return "a list";
    case F_STRMAP:
        return "an object of strings";
    default:
        return "an object";
    }
}

static bool type_ok(const struct jdoc *v, enum ftype t)
{
    switch (t) {
    case F_STRING:
        return v->type == JDOC_STRING;
    case F_INT:
        return v->type == JDOC_NUMBER && jdoc_number_is_int(v) && v->text_len < 12;
    case F_BOOL:
        return v->type == JDOC_TRUE || v->type == JDOC_FALSE;
    case F_STRLIST:
        if (v->type != JDOC_ARRAY)
            return false;
        for (size_t i = 0; i < v->count; i++) {
            if (v->items[i]->type != JDOC_STRING)
                return false;
        }
        return true;
    case F_ARRAY:
        return v->type == JDOC_ARRAY;
    case F_STRMAP:
        if (v->type != JDOC_OBJECT)
            return false;
        for (size_t i = 0; i < v->count; i++) {
            if (v->items[i]->type != JDOC_STRING)
                return false;
        }
        return true;
    default:
        return v->type == JDOC_OBJECT;
    }
}

static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

bool jobspec_valid_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && !(c == '-' && i > 0 && i < n - 1))
            return false;
    }
    return true;
}

static bool valid_channel_name(const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_'))
            return false;
    }
    return true;
}

static bool valid_uri(const char *s)
{
    if (strncmp(s, "s3://", 5) == 0)
        return s[5] != '\0' && s[5] != '/';
    return strncmp(s, "file:///", 8) == 0;
}

static void check_object(struct checker *c,
                         const struct jdoc *obj,
                         const struct field *fields,
                         const char *path);

/* "$.inputs" + "train" -> "$.inputs.train", cut to fit (paths are for messages only). */
static void join_path(char *out, size_t cap, const char *base, const char *key)
{
    size_t b = strlen(base), k = strlen(key);

    if (b > cap - 2)
        b = cap - 2;
    memcpy(out, base, b);
    out[b] = '.';
    if (k > cap - b - 2)
        k = cap - b - 2;
    memcpy(out + b + 1, key, k);
    out[b + 1 + k] = '\0';
}

static void check_hyperparameters(struct checker *c, const struct jdoc *hps, const char *path)
{
    char p[600];

    if (hps->count > MAX_HYPERPARAMETERS)
        problem(c, path, "has %zu entries; SageMaker allows at most %d", hps->count,
                MAX_HYPERPARAMETERS);
    for (size_t i = 0; i < hps->count; i++) {
        struct buf enc;
        struct perr e = {0};
        join_path(p, sizeof(p), path, hps->keys[i]);
        if (utf8_chars(hps->keys[i], hps->key_lens[i]) > MAX_HP_KEY_CHARS)
            problem(c, p, "name longer than %d characters", MAX_HP_KEY_CHARS);
        /* The value travels JSON-encoded, as the SageMaker SDK sends it. */
        buf_init(&enc, 1u << 20);
        if (pyfmt_json_default(&enc, hps->items[i], &e) < 0)
            problem(c, p, "cannot be encoded: %s", e.msg);
        else if (utf8_chars(enc.data, enc.len) > MAX_HP_VALUE_CHARS)
            problem(c, p, "encoded value has %zu characters; SageMaker allows %d",
                    utf8_chars(enc.data, enc.len), MAX_HP_VALUE_CHARS);
        buf_cleanup(&enc);
    }
}

static const char *const channel_modes[] = {"File", "Pipe", "FastFile", NULL};
static const char *const distributions[] = {"FullyReplicated", "ShardedByS3Key", NULL};

static bool one_of(const char *s, const char *const *set)
{
    for (; *set; set++) {
        if (strcmp(s, *set) == 0)
            return true;
    }
    return false;
}

static const struct field channel_fields[] = {
    {"uri", F_STRING, true, NULL},
    {"mode", F_STRING, false, NULL},
    {"content_type", F_STRING, false, NULL},
    {"distribution", F_STRING, false, NULL},
    {NULL, 0, false, NULL},
};

static void check_channels(struct checker *c, const struct jdoc *inputs, const char *path)
{
    char p[600], q[700];

    if (inputs->count > MAX_CHANNELS)
        problem(c, path, "has %zu channels; SageMaker allows at most %d", inputs->count,
                MAX_CHANNELS);
    for (size_t i = 0; i < inputs->count; i++) {
        const struct jdoc *ch = inputs->items[i];
        const char *uri = NULL, *mode, *dist;
        join_path(p, sizeof(p), path, inputs->keys[i]);
        if (!valid_channel_name(inputs->keys[i], inputs->key_lens[i]))
            problem(c, p, "channel names are 1-64 characters of A-Z a-z 0-9 . - _");
        if (ch->type == JDOC_STRING) {
            uri = ch->text;
        } else if (ch->type == JDOC_OBJECT) {
            check_object(c, ch, channel_fields, p);
            uri = jdoc_get_str(ch, "uri");
            mode = jdoc_get_str(ch, "mode");
            dist = jdoc_get_str(ch, "distribution");
            if (mode && !one_of(mode, channel_modes)) {
                join_path(q, sizeof(q), p, "mode");
                problem(c, q, "must be File, Pipe or FastFile, not '%s'", mode);
            }
            if (dist && !one_of(dist, distributions)) {
                join_path(q, sizeof(q), p, "distribution");
                problem(c, q, "must be FullyReplicated or ShardedByS3Key, not '%s'", dist);
            }
        } else {
            problem(c, p, "must be a URI string or an object with \"uri\"");
            continue;
        }
        if (uri && !valid_uri(uri)) {
            if (ch->type == JDOC_OBJECT)
                join_path(q, sizeof(q), p, "uri");
            else
                snprintf(q, sizeof(q), "%s", p);
            problem(c, q, "'%s' must be s3://bucket/prefix or file:///path", uri);
        }
    }
}

static void
check_value(struct checker *c, const struct jdoc *v, const struct field *f, const char *path)
{
    if (!type_ok(v, f->type)) {
        problem(c, path, "must be %s", type_name(f->type));
        return;
    }
    if (f->type == F_OBJECT)
        check_object(c, v, f->children, path);
    else if (f->type == F_ANYMAP)
        check_hyperparameters(c, v, path);
    else if (f->type == F_CHANNELS)
        check_channels(c, v, path);
}

static void check_object(struct checker *c,
                         const struct jdoc *obj,
                         const struct field *fields,
                         const char *path)
{
    char p[600];

    for (size_t i = 0; i < obj->count; i++) {
        const struct field *f = fields;
        while (f->name && strcmp(f->name, obj->keys[i]) != 0)
            f++;
        join_path(p, sizeof(p), path, obj->keys[i]);
        if (!f->name)
            problem(c, p, "unknown field");
        else
            check_value(c, obj->items[i], f, p);
    }
    for (const struct field *f = fields; f->name; f++) {
        join_path(p, sizeof(p), path, f->name);
        if (f->required && !jdoc_get(obj, f->name))
            problem(c, p, "is required");
    }
}

static long int_field(const struct jdoc *obj, const char *key, long dflt)
{
    const struct jdoc *v = jdoc_get(obj, key);

    return v && v->type == JDOC_NUMBER ? strtol(v->text, NULL, 10) : dflt;
}

/* Rules that span fields or values, checked after the types are known to be right. */
static void check_rules(struct checker *c, const struct jobspec *js)
{
    const char *api = jdoc_get_str(js->doc, "apiVersion");

    if (api && strcmp(api, "parity/v1") != 0)
        problem(c, "$.apiVersion", "must be \"parity/v1\", not '%s'", api);
    if (js->name && !jobspec_valid_name(js->name))
        problem(
            c, "$.name",
            "'%s' must be a DNS-1123 label: 1-63 of a-z 0-9 -, starting and ending alphanumeric",
            js->name);
    if (js->role && strcmp(js->role, "train") && strcmp(js->role, "serve") &&
        strcmp(js->role, "process"))
        problem(c, "$.role", "must be train, serve or process, not '%s'", js->role);
    if (js->command && js->command->count == 0)
        problem(c, "$.command", "must not be empty");
    if (js->output && !valid_uri(js->output))
        problem(c, "$.output", "'%s' must be s3://bucket/prefix or file:///path", js->output);
    if (js->model && !valid_uri(js->model))
        problem(c, "$.model", "'%s' must be s3://bucket/key or file:///path", js->model);
    if (js->checkpoint_uri && !valid_uri(js->checkpoint_uri))
        problem(c, "$.checkpoints.uri", "'%s' must be s3://bucket/prefix or file:///path",
                js->checkpoint_uri);
    if (js->instance_type && strncmp(js->instance_type, "ml.", 3) != 0)
        problem(c, "$.resources.instance_type", "'%s' must be a SageMaker instance type (ml.*)",
                js->instance_type);
    if (js->instance_count < 1 || js->instance_count > 1000)
        problem(c, "$.resources.instance_count", "must be between 1 and 1000");
    check_instance_groups(c, js);
    if (js->volume_gb < 0)
        problem(c, "$.resources.volume_gb", "must not be negative");
    if (js->max_runtime_s < 0 || js->max_runtime_s > MAX_RUNTIME_SECONDS)
        problem(c, "$.max_runtime_seconds", "must be between 1 and %ld (28 days)",
                MAX_RUNTIME_SECONDS);
    if (js->spot && js->spot_max_wait_s && js->max_runtime_s &&
        js->spot_max_wait_s < js->max_runtime_s)
        problem(c, "$.spot.max_wait_seconds", "must be at least max_runtime_seconds");
    if (js->environment && js->environment->count > MAX_ENVIRONMENT)
        problem(c, "$.environment",
                "has %zu entries; SageMaker allows 48, one of them parity's, so at most %d",
                js->environment->count, MAX_ENVIRONMENT);
    for (size_t i = 0; js->environment && i < js->environment->count; i++) {
        char p[600];
        const char *k = js->environment->keys[i];
        join_path(p, sizeof(p), "$.environment", k);
        if (!((k[0] >= 'A' && k[0] <= 'Z') || (k[0] >= 'a' && k[0] <= 'z') || k[0] == '_') ||
            strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
                strlen(k))
            problem(c, p, "variable names are letters, digits and _, not starting with a digit");
        if (js->environment->items[i]->text_len > MAX_ENV_VALUE_CHARS)
            problem(c, p, "value longer than %d characters", MAX_ENV_VALUE_CHARS);
    }
}

static int fill_channels(struct jobspec *js, struct perr *err)
{
    const struct jdoc *inputs = jdoc_get(js->doc, "inputs");

    if (!inputs || inputs->type != JDOC_OBJECT || inputs->count == 0)
        return 0;
    js->channels = calloc(inputs->count, sizeof(*js->channels));
    if (!js->channels)
        return perr_set(err, PERR_NOMEM, "out of memory reading the job spec");
    for (size_t i = 0; i < inputs->count; i++) {
        const struct jdoc *ch = inputs->items[i];
        struct jobspec_channel *out = &js->channels[js->channel_count++];
        out->name = inputs->keys[i];
        out->uri = ch->type == JDOC_STRING ? ch->text : jdoc_get_str(ch, "uri");
        out->mode = jdoc_get_str(ch, "mode");
        out->content_type = jdoc_get_str(ch, "content_type");
        out->distribution = jdoc_get_str(ch, "distribution");
        if (!out->mode)
            out->mode = "File";
        if (!out->distribution)
            out->distribution = "FullyReplicated";
    }
    return 0;
}

static void fill(struct jobspec *js)
{
    const struct jdoc *d = js->doc, *o;

    js->name = jdoc_get_str(d, "name");
    js->role = jdoc_get_str(d, "role");
    js->image = jdoc_get_str(d, "image");
    js->command = jdoc_get(d, "command");
    js->hyperparameters = jdoc_get(d, "hyperparameters");
    js->output = jdoc_get_str(d, "output");
    js->model = jdoc_get_str(d, "model");
    o = jdoc_get(d, "checkpoints");
    js->checkpoint_uri = jdoc_get_str(o, "uri");
    js->checkpoint_local_path = jdoc_get_str(o, "local_path");
    o = jdoc_get(d, "resources");
    js->instance_type = jdoc_get_str(o, "instance_type");
    js->instance_groups = jdoc_get(o, "instance_groups");
    js->instance_count = int_field(o, "instance_count", 1);
    js->volume_gb = int_field(o, "volume_gb", 0);
    js->environment = jdoc_get(d, "environment");
    js->max_runtime_s = int_field(d, "max_runtime_seconds", 0);
    o = jdoc_get(d, "spot");
    js->spot = o && jdoc_get(o, "enabled") && jdoc_get(o, "enabled")->type == JDOC_TRUE;
    js->spot_max_wait_s = int_field(o, "max_wait_seconds", 0);
    o = jdoc_get(d, "aws");
    js->region = jdoc_get_str(o, "region");
    js->role_arn = jdoc_get_str(o, "role_arn");
    o = jdoc_get(d, "eks");
    js->eks_namespace = jdoc_get_str(o, "namespace");
    js->eks_service_account = jdoc_get_str(o, "service_account");
    js->eks_service = jdoc_get_str(o, "service");
    if (!js->role)
        js->role = "train";
    if (!js->checkpoint_local_path)
        js->checkpoint_local_path = "/opt/ml/checkpoints";
}

int jobspec_parse(
    const char *text, size_t len, struct jobspec *js, struct buf *problems, struct perr *err)
{
    struct checker c = {.problems = problems, .err = err};

    *js = (struct jobspec){0};
    if (len > JOBSPEC_MAX_BYTES)
        return perr_set(err, PERR_LIMIT, "job spec is %zu bytes; the limit is %u", len,
                        JOBSPEC_MAX_BYTES);
    js->doc = jdoc_parse(text, len, NULL, err);
    if (!js->doc)
        return perr_wrap(err, "job spec is not valid JSON");
    if (js->doc->type != JDOC_OBJECT) {
        jobspec_cleanup(js);
        return perr_set(err, PERR_PARSE, "job spec must be a JSON object");
    }
    check_object(&c, js->doc, spec_fields, "$");
    fill(js); /* getters skip values of the wrong type, so the rules see only well-typed ones */
    check_rules(&c, js);
    if (c.nomem) {
        jobspec_cleanup(js);
        return -1;
    }
    if (c.count) {
        const char *first = problems && problems->data ? problems->data : "";
        size_t first_len = strcspn(first, "\n");
        jobspec_cleanup(js);
        return perr_set(err, PERR_PARSE, "job spec has %zu problem%s: %.*s%s", c.count,
                        c.count == 1 ? "" : "s", (int)first_len, first, c.count > 1 ? " ..." : "");
    }
    return fill_channels(js, err);
}

void jobspec_cleanup(struct jobspec *js)
{
    jdoc_free(js->doc);
    free(js->channels);
    *js = (struct jobspec){0};
}

/* SageMaker's heterogeneous clusters: at most 5 groups of {name, instance_type, instance_count},
 * instead of instance_type and instance_count. */
static void check_instance_groups(struct checker *c, const struct jobspec *js)
{
    const struct jdoc *g = js->instance_groups;
    char p[128];

    if (!g)
        return;
    if (g->count < 1 || g->count > MAX_INSTANCE_GROUPS)
        problem(c, "$.resources.instance_groups", "must hold 1 to %d groups", MAX_INSTANCE_GROUPS);
    if (js->instance_type || jdoc_get(jdoc_get(js->doc, "resources"), "instance_count"))
        problem(c, "$.resources.instance_groups",
                "replaces instance_type and instance_count: give one or the other");
    for (size_t i = 0; i < g->count; i++) {
        const struct jdoc *e = g->items[i], *n = jdoc_get(e, "instance_count");
        const char *name = jdoc_get_str(e, "name"), *type = jdoc_get_str(e, "instance_type");
        snprintf(p, sizeof(p), "$.resources.instance_groups[%zu]", i);
        if (e->type != JDOC_OBJECT || e->count != 3) {
            problem(c, p, "must be {\"name\", \"instance_type\", \"instance_count\"}");
            continue;
        }
        if (!name || !*name || strlen(name) > 64 ||
            strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") !=
                strlen(name))
            problem(c, p, "name must be 1-64 of A-Z a-z 0-9 -");
        if (!type || strncmp(type, "ml.", 3) != 0)
            problem(c, p, "instance_type must be a SageMaker instance type (ml.*)");
        if (!n || n->type != JDOC_NUMBER || !jdoc_number_is_int(n) || n->text[0] == '-' ||
            n->text[0] == '0')
            problem(c, p, "instance_count must be a whole number from 1");
    }
}
