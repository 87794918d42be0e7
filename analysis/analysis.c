/* analysis.c - the analysis facade: fans packets and events out to the
 * modules and assembles the report model (schema portwitness/1). */
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
    json_t *inputs;
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
    bool policy_failed;
    /* event counters */
    uint64_t events[PW_EV_COUNT];
    uint64_t outcomes[PW_OUT_COUNT];
    uint64_t attempts_total;
};

static const char *const event_names[PW_EV_COUNT] = {
    "", "app", "malformed", "nbns", "dns", "dcerpc", "epm_port", "ntlmssp", "rdp", "tls", "http",
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
    if (!c->attempt_done)
        return;
    pw_services_attempt(a->services, &c->a);
    pw_nnr_attempt(a->nnr, &c->a);
    pw_policy_attempt(a->policy, &c->a);
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
                          .max_open = 0, .removed = on_removed, .removed_arg = a};
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
    json_object_set_new(r, "stats", stats);

    json_object_set_new(r, "services", pw_services_json(a->services, &srcs));
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
    pw_hosts_free(a->hosts);
    pw_nnr_free(a->nnr);
    pw_policy_free(a->policy);
    json_decref(a->inputs);
    for (size_t i = 0; i < a->n_paths; i++)
        free(a->paths[i]);
    free(a->paths);
    free(a);
}
