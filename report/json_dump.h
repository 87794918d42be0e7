/* json_dump.h - a jansson value written as JSON text: byte for byte what
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
#include <stdio.h>

void pw_json_dump(FILE *out, const json_t *v, int indent);

#endif
