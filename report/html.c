/* html.c - a self-contained HTML page of the same report (no scripts, no
 * external resources), for handing to a firewall team. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

static void esc(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*s, out);
        }
    }
}

/* A scalar as cell text. */
static void cell(FILE *out, json_t *v)
{
    char buf[64];
    fputs("<td>", out);
    if (json_is_string(v))
        esc(out, json_string_value(v));
    else if (json_is_integer(v))
        fprintf(out, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v)) {
        snprintf(buf, sizeof buf, "%.4g", json_real_value(v));
        fputs(buf, out);
    } else if (json_is_boolean(v))
        fputs(json_is_true(v) ? "yes" : "no", out);
    else if (json_is_array(v) || json_is_object(v)) {
        char *s = json_dumps(v, JSON_COMPACT);
        esc(out, s);
        free(s);
    } else
        fputs("-", out);
    fputs("</td>", out);
}

/* A table of the array's objects with the given columns. */
static void table(FILE *out, const char *title, json_t *arr, const char *const *cols)
{
    if (!json_array_size(arr))
        return;
    fprintf(out, "<h2>");
    esc(out, title);
    fprintf(out, "</h2>\n<table>\n<tr>");
    for (size_t c = 0; cols[c]; c++) {
        fputs("<th>", out);
        esc(out, cols[c]);
        fputs("</th>", out);
    }
    fputs("</tr>\n", out);
    size_t i;
    json_t *row;
    json_array_foreach(arr, i, row)
    {
        const char *v = json_string_value(json_object_get(row, "verdict"));
        if (!v)
            v = json_string_value(json_object_get(row, "outcome"));
        fprintf(out, "<tr class=\"%s\">", v ? v : "");
        for (size_t c = 0; cols[c]; c++)
            cell(out, json_object_get(row, cols[c]));
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
}

void pw_html_write(FILE *out, json_t *model)
{
    static const char *const in_cols[] = {"path", "linktype", "packets", "error", NULL};
    static const char *const sensor_cols[] = {"sensor", "found_by", "targets", "resolved", "rate", "methods", "alerts", NULL};
    static const char *const target_cols[] = {"sensor", "target", "name", "methods", NULL};
    static const char *const rule_cols[] = {"verdict", "profile", "id", "required", "from", "to", "proto", "ports", "description", "counts", "remediation", NULL};
    static const char *const svc_cols[] = {"server", "proto", "port", "outcome", "counts", "clients", "first_frame", "file", NULL};
    static const char *const host_cols[] = {"ip", "names", "conflict", NULL};
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>portwitness report</title>\n"
          "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}"
          "td,th{border:1px solid #ccc;padding:3px 6px;font-size:90%;vertical-align:top}"
          "tr.fail,tr.refused,tr.blocked{background:#fdd}tr.partial,tr.unanswered{background:#ffe8c0}"
          "tr.pass,tr.answered{background:#dfd}</style></head><body>\n<h1>portwitness report</h1>\n",
          out);
    table(out, "Inputs", json_object_get(model, "inputs"), in_cols);
    json_t *nnr = json_object_get(model, "nnr");
    table(out, "NNR per sensor", json_object_get(nnr, "sensors"), sensor_cols);
    table(out, "NNR per target", json_object_get(nnr, "targets"), target_cols);
    table(out, "Port policy rules", json_object_get(model, "rules"), rule_cols);
    table(out, "Services", json_object_get(model, "services"), svc_cols);
    table(out, "Host names", json_object_get(model, "hosts"), host_cols);
    fputs("</body></html>\n", out);
}
