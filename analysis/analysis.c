/* analysis.c - the analysis facade: fans packets and events out to the
 * modules and assembles the report model (schema portwitness/1). */
#include "analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "attempts.h"
#include "hosts.h"
#include "policy_internal.h"
#include "nnr.h"
#include "policy.h"
#include "scanners.h"
#include "services.h"
#include "sources.h"

struct pw_analysis {
    pw_config cfg;
    pw_analysis_sink sink;
    /* inputs */
    char **paths;
    size_t n_paths, cap_paths;
    json_t *inputs;
    /* the attempt tracker of the input being read (one per input: frame
     * numbers and timestamps are per file) */
    pw_attempts *attempts;
    uint32_t current;
    pw_attempts_stats attempt_totals;
    /* modules */
    pw_services *services;
    pw_scanners *scanners;
    pw_hosts *hosts;
    pw_nnr *nnr;
    pw_policy *policy;
    bool policy_failed;
    /* event counters */
    uint64_t events[PW_EV_COUNT];
    uint64_t outcomes[PW_OUT_COUNT];
    uint64_t attempts_total;
};

static const char *const event_names[PW_EV_COUNT] = {
    "", "app", "malformed", "nbns", "dns", "dcerpc", "epm_port", "ntlmssp", "rdp", "tls", "http",
    "http2", "grpc",
};

pw_analysis *pw_analysis_new(const pw_config *cfg, const pw_analysis_sink *sink, char *err,
                             size_t errlen)
{
    pw_analysis *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->cfg = *cfg;
    if (sink)
        a->sink = *sink;
    a->inputs = json_array();
    a->services = pw_services_new(cfg->max_services);
    a->scanners = pw_scanners_new(cfg->scanner_threshold, 0);
    a->hosts = pw_hosts_new();
    a->nnr = pw_nnr_new(&a->cfg);
    a->policy = pw_policy_new(&a->cfg, err, errlen);
    if (!a->services || !a->hosts || !a->nnr || !a->policy) {
        pw_analysis_free(a);
        return NULL;
    }
    return a;
}

static pw_sources sources_of(const pw_analysis *a)
{
    pw_sources s = {(const char *const *)a->paths, a->n_paths};
    return s;
}

/* An attempt's outcome is final: count it and stream it to the sink. */
static void on_decided(void *arg, const pw_attempt *at)
{
    pw_analysis *a = arg;
    a->attempts_total++;
    if ((unsigned)at->outcome < PW_OUT_COUNT)
        a->outcomes[at->outcome]++;
    if (a->sink.attempt)
        a->sink.attempt(a->sink.arg, at, at->source < a->n_paths ? a->paths[at->source] : "?");
}

/* The removal hook: a connection record leaves the table, with everything
 * learned on it; every module finishes its work on the connection here. */
static void on_removed(void *arg, pw_conn *c)
{
    pw_analysis *a = arg;
    if (c->attempt_done && !pw_scanners_attempt(a->scanners, &c->a))
        pw_services_attempt(a->services, &c->a);
    pw_nnr_conn_removed(a->nnr, c);
    pw_policy_conn_removed(a->policy, c);
}

uint32_t pw_analysis_begin_input(pw_analysis *a, const char *path)
{
    if (a->n_paths == a->cap_paths) {
        a->cap_paths = a->cap_paths ? a->cap_paths * 2 : 4;
        a->paths = realloc(a->paths, a->cap_paths * sizeof *a->paths);
    }
    a->paths[a->n_paths] = strdup(path);
    a->current = (uint32_t)a->n_paths++;
    pw_attempts_opts o = {.tcp_timeout = a->cfg.tcp_timeout, .udp_timeout = a->cfg.udp_timeout,
                          .max_open = a->cfg.max_connections, .removed = on_removed, .removed_arg = a};
    a->attempts = pw_attempts_new(&o, on_decided, a);
    return a->current;
}

void pw_analysis_packet(pw_analysis *a, const pw_pkt *pkt)
{
    pw_attempts_packet(a->attempts, pkt);
}

void pw_analysis_event(pw_analysis *a, const pw_event *ev)
{
    if ((unsigned)ev->type < PW_EV_COUNT)
        a->events[ev->type]++;
    if (ev->type == PW_EV_APP) {
        if (a->attempts)
            pw_attempts_set_app(a->attempts, ev->flow.proto, &ev->flow.client, ev->flow.client_port,
                                &ev->flow.server, ev->flow.server_port, ev->u.app);
        return;
    }
    pw_hosts_event(a->hosts, ev);
    const pw_flow *f = &ev->flow;
    pw_conn *c = pw_attempts_conn(a->attempts, f->proto, &f->client, f->client_port, &f->server,
                                  f->server_port, ev->ts);
    pw_nnr_event(a->nnr, c, ev);
    pw_policy_event(a->policy, c, ev);
}

static void add_stat(pw_attempts_stats *tot, const pw_attempts_stats *s)
{
    tot->attempts += s->attempts;
    tot->evicted += s->evicted;
    tot->icmp_errors += s->icmp_errors;
    tot->icmp_unmatched += s->icmp_unmatched;
    tot->midstream += s->midstream;
    tot->evicted_idle += s->evicted_idle;
    tot->event_only += s->event_only;
    if (s->peak_flows > tot->peak_flows)
        tot->peak_flows = s->peak_flows;
    if (s->peak_hosts > tot->peak_hosts)
        tot->peak_hosts = s->peak_hosts;
    if (s->peak_open > tot->peak_open)
        tot->peak_open = s->peak_open;
}

void pw_analysis_end_input(pw_analysis *a, const pw_input_info *info)
{
    if (a->attempts) {
        pw_attempts_flush(a->attempts, info->last_ts);
        pw_attempts_stats s;
        pw_attempts_get_stats(a->attempts, &s);
        add_stat(&a->attempt_totals, &s);
        pw_attempts_free(a->attempts);
        a->attempts = NULL;
    }
    json_t *in = json_object();
    json_object_set_new(in, "path", json_string(info->path));
    json_object_set_new(in, "live", json_boolean(info->live));
    json_object_set_new(in, "linktype", json_string(info->linktype));
    json_object_set_new(in, "packets", json_integer((json_int_t)info->packets));
    json_object_set_new(in, "bytes", json_integer((json_int_t)info->bytes));
    json_object_set_new(in, "decoded", json_integer((json_int_t)info->decoded));
    json_object_set_new(in, "tcp_streams", json_integer((json_int_t)info->tcp_streams));
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
    json_array_append_new(a->inputs, in);
}

static json_t *jcap(uint64_t max, uint64_t used, const char *what, uint64_t n)
{
    return json_pack("{s:I,s:I,s:I}", "max", (json_int_t)max, "used", (json_int_t)used, what, (json_int_t)n);
}

/* stats.caps: every memory cap, how much of it was used and what it evicted or folded. */
static json_t *caps_json(pw_analysis *a)
{
    pw_services_stats sv;
    pw_services_stats_get(a->services, &sv);
    pw_scanners_stats sc;
    pw_scanners_stats_get(a->scanners, &sc);
    pw_policy_stats ps;
    pw_policy_get_stats(a->policy, &ps);
    uint64_t ips, d_ips, d_names;
    pw_hosts_caps(a->hosts, &ips, &d_ips, &d_names);
    uint32_t maxc = a->cfg.max_connections ? a->cfg.max_connections : PW_ATTEMPTS_DEFAULT_MAX_OPEN;
    json_t *c = json_object();
    json_t *conn = jcap(maxc, a->attempt_totals.peak_flows, "evicted_attempts", a->attempt_totals.evicted);
    json_object_set_new(conn, "evicted_idle", json_integer((json_int_t)a->attempt_totals.evicted_idle));
    json_object_set_new(c, "connections", conn);
    json_t *svc = jcap(sv.max_services, sv.services, "folded_attempts", sv.folded_attempts);
    json_object_set_new(svc, "folded_ports", json_integer((json_int_t)sv.folded_ports));
    json_object_set_new(c, "services", svc);
    json_t *scn = jcap(PW_SCANNER_DEFAULT_MAX_CLIENTS, sc.clients, "untracked_attempts", sc.untracked);
    json_object_set_new(scn, "scanners", json_integer((json_int_t)sc.scanners));
    json_object_set_new(scn, "diverted_attempts", json_integer((json_int_t)sc.diverted));
    json_object_set_new(c, "clients", scn);
    json_t *hst = jcap(PW_HOSTS_MAX_IPS, ips, "dropped_ips", d_ips);
    json_object_set_new(hst, "dropped_names", json_integer((json_int_t)d_names));
    json_object_set_new(c, "hosts", hst);
    json_t *pol = jcap(PW_POLICY_MAX_PAIRS, ps.pairs, "folded_attempts", ps.folded);
    json_object_set_new(pol, "events_dropped", json_integer((json_int_t)ps.events_dropped));
    json_object_set_new(c, "policy_pairs", pol);
    uint64_t np, nmax, ndrop;
    pw_nnr_caps(a->nnr, &np, &nmax, &ndrop);
    json_object_set_new(c, "nnr_pairs", jcap(nmax, np, "dropped_tries", ndrop));
    return c;
}

static json_t *jfirst_last(const pw_sources *s, uint32_t fs, uint64_t ff, pw_usec ft, uint32_t ls,
                           uint64_t lf, pw_usec lt)
{
    return json_pack("{s:{s:s,s:I,s:f},s:{s:s,s:I,s:f}}", "first", "file", pw_source_name(s, fs), "frame",
                     (json_int_t)ff, "ts", pw_usec_to_sec(ft), "last", "file", pw_source_name(s, ls), "frame",
                     (json_int_t)lf, "ts", pw_usec_to_sec(lt));
}

static json_t *jcounts(const uint64_t counts[PW_OUT_COUNT])
{
    json_t *o = json_object();
    for (int i = PW_OUT_ANSWERED; i < PW_OUT_COUNT; i++)
        json_object_set_new(o, pw_outcome_name((pw_outcome)i), json_integer((json_int_t)counts[i]));
    return o;
}

/* "scanners": one row per client that tried more distinct targets than the threshold. */
static json_t *scanners_json(pw_analysis *a, const pw_sources *srcs)
{
    size_t n;
    const pw_scanner_row *r = pw_scanners_rows(a->scanners, &n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char ip[PW_ADDR_STRLEN];
        json_t *o = jfirst_last(srcs, r[i].first_source, r[i].first_frame, r[i].first_ts, r[i].last_source,
                                r[i].last_frame, r[i].last_ts);
        json_object_set_new(o, "client", json_string(pw_addr_str(&r[i].client, ip, sizeof ip)));
        json_object_set_new(o, "attempts", json_integer((json_int_t)r[i].attempts));
        json_object_set_new(o, "counts", jcounts(r[i].counts));
        json_object_set_new(o, "servers", json_integer(r[i].servers));
        json_object_set_new(o, "ports", json_integer(r[i].ports));
        json_object_set_new(o, "port_range", json_pack("[i,i]", r[i].port_lo, r[i].port_hi));
        json_object_set_new(o, "protos", json_string(r[i].protos == 3 ? "tcp,udp" : r[i].protos == 2 ? "udp" : "tcp"));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* "folded_services": per transport and port, the services beyond --max-services. */
static json_t *folds_json(pw_analysis *a, const pw_sources *srcs)
{
    size_t n;
    const pw_services_fold *f = pw_services_folds(a->services, &n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = jfirst_last(srcs, f[i].first_source, f[i].first_frame, f[i].first_ts, f[i].last_source,
                                f[i].last_frame, f[i].last_ts);
        json_object_set_new(o, "proto", json_string(f[i].proto == 17 ? "udp" : "tcp"));
        json_object_set_new(o, "port", json_integer(f[i].port));
        json_object_set_new(o, "attempts", json_integer((json_int_t)f[i].attempts));
        json_object_set_new(o, "counts", jcounts(f[i].counts));
        json_object_set_new(o, "servers", json_integer(f[i].servers));
        json_array_append_new(arr, o);
    }
    return arr;
}

json_t *pw_analysis_result(pw_analysis *a)
{
    pw_sources srcs = sources_of(a);
    json_t *r = json_object();
    json_object_set_new(r, "schema", json_string("portwitness/1"));
    json_object_set(r, "inputs", a->inputs);

    json_t *stats = json_object();
    json_object_set_new(stats, "attempts", json_integer((json_int_t)a->attempts_total));
    json_t *oc = json_object();
    for (int o = PW_OUT_ANSWERED; o < PW_OUT_COUNT; o++)
        json_object_set_new(oc, pw_outcome_name((pw_outcome)o), json_integer((json_int_t)a->outcomes[o]));
    json_object_set_new(stats, "outcomes", oc);
    json_object_set_new(stats, "peak_open_attempts", json_integer((json_int_t)a->attempt_totals.peak_open));
    json_object_set_new(stats, "evicted_attempts", json_integer((json_int_t)a->attempt_totals.evicted));
    json_object_set_new(stats, "icmp_errors", json_integer((json_int_t)a->attempt_totals.icmp_errors));
    json_object_set_new(stats, "icmp_unmatched", json_integer((json_int_t)a->attempt_totals.icmp_unmatched));
    json_object_set_new(stats, "midstream_flows", json_integer((json_int_t)a->attempt_totals.midstream));
    json_t *ev = json_object();
    for (int i = 1; i < PW_EV_COUNT; i++)
        json_object_set_new(ev, event_names[i], json_integer((json_int_t)a->events[i]));
    json_object_set_new(stats, "events", ev);
    json_object_set_new(stats, "caps", caps_json(a));
    json_object_set_new(r, "stats", stats);

    json_object_set_new(r, "services", pw_services_json(a->services, &srcs));
    json_object_set_new(r, "folded_services", folds_json(a, &srcs));
    json_object_set_new(r, "scanners", scanners_json(a, &srcs));
    json_object_set_new(r, "hosts", pw_hosts_json(a->hosts, &srcs));
    json_object_set_new(r, "nnr", pw_nnr_json(a->nnr, a->hosts, &srcs));
    json_t *pol = pw_policy_json(a->policy, a->services, &srcs);
    if (pol) {
        json_object_update(r, pol);
        json_decref(pol);
    }
    a->policy_failed = pw_policy_should_fail(a->policy);
    return r;
}

bool pw_analysis_policy_failed(const pw_analysis *a)
{
    return a->policy_failed;
}

void pw_analysis_free(pw_analysis *a)
{
    if (!a)
        return;
    if (a->attempts)
        pw_attempts_free(a->attempts);
    pw_services_free(a->services);
    pw_scanners_free(a->scanners);
    pw_hosts_free(a->hosts);
    pw_nnr_free(a->nnr);
    pw_policy_free(a->policy);
    json_decref(a->inputs);
    for (size_t i = 0; i < a->n_paths; i++)
        free(a->paths[i]);
    free(a->paths);
    free(a);
}
