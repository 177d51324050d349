/* SPDX-License-Identifier: MIT */
/* Python 3 formatting rules reproduced in C (float repr, json.dumps, str/repr, upper). */
#include "lib/pyfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/unicase_table.h"
#include "lib/utf8.h"

#define PYFMT_MAX_DEPTH 64

/* Python's repr layout of a shortest digit string: value = 0.DIGITS x 10^decpt. */
static void format_repr(bool negative, const char *digits, int ndig, int decpt, char out[32])
{
    int exp10 = decpt - 1, n = 0;

    if (negative)
        out[n++] = '-';
    if (decpt <= -4 || decpt > 16) {
        out[n++] = digits[0];
        if (ndig > 1)
            n += snprintf(out + n, (size_t)(32 - n), ".%.*s", ndig - 1, digits + 1);
        snprintf(out + n, (size_t)(32 - n), "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    } else if (decpt <= 0) {
        n += snprintf(out + n, (size_t)(32 - n), "0.");
        for (int i = 0; i < -decpt; i++)
            out[n++] = '0';
        snprintf(out + n, (size_t)(32 - n), "%.*s", ndig, digits);
    } else if (decpt >= ndig) {
        n += snprintf(out + n, (size_t)(32 - n), "%.*s", ndig, digits);
        for (int i = ndig; i < decpt; i++)
            out[n++] = '0';
        snprintf(out + n, (size_t)(32 - n), ".0");
    } else {
        snprintf(out + n, (size_t)(32 - n), "%.*s.%.*s", decpt, digits, ndig - decpt,
                 digits + decpt);
    }
}

void pyfmt_float_repr(double v, char out[32])
{
    char sci[40], digits[20];
    int ndig = 0;

    if (isnan(v)) {
        snprintf(out, 32, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(out, 32, v < 0 ? "-inf" : "inf");
        return;
    }
    /* Shortest digit string that reads back as the same double: Python's repr. */
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(sci, sizeof(sci), "%.*e", prec - 1, v);
        if (strtod(sci, NULL) == v)
            break;
    }
    for (const char *p = sci; *p && *p != 'e'; p++) {
        if (*p >= '0' && *p <= '9')
            digits[ndig++] = *p;
    }
    while (ndig > 1 && digits[ndig - 1] == '0')
        ndig--;
    format_repr(signbit(v), digits, ndig, (int)strtol(strchr(sci, 'e') + 1, NULL, 10) + 1, out);
}

/*
 * repr(float(text)) straight from a JSON number literal, without strtod and printf (most of
 * the cost of deriving SM_*), when that is exact: a decimal of at most 15 significant digits
 * (DBL_DIG) in the range of normal doubles reads back from its double unchanged, and no shorter
 * decimal reads as the same double, so its own digits are the shortest repr. Returns false
 * for anything else (more digits, subnormal or overflowing range), which takes the slow path.
 */
bool pyfmt_literal_repr(const char *text, char out[32])
{
    const char *p = text;
    char digits[16];
    int ndig = 0, decpt, int_digits = 0, lead_zeros_after_point = 0;
    bool negative = *p == '-', seen_nonzero = false, in_fraction = false;
    long e = 0;
    int pending_zeros = 0; /* zeros seen since the last non-zero digit */

    if (negative)
        p++;
    for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
        if (*p == '.') {
            in_fraction = true;
            continue;
        }
        if (*p == '0') {
            if (!seen_nonzero) {
                lead_zeros_after_point += in_fraction;
                continue;
            }
            pending_zeros++;
        } else {
            if (ndig + pending_zeros + 1 > 15)
                return false;
            while (pending_zeros) {
                digits[ndig++] = '0';
                pending_zeros--;
            }
            digits[ndig++] = *p;
            seen_nonzero = true;
        }
        if (!in_fraction)
            int_digits++;
    }
    if (*p == 'e' || *p == 'E') {
        bool eneg = *++p == '-';
        if (*p == '-' || *p == '+')
            p++;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (e > 100000)
                return false;
            e = e * 10 + (*p - '0');
        }
        if (eneg)
            e = -e;
    }
    if (*p)
        return false;
    if (!ndig) {
        snprintf(out, 32, negative ? "-0.0" : "0.0");
        return true;
    }
    /* value = 0.DIGITS x 10^exp10: integer digits count up from the first significant one,
     * zeros right after the point count down. */
    decpt = (int)e + (int_digits ? int_digits : -lead_zeros_after_point);
    if (decpt < -306 || decpt > 308)
        return false;
    format_repr(negative, digits, ndig, decpt, out);
    return true;
}

/* The number as Python holds it after json.loads: int text, or a float's repr. */
static int put_number(struct buf *b, const struct jdoc *v, bool json_form, struct perr *err)
{
    char f[32];

    if (jdoc_number_is_int(v)) {
        /* Python ints print without sign when zero; JSON forbids other leading zeros. */
        if (strcmp(v->text, "-0") == 0)
            return buf_append_str(b, "0", err);
        return buf_append(b, v->text, v->text_len, err);
    }
    if (!pyfmt_literal_repr(v->text, f))
        pyfmt_float_repr(strtod(v->text, NULL), f);
    if (json_form) {
        if (strcmp(f, "nan") == 0)
            return buf_append_str(b, "NaN", err);
        if (strcmp(f, "inf") == 0)
            return buf_append_str(b, "Infinity", err);
        if (strcmp(f, "-inf") == 0)
            return buf_append_str(b, "-Infinity", err);
    }
    return buf_append_str(b, f, err);
}

/* A JSON string with ensure_ascii: non-ASCII as \uXXXX (surrogate pairs above the BMP). */
/* Printable ASCII that json.dumps writes as it is. */
static bool json_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

static int put_json_string(struct buf *b, const char *s, size_t len, struct perr *err)
{
    if (buf_append(b, "\"", 1, err) < 0)
        return -1;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        unsigned int cp;
        size_t n = 1;
        int rc;

        if (json_plain(c)) {
            /* A run of printable ASCII goes in one piece: most strings are nothing else. */
            while (i + n < len && json_plain((unsigned char)s[i + n]))
                n++;
            rc = buf_append(b, s + i, n, err);
        } else if (c == '"')
            rc = buf_append(b, "\\\"", 2, err);
        else if (c == '\\')
            rc = buf_append(b, "\\\\", 2, err);
        else if (c == '\n')
            rc = buf_append(b, "\\n", 2, err);
        else if (c == '\r')
            rc = buf_append(b, "\\r", 2, err);
        else if (c == '\t')
            rc = buf_append(b, "\\t", 2, err);
        else if (c == '\b')
            rc = buf_append(b, "\\b", 2, err);
        else if (c == '\f')
            rc = buf_append(b, "\\f", 2, err);
        else {
            n = c < 0x80 ? 1 : utf8_decode(s + i, len - i, &cp);
            if (c < 0x80)
                cp = c;
            else if (n == 0) { /* a byte that is not UTF-8: keep its value */
                cp = c;
                n = 1;
            }
            if (cp >= 0x10000)
                rc = buf_printf(b, err, "\\u%04x\\u%04x", 0xd800 + ((cp - 0x10000) >> 10),
                                0xdc00 + ((cp - 0x10000) & 0x3ff));
            else
                rc = buf_printf(b, err, "\\u%04x", cp);
        }
        if (rc < 0)
            return -1;
        i += n;
    }
    return buf_append(b, "\"", 1, err);
}

static int compare_keys(const struct jdoc *o, size_t a, size_t b)
{
    size_t la = o->key_lens[a], lb = o->key_lens[b];
    int c = memcmp(o->keys[a], o->keys[b], la < lb ? la : lb);

    /* UTF-8 byte order is code point order, which is how Python sorts str keys. */
    return c ? c : (la > lb) - (la < lb);
}

/*
 * The member indexes of an object as a Python dict holds them (first position, last value of a
 * repeated key), sorted by key when `sorted`. Returns a malloc'ed array and its length.
 */
static size_t *members(const struct jdoc *o, bool sorted, size_t *n_out, struct perr *err)
{
    size_t *idx = malloc((o->count ? o->count : 1) * sizeof(*idx));
    size_t n = 0;

    if (!idx) {
        perr_set(err, PERR_NOMEM, "out of memory formatting JSON");
        return NULL;
    }
    for (size_t i = 0; i < o->count; i++) {
        bool dup = false;
        for (size_t k = 0; k < n && !dup; k++) {
            if (compare_keys(o, idx[k], i) == 0) {
                idx[k] = i; /* the later duplicate wins */
                dup = true;
            }
        }
        if (!dup)
            idx[n++] = i;
    }
    for (size_t i = 1; sorted && i < n; i++) {
        size_t cur = idx[i], j = i;
        while (j > 0 && compare_keys(o, idx[j - 1], cur) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = cur;
    }
    *n_out = n;
    return idx;
}

bool pyfmt_truthy(const struct jdoc *v)
{
    switch (v->type) {
    case JDOC_NULL:
    case JDOC_FALSE:
        return false;
    case JDOC_TRUE:
        return true;
    case JDOC_NUMBER:
        return strtod(v->text, NULL) != 0.0 || strcmp(v->text, "NaN") == 0;
    case JDOC_STRING:
        return v->text_len > 0;
    case JDOC_ARRAY:
    case JDOC_OBJECT:
        return v->count > 0;
    }
    return false;
}

/* Python's str.isprintable() for non-ASCII code points, approximated by the categories that
 * matter in practice: C1 controls, separators other than space, format characters. */
static bool printable(unsigned int cp)
{
    if (cp < 0xa0)
        return false;
    return !(cp == 0xa0 || cp == 0xad || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200f) ||
             (cp >= 0x2028 && cp <= 0x202f) || (cp >= 0x205f && cp <= 0x2064) || cp == 0x3000 ||
             cp == 0xfeff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0xe000 && cp <= 0xf8ff));
}

static int put_repr_string(struct buf *b, const char *s, size_t len, struct perr *err)
{
    /* Python picks ' unless the text has ' and no ". */
    char q = memchr(s, '\'', len) && !memchr(s, '"', len) ? '"' : '\'';
    int rc = buf_append(b, &q, 1, err);

    for (size_t i = 0; rc == 0 && i < len;) {
        unsigned char c = (unsigned char)s[i];
        unsigned int cp = c;
        size_t n = 1;

        if (c >= 0x80) {
            n = utf8_decode(s + i, len - i, &cp);
            if (n == 0) {
                cp = c;
                n = 1;
            }
        }
        if (cp == '\\' || cp == (unsigned char)q)
            rc = buf_printf(b, err, "\\%c", (char)cp);
        else if (cp == '\n')
            rc = buf_append(b, "\\n", 2, err);
        else if (cp == '\r')
            rc = buf_append(b, "\\r", 2, err);
        else if (cp == '\t')
            rc = buf_append(b, "\\t", 2, err);
        else if (cp >= 0x20 && cp < 0x7f)
            rc = buf_append(b, s + i, 1, err);
        else if (cp >= 0x80 && printable(cp))
            rc = buf_append(b, s + i, n, err);
        else if (cp < 0x100)
            rc = buf_printf(b, err, "\\x%02x", cp);
        else if (cp < 0x10000)
            rc = buf_printf(b, err, "\\u%04x", cp);
        else
            rc = buf_printf(b, err, "\\U%08x", cp);
        i += n;
    }
    return rc < 0 ? -1 : buf_append(b, &q, 1, err);
}

/* How a decoded value is written out: json.dumps in its two spellings, or Python's repr(). */
struct style {
    bool sort_keys;
    const char *item_sep;
    const char *key_sep;
    const char *words[3]; /* null, true, false */
    bool json_numbers;    /* NaN/Infinity rather than nan/inf */
    int (*put_string)(struct buf *b, const char *s, size_t len, struct perr *err);
};

static const struct style json_compact_sorted = {
    true, ",", ":", {"null", "true", "false"}, true, put_json_string};
static const struct style json_default = {false, ", ",           ": ", {"null", "true", "false"},
                                          true,  put_json_string};
static const struct style python_repr = {false, ", ",           ": ", {"None", "True", "False"},
                                         false, put_repr_string};

static int
put_value(struct buf *b, const struct jdoc *v, const struct style *st, int depth, struct perr *err)
{
    size_t *idx, n;
    int rc = 0;

    if (depth > PYFMT_MAX_DEPTH)
        return perr_set(err, PERR_LIMIT, "JSON nested deeper than %d levels", PYFMT_MAX_DEPTH);
    switch (v->type) {
    case JDOC_NULL:
    case JDOC_TRUE:
    case JDOC_FALSE:
        return buf_append_str(b,
                              st->words[v->type == JDOC_NULL   ? 0
                                        : v->type == JDOC_TRUE ? 1
                                                               : 2],
                              err);
    case JDOC_NUMBER:
        return put_number(b, v, st->json_numbers, err);
    case JDOC_STRING:
        return st->put_string(b, v->text, v->text_len, err);
    case JDOC_ARRAY:
        rc = buf_append(b, "[", 1, err);
        for (size_t i = 0; rc == 0 && i < v->count; i++) {
            if (i)
                rc = buf_append_str(b, st->item_sep, err);
            if (rc == 0)
                rc = put_value(b, v->items[i], st, depth + 1, err);
        }
        return rc < 0 ? -1 : buf_append(b, "]", 1, err);
    case JDOC_OBJECT:
        idx = members(v, st->sort_keys, &n, err);
        if (!idx)
            return -1;
        rc = buf_append(b, "{", 1, err);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            if (i)
                rc = buf_append_str(b, st->item_sep, err);
            if (rc == 0)
                rc = st->put_string(b, v->keys[idx[i]], v->key_lens[idx[i]], err);
            if (rc == 0)
                rc = buf_append_str(b, st->key_sep, err);
            if (rc == 0)
                rc = put_value(b, v->items[idx[i]], st, depth + 1, err);
        }
        free(idx);
        return rc < 0 ? -1 : buf_append(b, "}", 1, err);
    }
    return perr_set(err, PERR_PARSE, "unknown JSON value type");
}

int pyfmt_json(struct buf *b, const struct jdoc *v, struct perr *err)
{
    return put_value(b, v, &json_compact_sorted, 0, err);
}

int pyfmt_json_default(struct buf *b, const struct jdoc *v, struct perr *err)
{
    return put_value(b, v, &json_default, 0, err);
}

int pyfmt_str(struct buf *b, const struct jdoc *v, struct perr *err)
{
    if (v->type == JDOC_STRING)
        return buf_append(b, v->text, v->text_len, err);
    return put_value(b, v, &python_repr, 0, err);
}

static int upper_cp(struct buf *b, unsigned int cp, struct perr *err)
{
    for (size_t i = 0; i < sizeof(unicase_multis) / sizeof(unicase_multis[0]); i++) {
        if (unicase_multis[i].cp != cp)
            continue;
        for (int k = 0; k < 3 && unicase_multis[i].up[k]; k++) {
            if (utf8_append(b, unicase_multis[i].up[k], err) < 0)
                return -1;
        }
        return 0;
    }
    for (size_t i = 0; i < sizeof(unicase_runs) / sizeof(unicase_runs[0]); i++) {
        const struct unicase_run *r = &unicase_runs[i];
        if (cp >= r->first && cp <= r->last && (cp - r->first) % r->stride == 0)
            return utf8_append(b, (unsigned int)((int)cp + r->delta), err);
    }
    return utf8_append(b, cp, err);
}

int pyfmt_upper(struct buf *b, const char *s, size_t len, struct perr *err)
{
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        unsigned int cp;
        size_t n;

        if (c < 0x80) {
            char u = (c >= 'a' && c <= 'z') ? (char)(c - 32) : (char)c;
            if (buf_append(b, &u, 1, err) < 0)
                return -1;
            i++;
            continue;
        }
        n = utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            if (buf_append(b, s + i, 1, err) < 0)
                return -1;
            i++;
            continue;
        }
        if (upper_cp(b, cp, err) < 0)
            return -1;
        i += n;
    }
    return 0;
}
