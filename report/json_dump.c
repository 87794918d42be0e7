/* json_dump.c - JSON text from a jansson tree, or from values as they are
 * written (json_dump.h says why). */
#include "json_dump.h"
#include "../common/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Sixteen significant digits keep a microsecond timestamp
 * (1700000000.123456) exact. */
#define REAL_DIGITS 16

typedef pw_jw_text writer;

static void flush(writer *w)
{
    fwrite(w->b, 1, w->n, w->out);
    w->n = 0;
}

static void put(writer *w, const char *p, size_t len)
{
    if (len > sizeof w->b - w->n) {
        flush(w);
        if (len > sizeof w->b) {
            fwrite(p, 1, len, w->out);
            return;
        }
    }
    memcpy(w->b + w->n, p, len);
    w->n += len;
}

static void put_char(writer *w, char c)
{
    if (w->n == sizeof w->b)
        flush(w);
    w->b[w->n++] = c;
}

/* A line break and the indentation of `depth`; nothing when compact. */
static void newline(writer *w, int depth)
{
    if (!w->indent)
        return;
    put_char(w, '\n');
    for (int i = depth * w->indent; i > 0; i--)
        put_char(w, ' ');
}

/* Eight bytes at a time: whether any is below 0x20, '"' or '\\' (the bytes
 * JSON escapes).  Each test sets a byte's top bit exactly when that byte
 * matches; bytes of 0x80 and above never do. */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
static inline bool word_needs_escape(uint64_t x)
{
    uint64_t quote = x ^ (ONES * '"'), backslash = x ^ (ONES * '\\');
    uint64_t below = (x - ONES * 0x20) & ~x;
    uint64_t zq = (quote - ONES) & ~quote, zb = (backslash - ONES) & ~backslash;
    return ((below | zq | zb) & HIGHS) != 0;
}

static void put_string(writer *w, const char *s, size_t len)
{
    put_char(w, '"');
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        if (!(i & 7) && i + 8 <= len) { /* a clean word is passed over whole */
            uint64_t x;
            memcpy(&x, s + i, 8);
            if (!word_needs_escape(x)) {
                i += 7;
                continue;
            }
        }
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(w, s + run, i - run);
        run = i + 1;
        char esc[7] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            snprintf(esc, sizeof esc, "\\u%04X", c);
            n = 6;
        }
        put(w, esc, n);
    }
    put(w, s + run, len - run);
    put_char(w, '"');
}

static void put_integer(writer *w, json_int_t v)
{
    char b[24], *p = b + sizeof b;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *--p = '-';
    put(w, p, (size_t)(b + sizeof b - p));
}

/* As jansson writes a real: "%.16g", then ".0" when that reads as an
 * integer, and the exponent without '+' or leading zeros. */
static void put_real(writer *w, double v)
{
    char b[40];
    int n = snprintf(b, sizeof b - 2, "%.*g", REAL_DIGITS, v);
    if (n < 0 || (size_t)n >= sizeof b - 2)
        return;
    if (!strchr(b, '.') && !strchr(b, 'e')) {
        memcpy(b + n, ".0", 3);
        n += 2;
    }
    char *e = strchr(b, 'e');
    if (e) {
        char *start = e + 1, *end = e + 2;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, (size_t)(b + n - end) + 1);
            n -= (int)(end - start);
        }
    }
    put(w, b, (size_t)n);
}

static void put_value(writer *w, const json_t *v, int depth);

static void put_object(writer *w, const json_t *o, int depth)
{
    put_char(w, '{');
    void *it = json_object_iter((json_t *)o);
    if (!it) {
        put_char(w, '}');
        return;
    }
    newline(w, depth + 1);
    while (it) {
        void *next = json_object_iter_next((json_t *)o, it);
        put_string(w, json_object_iter_key(it), json_object_iter_key_len(it));
        put(w, w->indent ? ": " : ":", w->indent ? 2 : 1);
        put_value(w, json_object_iter_value(it), depth + 1);
        if (next) {
            put_char(w, ',');
            newline(w, depth + 1);
        } else {
            newline(w, depth);
        }
        it = next;
    }
    put_char(w, '}');
}

static void put_array(writer *w, const json_t *a, int depth)
{
    size_t n = json_array_size(a);
    put_char(w, '[');
    if (!n) {
        put_char(w, ']');
        return;
    }
    newline(w, depth + 1);
    for (size_t i = 0; i < n; i++) {
        put_value(w, json_array_get(a, i), depth + 1);
        if (i + 1 < n) {
            put_char(w, ',');
            newline(w, depth + 1);
        } else {
            newline(w, depth);
        }
    }
    put_char(w, ']');
}

static void put_value(writer *w, const json_t *v, int depth)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: put_object(w, v, depth); break;
    case JSON_ARRAY: put_array(w, v, depth); break;
    case JSON_STRING: put_string(w, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: put_integer(w, json_integer_value(v)); break;
    case JSON_REAL: put_real(w, json_real_value(v)); break;
    case JSON_TRUE: put(w, "true", 4); break;
    case JSON_FALSE: put(w, "false", 5); break;
    case JSON_NULL: put(w, "null", 4); break;
    }
}

void pw_json_dump(FILE *out, const json_t *v, int indent)
{
    writer w; /* 64 KiB of stack, not initialised: cheap per jsonl line too */
    w.out = out;
    w.indent = indent;
    w.n = 0;
    if (v)
        put_value(&w, v, 0);
    flush(&w);
}

/* ---- values as they are written ------------------------------------------ */

/* The fields every writer starts from; the stacks are set as containers
 * open, and the text buffer as it fills. */
static void begin(pw_jw *w, pw_jw_text *text)
{
    w->text = text;
    w->depth = 0;
    w->open[0] = NULL;
    w->key = NULL;
}

void pw_jw_begin_text(pw_jw *w, FILE *out, int indent)
{
    begin(w, &w->own);
    w->own.out = out;
    w->own.indent = indent;
    w->own.n = 0;
}

void pw_jw_begin_tree(pw_jw *w)
{
    begin(w, NULL);
}

json_t *pw_jw_finish(pw_jw *w)
{
    if (!w->text)
        return w->open[0];
    flush(w->text);
    w->text = NULL;
    return NULL;
}

/* Text: the separator and line break before a value in an array (an
 * object's value follows its key, a top-level value nothing). */
static void text_item(pw_jw *w)
{
    if (!w->depth || w->object[w->depth])
        return;
    if (w->items[w->depth]++)
        put_char(w->text, ',');
    newline(w->text, w->depth);
}

/* Tree: v joins the container open, or becomes the root. */
static void tree_item(pw_jw *w, json_t *v)
{
    if (!w->depth)
        w->open[0] = v;
    else if (w->object[w->depth])
        json_object_set_new(w->open[w->depth], w->key, v);
    else
        json_array_append_new(w->open[w->depth], v);
}

static void open_container(pw_jw *w, bool object)
{
    if (w->depth == PW_JW_DEPTH)
        abort(); /* the report's shape is fixed: deeper is a bug */
    json_t *c = NULL;
    if (w->text) {
        text_item(w);
        put_char(w->text, object ? '{' : '[');
    } else {
        c = object ? json_object() : json_array();
        tree_item(w, c);
    }
    w->depth++;
    w->object[w->depth] = object;
    w->items[w->depth] = 0;
    w->open[w->depth] = c;
}

void pw_jw_object(pw_jw *w) { open_container(w, true); }
void pw_jw_array(pw_jw *w) { open_container(w, false); }

void pw_jw_close(pw_jw *w)
{
    if (w->text) {
        if (w->items[w->depth])
            newline(w->text, w->depth - 1);
        put_char(w->text, w->object[w->depth] ? '}' : ']');
    }
    w->depth--;
}

void pw_jw_key(pw_jw *w, const char *key)
{
    if (!w->text) {
        w->key = key;
        return;
    }
    if (w->items[w->depth]++)
        put_char(w->text, ',');
    newline(w->text, w->depth);
    put_string(w->text, key, strlen(key));
    put(w->text, w->text->indent ? ": " : ":", w->text->indent ? 2 : 1);
}

/* A value about to be written: true when the writer builds a tree (v, made
 * by the caller only then, has joined it); false when its text is to follow
 * (the separator before it is written). */
static bool tree_scalar(pw_jw *w, json_t *v)
{
    if (!w->text) {
        tree_item(w, v);
        return true;
    }
    text_item(w);
    return false;
}

void pw_jw_tree(pw_jw *w, json_t *v)
{
    if (!w->text) {
        tree_item(w, v);
        return;
    }
    text_item(w);
    put_value(w->text, v, w->depth);
    json_decref(v);
}

/* The length of the UTF-8 sequence at s (at most n bytes), 0 when there is
 * none: the checks jansson makes (no overlong forms, no surrogates, nothing
 * above U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (!len || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) || (c == 0xF0 && s[1] < 0x90) ||
        (c == 0xF4 && s[1] > 0x8F))
        return 0;
    return len;
}

/* s with every byte that starts no UTF-8 sequence replaced by U+FFFD
 * (to free), or NULL when s is UTF-8 already. */
static char *utf8_repaired(const char *s, size_t n)
{
    size_t i = 0, k;
    for (uint64_t x; i + 8 <= n && (memcpy(&x, s + i, 8), !(x & HIGHS));) /* ASCII words */
        i += 8;
    while (i < n && (k = utf8_seq((const unsigned char *)s + i, n - i)) != 0)
        i += k;
    if (i == n)
        return NULL;
    char *r = pw_xmalloc(3 * n + 1), *o = r;
    for (i = 0; i < n; i += k ? k : 1) {
        k = utf8_seq((const unsigned char *)s + i, n - i);
        if (k) {
            memcpy(o, s + i, k);
            o += k;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
        }
    }
    *o = 0;
    return r;
}

void pw_jw_string(pw_jw *w, const char *s)
{
    size_t n = strlen(s);
    char *fixed = utf8_repaired(s, n);
    if (fixed) {
        s = fixed;
        n = strlen(fixed);
    }
    if (!tree_scalar(w, w->text ? NULL : json_stringn(s, n)))
        put_string(w->text, s, n);
    free(fixed);
}

void pw_jw_integer(pw_jw *w, json_int_t v)
{
    if (!tree_scalar(w, w->text ? NULL : json_integer(v)))
        put_integer(w->text, v);
}

void pw_jw_real(pw_jw *w, double v)
{
    if (!tree_scalar(w, w->text ? NULL : json_real(v)))
        put_real(w->text, v);
}

/* Between 10^9 and 2^32 seconds (2001 to 2106) the double of pw_jw_seconds
 * lies within 5 x 10^-7 of the exact time, and "%.16g" shows its ten digits
 * and six decimals: the digits of the integer itself, trailing zeros
 * dropped (".0" when none is left, as jansson writes).  That is the text of
 * nearly every timestamp in a report, without printf; other times go
 * through put_real(). */
static bool put_seconds_fast(writer *t, int64_t usec)
{
    int64_t sec = usec / 1000000, frac = usec % 1000000;
    if (usec < 0 || sec < 1000000000 || sec >= ((int64_t)1 << 32))
        return false;
    char b[24], *p = b;
    for (int64_t d = 1000000000; d; d /= 10)
        *p++ = (char)('0' + sec / d % 10);
    *p++ = '.';
    if (!frac) {
        *p++ = '0';
    } else {
        for (int64_t d = 100000; d && frac; d /= 10) {
            *p++ = (char)('0' + frac / d);
            frac %= d;
        }
    }
    put(t, b, (size_t)(p - b));
    return true;
}

void pw_jw_seconds(pw_jw *w, int64_t usec)
{
    double v = (double)(usec / 1000000) + (double)(usec % 1000000) / 1e6;
    if (!tree_scalar(w, w->text ? NULL : json_real(v)) && !put_seconds_fast(w->text, usec))
        put_real(w->text, v);
}

void pw_jw_bool(pw_jw *w, bool v)
{
    if (!tree_scalar(w, w->text ? NULL : json_boolean(v)))
        put(w->text, v ? "true" : "false", v ? 4 : 5);
}

void pw_jw_null(pw_jw *w)
{
    if (!tree_scalar(w, w->text ? NULL : json_null()))
        put(w->text, "null", 4);
}

void pw_jw_newline(pw_jw *w)
{
    if (w->text)
        put_char(w->text, '\n');
}
