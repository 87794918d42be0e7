/* html_nnr.c - the NNR part of the HTML page: per sensor, the success rate
 * of each method as an SVG bar chart against the alert line, then the
 * target x method matrix, each cell showing the name learned or the cause,
 * its category as a class (colour, pattern and a symbol: never colour
 * alone) and its frames on expand. */
#include "html.h"

#include "report.h"

/* The matrix categories, in the legend's order. */
typedef enum cell_cat { CAT_RESOLVED = 0, CAT_APPFAIL, CAT_REFUSED, CAT_BLOCKED, CAT_UNANSWERED, CAT_INDETERMINATE,
                        CAT_COUNT } cell_cat;

static const char *const cat_key[CAT_COUNT] = {"resolved", "appfail", "refused", "blocked", "unanswered",
                                               "indeterminate"};
static const char *const cat_title[CAT_COUNT] = {"resolved", "application failure", "refused", "blocked",
                                                 "unanswered", "indeterminate"};
static const char *const cat_symbol[CAT_COUNT] = {"\xe2\x9c\x93", "!", "\xe2\x9c\x95", "\xe2\x8a\x98",
                                                  "\xe2\x80\xa6", "?"};

static cell_cat cat_of(const pw_res_nnr_try *t)
{
    if (t->result == PW_NNR_R_RESOLVED)
        return CAT_RESOLVED;
    switch (t->outcome) {
    case PW_OUT_ANSWERED: return CAT_APPFAIL;
    case PW_OUT_REFUSED: return CAT_REFUSED;
    case PW_OUT_BLOCKED: return CAT_BLOCKED;
    case PW_OUT_UNANSWERED: return CAT_UNANSWERED;
    default: return CAT_INDETERMINATE;
    }
}

static const pw_res_nnr_alert *alert_of(const pw_res_nnr_sensor *s, int m)
{
    for (size_t k = 0; k < s->n_alerts; k++)
        if (s->alerts[k].method == (pw_nnr_method)m)
            return &s->alerts[k];
    return NULL;
}

/* Horizontal bars of the success rate per method, 0-100 %, with the line
 * under which the failure share raises Defender's alert. */
static void chart(FILE *out, const pw_result *r, const pw_res_nnr_sensor *s)
{
    const int left = 130, width = 420, bar = 22, gap = 10, top = 26;
    int h = top + PW_NNR_METHOD_COUNT * (bar + gap) + 16;
    double line = 100.0 * (1.0 - r->nnr.alert_threshold);
    int lx = left + (int)(width * line / 100.0);
    fprintf(out, "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 680 %d\" width=\"680\" height=\"%d\" "
                 "aria-label=\"success rate per method\">\n", h, h);
    fprintf(out, "<text x=\"%d\" y=\"14\" class=\"axis\">0 %%</text><text x=\"%d\" y=\"14\" class=\"axis\" "
                 "text-anchor=\"end\">100 %%</text>\n", left, left + width);
    for (int m = 0; m < PW_NNR_METHOD_COUNT; m++) {
        const pw_res_nnr_mstat *x = &s->methods[m];
        int y = top + m * (bar + gap);
        bool alert = alert_of(s, m) != NULL;
        int w = x->has_rate ? (int)(width * x->rate + 0.5) : 0;
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" class=\"lbl\">%s</text>", left - 8, y + 16,
                pw_nnr_method_title((pw_nnr_method)m));
        fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"track\"/>", left, y, width, bar);
        fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"bar %s\" data-method=\"%s\"/>",
                left, y, w, bar, alert ? "bar-alert" : "bar-ok", pw_nnr_method_key((pw_nnr_method)m));
        if (x->has_rate)
            fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"val\">%.0f %% (%u/%u)%s</text>\n", left + width + 8,
                    y + 16, 100.0 * x->rate, x->resolved, x->attempted, alert ? " \xe2\x9a\xa0 alert" : "");
        else
            fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"val\">not tried</text>\n", left + width + 8, y + 16);
    }
    fprintf(out, "<line x1=\"%d\" y1=\"20\" x2=\"%d\" y2=\"%d\" class=\"alertline\"/>"
                 "<text x=\"%d\" y=\"%d\" class=\"axis\">alert line: more than %.0f %% failing</text></svg>\n",
            lx, lx, h - 12, lx + 4, h - 2, 100.0 * r->nnr.alert_threshold);
}

static void cell(FILE *out, const pw_result *r, const pw_res_nnr_target *t, int m)
{
    if (!t->tried[m]) {
        fputs("<td class=\"cell none\" data-cat=\"none\">not tried</td>", out);
        return;
    }
    const pw_res_nnr_try *x = &t->m[m];
    cell_cat c = cat_of(x);
    fprintf(out, "<td class=\"cell %s\" data-cat=\"%s\" data-method=\"%s\" data-result=\"%s\" data-frames=\"",
            cat_key[c], cat_key[c], pw_nnr_method_key((pw_nnr_method)m), pw_nnr_result_name(x->result));
    for (int k = 0; k < x->nframes; k++)
        fprintf(out, "%s%llu", k ? "," : "", (unsigned long long)x->frames[k]);
    fputs("\"", out);
    if (x->name) {
        fputs(" data-name=\"", out);
        pw_html_esc(out, x->name);
        fputs("\"", out);
    }
    fprintf(out, "><details><summary><span class=\"sym\" aria-hidden=\"true\">%s</span> ", cat_symbol[c]);
    pw_html_esc(out, x->name ? x->name : pw_nnr_result_name(x->result));
    fputs("</summary><div class=\"more\">", out);
    pw_msg detail = pw_res_nnr_detail((pw_nnr_method)m, x);
    pw_html_msg(out, &detail, &r->sources);
    fputs("<br>", out);
    pw_html_esc(out, pw_source_name(&r->sources, x->source));
    fputs(x->nframes > 1 ? " frames " : " frame ", out);
    for (int k = 0; k < x->nframes; k++)
        fprintf(out, "%s%llu", k ? ", " : "", (unsigned long long)x->frames[k]);
    fputs("</div></details></td>", out);
}

static void legend(FILE *out)
{
    fputs("<p class=\"legend\">", out);
    for (int c = 0; c < CAT_COUNT; c++)
        fprintf(out, "<span class=\"cell %s\"><span class=\"sym\" aria-hidden=\"true\">%s</span> %s</span> ",
                cat_key[c], cat_symbol[c], cat_title[c]);
    fputs("</p>\n", out);
}

static void matrix(FILE *out, const pw_result *r, const pw_res_nnr_sensor *s)
{
    fputs("<table class=\"matrix\"><thead><tr><th>target</th>", out);
    for (int m = 0; m < PW_NNR_METHOD_COUNT; m++)
        fprintf(out, "<th>%s</th>", pw_nnr_method_title((pw_nnr_method)m));
    fputs("</tr></thead><tbody>\n", out);
    for (size_t i = 0; i < r->nnr.n_targets; i++) {
        const pw_res_nnr_target *t = &r->nnr.targets[i];
        if (!pw_addr_eq(&t->sensor, &s->sensor))
            continue;
        fputs("<tr data-target=\"", out);
        pw_html_addr(out, &t->target);
        fputs("\"><th scope=\"row\">", out);
        pw_html_addr(out, &t->target);
        if (t->name) {
            fputs("<br><span class=\"dim\">", out);
            pw_html_esc(out, t->name);
            fputs("</span>", out);
        }
        fputs("</th>", out);
        for (int m = 0; m < PW_NNR_METHOD_COUNT; m++)
            cell(out, r, t, m);
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

static void alerts(FILE *out, const pw_result *r, const pw_res_nnr_sensor *s)
{
    for (size_t k = 0; k < s->n_alerts; k++) {
        const pw_res_nnr_alert *al = &s->alerts[k];
        fprintf(out, "<div class=\"alert\" data-method=\"%s\"><strong>\xe2\x9a\xa0 %s: </strong>",
                pw_nnr_method_key(al->method), pw_nnr_method_title(al->method));
        pw_html_msg(out, &al->message, &r->sources);
        fputs("<br><strong>Fix: </strong>", out);
        pw_html_msg(out, &al->remediation, &r->sources);
        fputs("<br><span class=\"dim\">Example frames: ", out);
        for (size_t e = 0; e < al->n_examples; e++)
            fprintf(out, "%s%llu", e ? ", " : "", (unsigned long long)al->examples[e].frame);
        fputs("</span></div>\n", out);
    }
}

void pw_html_nnr(FILE *out, const pw_result *r)
{
    if (!r->nnr.n_sensors)
        return;
    fputs("<section id=\"nnr\"><h2>Network Name Resolution per sensor</h2>\n", out);
    legend(out);
    for (size_t i = 0; i < r->nnr.n_sensors; i++) {
        const pw_res_nnr_sensor *s = &r->nnr.sensors[i];
        fputs("<div class=\"sensor\" data-sensor=\"", out);
        pw_html_addr(out, &s->sensor);
        fprintf(out, "\" data-health=\"%s\"><h3>Sensor ", s->n_alerts ? "unhealthy" : "healthy");
        pw_html_addr(out, &s->sensor);
        fprintf(out, " <span class=\"badge %s\">%s</span> <span class=\"dim\">(%s; %u targets, %u resolved)</span></h3>\n",
                s->n_alerts ? "fail" : "pass", s->n_alerts ? "\xe2\x9c\x95 unhealthy" : "\xe2\x9c\x93 healthy",
                s->found_by_option ? "given with --sensor" : "inferred from traffic", s->targets, s->resolved);
        alerts(out, r, s);
        chart(out, r, s);
        matrix(out, r, s);
        fputs("</div>\n", out);
    }
    fputs("</section>\n", out);
}
