/* report.h - writers that render the report model (analysis/analysis.h)
 * as text, JSON, JSON lines or HTML.  Nothing else writes to stdout. */
#ifndef PW_REPORT_H
#define PW_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "../analysis/attempt.h"

typedef enum pw_format { PW_FMT_TEXT = 0, PW_FMT_JSON, PW_FMT_JSONL, PW_FMT_HTML } pw_format;

/* Parses "text", "json", "jsonl", "html"; returns -1 when unknown. */
int pw_format_parse(const char *name);

/* The attempt as one JSON object (the jsonl "attempt" line). */
json_t *pw_attempt_json(const pw_attempt *a, const char *source_path);
/* Streams one attempt line (jsonl). */
void pw_jsonl_attempt(FILE *out, const pw_attempt *a, const char *source_path);
/* The end-of-run jsonl lines: input, service, name, nnr, rule, summary. */
void pw_jsonl_finish(FILE *out, json_t *model);
void pw_json_write(FILE *out, json_t *model);
void pw_text_write(FILE *out, json_t *model);
void pw_html_write(FILE *out, json_t *model);

/* Dump flags shared by the JSON writers: compact floats with enough digits
 * for microsecond timestamps. */
#define PW_JSON_REAL JSON_REAL_PRECISION(16)

#endif
