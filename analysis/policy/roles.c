/* policy/roles.c - what the traffic says about who is who: which profiles
 * apply (detect), roles bound (--role, --sensor, profile addresses) or
 * inferred from the aggregates, and the role check a rule applies to each
 * side of an attempt. */
#include "internal.h"
#include "../../common/xalloc.h"

/* ---- roles ------------------------------------------------------------------ */
static as_key mk_as_key(const char *role, const pw_addr *ip, int prefix)
{
    as_key k;
    memset(&k, 0, sizeof k);
    snprintf(k.role, sizeof k.role, "%s", role);
    k.ip = *ip;
    k.prefix = prefix;
    return k;
}

static role_cnt *role_counter(pw_policy *p, const char *role, bool create)
{
    for (int i = 0; i < p->n_rc; i++)
        if (!strcmp(p->rc[i].role, role))
            return &p->rc[i];
    if (!create || p->n_rc >= (int)(sizeof p->rc / sizeof p->rc[0]))
        return NULL;
    role_cnt *r = &p->rc[p->n_rc++];
    memset(r, 0, sizeof *r);
    snprintf(r->role, sizeof r->role, "%s", role);
    return r;
}

static const role_cnt *role_counter_c(const pw_policy *p, const char *role)
{
    for (int i = 0; i < p->n_rc; i++)
        if (!strcmp(p->rc[i].role, role))
            return &p->rc[i];
    return NULL;
}

/* The frame a traffic reason points at, for choosing the earliest. */
static uint64_t why_frame(const pw_msg *m)
{
    return m->id == PW_MSG_ROLE_CONNECTS ? m->n[2] : m->id == PW_MSG_ROLE_ANSWERS ? m->n[0] : UINT64_MAX;
}

/* Of two reasons of the same kind, the one seen first in the capture:
 * aggregates are made in the order connections leave the table, which is
 * not capture order. */
static bool why_earlier(const pw_msg *x, const pw_msg *y)
{
    if (x->id != y->id || why_frame(x) == UINT64_MAX)
        return false;
    return x->source < y->source || (x->source == y->source && why_frame(x) < why_frame(y));
}

static void add_assign(pw_policy *p, const char *role, const pw_addr *ip, int prefix, as_kind kind,
                       const pw_msg *why)
{
    as_key k = mk_as_key(role, ip, prefix);
    as_idx *x;
    HASH_FIND(hh, p->as_hash, &k, sizeof k, x);
    if (x) {
        if (p->as[x->i].kind == kind && why_earlier(why, &p->as[x->i].why))
            p->as[x->i].why = *why;
        return;
    }
    if (p->n_as == p->cap_as) {
        int cap = p->cap_as ? p->cap_as * 2 : 32;
        assign *n = pw_xrealloc(p->as, (size_t)cap, sizeof *n);
        p->as = n;
        p->cap_as = cap;
    }
    if (prefix != full_prefix(ip)) {
        if (p->n_cidr == p->cap_cidr) {
            int cap = p->cap_cidr ? p->cap_cidr * 2 : 16;
            int *n = pw_xrealloc(p->cidr_idx, (size_t)cap, sizeof *n);
            p->cidr_idx = n;
            p->cap_cidr = cap;
        }
        p->cidr_idx[p->n_cidr++] = p->n_as;
    }
    x = pw_xcalloc(1, sizeof *x);
    x->k = k;
    x->i = p->n_as;
    HASH_ADD(hh, p->as_hash, k, sizeof x->k, x);
    assign *a = &p->as[p->n_as++];
    memset(a, 0, sizeof *a);
    snprintf(a->role, sizeof a->role, "%s", role);
    a->cidr.net = *ip;
    a->cidr.prefix = prefix;
    a->kind = kind;
    a->why = *why;
    role_cnt *rc = role_counter(p, role, true);
    if (rc && kind != AS_BY_RULE) {
        rc->holders++;
        rc->bound += kind == AS_BOUND;
    }
}

void clear_assigns(pw_policy *p)
{
    as_idx *x, *t;
    HASH_ITER(hh, p->as_hash, x, t) {
        HASH_DEL(p->as_hash, x);
        free(x);
    }
    p->n_as = 0;
    p->n_cidr = 0;
    p->n_rc = 0;
    free(p->answered.keys);
    p->answered.keys = NULL;
    p->answered.mask = 0;
}

/* 1: ip holds role (inferred set if not bound); 0: role has holders but not ip;
 * -1: role has no holders at all. */
static int role_has(const pw_policy *p, const char *role, const pw_addr *ip, bool *inferred)
{
    const role_cnt *rc = role_counter_c(p, role);
    if (!rc || !rc->holders)
        return -1;
    as_key k = mk_as_key(role, ip, full_prefix(ip));
    as_idx *x;
    HASH_FIND(hh, p->as_hash, &k, sizeof k, x);
    if (x && p->as[x->i].kind != AS_BY_RULE) {
        *inferred = p->as[x->i].kind != AS_BOUND;
        return 1;
    }
    for (int i = 0; i < p->n_cidr; i++) {
        const assign *a = &p->as[p->cidr_idx[i]];
        if (a->kind != AS_BY_RULE && !strcmp(a->role, role) && pw_addr_in_cidr(ip, &a->cidr.net, a->cidr.prefix)) {
            *inferred = a->kind != AS_BOUND;
            return 1;
        }
    }
    return 0;
}

static size_t answered_slot(const answered_set *set, const pw_addr *server, uint8_t proto, uint16_t port)
{
    size_t i = (pw_addr_hash(server) ^ ((uint32_t)port << 8 | proto) * 0x9e3779b1u) & set->mask;
    for (;; i = (i + 1) & set->mask) {
        const svc_key *k = &set->keys[i];
        if (!k->proto || (k->proto == proto && k->port == port && pw_addr_eq(&k->server, server)))
            return i;
    }
}

static bool answered_has(const pw_policy *p, const pw_addr *server, uint8_t proto, uint16_t port)
{
    return p->answered.keys && p->answered.keys[answered_slot(&p->answered, server, proto, port)].proto;
}

void build_answered(pw_policy *p)
{
    size_t n = 0;
    agg *g;
    FOR_AGG(p, g)
        n += !g->k.dyn && g->counts[PW_OUT_ANSWERED];
    size_t slots = 16;
    while (slots < 2 * n)
        slots *= 2;
    free(p->answered.keys);
    p->answered.keys = pw_xcalloc(slots, sizeof *p->answered.keys);
    p->answered.mask = slots - 1;
    FOR_AGG(p, g) {
        if (g->k.dyn || !g->counts[PW_OUT_ANSWERED])
            continue;
        svc_key *k = &p->answered.keys[answered_slot(&p->answered, ag_server(g), g->k.proto, g->k.port)];
        k->server = *ag_server(g);
        k->proto = g->k.proto;
        k->port = g->k.port;
    }
}

/* Cloud flow helpers shared with detection: how the client named the
 * service, and the frame that named it. */
static pw_name_via cflow_via(const cflow *f)
{
    return f->is_connect ? PW_VIA_CONNECT : f->sni[0] ? PW_VIA_SNI : PW_VIA_DNS;
}

static uint64_t cflow_name_frame(const cflow *f)
{
    return f->name_frame ? f->name_frame : f->frame;
}

/* Servers that answered the condition's first port and every other listed one. */
static void infer_answers(pw_policy *p, const char *role, const pw_cond *c)
{
    agg *g;
    FOR_AGG(p, g) {
        if (g->k.dyn || g->k.proto != c->ports[0].proto || g->k.port != c->ports[0].port ||
            !g->counts[PW_OUT_ANSWERED])
            continue;
        bool all = true;
        for (int j = 1; j < c->n_ports && all; j++)
            all = answered_has(p, ag_server(g), c->ports[j].proto, c->ports[j].port);
        if (!all)
            continue;
        pw_msg why = {.id = PW_MSG_ROLE_ANSWERS, .ref = c,
                      .source = g->ok ? g->ok[0].source : g->first.source,
                      .n = {g->ok ? g->ok[0].frame : g->first.frame}};
        add_assign(p, role, ag_server(g), full_prefix(ag_server(g)), AS_INFERRED, &why);
    }
}

/* Clients that attempted one of the condition's ports. */
static void infer_connects(pw_policy *p, const char *role, const pw_cond *c)
{
    agg *g;
    FOR_AGG(p, g) {
        if (g->k.dyn)
            continue;
        for (int j = 0; j < c->n_ports; j++)
            if (g->k.proto == c->ports[j].proto && g->k.port == c->ports[j].port) {
                pw_msg why = {.id = PW_MSG_ROLE_CONNECTS, .a = *ag_server(g), .source = g->first.source,
                              .n = {g->k.proto, g->k.port, g->first.frame}};
                add_assign(p, role, ag_client(g), full_prefix(ag_client(g)), AS_INFERRED, &why);
                break;
            }
    }
}

/* Clients that asked for a name matching the pattern (SNI or CONNECT). */
static void infer_sni(pw_policy *p, const char *role, const pw_cond *c)
{
    cflow *f, *t;
    LL_FOREACH_SAFE(p->cflows, f, t) {
        if (!f->sni[0] && !f->connect_host[0])
            continue;
        const char *name = cflow_name(f);
        if (!pw_name_match(c->pattern, name))
            continue;
        pw_msg why = {.id = PW_MSG_ROLE_NAME, .kind = cflow_via(f), .s = {name}, .source = f->source,
                      .n = {cflow_name_frame(f)}};
        add_assign(p, role, &f->k.client, full_prefix(&f->k.client), AS_INFERRED, &why);
    }
}

/* Hosts that received an HTTP CONNECT. */
static void infer_proxy(pw_policy *p, const char *role)
{
    proxy_ent *x, *t;
    HASH_ITER(hh, p->proxies, x, t) {
        pw_msg why = {.id = PW_MSG_ROLE_PROXY, .a = x->first_client, .s = {x->host}, .source = x->source,
                      .n = {x->k.sport, x->frame}};
        add_assign(p, role, &x->k.server, full_prefix(&x->k.server), AS_INFERRED, &why);
    }
}

static void infer_cond(pw_policy *p, const char *role, const pw_cond *c)
{
    switch (c->kind) {
    case PW_COND_ANSWERS: infer_answers(p, role, c); break;
    case PW_COND_CONNECTS: infer_connects(p, role, c); break;
    case PW_COND_SNI: infer_sni(p, role, c); break;
    case PW_COND_PROXY: infer_proxy(p, role); break;
    default: break;
    }
}

/* --role, --sensor and the addresses profiles give. */
static void bind_roles(pw_policy *p)
{
    pw_msg role_opt = {.id = PW_MSG_ROLE_OPTION, .s = {"--role"}};
    pw_msg sensor_opt = {.id = PW_MSG_ROLE_OPTION, .s = {"--sensor"}};
    for (int i = 0; i < p->cfg.n_roles; i++)
        add_assign(p, p->cfg.roles[i].role, &p->cfg.roles[i].cidr.net, p->cfg.roles[i].cidr.prefix,
                   AS_BOUND, &role_opt);
    for (int i = 0; i < p->cfg.n_sensors; i++)
        add_assign(p, "sensor", &p->cfg.sensors[i].net, p->cfg.sensors[i].prefix, AS_BOUND, &sensor_opt);
    for (int i = 0; i < p->n_prof; i++) {
        if (!p->prof[i].active)
            continue;
        const pw_profile_def *d = p->prof[i].def;
        for (int r = 0; r < d->n_roles; r++)
            for (int a = 0; a < d->roles[r].n_addrs; a++) {
                pw_msg why = {.id = PW_MSG_ROLE_ADDRESSES, .s = {d->roles[r].name, d->path}};
                add_assign(p, d->roles[r].name, &d->roles[r].addrs[a].net, d->roles[r].addrs[a].prefix,
                           AS_BOUND, &why);
            }
    }
}

void decide_roles(pw_policy *p)
{
    bind_roles(p);
    /* Inference only for roles nobody bound. */
    for (int i = 0; i < p->n_prof; i++) {
        if (!p->prof[i].active)
            continue;
        const pw_profile_def *d = p->prof[i].def;
        for (int r = 0; r < d->n_roles; r++) {
            const role_cnt *rc = role_counter_c(p, d->roles[r].name);
            if (rc && rc->bound)
                continue;
            for (int c = 0; c < d->roles[r].n_infer; c++)
                infer_cond(p, d->roles[r].name, &d->roles[r].infer[c]);
        }
    }
}

/* ---- profile choice ------------------------------------------------------- */

/* Attempts to the ports the detect conditions name: how many, and the
 * first (by input, then frame).  Tallied in one pass over the aggregates
 * for every such port at once; a pass per port read every aggregate again
 * for each of them. */
typedef struct seen_tally {
    pw_pport pp;
    uint64_t n;
    const agg *first;
} seen_tally;

typedef struct seen_tallies {
    seen_tally *v;
    int n;
} seen_tallies;

static seen_tally *tally_of(seen_tallies *t, const pw_pport *pp)
{
    for (int i = 0; i < t->n; i++)
        if (t->v[i].pp.proto == pp->proto && t->v[i].pp.port == pp->port)
            return &t->v[i];
    return NULL;
}

static void tally_seen(const pw_policy *p, seen_tallies *t)
{
    int cap = 0;
    for (int i = 0; i < p->n_prof; i++)
        for (int c = 0; c < p->prof[i].def->n_detect; c++)
            cap += p->prof[i].def->detect[c].n_ports;
    t->v = pw_xcalloc(cap ? (size_t)cap : 1, sizeof *t->v);
    t->n = 0;
    uint64_t wanted[2][65536 / 64] = {{0}}; /* [tcp, udp]: a port some tally counts */
    for (int i = 0; i < p->n_prof; i++)
        for (int c = 0; c < p->prof[i].def->n_detect; c++) {
            const pw_cond *cd = &p->prof[i].def->detect[c];
            for (int j = 0; cd->kind == PW_COND_SEEN && j < cd->n_ports; j++)
                if (!tally_of(t, &cd->ports[j])) {
                    t->v[t->n++].pp = cd->ports[j];
                    wanted[cd->ports[j].proto == 17][cd->ports[j].port / 64] |= 1ULL << (cd->ports[j].port % 64);
                }
        }
    agg *g;
    FOR_AGG(p, g) {
        if (g->k.dyn || !(wanted[g->k.proto == 17][g->k.port / 64] >> (g->k.port % 64) & 1))
            continue;
        seen_tally *x = tally_of(t, &(pw_pport){.proto = g->k.proto, .port = g->k.port});
        if (!x)
            continue;
        x->n += ag_total(g);
        if (!x->first || g->first.source < x->first->first.source ||
            (g->first.source == x->first->first.source && g->first.frame < x->first->first.frame))
            x->first = g;
    }
}

static bool hit_seen(seen_tallies *t, const pw_pport *pp, pw_res_detect_hit *h)
{
    const seen_tally *x = tally_of(t, pp);
    memset(h, 0, sizeof *h);
    if (!x || !x->n)
        return false;
    h->kind = PW_DETECT_SEEN;
    h->n = x->n;
    h->proto = pp->proto;
    h->port = pp->port;
    h->source = x->first->first.source;
    h->frame = x->first->first.frame;
    return true;
}

static bool hit_ntlm_rpc(const pw_policy *p, pw_res_detect_hit *h)
{
    memset(h, 0, sizeof *h);
    if (!p->ntlm_rpc)
        return false;
    h->kind = PW_DETECT_NTLM_RPC;
    h->n = p->ntlm_rpc;
    h->source = p->ntlm_rpc_source;
    h->frame = p->ntlm_rpc_frame;
    return true;
}

/* Cloud flows for a name matching the pattern, and the first one. */
static bool hit_name(const pw_policy *p, const char *pattern, pw_res_detect_hit *h)
{
    cflow *f, *t, *first = NULL;
    memset(h, 0, sizeof *h);
    LL_FOREACH_SAFE(p->cflows, f, t) {
        if (!pw_name_match(pattern, cflow_name(f)))
            continue;
        h->n++;
        if (!first || f->source < first->source || (f->source == first->source && f->frame < first->frame))
            first = f;
    }
    if (!h->n)
        return false;
    h->kind = PW_DETECT_NAME;
    h->pattern = pattern;
    h->first_via = cflow_via(first);
    h->source = first->source;
    h->frame = cflow_name_frame(first);
    return true;
}

/* The detect conditions the traffic met; a profile with none is not chosen. */
static void detect_hits(const pw_policy *p, seen_tallies *seen, loaded *l)
{
    const pw_profile_def *d = l->def;
    l->n_hits = 0;
    for (int c = 0; c < d->n_detect; c++) {
        const pw_cond *cd = &d->detect[c];
        pw_res_detect_hit h;
        if (cd->kind == PW_COND_SEEN) {
            for (int j = 0; j < cd->n_ports; j++)
                if (hit_seen(seen, &cd->ports[j], &h) && l->n_hits < PW_RES_DETECT_MAX)
                    l->hits[l->n_hits++] = h;
        } else if ((cd->kind == PW_COND_NTLM_RPC && hit_ntlm_rpc(p, &h)) ||
                   (cd->kind == PW_COND_SNI && hit_name(p, cd->pattern, &h))) {
            if (l->n_hits < PW_RES_DETECT_MAX)
                l->hits[l->n_hits++] = h;
        }
    }
}

void choose_profiles(pw_policy *p)
{
    if (!p->auto_choose)
        return;
    seen_tallies seen;
    tally_seen(p, &seen);
    for (int i = 0; i < p->n_prof; i++) {
        detect_hits(p, &seen, &p->prof[i]);
        p->prof[i].active = p->prof[i].n_hits > 0;
    }
    free(seen.v);
}

/* Can a role nobody holds be taken from this rule's own traffic?  The client
 * side always can (a rule's from-role is inferred from the clients seen).
 * The server side only when the role's own inference looks at the rule's
 * port (nobody answers 3741, yet the hosts targeted on 3741 are the
 * enterprise manager), or when no profile defines the role at all.  A role
 * defined without inference (nas-device) must be bound with --role. */
static bool fallback_ok(const pw_policy *p, const char *role, const pw_rule_def *r, bool server)
{
    if (!server)
        return true;
    bool defined = false;
    for (int i = 0; i < p->n_prof; i++) {
        if (!p->prof[i].active)
            continue;
        const pw_profile_def *d = p->prof[i].def;
        for (int k = 0; k < d->n_roles; k++) {
            if (strcmp(d->roles[k].name, role))
                continue;
            defined = true;
            for (int c = 0; c < d->roles[k].n_infer; c++) {
                const pw_cond *cd = &d->roles[k].infer[c];
                if (cd->kind != PW_COND_ANSWERS)
                    continue;
                for (int j = 0; j < cd->n_ports; j++)
                    if (cd->ports[j].proto == r->proto && !r->ports.epm_dynamic && !r->ports.rpc_dynamic &&
                        pw_portspec_has(&r->ports, cd->ports[j].port))
                        return true;
            }
        }
    }
    return !defined;
}

/* Role check for one side; by_rule gets true when the host holds the role
 * only through this rule's traffic.  A host holding the role (bound or
 * inferred) passes.  Otherwise, unless --role (or the profile) bound the
 * role to other addresses (bound roles win), the rule's own traffic stands
 * in for it: any client of the rule's ports, and a server when the role's
 * inference looks at the rule's ports (fallback_ok).  A host may so hold
 * several roles: the agent that also reads the SQL database is judged under
 * the enterprise manager's SQL rule. */
bool side_ok(const pw_policy *p, const pw_profile_def *d, const char *role, const pw_addr *ip,
                    const pw_rule_def *r, bool server, bool *inferred, bool *by_rule)
{
    (void)d;
    *by_rule = false;
    *inferred = false;
    if (!strcmp(role, "any-host"))
        return true;
    if (role_has(p, role, ip, inferred) == 1)
        return true;
    const role_cnt *rc = role_counter_c(p, role);
    if (rc && rc->bound)
        return false;
    if (r && !fallback_ok(p, role, r, server))
        return false;
    *inferred = true;
    *by_rule = true;
    return true;
}


void by_rule_assign(pw_policy *p, const char *role, const pw_addr *ip, const pw_rule_def *r,
                           bool server)
{
    pw_msg why = {.id = PW_MSG_ROLE_BY_RULE, .kind = server, .s = {role, r->id, r->ports.text},
                  .n = {r->proto}};
    add_assign(p, role, ip, full_prefix(ip), AS_BY_RULE, &why);
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

void roles_result(pw_policy *p, pw_result *r)
{
    /* sorting breaks the (role, ip) index: nothing may look roles up after this.
     * At most PW_RES_MAX_LIST addresses per role and how are listed. */
    if (p->n_as)
        qsort(p->as, (size_t)p->n_as, sizeof *p->as, cmp_assign);
    r->roles = pw_result_alloc((size_t)p->n_as, sizeof *r->roles);
    r->roles_omitted = pw_result_alloc((size_t)p->n_as, sizeof *r->roles_omitted);
    r->n_roles = 0;
    size_t run = 0; /* addresses listed so far for this role and how */
    for (int i = 0; i < p->n_as; i++) {
        const assign *x = &p->as[i];
        bool same = i > 0 && !strcmp(x->role, p->as[i - 1].role) && x->kind == p->as[i - 1].kind;
        run = same ? run + 1 : 1;
        if (run > PW_RES_MAX_LIST) { /* counted per role and how, not listed */
            if (run == PW_RES_MAX_LIST + 1) {
                pw_res_role *m = &r->roles_omitted[r->n_roles_omitted++];
                snprintf(m->role, sizeof m->role, "%s", x->role);
                m->how = x->kind == AS_BOUND ? PW_ROLE_BOUND : x->kind == AS_INFERRED ? PW_ROLE_TRAFFIC : PW_ROLE_RULE;
            }
            r->roles_omitted[r->n_roles_omitted - 1].prefix++;
            continue;
        }
        pw_res_role *o = &r->roles[r->n_roles++];
        snprintf(o->role, sizeof o->role, "%s", x->role);
        o->net = x->cidr.net;
        o->prefix = x->cidr.prefix;
        o->cidr = x->cidr.prefix != full_prefix(&x->cidr.net);
        o->how = x->kind == AS_BOUND ? PW_ROLE_BOUND : x->kind == AS_INFERRED ? PW_ROLE_TRAFFIC : PW_ROLE_RULE;
        o->why = x->why;
    }
}
