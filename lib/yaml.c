/* SPDX-License-Identifier: MIT */
/* A line-oriented reader for the block YAML of kubeconfig files, with a small flow parser for
 * the one-line {..} and [..] collections in them; a JSON document goes to lib/jdoc. */
#include "lib/yaml.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

#define MAX_DEPTH 64

struct line {
    const char *s; /* after the indentation */
    size_t len;    /* without the line break */
    int indent;
    int no; /* 1-based */
};

struct parser {
    struct line *lines;
    size_t n, i;
    int depth;
    struct perr *err;
};

static int fail(struct parser *p, int no, const char *what)
{
    return perr_set(p->err, PERR_PARSE, "line %d: %s", no, what);
}

static bool blank(const struct line *l)
{
    return l->len == 0 || l->s[0] == '#';
}

static void skip_blank(struct parser *p)
{
    while (p->i < p->n && blank(&p->lines[p->i]))
        p->i++;
}

static bool is_seq_item(const struct line *l)
{
    return l->len && l->s[0] == '-' && (l->len == 1 || l->s[1] == ' ');
}

/* "---" or "...": the document ends here. */
static bool doc_marker(const struct line *l)
{
    return l->indent == 0 && l->len >= 3 &&
           (memcmp(l->s, "---", 3) == 0 || memcmp(l->s, "...", 3) == 0) &&
           (l->len == 3 || l->s[3] == ' ');
}

/* --- scalars ---------------------------------------------------------------------------- */

static bool json_number(const char *s, size_t n)
{
    size_t i = 0;

    if (i < n && s[i] == '-')
        i++;
    if (i == n || s[i] < '0' || s[i] > '9')
        return false;
    if (s[i] == '0')
        i++;
    else
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    return i == n;
}

static bool word(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* A plain scalar's node: null, a boolean, a number or a string. */
static struct jdoc *plain(const char *s, size_t n, struct perr *err)
{
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0 || word(s, n, "null") || word(s, n, "Null") || word(s, n, "NULL") || word(s, n, "~"))
        return jdoc_new(JDOC_NULL, err);
    if (word(s, n, "true") || word(s, n, "True") || word(s, n, "TRUE"))
        return jdoc_new(JDOC_TRUE, err);
    if (word(s, n, "false") || word(s, n, "False") || word(s, n, "FALSE"))
        return jdoc_new(JDOC_FALSE, err);
    if (json_number(s, n)) {
        char text[64];
        if (n < sizeof(text)) {
            memcpy(text, s, n);
            text[n] = '\0';
            return jdoc_new_number(text, err);
        }
    }
    return jdoc_new_str(s, n, err);
}

static int put_utf8(struct buf *b, uint32_t cp, struct perr *err)
{
    char u[4];
    size_t n;

    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return buf_append(b, u, n, err);
}

static int hex_digits(const char *s, size_t n, uint32_t *out)
{
    uint32_t v = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + (uint32_t)d;
    }
    *out = v;
    return 0;
}

/* A quoted scalar starting at s[*pos] (the quote); *pos ends after the closing quote. */
static struct jdoc *quoted(struct parser *p, int no, const char *s, size_t n, size_t *pos)
{
    char q = s[*pos];
    size_t i = *pos + 1;
    struct buf b;
    struct jdoc *d = NULL;
    int rc = 0;

    buf_init(&b, 1u << 20);
    for (;;) {
        if (i >= n) {
            fail(p, no, "a quoted string does not end on its line");
            rc = -1;
            break;
        }
        char c = s[i];
        if (c == q && q == '\'' && i + 1 < n && s[i + 1] == '\'') {
            rc = buf_append(&b, "'", 1, p->err);
            i += 2;
        } else if (c == q) {
            i++;
            break;
        } else if (c == '\\' && q == '"') {
            static const char from[] = "\\\"/nrt0abefv ", to[] = "\\\"/\n\r\t\0\a\b\x1b\f\v ";
            const char *k = i + 1 < n ? memchr(from, s[i + 1], sizeof(from) - 1) : NULL;
            size_t digits = i + 1 < n ? (s[i + 1] == 'x'   ? 2
                                         : s[i + 1] == 'u' ? 4
                                         : s[i + 1] == 'U' ? 8
                                                           : 0)
                                      : 0;
            uint32_t cp;
            if (k) {
                rc = buf_append(&b, &to[k - from], 1, p->err);
                i += 2;
            } else if (digits && i + 2 + digits <= n && hex_digits(s + i + 2, digits, &cp) == 0 &&
                       cp <= 0x10ffff) {
                rc = put_utf8(&b, cp, p->err);
                i += 2 + digits;
            } else {
                fail(p, no, "an unknown escape in a double-quoted string");
                rc = -1;
            }
        } else {
            rc = buf_append(&b, &c, 1, p->err);
            i++;
        }
        if (rc < 0)
            break;
    }
    if (rc == 0)
        d = jdoc_new_str(b.data ? b.data : "", b.len, p->err);
    buf_cleanup(&b);
    *pos = i;
    return d;
}

/* --- flow collections ------------------------------------------------------------------- */

struct flow {
    struct parser *p;
    int no;
    const char *s;
    size_t n, i;
};

static void flow_ws(struct flow *f)
{
    while (f->i < f->n && (f->s[f->i] == ' ' || f->s[f->i] == '\t'))
        f->i++;
}

static struct jdoc *flow_value(struct flow *f);

/* A plain scalar inside [..] or {..}: up to , ] } (and : followed by a space, for keys). */
static struct jdoc *flow_plain(struct flow *f, bool key)
{
    size_t start = f->i;

    while (f->i < f->n) {
        char c = f->s[f->i];
        if (c == ',' || c == ']' || c == '}' ||
            (key && c == ':' && (f->i + 1 == f->n || strchr(" ,}]", f->s[f->i + 1]))))
            break;
        f->i++;
    }
    return plain(f->s + start, f->i - start, f->p->err);
}

static struct jdoc *flow_scalar(struct flow *f, bool key)
{
    if (f->i < f->n && (f->s[f->i] == '"' || f->s[f->i] == '\''))
        return quoted(f->p, f->no, f->s, f->n, &f->i);
    return flow_plain(f, key);
}

static struct jdoc *flow_collection(struct flow *f)
{
    bool map = f->s[f->i] == '{';
    char close = map ? '}' : ']';
    struct jdoc *d = jdoc_new(map ? JDOC_OBJECT : JDOC_ARRAY, f->p->err);
    int rc = d ? 0 : -1;

    f->i++;
    for (bool first = true; rc == 0;) {
        flow_ws(f);
        if (f->i < f->n && f->s[f->i] == close) {
            f->i++;
            return d;
        }
        if (f->i >= f->n) {
            rc = fail(f->p, f->no, "a flow collection does not end on its line");
            break;
        }
        if (!first) {
            if (f->i >= f->n || f->s[f->i] != ',') {
                rc = fail(f->p, f->no, map ? "expected ',' or '}'" : "expected ',' or ']'");
                break;
            }
            f->i++;
            flow_ws(f);
            if (f->i < f->n && f->s[f->i] == close) { /* a trailing comma */
                f->i++;
                return d;
            }
        }
        first = false;
        if (f->i >= f->n) {
            rc = fail(f->p, f->no, "a flow collection does not end on its line");
            break;
        }
        if (!map) {
            struct jdoc *v = flow_value(f);
            rc = v ? jdoc_append(d, v, f->p->err) : -1;
            continue;
        }
        struct jdoc *k = flow_scalar(f, true), *v = NULL;
        if (!k || k->type != JDOC_STRING) {
            rc = k ? fail(f->p, f->no, "a mapping key must be a string") : -1;
            jdoc_free(k);
            break;
        }
        flow_ws(f);
        if (f->i < f->n && f->s[f->i] == ':') {
            f->i++;
            flow_ws(f);
            v = f->i < f->n && (f->s[f->i] == ',' || f->s[f->i] == '}')
                    ? jdoc_new(JDOC_NULL, f->p->err)
                    : flow_value(f);
        } else {
            v = jdoc_new(JDOC_NULL, f->p->err); /* {a, b}: keys without values */
        }
        rc = v ? jdoc_put(d, k->text, k->text_len, v, f->p->err) : -1;
        jdoc_free(k);
    }
    jdoc_free(d);
    return NULL;
}

static struct jdoc *flow_value(struct flow *f)
{
    struct jdoc *d;

    flow_ws(f);
    if (f->i >= f->n)
        return jdoc_new(JDOC_NULL, f->p->err);
    if (f->s[f->i] != '[' && f->s[f->i] != '{')
        return flow_scalar(f, false);
    if (++f->p->depth > MAX_DEPTH) {
        fail(f->p, f->no, "nested deeper than 64");
        return NULL;
    }
    d = flow_collection(f);
    f->p->depth--;
    return d;
}

/* --- block structure -------------------------------------------------------------------- */

/* Where the text of a value ends: before a comment (" #"), trailing blanks trimmed. Quotes and
 * brackets are respected. */
static size_t content_len(const char *s, size_t n)
{
    char quote = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (quote) {
            if (c == quote && !(quote == '"' && i && s[i - 1] == '\\'))
                quote = 0;
        } else if (c == '"' || c == '\'') {
            if (i == 0 || strchr(" [{,:", s[i - 1]))
                quote = c;
        } else if (c == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) {
            n = i;
            break;
        }
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n;
}

static bool unsupported(char c)
{
    return c == '&' || c == '*' || c == '!' || c == '%' || c == '@' || c == '`';
}

/* A value written on one line: a flow collection, a quoted or a plain scalar. */
static struct jdoc *inline_value(struct parser *p, int no, const char *s, size_t n)
{
    struct flow f = {p, no, s, content_len(s, n), 0};
    struct jdoc *d;

    if (f.n && unsupported(s[0])) {
        fail(p, no, "anchors, aliases, tags and reserved indicators are not supported");
        return NULL;
    }
    if (f.n && (s[0] == '[' || s[0] == '{' || s[0] == '"' || s[0] == '\''))
        d = flow_value(&f);
    else
        return plain(s, f.n, p->err);
    if (!d)
        return NULL;
    flow_ws(&f);
    if (f.i != f.n) {
        jdoc_free(d);
        fail(p, no, "unexpected text after a value");
        return NULL;
    }
    return d;
}

/* Finds "key:" at the start of a line: *key_end is where the key ends, *value where its value
 * starts. A quoted key may hold anything. */
static bool key_line(const char *s, size_t n, size_t *key_end, size_t *value)
{
    size_t i = 0;

    if (!n || s[0] == '[' || s[0] == '{' || s[0] == '#')
        return false;
    if (s[0] == '"' || s[0] == '\'') {
        char q = s[0];
        for (i = 1; i < n && s[i] != q; i++)
            if (q == '"' && s[i] == '\\')
                i++;
        if (i >= n)
            return false;
        i++;
        *key_end = i;
        while (i < n && s[i] == ' ')
            i++;
        if (i < n && s[i] == ':' && (i + 1 == n || s[i + 1] == ' ')) {
            *value = i + 1;
            return true;
        }
        return false;
    }
    for (; i < n; i++) {
        if (s[i] == '#' && i && s[i - 1] == ' ')
            return false;
        if (s[i] == ':' && (i + 1 == n || s[i + 1] == ' ')) {
            *key_end = i;
            *value = i + 1;
            return true;
        }
    }
    return false;
}

static struct jdoc *node(struct parser *p, int indent);

/* The lines of a literal (|) or folded (>) block scalar below a line of indentation parent. */
static struct jdoc *
block_scalar(struct parser *p, const struct line *head, const char *ind, size_t n)
{
    bool folded = ind[0] == '>';
    char chomp = 0;
    int block = -1, trailing = 0;
    struct buf b;
    struct jdoc *d = NULL;
    int rc = 0;

    for (size_t i = 1; i < n; i++) {
        if (ind[i] == '-' || ind[i] == '+')
            chomp = ind[i];
        else if (ind[i] >= '1' && ind[i] <= '9')
            block = head->indent + (ind[i] - '0');
        else {
            fail(p, head->no, "a block scalar header takes only -, + and an indentation digit");
            return NULL;
        }
    }
    buf_init(&b, 1u << 20);
    while (rc == 0 && p->i < p->n) {
        const struct line *l = &p->lines[p->i];
        if (l->len == 0) {
            trailing++;
            p->i++;
            continue;
        }
        if (block < 0)
            block = l->indent;
        if (l->indent < block || l->indent <= head->indent)
            break;
        for (; rc == 0 && trailing; trailing--)
            rc = buf_append(&b, "\n", 1, p->err);
        if (rc == 0 && b.len)
            rc = buf_append(&b, folded ? " " : "\n", 1, p->err);
        for (int k = block; rc == 0 && k < l->indent; k++)
            rc = buf_append(&b, " ", 1, p->err);
        if (rc == 0)
            rc = buf_append(&b, l->s, l->len, p->err);
        p->i++;
    }
    if (rc == 0 && chomp != '-' && b.len)
        rc = buf_append(&b, "\n", 1, p->err);
    for (; rc == 0 && chomp == '+' && trailing; trailing--)
        rc = buf_append(&b, "\n", 1, p->err);
    if (rc == 0)
        d = jdoc_new_str(b.data ? b.data : "", b.len, p->err);
    buf_cleanup(&b);
    return d;
}

/* The value after "key:" (or "- "): on the same line, a block scalar, or the lines below. */
static struct jdoc *value_after(struct parser *p, const struct line *l, size_t at, bool in_map)
{
    const char *v = l->s + at;
    size_t n = l->len - at;

    while (n && *v == ' ') {
        v++;
        n--;
    }
    n = content_len(v, n);
    p->i++;
    if (n && (v[0] == '|' || v[0] == '>'))
        return block_scalar(p, l, v, n);
    if (n)
        return inline_value(p, l->no, v, n);
    skip_blank(p);
    if (p->i < p->n && p->lines[p->i].indent > l->indent)
        return node(p, p->lines[p->i].indent);
    /* a sequence may sit at its key's own indentation */
    if (in_map && p->i < p->n && p->lines[p->i].indent == l->indent && is_seq_item(&p->lines[p->i]))
        return node(p, l->indent);
    return jdoc_new(JDOC_NULL, p->err);
}

static struct jdoc *mapping(struct parser *p, int indent)
{
    struct jdoc *d = jdoc_new(JDOC_OBJECT, p->err);

    while (d) {
        skip_blank(p);
        if (p->i >= p->n || p->lines[p->i].indent < indent)
            break;
        const struct line *l = &p->lines[p->i];
        size_t key_end, at;
        struct jdoc *k, *v;
        if (l->indent > indent) {
            fail(p, l->no, "unexpected indentation");
            goto error;
        }
        if (is_seq_item(l) || doc_marker(l))
            break; /* the sequence that is the value of the key before, or the document's end */
        if (!key_line(l->s, l->len, &key_end, &at)) {
            fail(p, l->no, "expected \"key: value\"");
            goto error;
        }
        if (unsupported(l->s[0])) {
            fail(p, l->no, "anchors, aliases, tags and reserved indicators are not supported");
            goto error;
        }
        size_t pos = 0;
        k = l->s[0] == '"' || l->s[0] == '\'' ? quoted(p, l->no, l->s, key_end, &pos)
                                              : plain(l->s, key_end, p->err);
        if (!k)
            goto error;
        if (k->type != JDOC_STRING) { /* "true:" or "1:": kept as the text written */
            jdoc_free(k);
            k = jdoc_new_str(l->s, key_end, p->err);
            if (!k)
                goto error;
        }
        v = value_after(p, l, at, true);
        if (!v || jdoc_put(d, k->text, k->text_len, v, p->err) < 0) {
            jdoc_free(k);
            goto error;
        }
        jdoc_free(k);
    }
    return d;
error:
    jdoc_free(d);
    return NULL;
}

static struct jdoc *sequence(struct parser *p, int indent)
{
    struct jdoc *d = jdoc_new(JDOC_ARRAY, p->err);

    while (d) {
        skip_blank(p);
        if (p->i >= p->n || p->lines[p->i].indent < indent)
            break;
        struct line *l = &p->lines[p->i];
        struct jdoc *v;
        if (l->indent > indent) {
            fail(p, l->no, "unexpected indentation");
            goto error;
        }
        if (!is_seq_item(l) || doc_marker(l))
            break;
        size_t at = 1;
        while (at < l->len && l->s[at] == ' ')
            at++;
        size_t key_end, vat, rest = content_len(l->s + at, l->len - at);
        if (rest && (key_line(l->s + at, rest, &key_end, &vat) ||
                     is_seq_item(&(struct line){l->s + at, rest, 0, 0}))) {
            /* "- key: v" or "- - x": the item starts on this line, one level in */
            l->s += at;
            l->len -= at;
            l->indent += (int)at;
            v = node(p, l->indent);
        } else {
            v = value_after(p, l, 1, false);
        }
        if (!v || jdoc_append(d, v, p->err) < 0)
            goto error;
    }
    return d;
error:
    jdoc_free(d);
    return NULL;
}

/* The node whose first line is the current one, at indentation indent. */
static struct jdoc *node(struct parser *p, int indent)
{
    const struct line *l;
    size_t key_end, at;
    struct jdoc *d;

    skip_blank(p);
    if (p->i >= p->n)
        return jdoc_new(JDOC_NULL, p->err);
    if (++p->depth > MAX_DEPTH) {
        fail(p, p->lines[p->i].no, "nested deeper than 64");
        return NULL;
    }
    l = &p->lines[p->i];
    if (is_seq_item(l))
        d = sequence(p, indent);
    else if (key_line(l->s, content_len(l->s, l->len), &key_end, &at))
        d = mapping(p, indent);
    else if (l->s[0] == '|' || l->s[0] == '>') {
        fail(p, l->no, "a block scalar must follow a key or a dash");
        d = NULL;
    } else {
        d = inline_value(p, l->no, l->s, l->len);
        p->i++;
    }
    p->depth--;
    return d;
}

/* Splits the text into lines with their indentation; tabs may not indent. */
static int split_lines(struct parser *p, const char *text, size_t len)
{
    size_t cap = 1;

    for (size_t i = 0; i < len; i++)
        cap += text[i] == '\n';
    p->lines = calloc(cap, sizeof(*p->lines));
    if (!p->lines)
        return perr_set(p->err, PERR_NOMEM, "out of memory reading YAML");
    for (size_t i = 0, start = 0; i <= len; i++) {
        if (i < len && text[i] != '\n')
            continue;
        struct line *l = &p->lines[p->n++];
        size_t end = i;
        if (end > start && text[end - 1] == '\r')
            end--;
        l->no = (int)p->n;
        l->s = text + start;
        while (l->s < text + end && *l->s == ' ')
            l->s++;
        l->indent = (int)(l->s - (text + start));
        l->len = (size_t)(text + end - l->s);
        if (memchr(l->s, '\0', l->len))
            return fail(p, l->no, "a NUL byte");
        if (l->len && l->s[0] == '\t')
            return fail(p, l->no, "a tab in the indentation (YAML indents with spaces)");
        start = i + 1;
    }
    return 0;
}

struct jdoc *yaml_parse(const char *text, size_t len, struct perr *err)
{
    struct parser p = {.err = err};
    struct jdoc *d = NULL;
    size_t lead = 0;

    /* JSON, also spread over lines as JSON writers do, is YAML: read it as JSON first */
    while (lead < len && strchr(" \t\r\n", text[lead]))
        lead++;
    if (lead < len && (text[lead] == '{' || text[lead] == '[')) {
        struct perr ignored = {0};
        d = jdoc_parse(text, len, NULL, &ignored);
        if (d)
            return d;
    }

    if (split_lines(&p, text, len) == 0) {
        skip_blank(&p);
        if (p.i < p.n && word(p.lines[p.i].s, content_len(p.lines[p.i].s, p.lines[p.i].len), "---"))
            p.i++;
        skip_blank(&p);
        if (p.i < p.n && p.lines[p.i].s[0] == '%')
            fail(&p, p.lines[p.i].no, "YAML directives are not supported");
        else
            d = node(&p, p.i < p.n ? p.lines[p.i].indent : 0);
        skip_blank(&p);
        if (d && p.i < p.n) {
            const struct line *l = &p.lines[p.i];
            size_t n = content_len(l->s, l->len);
            if (!(word(l->s, n, "...") && (p.i++, skip_blank(&p), p.i == p.n))) {
                fail(&p, l->no,
                     word(l->s, n, "---") ? "more than one YAML document"
                                          : "unexpected text (check the indentation)");
                jdoc_free(d);
                d = NULL;
            }
        }
    }
    free(p.lines);
    return d;
}
