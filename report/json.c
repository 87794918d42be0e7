/* json.c - the "json" and "jsonl" formats. */
#include "report.h"

#include <math.h>
#include <string.h>

#include "../common/addr.h"

int pw_format_parse(const char *name)
{
    static const char *const names[] = {"text", "json", "jsonl", "html"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

/* Microsecond timestamps as a number with exactly six decimals; rounding
 * through a double keeps 1700000000.123456 printable at 16 digits. */
static json_t *ts_json(pw_usec t)
{
    return json_real((double)(t / 1000000) + (double)(t % 1000000) / 1e6);
}

json_t *pw_attempt_json(const pw_attempt *a, const char *source_path)
{
    char c[PW_ADDR_STRLEN], s[PW_ADDR_STRLEN], f[PW_ADDR_STRLEN];
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("attempt"));
    json_object_set_new(o, "source", json_string(source_path));
    json_object_set_new(o, "ts", ts_json(a->ts));
    json_object_set_new(o, "proto", json_string(a->proto == 6 ? "tcp" : "udp"));
    json_object_set_new(o, "client", json_string(pw_addr_str(&a->client, c, sizeof c)));
    json_object_set_new(o, "client_port", json_integer(a->client_port));
    json_object_set_new(o, "server", json_string(pw_addr_str(&a->server, s, sizeof s)));
    json_object_set_new(o, "port", json_integer(a->port));
    json_object_set_new(o, "outcome", json_string(pw_outcome_name(a->outcome)));
    json_object_set_new(o, "reason", json_string(pw_reason_name(a->reason)));
    json_object_set_new(o, "retries", json_integer(a->retries));
    json_t *frames = json_array();
    json_array_append_new(frames, json_integer((json_int_t)a->frame_request));
    if (a->frame_reply)
        json_array_append_new(frames, json_integer((json_int_t)a->frame_reply));
    json_object_set_new(o, "frames", frames);
    double rtt = pw_attempt_rtt_ms(a);
    json_object_set_new(o, "rtt_ms", rtt >= 0 ? json_real(round(rtt * 1000.0) / 1000.0) : json_null());
    json_object_set_new(o, "icmp_from",
                        a->has_icmp_from ? json_string(pw_addr_str(&a->icmp_from, f, sizeof f)) : json_null());
    json_object_set_new(o, "app", a->app[0] ? json_string(a->app) : json_null());
    json_object_set_new(o, "retry_of", a->frame_retry_of ? json_integer((json_int_t)a->frame_retry_of)
                                                         : json_null());
    const char *who = pw_responder_name(a->responder);
    json_object_set_new(o, "responder", who ? json_string(who) : json_null());
    json_object_set_new(o, "responder_evidence", who ? pw_responder_evidence_json(a) : json_null());
    return o;
}

static void dump_line(FILE *out, json_t *o)
{
    json_dumpf(o, out, JSON_COMPACT | PW_JSON_REAL);
    fputc('\n', out);
}

void pw_jsonl_attempt(FILE *out, const pw_attempt *a, const char *source_path)
{
    json_t *o = pw_attempt_json(a, source_path);
    dump_line(out, o);
    json_decref(o);
}

/* Emits each element of model[key] as a line with "type" set. */
static void lines_of(FILE *out, json_t *arr, const char *type)
{
    size_t i;
    json_t *v;
    if (!json_is_array(arr))
        return;
    json_array_foreach(arr, i, v)
    {
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string(type));
        json_object_update(o, v);
        dump_line(out, o);
        json_decref(o);
    }
}

void pw_jsonl_finish(FILE *out, json_t *model)
{
    lines_of(out, json_object_get(model, "inputs"), "input");
    lines_of(out, json_object_get(model, "services"), "service");
    /* One line per name learned: {"type":"name","ip":..,"name":..,"source":..,"frame":..} */
    size_t i, j;
    json_t *h, *n;
    json_array_foreach(json_object_get(model, "hosts"), i, h)
    {
        json_array_foreach(json_object_get(h, "names"), j, n)
        {
            json_t *o = json_object();
            json_object_set_new(o, "type", json_string("name"));
            json_object_set(o, "ip", json_object_get(h, "ip"));
            json_object_update(o, n);
            json_object_set(o, "conflict", json_object_get(h, "conflict"));
            dump_line(out, o);
            json_decref(o);
        }
    }
    json_t *nnr = json_object_get(model, "nnr");
    lines_of(out, json_object_get(nnr, "targets"), "nnr");
    lines_of(out, json_object_get(nnr, "sensors"), "nnr_sensor");
    lines_of(out, json_object_get(model, "rules"), "rule");
    json_t *sum = json_object();
    json_object_set_new(sum, "type", json_string("summary"));
    json_object_set_new(sum, "schema", json_string("portwitness/1"));
    json_object_set(sum, "stats", json_object_get(model, "stats"));
    dump_line(out, sum);
    json_decref(sum);
}

void pw_json_write(FILE *out, json_t *model)
{
    json_dumpf(model, out, JSON_INDENT(2) | PW_JSON_REAL);
    fputc('\n', out);
}
