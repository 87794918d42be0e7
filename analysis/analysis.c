/* analysis.c - the analysis facade: fans packets and events out to the
 * modules and has them decide the result (result.h). */
#include "analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "attempts.h"
#include "hosts.h"
#include "nnr.h"
#include "policy.h"
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
    pw_hosts *hosts;
    pw_nnr *nnr;
    pw_policy *policy;
    /* event counters */
    uint64_t events[PW_EV_COUNT];
    uint64_t outcomes[PW_OUT_COUNT];
    uint64_t attempts_total;
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
    a->services = pw_services_new();
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

/* A retired attempt: summarise it everywhere and stream it to the sink. */
static void on_retire(void *arg, const pw_attempt *at)
{
    pw_analysis *a = arg;
    a->attempts_total++;
    if ((unsigned)at->outcome < PW_OUT_COUNT)
        a->outcomes[at->outcome]++;
    pw_services_attempt(a->services, at);
    pw_nnr_attempt(a->nnr, at);
    pw_policy_attempt(a->policy, at);
    if (a->sink.attempt)
        a->sink.attempt(a->sink.arg, at, at->source < a->n_paths ? a->paths[at->source] : "?");
}

uint32_t pw_analysis_begin_input(pw_analysis *a, const char *path)
{
    if (a->n_paths == a->cap_paths) {
        a->cap_paths = a->cap_paths ? a->cap_paths * 2 : 4;
        a->paths = realloc(a->paths, a->cap_paths * sizeof *a->paths);
    }
    a->paths[a->n_paths] = strdup(path);
    a->current = (uint32_t)a->n_paths++;
    pw_attempts_opts o = {a->cfg.tcp_timeout, a->cfg.udp_timeout, 0};
    a->attempts = pw_attempts_new(&o, on_retire, a);
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
    pw_nnr_event(a->nnr, ev);
    pw_policy_event(a->policy, ev);
}

static void add_stat(pw_attempts_stats *tot, const pw_attempts_stats *s)
{
    tot->attempts += s->attempts;
    tot->evicted += s->evicted;
    tot->icmp_errors += s->icmp_errors;
    tot->icmp_unmatched += s->icmp_unmatched;
    tot->midstream += s->midstream;
    if (s->peak_open > tot->peak_open)
        tot->peak_open = s->peak_open;
}

/* The input's counters, for the result. */
static void keep_input(pw_analysis *a, const pw_input_info *info)
{
    if (a->n_inputs == a->cap_inputs) {
        size_t cap = a->cap_inputs ? a->cap_inputs * 2 : 4;
        pw_input_info *v = realloc(a->inputs, cap * sizeof *v);
        if (!v)
            return;
        a->inputs = v;
        a->cap_inputs = cap;
    }
    a->inputs[a->n_inputs++] = *info;
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
    pw_services_result(a->services, r);
    pw_hosts_result(a->hosts, r);
    pw_nnr_result(a->nnr, a->hosts, r);
    pw_policy_result(a->policy, r);
    r->exit_hint = r->fail_on_matched ? 3 : 0;
    return r;
}

void pw_analysis_free(pw_analysis *a)
{
    if (!a)
        return;
    if (a->attempts)
        pw_attempts_free(a->attempts);
    pw_services_free(a->services);
    pw_hosts_free(a->hosts);
    pw_nnr_free(a->nnr);
    pw_policy_free(a->policy);
    free(a->inputs);
    for (size_t i = 0; i < a->n_paths; i++)
        free(a->paths[i]);
    free(a->paths);
    free(a);
}
