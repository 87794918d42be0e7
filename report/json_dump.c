/* json_dump.c - JSON text from a jansson tree (json_dump.h says why). */
#include "json_dump.h"

#include <stdint.h>
#include <string.h>

/* Sixteen significant digits keep a microsecond timestamp
 * (1700000000.123456) exact. */
#define REAL_DIGITS 16

typedef struct writer {
    FILE *out;
    int indent; /* 0: compact */
    size_t n;
    char b[1 << 16];
} writer;

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

static void put_string(writer *w, const char *s, size_t len)
{
    put_char(w, '"');
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
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
