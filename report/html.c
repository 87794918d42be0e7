/* html.c - a self-contained HTML page of the same report (no scripts, no
 * external resources), for handing to a firewall team.  Rendered from the
 * result: one table per section, one row per entry, the verdict or outcome
 * as the row's class (its colour). */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "../analysis/policy_internal.h"
#include "messages.h"

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

static void td(FILE *out, const char *s)
{
    fputs("<td>", out);
    if (s)
        esc(out, s);
    else
        fputs("-", out);
    fputs("</td>", out);
}

static void td_num(FILE *out, unsigned long long n)
{
    fprintf(out, "<td>%llu</td>", n);
}

static void td_addr(FILE *out, const pw_addr *a)
{
    char ip[PW_ADDR_STRLEN];
    td(out, pw_addr_str(a, ip, sizeof ip));
}

static void td_rate(FILE *out, bool has, double rate)
{
    if (has)
        fprintf(out, "<td>%.0f%%</td>", 100.0 * rate);
    else
        fputs("<td>-</td>", out);
}

static void td_msg(FILE *out, const pw_msg *m, const pw_sources *srcs)
{
    pw_sbuf b = {0};
    pw_msg_render(&b, m, srcs);
    td(out, pw_sb_str(&b));
    pw_sb_free(&b);
}

/* "answered 3, refused 1" (outcomes with a count only) */
static void td_counts(FILE *out, const uint64_t c[PW_OUT_COUNT])
{
    fputs("<td>", out);
    bool any = false;
    for (int o = PW_OUT_ANSWERED; o < PW_OUT_COUNT; o++)
        if (c[o]) {
            fprintf(out, "%s%s %llu", any ? ", " : "", pw_outcome_name((pw_outcome)o), (unsigned long long)c[o]);
            any = true;
        }
    fputs(any ? "</td>" : "-</td>", out);
}

static void table_start(FILE *out, const char *title, const char *const *cols)
{
    fprintf(out, "<h2>");
    esc(out, title);
    fprintf(out, "</h2>\n<table>\n<tr>");
    for (size_t c = 0; cols[c]; c++) {
        fputs("<th>", out);
        esc(out, cols[c]);
        fputs("</th>", out);
    }
    fputs("</tr>\n", out);
}

static void row_start(FILE *out, const char *cls)
{
    fprintf(out, "<tr class=\"%s\">", cls ? cls : "");
}

static void row_end(FILE *out)
{
    fputs("</tr>\n", out);
}

static void table_end(FILE *out)
{
    fputs("</table>\n", out);
}

static void inputs_table(FILE *out, const pw_result *r)
{
    static const char *const cols[] = {"path", "linktype", "packets", "error", NULL};
    if (!r->n_inputs)
        return;
    table_start(out, "Inputs", cols);
    for (size_t i = 0; i < r->n_inputs; i++) {
        const pw_input_info *in = &r->inputs[i];
        row_start(out, NULL);
        td(out, in->path);
        td(out, in->linktype);
        td_num(out, in->packets);
        td(out, in->error[0] ? in->error : NULL);
        row_end(out);
    }
    table_end(out);
}

static void sensors_table(FILE *out, const pw_result *r)
{
    static const char *const cols[] = {"sensor", "found_by", "targets", "resolved", "rate", "method",
                                       "attempted", "resolved", "rate", "alert", "fix", NULL};
    if (!r->nnr.n_sensors)
        return;
    table_start(out, "NNR per sensor", cols);
    for (size_t i = 0; i < r->nnr.n_sensors; i++) {
        const pw_res_nnr_sensor *s = &r->nnr.sensors[i];
        for (int m = 0; m < PW_NNR_METHOD_COUNT; m++) {
            const pw_res_nnr_mstat *x = &s->methods[m];
            const pw_res_nnr_alert *al = NULL;
            for (size_t k = 0; k < s->n_alerts; k++)
                if (s->alerts[k].method == (pw_nnr_method)m)
                    al = &s->alerts[k];
            row_start(out, al ? "fail" : NULL);
            td_addr(out, &s->sensor);
            td(out, s->found_by_option ? "option" : "inferred");
            td_num(out, s->targets);
            td_num(out, s->resolved);
            td_rate(out, s->has_rate, s->rate);
            td(out, pw_nnr_method_key((pw_nnr_method)m));
            td_num(out, x->attempted);
            td_num(out, x->resolved);
            td_rate(out, x->has_rate, x->rate);
            if (al) {
                td_msg(out, &al->message, &r->sources);
                td_msg(out, &al->remediation, &r->sources);
            } else {
                td(out, NULL);
                td(out, NULL);
            }
            row_end(out);
        }
    }
    table_end(out);
}

static void targets_table(FILE *out, const pw_result *r)
{
    static const char *const cols[] = {"sensor", "target", "name", "method", "outcome", "result", "detail",
                                       "frames", NULL};
    if (!r->nnr.n_targets)
        return;
    table_start(out, "NNR per target", cols);
    for (size_t i = 0; i < r->nnr.n_targets; i++) {
        const pw_res_nnr_target *t = &r->nnr.targets[i];
        for (int m = 0; m < PW_NNR_METHOD_COUNT; m++) {
            if (!t->tried[m])
                continue;
            const pw_res_nnr_try *x = &t->m[m];
            pw_msg detail = pw_res_nnr_detail((pw_nnr_method)m, x);
            row_start(out, pw_outcome_name(x->outcome));
            td_addr(out, &t->sensor);
            td_addr(out, &t->target);
            td(out, t->name);
            td(out, pw_nnr_method_key((pw_nnr_method)m));
            td(out, pw_outcome_name(x->outcome));
            td(out, pw_nnr_result_name(x->result));
            td_msg(out, &detail, &r->sources);
            fputs("<td>", out);
            for (int k = 0; k < x->nframes; k++)
                fprintf(out, "%s%llu", k ? "," : "", (unsigned long long)x->frames[k]);
            fputs("</td>", out);
            row_end(out);
        }
    }
    table_end(out);
}

static void rules_table(FILE *out, const pw_result *r)
{
    static const char *const cols[] = {"verdict", "profile", "id", "required", "from", "to", "proto", "ports",
                                       "description", "counts", "remediation", NULL};
    if (!r->n_rules)
        return;
    table_start(out, "Port policy rules", cols);
    for (size_t i = 0; i < r->n_rules; i++) {
        const pw_res_rule *x = &r->rules[i];
        row_start(out, pw_verdict_name(x->verdict));
        td(out, pw_verdict_name(x->verdict));
        td(out, x->profile);
        td(out, x->id);
        td(out, x->required ? "yes" : "no");
        td(out, x->from);
        td(out, x->to);
        td(out, pw_proto_str(x->proto));
        td(out, x->ports);
        td(out, x->description);
        td_counts(out, x->counts);
        if (x->proof_needed.id)
            td_msg(out, &x->proof_needed, &r->sources);
        else
            td(out, x->remediation);
        row_end(out);
    }
    table_end(out);
}

static void services_table(FILE *out, const pw_result *r)
{
    static const char *const cols[] = {"server", "proto", "port", "outcome", "counts", "clients", "first_frame",
                                       "file", NULL};
    if (!r->n_services)
        return;
    table_start(out, "Services", cols);
    for (size_t i = 0; i < r->n_services; i++) {
        const pw_res_service *s = &r->services[i];
        row_start(out, pw_outcome_name(s->outcome));
        td_addr(out, &s->server);
        td(out, s->proto == 6 ? "tcp" : "udp");
        td_num(out, s->port);
        td(out, pw_outcome_name(s->outcome));
        td_counts(out, s->counts);
        td_num(out, s->clients);
        td_num(out, s->first_frame);
        td(out, pw_source_name(&r->sources, s->source));
        row_end(out);
    }
    table_end(out);
}

static void hosts_table(FILE *out, const pw_result *r)
{
    static const char *const cols[] = {"ip", "names", "conflict", NULL};
    if (!r->n_hosts)
        return;
    table_start(out, "Host names", cols);
    for (size_t i = 0; i < r->n_hosts; i++) {
        const pw_res_host *h = &r->hosts[i];
        row_start(out, NULL);
        if (h->target)
            td(out, h->target);
        else
            td_addr(out, &h->ip);
        fputs("<td>", out);
        for (size_t j = 0; j < h->n_names; j++) {
            fputs(j ? "<br>" : "", out);
            esc(out, h->names[j].name);
            fprintf(out, " (%s, frame %llu%s)", pw_name_source_str(h->names[j].src),
                    (unsigned long long)h->names[j].frame, h->names[j].midstream ? ", mid-stream" : "");
        }
        fputs("</td>", out);
        td(out, h->conflict ? "yes" : "no");
        row_end(out);
    }
    table_end(out);
}

void pw_html_write(FILE *out, const pw_result *r)
{
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>portwitness report</title>\n"
          "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}"
          "td,th{border:1px solid #ccc;padding:3px 6px;font-size:90%;vertical-align:top}"
          "tr.fail,tr.refused,tr.blocked{background:#fdd}tr.partial,tr.unanswered{background:#ffe8c0}"
          "tr.pass,tr.answered{background:#dfd}</style></head><body>\n<h1>portwitness report</h1>\n",
          out);
    inputs_table(out, r);
    sensors_table(out, r);
    targets_table(out, r);
    rules_table(out, r);
    services_table(out, r);
    hosts_table(out, r);
    fputs("</body></html>\n", out);
}
