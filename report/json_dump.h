/* json_dump.h - JSON text: a jansson value dumped, byte for byte what
 * json_dump_callback() writes with JSON_INDENT(indent), or with
 * JSON_COMPACT when indent is 0, and reals at JSON_REAL_PRECISION(16).
 *
 * jansson's dumper decodes every string into code points and hands every
 * token to a callback; for a report of a few MB that was more than half of
 * writing it.  Here a string is scanned a byte at a time for the bytes JSON
 * must escape (its values are valid UTF-8: jansson checks them when they are
 * made, and no byte of a multi-byte sequence needs escaping), integers are
 * formatted without printf, and the text goes out a block at a time. */
#ifndef PW_JSON_DUMP_H
#define PW_JSON_DUMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

void pw_json_dump(FILE *out, const json_t *v, int indent);

/* Values written as they are made (pw_jw, "JSON writer"): a report's long
 * lists of rows go out row by row, never held as a tree.  A text writer
 * writes exactly what pw_json_dump() would for the tree the same calls
 * describe; a tree writer builds that tree instead, so one function that
 * writes a value serves both.
 *
 *   pw_jw w;
 *   pw_jw_begin_text(&w, out, 2);
 *   pw_jw_object(&w);
 *   pw_jw_key(&w, "port"); pw_jw_integer(&w, 445);
 *   pw_jw_key(&w, "hosts"); pw_jw_tree(&w, hosts);   (a jansson value, taken)
 *   pw_jw_close(&w);
 *   pw_jw_finish(&w);
 *
 * In an object each value follows its key; a key must live until its value
 * is written.  Containers nest up to PW_JW_DEPTH deep. */
#define PW_JW_DEPTH 32
/* Text waiting to be written: a block at a time. */
typedef struct pw_jw_text {
    FILE *out;
    int indent; /* 0: compact */
    size_t n;
    char b[1 << 16];
} pw_jw_text;

/* On the stack, like its buffer: a writer per jsonl line costs no
 * allocation (begin touches only the fields it sets). */
typedef struct pw_jw {
    pw_jw_text *text;                 /* &own for text; NULL for a tree */
    int depth;                        /* containers open */
    bool object[PW_JW_DEPTH + 1];     /* each open container is an object (else an array) */
    uint32_t items[PW_JW_DEPTH + 1];  /* values written in each open container */
    json_t *open[PW_JW_DEPTH + 1];    /* tree: the containers open (open[0]: the root) */
    const char *key;                  /* tree: the key whose value comes next */
    pw_jw_text own;
} pw_jw;

/* Text to out, indented as JSON_INDENT(indent) (0: compact). */
void pw_jw_begin_text(pw_jw *w, FILE *out, int indent);
void pw_jw_begin_tree(pw_jw *w);
/* Ends the writer: text is flushed (NULL is returned); a tree is returned. */
json_t *pw_jw_finish(pw_jw *w);

void pw_jw_object(pw_jw *w);
void pw_jw_array(pw_jw *w);
void pw_jw_close(pw_jw *w);
void pw_jw_key(pw_jw *w, const char *key);
/* Bytes that are not UTF-8 are written as U+FFFD (jansson refuses such a
 * string, and a tree would lose the value). */
void pw_jw_string(pw_jw *w, const char *s);
void pw_jw_integer(pw_jw *w, json_int_t v);
void pw_jw_real(pw_jw *w, double v); /* finite */
/* A time in microseconds as seconds with up to six decimals: the real
 * t / 10^6 + (t % 10^6) / 10^6. */
void pw_jw_seconds(pw_jw *w, int64_t usec);
void pw_jw_bool(pw_jw *w, bool v);
void pw_jw_null(pw_jw *w);
/* A jansson value in place; the writer takes the reference. */
void pw_jw_tree(pw_jw *w, json_t *v);
/* Text only: a line break after a value at the top (JSON Lines). */
void pw_jw_newline(pw_jw *w);

#endif
