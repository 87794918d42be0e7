/* text.c - the default human-readable report, rendered from the model.
 * Order: what the user came for first (NNR per sensor and per target, then
 * failing required rules), then every rule, services and host names. */
#include "report.h"

#include <string.h>

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

static long long num(json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* A rate as "42%", or "-" when nothing was attempted (rate is null). */
static const char *pct(json_t *o, const char *k, char *buf, size_t len)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_number(v))
        return "-";
    snprintf(buf, len, "%.0f%%", 100.0 * json_number_value(v));
    return buf;
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

static void frames_str(json_t *arr, char *buf, size_t len)
{
    size_t i, used = 0;
    json_t *v;
    buf[0] = '\0';
    json_array_foreach(arr, i, v)
    {
        if (used + 24 >= len)
            break;
        used += (size_t)snprintf(buf + used, len - used, "%s%lld", i ? "," : "",
                                 (long long)json_integer_value(v));
    }
}

static const char *const nnr_methods[] = {"ntlm_rpc", "netbios", "rdp", "reverse_dns"};

static void write_nnr(FILE *out, json_t *nnr)
{
    json_t *sensors = json_object_get(nnr, "sensors");
    if (!json_array_size(sensors))
        return;
    heading(out, "Network name resolution (NNR) per sensor");
    size_t i;
    json_t *s;
    json_array_foreach(sensors, i, s)
    {
        char rb[16];
        fprintf(out, "\nSensor %s (%s): %lld targets, %lld resolved by at least one method (%s)\n",
                str(s, "sensor"), str(s, "found_by"), num(s, "targets"), num(s, "resolved"),
                pct(s, "rate", rb, sizeof rb));
        fprintf(out, "  %-12s %9s %9s %6s %9s %8s %8s %10s %8s %7s\n", "method", "attempted",
                "resolved", "rate", "answered", "refused", "blocked", "unanswered", "indeterm", "appfail");
        json_t *methods = json_object_get(s, "methods");
        for (size_t m = 0; m < 4; m++) {
            json_t *x = json_object_get(methods, nnr_methods[m]);
            if (!x)
                continue;
            fprintf(out, "  %-12s %9lld %9lld %6s %9lld %8lld %8lld %10lld %8lld %7lld\n",
                    nnr_methods[m], num(x, "attempted"), num(x, "resolved"),
                    pct(x, "rate", rb, sizeof rb), num(x, "answered"), num(x, "refused"),
                    num(x, "blocked"), num(x, "unanswered"), num(x, "indeterminate"),
                    num(x, "app_failed"));
        }
        size_t j;
        json_t *al;
        json_array_foreach(json_object_get(s, "alerts"), j, al)
        {
            char fr[256];
            frames_str(json_object_get(al, "examples"), fr, sizeof fr);
            fprintf(out, "  ALERT [%s] %s\n    Fix: %s\n    Example frames: %s\n", str(al, "method"),
                    str(al, "message"), str(al, "remediation"), fr[0] ? fr : "-");
        }
    }
    json_t *targets = json_object_get(nnr, "targets");
    if (!json_array_size(targets))
        return;
    heading(out, "NNR per target");
    fprintf(out, "%-16s %-40s %-24s %-24s %-24s %-24s %s\n", "target", "sensor / name", nnr_methods[0],
            nnr_methods[1], nnr_methods[2], nnr_methods[3], "");
    json_t *t;
    json_array_foreach(targets, i, t)
    {
        char who[128];
        snprintf(who, sizeof who, "%s / %s", str(t, "sensor"), str(t, "name"));
        fprintf(out, "%-16s %-40s", str(t, "target"), who);
        json_t *methods = json_object_get(t, "methods");
        for (size_t m = 0; m < 4; m++) {
            json_t *x = json_object_get(methods, nnr_methods[m]);
            char cell[128] = "-";
            if (x)
                snprintf(cell, sizeof cell, "%s:%s", str(x, "outcome"), str(x, "result"));
            fprintf(out, " %-24s", cell);
        }
        fputc('\n', out);
    }
}

static void write_rule(FILE *out, json_t *r)
{
    fprintf(out, "  [%s] %s %s %s/%s %s -> %s%s\n", str(r, "verdict"), str(r, "profile"), str(r, "id"),
            str(r, "proto"), str(r, "ports"), str(r, "from"), str(r, "to"),
            json_is_true(json_object_get(r, "required")) ? "" : " (optional)");
    fprintf(out, "      %s\n", str(r, "description"));
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r, "evidence"), i, e)
    {
        if (i >= 3)
            break;
        fprintf(out, "      evidence: %s frame %lld: %s -> %s:%lld %s (%s)\n", str(e, "source"),
                num(e, "frame"), str(e, "client"), str(e, "server"), num(e, "port"), str(e, "outcome"),
                str(e, "reason"));
    }
    const char *v = str(r, "verdict");
    if (strcmp(v, "unobserved") == 0 && json_object_get(r, "proof_needed"))
        fprintf(out, "      to prove: %s\n", str(r, "proof_needed"));
    else if (strcmp(v, "pass") != 0 && json_object_get(r, "remediation"))
        fprintf(out, "      fix: %s\n", str(r, "remediation"));
}

static void write_rules(FILE *out, json_t *model)
{
    json_t *rules = json_object_get(model, "rules");
    if (!json_array_size(rules))
        return;
    size_t i;
    json_t *r;
    json_t *profiles = json_object_get(model, "profiles");
    heading(out, "Port policy");
    json_array_foreach(profiles, i, r)
        fprintf(out, "profile %s (%s): %s\n", str(r, "name"), str(r, "source"), str(r, "why"));
    int failing = 0;
    json_array_foreach(rules, i, r)
    {
        const char *v = str(r, "verdict");
        if (json_is_true(json_object_get(r, "required")) &&
            (strcmp(v, "fail") == 0 || strcmp(v, "partial") == 0)) {
            if (!failing++)
                fprintf(out, "\nFailing required rules:\n");
            write_rule(out, r);
        }
    }
    if (!failing)
        fprintf(out, "\nNo required rule fails.\n");
    fprintf(out, "\nAll rules:\n");
    json_array_foreach(rules, i, r)
    {
        const char *v = str(r, "verdict");
        if (json_is_true(json_object_get(r, "required")) &&
            (strcmp(v, "fail") == 0 || strcmp(v, "partial") == 0))
            continue;
        write_rule(out, r);
    }
}

static void write_services(FILE *out, json_t *model)
{
    json_t *svcs = json_object_get(model, "services");
    heading(out, "Services (per server, protocol and port)");
    if (!json_array_size(svcs)) {
        fprintf(out, "no connection attempts seen\n");
        return;
    }
    fprintf(out, "%-40s %-5s %5s  %-13s %8s %7s %7s %10s %8s %7s %s\n", "server", "proto", "port",
            "outcome", "answered", "refused", "blocked", "unanswered", "indeterm", "clients",
            "first frame");
    size_t i;
    json_t *s;
    json_array_foreach(svcs, i, s)
    {
        json_t *c = json_object_get(s, "counts");
        fprintf(out, "%-40s %-5s %5lld  %-13s %8lld %7lld %7lld %10lld %8lld %7lld %lld (%s)\n",
                str(s, "server"), str(s, "proto"), num(s, "port"), str(s, "outcome"),
                num(c, "answered"), num(c, "refused"), num(c, "blocked"), num(c, "unanswered"),
                num(c, "indeterminate"), num(s, "clients"), num(s, "first_frame"), str(s, "file"));
    }
}

static void write_hosts(FILE *out, json_t *model)
{
    json_t *hosts = json_object_get(model, "hosts");
    if (!json_array_size(hosts))
        return;
    heading(out, "Host names learned");
    size_t i, j;
    json_t *h, *n;
    json_array_foreach(hosts, i, h)
    {
        fprintf(out, "%-40s%s", str(h, "ip"),
                json_is_true(json_object_get(h, "conflict")) ? " CONFLICT:" : "");
        json_array_foreach(json_object_get(h, "names"), j, n)
            fprintf(out, " %s (%s, frame %lld)", str(n, "name"), str(n, "source"), num(n, "frame"));
        fputc('\n', out);
    }
}

static void write_inputs(FILE *out, json_t *model)
{
    size_t i;
    json_t *in;
    fprintf(out, "portwitness report\n");
    json_array_foreach(json_object_get(model, "inputs"), i, in)
    {
        json_t *e = json_object_get(in, "errors");
        fprintf(out, "input %s: %lld packets, link %s, %lld decode errors%s%s\n", str(in, "path"),
                num(in, "packets"), str(in, "linktype"), num(e, "total"),
                json_is_string(json_object_get(in, "error")) ? "; ERROR: " : "",
                json_is_string(json_object_get(in, "error")) ? str(in, "error") : "");
    }
    json_t *st = json_object_get(model, "stats");
    json_t *oc = json_object_get(st, "outcomes");
    fprintf(out, "attempts: %lld (answered %lld, refused %lld, blocked %lld, unanswered %lld, "
                 "indeterminate %lld)\n",
            num(st, "attempts"), num(oc, "answered"), num(oc, "refused"), num(oc, "blocked"),
            num(oc, "unanswered"), num(oc, "indeterminate"));
}

void pw_text_write(FILE *out, json_t *model)
{
    write_inputs(out, model);
    write_nnr(out, json_object_get(model, "nnr"));
    write_rules(out, model);
    write_services(out, model);
    write_hosts(out, model);
}
