/* SPDX-License-Identifier: MIT */
/* Recursive-descent JSON parser (RFC 8259) with depth and position-aware error messages. */
#include "lib/jdoc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/utf8.h"

struct parser {
    const char *p, *start, *end;
    size_t depth, max_depth;
    bool allow_nonfinite;
    struct perr *err;
};

static struct jdoc *parse_value(struct parser *ps);

static int fail(struct parser *ps, const char *what)
{
    size_t line = 1, col = 1;

    for (const char *q = ps->start; q < ps->p && q < ps->end; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    return perr_set(ps->err, PERR_PARSE, "line %zu column %zu: %s", line, col, what);
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static bool literal(struct parser *ps, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return false;
    ps->p += n;
    return true;
}

static struct jdoc *node(struct parser *ps, enum jdoc_type t)
{
    struct jdoc *d = calloc(1, sizeof(*d));

    if (!d)
        perr_set(ps->err, PERR_NOMEM, "out of memory parsing JSON");
    else
        d->type = t;
    return d;
}

static size_t digits(struct parser *ps)
{
    size_t n = 0;

    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        ps->p++;
        n++;
    }
    return n;
}

static struct jdoc *parse_number(struct parser *ps)
{
    const char *s = ps->p;
    struct jdoc *d;

    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    if (ps->allow_nonfinite && literal(ps, "Infinity"))
        goto done;
    if (ps->p < ps->end && *ps->p == '0') {
        ps->p++;
    } else if (!digits(ps)) {
        fail(ps, "invalid number");
        return NULL;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (!digits(ps)) {
            fail(ps, "expected digits after '.'");
            return NULL;
        }
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (!digits(ps)) {
            fail(ps, "expected digits in exponent");
            return NULL;
        }
    }
done:
    d = node(ps, JDOC_NUMBER);
    if (!d)
        return NULL;
    d->text_len = (size_t)(ps->p - s);
    d->text = strndup(s, d->text_len);
    if (!d->text) {
        jdoc_free(d);
        perr_set(ps->err, PERR_NOMEM, "out of memory parsing JSON");
        return NULL;
    }
    return d;
}

static int hex4(struct parser *ps, uint32_t *out)
{
    uint32_t v = 0;

    if (ps->end - ps->p < 4)
        return fail(ps, "truncated \\u escape");
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return fail(ps, "invalid \\u escape");
    }
    *out = v;
    return 0;
}

static int parse_escape(struct parser *ps, struct buf *b)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *hit;
    uint32_t cp, lo;

    if (ps->p >= ps->end)
        return fail(ps, "unterminated string");
    hit = strchr(from, *ps->p);
    if (hit && *ps->p) {
        ps->p++;
        return buf_append(b, &to[hit - from], 1, ps->err);
    }
    if (*ps->p != 'u')
        return fail(ps, "invalid escape in string");
    ps->p++;
    if (hex4(ps, &cp) < 0)
        return -1;
    /* A high surrogate followed by an escaped low one forms one code point. */
    if (cp >= 0xd800 && cp <= 0xdbff && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
        ps->p[1] == 'u') {
        const char *save = ps->p;
        ps->p += 2;
        if (hex4(ps, &lo) < 0)
            return -1;
        if (lo >= 0xdc00 && lo <= 0xdfff)
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        else
            ps->p = save;
    }
    return utf8_append(b, cp, ps->err); /* a lone surrogate stays, as in Python */
}

/* Parses a string body after the opening quote into a fresh buffer. */
static int parse_string_raw(struct parser *ps, struct buf *b)
{
    buf_init(b, (size_t)(ps->end - ps->start) + 1);
    if (buf_append(b, "", 0, ps->err) < 0)
        return -1;
    for (;;) {
        const char *run = ps->p;
        while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && (unsigned char)*ps->p >= 0x20)
            ps->p++;
        if (buf_append(b, run, (size_t)(ps->p - run), ps->err) < 0)
            return -1;
        if (ps->p >= ps->end)
            return fail(ps, "unterminated string");
        if (*ps->p == '"') {
            ps->p++;
            return 0;
        }
        if ((unsigned char)*ps->p < 0x20)
            return fail(ps, "control character in string");
        ps->p++;
        if (parse_escape(ps, b) < 0)
            return -1;
    }
}

static struct jdoc *parse_string(struct parser *ps)
{
    struct buf b;
    struct jdoc *d;

    ps->p++;
    if (parse_string_raw(ps, &b) < 0) {
        buf_cleanup(&b);
        return NULL;
    }
    d = node(ps, JDOC_STRING);
    if (!d) {
        buf_cleanup(&b);
        return NULL;
    }
    d->text_len = b.len;
    d->text = buf_steal(&b);
    return d;
}

/* Room for one more member. Capacity is implied by count (4, then doubling), so growing
 * costs a few reallocs per container, not one per member. */
static int grow_members(struct jdoc *d, bool with_keys, struct perr *err)
{
    size_t n = d->count < 4 ? 4 : d->count * 2;
    struct jdoc **items;

    if (d->count != 0 && (d->count < 4 || (d->count & (d->count - 1)) != 0))
        return 0; /* a power of two (4 or more) is full, so is 0; anything else has room */
    if (n > SIZE_MAX / sizeof(*items))
        return perr_set(err, PERR_NOMEM, "out of memory building JSON");
    items = realloc(d->items, n * sizeof(*items));
    if (!items)
        return perr_set(err, PERR_NOMEM, "out of memory building JSON");
    d->items = items;
    if (with_keys) {
        char **keys = realloc(d->keys, n * sizeof(*keys));
        size_t *lens;
        if (!keys)
            return perr_set(err, PERR_NOMEM, "out of memory building JSON");
        d->keys = keys;
        lens = realloc(d->key_lens, n * sizeof(*lens));
        if (!lens)
            return perr_set(err, PERR_NOMEM, "out of memory building JSON");
        d->key_lens = lens;
    }
    return 0;
}

static int push(struct parser *ps, struct jdoc *parent, struct jdoc *child, struct buf *key)
{
    if (grow_members(parent, key != NULL, ps->err) < 0)
        return -1;
    if (key) {
        parent->key_lens[parent->count] = key->len;
        parent->keys[parent->count] = buf_steal(key);
    }
    parent->items[parent->count++] = child;
    return 0;
}

static struct jdoc *parse_container(struct parser *ps, bool is_object)
{
    struct jdoc *d = node(ps, is_object ? JDOC_OBJECT : JDOC_ARRAY);
    char close = is_object ? '}' : ']';

    if (!d)
        return NULL;
    if (++ps->depth > ps->max_depth) {
        fail(ps, "nesting too deep");
        goto error;
    }
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return d;
    }
    for (;;) {
        struct buf key = {0};
        struct jdoc *child;

        skip_ws(ps);
        if (is_object) {
            if (ps->p >= ps->end || *ps->p != '"') {
                fail(ps, "expected a member name in double quotes");
                goto error;
            }
            ps->p++;
            if (parse_string_raw(ps, &key) < 0) {
                buf_cleanup(&key);
                goto error;
            }
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                buf_cleanup(&key);
                fail(ps, "expected ':'");
                goto error;
            }
            ps->p++;
        }
        child = parse_value(ps);
        if (!child || push(ps, d, child, is_object ? &key : NULL) < 0) {
            jdoc_free(child);
            buf_cleanup(&key);
            goto error;
        }
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            ps->depth--;
            return d;
        }
        fail(ps, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
        goto error;
    }
error:
    jdoc_free(d);
    return NULL;
}

static struct jdoc *parse_value(struct parser *ps)
{
    skip_ws(ps);
    if (ps->p >= ps->end) {
        fail(ps, "unexpected end of input");
        return NULL;
    }
    switch (*ps->p) {
    case '{':
        return parse_container(ps, true);
    case '[':
        return parse_container(ps, false);
    case '"':
        return parse_string(ps);
    case 't':
        return literal(ps, "true") ? node(ps, JDOC_TRUE) : (fail(ps, "invalid literal"), NULL);
    case 'f':
        return literal(ps, "false") ? node(ps, JDOC_FALSE) : (fail(ps, "invalid literal"), NULL);
    case 'n':
        return literal(ps, "null") ? node(ps, JDOC_NULL) : (fail(ps, "invalid literal"), NULL);
    case 'N':
        if (ps->allow_nonfinite && ps->end - ps->p >= 3 && memcmp(ps->p, "NaN", 3) == 0) {
            struct jdoc *d = node(ps, JDOC_NUMBER);
            if (d && !(d->text = strdup("NaN"))) {
                jdoc_free(d);
                perr_set(ps->err, PERR_NOMEM, "out of memory parsing JSON");
                return NULL;
            }
            ps->p += 3;
            if (d)
                d->text_len = 3;
            return d;
        }
        break;
    default:
        if (*ps->p == '-' || *ps->p == 'I' || (*ps->p >= '0' && *ps->p <= '9')) {
            if (*ps->p == 'I' && !ps->allow_nonfinite)
                break;
            return parse_number(ps);
        }
    }
    fail(ps, "unexpected character");
    return NULL;
}

struct jdoc *jdoc_parse(const char *text, size_t len, const struct jdoc_opts *o, struct perr *err)
{
    struct parser ps = {
        .p = text,
        .start = text,
        .end = text + len,
        .max_depth = o && o->max_depth ? o->max_depth : 64,
        .allow_nonfinite = o && o->allow_nonfinite,
        .err = err,
    };
    struct jdoc *d = parse_value(&ps);

    if (!d)
        return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        fail(&ps, "extra data after the JSON value");
        jdoc_free(d);
        return NULL;
    }
    return d;
}

void jdoc_free(struct jdoc *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++) {
        jdoc_free(d->items[i]);
        if (d->keys)
            free(d->keys[i]);
    }
    free(d->items);
    free(d->keys);
    free(d->key_lens);
    free(d->text);
    free(d);
}

void jdoc_free_secret(struct jdoc *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++) {
        if (d->keys)
            explicit_bzero(d->keys[i], d->key_lens[i]);
        jdoc_free_secret(d->items[i]);
        d->items[i] = NULL;
    }
    if (d->text)
        explicit_bzero(d->text, d->text_len);
    jdoc_free(d);
}

struct jdoc *jdoc_get(const struct jdoc *obj, const char *key)
{
    if (!obj || obj->type != JDOC_OBJECT)
        return NULL;
    for (size_t i = obj->count; i-- > 0;) {
        if (obj->key_lens[i] == strlen(key) && memcmp(obj->keys[i], key, obj->key_lens[i]) == 0)
            return obj->items[i];
    }
    return NULL;
}

const char *jdoc_get_str(const struct jdoc *obj, const char *key)
{
    const struct jdoc *v = jdoc_get(obj, key);

    return v && v->type == JDOC_STRING ? v->text : NULL;
}

bool jdoc_number_is_int(const struct jdoc *num)
{
    return num->type == JDOC_NUMBER && !strpbrk(num->text, ".eEaI");
}

struct jdoc *jdoc_new(enum jdoc_type type, struct perr *err)
{
    struct jdoc *d = calloc(1, sizeof(*d));

    if (!d)
        perr_set(err, PERR_NOMEM, "out of memory building JSON");
    else
        d->type = type;
    return d;
}

struct jdoc *jdoc_new_str(const char *s, size_t len, struct perr *err)
{
    struct jdoc *d = jdoc_new(JDOC_STRING, err);

    if (!d)
        return NULL;
    d->text = malloc(len + 1);
    if (!d->text) {
        free(d);
        perr_set(err, PERR_NOMEM, "out of memory building JSON");
        return NULL;
    }
    memcpy(d->text, s, len);
    d->text[len] = '\0';
    d->text_len = len;
    return d;
}

struct jdoc *jdoc_new_number(const char *literal, struct perr *err)
{
    struct jdoc *d = jdoc_new_str(literal, strlen(literal), err);

    if (d)
        d->type = JDOC_NUMBER;
    return d;
}

int jdoc_append(struct jdoc *arr, struct jdoc *item, struct perr *err)
{
    if (grow_members(arr, false, err) < 0) {
        jdoc_free(item);
        return -1;
    }
    arr->items[arr->count++] = item;
    return 0;
}

int jdoc_put(struct jdoc *obj, const char *key, size_t key_len, struct jdoc *v, struct perr *err)
{
    char *k;

    for (size_t i = 0; i < obj->count; i++) {
        if (obj->key_lens[i] == key_len && memcmp(obj->keys[i], key, key_len) == 0) {
            jdoc_free(obj->items[i]);
            obj->items[i] = v;
            return 0;
        }
    }
    k = malloc(key_len + 1);
    if (!k || grow_members(obj, true, err) < 0) {
        free(k);
        jdoc_free(v);
        return k ? -1 : perr_set(err, PERR_NOMEM, "out of memory building JSON");
    }
    memcpy(k, key, key_len);
    k[key_len] = '\0';
    obj->keys[obj->count] = k;
    obj->key_lens[obj->count] = key_len;
    obj->items[obj->count++] = v;
    return 0;
}

struct jdoc *jdoc_clone(const struct jdoc *d, struct perr *err)
{
    struct jdoc *c;

    if (d->type == JDOC_STRING || d->type == JDOC_NUMBER) {
        c = jdoc_new_str(d->text, d->text_len, err);
        if (c)
            c->type = d->type;
        return c;
    }
    c = jdoc_new(d->type, err);
    for (size_t i = 0; c && i < d->count; i++) {
        struct jdoc *item = jdoc_clone(d->items[i], err);
        int rc = !item                    ? -1
                 : d->type == JDOC_OBJECT ? jdoc_put(c, d->keys[i], d->key_lens[i], item, err)
                                          : jdoc_append(c, item, err);
        if (rc < 0) {
            jdoc_free(c);
            return NULL;
        }
    }
    return c;
}
