/* analysis.c - the analysis facade: fans packets and events out to the
 * modules and has them decide the result (result.h). */
#include "analysis.h"
#include "../common/xalloc.h"
#include "fixes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/hint.h"
#include "../common/log.h"
#include "apps.h"
#include "attempts.h"
#include "hosts.h"
#include "nnr.h"
#include "policy.h"
#include "policy_internal.h"
#include "scanners.h"
#include "services.h"
#include "sources.h"

struct pw_analysis {
    pw_config cfg;
    pw_analysis_sink sink;
    /* inputs */
    char **paths;
    size_t n_paths, cap_paths;
    pw_input_info *inputs;           /* as each input ended */
    size_t n_inputs, cap_inputs;
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
    /* event counters */
    uint64_t events[PW_EV_COUNT];
    uint64_t outcomes[PW_OUT_COUNT];
    uint64_t attempts_total;
    pw_retire_sink retire; /* where retired items go; none: done in place */
    /* live capture */
    bool dropping;
    uint64_t unanswered_dropping;
    pw_timeline timeline;
};

pw_analysis *pw_analysis_new(const pw_config *cfg, const pw_analysis_sink *sink, char *err,
                             size_t errlen)
{
    pw_analysis *a = pw_xcalloc(1, sizeof *a);
    a->cfg = *cfg;
    if (sink)
        a->sink = *sink;
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
    pw_timeline_add(&a->timeline, at->ts, at->outcome);
    unsigned notes = 0;
    if (a->dropping && at->outcome == PW_OUT_UNANSWERED) {
        notes |= PW_NOTE_CAPTURE_DROPS;
        a->unanswered_dropping++;
    }
    const char *path = at->source < a->n_paths ? a->paths[at->source] : "?";
    if (a->sink.attempt_noted)
        a->sink.attempt_noted(a->sink.arg, at, path, notes);
    else if (a->sink.attempt)
        a->sink.attempt(a->sink.arg, at, path);
}

/* A retired attempt counts in services or scanners, and in the policy. */
static void count_retired(pw_analysis *a, const pw_attempt *at, const pw_app_slot *app, const pw_policy_mark *m)
{
    if (!pw_scanners_attempt(a->scanners, at))
        pw_services_attempt_app(a->services, at, app);
    pw_policy_count(a->policy, at, app, m);
}

/* The removal hook: a connection record leaves the table, with everything
 * learned on it; every module finishes its work on the connection here.
 * What needs only the attempt (services, scanners, the policy's count) is
 * handed to the retire sink when there is one (analysis.h). */
static void on_removed(void *arg, pw_conn *c)
{
    pw_analysis *a = arg;
    pw_nnr_conn_removed(a->nnr, c);
    pw_policy_mark m = pw_policy_conn_removed(a->policy, c);
    pw_retired *r = c->attempt_done && a->retire.reserve ? a->retire.reserve(a->retire.arg) : NULL;
    if (!r) {
        if (c->attempt_done) /* else it counts nowhere (m.counts is false) */
            count_retired(a, &c->a, c->app, &m);
        pw_apps_conn_removed(c);
        return;
    }
    r->a = c->a;
    r->app = c->app;
    r->policy = m;
    c->app = NULL;
    a->retire.commit(a->retire.arg);
}

/* The record the next removal will most likely take: its modules' entries
 * start loading now (a hint; see conn.h).  With a retire sink the services,
 * scanners and policy aggregates are loaded where the items are taken. */
static void on_upcoming(void *arg, const pw_conn *c)
{
    pw_analysis *a = arg;
    if (!a->retire.reserve) {
        pw_scanners_prefetch(a->scanners, &c->a.client);
        pw_services_prefetch(a->services, &c->a.server, c->a.proto, c->a.port);
        pw_policy_prefetch(a->policy, &c->a);
    }
    pw_nnr_prefetch(a->nnr, &c->a);
}

/* Appends a source name; its index. */
static uint32_t add_path(pw_analysis *a, const char *path)
{
    if (a->n_paths == a->cap_paths) {
        a->cap_paths = a->cap_paths ? a->cap_paths * 2 : 4;
        a->paths = pw_xrealloc(a->paths, a->cap_paths, sizeof *a->paths);
    }
    a->paths[a->n_paths] = pw_xstrdup(path);
    return (uint32_t)a->n_paths++;
}

uint32_t pw_analysis_add_source(pw_analysis *a, const char *path)
{
    return add_path(a, path);
}

void pw_analysis_set_dropping(pw_analysis *a, bool dropping)
{
    a->dropping = dropping;
}

uint32_t pw_analysis_begin_input(pw_analysis *a, const char *path)
{
    a->current = add_path(a, path);
    pw_attempts_opts o = {.tcp_timeout = a->cfg.tcp_timeout, .udp_timeout = a->cfg.udp_timeout,
                          .max_open = a->cfg.max_connections, .removed = on_removed, .upcoming = on_upcoming, .removed_arg = a};
    a->attempts = pw_attempts_new(&o, on_decided, a);
    return a->current;
}

void pw_analysis_packet(pw_analysis *a, const pw_pkt *pkt)
{
    pw_attempts_packet(a->attempts, pkt);
}

void pw_analysis_prefetch(pw_analysis *a, const pw_pkt *pkt)
{
    if (a->attempts)
        pw_attempts_prefetch(a->attempts, pkt);
}

/* The events the jsonl stream shows as they come: gRPC calls and the SQL
 * instances a Browser announced. */
static void stream_event(pw_analysis *a, const pw_event *ev)
{
    const char *path = ev->source < a->n_paths ? a->paths[ev->source] : "?";
    if (ev->type == PW_EV_GRPC && ev->u.grpc.is_grpc && a->sink.grpc_call)
        a->sink.grpc_call(a->sink.arg, ev, path);
    if (ev->type == PW_EV_SSRP && ev->u.ssrp.kind == PW_SSRP_RESPONSE && a->sink.sql_instance) {
        int n = ev->u.ssrp.n_instances < PW_SSRP_MAX_INSTANCES ? ev->u.ssrp.n_instances : PW_SSRP_MAX_INSTANCES;
        for (int i = 0; i < n; i++)
            a->sink.sql_instance(a->sink.arg, ev, i, path);
    }
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
    stream_event(a, ev);
    pw_hosts_event(a->hosts, ev);
    const pw_flow *f = &ev->flow;
    pw_conn *c = pw_attempts_conn(a->attempts, f->proto, &f->client, f->client_port, &f->server,
                                  f->server_port, ev->ts);
    pw_apps_event(c, ev);
    pw_nnr_event(a->nnr, c, ev);
    pw_policy_event(a->policy, c, ev);
}

void pw_analysis_midstream(pw_analysis *a, const pw_attempt *m)
{
    if (!a->attempts)
        return;
    pw_attempt at = *m;
    at.source = a->current;
    pw_attempts_midstream(a->attempts, &at);
}

void pw_analysis_set_retire(pw_analysis *a, const pw_retire_sink *sink)
{
    if (sink)
        a->retire = *sink;
    else
        memset(&a->retire, 0, sizeof a->retire);
}

void pw_analysis_retired(pw_analysis *a, pw_retired *r)
{
    count_retired(a, &r->a, r->app, &r->policy);
    pw_apps_free(r->app);
    r->app = NULL;
}

PW_HINT_FN void pw_analysis_retired_prefetch(const pw_analysis *a, const pw_retired *r)
{
    pw_scanners_prefetch(a->scanners, &r->a.client);
    pw_services_prefetch(a->services, &r->a.server, r->a.proto, r->a.port);
    if (r->policy.counts)
        pw_policy_prefetch(a->policy, &r->a);
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
    if (s->peak_open > tot->peak_open)
        tot->peak_open = s->peak_open;
}

/* The input's counters, for the result. */
static bool keep_input(pw_analysis *a, const pw_input_info *info)
{
    if (a->n_inputs == a->cap_inputs) {
        size_t cap = a->cap_inputs ? a->cap_inputs * 2 : 4;
        pw_input_info *v = pw_xrealloc(a->inputs, cap, sizeof *v);
        a->inputs = v;
        a->cap_inputs = cap;
    }
    a->inputs[a->n_inputs++] = *info;
    return true;
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
    keep_input(a, info);
}

static void stats_result(const pw_analysis *a, pw_res_stats *st)
{
    st->attempts = a->attempts_total;
    memcpy(st->outcomes, a->outcomes, sizeof st->outcomes);
    st->peak_open_attempts = a->attempt_totals.peak_open;
    st->evicted_attempts = a->attempt_totals.evicted;
    st->icmp_errors = a->attempt_totals.icmp_errors;
    st->icmp_unmatched = a->attempt_totals.icmp_unmatched;
    st->midstream_flows = a->attempt_totals.midstream;
    memcpy(st->events, a->events, sizeof st->events);
    st->unanswered_during_drops = a->unanswered_dropping;
}

/* Every memory cap, how much of it was used and what it evicted or folded. */
static void caps_result(const pw_analysis *a, pw_res_caps *c)
{
    c->connections = (pw_res_cap){a->cfg.max_connections ? a->cfg.max_connections : PW_ATTEMPTS_DEFAULT_MAX_OPEN,
                                  a->attempt_totals.peak_flows, a->attempt_totals.evicted,
                                  a->attempt_totals.evicted_idle};
    pw_services_stats sv;
    pw_services_stats_get(a->services, &sv);
    c->services = (pw_res_cap){sv.max_services, sv.services, sv.folded_attempts, sv.folded_ports};
    pw_scanners_stats sc;
    pw_scanners_stats_get(a->scanners, &sc);
    c->clients = (pw_res_cap){PW_SCANNER_DEFAULT_MAX_CLIENTS, sc.clients, sc.untracked, sc.diverted};
    c->scanners = sc.scanners;
    uint64_t ips, d_ips, d_names;
    pw_hosts_caps(a->hosts, &ips, &d_ips, &d_names);
    c->hosts = (pw_res_cap){PW_HOSTS_MAX_IPS, ips, d_ips, d_names};
    pw_policy_stats ps;
    pw_policy_get_stats(a->policy, &ps);
    c->policy_pairs = (pw_res_cap){PW_POLICY_MAX_PAIRS, ps.pairs, ps.folded, ps.events_dropped};
    uint64_t np, nmax, ndrop;
    pw_nnr_caps(a->nnr, &np, &nmax, &ndrop);
    c->nnr_pairs = (pw_res_cap){nmax, np, ndrop, 0};
}

/* Scanner rows and the services folded per port beyond the cap (copied:
 * the result outlives neither module, but the modules reuse their buffers). */
static void folds_result(pw_analysis *a, pw_result *r)
{
    size_t n;
    const pw_scanner_row *rows = pw_scanners_rows(a->scanners, &n);
    r->scanners = pw_result_alloc(n, sizeof *r->scanners);
    if (n)
        memcpy(r->scanners, rows, n * sizeof *rows);
    r->n_scanners = n;
    const pw_services_fold *f = pw_services_folds(a->services, &n);
    r->folds = pw_result_alloc(n, sizeof *r->folds);
    if (n)
        memcpy(r->folds, f, n * sizeof *f);
    r->n_folds = n;
}

pw_result *pw_analysis_result(pw_analysis *a)
{
    pw_sources srcs = sources_of(a);
    pw_result *r = pw_result_alloc(1, sizeof *r);
    pw_result_init(r, &srcs);
    r->inputs = pw_result_alloc(a->n_inputs, sizeof *r->inputs);
    if (a->n_inputs)
        memcpy(r->inputs, a->inputs, a->n_inputs * sizeof *r->inputs);
    r->n_inputs = a->n_inputs;
    stats_result(a, &r->stats);
    caps_result(a, &r->stats.caps);
    pw_services_result(a->services, r);
    folds_result(a, r);
    pw_hosts_result(a->hosts, r);
    pw_nnr_result(a->nnr, a->hosts, r);
    pw_policy_result(a->policy, r);
    pw_fixes_result(r);
    r->timeline = a->timeline;
    r->exit_hint = r->fail_on_matched ? 3 : 0;
    return r;
}

/* The snapshot counts the open tracker's stats as if the input ended now
 * (its peaks and evictions), without flushing it. */
pw_result *pw_analysis_snapshot(pw_analysis *a, const pw_input_info *reading)
{
    pw_attempts_stats saved = a->attempt_totals, s;
    uint64_t open = 0;
    if (a->attempts) {
        pw_attempts_get_stats(a->attempts, &s);
        add_stat(&a->attempt_totals, &s);
        open = s.flows;
    }
    bool kept = reading && keep_input(a, reading);
    pw_result *r = pw_analysis_result(a);
    if (kept)
        a->n_inputs--;
    a->attempt_totals = saved;
    r->stats.snapshot = true;
    r->stats.open_connections = open;
    return r;
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
    free(a->inputs);
    for (size_t i = 0; i < a->n_paths; i++)
        free(a->paths[i]);
    free(a->paths);
    free(a);
}
