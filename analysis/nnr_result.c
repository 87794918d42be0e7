/* nnr_result.c - the deciding half of NNR (intake: nnr.c).
 *
 * Rates per sensor and method count targets (not tries): attempted,
 * resolved, transport outcome of the best try, app_failed (answered but no
 * name), rate = resolved / attempted.  An alert is raised when attempted > 0
 * and the failure share (attempted - resolved) / attempted exceeds
 * cfg->nnr_alert_threshold (0.9 by default, Defender for Identity's).
 *
 * JSON beyond the schema (additions only): per target and method
 * "detail" (one human line: "bind_nak (reason 2)", "icmp-admin-prohibited from
 * 198.18.0.1", "timeout after 3 tries"...), "file" (the input its frames are
 * in) and, for reverse_dns, "server" (the DNS server asked); per alert
 * "evidence" ([{file, frame, target, result}], the frames of "examples" with
 * their file).  "rate" is null when nothing was attempted.  The frames of a
 * try: the request (first SYN / first datagram / the PTR query), the reply or
 * ICMP error, and the frame of the application answer. */
#include <stdlib.h>
#include <string.h>

#include "nnr_internal.h"

static const char *const method_key[M_COUNT] = {"ntlm_rpc", "netbios", "rdp", "reverse_dns"};
static const char *const method_title[M_COUNT] = {"NTLM over RPC", "NetBIOS", "RDP (TLS)",
                                                  "reverse DNS"};
/* Which method's name the target entry shows first (Defender's order). */
static const int name_order[M_COUNT] = {M_NTLM_RPC, M_NETBIOS, M_RDP, M_RDNS};

static const char *const result_name[R_COUNT] = {
    "none", "resolved",
    "bind_nak", "nbns_negative", "rdp_neg_failure", "tls13_cert_hidden",
    "nxdomain", "servfail", "dns_refused", "dns_error",
    "no_challenge", "no_name", "no_certificate", "no_ptr",
    "refused", "blocked", "no_response", "indeterminate",
};

const char *pw_nnr_method_key(pw_nnr_method m)
{
    return (unsigned)m < M_COUNT ? method_key[m] : "?";
}

const char *pw_nnr_method_title(pw_nnr_method m)
{
    return (unsigned)m < M_COUNT ? method_title[m] : "?";
}

const char *pw_nnr_result_name(pw_nnr_code r)
{
    return (unsigned)r < R_COUNT ? result_name[r] : "?";
}

static int cmp_pair(const void *a, const void *b)
{
    const nnr_pair *x = *(const nnr_pair *const *)a, *y = *(const nnr_pair *const *)b;
    int c = pw_addr_cmp(&x->k.sensor, &y->k.sensor);
    return c ? c : pw_addr_cmp(&x->k.target, &y->k.target);
}

static int cmp_addr(const void *a, const void *b)
{
    return pw_addr_cmp((const pw_addr *)a, (const pw_addr *)b);
}

/* ---- targets ------------------------------------------------------------ */

static void fill_try(pw_res_nnr_try *o, const nnr_try *t)
{
    o->outcome = t->outcome;
    o->result = (pw_nnr_code)t->result;
    o->reason = t->reason;
    o->code = t->code;
    o->retries = t->retries;
    o->has_icmp_from = t->has_icmp_from;
    o->icmp_from = t->icmp_from;
    o->server = t->server;
    o->name = t->name;
    o->source = t->source;
    o->nframes = t->nframes;
    memcpy(o->frames, t->frames, sizeof o->frames);
}

static void fill_target(pw_res_nnr_target *o, const nnr_pair *p)
{
    o->sensor = p->k.sensor;
    o->target = p->k.target;
    for (int m = 0; m < M_COUNT; m++) {
        o->tried[m] = p->m[m].tried;
        if (o->tried[m])
            fill_try(&o->m[m], &p->m[m].best);
    }
    for (int i = 0; i < M_COUNT && !o->name; i++) {
        int m = name_order[i];
        if (o->tried[m] && o->m[m].result == PW_NNR_R_RESOLVED)
            o->name = o->m[m].name;
    }
}

/* ---- per sensor: rates -------------------------------------------------- */

static void set_rate(bool *has, double *rate, unsigned num, unsigned den)
{
    *has = den > 0;
    *rate = den ? (double)num / (double)den : 0.0;
}

/* Rates count targets: each target's best try per method. */
static void sensor_stats(pw_res_nnr_sensor *s, const pw_res_nnr_target *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool any = false, res = false;
        for (int m = 0; m < M_COUNT; m++) {
            if (!t[i].tried[m])
                continue;
            any = true;
            const pw_res_nnr_try *x = &t[i].m[m];
            pw_res_nnr_mstat *st = &s->methods[m];
            st->attempted++;
            if ((unsigned)x->outcome < PW_OUT_COUNT)
                st->out[x->outcome]++;
            if (x->result == PW_NNR_R_RESOLVED) {
                st->resolved++;
                res = true;
            } else if (x->outcome == PW_OUT_ANSWERED) {
                st->app_failed++;
            }
        }
        s->targets += any;
        s->resolved += res;
    }
    for (int m = 0; m < M_COUNT; m++)
        set_rate(&s->methods[m].has_rate, &s->methods[m].rate, s->methods[m].resolved,
                 s->methods[m].attempted);
    set_rate(&s->has_rate, &s->rate, s->resolved, s->targets);
}

/* ---- per sensor and method: alerts -------------------------------------- */

static void add_unique(pw_addr *v, int *n, const pw_addr *a)
{
    for (int k = 0; k < *n; k++)
        if (pw_addr_eq(&v[k], a))
            return;
    if (*n < PW_RES_NNR_LIST)
        v[(*n)++] = *a;
}

/* reverse_dns: the DNS servers the sensor asked, for the remediation. */
static void alert_dns_servers(pw_res_nnr_alert *al, const pw_res_nnr_target *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].tried[M_RDNS])
            add_unique(al->dns_servers, &al->n_dns_servers, &t[i].m[M_RDNS].server);
    qsort(al->dns_servers, (size_t)al->n_dns_servers, sizeof al->dns_servers[0], cmp_addr);
}

/* The failed targets: their causes and ICMP senders (all of them), the first
 * max of them named in the remediation, their frames as examples. */
static void alert_failures(pw_res_nnr_alert *al, const pw_res_nnr_target *t, size_t n, int max,
                           const pw_hosts *hosts)
{
    int m = al->method;
    size_t n_frames = 0;
    al->listed = pw_result_alloc((size_t)max, sizeof *al->listed);
    al->examples = pw_result_alloc((size_t)max * PW_RES_NNR_FRAMES, sizeof *al->examples);
    for (size_t i = 0; i < n; i++) {
        if (!t[i].tried[m] || t[i].m[m].result == PW_NNR_R_RESOLVED)
            continue;
        const pw_res_nnr_try *x = &t[i].m[m];
        al->causes[x->result] = true;
        if (x->has_icmp_from && x->outcome == PW_OUT_BLOCKED)
            add_unique(al->blockers, &al->n_blockers, &x->icmp_from);
        if (al->n_listed >= (size_t)max)
            continue;
        al->listed[al->n_listed++] =
            (pw_res_nnr_failed){t[i].target, pw_hosts_best_name(hosts, &t[i].target), x};
        for (int k = 0; k < x->nframes; k++)
            al->examples[n_frames++] =
                (pw_res_nnr_example){x->source, x->frames[k], t[i].target, x->result};
    }
    al->n_examples = n_frames;
    qsort(al->blockers, (size_t)al->n_blockers, sizeof al->blockers[0], cmp_addr);
}

/* An alert when the failure share exceeds the threshold; false if none. */
static bool decide_alert(const pw_nnr *nn, pw_res_nnr_alert *al, const pw_res_nnr_sensor *s,
                         int m, const pw_res_nnr_target *t, size_t n, const pw_hosts *hosts)
{
    const pw_res_nnr_mstat *st = &s->methods[m];
    if (st->attempted == 0)
        return false;
    unsigned failed = st->attempted - st->resolved;
    double fail_share = (double)failed / (double)st->attempted;
    if (!(fail_share > nn->cfg.nnr_alert_threshold))
        return false;
    memset(al, 0, sizeof *al);
    al->method = (pw_nnr_method)m;
    al->sensor = s->sensor;
    al->attempted = st->attempted;
    al->resolved = st->resolved;
    al->failed = failed;
    al->rate = st->rate;
    al->fail_share = fail_share;
    if (m == M_RDNS)
        alert_dns_servers(al, t, n);
    alert_failures(al, t, n, nn->cfg.max_evidence > 0 ? nn->cfg.max_evidence : 10, hosts);
    al->message = (pw_msg){.id = PW_MSG_NNR_ALERT, .ref = al};
    al->remediation = (pw_msg){.id = PW_MSG_NNR_REMEDIATION, .ref = al};
    return true;
}

static void decide_sensor(const pw_nnr *nn, pw_res_nnr_sensor *s, const pw_res_nnr_target *t,
                          size_t n, const pw_hosts *hosts)
{
    sensor_stats(s, t, n);
    s->alerts = pw_result_alloc(M_COUNT, sizeof *s->alerts);
    for (int m = 0; m < M_COUNT; m++)
        if (decide_alert(nn, &s->alerts[s->n_alerts], s, m, t, n, hosts))
            s->n_alerts++;
}

/* ---- the sensors -------------------------------------------------------- */

/* The sensors to report, sorted (duplicates possible): every single address
 * given with --sensor, and every requester that is one (--sensor) or looks
 * like one (NNR-shaped requests to PW_NNR_INFER_MIN_TARGETS targets). */
static size_t pick_sensors(const pw_nnr *n, nnr_pair **pv, size_t np, pw_addr *sv)
{
    bool option = n->cfg.n_sensors > 0;
    size_t ns = 0;
    for (int i = 0; option && i < n->cfg.n_sensors && i < PW_MAX_SENSORS; i++) {
        const pw_cidr *c = &n->cfg.sensors[i];
        if ((c->net.family == 4 && c->prefix == 32) || (c->net.family == 6 && c->prefix == 128))
            sv[ns++] = c->net;
    }
    for (size_t i = 0; i < np;) {
        size_t j = i;
        unsigned shaped_targets = 0;
        while (j < np && pw_addr_eq(&pv[j]->k.sensor, &pv[i]->k.sensor)) {
            bool shaped = false;
            for (int m = 0; m < M_COUNT; m++)
                shaped |= pv[j]->m[m].shaped;
            shaped_targets += shaped;
            j++;
        }
        if (option ? is_sensor_candidate(n, &pv[i]->k.sensor)
                   : shaped_targets >= PW_NNR_INFER_MIN_TARGETS)
            sv[ns++] = pv[i]->k.sensor;
        i = j;
    }
    qsort(sv, ns, sizeof *sv, cmp_addr);
    return ns;
}

/* The (sensor, target) summaries, sorted. */
static nnr_pair **sorted_pairs(const pw_nnr *n)
{
    nnr_pair **pv = pw_result_alloc(n->n_pairs, sizeof *pv);
    size_t k = n->n_pairs;
    if (k)
        memcpy(pv, n->pairs, k * sizeof *pv);
    qsort(pv, k, sizeof *pv, cmp_pair);
    return pv;
}

void pw_nnr_result(pw_nnr *n, const pw_hosts *hosts, pw_result *r)
{
    pw_res_nnr *out = &r->nnr;
    memset(out, 0, sizeof *out);
    if (!n)
        return;
    out->alert_threshold = n->cfg.nnr_alert_threshold;
    size_t np = n->n_pairs;
    nnr_pair **pv = sorted_pairs(n);
    pw_addr *sv = pw_result_alloc(np + PW_MAX_SENSORS + 1, sizeof *sv);
    size_t ns = pick_sensors(n, pv, np, sv);
    out->sensors = pw_result_alloc(ns, sizeof *out->sensors);
    out->targets = pw_result_alloc(np, sizeof *out->targets);
    size_t pi = 0;
    for (size_t s = 0; s < ns; s++) {
        if (s > 0 && pw_addr_eq(&sv[s], &sv[s - 1]))
            continue;
        while (pi < np && pw_addr_cmp(&pv[pi]->k.sensor, &sv[s]) < 0)
            pi++;
        pw_res_nnr_target *first = &out->targets[out->n_targets];
        for (; pi < np && pw_addr_eq(&pv[pi]->k.sensor, &sv[s]); pi++)
            fill_target(&out->targets[out->n_targets++], pv[pi]);
        pw_res_nnr_sensor *so = &out->sensors[out->n_sensors++];
        so->sensor = sv[s];
        so->found_by_option = n->cfg.n_sensors > 0;
        decide_sensor(n, so, first, (size_t)(&out->targets[out->n_targets] - first), hosts);
    }
    free(sv);
    free(pv);
}
