/* policy/cloud.c - the sensor-to-cloud checks of the Defender for Identity
 * sensor profile: the outcome of a "cloud flow" (TLS to a watched name,
 * directly or through an HTTP CONNECT proxy) and the per-sensor summary. */
#include "internal.h"

/* Outcome of a cloud flow (002) and its reason. */
pw_outcome cflow_outcome(const cflow *f, const char **reason, const char **failure)
{
    *failure = NULL;
    if (f->server_hello) {
        *reason = "tls-server-hello";
        return PW_OUT_ANSWERED;
    }
    if (f->alert) {
        *reason = "tls-alert";
        *failure = "tls-alert";
        return PW_OUT_REFUSED;
    }
    if (f->is_connect) {
        if (f->status == 200) {
            if (f->client_hello) {
                *reason = "tls-handshake-incomplete";
                *failure = "tls-handshake-incomplete";
                return PW_OUT_UNANSWERED;
            }
            *reason = "proxy-connect-200";
            return PW_OUT_ANSWERED;
        }
        if (f->status == 403) {
            *reason = "proxy-denied-403";
            *failure = "proxy-denied";
            return PW_OUT_BLOCKED;
        }
        if (f->status == 407) {
            *reason = "proxy-auth-required-407";
            *failure = "proxy-auth-required";
            return PW_OUT_BLOCKED;
        }
        if (f->status) {
            *reason = "proxy-error-status";
            *failure = "proxy-error";
            return PW_OUT_BLOCKED;
        }
        if (!f->has_attempt || f->tcp_out == PW_OUT_ANSWERED || f->tcp_out == PW_OUT_INDETERMINATE) {
            *reason = "proxy-no-response";
            *failure = "proxy-no-response";
            return f->has_attempt && f->tcp_out == PW_OUT_INDETERMINATE ? PW_OUT_INDETERMINATE
                                                                         : PW_OUT_UNANSWERED;
        }
    } else if (f->client_hello) {
        /* no server packet of this flow was seen at all: a one-sided capture */
        if (f->has_attempt && (f->tcp_out == PW_OUT_INDETERMINATE || f->tcp_reason == PW_R_INFERRED)) {
            *reason = "one-sided";
            return PW_OUT_INDETERMINATE;
        }
        *reason = "tls-handshake-incomplete";
        *failure = "tls-handshake-incomplete";
        return PW_OUT_UNANSWERED;
    }
    if (!f->has_attempt) {
        *reason = "no-attempt";
        return PW_OUT_INDETERMINATE;
    }
    *reason = pw_reason_name((pw_reason)f->tcp_reason);
    switch ((pw_outcome)f->tcp_out) {
    case PW_OUT_ANSWERED: return PW_OUT_ANSWERED;
    case PW_OUT_REFUSED: *failure = "reset"; return PW_OUT_REFUSED;
    case PW_OUT_BLOCKED: *failure = "blocked"; return PW_OUT_BLOCKED;
    case PW_OUT_UNANSWERED: *failure = "unanswered"; return PW_OUT_UNANSWERED;
    default: return PW_OUT_INDETERMINATE;
    }
}

static uint16_t cflow_port(const cflow *f) { return f->is_connect ? f->connect_port : f->k.sport; }

bool cflow_matches(const pw_rule_def *r, const cflow *f)
{
    const char *name = cflow_name(f);
    bool hit = false;
    for (int i = 0; i < r->n_hosts && !hit; i++)
        hit = pw_name_match(r->hosts[i], name);
    return hit && r->proto == 6 && (r->ports.epm_dynamic || pw_portspec_has(&r->ports, cflow_port(f)));
}

bool issuer_expected(const pw_rule_def *r, const char *issuer)
{
    if (!r->n_issuers)
        return true;
    for (int i = 0; i < r->n_issuers; i++)
        if (strcasestr(issuer, r->expected_issuers[i]))
            return true;
    return false;
}

/* The name rules of the active profiles (at most 64). */
static int cloud_rules(const pw_policy *p, const pw_rule_def **rules)
{
    int nr = 0;
    for (int i = 0; i < p->n_prof; i++)
        if (p->prof[i].active)
            for (int r = 0; r < p->prof[i].def->n_rules && nr < 64; r++)
                if (p->prof[i].def->rules[r].n_hosts)
                    rules[nr++] = &p->prof[i].def->rules[r];
    return nr;
}

static bool cflow_before(const cflow *a, const cflow *b)
{
    int c = pw_addr_cmp(&a->k.client, &b->k.client);
    return c < 0 || (c == 0 && (a->source < b->source || (a->source == b->source && a->frame <= b->frame)));
}

/* The cloud flows a name rule matches from a host holding its from-role,
 * sorted by client, then input and frame. */
static const cflow **cloud_flows(const pw_policy *p, const pw_rule_def **rules, int nr, size_t *n)
{
    size_t cap = 16;
    const cflow **fl = pw_result_alloc(cap, sizeof *fl);
    *n = 0;
    cflow *f, *t;
    LL_FOREACH_SAFE(p->cflows, f, t) {
        const pw_rule_def *hit = NULL;
        for (int i = 0; i < nr && !hit; i++)
            if (cflow_matches(rules[i], f))
                hit = rules[i];
        bool inf, by;
        if (!hit || !side_ok(p, NULL, hit->from, &f->k.client, hit, false, &inf, &by))
            continue;
        if (*n == cap) {
            const cflow **v = pw_result_alloc(cap * 2, sizeof *v);
            memcpy(v, fl, cap * sizeof *v);
            free(fl);
            fl = v;
            cap *= 2;
        }
        fl[(*n)++] = f;
    }
    for (size_t i = 1; i < *n; i++) { /* insertion sort: small */
        const cflow *x = fl[i];
        size_t j = i;
        for (; j > 0 && !cflow_before(fl[j - 1], x); j--)
            fl[j] = fl[j - 1];
        fl[j] = x;
    }
    return fl;
}

/* The certificate is not from the chain a matching rule expects. */
static bool cflow_inspected(const cflow *c, const pw_rule_def **rules, int nr)
{
    if (!c->cert)
        return false;
    bool expected = true;
    for (int r = 0; r < nr; r++)
        if (cflow_matches(rules[r], c) && !issuer_expected(rules[r], c->issuer))
            expected = false;
    return !expected;
}

static pw_res_cloud_conn conn_of(const cflow *c, pw_outcome o, const char *reason, const char *failure,
                                 bool insp)
{
    pw_res_cloud_conn x = {.via_proxy = c->is_connect, .source = c->source, .frame = c->frame,
                           .ts = c->ts, .host = cflow_name(c), .server = c->k.server,
                           .server_port = c->k.sport, .port = cflow_port(c), .outcome = o,
                           .result = reason, .status = c->status, .failure = failure,
                           .tls_server_hello = c->server_hello,
                           .issuer = c->cert ? c->issuer : NULL, .tls_inspection = insp};
    return x;
}

/* One sensor: its flows fl[0..n). */
static void cloud_sensor(const pw_policy *p, const cflow **fl, size_t n, const pw_rule_def **rules,
                         int nr, pw_res_cloud *s)
{
    size_t max = (size_t)(p->cfg.max_evidence > 0 ? p->cfg.max_evidence : 1);
    bool ind_only = true;
    s->conns = pw_result_alloc(n < max ? n : max, sizeof *s->conns);
    s->issuers = pw_result_alloc(n, sizeof *s->issuers);
    for (size_t j = 0; j < n; j++) {
        const cflow *c = fl[j];
        const char *reason, *failure;
        pw_outcome o = cflow_outcome(c, &reason, &failure);
        if (o == PW_OUT_ANSWERED) {
            s->reached = true;
            if (c->is_connect) {
                s->via_proxy = true;
                s->proxy = c->k.server;
                s->proxy_port = c->k.sport;
            }
        }
        ind_only &= o == PW_OUT_INDETERMINATE;
        if (failure && !s->failure)
            s->failure = failure;
        bool insp = cflow_inspected(c, rules, nr);
        if (insp) {
            s->inspection = true;
            s->issuers[s->n_issuers++] = c->issuer;
        }
        if (s->n_conns < max)
            s->conns[s->n_conns++] = conn_of(c, o, reason, failure, insp);
    }
    if (s->reached)
        s->failure = NULL;
    s->verdict = s->reached ? PW_VERDICT_PASS : ind_only ? PW_VERDICT_INDETERMINATE : PW_VERDICT_FAIL;
    if (s->inspection)
        s->inspection_note = (pw_msg){.id = PW_MSG_CLOUD_TLS_INSPECTION};
    bool by;
    s->role_inferred = true;
    s->sensor = fl[0]->k.client;
    side_ok(p, NULL, "sensor", &s->sensor, NULL, false, &s->role_inferred, &by);
}

/* Per sensor, how it reached (or failed to reach) the cloud. */
void sensor_cloud(pw_policy *p, pw_result *r)
{
    const pw_rule_def *rules[64];
    int nr = cloud_rules(p, rules);
    if (!nr)
        return;
    size_t n;
    const cflow **fl = cloud_flows(p, rules, nr, &n);
    r->cloud = pw_result_alloc(n, sizeof *r->cloud);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && pw_addr_eq(&fl[j]->k.client, &fl[i]->k.client))
            j++;
        cloud_sensor(p, fl + i, j - i, rules, nr, &r->cloud[r->n_cloud++]);
        i = j;
    }
    free(fl);
}
