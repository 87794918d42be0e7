/* policy/verdict.c - per rule: the matching aggregates or cloud flows, the
 * verdict over (client, server) pairs, the server and client breakdown,
 * evidence, and the order of the rules in the report. */
#include "internal.h"


static const char *const verdict_names[PW_VERDICT_COUNT] = {
    "pass", "fail", "partial", "unobserved", "indeterminate",
};

const char *pw_verdict_name(pw_verdict v)
{
    return (unsigned)v < PW_VERDICT_COUNT ? verdict_names[v] : "?";
}

int pw_verdict_parse(const char *name)
{
    for (int i = 0; i < PW_VERDICT_COUNT; i++)
        if (name && strcmp(name, verdict_names[i]) == 0)
            return i;
    return -1;
}
/* ---- verdicts --------------------------------------------------------------- */

static pw_verdict verdict_of_counts(const uint64_t c[PW_OUT_COUNT])
{
    uint64_t ok = c[PW_OUT_ANSWERED];
    uint64_t bad = c[PW_OUT_REFUSED] + c[PW_OUT_BLOCKED] + c[PW_OUT_UNANSWERED];
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
} vacc;

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
    const cflow *f;
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


static json_t *jcounts(const uint64_t c[PW_OUT_COUNT], size_t servers, size_t clients, uint64_t folded)
{
    uint64_t total = 0;
    for (int i = 1; i < PW_OUT_COUNT; i++)
        total += c[i];
    json_t *o = json_pack("{sIsIsIsIsIsIsIsI}", "attempts", (json_int_t)total, "answered",
                     (json_int_t)c[PW_OUT_ANSWERED], "refused", (json_int_t)c[PW_OUT_REFUSED], "blocked",
                     (json_int_t)c[PW_OUT_BLOCKED], "unanswered", (json_int_t)c[PW_OUT_UNANSWERED],
                     "indeterminate", (json_int_t)c[PW_OUT_INDETERMINATE], "servers", (json_int_t)servers,
                     "clients", (json_int_t)clients);
    if (folded) /* attempts of untracked pairs: servers and clients are lower bounds */
        json_object_set_new(o, "folded", json_integer((json_int_t)folded));
    return o;
}

static void proof_text(const pw_rule_def *r, char *buf, size_t n)
{
    if (r->prove) {
        snprintf(buf, n, "%s", r->prove);
        return;
    }
    if (r->n_hosts) {
        snprintf(buf, n, "no TLS ClientHello, proxy CONNECT or DNS answer for %s on %s/%s from a %s was seen; "
                 "capture on the %s (or its proxy) while it starts and connects",
                 r->hosts[0], pw_proto_str(r->proto), r->ports.text, r->from, r->from);
    } else if (r->ports.epm_dynamic || r->ports.rpc_dynamic) {
        snprintf(buf, n, "no connection to a port handed out by the endpoint mapper was seen from a %s to a %s; "
                 "capture an endpoint mapper exchange on tcp/135 (e.g. a WMI/DCOM call) and the connection "
                 "to the %s port it returns", r->from, r->to, r->ports.rpc_dynamic ? r->ports.text : "dynamic");
    } else {
        snprintf(buf, n, "no %s/%s connection attempt from a %s to a %s was seen; capture while a %s "
                 "connects to a %s on %s/%s", pw_proto_str(r->proto), r->ports.text, r->from, r->to, r->from,
                 r->to, pw_proto_str(r->proto), r->ports.text);
    }
}

static bool agg_matches_ports(const pw_rule_def *r, const agg *g)
{
    if (r->n_hosts || g->k.proto != r->proto)
        return false;
    if (r->ports.epm_dynamic)
        return g->k.dyn;
    if (r->ports.rpc_dynamic)
        return g->k.dyn && pw_portspec_has(&r->ports, g->k.port);
    return pw_portspec_has(&r->ports, g->k.port);
}
static json_t *side_list(unit *u, size_t n, bool servers, int (*cmp)(const void *, const void *),
                         size_t *count)
{
    qsort(u, n, sizeof *u, cmp);
    json_t *arr = json_array();
    *count = 0;
    for (size_t i = 0; i < n;) {
        const pw_addr *key = servers ? &u[i].server : &u[i].client;
        vacc v = {0};
        bool inf = servers ? u[i].s_inf : u[i].c_inf;
        uint64_t att = 0;
        size_t j = i;
        while (j < n && pw_addr_eq(servers ? &u[j].server : &u[j].client, key)) {
            /* pair verdicts: units are sorted so pairs are adjacent */
            uint64_t c[PW_OUT_COUNT] = {0};
            const pw_addr *other = servers ? &u[j].client : &u[j].server;
            size_t k = j;
            while (k < n && pw_addr_eq(servers ? &u[k].server : &u[k].client, key) &&
                   pw_addr_eq(servers ? &u[k].client : &u[k].server, other)) {
                for (int o = 0; o < PW_OUT_COUNT; o++)
                    c[o] += u[k].counts[o];
                k++;
            }
            for (int o = 1; o < PW_OUT_COUNT; o++)
                att += c[o];
            vacc_add(&v, verdict_of_counts(c));
            j = k;
        }
        json_array_append_new(arr, json_pack("{s:o,s:b,s:s,s:I}", "ip", jaddr(key), "role_inferred", inf,
                                             "verdict", pw_verdict_name(vacc_get(&v)), "attempts",
                                             (json_int_t)att));
        (*count)++;
        i = j;
    }
    return arr;
}
static json_t *evaluate_rule(pw_policy *p, const pw_profile_def *d, const pw_rule_def *r,
                             const pw_sources *srcs, pw_verdict *out_v)
{
    size_t cap = 64, n = 0;
    unit *u = malloc(cap * sizeof *u);
    evheap eh = {malloc((size_t)(p->cfg.max_evidence > 0 ? p->cfg.max_evidence : 1) * sizeof(evid)), 0,
                 (size_t)p->cfg.max_evidence};
    json_t *notes = json_array();
    uint64_t total[PW_OUT_COUNT] = {0};
    uint64_t folded = 0;
    bool c_inf, s_inf, c_rule, s_rule;
    if (!r->n_hosts) {
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
            if (n == cap)
                u = realloc(u, (cap *= 2) * sizeof *u);
            unit *x = &u[n++];
            memset(x, 0, sizeof *x);
            x->client = *ag_client(g);
            x->server = *ag_server(g);
            x->c_inf = c_inf;
            x->s_inf = s_inf;
            x->g = g;
            memcpy(x->counts, g->counts, sizeof x->counts);
            for (int o = 0; o < PW_OUT_COUNT; o++)
                total[o] += g->counts[o];
            if (g->k.level != LV_PAIR)
                folded += ag_total(g);
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
                    ev_push(&eh, &e);
                }
            }
        }
    } else {
        cflow *f, *t;
        LL_FOREACH_SAFE(p->cflows, f, t) {
            if (!cflow_matches(r, f))
                continue;
            if (!side_ok(p, d, r->from, &f->k.client, r, false, &c_inf, &c_rule))
                continue;
            s_inf = true;
            if (f->is_connect)
                side_ok(p, NULL, "proxy", &f->k.server, NULL, true, &s_inf, &s_rule);
            if (c_rule)
                by_rule_assign(p, r->from, &f->k.client, r, false);
            const char *reason, *failure;
            pw_outcome o = cflow_outcome(f, &reason, &failure);
            if (n == cap)
                u = realloc(u, (cap *= 2) * sizeof *u);
            unit *x = &u[n++];
            memset(x, 0, sizeof *x);
            x->client = f->k.client;
            x->server = f->k.server;
            x->c_inf = c_inf;
            x->s_inf = s_inf;
            x->f = f;
            x->counts[o] = 1;
            total[o]++;
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
            ev_push(&eh, &e);
            if (f->cert && !issuer_expected(r, f->issuer)) {
                char msg[1400], cip[PW_ADDR_STRLEN];
                snprintf(msg, sizeof msg,
                         "TLS inspection in the path: the certificate for %s seen by %s (%s frame %llu) "
                         "was issued by \"%s\", not by the expected public CA chain; the inspection "
                         "device must support mutual inspection for the sensor to work",
                         cflow_name(f), pw_addr_str(&f->k.client, cip, sizeof cip), src_name(srcs, f->source),
                         (unsigned long long)f->cert_frame, f->issuer);
                json_array_append_new(notes, json_string(msg));
            }
        }
    }
    /* verdict over (client, server) pairs */
    qsort(u, n, sizeof *u, cmp_pair);
    vacc v = {0};
    for (size_t i = 0; i < n;) {
        uint64_t c[PW_OUT_COUNT] = {0};
        size_t j = i;
        while (j < n && pw_addr_eq(&u[j].client, &u[i].client) && pw_addr_eq(&u[j].server, &u[i].server)) {
            for (int o = 0; o < PW_OUT_COUNT; o++)
                c[o] += u[j].counts[o];
            j++;
        }
        vacc_add(&v, verdict_of_counts(c));
        i = j;
    }
    pw_verdict verdict = vacc_get(&v);
    size_t nserv = 0, ncli = 0;
    json_t *servers = side_list(u, n, true, cmp_server, &nserv);
    json_t *clients = side_list(u, n, false, cmp_pair, &ncli);

    evid *ev = eh.e;
    size_t ne = eh.n;
    qsort(ev, ne, sizeof *ev, evid_cmp);
    json_t *evidence = json_array();
    for (size_t i = 0; i < ne && (int)i < p->cfg.max_evidence; i++) {
        evid *e = &ev[i];
        json_t *o = json_pack("{s:s,s:I,s:f,s:o,s:o,s:s,s:I,s:s,s:s}", "source", src_name(srcs, e->source),
                              "frame", (json_int_t)e->frame, "ts", pw_usec_to_sec(e->ts), "client",
                              jaddr(&e->client), "server", jaddr(&e->server), "proto", pw_proto_str(e->proto),
                              "port", (json_int_t)e->port, "outcome", pw_outcome_name(e->outcome), "reason",
                              e->reason);
        if (e->frame_reply)
            json_object_set_new(o, "frame_reply", json_integer((json_int_t)e->frame_reply));
        if (e->epm_frame)
            json_object_set_new(o, "epm_frame", json_integer((json_int_t)e->epm_frame));
        if (e->f) {
            const cflow *f = e->f;
            json_object_set_new(o, "host", json_string(cflow_name(f)));
            json_object_set_new(o, "via", json_string(f->is_connect ? "proxy" : "direct"));
            if (f->is_connect) {
                json_object_set_new(o, "connect_port", json_integer(f->connect_port));
                if (f->status)
                    json_object_set_new(o, "status", json_integer(f->status));
            }
            if (f->cert)
                json_object_set_new(o, "issuer", json_string(f->issuer));
        }
        json_array_append_new(evidence, o);
    }
    json_t *obj = json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:s,s:s,s:s}", "profile", d->name, "id", r->id,
                            "table", r->table ? r->table : "", "description", r->description, "required",
                            r->required, "from", r->from, "to", r->to, "proto", pw_proto_str(r->proto), "ports",
                            r->ports.text, "verdict", pw_verdict_name(verdict));
    if (r->n_hosts) {
        json_t *h = json_array();
        for (int i = 0; i < r->n_hosts; i++)
            json_array_append_new(h, json_string(r->hosts[i]));
        json_object_set_new(obj, "hosts", h);
    }
    json_object_set_new(obj, "counts", jcounts(total, nserv, ncli, folded));
    if (folded) {
        char msg[400];
        snprintf(msg, sizeof msg,
                 "%llu attempts of client/server pairs beyond the tracking limit (%zu pairs) were counted "
                 "per server or per port: the verdict and counts include them, the server and client lists "
                 "name only the first host of each",
                 (unsigned long long)folded, p->lim.pairs);
        json_array_append_new(notes, json_string(msg));
        json_object_set_new(obj, "truncated", json_true());
    }
    json_object_set_new(obj, "servers", servers);
    json_object_set_new(obj, "clients", clients);
    json_object_set_new(obj, "evidence", evidence);
    json_object_set_new(obj, "remediation", json_string(r->remediation));
    if (verdict == PW_VERDICT_UNOBSERVED) {
        char buf[1024];
        proof_text(r, buf, sizeof buf);
        json_object_set_new(obj, "proof_needed", json_string(buf));
    }
    if (json_array_size(notes))
        json_object_set_new(obj, "notes", notes);
    else
        json_decref(notes);
    free(u);
    free(ev);
    *out_v = verdict;
    return obj;
}
static int cmp_assign(const void *a, const void *b)
{
    const assign *x = a, *y = b;
    int c = strcmp(x->role, y->role);
    if (c)
        return c;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return pw_addr_cmp(&x->cidr.net, &y->cidr.net);
}

json_t *pw_policy_json(pw_policy *p, const pw_services *svc, const pw_sources *srcs)
{
    (void)svc;
    json_t *out = json_object();
    if (!p) {
        json_object_set_new(out, "profiles", json_array());
        json_object_set_new(out, "roles", json_array());
        json_object_set_new(out, "rules", json_array());
        json_object_set_new(out, "sensor_cloud", json_array());
        return out;
    }
    clear_assigns(p);
    choose_profiles(p, srcs);
    build_answered(p);
    decide_roles(p, srcs);

    json_t *profiles = json_array();
    for (int i = 0; i < p->n_prof; i++) {
        const loaded *l = &p->prof[i];
        if (!l->active)
            continue;
        json_array_append_new(profiles,
                              json_pack("{s:s,s:s,s:s,s:s,s:s}", "name", l->def->name, "source",
                                        l->def->builtin ? "built-in" : l->def->path, "path", l->def->path,
                                        "description", l->def->description, "why", l->why));
    }

    /* rules: evaluate, then order required fail, required partial, required others, optional */
    int total = 0;
    for (int i = 0; i < p->n_prof; i++)
        if (p->prof[i].active)
            total += p->prof[i].def->n_rules;
    rule_result *rr = calloc((size_t)(total ? total : 1), sizeof *rr);
    int nrr = 0;
    for (int i = 0; i < p->n_prof; i++) {
        if (!p->prof[i].active)
            continue;
        const pw_profile_def *d = p->prof[i].def;
        for (int r = 0; r < d->n_rules; r++) {
            rule_result *x = &rr[nrr++];
            x->prof = d;
            x->rule = &d->rules[r];
            x->obj = evaluate_rule(p, d, x->rule, srcs, &x->verdict);
        }
    }
    json_t *rules = json_array();
    p->should_fail = false;
    for (int pass = 0; pass < 4; pass++)
        for (int i = 0; i < nrr; i++) {
            const rule_result *x = &rr[i];
            int group = !x->rule->required ? 3 : x->verdict == PW_VERDICT_FAIL ? 0
                      : x->verdict == PW_VERDICT_PARTIAL ? 1 : 2;
            if (group != pass)
                continue;
            json_array_append(rules, x->obj);
            if (x->rule->required && (unsigned)x->verdict < 8 && p->cfg.fail_on[x->verdict])
                p->should_fail = true;
        }
    for (int i = 0; i < nrr; i++)
        json_decref(rr[i].obj);
    free(rr);

    json_t *cloud = sensor_cloud(p, srcs);
    /* sorting breaks the (role, ip) index: nothing may look roles up after this */
    if (p->n_as)
        qsort(p->as, (size_t)p->n_as, sizeof *p->as, cmp_assign);
    json_t *roles = json_array();
    for (int i = 0; i < p->n_as; i++) {
        const assign *x = &p->as[i];
        char ip[PW_ADDR_STRLEN + 8];
        pw_addr_str(&x->cidr.net, ip, sizeof ip);
        if (x->cidr.prefix != full_prefix(&x->cidr.net)) {
            size_t l = strlen(ip);
            snprintf(ip + l, sizeof ip - l, "/%d", x->cidr.prefix);
        }
        json_array_append_new(roles, json_pack("{s:s,s:s,s:b,s:s,s:s}", "role", x->role, "ip", ip, "inferred",
                                               x->kind != AS_BOUND, "how",
                                               x->kind == AS_BOUND ? "bound" : x->kind == AS_INFERRED ? "traffic" : "rule",
                                               "why", x->why ? x->why : ""));
    }
    json_object_set_new(out, "profiles", profiles);
    json_object_set_new(out, "roles", roles);
    json_object_set_new(out, "rules", rules);
    json_object_set_new(out, "sensor_cloud", cloud);
    p->decided = true;
    return out;
}

bool pw_policy_should_fail(const pw_policy *p)
{
    return p && p->decided && p->should_fail;
}
