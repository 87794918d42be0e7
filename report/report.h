/* report.h - writers that render the decided result (analysis/result.h) as
 * text, JSON, JSON lines or HTML.  They decide nothing; nothing else writes
 * to stdout. */
#ifndef PW_REPORT_H
#define PW_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "../analysis/attempt.h"
#include "../analysis/changes.h"
#include "../analysis/result.h"

typedef enum pw_format { PW_FMT_TEXT = 0, PW_FMT_JSON, PW_FMT_JSONL, PW_FMT_HTML, PW_FMT_FIX } pw_format;

/* Parses "text", "json", "jsonl", "html", "fix"; returns -1 when unknown. */
int pw_format_parse(const char *name);

/* The attempt as one JSON object (the jsonl "attempt" line). */
json_t *pw_attempt_json(const pw_attempt *a, const char *source_path);
/* Streams one attempt line (jsonl). */
void pw_jsonl_attempt(FILE *out, const pw_attempt *a, const char *source_path);
/* The same with notes (PW_NOTE_* of analysis.h): "notes":["capture-drops"]. */
void pw_jsonl_attempt_noted(FILE *out, const pw_attempt *a, const char *source_path, unsigned notes);
/* A change between live results (analysis/changes.h) as a line:
 * "rule_change" (from, verdict), "nnr_alert" (state raised/cleared), "name". */
void pw_jsonl_change(FILE *out, const pw_result *r, const pw_change *ch);
/* A live interval summary line: {"type":"summary","interval":{...},...}; the
 * interval object (start, end, drops) is made by the caller. */
void pw_jsonl_interval(FILE *out, const pw_result *r, json_t *interval);

/* A gRPC call (PW_EV_GRPC) and an announced SQL instance (PW_EV_SSRP
 * response, instance i) as jsonl "grpc_call" / "sql_instance" lines. */
json_t *pw_grpc_call_json(const pw_event *ev, const char *source_path);
json_t *pw_sql_instance_json(const pw_event *ev, int i, const char *source_path);
void pw_jsonl_grpc_call(FILE *out, const pw_event *ev, const char *source_path);
void pw_jsonl_sql_instance(FILE *out, const pw_event *ev, int i, const char *source_path);

/* The report object of schema portwitness/1, and parts of it (tests). */
json_t *pw_result_json(const pw_result *r);
json_t *pw_json_hosts(const pw_result *r);   /* "hosts" */
json_t *pw_json_nnr(const pw_result *r);     /* "nnr": {"sensors", "targets"} */
/* {"profiles", "roles", "rules", "sensor_cloud"} */
json_t *pw_json_policy(const pw_result *r);

/* "fixes": the firewall changes per failed or partial rule and server. */
json_t *pw_json_fixes(const pw_result *r);

/* Renders the result in one format. */
void pw_report_write(FILE *out, pw_format format, const pw_result *r);
/* The end-of-run jsonl lines: input, service, name, nnr, nnr_sensor, rule, summary. */
void pw_jsonl_finish(FILE *out, const pw_result *r);
void pw_json_write(FILE *out, const pw_result *r);
void pw_text_write(FILE *out, const pw_result *r);
void pw_html_write(FILE *out, const pw_result *r);
void pw_fix_write(FILE *out, const pw_result *r);

#endif
