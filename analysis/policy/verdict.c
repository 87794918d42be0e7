/* policy/verdict.c - per rule: the matching aggregates or cloud flows, the
 * verdict over (client, server) pairs, the server and client breakdown,
 * evidence, notes, and the order of the rules in the result. */
#include "internal.h"

#include "../apps.h"

/* ---- verdicts --------------------------------------------------------------- */

/* The application's answers on one pair's attempts. */
typedef struct appc {
    uint64_t ok, failed;
} appc;

/* A pair whose answered connections carried application calls that all
 * failed does not pass: the port is open but what it is for does not work. */
static bool app_failed_only(const appc *ap)
{
    return ap->failed && !ap->ok;
}

static pw_verdict verdict_of_counts(const uint64_t c[PW_OUT_COUNT], const appc *ap)
{
    uint64_t ok = c[PW_OUT_ANSWERED];
    uint64_t bad = c[PW_OUT_REFUSED] + c[PW_OUT_BLOCKED] + c[PW_OUT_UNANSWERED];
    if (ok && app_failed_only(ap))
        return PW_VERDICT_FAIL;
    if (ok && bad)
        return PW_VERDICT_PARTIAL;
    if (ok)
        return PW_VERDICT_PASS;
    if (bad)
        return PW_VERDICT_FAIL;
    if (c[PW_OUT_INDETERMINATE])
        return PW_VERDICT_INDETERMINATE;
    return PW_VERDICT_UNOBSERVED;
}

typedef struct vacc {
    bool pass, fail, partial, ind;
    bool app_fail, transport_fail; /* what failed pairs failed on */
} vacc;

/* Records what a failing pair failed on. */
static void vacc_cause(vacc *v, const uint64_t c[PW_OUT_COUNT], const appc *ap)
{
    if (c[PW_OUT_ANSWERED] && app_failed_only(ap))
        v->app_fail = true;
    else if (c[PW_OUT_REFUSED] + c[PW_OUT_BLOCKED] + c[PW_OUT_UNANSWERED])
        v->transport_fail = true;
}

static void vacc_add(vacc *v, pw_verdict x)
{
    if (x == PW_VERDICT_PASS) v->pass = true;
    else if (x == PW_VERDICT_FAIL) v->fail = true;
    else if (x == PW_VERDICT_PARTIAL) v->partial = true;
    else if (x == PW_VERDICT_INDETERMINATE) v->ind = true;
}

static pw_verdict vacc_get(const vacc *v)
{
    if (v->partial || (v->pass && v->fail))
        return PW_VERDICT_PARTIAL;
    if (v->pass)
        return PW_VERDICT_PASS;
    if (v->fail)
        return PW_VERDICT_FAIL;
    if (v->ind)
        return PW_VERDICT_INDETERMINATE;
    return PW_VERDICT_UNOBSERVED;
}

/* One matched unit: an aggregate or a cloud flow, reduced to what verdicts need. */
typedef struct unit {
    pw_addr client, server;
    bool c_inf, s_inf;
    uint64_t counts[PW_OUT_COUNT];
    appc app;
    const agg *g;
    const cflow *f;
} unit;

typedef struct evid {
    uint32_t source;
    uint64_t frame, frame_reply, epm_frame;
    pw_usec ts;
    pw_addr client, server;
    uint16_t port;
    uint8_t proto;
    pw_outcome outcome;
    const char *reason; /* a static name */
    bool path_refused;
    pw_addr path_device;
    const cflow *f;
    pw_responder_ev resp;
} evid;

static int cmp_pair(const void *a, const void *b)
{
    const unit *x = a, *y = b;
    int c = pw_addr_cmp(&x->client, &y->client);
    return c ? c : pw_addr_cmp(&x->server, &y->server);
}

static int cmp_server(const void *a, const void *b)
{
    const unit *x = a, *y = b;
    int c = pw_addr_cmp(&x->server, &y->server);
    return c ? c : pw_addr_cmp(&x->client, &y->client);
}

static int evid_cmp(const void *a, const void *b)
{
    const evid *x = a, *y = b;
    bool xo = x->outcome == PW_OUT_ANSWERED, yo = y->outcome == PW_OUT_ANSWERED;
    if (xo != yo)
        return xo ? 1 : -1; /* failures first: they are what the user acts on */
    if (x->source != y->source)
        return x->source < y->source ? -1 : 1;
    if (x->frame != y->frame)
        return x->frame < y->frame ? -1 : 1;
    return 0;
}

/* The max_evidence best evidence entries of a rule (evid_cmp order), kept
 * as a bounded max-heap while the rule's aggregates are walked. */
typedef struct evheap {
    evid *e;
    size_t n, k;
} evheap;

static void ev_swap(evid *a, evid *b)
{
    evid t = *a;
    *a = *b;
    *b = t;
}

static void ev_push(evheap *h, const evid *x)
{
    if (!h->k)
        return;
    if (h->n < h->k) {
        size_t i = h->n++;
        h->e[i] = *x;
        while (i) {
            size_t up = (i - 1) / 2;
            if (evid_cmp(&h->e[up], &h->e[i]) >= 0)
                break;
            ev_swap(&h->e[up], &h->e[i]);
            i = up;
        }
        return;
    }
    if (evid_cmp(x, &h->e[0]) >= 0)
        return; /* no better than the worst kept */
    h->e[0] = *x;
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && evid_cmp(&h->e[l], &h->e[m]) > 0)
            m = l;
        if (r < h->n && evid_cmp(&h->e[r], &h->e[m]) > 0)
            m = r;
        if (m == i)
            break;
        ev_swap(&h->e[i], &h->e[m]);
        i = m;
    }
}



static bool agg_matches_ports(const pw_rule_def *r, const agg *g)
{
    if (r->n_hosts || g->k.proto != r->proto)
        return false;
    if (r->ports.epm_dynamic)
        return g->k.dyn == AN_EPM;
    if (r->ports.rpc_dynamic)
        return g->k.dyn == AN_EPM && pw_portspec_has(&r->ports, g->k.port);
    if (r->ports.sql_announced && g->k.dyn == AN_SSRP)
        return true;
    return pw_portspec_has(&r->ports, g->k.port);
}

/* Units of one rule, and what its evaluation gathers. */
typedef struct rule_acc {
    unit *u;
    size_t n, cap;
    evheap eh;
    uint64_t total[PW_OUT_COUNT];
    uint64_t folded;
    pw_res_app app;
    pw_msg *notes;
    size_t n_notes, cap_notes;
} rule_acc;

static unit *acc_unit(rule_acc *acc)
{
    if (acc->n == acc->cap) {
        acc->cap = acc->cap ? acc->cap * 2 : 64;
        unit *u = pw_result_alloc(acc->cap, sizeof *u);
        if (acc->n)
            memcpy(u, acc->u, acc->n * sizeof *u);
        free(acc->u);
        acc->u = u;
    }
    unit *x = &acc->u[acc->n++];
    memset(x, 0, sizeof *x);
    return x;
}

static void acc_note(rule_acc *acc, const pw_msg *m)
{
    if (acc->n_notes == acc->cap_notes) {
        acc->cap_notes = acc->cap_notes ? acc->cap_notes * 2 : 2;
        pw_msg *v = pw_result_alloc(acc->cap_notes, sizeof *v);
        if (acc->n_notes)
            memcpy(v, acc->notes, acc->n_notes * sizeof *v);
        free(acc->notes);
        acc->notes = v;
    }
    acc->notes[acc->n_notes++] = *m;
}

static void acc_app(pw_res_app *to, const pw_res_app *from)
{
    if (from->name[0] && !to->name[0])
        memcpy(to->name, from->name, sizeof to->name);
    to->ok += from->ok;
    to->failed += from->failed;
    to->h2_tls += from->h2_tls;
    for (uint8_t i = 0; i < from->n_codes; i++)
        pw_app_code_add(to->codes, &to->n_codes, from->codes[i].code, from->codes[i].n);
}

/* The evidence samples of an aggregate, failures and answers. */
static void agg_evidence(rule_acc *acc, const agg *g)
{
    for (int pass = 0; pass < 2; pass++) {
        const sample *s = pass ? g->ok : g->bad;
        int m = pass ? g->n_ok : g->n_bad;
        for (int i = 0; i < m; i++) {
            evid e;
            memset(&e, 0, sizeof e);
            e.source = s[i].source;
            e.frame = s[i].frame;
            e.frame_reply = s[i].frame_reply;
            e.epm_frame = s[i].epm_frame;
            e.ts = s[i].ts;
            e.client = s[i].client;
            e.server = s[i].server;
            e.port = g->k.port;
            e.proto = g->k.proto;
            e.outcome = (pw_outcome)s[i].outcome;
            e.reason = pw_reason_name((pw_reason)s[i].reason);
            e.resp = s[i].resp;
            ev_push(&acc->eh, &e);
        }
    }
}

/* Port rules: every aggregate on the rule's ports whose sides hold the roles. */
static void match_aggs(pw_policy *p, const pw_profile_def *d, const pw_rule_def *r, rule_acc *acc)
{
    bool c_inf, s_inf, c_rule, s_rule;
    agg *g;
    FOR_AGG(p, g) {
        if (!agg_matches_ports(r, g))
            continue;
        if (!side_ok(p, d, r->to, ag_server(g), r, true, &s_inf, &s_rule) ||
            !side_ok(p, d, r->from, ag_client(g), r, false, &c_inf, &c_rule))
            continue;
        if (s_rule)
            by_rule_assign(p, r->to, ag_server(g), r, true);
        if (c_rule)
            by_rule_assign(p, r->from, ag_client(g), r, false);
        unit *x = acc_unit(acc);
        x->client = *ag_client(g);
        x->server = *ag_server(g);
        x->c_inf = c_inf;
        x->s_inf = s_inf;
        x->g = g;
        memcpy(x->counts, g->counts, sizeof x->counts);
        if (g->app) {
            x->app = (appc){g->app->ok, g->app->failed};
            acc_app(&acc->app, g->app);
        }
        for (int o = 0; o < PW_OUT_COUNT; o++)
            acc->total[o] += g->counts[o];
        if (g->k.level != LV_PAIR)
            acc->folded += ag_total(g);
        agg_evidence(acc, g);
    }
}

/* A cloud flow as evidence: its reply is the ServerHello, CONNECT status,
 * alert or TCP reply, whichever came. */
static void cflow_evidence(rule_acc *acc, const cflow *f, pw_outcome o, const char *reason)
{
    evid e;
    memset(&e, 0, sizeof e);
    e.source = f->source;
    e.frame = f->frame;
    e.frame_reply = f->sh_frame ? f->sh_frame : f->status_frame ? f->status_frame
                  : f->alert_frame ? f->alert_frame : f->att_reply;
    e.ts = f->ts;
    e.client = f->k.client;
    e.server = f->k.server;
    e.port = f->k.sport;
    e.proto = 6;
    e.outcome = o;
    e.f = f;
    e.reason = reason;
    ev_push(&acc->eh, &e);
}

/* Name rules: every cloud flow for the rule's names from a host holding the role. */
static void match_cflows(pw_policy *p, const pw_profile_def *d, const pw_rule_def *r, rule_acc *acc)
{
    bool c_inf, s_inf, c_rule, s_rule;
    cflow *f, *t;
    LL_FOREACH_SAFE(p->cflows, f, t) {
        if (!cflow_matches(r, f) || !side_ok(p, d, r->from, &f->k.client, r, false, &c_inf, &c_rule))
            continue;
        s_inf = true;
        if (f->is_connect)
            side_ok(p, NULL, "proxy", &f->k.server, NULL, true, &s_inf, &s_rule);
        if (c_rule)
            by_rule_assign(p, r->from, &f->k.client, r, false);
        const char *reason, *failure;
        pw_outcome o = cflow_outcome(f, &reason, &failure);
        unit *x = acc_unit(acc);
        x->client = f->k.client;
        x->server = f->k.server;
        x->c_inf = c_inf;
        x->s_inf = s_inf;
        x->f = f;
        x->counts[o] = 1;
        acc->total[o]++;
        cflow_evidence(acc, f, o, reason);
        if (f->cert && !issuer_expected(r, f->issuer)) {
            pw_msg m = {.id = PW_MSG_RULE_TLS_INSPECTION, .s = {cflow_name(f), f->issuer},
                        .a = f->k.client, .source = f->source, .n = {f->cert_frame}};
            acc_note(acc, &m);
        }
    }
}

/* SQL Browser announcements no attempt followed, between hosts that hold
 * the rule's roles: the client never tried the instance port it was given. */
static void announced_unused(pw_policy *p, const pw_profile_def *d, const pw_rule_def *r, rule_acc *acc)
{
    bool c_inf, s_inf, c_rule, s_rule;
    epm_ent *e, *t;
    HASH_ITER(hh, p->epm, e, t) {
        if (e->by != AN_SSRP || e->used || r->proto != 6)
            continue;
        if (!side_ok(p, d, r->to, &e->k.target, r, true, &s_inf, &s_rule) ||
            !side_ok(p, d, r->from, &e->k.client, r, false, &c_inf, &c_rule))
            continue;
        pw_msg m = {.id = PW_MSG_RULE_ANNOUNCED_UNUSED, .s = {e->instance}, .a = e->k.target,
                    .a2 = e->k.client, .source = e->source, .n = {e->k.port, e->frame}};
        acc_note(acc, &m);
    }
}

/* The verdict over (client, server) pairs, and what failing pairs failed on. */
static pw_verdict pairs_verdict(unit *u, size_t n, pw_rule_cause *cause)
{
    if (n)
        qsort(u, n, sizeof *u, cmp_pair);
    vacc v = {0};
    for (size_t i = 0; i < n;) {
        uint64_t c[PW_OUT_COUNT] = {0};
        appc ap = {0, 0};
        size_t j = i;
        while (j < n && pw_addr_eq(&u[j].client, &u[i].client) && pw_addr_eq(&u[j].server, &u[i].server)) {
            for (int o = 0; o < PW_OUT_COUNT; o++)
                c[o] += u[j].counts[o];
            ap.ok += u[j].app.ok;
            ap.failed += u[j].app.failed;
            j++;
        }
        pw_verdict pv = verdict_of_counts(c, &ap);
        vacc_add(&v, pv);
        if (pv == PW_VERDICT_FAIL || pv == PW_VERDICT_PARTIAL)
            vacc_cause(&v, c, &ap);
        i = j;
    }
    pw_verdict verdict = vacc_get(&v);
    *cause = PW_CAUSE_NONE;
    if (verdict == PW_VERDICT_FAIL || verdict == PW_VERDICT_PARTIAL)
        *cause = v.transport_fail || !v.app_fail ? PW_CAUSE_TRANSPORT : PW_CAUSE_APPLICATION;
    return verdict;
}

static const pw_addr *side_key(const unit *u, bool servers) { return servers ? &u->server : &u->client; }
static const pw_addr *side_other(const unit *u, bool servers) { return servers ? &u->client : &u->server; }

/* One server (or client): the verdict over its pairs, units [i, *end). */
static pw_res_side side_of(const unit *u, size_t n, size_t i, bool servers, size_t *end)
{
    const pw_addr *key = side_key(&u[i], servers);
    pw_res_side out = {.ip = *key, .role_inferred = servers ? u[i].s_inf : u[i].c_inf};
    vacc v = {0};
    size_t j = i;
    while (j < n && pw_addr_eq(side_key(&u[j], servers), key)) {
        /* pair verdicts: units are sorted so pairs are adjacent */
        uint64_t c[PW_OUT_COUNT] = {0};
        appc ap = {0, 0};
        const pw_addr *other = side_other(&u[j], servers);
        size_t k = j;
        while (k < n && pw_addr_eq(side_key(&u[k], servers), key) && pw_addr_eq(side_other(&u[k], servers), other)) {
            for (int o = 0; o < PW_OUT_COUNT; o++)
                c[o] += u[k].counts[o];
            ap.ok += u[k].app.ok;
            ap.failed += u[k].app.failed;
            k++;
        }
        for (int o = 1; o < PW_OUT_COUNT; o++)
            out.attempts += c[o];
        vacc_add(&v, verdict_of_counts(c, &ap));
        j = k;
    }
    out.verdict = vacc_get(&v);
    *end = j;
    return out;
}

static int side_cmp_ip(const void *a, const void *b)
{
    return pw_addr_cmp(&((const pw_res_side *)a)->ip, &((const pw_res_side *)b)->ip);
}

/* Failing sides before passing ones, then by address. */
static int side_cmp_failing(const void *a, const void *b)
{
    const pw_res_side *x = a, *y = b;
    bool fx = x->verdict != PW_VERDICT_PASS, fy = y->verdict != PW_VERDICT_PASS;
    if (fx != fy)
        return fx ? -1 : 1;
    return pw_addr_cmp(&x->ip, &y->ip);
}

/* At most PW_RES_MAX_LIST sides are listed, the failing ones first; the
 * rest is counted in *omitted. */
static void trim_sides(pw_res_side *arr, size_t *count, size_t *omitted)
{
    *omitted = 0;
    if (*count <= PW_RES_MAX_LIST)
        return;
    qsort(arr, *count, sizeof *arr, side_cmp_failing);
    *omitted = *count - PW_RES_MAX_LIST;
    *count = PW_RES_MAX_LIST;
    qsort(arr, *count, sizeof *arr, side_cmp_ip);
}

static pw_res_side *side_list(unit *u, size_t n, bool servers, size_t *count, size_t *omitted)
{
    if (n)
        qsort(u, n, sizeof *u, servers ? cmp_server : cmp_pair);
    pw_res_side *arr = pw_result_alloc(n, sizeof *arr);
    *count = 0;
    for (size_t i = 0; i < n;)
        arr[(*count)++] = side_of(u, n, i, servers, &i);
    trim_sides(arr, count, omitted);
    return arr;
}

static pw_res_evidence evidence_of(const evid *e)
{
    pw_res_evidence o = {.source = e->source, .frame = e->frame, .frame_reply = e->frame_reply,
                         .epm_frame = e->epm_frame, .ts = e->ts, .client = e->client,
                         .server = e->server, .proto = e->proto, .port = e->port,
                         .outcome = e->outcome, .reason = e->reason, .resp = e->resp,
                         /* refused by a device in the path (issue 9's responder); its address
                          * is known when the refusal is an ICMP error from a third address */
                         .path_refused = e->resp.responder == PW_RESPONDER_PATH};
    if (o.path_refused && e->resp.has_icmp_from && !pw_addr_eq(&e->resp.icmp_from, &e->server))
        o.path_device = e->resp.icmp_from;
    if (e->f) {
        const cflow *f = e->f;
        o.cloud = true;
        o.host = cflow_name(f);
        o.via_proxy = f->is_connect;
        o.connect_port = f->connect_port;
        o.status = f->status;
        o.issuer = f->cert ? f->issuer : NULL;
    }
    return o;
}

/* The best max_evidence entries: failures first, then by input and frame. */
static void rule_evidence(const pw_policy *p, rule_acc *acc, pw_res_rule *out)
{
    if (acc->eh.n)
        qsort(acc->eh.e, acc->eh.n, sizeof *acc->eh.e, evid_cmp);
    out->evidence = pw_result_alloc(acc->eh.n, sizeof *out->evidence);
    for (size_t i = 0; i < acc->eh.n && (int)i < p->cfg.max_evidence; i++)
        out->evidence[out->n_evidence++] = evidence_of(&acc->eh.e[i]);
}

static void rule_def_fields(pw_res_rule *o, const pw_profile_def *d, const pw_rule_def *r)
{
    o->profile = d->name;
    o->id = r->id;
    o->table = r->table ? r->table : "";
    o->description = r->description;
    o->from = r->from;
    o->to = r->to;
    o->ports = r->ports.text;
    o->remediation = r->remediation;
    o->proto = r->proto;
    o->required = r->required;
    o->hosts = (const char(*)[128])r->hosts;
    o->n_hosts = r->n_hosts;
    o->prove = r->prove;
    o->dynamic = r->ports.epm_dynamic ? 1 : r->ports.rpc_dynamic ? 2 : 0;
}

static void evaluate_rule(pw_policy *p, const pw_profile_def *d, const pw_rule_def *r, pw_res_rule *out)
{
    rule_acc acc = {0};
    size_t k = (size_t)(p->cfg.max_evidence > 0 ? p->cfg.max_evidence : 1);
    acc.eh = (evheap){pw_result_alloc(k, sizeof(evid)), 0, (size_t)p->cfg.max_evidence};
    if (!r->n_hosts)
        match_aggs(p, d, r, &acc);
    if (r->ports.sql_announced)
        announced_unused(p, d, r, &acc);
    else
        match_cflows(p, d, r, &acc);
    rule_def_fields(out, d, r);
    out->verdict = pairs_verdict(acc.u, acc.n, &out->cause);
    out->app = acc.app;
    out->failing_required = r->required && (out->verdict == PW_VERDICT_FAIL || out->verdict == PW_VERDICT_PARTIAL);
    out->servers = side_list(acc.u, acc.n, true, &out->n_servers, &out->servers_omitted);
    out->clients = side_list(acc.u, acc.n, false, &out->n_clients, &out->clients_omitted);
    rule_evidence(p, &acc, out);
    memcpy(out->counts, acc.total, sizeof out->counts);
    out->folded = acc.folded;
    if (acc.folded) {
        pw_msg m = {.id = PW_MSG_RULE_FOLDED, .n = {acc.folded, p->lim.pairs}};
        acc_note(&acc, &m);
        out->truncated = true;
    }
    out->notes = acc.notes;
    out->n_notes = acc.n_notes;
    if (out->verdict == PW_VERDICT_UNOBSERVED)
        out->proof_needed = (pw_msg){.id = PW_MSG_RULE_PROOF, .ref = out};
    free(acc.u);
    free(acc.eh.e);
}

/* ---- the result --------------------------------------------------------------- */

static void profiles_result(const pw_policy *p, pw_result *r)
{
    r->profiles = pw_result_alloc((size_t)p->n_prof, sizeof *r->profiles);
    for (int i = 0; i < p->n_prof; i++) {
        const loaded *l = &p->prof[i];
        if (!l->active)
            continue;
        pw_res_profile *o = &r->profiles[r->n_profiles++];
        o->name = l->def->name;
        o->path = l->def->path;
        o->description = l->def->description;
        o->builtin = l->def->builtin;
        memcpy(o->hits, l->hits, sizeof o->hits);
        o->n_hits = l->n_hits;
        o->why = (pw_msg){.id = l->explicit_ ? PW_MSG_PROFILE_SELECTED : PW_MSG_PROFILE_TRAFFIC, .ref = o};
    }
}

/* Report order: required fail, required partial, other required, optional. */
static int rule_group(const pw_res_rule *x)
{
    return !x->required ? 3 : x->verdict == PW_VERDICT_FAIL ? 0 : x->verdict == PW_VERDICT_PARTIAL ? 1 : 2;
}

/* Evaluates every rule of the active profiles into r->rules, in report order,
 * and settles --fail-on. */
static void rules_result(pw_policy *p, pw_result *r)
{
    size_t total = 0;
    for (int i = 0; i < p->n_prof; i++)
        if (p->prof[i].active)
            total += (size_t)p->prof[i].def->n_rules;
    pw_res_rule *tmp = pw_result_alloc(total, sizeof *tmp);
    size_t n = 0;
    for (int i = 0; i < p->n_prof; i++)
        if (p->prof[i].active)
            for (int k = 0; k < p->prof[i].def->n_rules; k++)
                evaluate_rule(p, p->prof[i].def, &p->prof[i].def->rules[k], &tmp[n++]);
    r->rules = pw_result_alloc(n, sizeof *r->rules);
    r->fail_on_matched = false;
    for (int group = 0; group < 4; group++)
        for (size_t i = 0; i < n; i++) {
            if (rule_group(&tmp[i]) != group)
                continue;
            pw_res_rule *x = &r->rules[r->n_rules++];
            *x = tmp[i];
            if (x->proof_needed.id)
                x->proof_needed.ref = x; /* moved */
            if (x->required && (unsigned)x->verdict < 8 && p->cfg.fail_on[x->verdict])
                r->fail_on_matched = true;
        }
    free(tmp);
}

void pw_policy_result(pw_policy *p, pw_result *r)
{
    if (!p)
        return;
    clear_assigns(p);
    choose_profiles(p);
    build_answered(p);
    decide_roles(p);
    profiles_result(p, r);
    rules_result(p, r);
    sensor_cloud(p, r);
    roles_result(p, r);
    r->exit_hint = r->fail_on_matched ? 3 : 0;
}
