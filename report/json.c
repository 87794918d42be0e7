/* json.c - the "json" and "jsonl" formats: the result (analysis/result.h)
 * as the report object of schema portwitness/1.  Its small sections are
 * built as jansson trees; the lists of rows a scan makes long (services,
 * folded_services, scanners) and the jsonl attempt lines are written as
 * text value by value (pw_jw, json_dump.h), never held whole. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../analysis/policy_internal.h"
#include "../common/addr.h"
#include "fix.h"
#include "json_arena.h"
#include "json_dump.h"
#include "messages.h"

int pw_format_parse(const char *name)
{
    static const char *const names[] = {"text", "json", "jsonl", "html", "fix"};
    for (int i = 0; i < 5; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

/* The tree of the value a pw_jw function writes, for the sections still
 * built as trees: one writer serves both. */
#define TREE_OF(name, write, type) \
    static json_t *name(type arg)    \
    {                                \
        pw_jw w;                     \
        pw_jw_begin_tree(&w);        \
        write(&w, arg);              \
        return pw_jw_finish(&w);     \
    }

/* Microsecond timestamps as a number with at most six decimals. */
TREE_OF(ts_json, pw_jw_seconds, pw_usec)

/* ---- small values ----------------------------------------------------------- */

static json_t *jaddr(const pw_addr *a)
{
    char b[PW_ADDR_STRLEN];
    return json_string(pw_addr_str(a, b, sizeof b));
}

static json_t *jstr_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *jrate(bool has, double rate)
{
    return has ? json_real(rate) : json_null();
}

static json_t *jmsg(const pw_msg *m, const pw_sources *srcs)
{
    char *s = pw_msg_text(m, srcs);
    json_t *o = json_string(s ? s : "");
    free(s);
    return o;
}

static const char *file_of(const pw_result *r, uint32_t source)
{
    return pw_source_name(&r->sources, source);
}

/* ---- values written through pw_jw (json_dump.h): as text or as a tree ------ */

static void w_addr(pw_jw *w, const pw_addr *a)
{
    char b[PW_ADDR_STRLEN];
    pw_jw_string(w, pw_addr_str(a, b, sizeof b));
}

static void w_int(pw_jw *w, const char *key, json_int_t v)
{
    pw_jw_key(w, key);
    pw_jw_integer(w, v);
}

static void w_str(pw_jw *w, const char *key, const char *v)
{
    pw_jw_key(w, key);
    pw_jw_string(w, v);
}

/* {"answered":n, ..., "indeterminate":n} */
static void w_outcomes(pw_jw *w, const uint64_t c[PW_OUT_COUNT])
{
    pw_jw_object(w);
    for (int i = PW_OUT_ANSWERED; i < PW_OUT_COUNT; i++)
        w_int(w, pw_outcome_name((pw_outcome)i), (json_int_t)c[i]);
    pw_jw_close(w);
}

TREE_OF(joutcomes, w_outcomes, const uint64_t *)

/* ---- inputs, stats, services, hosts ----------------------------------------- */

static json_t *input_json(const pw_input_info *info)
{
    json_t *in = json_object();
    json_object_set_new(in, "path", json_string(info->path));
    json_object_set_new(in, "live", json_boolean(info->live));
    json_object_set_new(in, "linktype", json_string(info->linktype));
    json_object_set_new(in, "packets", json_integer((json_int_t)info->packets));
    json_object_set_new(in, "bytes", json_integer((json_int_t)info->bytes));
    json_object_set_new(in, "decoded", json_integer((json_int_t)info->decoded));
    json_object_set_new(in, "tcp_streams", json_integer((json_int_t)info->tcp_streams));
    json_object_set_new(in, "midstream_streams", json_integer((json_int_t)info->midstream_streams));
    json_object_set_new(in, "shim_evicted", json_integer((json_int_t)info->shim_evicted));
    json_object_set_new(in, "shim_buffer_full", json_integer((json_int_t)info->shim_buffer_full));
    json_object_set_new(in, "syn_gate_replaced", json_integer((json_int_t)info->syn_gate_replaced));
    json_object_set_new(in, "handshakes_forgotten", json_integer((json_int_t)info->handshakes_forgotten));
    json_object_set_new(in, "first_ts", info->packets ? json_real(pw_usec_to_sec(info->first_ts)) : json_null());
    json_object_set_new(in, "last_ts", info->packets ? json_real(pw_usec_to_sec(info->last_ts)) : json_null());
    json_t *errs = json_object();
    uint64_t total = 0;
    for (int i = 0; i < PW_DERR_COUNT; i++) {
        json_object_set_new(errs, pw_decode_err_names[i], json_integer((json_int_t)info->errors[i]));
        total += info->errors[i];
    }
    json_object_set_new(errs, "total", json_integer((json_int_t)total));
    json_object_set_new(in, "errors", errs); /* decode errors per class, and "total" */
    json_object_set_new(in, "error", info->error[0] ? json_string(info->error) : json_null());
    if (info->live) /* libpcap's pcap_stats: what the capture lost */
        json_object_set_new(in, "capture", json_pack("{s:I,s:I,s:I}", "received", (json_int_t)info->pcap_received,
                                                     "dropped", (json_int_t)info->pcap_dropped, "ifdropped",
                                                     (json_int_t)info->pcap_ifdropped));
    return in;
}

static json_t *cap_json(const pw_res_cap *c, const char *over, const char *over2)
{
    json_t *o = json_pack("{s:I,s:I,s:I}", "max", (json_int_t)c->max, "used", (json_int_t)c->used, over,
                          (json_int_t)c->over);
    if (over2)
        json_object_set_new(o, over2, json_integer((json_int_t)c->over2));
    return o;
}

/* stats.caps: every memory cap, what it held and what it evicted or folded. */
static json_t *caps_json(const pw_res_caps *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "connections", cap_json(&c->connections, "evicted_attempts", "evicted_idle"));
    json_object_set_new(o, "services", cap_json(&c->services, "folded_attempts", "folded_ports"));
    json_t *cl = cap_json(&c->clients, "untracked_attempts", "diverted_attempts");
    json_object_set_new(cl, "scanners", json_integer((json_int_t)c->scanners));
    json_object_set_new(o, "clients", cl);
    json_object_set_new(o, "hosts", cap_json(&c->hosts, "dropped_ips", "dropped_names"));
    json_object_set_new(o, "policy_pairs", cap_json(&c->policy_pairs, "folded_attempts", "events_dropped"));
    json_object_set_new(o, "nnr_pairs", cap_json(&c->nnr_pairs, "dropped_tries", NULL));
    return o;
}

static json_t *stats_json(const pw_res_stats *st)
{
    json_t *stats = json_object();
    json_object_set_new(stats, "attempts", json_integer((json_int_t)st->attempts));
    json_object_set_new(stats, "outcomes", joutcomes(st->outcomes));
    json_object_set_new(stats, "peak_open_attempts", json_integer((json_int_t)st->peak_open_attempts));
    json_object_set_new(stats, "evicted_attempts", json_integer((json_int_t)st->evicted_attempts));
    json_object_set_new(stats, "icmp_errors", json_integer((json_int_t)st->icmp_errors));
    json_object_set_new(stats, "icmp_unmatched", json_integer((json_int_t)st->icmp_unmatched));
    json_object_set_new(stats, "midstream_flows", json_integer((json_int_t)st->midstream_flows));
    json_t *ev = json_object();
    for (int i = 1; i < PW_EV_COUNT; i++)
        json_object_set_new(ev, pw_event_type_name(i), json_integer((json_int_t)st->events[i]));
    json_object_set_new(stats, "events", ev);
    json_object_set_new(stats, "caps", caps_json(&st->caps));
    if (st->snapshot || st->unanswered_during_drops) {
        json_object_set_new(stats, "unanswered_during_drops", json_integer((json_int_t)st->unanswered_during_drops));
        json_object_set_new(stats, "snapshot", json_boolean(st->snapshot));
        json_object_set_new(stats, "open_connections", json_integer((json_int_t)st->open_connections));
    }
    return stats;
}

/* "first" and "last": {"file","frame","ts"} each. */
static void w_first_last(pw_jw *w, const pw_result *r, uint32_t fs, uint64_t ff, pw_usec ft, uint32_t ls,
                         uint64_t lf, pw_usec lt)
{
    const struct { const char *key; uint32_t source; uint64_t frame; pw_usec ts; } at[2] = {
        {"first", fs, ff, ft}, {"last", ls, lf, lt}};
    for (int i = 0; i < 2; i++) {
        pw_jw_key(w, at[i].key);
        pw_jw_object(w);
        w_str(w, "file", file_of(r, at[i].source));
        w_int(w, "frame", (json_int_t)at[i].frame);
        pw_jw_key(w, "ts");
        pw_jw_seconds(w, at[i].ts);
        pw_jw_close(w);
    }
}

/* A row of "folded_services": a port's services beyond --max-services. */
static void w_fold(pw_jw *w, const pw_result *r, size_t i)
{
    const pw_services_fold *f = &r->folds[i];
    w_first_last(w, r, f->first_source, f->first_frame, f->first_ts, f->last_source, f->last_frame, f->last_ts);
    w_str(w, "proto", f->proto == 17 ? "udp" : "tcp");
    w_int(w, "port", f->port);
    w_int(w, "attempts", (json_int_t)f->attempts);
    pw_jw_key(w, "counts");
    w_outcomes(w, f->counts);
    w_int(w, "servers", f->servers);
    if (f->servers_at_least) {
        pw_jw_key(w, "servers_at_least");
        pw_jw_bool(w, true);
    }
}

/* A row of "scanners": a client over --scanner-threshold distinct targets. */
static void w_scanner(pw_jw *w, const pw_result *r, size_t i)
{
    const pw_scanner_row *x = &r->scanners[i];
    w_first_last(w, r, x->first_source, x->first_frame, x->first_ts, x->last_source, x->last_frame, x->last_ts);
    pw_jw_key(w, "client");
    w_addr(w, &x->client);
    w_int(w, "attempts", (json_int_t)x->attempts);
    pw_jw_key(w, "counts");
    w_outcomes(w, x->counts);
    w_int(w, "servers", x->servers);
    w_int(w, "ports", x->ports);
    pw_jw_key(w, "port_range");
    pw_jw_array(w);
    pw_jw_integer(w, x->port_lo);
    pw_jw_integer(w, x->port_hi);
    pw_jw_close(w);
    w_str(w, "protos", x->protos == 3 ? "tcp,udp" : x->protos == 2 ? "udp" : "tcp");
}

/* {"name","ok","failed","failures":[{"code","count"}]}, null when the
 * application was neither recognised nor answered. */
static void w_app(pw_jw *w, const pw_res_app *app)
{
    if (!app->name[0] && !app->ok && !app->failed && !app->h2_tls) {
        pw_jw_null(w);
        return;
    }
    pw_jw_object(w);
    pw_jw_key(w, "name");
    if (app->name[0])
        pw_jw_string(w, app->name);
    else
        pw_jw_null(w);
    w_int(w, "ok", (json_int_t)app->ok);
    w_int(w, "failed", (json_int_t)app->failed);
    pw_jw_key(w, "failures");
    pw_jw_array(w);
    for (uint8_t i = 0; i < app->n_codes && i < PW_APP_CODES; i++) {
        pw_jw_object(w);
        w_str(w, "code", app->codes[i].code);
        w_int(w, "count", (json_int_t)app->codes[i].n);
        pw_jw_close(w);
    }
    pw_jw_close(w);
    if (app->h2_tls) { /* ALPN h2 inside TLS: the calls are encrypted */
        w_int(w, "h2_over_tls", (json_int_t)app->h2_tls);
        w_str(w, "note", pw_msg_h2_tls());
    }
    pw_jw_close(w);
}

TREE_OF(app_json, w_app, const pw_res_app *)

/* A row of "services". */
static void w_service(pw_jw *w, const pw_result *r, size_t i)
{
    const pw_res_service *e = &r->services[i];
    pw_jw_key(w, "server");
    w_addr(w, &e->server);
    w_str(w, "proto", e->proto == 6 ? "tcp" : "udp");
    w_int(w, "port", e->port);
    w_str(w, "outcome", pw_outcome_name(e->outcome));
    pw_jw_key(w, "counts");
    w_outcomes(w, e->counts);
    w_int(w, "clients", e->clients);
    if (e->clients_at_least) {
        pw_jw_key(w, "clients_at_least");
        pw_jw_bool(w, true);
    }
    w_int(w, "first_frame", (json_int_t)e->first_frame);
    w_str(w, "file", file_of(r, e->source));
    pw_jw_key(w, "app");
    w_app(w, &e->app);
}

/* The report's lists of rows, which a scan makes long: written a row at a
 * time (json, jsonl), never held whole as a tree. */
typedef struct row_list {
    const char *key;  /* in the report object */
    const char *type; /* of a jsonl line */
    size_t (*count)(const pw_result *r);
    void (*row)(pw_jw *w, const pw_result *r, size_t i); /* the fields of row i */
} row_list;

static size_t n_services(const pw_result *r) { return r->n_services; }
static size_t n_folds(const pw_result *r) { return r->n_folds; }
static size_t n_scanners(const pw_result *r) { return r->n_scanners; }

static const row_list row_lists[] = {
    {"services", "service", n_services, w_service},
    {"folded_services", "folded_services", n_folds, w_fold},
    {"scanners", "scanner", n_scanners, w_scanner},
};

static void w_rows(pw_jw *w, const pw_result *r, const row_list *l)
{
    pw_jw_key(w, l->key);
    pw_jw_array(w);
    for (size_t i = 0, n = l->count(r); i < n; i++) {
        pw_jw_object(w);
        l->row(w, r, i);
        pw_jw_close(w);
    }
    pw_jw_close(w);
}

/* The refusing packet beside the host's own (analysis/attempts.c judges
 * who sent it): {"ttl","ip_id","win" (RST only),"host_packets", and when
 * there are some "host_ttl","host_ttl_max","host_ip_id","host_frame";
 * "text": the sentence a firewall admin reads}. */
static void w_responder_evidence(pw_jw *w, const pw_attempt *a)
{
    pw_jw_object(w);
    w_int(w, "ttl", a->resp_ttl);
    pw_jw_key(w, "ip_id");
    if (a->resp_has_ip_id)
        pw_jw_integer(w, a->resp_ip_id);
    else
        pw_jw_null(w);
    if (!a->has_icmp_from)
        w_int(w, "win", a->resp_win);
    w_int(w, "host_packets", a->host_packets);
    if (a->host_packets) {
        w_int(w, "host_ttl", a->host_ttl_min);
        w_int(w, "host_ttl_max", a->host_ttl_max);
        pw_jw_key(w, "host_ip_id");
        if (a->host_has_ip_id)
            pw_jw_integer(w, a->host_ip_id);
        else
            pw_jw_null(w);
        w_int(w, "host_frame", (json_int_t)a->host_frame);
    }
    char buf[320];
    w_str(w, "text", pw_responder_sentence(a, buf, sizeof buf));
    pw_jw_close(w);
}

TREE_OF(responder_evidence_json, w_responder_evidence, const pw_attempt *)

static void w_str_or_null(pw_jw *w, const char *key, const char *v)
{
    pw_jw_key(w, key);
    if (v)
        pw_jw_string(w, v);
    else
        pw_jw_null(w);
}

/* The jsonl "attempt" line's object. */
static void w_attempt(pw_jw *w, const pw_attempt *a, const char *source_path, unsigned notes)
{
    char f[PW_ADDR_STRLEN];
    pw_jw_object(w);
    w_str(w, "type", "attempt");
    w_str(w, "source", source_path);
    pw_jw_key(w, "ts");
    pw_jw_seconds(w, a->ts);
    w_str(w, "proto", a->proto == 6 ? "tcp" : "udp");
    pw_jw_key(w, "client");
    w_addr(w, &a->client);
    w_int(w, "client_port", a->client_port);
    pw_jw_key(w, "server");
    w_addr(w, &a->server);
    w_int(w, "port", a->port);
    w_str(w, "outcome", pw_outcome_name(a->outcome));
    w_str(w, "reason", pw_reason_name(a->reason));
    w_int(w, "retries", a->retries);
    pw_jw_key(w, "frames");
    pw_jw_array(w);
    pw_jw_integer(w, (json_int_t)a->frame_request);
    if (a->frame_reply)
        pw_jw_integer(w, (json_int_t)a->frame_reply);
    pw_jw_close(w);
    double rtt = pw_attempt_rtt_ms(a);
    pw_jw_key(w, "rtt_ms");
    if (rtt >= 0)
        pw_jw_real(w, round(rtt * 1000.0) / 1000.0);
    else
        pw_jw_null(w);
    w_str_or_null(w, "icmp_from", a->has_icmp_from ? pw_addr_str(&a->icmp_from, f, sizeof f) : NULL);
    w_str_or_null(w, "app", a->app[0] ? a->app : NULL);
    pw_jw_key(w, "retry_of");
    if (a->frame_retry_of)
        pw_jw_integer(w, (json_int_t)a->frame_retry_of);
    else
        pw_jw_null(w);
    const char *who = pw_responder_name(a->responder);
    w_str_or_null(w, "responder", who);
    pw_jw_key(w, "responder_evidence");
    if (who)
        w_responder_evidence(w, a);
    else
        pw_jw_null(w);
    pw_jw_key(w, "app_result");
    if (a->app_ok || a->app_failed) {
        pw_jw_object(w);
        w_int(w, "ok", (int)a->app_ok);
        w_int(w, "failed", (int)a->app_failed);
        w_str_or_null(w, "first_failure", a->app_failure[0] ? a->app_failure : NULL);
        pw_jw_close(w);
    } else {
        pw_jw_null(w);
    }
    if (notes & PW_NOTE_CAPTURE_DROPS) { /* the reply may be among the packets the capture dropped */
        pw_jw_key(w, "notes");
        pw_jw_array(w);
        pw_jw_string(w, "capture-drops");
        pw_jw_close(w);
    }
    pw_jw_close(w);
}

json_t *pw_attempt_json(const pw_attempt *a, const char *source_path)
{
    pw_jw w;
    pw_jw_begin_tree(&w);
    w_attempt(&w, a, source_path, 0);
    return pw_jw_finish(&w);
}

json_t *pw_json_hosts(const pw_result *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->n_hosts; i++) {
        const pw_res_host *h = &r->hosts[i];
        json_t *names = json_array();
        for (size_t j = 0; j < h->n_names; j++) {
            const pw_res_name *n = &h->names[j];
            json_t *o = json_pack("{s:s, s:s, s:I, s:s}", "name", n->name, "source", pw_name_source_str(n->src),
                                  "frame", (json_int_t)n->frame, "file", file_of(r, n->source));
            if (n->midstream) /* only then: reports of captures without such names are unchanged */
                json_object_set_new(o, "midstream", json_true());
            json_array_append_new(names, o);
        }
        json_t *o = json_pack("{s:o, s:o, s:b}", "ip", h->target ? json_null() : jaddr(&h->ip), "names",
                              names, "conflict", h->conflict);
        if (h->target) /* names seen through a proxy for a target known by name only */
            json_object_set_new(o, "target", json_string(h->target));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* ---- NNR -------------------------------------------------------------------- */

static json_t *nnr_try_json(const pw_result *r, int method, const pw_res_nnr_try *t)
{
    json_t *frames = json_array();
    for (int i = 0; i < t->nframes; i++)
        json_array_append_new(frames, json_integer((json_int_t)t->frames[i]));
    pw_msg detail = pw_res_nnr_detail((pw_nnr_method)method, t);
    json_t *o = json_object();
    json_object_set_new(o, "outcome", json_string(pw_outcome_name(t->outcome)));
    json_object_set_new(o, "result", json_string(pw_nnr_result_name(t->result)));
    json_object_set_new(o, "detail", jmsg(&detail, &r->sources));
    json_object_set_new(o, "name", jstr_or_null(t->name));
    json_object_set_new(o, "frames", frames);
    json_object_set_new(o, "file", json_string(file_of(r, t->source)));
    if (method == PW_NNR_REVERSE_DNS)
        json_object_set_new(o, "server", jaddr(&t->server));
    return o;
}

static json_t *nnr_target_json(const pw_result *r, const pw_res_nnr_target *t)
{
    json_t *methods = json_object();
    for (int m = 0; m < PW_NNR_METHOD_COUNT; m++)
        if (t->tried[m])
            json_object_set_new(methods, pw_nnr_method_key((pw_nnr_method)m), nnr_try_json(r, m, &t->m[m]));
    return json_pack("{s:o, s:o, s:o, s:o}", "sensor", jaddr(&t->sensor), "target", jaddr(&t->target), "name",
                     jstr_or_null(t->name), "methods", methods);
}

static json_t *nnr_mstat_json(const pw_res_nnr_mstat *s)
{
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o}", "attempted", s->attempted, "resolved",
                     s->resolved, "answered", s->out[PW_OUT_ANSWERED], "refused", s->out[PW_OUT_REFUSED],
                     "blocked", s->out[PW_OUT_BLOCKED], "unanswered", s->out[PW_OUT_UNANSWERED],
                     "indeterminate", s->out[PW_OUT_INDETERMINATE], "app_failed", s->app_failed, "rate",
                     jrate(s->has_rate, s->rate));
}

/* "examples": the frame numbers (as the schema has them);
 * "evidence": the same frames with their file, target and result. */
static json_t *nnr_alert_json(const pw_result *r, const pw_res_nnr_alert *al)
{
    json_t *examples = json_array(), *evidence = json_array();
    for (size_t i = 0; i < al->n_examples; i++) {
        const pw_res_nnr_example *e = &al->examples[i];
        char tip[PW_ADDR_STRLEN];
        json_array_append_new(examples, json_integer((json_int_t)e->frame));
        json_array_append_new(evidence, json_pack("{s:s, s:I, s:s, s:s}", "file", file_of(r, e->source), "frame",
                                                  (json_int_t)e->frame, "target",
                                                  pw_addr_str(&e->target, tip, sizeof tip), "result",
                                                  pw_nnr_result_name(e->result)));
    }
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "method", pw_nnr_method_key(al->method), "rate",
                     json_real(al->rate), "message", jmsg(&al->message, &r->sources), "remediation",
                     jmsg(&al->remediation, &r->sources), "examples", examples, "evidence", evidence);
}

static json_t *nnr_sensor_json(const pw_result *r, const pw_res_nnr_sensor *s)
{
    json_t *methods = json_object(), *alerts = json_array();
    for (int m = 0; m < PW_NNR_METHOD_COUNT; m++)
        json_object_set_new(methods, pw_nnr_method_key((pw_nnr_method)m), nnr_mstat_json(&s->methods[m]));
    for (size_t i = 0; i < s->n_alerts; i++)
        json_array_append_new(alerts, nnr_alert_json(r, &s->alerts[i]));
    return json_pack("{s:o, s:s, s:i, s:i, s:o, s:o, s:o}", "sensor", jaddr(&s->sensor), "found_by",
                     s->found_by_option ? "option" : "inferred", "targets", s->targets, "resolved", s->resolved,
                     "rate", jrate(s->has_rate, s->rate), "methods", methods, "alerts", alerts);
}

json_t *pw_json_nnr(const pw_result *r)
{
    json_t *sensors = json_array(), *targets = json_array();
    for (size_t i = 0; i < r->nnr.n_sensors; i++)
        json_array_append_new(sensors, nnr_sensor_json(r, &r->nnr.sensors[i]));
    for (size_t i = 0; i < r->nnr.n_targets; i++)
        json_array_append_new(targets, nnr_target_json(r, &r->nnr.targets[i]));
    return json_pack("{s:o, s:o}", "sensors", sensors, "targets", targets);
}

/* ---- port policy ------------------------------------------------------------ */

static json_t *profile_json(const pw_result *r, const pw_res_profile *p)
{
    json_t *why = jmsg(&p->why, &r->sources);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "name", p->name, "source", p->builtin ? "built-in" : p->path,
                          "path", p->path, "description", p->description, "why", json_string_value(why));
    json_decref(why);
    return o;
}

static json_t *role_json(const pw_result *r, const pw_res_role *x)
{
    char ip[PW_ADDR_STRLEN + 8];
    pw_addr_str(&x->net, ip, sizeof ip);
    if (x->cidr) {
        size_t l = strlen(ip);
        snprintf(ip + l, sizeof ip - l, "/%d", x->prefix);
    }
    json_t *o = json_pack("{s:s,s:s,s:b,s:s,s:o}", "role", x->role, "ip", ip, "inferred", x->how != PW_ROLE_BOUND,
                          "how", pw_role_how_name(x->how), "why", jmsg(&x->why, &r->sources));
    if (x->how != PW_ROLE_BOUND) {
        /* the option that makes this binding explicit (--role always wins) */
        char opt[160];
        snprintf(opt, sizeof opt, "--role %s=%s", x->role, ip);
        json_object_set_new(o, "option", json_string(opt));
    }
    return o;
}

static json_t *rule_counts_json(const pw_res_rule *x)
{
    const uint64_t *c = x->counts;
    uint64_t total = 0;
    for (int i = 1; i < PW_OUT_COUNT; i++)
        total += c[i];
    json_t *o = json_pack("{sIsIsIsIsIsIsIsI}", "attempts", (json_int_t)total, "answered",
                          (json_int_t)c[PW_OUT_ANSWERED], "refused", (json_int_t)c[PW_OUT_REFUSED], "blocked",
                          (json_int_t)c[PW_OUT_BLOCKED], "unanswered", (json_int_t)c[PW_OUT_UNANSWERED],
                          "indeterminate", (json_int_t)c[PW_OUT_INDETERMINATE], "servers",
                          (json_int_t)(x->n_servers + x->servers_omitted), "clients",
                          (json_int_t)(x->n_clients + x->clients_omitted));
    if (x->servers_omitted) /* the lists name the first PW_RES_MAX_LIST, failing ones first */
        json_object_set_new(o, "servers_not_listed", json_integer((json_int_t)x->servers_omitted));
    if (x->clients_omitted)
        json_object_set_new(o, "clients_not_listed", json_integer((json_int_t)x->clients_omitted));
    if (x->folded) /* attempts of untracked pairs: servers and clients are lower bounds */
        json_object_set_new(o, "folded", json_integer((json_int_t)x->folded));
    return o;
}

static json_t *sides_json(const pw_res_side *v, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:o,s:b,s:s,s:I}", "ip", jaddr(&v[i].ip), "role_inferred",
                                             v[i].role_inferred, "verdict", pw_verdict_name(v[i].verdict),
                                             "attempts", (json_int_t)v[i].attempts));
    return arr;
}

static json_t *evidence_json(const pw_result *r, const pw_res_evidence *e)
{
    json_t *o = json_pack("{s:s,s:I,s:f,s:o,s:o,s:s,s:I,s:s,s:s}", "source", file_of(r, e->source), "frame",
                          (json_int_t)e->frame, "ts", pw_usec_to_sec(e->ts), "client", jaddr(&e->client), "server",
                          jaddr(&e->server), "proto", pw_proto_str(e->proto), "port", (json_int_t)e->port,
                          "outcome", pw_outcome_name(e->outcome), "reason", e->reason);
    if (e->frame_reply)
        json_object_set_new(o, "frame_reply", json_integer((json_int_t)e->frame_reply));
    if (e->epm_frame)
        json_object_set_new(o, "epm_frame", json_integer((json_int_t)e->epm_frame));
    if (e->cloud) {
        json_object_set_new(o, "host", json_string(e->host));
        json_object_set_new(o, "via", json_string(e->via_proxy ? "proxy" : "direct"));
        if (e->via_proxy) {
            json_object_set_new(o, "connect_port", json_integer(e->connect_port));
            if (e->status)
                json_object_set_new(o, "status", json_integer(e->status));
        }
        if (e->issuer)
            json_object_set_new(o, "issuer", json_string(e->issuer));
    }
    if (e->resp.responder) { /* who refused: the host or a device in the path */
        pw_attempt a;
        pw_responder_load(&e->resp, &e->server, &a);
        json_object_set_new(o, "responder", json_string(pw_responder_name(a.responder)));
        json_object_set_new(o, "responder_evidence", responder_evidence_json(&a));
    }
    return o;
}

static json_t *rule_json(const pw_result *r, const pw_res_rule *x)
{
    json_t *obj = json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:s,s:s,s:s}", "profile", x->profile, "id", x->id,
                            "table", x->table, "description", x->description, "required", x->required, "from",
                            x->from, "to", x->to, "proto", pw_proto_str(x->proto), "ports", x->ports, "verdict",
                            pw_verdict_name(x->verdict));
    if (x->n_hosts) {
        json_t *h = json_array();
        for (int i = 0; i < x->n_hosts; i++)
            json_array_append_new(h, json_string(x->hosts[i]));
        json_object_set_new(obj, "hosts", h);
    }
    json_object_set_new(obj, "counts", rule_counts_json(x));
    json_object_set_new(obj, "cause", jstr_or_null(pw_rule_cause_name(x->cause)));
    json_object_set_new(obj, "app", app_json(&x->app));
    if (x->truncated)
        json_object_set_new(obj, "truncated", json_true());
    json_object_set_new(obj, "servers", sides_json(x->servers, x->n_servers));
    json_object_set_new(obj, "clients", sides_json(x->clients, x->n_clients));
    json_t *evidence = json_array();
    for (size_t i = 0; i < x->n_evidence; i++)
        json_array_append_new(evidence, evidence_json(r, &x->evidence[i]));
    json_object_set_new(obj, "evidence", evidence);
    json_object_set_new(obj, "remediation", json_string(x->remediation));
    if (x->proof_needed.id)
        json_object_set_new(obj, "proof_needed", jmsg(&x->proof_needed, &r->sources));
    if (x->n_notes) {
        json_t *notes = json_array();
        for (size_t i = 0; i < x->n_notes; i++)
            json_array_append_new(notes, jmsg(&x->notes[i], &r->sources));
        json_object_set_new(obj, "notes", notes);
    }
    return obj;
}

static json_t *endpoint_json(const pw_addr *a, uint16_t port)
{
    char ip[PW_ADDR_STRLEN], px[80];
    snprintf(px, sizeof px, "%s:%u", pw_addr_str(a, ip, sizeof ip), port);
    return json_string(px);
}

static json_t *cloud_conn_json(const pw_result *r, const pw_res_cloud_conn *c)
{
    json_t *o = json_pack("{s:s,s:s,s:I,s:f,s:s,s:o,s:I,s:s,s:s}", "via", c->via_proxy ? "proxy" : "direct",
                          "source", file_of(r, c->source), "frame", (json_int_t)c->frame, "ts",
                          pw_usec_to_sec(c->ts), "host", c->host, "server", jaddr(&c->server), "port",
                          (json_int_t)c->port, "outcome", pw_outcome_name(c->outcome), "result", c->result);
    if (c->via_proxy) {
        json_object_set_new(o, "proxy", endpoint_json(&c->server, c->server_port));
        json_object_set_new(o, "status", c->status ? json_integer(c->status) : json_null());
    } else {
        json_object_set_new(o, "proxy", json_null());
    }
    json_object_set_new(o, "failure", jstr_or_null(c->failure));
    json_object_set_new(o, "tls_server_hello", json_boolean(c->tls_server_hello));
    json_object_set_new(o, "issuer", jstr_or_null(c->issuer));
    json_object_set_new(o, "tls_inspection", json_boolean(c->tls_inspection));
    return o;
}

static json_t *cloud_json(const pw_result *r, const pw_res_cloud *c)
{
    json_t *s = json_pack("{s:o,s:b,s:b}", "sensor", jaddr(&c->sensor), "role_inferred", c->role_inferred,
                          "reached", c->reached);
    json_object_set_new(s, "verdict", json_string(pw_verdict_name(c->verdict)));
    json_object_set_new(s, "via", c->reached ? json_string(c->via_proxy ? "proxy" : "direct") : json_null());
    json_object_set_new(s, "proxy", c->via_proxy ? endpoint_json(&c->proxy, c->proxy_port) : json_null());
    json_object_set_new(s, "failure", jstr_or_null(c->failure));
    json_t *issuers = json_array();
    for (size_t i = 0; i < c->n_issuers; i++)
        json_array_append_new(issuers, json_string(c->issuers[i]));
    json_t *ti = json_pack("{s:b,s:o}", "detected", c->inspection, "issuers", issuers);
    if (c->inspection_note.id)
        json_object_set_new(ti, "note", jmsg(&c->inspection_note, &r->sources));
    json_object_set_new(s, "tls_inspection", ti);
    json_t *conns = json_array();
    for (size_t i = 0; i < c->n_conns; i++)
        json_array_append_new(conns, cloud_conn_json(r, &c->conns[i]));
    json_object_set_new(s, "connections", conns);
    return s;
}

json_t *pw_json_policy(const pw_result *r)
{
    json_t *profiles = json_array(), *roles = json_array(), *rules = json_array(), *cloud = json_array();
    for (size_t i = 0; i < r->n_profiles; i++)
        json_array_append_new(profiles, profile_json(r, &r->profiles[i]));
    for (size_t i = 0; i < r->n_roles; i++)
        json_array_append_new(roles, role_json(r, &r->roles[i]));
    for (size_t i = 0; i < r->n_roles_omitted; i++) /* beyond PW_RES_MAX_LIST per role and how */
        json_array_append_new(roles, json_pack("{s:s,s:s,s:I}", "role", r->roles_omitted[i].role, "how",
                                               pw_role_how_name(r->roles_omitted[i].how), "not_listed",
                                               (json_int_t)r->roles_omitted[i].prefix));
    for (size_t i = 0; i < r->n_rules; i++)
        json_array_append_new(rules, rule_json(r, &r->rules[i]));
    for (size_t i = 0; i < r->n_cloud; i++)
        json_array_append_new(cloud, cloud_json(r, &r->cloud[i]));
    return json_pack("{s:o,s:o,s:o,s:o}", "profiles", profiles, "roles", roles, "rules", rules, "sensor_cloud",
                     cloud);
}

/* ---- fixes ------------------------------------------------------------------ */

static json_t *sbuf_json(void (*fn)(pw_sbuf *, const pw_res_fix *), const pw_res_fix *f)
{
    pw_sbuf b = {0};
    fn(&b, f);
    json_t *s = json_string(pw_sb_str(&b));
    pw_sb_free(&b);
    return s;
}

static json_t *fix_json(const pw_result *r, const pw_res_fix *f)
{
    json_t *clients = json_array(), *ports = json_array();
    for (int i = 0; i < f->n_clients; i++)
        json_array_append_new(clients, jaddr(&f->clients[i]));
    for (int i = 0; i < f->n_ports; i++)
        json_array_append_new(ports, json_pack("{s:i,s:i}", "from", f->ports[i].lo, "to", f->ports[i].hi));
    pw_sbuf net = {0}, why = {0};
    pw_fix_ports(&net, f, PW_PORTS_NETWORK);
    pw_fix_cause_render(&why, f);
    json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:s,s:o,s:s,s:o,s:b,s:s,s:o,s:b,s:b,s:s,s:s}", "profile",
                          f->rule->profile, "rule", f->rule->id, "verdict", pw_verdict_name(f->rule->verdict),
                          "required", f->rule->required, "direction", f->dir == PW_FIX_INBOUND ? "inbound" : "outbound",
                          "server", jaddr(&f->server), "proto", pw_proto_str(f->proto), "ports", ports,
                          "rpc_dynamic", f->rpc_dynamic, "network_ports", pw_sb_str(&net), "clients", clients,
                          "clients_more", f->clients_more, "clients_from_rule", f->clients_from_rule, "cause",
                          pw_fix_cause_name(f->cause), "why", pw_sb_str(&why));
    pw_sb_free(&net);
    pw_sb_free(&why);
    json_object_set_new(o, "path_device", f->has_path_device ? jaddr(&f->path_device) : json_null());
    json_object_set_new(o, "host_firewall", json_boolean(f->cause != PW_FIX_PATH_REFUSED));
    if (f->failed)
        json_object_set_new(o, "evidence", json_pack("{s:s,s:I,s:I}", "source", file_of(r, f->source), "frame",
                                                     (json_int_t)f->frame, "failed", (json_int_t)f->failed));
    else
        json_object_set_new(o, "evidence", json_null());
    json_object_set_new(o, "powershell", sbuf_json(pw_fix_powershell, f));
    json_object_set_new(o, "netsh", sbuf_json(pw_fix_netsh, f));
    return o;
}

json_t *pw_json_fixes(const pw_result *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->n_fixes; i++)
        json_array_append_new(arr, fix_json(r, &r->fixes[i]));
    return arr;
}

/* ---- the report ------------------------------------------------------------- */

/* The report object, its lists of rows included or not. */
static void w_report(pw_jw *w, const pw_result *r, bool rows)
{
    pw_jw_object(w);
    w_str(w, "schema", "portwitness/1");
    json_t *inputs = json_array();
    for (size_t i = 0; i < r->n_inputs; i++)
        json_array_append_new(inputs, input_json(&r->inputs[i]));
    pw_jw_key(w, "inputs");
    pw_jw_tree(w, inputs);
    pw_jw_key(w, "stats");
    pw_jw_tree(w, stats_json(&r->stats));
    for (size_t i = 0; rows && i < sizeof row_lists / sizeof row_lists[0]; i++)
        w_rows(w, r, &row_lists[i]);
    pw_jw_key(w, "hosts");
    pw_jw_tree(w, pw_json_hosts(r));
    pw_jw_key(w, "nnr");
    pw_jw_tree(w, pw_json_nnr(r));
    json_t *pol = pw_json_policy(r);
    const char *key;
    json_t *v;
    json_object_foreach(pol, key, v)
    {
        pw_jw_key(w, key);
        pw_jw_tree(w, json_incref(v));
    }
    json_decref(pol);
    pw_jw_key(w, "fixes");
    pw_jw_tree(w, pw_json_fixes(r));
    pw_jw_close(w);
}

static json_t *report_tree(const pw_result *r, bool rows)
{
    pw_jw w;
    pw_jw_begin_tree(&w);
    w_report(&w, r, rows);
    return pw_jw_finish(&w);
}

json_t *pw_result_json(const pw_result *r)
{
    return report_tree(r, true);
}

static void dump_line(FILE *out, json_t *o)
{
    pw_json_dump(out, o, 0);
    fputc('\n', out);
}

void pw_jsonl_attempt(FILE *out, const pw_attempt *a, const char *source_path)
{
    pw_jsonl_attempt_noted(out, a, source_path, 0);
}

void pw_jsonl_attempt_noted(FILE *out, const pw_attempt *a, const char *source_path, unsigned notes)
{
    pw_jw w;
    pw_jw_begin_text(&w, out, 0);
    w_attempt(&w, a, source_path, notes);
    pw_jw_newline(&w);
    pw_jw_finish(&w);
}

static const char *grpc_end_name(uint8_t end)
{
    static const char *const names[] = {"?", "complete", "reset", "goaway", "cut", "evicted", "abandoned"};
    return end < sizeof names / sizeof *names ? names[end] : "?";
}

/* {"type":"grpc_call",...}: one gRPC call as it ended; "frame" is the frame
 * that carried its final status (the trailers), else the one that ended it. */
json_t *pw_grpc_call_json(const pw_event *ev, const char *source_path)
{
    const pw_ev_grpc *g = &ev->u.grpc;
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("grpc_call"));
    json_object_set_new(o, "source", json_string(source_path));
    json_object_set_new(o, "frame", json_integer((json_int_t)(g->trailer_frame ? g->trailer_frame : ev->frame)));
    json_object_set_new(o, "ts", ts_json(g->request_ts ? g->request_ts : ev->ts));
    json_object_set_new(o, "client", jaddr(&ev->flow.client));
    json_object_set_new(o, "client_port", json_integer(ev->flow.client_port));
    json_object_set_new(o, "server", jaddr(&ev->flow.server));
    json_object_set_new(o, "port", json_integer(ev->flow.server_port));
    json_object_set_new(o, "stream", json_integer(g->stream_id));
    json_object_set_new(o, "path", json_string(g->path));
    json_object_set_new(o, "request_frame", g->request_frame ? json_integer((json_int_t)g->request_frame) : json_null());
    json_object_set_new(o, "http_status", g->http_status ? json_integer(g->http_status) : json_null());
    json_object_set_new(o, "grpc_status", g->grpc_status >= 0 ? json_integer(g->grpc_status) : json_null());
    json_object_set_new(o, "grpc_status_name", g->grpc_status >= 0 ? json_string(g->grpc_status_name) : json_null());
    json_object_set_new(o, "grpc_message", g->grpc_status >= 0 && g->grpc_message[0] ? json_string(g->grpc_message) : json_null());
    json_object_set_new(o, "trailers_only", json_boolean(g->trailers_only));
    json_object_set_new(o, "end", json_string(grpc_end_name(g->end)));
    json_object_set_new(o, "reset", g->reset ? json_string(g->reset_name) : json_null());
    json_object_set_new(o, "reset_by", g->reset ? json_string(g->reset_dir == 0 ? "client" : "server") : json_null());
    return o;
}

/* {"type":"sql_instance",...}: instance i of a SQL Server Browser answer;
 * "server" is the address that answered. */
json_t *pw_sql_instance_json(const pw_event *ev, int i, const char *source_path)
{
    const pw_ssrp_instance *in = &ev->u.ssrp.instances[i];
    const pw_addr *responder = ev->dir == 0 ? &ev->flow.client : &ev->flow.server;
    const pw_addr *asker = ev->dir == 0 ? &ev->flow.server : &ev->flow.client;
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("sql_instance"));
    json_object_set_new(o, "source", json_string(source_path));
    json_object_set_new(o, "frame", json_integer((json_int_t)ev->frame));
    json_object_set_new(o, "ts", ts_json(ev->ts));
    json_object_set_new(o, "client", jaddr(asker));
    json_object_set_new(o, "server", jaddr(responder));
    json_object_set_new(o, "server_name", json_string(in->server_name));
    json_object_set_new(o, "instance", json_string(in->instance));
    json_object_set_new(o, "version", in->version[0] ? json_string(in->version) : json_null());
    json_object_set_new(o, "tcp_port", in->tcp_port ? json_integer(in->tcp_port) : json_null());
    json_object_set_new(o, "np", in->np[0] ? json_string(in->np) : json_null());
    json_object_set_new(o, "clustered", json_boolean(in->is_clustered));
    return o;
}

void pw_jsonl_grpc_call(FILE *out, const pw_event *ev, const char *source_path)
{
    json_t *o = pw_grpc_call_json(ev, source_path);
    dump_line(out, o);
    json_decref(o);
}

void pw_jsonl_sql_instance(FILE *out, const pw_event *ev, int i, const char *source_path)
{
    json_t *o = pw_sql_instance_json(ev, i, source_path);
    dump_line(out, o);
    json_decref(o);
}

/* Emits each element of arr as a line with "type" first. */
static void lines_of(FILE *out, json_t *arr, const char *type)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string(type));
        json_object_update(o, v);
        dump_line(out, o);
        json_decref(o);
    }
}

/* One line per name learned: {"type":"name","ip":..,"name":..,"source":..,"frame":..,"conflict":..} */
static void name_lines(FILE *out, json_t *hosts)
{
    size_t i, j;
    json_t *h, *n;
    json_array_foreach(hosts, i, h)
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
}

/* One line per row of a list: {"type":..., the row's fields}. */
static void row_lines(FILE *out, const pw_result *r, const row_list *l)
{
    pw_jw w;
    pw_jw_begin_text(&w, out, 0);
    for (size_t i = 0, n = l->count(r); i < n; i++) {
        pw_jw_object(&w);
        w_str(&w, "type", l->type);
        l->row(&w, r, i);
        pw_jw_close(&w);
        pw_jw_newline(&w);
    }
    pw_jw_finish(&w);
}

void pw_jsonl_finish(FILE *out, const pw_result *r)
{
    json_t *model = report_tree(r, false);
    lines_of(out, json_object_get(model, "inputs"), "input");
    for (size_t i = 0; i < sizeof row_lists / sizeof row_lists[0]; i++)
        row_lines(out, r, &row_lists[i]);
    name_lines(out, json_object_get(model, "hosts"));
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
    json_decref(model);
}

/* Rule verdicts in short: what an interval summary lists. */
static json_t *verdicts_json(const pw_result *r)
{
    json_t *v = json_array();
    for (size_t i = 0; i < r->n_rules; i++) {
        const pw_res_rule *x = &r->rules[i];
        json_array_append_new(v, json_pack("{s:s,s:s,s:b,s:s}", "profile", x->profile, "id", x->id, "required",
                                           x->required, "verdict", pw_verdict_name(x->verdict)));
    }
    return v;
}

/* NNR alerts standing: sensor and method. */
static json_t *alerts_json(const pw_result *r)
{
    json_t *v = json_array();
    for (size_t i = 0; i < r->nnr.n_sensors; i++)
        for (size_t k = 0; k < r->nnr.sensors[i].n_alerts; k++)
            json_array_append_new(v, json_pack("{s:o,s:s,s:f}", "sensor", jaddr(&r->nnr.sensors[i].sensor), "method",
                                               pw_nnr_method_key(r->nnr.sensors[i].alerts[k].method), "rate",
                                               r->nnr.sensors[i].alerts[k].rate));
    return v;
}

void pw_jsonl_interval(FILE *out, const pw_result *r, json_t *interval)
{
    json_t *model = report_tree(r, false);
    json_t *sum = json_object();
    json_object_set_new(sum, "type", json_string("summary"));
    json_object_set_new(sum, "schema", json_string("portwitness/1"));
    json_object_set(sum, "interval", interval);
    json_object_set(sum, "inputs", json_object_get(model, "inputs"));
    json_object_set(sum, "stats", json_object_get(model, "stats"));
    json_object_set_new(sum, "rules", verdicts_json(r));
    json_object_set_new(sum, "nnr_alerts", alerts_json(r));
    json_object_set_new(sum, "hosts", json_integer((json_int_t)r->n_hosts));
    dump_line(out, sum);
    json_decref(sum);
    json_decref(model);
    fflush(out);
}

static json_t *change_json(const pw_result *r, const pw_change *ch)
{
    switch (ch->kind) {
    case PW_CHG_RULE:
        return json_pack("{s:s,s:s,s:s,s:b,s:o,s:s}", "type", "rule_change", "profile", ch->rule->profile, "id",
                         ch->rule->id, "required", ch->rule->required, "from",
                         ch->had_verdict ? json_string(pw_verdict_name(ch->from)) : json_null(), "verdict",
                         pw_verdict_name(ch->rule->verdict));
    case PW_CHG_ALERT_RAISED:
    case PW_CHG_ALERT_CLEARED: {
        json_t *o = json_pack("{s:s,s:s,s:o,s:s}", "type", "nnr_alert", "state",
                              ch->kind == PW_CHG_ALERT_RAISED ? "raised" : "cleared", "sensor", jaddr(&ch->sensor),
                              "method", pw_nnr_method_key(ch->method));
        if (ch->kind == PW_CHG_ALERT_RAISED)
            json_object_set_new(o, "rate", json_real(ch->rate));
        return o;
    }
    default:
        return json_pack("{s:s,s:o,s:s,s:s,s:I,s:s,s:b}", "type", "name", "ip", jaddr(&ch->host->ip), "name",
                         ch->name->name, "source", pw_name_source_str(ch->name->src), "frame",
                         (json_int_t)ch->name->frame, "file", file_of(r, ch->name->source), "conflict",
                         ch->host->conflict);
    }
}

void pw_jsonl_change(FILE *out, const pw_result *r, const pw_change *ch)
{
    json_t *o = change_json(r, ch);
    dump_line(out, o);
    json_decref(o);
}

void pw_json_write(FILE *out, const pw_result *r)
{
    pw_json_arena_begin(); /* the sections made as trees: every value lies in the arena */
    pw_jw w;
    pw_jw_begin_text(&w, out, 2);
    w_report(&w, r, true);
    pw_jw_newline(&w);
    pw_jw_finish(&w);
    pw_json_arena_end();
}

void pw_report_write(FILE *out, pw_format format, const pw_result *r)
{
    switch (format) {
    case PW_FMT_JSON: pw_json_write(out, r); break;
    case PW_FMT_JSONL: pw_jsonl_finish(out, r); break;
    case PW_FMT_HTML: pw_html_write(out, r); break;
    case PW_FMT_FIX: pw_fix_write(out, r); break;
    default: pw_text_write(out, r); break;
    }
}
