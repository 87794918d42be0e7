/* html.c - the report as one self-contained page for a firewall team: inline
 * CSS, inline SVG and a small inline script (sorting and filtering), no
 * external resource (a Content-Security-Policy forbids any), printable.
 *
 * Order: what a reader decides on first - the verdict summary and the
 * failing required rules - then NNR per sensor (html_nnr.c), every rule,
 * the fixes, services and host names.  Categories are shown by a word and a
 * symbol as well as a colour; tables use a fixed layout that wraps long
 * values so they fit a laptop-wide window. */
#include "html.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../analysis/policy_internal.h"
#include "fix.h"
#include "messages.h"
#include "report.h"

void pw_html_esc(FILE *out, const char *s)
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

void pw_html_addr(FILE *out, const pw_addr *a)
{
    char ip[PW_ADDR_STRLEN];
    pw_html_esc(out, pw_addr_str(a, ip, sizeof ip));
}

void pw_html_msg(FILE *out, const pw_msg *m, const pw_sources *srcs)
{
    pw_sbuf b = {0};
    pw_msg_render(&b, m, srcs);
    pw_html_esc(out, pw_sb_str(&b));
    pw_sb_free(&b);
}

static void esc_sb(FILE *out, pw_sbuf *b)
{
    pw_html_esc(out, pw_sb_str(b));
    pw_sb_free(b);
}

static const char *verdict_symbol(pw_verdict v)
{
    switch (v) {
    case PW_VERDICT_PASS: return "\xe2\x9c\x93";
    case PW_VERDICT_FAIL: return "\xe2\x9c\x95";
    case PW_VERDICT_PARTIAL: return "\xe2\x97\x90";
    case PW_VERDICT_UNOBSERVED: return "\xe2\x88\x85";
    default: return "?";
    }
}

static void badge(FILE *out, pw_verdict v)
{
    fprintf(out, "<span class=\"badge %s\">%s %s</span>", pw_verdict_name(v), verdict_symbol(v), pw_verdict_name(v));
}

static void counts(FILE *out, const uint64_t c[PW_OUT_COUNT])
{
    bool any = false;
    for (int o = PW_OUT_ANSWERED; o < PW_OUT_COUNT; o++)
        if (c[o]) {
            fprintf(out, "%s%s %llu", any ? ", " : "", pw_outcome_name((pw_outcome)o), (unsigned long long)c[o]);
            any = true;
        }
    if (!any)
        fputs("-", out);
}

static void utc(FILE *out, pw_usec t)
{
    time_t s = (time_t)(t / 1000000);
    struct tm tm;
    char buf[64];
    gmtime_r(&s, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    fputs(buf, out);
}

/* ---- summary -------------------------------------------------------------------- */

static void span(FILE *out, const pw_result *r)
{
    pw_usec first = 0, last = 0;
    bool any = false;
    for (size_t i = 0; i < r->n_inputs; i++) {
        const pw_input_info *in = &r->inputs[i];
        if (!in->packets)
            continue;
        if (!any || in->first_ts < first)
            first = in->first_ts;
        if (!any || in->last_ts > last)
            last = in->last_ts;
        any = true;
    }
    if (!any) {
        fputs("no packets", out);
        return;
    }
    utc(out, first);
    fprintf(out, " &rarr; ");
    utc(out, last);
    fprintf(out, " (%.1f s)", (double)(last - first) / 1e6);
}

static void summary_cards(FILE *out, const pw_result *r)
{
    size_t failing = 0, unhealthy = 0;
    for (size_t i = 0; i < r->n_rules; i++)
        failing += r->rules[i].failing_required;
    for (size_t i = 0; i < r->nnr.n_sensors; i++)
        unhealthy += r->nnr.sensors[i].n_alerts > 0;
    fputs("<div class=\"cards\">", out);
    fprintf(out, "<div class=\"card %s\" id=\"card-failing\"><b data-value=\"%zu\">%zu</b> failing required rule%s</div>",
            failing ? "fail" : "pass", failing, failing, failing == 1 ? "" : "s");
    fprintf(out, "<div class=\"card %s\" id=\"card-sensors\"><b data-value=\"%zu\">%zu</b> sensor%s, "
                 "<b data-value=\"%zu\">%zu</b> unhealthy</div>",
            unhealthy ? "fail" : "pass", r->nnr.n_sensors, r->nnr.n_sensors, r->nnr.n_sensors == 1 ? "" : "s",
            unhealthy, unhealthy);
    fprintf(out, "<div class=\"card\" id=\"card-fixes\"><b>%zu</b> firewall fix%s</div>", r->n_fixes,
            r->n_fixes == 1 ? "" : "es");
    fputs("</div>\n", out);
}

static void summary_health(FILE *out, const pw_result *r)
{
    if (!r->nnr.n_sensors)
        return;
    fputs("<ul class=\"health\">", out);
    for (size_t i = 0; i < r->nnr.n_sensors; i++) {
        const pw_res_nnr_sensor *s = &r->nnr.sensors[i];
        fprintf(out, "<li data-sensor=\"");
        pw_html_addr(out, &s->sensor);
        fprintf(out, "\"><span class=\"badge %s\">%s</span> sensor ", s->n_alerts ? "fail" : "pass",
                s->n_alerts ? "\xe2\x9c\x95 unhealthy" : "\xe2\x9c\x93 healthy");
        pw_html_addr(out, &s->sensor);
        fputs(": ", out);
        for (int m = 0; m < PW_NNR_METHOD_COUNT; m++) {
            const pw_res_nnr_mstat *x = &s->methods[m];
            if (x->has_rate)
                fprintf(out, "%s %.0f %%; ", pw_nnr_method_title((pw_nnr_method)m), 100.0 * x->rate);
        }
        for (size_t k = 0; k < s->n_alerts; k++)
            fprintf(out, "<strong>%s alert</strong> ", pw_nnr_method_title(s->alerts[k].method));
        fputs("</li>", out);
    }
    fputs("</ul>\n", out);
}

static void summary(FILE *out, const pw_result *r)
{
    fputs("<section id=\"summary\"><h2>Summary</h2>\n", out);
    summary_cards(out, r);
    fputs("<p><strong>Inputs:</strong> ", out);
    for (size_t i = 0; i < r->n_inputs; i++) {
        fputs(i ? ", " : "", out);
        pw_html_esc(out, r->inputs[i].path);
        fprintf(out, " (%llu packets%s)", (unsigned long long)r->inputs[i].packets,
                r->inputs[i].error[0] ? ", read error" : "");
    }
    fputs("<br><strong>Time span:</strong> ", out);
    span(out, r);
    fputs("</p>\n", out);
    summary_health(out, r);
    fputs("</section>\n", out);
}

/* ---- rules ---------------------------------------------------------------------- */

static void failing_list(FILE *out, const pw_result *r)
{
    fputs("<section id=\"failing\"><h2>Failing required rules</h2>\n", out);
    size_t n = 0;
    for (size_t i = 0; i < r->n_rules; i++) {
        const pw_res_rule *x = &r->rules[i];
        if (!x->failing_required)
            continue;
        fprintf(out, "%s<li data-rule=\"", n++ ? "" : "<ol>");
        pw_html_esc(out, x->id);
        fputs("\">", out);
        badge(out, x->verdict);
        fputs(" <strong>", out);
        pw_html_esc(out, x->profile);
        fputs(" / ", out);
        pw_html_esc(out, x->id);
        fputs("</strong> ", out);
        pw_html_esc(out, x->from);
        fputs(" &rarr; ", out);
        pw_html_esc(out, x->to);
        fprintf(out, " %s/", pw_proto_str(x->proto));
        pw_html_esc(out, x->ports);
        fprintf(out, " &mdash; <a href=\"#rule-%zu\">details</a>", i);
        for (size_t k = 0; k < r->n_fixes; k++)
            if (r->fixes[k].rule == x) {
                fprintf(out, " &middot; <a href=\"#fix-%zu\">how to fix</a>", k);
                break;
            }
        fputs("</li>\n", out);
    }
    fputs(n ? "</ol>" : "<p>None: every required rule that the traffic showed passes.</p>", out);
    fputs("</section>\n", out);
}

static void evidence_cell(FILE *out, const pw_result *r, const pw_res_rule *x)
{
    fputs("<td class=\"evidence\">", out);
    for (size_t i = 0; i < x->n_evidence; i++) {
        const pw_res_evidence *e = &x->evidence[i];
        if (i == 3)
            fprintf(out, "<details><summary>%zu more</summary>", x->n_evidence - 3);
        fprintf(out, "<div class=\"ev\" data-frame=\"%llu\">", (unsigned long long)e->frame);
        pw_html_esc(out, pw_source_name(&r->sources, e->source));
        fprintf(out, " <b>frame %llu</b>: ", (unsigned long long)e->frame);
        pw_html_addr(out, &e->client);
        fputs(" &rarr; ", out);
        pw_html_addr(out, &e->server);
        fprintf(out, ":%u %s (%s)", e->port, pw_outcome_name(e->outcome), e->reason ? e->reason : "-");
        if (e->resp.responder) { /* who refused: the host or a device in the path */
            pw_attempt a;
            char who[320];
            pw_responder_load(&e->resp, &e->server, &a);
            fputs("<br><span class=\"who\">", out);
            pw_html_esc(out, pw_responder_sentence(&a, who, sizeof who));
            fputs("</span>", out);
        }
        fputs("</div>", out);
    }
    if (x->n_evidence > 3)
        fputs("</details>", out);
    if (!x->n_evidence)
        fputs("-", out);
    fputs("</td>", out);
}

static void sides_cell(FILE *out, const pw_res_side *v, size_t n)
{
    fputs("<td>", out);
    for (size_t i = 0; i < n && i < 16; i++) {
        fprintf(out, "<div class=\"side %s\">", pw_verdict_name(v[i].verdict));
        pw_html_addr(out, &v[i].ip);
        fprintf(out, " %s %s (%llu)</div>", verdict_symbol(v[i].verdict), pw_verdict_name(v[i].verdict),
                (unsigned long long)v[i].attempts);
    }
    if (n > 16)
        fprintf(out, "<div>and %zu more</div>", n - 16);
    if (!n)
        fputs("-", out);
    fputs("</td>", out);
}

static void rule_row(FILE *out, const pw_result *r, size_t i)
{
    const pw_res_rule *x = &r->rules[i];
    fprintf(out, "<tr id=\"rule-%zu\" class=\"%s\" data-verdict=\"%s\" data-profile=\"", i, pw_verdict_name(x->verdict),
            pw_verdict_name(x->verdict));
    pw_html_esc(out, x->profile);
    fputs("\" data-rule=\"", out);
    pw_html_esc(out, x->id);
    fputs("\"><td>", out);
    badge(out, x->verdict);
    fprintf(out, "%s</td><td><b>", x->required ? "<br><span class=\"dim\">required</span>" : "");
    pw_html_esc(out, x->id);
    fputs("</b><br><span class=\"dim\">", out);
    pw_html_esc(out, x->profile);
    fputs("</span><br>", out);
    pw_html_esc(out, x->description);
    fputs("</td><td>", out);
    pw_html_esc(out, x->from);
    fputs(" &rarr; ", out);
    pw_html_esc(out, x->to);
    fprintf(out, "<br>%s/", pw_proto_str(x->proto));
    pw_html_esc(out, x->ports);
    fputs("</td><td>", out);
    counts(out, x->counts);
    fputs("</td>", out);
    sides_cell(out, x->servers, x->n_servers);
    evidence_cell(out, r, x);
    fputs("<td>", out);
    if (x->proof_needed.id)
        pw_html_msg(out, &x->proof_needed, &r->sources);
    else
        pw_html_esc(out, x->remediation);
    fputs("</td></tr>\n", out);
}

static void select_of(FILE *out, const char *id, const char *label, const char *const *values, size_t n)
{
    fprintf(out, "<label>%s <select id=\"%s\"><option value=\"\">all</option>", label, id);
    for (size_t i = 0; i < n; i++) {
        fputs("<option>", out);
        pw_html_esc(out, values[i]);
        fputs("</option>", out);
    }
    fputs("</select></label> ", out);
}

static void rules_table(FILE *out, const pw_result *r)
{
    if (!r->n_rules)
        return;
    const char *verdicts[PW_VERDICT_COUNT], **profiles = calloc(r->n_profiles + 1, sizeof *profiles);
    for (int v = 0; v < PW_VERDICT_COUNT; v++)
        verdicts[v] = pw_verdict_name((pw_verdict)v);
    for (size_t i = 0; profiles && i < r->n_profiles; i++)
        profiles[i] = r->profiles[i].name;
    fputs("<section id=\"rules\"><h2>Port policy rules</h2>\n<p class=\"filters noprint\">", out);
    select_of(out, "f-verdict", "verdict", verdicts, PW_VERDICT_COUNT);
    select_of(out, "f-profile", "profile", profiles, profiles ? r->n_profiles : 0);
    free(profiles);
    fputs("</p>\n<table id=\"rules-table\" class=\"wide\"><colgroup><col style=\"width:9%\"><col style=\"width:17%\">"
          "<col style=\"width:12%\"><col style=\"width:10%\"><col style=\"width:14%\"><col style=\"width:18%\">"
          "<col style=\"width:20%\"></colgroup>\n<thead><tr><th>verdict</th><th>rule</th><th>flow</th><th>counts</th>"
          "<th>servers</th><th>evidence (file, frame)</th><th>remediation</th></tr></thead><tbody>\n",
          out);
    for (size_t i = 0; i < r->n_rules; i++)
        rule_row(out, r, i);
    fputs("</tbody></table></section>\n", out);
}

/* ---- fixes ---------------------------------------------------------------------- */

static void fix_article(FILE *out, const pw_result *r, size_t i)
{
    const pw_res_fix *f = &r->fixes[i];
    pw_sbuf b = {0};
    fprintf(out, "<article class=\"fix %s\" id=\"fix-%zu\" data-rule=\"", pw_fix_cause_name(f->cause), i);
    pw_html_esc(out, f->rule->id);
    fputs("\" data-server=\"", out);
    pw_html_addr(out, &f->server);
    fprintf(out, "\" data-cause=\"%s\"><h3>", pw_fix_cause_name(f->cause));
    badge(out, f->rule->verdict);
    fputs(" ", out);
    pw_html_esc(out, f->rule->profile);
    fputs(" / ", out);
    pw_html_esc(out, f->rule->id);
    fputs(" &mdash; server ", out);
    pw_html_addr(out, &f->server);
    fprintf(out, " %s/", pw_proto_str(f->proto));
    pw_fix_ports(&b, f, PW_PORTS_SEEN);
    esc_sb(out, &b);
    fputs("</h3><p class=\"why\">", out);
    pw_fix_cause_render(&b, f);
    esc_sb(out, &b);
    if (f->failed) {
        fputs(" <span class=\"dim\">Evidence: ", out);
        pw_html_esc(out, pw_source_name(&r->sources, f->source));
        fprintf(out, " frame %llu.</span>", (unsigned long long)f->frame);
    }
    fputs("</p>", out);
    if (f->cause != PW_FIX_PATH_REFUSED) {
        fprintf(out, "<p class=\"dim\">Windows firewall on %s (PowerShell, elevated):</p><pre class=\"ps\">",
                f->dir == PW_FIX_INBOUND ? "the server" : "the clients");
        pw_fix_powershell(&b, f);
        esc_sb(out, &b);
        fputs("</pre><p class=\"dim\">or netsh:</p><pre class=\"netsh\">", out);
        pw_fix_netsh(&b, f);
        esc_sb(out, &b);
        fputs("</pre>", out);
    }
    fputs("</article>\n", out);
}

static void allow_rows(FILE *out, const pw_result *r)
{
    fputs("<h3>Network firewall allow-list</h3><table class=\"allow\"><thead><tr><th>source</th><th>destination</th>"
          "<th>protocol</th><th>port</th><th>rule</th></tr></thead><tbody>\n",
          out);
    for (size_t i = 0; i < r->n_fixes; i++) {
        const pw_res_fix *f = &r->fixes[i];
        for (int k = 0; k < f->n_clients; k++) {
            pw_sbuf b = {0};
            fputs("<tr><td>", out);
            pw_html_addr(out, &f->clients[k]);
            fputs("</td><td>", out);
            pw_html_addr(out, &f->server);
            fprintf(out, "</td><td>%s</td><td>", pw_proto_str(f->proto));
            pw_fix_ports(&b, f, PW_PORTS_NETWORK);
            esc_sb(out, &b);
            fputs("</td><td>", out);
            pw_html_esc(out, f->rule->profile);
            fputs(" / ", out);
            pw_html_esc(out, f->rule->id);
            fputs("</td></tr>\n", out);
        }
    }
    fputs("</tbody></table>\n", out);
}

static void fixes_section(FILE *out, const pw_result *r)
{
    fputs("<section id=\"fixes\"><h2>Firewall changes that would fix each failure</h2>\n", out);
    if (!r->n_fixes) {
        fputs("<p>No failed or partial rule: nothing to fix.</p></section>\n", out);
        return;
    }
    fputs("<p class=\"dim\">Generated from the addresses the capture saw; review before applying. "
          "<code>--format fix</code> writes them as a PowerShell script that changes nothing by itself.</p>\n",
          out);
    for (size_t i = 0; i < r->n_fixes; i++)
        fix_article(out, r, i);
    allow_rows(out, r);
    fputs("</section>\n", out);
}

/* ---- timeline -------------------------------------------------------------------- */

/* Attempts by outcome over capture time: one stacked column per bucket,
 * each part with its outcome and count (and a tooltip saying them). */
static void timeline_svg(FILE *out, const pw_timeline *t)
{
    uint64_t max = 1;
    for (int i = 0; i < t->n; i++) {
        uint64_t sum = 0;
        for (int o = PW_OUT_ANSWERED; o < PW_OUT_COUNT; o++)
            sum += t->counts[i][o];
        if (sum > max)
            max = sum;
    }
    const int left = 50, plot_w = 960, plot_h = 140, top = 10;
    double col = (double)plot_w / (t->n > 0 ? t->n : 1);
    fprintf(out, "<svg class=\"chart timeline\" role=\"img\" viewBox=\"0 0 1020 190\" width=\"1020\" height=\"190\" "
                 "aria-label=\"attempts by outcome over capture time\">\n");
    fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"axis\" text-anchor=\"end\">%llu</text>"
                 "<text x=\"%d\" y=\"%d\" class=\"axis\" text-anchor=\"end\">0</text>",
            left - 4, top + 10, (unsigned long long)max, left - 4, top + plot_h);
    for (int i = 0; i < t->n; i++) {
        double y = top + plot_h;
        for (int o = PW_OUT_ANSWERED; o < PW_OUT_COUNT; o++) {
            uint64_t c = t->counts[i][o];
            if (!c)
                continue;
            double h = (double)plot_h * (double)c / (double)max;
            y -= h;
            fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"t-%s\" "
                         "data-outcome=\"%s\" data-count=\"%llu\"><title>+%.0f s: %s %llu</title></rect>",
                    left + i * col, y, col > 2 ? col - 1 : col, h, pw_outcome_name((pw_outcome)o),
                    pw_outcome_name((pw_outcome)o), (unsigned long long)c, (double)(i * t->width) / 1e6,
                    pw_outcome_name((pw_outcome)o), (unsigned long long)c);
        }
    }
    fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"axis\">+0 s</text><text x=\"%d\" y=\"%d\" class=\"axis\" "
                 "text-anchor=\"end\">+%.0f s (%.0f s per column)</text>",
            left, top + plot_h + 16, left + plot_w, top + plot_h + 16, (double)(t->n * t->width) / 1e6,
            (double)t->width / 1e6);
    int lx = left;
    for (int o = PW_OUT_ANSWERED; o < PW_OUT_COUNT; o++, lx += 150)
        fprintf(out, "<rect x=\"%d\" y=\"172\" width=\"14\" height=\"14\" class=\"t-%s\"/>"
                     "<text x=\"%d\" y=\"184\" class=\"lbl\">%s</text>",
                lx, pw_outcome_name((pw_outcome)o), lx + 18, pw_outcome_name((pw_outcome)o));
    fputs("</svg>\n", out);
}

static void timeline_section(FILE *out, const pw_result *r)
{
    if (!r->timeline.started)
        return;
    fputs("<section id=\"timeline\"><h2>Attempts over capture time</h2>\n", out);
    timeline_svg(out, &r->timeline);
    fputs("<p class=\"dim\">+0 s is ", out);
    utc(out, r->timeline.start);
    fputs("; each column stacks the attempts started in it by outcome.</p>", out);
    fputs("</section>\n", out);
}

/* ---- services and names ----------------------------------------------------------- */

static void services_table(FILE *out, const pw_result *r)
{
    if (!r->n_services)
        return;
    fputs("<section id=\"services\"><h2>Services</h2>\n<p class=\"filters noprint\"><label>filter "
          "<input id=\"f-services\" type=\"search\" placeholder=\"address, port, outcome\"></label> "
          "<span class=\"dim\">click a column heading to sort</span></p>\n"
          "<table id=\"services-table\" class=\"wide sortable\"><thead><tr><th data-type=\"ip\">server</th>"
          "<th>proto</th><th data-type=\"num\">port</th><th>outcome</th><th>counts</th><th data-type=\"num\">clients</th>"
          "<th data-type=\"num\">first frame</th><th>file</th></tr></thead><tbody>\n",
          out);
    for (size_t i = 0; i < r->n_services; i++) {
        const pw_res_service *s = &r->services[i];
        fprintf(out, "<tr class=\"%s\"><td>", pw_outcome_name(s->outcome));
        pw_html_addr(out, &s->server);
        fprintf(out, "</td><td>%s</td><td>%u</td><td>%s</td><td>", pw_proto_str(s->proto), s->port,
                pw_outcome_name(s->outcome));
        counts(out, s->counts);
        fprintf(out, "</td><td>%u%s</td><td>%llu</td><td>", s->clients, s->clients_at_least ? "+" : "",
                (unsigned long long)s->first_frame);
        pw_html_esc(out, pw_source_name(&r->sources, s->source));
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody></table></section>\n", out);
}

static void hosts_table(FILE *out, const pw_result *r)
{
    if (!r->n_hosts)
        return;
    fputs("<section id=\"hosts\"><h2>Host names learned</h2><table class=\"wide\"><thead><tr><th>address</th>"
          "<th>names (source, frame)</th><th>conflict</th></tr></thead><tbody>\n",
          out);
    for (size_t i = 0; i < r->n_hosts; i++) {
        const pw_res_host *h = &r->hosts[i];
        fputs("<tr><td>", out);
        if (h->target)
            pw_html_esc(out, h->target);
        else
            pw_html_addr(out, &h->ip);
        fputs("</td><td>", out);
        for (size_t j = 0; j < h->n_names; j++) {
            fputs(j ? "<br>" : "", out);
            pw_html_esc(out, h->names[j].name);
            fprintf(out, " (%s, frame %llu%s)", pw_name_source_str(h->names[j].src),
                    (unsigned long long)h->names[j].frame, h->names[j].midstream ? ", mid-stream" : "");
        }
        fprintf(out, "</td><td>%s</td></tr>\n", h->conflict ? "yes" : "no");
    }
    fputs("</tbody></table></section>\n", out);
}

/* ---- the page ------------------------------------------------------------------- */

static const char css[] =
    "*{box-sizing:border-box}body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;padding:1em 1.5em;"
    "max-width:1400px;color:#1a1a1a}h1{margin:.2em 0}h2{border-bottom:2px solid #333;padding-bottom:.2em;"
    "margin-top:1.6em}nav a{margin-right:1em}table{border-collapse:collapse;margin-bottom:1em}"
    "table.wide{width:100%;table-layout:fixed}td,th{border:1px solid #bbb;padding:3px 6px;vertical-align:top;"
    "text-align:left;overflow-wrap:anywhere}th{background:#eee}.dim{color:#555;font-size:90%}"
    ".cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:2px solid #888;border-radius:6px;padding:.6em 1em;"
    "font-size:110%}.card b{font-size:160%}.card.fail{border-color:#b3261e;border-width:4px;border-style:double}"
    ".badge{display:inline-block;border-radius:4px;padding:0 .4em;font-weight:bold;border:1px solid #333;"
    "white-space:nowrap}.badge.pass{background:#cfe3f7}.badge.fail{background:#f6c2b3;border-style:dashed}"
    ".badge.partial{background:#fbe3a0;border-style:dotted}.badge.unobserved{background:#eee}"
    ".badge.indeterminate{background:#e4d8f0}.health{list-style:none;padding:0}.health li{margin:.3em 0}"
    ".alert{border-left:6px double #b3261e;background:#fdf0ec;padding:.4em .8em;margin:.5em 0}"
    "svg.chart{max-width:100%;height:auto}svg .lbl,svg .val,svg .axis{font:12px system-ui,sans-serif}"
    "svg .track{fill:#f0f0f0;stroke:#999}svg .bar-ok{fill:#0072b2}svg .bar-alert{fill:url(#hatch)}"
    "svg .t-answered{fill:#0072b2}svg .t-refused{fill:url(#p-refused)}svg .t-blocked{fill:url(#p-blocked)}"
    "svg .t-unanswered{fill:#9a9a9a}svg .t-indeterminate{fill:#e69f00}"
    "svg .alertline{stroke:#b3261e;stroke-width:2;stroke-dasharray:5 3}"
    "table.matrix th,table.matrix td{min-width:9em}.cell{font-weight:500}.cell .sym{font-weight:bold}"
    ".cell.resolved{background:#cfe3f7}.cell.appfail{background:#fbe3a0}"
    ".cell.refused{background:repeating-linear-gradient(45deg,#f6c2b3 0 6px,#fbe0d6 6px 12px)}"
    ".cell.blocked{background:repeating-linear-gradient(-45deg,#e8b7d4 0 4px,#f6e1ee 4px 8px)}"
    ".cell.unanswered{background:repeating-linear-gradient(90deg,#ddd 0 3px,#f4f4f4 3px 9px)}"
    ".cell.indeterminate{background:#e4d8f0}.cell.none{color:#777}.legend .cell{padding:2px 6px;margin-right:.4em;"
    "border:1px solid #999}details summary{cursor:pointer}.more{font-size:90%;margin-top:.3em}"
    "tr.fail td:first-child,tr.partial td:first-child{border-left:5px solid #b3261e}"
    ".side.fail,.side.partial{font-weight:bold}.ev{margin-bottom:.2em}"
    "pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f5f5f5;border:1px solid #ccc;padding:.5em}"
    "article.fix{border:1px solid #aaa;border-radius:6px;padding:0 1em .5em;margin:.8em 0}"
    "article.fix.path-refused{border-left:6px double #b3261e}th.sorted-asc::after{content:' \\25B2'}"
    "th.sorted-desc::after{content:' \\25BC'}.sortable th{cursor:pointer}"
    "@media print{.noprint,nav{display:none}details{display:block}body{max-width:none}"
    "tr,article{break-inside:avoid}}";

static const char script[] =
    "(function(){\n"
    "function $(id){return document.getElementById(id);}\n"
    "function filterRules(){var v=$('f-verdict'),p=$('f-profile');if(!v)return;\n"
    " document.querySelectorAll('#rules-table tbody tr').forEach(function(tr){\n"
    "  var ok=(!v.value||tr.dataset.verdict===v.value)&&(!p.value||tr.dataset.profile===p.value);\n"
    "  tr.hidden=!ok;});}\n"
    "['f-verdict','f-profile'].forEach(function(id){var e=$(id);if(e)e.addEventListener('change',filterRules);});\n"
    "var fs=$('f-services');if(fs)fs.addEventListener('input',function(){var q=fs.value.toLowerCase();\n"
    " document.querySelectorAll('#services-table tbody tr').forEach(function(tr){\n"
    "  tr.hidden=q!==''&&tr.textContent.toLowerCase().indexOf(q)<0;});});\n"
    "function key(td,type){var t=td.textContent.trim();if(type==='num')return parseFloat(t)||0;\n"
    " if(type==='ip'&&t.indexOf(':')<0)return t.split('.').map(function(x){return ('00'+x).slice(-3);}).join('.');\n"
    " return t.toLowerCase();}\n"
    "document.querySelectorAll('table.sortable').forEach(function(tb){\n"
    " tb.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){\n"
    "  var asc=!th.classList.contains('sorted-asc');tb.querySelectorAll('th').forEach(function(h){\n"
    "   h.classList.remove('sorted-asc','sorted-desc');});th.classList.add(asc?'sorted-asc':'sorted-desc');\n"
    "  var body=tb.tBodies[0],rows=Array.prototype.slice.call(body.rows),type=th.dataset.type;\n"
    "  rows.sort(function(a,b){var x=key(a.cells[i],type),y=key(b.cells[i],type);\n"
    "   return (x<y?-1:x>y?1:0)*(asc?1:-1);});rows.forEach(function(r){body.appendChild(r);});});});});\n"
    "window.addEventListener('beforeprint',function(){\n"
    " document.querySelectorAll('details').forEach(function(d){d.open=true;});});\n"
    "})();\n";

void pw_html_write(FILE *out, const pw_result *r)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
          "script-src 'unsafe-inline'; img-src data:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
          "<title>portwitness report</title>\n<style>",
          out);
    fputs(css, out);
    fputs("</style></head><body>\n"
          "<svg width=\"0\" height=\"0\" style=\"position:absolute\" aria-hidden=\"true\"><defs>"
          "<pattern id=\"hatch\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
          "patternTransform=\"rotate(45)\"><rect width=\"8\" height=\"8\" fill=\"#f6c2b3\"/>"
          "<rect width=\"3\" height=\"8\" fill=\"#b3261e\"/></pattern>"
          "<pattern id=\"p-refused\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
          "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#f0a07a\"/>"
          "<rect width=\"2\" height=\"6\" fill=\"#d55e00\"/></pattern>"
          "<pattern id=\"p-blocked\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
          "patternTransform=\"rotate(-45)\"><rect width=\"6\" height=\"6\" fill=\"#e8b7d4\"/>"
          "<rect width=\"2\" height=\"6\" fill=\"#a0457a\"/></pattern></defs></svg>\n"
          "<header><h1>portwitness report</h1><nav class=\"noprint\"><a href=\"#summary\">summary</a>"
          "<a href=\"#failing\">failing rules</a><a href=\"#nnr\">NNR</a><a href=\"#rules\">rules</a>"
          "<a href=\"#fixes\">fixes</a><a href=\"#timeline\">timeline</a><a href=\"#services\">services</a><a href=\"#hosts\">names</a></nav></header>\n",
          out);
    summary(out, r);
    failing_list(out, r);
    pw_html_nnr(out, r);
    rules_table(out, r);
    fixes_section(out, r);
    timeline_section(out, r);
    services_table(out, r);
    hosts_table(out, r);
    fputs("<script>", out);
    fputs(script, out);
    fputs("</script>\n</body></html>\n", out);
}
