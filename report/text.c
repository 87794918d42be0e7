/* text.c - the default human-readable report, rendered from the result.
 * Order: what the user came for first (NNR per sensor and per target, then
 * failing required rules), then every rule, services and host names. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "../analysis/policy_internal.h"
#include "messages.h"

/* A rate as "42%", or "-" when nothing was attempted. */
static const char *pct(bool has, double rate, char *buf, size_t len)
{
    if (!has)
        return "-";
    snprintf(buf, len, "%.0f%%", 100.0 * rate);
    return buf;
}

static const char *ip_str(const pw_addr *a, char *buf)
{
    return pw_addr_str(a, buf, PW_ADDR_STRLEN);
}

static void rule_line(FILE *out, const char *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fputs(c, out);
    fputc('\n', out);
}

static void heading(FILE *out, const char *title)
{
    fprintf(out, "\n%s\n", title);
    rule_line(out, "=", strlen(title));
}

/* Writes a message, then a newline. */
static void msg_line(FILE *out, const char *lead, const pw_msg *m, const pw_sources *srcs)
{
    pw_sbuf b = {0};
    pw_msg_render(&b, m, srcs);
    fprintf(out, "%s%s\n", lead, pw_sb_str(&b));
    pw_sb_free(&b);
}

/* ---- NNR -------------------------------------------------------------------- */

static void frames_str(const pw_res_nnr_alert *al, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < al->n_examples && used + 24 < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%llu", i ? "," : "",
                                 (unsigned long long)al->examples[i].frame);
}

static void write_alert(FILE *out, const pw_result *r, const pw_res_nnr_alert *al)
{
    char fr[256];
    frames_str(al, fr, sizeof fr);
    fprintf(out, "  ALERT [%s] ", pw_nnr_method_key(al->method));
    msg_line(out, "", &al->message, &r->sources);
    msg_line(out, "    Fix: ", &al->remediation, &r->sources);
    fprintf(out, "    Example frames: %s\n", fr[0] ? fr : "-");
}

static void write_sensor(FILE *out, const pw_result *r, const pw_res_nnr_sensor *s)
{
    char rb[16], ip[PW_ADDR_STRLEN];
    fprintf(out, "\nSensor %s (%s): %u targets, %u resolved by at least one method (%s)\n", ip_str(&s->sensor, ip),
            s->found_by_option ? "option" : "inferred", s->targets, s->resolved, pct(s->has_rate, s->rate, rb, sizeof rb));
    fprintf(out, "  %-12s %9s %9s %6s %9s %8s %8s %10s %8s %7s\n", "method", "attempted", "resolved", "rate",
            "answered", "refused", "blocked", "unanswered", "indeterm", "appfail");
    for (int m = 0; m < PW_NNR_METHOD_COUNT; m++) {
        const pw_res_nnr_mstat *x = &s->methods[m];
        fprintf(out, "  %-12s %9u %9u %6s %9u %8u %8u %10u %8u %7u\n", pw_nnr_method_key((pw_nnr_method)m),
                x->attempted, x->resolved, pct(x->has_rate, x->rate, rb, sizeof rb), x->out[PW_OUT_ANSWERED],
                x->out[PW_OUT_REFUSED], x->out[PW_OUT_BLOCKED], x->out[PW_OUT_UNANSWERED],
                x->out[PW_OUT_INDETERMINATE], x->app_failed);
    }
    for (size_t j = 0; j < s->n_alerts; j++)
        write_alert(out, r, &s->alerts[j]);
}

static void write_target(FILE *out, const pw_res_nnr_target *t)
{
    char who[128], ip[PW_ADDR_STRLEN], ip2[PW_ADDR_STRLEN];
    snprintf(who, sizeof who, "%s / %s", ip_str(&t->sensor, ip), t->name ? t->name : "-");
    fprintf(out, "%-16s %-40s", ip_str(&t->target, ip2), who);
    for (int m = 0; m < PW_NNR_METHOD_COUNT; m++) {
        char cell[128] = "-";
        if (t->tried[m])
            snprintf(cell, sizeof cell, "%s:%s", pw_outcome_name(t->m[m].outcome), pw_nnr_result_name(t->m[m].result));
        fprintf(out, " %-24s", cell);
    }
    fputc('\n', out);
}

static void write_nnr(FILE *out, const pw_result *r)
{
    if (!r->nnr.n_sensors)
        return;
    heading(out, "Network name resolution (NNR) per sensor");
    for (size_t i = 0; i < r->nnr.n_sensors; i++)
        write_sensor(out, r, &r->nnr.sensors[i]);
    if (!r->nnr.n_targets)
        return;
    heading(out, "NNR per target");
    fprintf(out, "%-16s %-40s %-24s %-24s %-24s %-24s %s\n", "target", "sensor / name",
            pw_nnr_method_key(PW_NNR_NTLM_RPC), pw_nnr_method_key(PW_NNR_NETBIOS), pw_nnr_method_key(PW_NNR_RDP),
            pw_nnr_method_key(PW_NNR_REVERSE_DNS), "");
    for (size_t i = 0; i < r->nnr.n_targets; i++)
        write_target(out, &r->nnr.targets[i]);
}

/* ---- rules ------------------------------------------------------------------ */

static void write_rule(FILE *out, const pw_result *r, const pw_res_rule *x)
{
    char c[PW_ADDR_STRLEN], s[PW_ADDR_STRLEN];
    fprintf(out, "  [%s] %s %s %s/%s %s -> %s%s\n", pw_verdict_name(x->verdict), x->profile, x->id,
            pw_proto_str(x->proto), x->ports, x->from, x->to, x->required ? "" : " (optional)");
    fprintf(out, "      %s\n", x->description ? x->description : "-");
    if (x->app.h2_tls)
        fprintf(out, "      %s (%llu connection%s)\n", pw_msg_h2_tls(), (unsigned long long)x->app.h2_tls,
                x->app.h2_tls == 1 ? "" : "s");
    if (x->app.ok || x->app.failed) {
        fprintf(out, "      %s: %llu ok, %llu failed", x->app.name[0] ? x->app.name : "application",
                (unsigned long long)x->app.ok, (unsigned long long)x->app.failed);
        for (uint8_t i = 0; i < x->app.n_codes && i < PW_APP_CODES; i++)
            fprintf(out, "%s%s x%u", i ? ", " : " (", x->app.codes[i].code, (unsigned)x->app.codes[i].n);
        fprintf(out, "%s%s\n", x->app.n_codes ? ")" : "",
                x->cause == PW_CAUSE_APPLICATION ? ": the port answers, the application fails" : "");
    }
    for (size_t i = 0; i < x->n_evidence && i < 3; i++) {
        const pw_res_evidence *e = &x->evidence[i];
        fprintf(out, "      evidence: %s frame %llu: %s -> %s:%u %s (%s)\n", pw_source_name(&r->sources, e->source),
                (unsigned long long)e->frame, ip_str(&e->client, c), ip_str(&e->server, s), e->port,
                pw_outcome_name(e->outcome), e->reason);
        if (e->resp.responder) { /* who refused: the host or a device in the path */
            pw_attempt a;
            char who[320];
            pw_responder_load(&e->resp, &e->server, &a);
            fprintf(out, "        %s\n", pw_responder_sentence(&a, who, sizeof who));
        }
    }
    for (size_t i = 0; i < x->n_notes; i++)
        if (x->notes[i].id == PW_MSG_RULE_ANNOUNCED_UNUSED)
            msg_line(out, "      note: ", &x->notes[i], &r->sources);
    if (x->verdict == PW_VERDICT_UNOBSERVED && x->proof_needed.id)
        msg_line(out, "      to prove: ", &x->proof_needed, &r->sources);
    else if (x->verdict != PW_VERDICT_PASS && x->remediation)
        fprintf(out, "      fix: %s\n", x->remediation);
}

/* Roles and how each was found; the inferred ones with the --role flags
 * that would bind them explicitly. */
static void write_roles(FILE *out, const pw_result *r)
{
    if (!r->n_roles)
        return;
    char ip[PW_ADDR_STRLEN];
    bool inferred = false;
    fprintf(out, "\nRoles:\n");
    for (size_t i = 0; i < r->n_roles; i++) {
        const pw_res_role *x = &r->roles[i];
        char head[200];
        snprintf(head, sizeof head, "  %s %s%s%d (%s): ", x->role, ip_str(&x->net, ip), x->cidr ? "/" : "",
                 x->cidr ? x->prefix : 0, pw_role_how_name(x->how));
        if (!x->cidr)
            snprintf(head, sizeof head, "  %s %s (%s): ", x->role, ip_str(&x->net, ip), pw_role_how_name(x->how));
        msg_line(out, head, &x->why, &r->sources);
        inferred |= x->how != PW_ROLE_BOUND;
    }
    if (!inferred)
        return;
    fprintf(out, "  to bind the inferred roles explicitly:");
    for (size_t i = 0; i < r->n_roles; i++)
        if (r->roles[i].how != PW_ROLE_BOUND && !r->roles[i].cidr)
            fprintf(out, " --role %s=%s", r->roles[i].role, ip_str(&r->roles[i].net, ip));
    fprintf(out, "\n");
}

static void write_rules(FILE *out, const pw_result *r)
{
    if (!r->n_rules)
        return;
    heading(out, "Port policy");
    for (size_t i = 0; i < r->n_profiles; i++) {
        const pw_res_profile *p = &r->profiles[i];
        char lead[1200];
        snprintf(lead, sizeof lead, "profile %s (%s): ", p->name, p->builtin ? "built-in" : p->path);
        msg_line(out, lead, &p->why, &r->sources);
    }
    int failing = 0;
    for (size_t i = 0; i < r->n_rules; i++)
        if (r->rules[i].failing_required) {
            if (!failing++)
                fprintf(out, "\nFailing required rules:\n");
            write_rule(out, r, &r->rules[i]);
        }
    if (!failing)
        fprintf(out, "\nNo required rule fails.\n");
    fprintf(out, "\nAll rules:\n");
    for (size_t i = 0; i < r->n_rules; i++)
        if (!r->rules[i].failing_required)
            write_rule(out, r, &r->rules[i]);
}

/* ---- services, hosts, inputs ------------------------------------------------ */

static void write_services(FILE *out, const pw_result *r)
{
    heading(out, "Services (per server, protocol and port)");
    if (!r->n_services) {
        fprintf(out, "no connection attempts seen\n");
        return;
    }
    fprintf(out, "%-40s %-5s %5s  %-13s %8s %7s %7s %10s %8s %7s %s\n", "server", "proto", "port", "outcome",
            "answered", "refused", "blocked", "unanswered", "indeterm", "clients", "first frame");
    for (size_t i = 0; i < r->n_services; i++) {
        const pw_res_service *s = &r->services[i];
        const uint64_t *c = s->counts;
        char ip[PW_ADDR_STRLEN];
        fprintf(out, "%-40s %-5s %5u  %-13s %8llu %7llu %7llu %10llu %8llu %7u %llu (%s)\n", ip_str(&s->server, ip),
                s->proto == 6 ? "tcp" : "udp", s->port, pw_outcome_name(s->outcome),
                (unsigned long long)c[PW_OUT_ANSWERED], (unsigned long long)c[PW_OUT_REFUSED],
                (unsigned long long)c[PW_OUT_BLOCKED], (unsigned long long)c[PW_OUT_UNANSWERED],
                (unsigned long long)c[PW_OUT_INDETERMINATE], s->clients, (unsigned long long)s->first_frame,
                pw_source_name(&r->sources, s->source));
    }
}

/* Services beyond --max-services, one line per port. */
static void write_folds(FILE *out, const pw_result *r)
{
    if (!r->n_folds)
        return;
    heading(out, "Services beyond the cap, per port (--max-services)");
    for (size_t i = 0; i < r->n_folds; i++) {
        const pw_services_fold *f = &r->folds[i];
        const uint64_t *c = f->counts;
        fprintf(out, "%s/%-5u %llu attempts to %s%u servers: answered %llu, refused %llu, blocked %llu, "
                     "unanswered %llu, indeterminate %llu; frames %llu (%s) .. %llu (%s)\n",
                f->proto == 17 ? "udp" : "tcp", f->port, (unsigned long long)f->attempts,
                f->servers_at_least ? ">=" : "~", f->servers,
                (unsigned long long)c[PW_OUT_ANSWERED], (unsigned long long)c[PW_OUT_REFUSED],
                (unsigned long long)c[PW_OUT_BLOCKED], (unsigned long long)c[PW_OUT_UNANSWERED],
                (unsigned long long)c[PW_OUT_INDETERMINATE], (unsigned long long)f->first_frame,
                pw_source_name(&r->sources, f->first_source), (unsigned long long)f->last_frame,
                pw_source_name(&r->sources, f->last_source));
    }
}

/* Clients summarised as scanners instead of thousands of services. */
static void write_scanners(FILE *out, const pw_result *r)
{
    if (!r->n_scanners)
        return;
    heading(out, "Scanners (clients trying more distinct targets than --scanner-threshold)");
    for (size_t i = 0; i < r->n_scanners; i++) {
        const pw_scanner_row *x = &r->scanners[i];
        const uint64_t *c = x->counts;
        char ip[PW_ADDR_STRLEN];
        fprintf(out, "%s: %llu further attempts to ~%u servers on ~%u %s ports (%u-%u): answered %llu, "
                     "refused %llu, blocked %llu, unanswered %llu, indeterminate %llu; frames %llu .. %llu (%s)\n",
                ip_str(&x->client, ip), (unsigned long long)x->attempts, x->servers, x->ports,
                x->protos == 3 ? "tcp/udp" : x->protos == 2 ? "udp" : "tcp", x->port_lo, x->port_hi,
                (unsigned long long)c[PW_OUT_ANSWERED], (unsigned long long)c[PW_OUT_REFUSED],
                (unsigned long long)c[PW_OUT_BLOCKED], (unsigned long long)c[PW_OUT_UNANSWERED],
                (unsigned long long)c[PW_OUT_INDETERMINATE], (unsigned long long)x->first_frame,
                (unsigned long long)x->last_frame, pw_source_name(&r->sources, x->last_source));
    }
}

static void cap_line(FILE *out, const char *what, const pw_res_cap *c, const char *over, const char *over2)
{
    if (!c->over && !c->over2)
        return;
    fprintf(out, "%-14s cap %llu, used %llu: %llu %s", what, (unsigned long long)c->max,
            (unsigned long long)c->used, (unsigned long long)c->over, over);
    if (over2)
        fprintf(out, ", %llu %s", (unsigned long long)c->over2, over2);
    fputc('\n', out);
}

/* The caps that pushed something out: what the report does not list one by one. */
static void write_caps(FILE *out, const pw_result *r)
{
    const pw_res_caps *c = &r->stats.caps;
    bool any = c->connections.over || c->connections.over2 || c->services.over || c->clients.over ||
               c->clients.over2 || c->hosts.over || c->hosts.over2 || c->policy_pairs.over ||
               c->policy_pairs.over2 || c->nnr_pairs.over;
    if (!any)
        return;
    heading(out, "Memory caps reached (counts stay exact; detail is folded)");
    cap_line(out, "connections", &c->connections, "pending attempts evicted (indeterminate)",
             "idle records evicted");
    cap_line(out, "services", &c->services, "attempts folded per port", "ports");
    cap_line(out, "clients", &c->clients, "attempts of untracked clients", "attempts in scanner rows");
    cap_line(out, "host names", &c->hosts, "addresses left out", "names left out");
    cap_line(out, "policy pairs", &c->policy_pairs, "attempts folded per server/port", "events dropped");
    cap_line(out, "NNR pairs", &c->nnr_pairs, "tries dropped", NULL);
}

static void write_hosts(FILE *out, const pw_result *r)
{
    if (!r->n_hosts)
        return;
    heading(out, "Host names learned");
    for (size_t i = 0; i < r->n_hosts; i++) {
        const pw_res_host *h = &r->hosts[i];
        char ip[PW_ADDR_STRLEN];
        fprintf(out, "%-40s%s", h->target ? h->target : ip_str(&h->ip, ip), h->conflict ? " CONFLICT:" : "");
        for (size_t j = 0; j < h->n_names; j++)
            fprintf(out, " %s (%s, frame %llu%s)", h->names[j].name, pw_name_source_str(h->names[j].src),
                    (unsigned long long)h->names[j].frame, h->names[j].midstream ? ", mid-stream" : "");
        fputc('\n', out);
    }
}

static void write_inputs(FILE *out, const pw_result *r)
{
    fprintf(out, "portwitness report\n");
    for (size_t i = 0; i < r->n_inputs; i++) {
        const pw_input_info *in = &r->inputs[i];
        unsigned long long errors = 0;
        for (int k = 0; k < PW_DERR_COUNT; k++)
            errors += in->errors[k];
        fprintf(out, "input %s: %llu packets, link %s, %llu decode errors%s%s\n", in->path,
                (unsigned long long)in->packets, in->linktype, errors, in->error[0] ? "; ERROR: " : "", in->error);
    }
    const uint64_t *oc = r->stats.outcomes;
    fprintf(out, "attempts: %llu (answered %llu, refused %llu, blocked %llu, unanswered %llu, "
                 "indeterminate %llu)\n",
            (unsigned long long)r->stats.attempts, (unsigned long long)oc[PW_OUT_ANSWERED],
            (unsigned long long)oc[PW_OUT_REFUSED], (unsigned long long)oc[PW_OUT_BLOCKED],
            (unsigned long long)oc[PW_OUT_UNANSWERED], (unsigned long long)oc[PW_OUT_INDETERMINATE]);
}

void pw_text_write(FILE *out, const pw_result *r)
{
    write_inputs(out, r);
    write_nnr(out, r);
    write_rules(out, r);
    write_roles(out, r);
    write_services(out, r);
    write_folds(out, r);
    write_scanners(out, r);
    write_hosts(out, r);
    write_caps(out, r);
}
