/* policy/roles.c - what the traffic says about who is who: which profiles
 * apply (detect), roles bound (--role, --sensor, profile addresses) or
 * inferred from the aggregates, and the role check a rule applies to each
 * side of an attempt. */
#include "internal.h"

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

static void add_assign(pw_policy *p, const char *role, const pw_addr *ip, int prefix, as_kind kind,
                       const char *why)
{
    as_key k = mk_as_key(role, ip, prefix);
    as_idx *x;
    HASH_FIND(hh, p->as_hash, &k, sizeof k, x);
    if (x)
        return;
    if (p->n_as == p->cap_as) {
        int cap = p->cap_as ? p->cap_as * 2 : 32;
        assign *n = realloc(p->as, (size_t)cap * sizeof *n);
        if (!n)
            return;
        p->as = n;
        p->cap_as = cap;
    }
    if (prefix != full_prefix(ip)) {
        if (p->n_cidr == p->cap_cidr) {
            int cap = p->cap_cidr ? p->cap_cidr * 2 : 16;
            int *n = realloc(p->cidr_idx, (size_t)cap * sizeof *n);
            if (!n)
                return;
            p->cidr_idx = n;
            p->cap_cidr = cap;
        }
        p->cidr_idx[p->n_cidr++] = p->n_as;
    }
    if ((x = calloc(1, sizeof *x)) == NULL)
        return;
    x->k = k;
    x->i = p->n_as;
    HASH_ADD(hh, p->as_hash, k, sizeof x->k, x);
    assign *a = &p->as[p->n_as++];
    memset(a, 0, sizeof *a);
    snprintf(a->role, sizeof a->role, "%s", role);
    a->cidr.net = *ip;
    a->cidr.prefix = prefix;
    a->kind = kind;
    a->why = strdup(why);
    role_cnt *rc = role_counter(p, role, true);
    if (rc && kind != AS_BY_RULE) {
        rc->holders++;
        rc->bound += kind == AS_BOUND;
    }
}

void clear_assigns(pw_policy *p)
{
    for (int i = 0; i < p->n_as; i++)
        free(p->as[i].why);
    as_idx *x, *t;
    HASH_ITER(hh, p->as_hash, x, t) {
        HASH_DEL(p->as_hash, x);
        free(x);
    }
    p->n_as = 0;
    p->n_cidr = 0;
    p->n_rc = 0;
    svc_ent *e, *te;
    HASH_ITER(hh, p->answered, e, te) {
        HASH_DEL(p->answered, e);
        free(e);
    }
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

static bool answered_has(const pw_policy *p, const pw_addr *server, uint8_t proto, uint16_t port)
{
    svc_key k;
    memset(&k, 0, sizeof k);
    k.server = *server;
    k.proto = proto;
    k.port = port;
    svc_ent *e;
    HASH_FIND(hh, p->answered, &k, sizeof k, e);
    return e != NULL;
}

void build_answered(pw_policy *p)
{
    agg *g;
    FOR_AGG(p, g) {
        if (g->k.dyn || !g->counts[PW_OUT_ANSWERED] || answered_has(p, ag_server(g), g->k.proto, g->k.port))
            continue;
        svc_ent *e = calloc(1, sizeof *e);
        if (!e)
            continue;
        e->k.server = *ag_server(g);
        e->k.proto = g->k.proto;
        e->k.port = g->k.port;
        HASH_ADD(hh, p->answered, k, sizeof e->k, e);
    }
}

static void infer_cond(pw_policy *p, const char *role, const pw_cond *c, const pw_sources *srcs)
{
    char why[320], ip[PW_ADDR_STRLEN], ip2[PW_ADDR_STRLEN];
    agg *g;
    switch (c->kind) {
    case PW_COND_ANSWERS:
        FOR_AGG(p, g) {
            if (g->k.dyn || g->k.proto != c->ports[0].proto || g->k.port != c->ports[0].port ||
                !g->counts[PW_OUT_ANSWERED])
                continue;
            /* every other listed port answered by the same server */
            bool all = true;
            for (int j = 1; j < c->n_ports && all; j++)
                all = answered_has(p, ag_server(g), c->ports[j].proto, c->ports[j].port);
            if (!all)
                continue;
            int off = snprintf(why, sizeof why, "answers");
            for (int j = 0; j < c->n_ports && off < (int)sizeof why; j++)
                off += snprintf(why + off, sizeof why - (size_t)off, "%s %s/%u", j ? " and" : "",
                                pw_proto_str(c->ports[j].proto), c->ports[j].port);
            if (off < (int)sizeof why)
                snprintf(why + off, sizeof why - (size_t)off, " (e.g. %s frame %llu)",
                         src_name(srcs, g->ok ? g->ok[0].source : g->first.source),
                         (unsigned long long)(g->ok ? g->ok[0].frame : g->first.frame));
            add_assign(p, role, ag_server(g), full_prefix(ag_server(g)), AS_INFERRED, why);
        }
        break;
    case PW_COND_CONNECTS:
        FOR_AGG(p, g) {
            if (g->k.dyn)
                continue;
            for (int j = 0; j < c->n_ports; j++)
                if (g->k.proto == c->ports[j].proto && g->k.port == c->ports[j].port) {
                    snprintf(why, sizeof why, "connects to %s/%u on %s (%s frame %llu)",
                             pw_proto_str(g->k.proto), g->k.port, pw_addr_str(ag_server(g), ip2, sizeof ip2),
                             src_name(srcs, g->first.source), (unsigned long long)g->first.frame);
                    add_assign(p, role, ag_client(g), full_prefix(ag_client(g)), AS_INFERRED, why);
                    break;
                }
        }
        break;
    case PW_COND_SNI: {
        cflow *f, *t;
        LL_FOREACH_SAFE(p->cflows, f, t) {
            if (!f->sni[0] && !f->connect_host[0])
                continue;
            const char *name = cflow_name(f);
            if (!pw_name_match(c->pattern, name))
                continue;
            snprintf(why, sizeof why, "%s %s (%s frame %llu)",
                     f->is_connect ? "sends HTTP CONNECT for" : f->sni[0] ? "sends TLS ClientHello for"
                                                                          : "connects to the DNS answer for",
                     name, src_name(srcs, f->source),
                     (unsigned long long)(f->name_frame ? f->name_frame : f->frame));
            add_assign(p, role, &f->k.client, full_prefix(&f->k.client), AS_INFERRED, why);
        }
        break;
    }
    case PW_COND_PROXY: {
        proxy_ent *x, *t;
        HASH_ITER(hh, p->proxies, x, t) {
            snprintf(why, sizeof why, "receives HTTP CONNECT on tcp/%u from %s for %s (%s frame %llu)",
                     x->k.sport, pw_addr_str(&x->first_client, ip, sizeof ip), x->host,
                     src_name(srcs, x->source), (unsigned long long)x->frame);
            add_assign(p, role, &x->k.server, full_prefix(&x->k.server), AS_INFERRED, why);
        }
        break;
    }
    default:
        break;
    }
}

void decide_roles(pw_policy *p, const pw_sources *srcs)
{
    for (int i = 0; i < p->cfg.n_roles; i++)
        add_assign(p, p->cfg.roles[i].role, &p->cfg.roles[i].cidr.net, p->cfg.roles[i].cidr.prefix,
                   AS_BOUND, "--role");
    for (int i = 0; i < p->cfg.n_sensors; i++)
        add_assign(p, "sensor", &p->cfg.sensors[i].net, p->cfg.sensors[i].prefix, AS_BOUND, "--sensor");
    for (int i = 0; i < p->n_prof; i++) {
        if (!p->prof[i].active)
            continue;
        const pw_profile_def *d = p->prof[i].def;
        for (int r = 0; r < d->n_roles; r++)
            for (int a = 0; a < d->roles[r].n_addrs; a++) {
                char why[320];
                snprintf(why, sizeof why, "roles.%.60s.addresses in %.200s", d->roles[r].name, d->path);
                add_assign(p, d->roles[r].name, &d->roles[r].addrs[a].net, d->roles[r].addrs[a].prefix,
                           AS_BOUND, why);
            }
    }
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
                infer_cond(p, d->roles[r].name, &d->roles[r].infer[c], srcs);
        }
    }
}

/* ---- profile choice ------------------------------------------------------- */

void choose_profiles(pw_policy *p, const pw_sources *srcs)
{
    if (!p->auto_choose)
        return;
    for (int i = 0; i < p->n_prof; i++) {
        loaded *l = &p->prof[i];
        const pw_profile_def *d = l->def;
        int off = 0;
        for (int c = 0; c < d->n_detect; c++) {
            const pw_cond *cd = &d->detect[c];
            if (cd->kind == PW_COND_SEEN) {
                for (int j = 0; j < cd->n_ports; j++) {
                    uint64_t n = 0;
                    const agg *first = NULL;
                    agg *g;
                    FOR_AGG(p, g) {
                        if (g->k.dyn || g->k.proto != cd->ports[j].proto || g->k.port != cd->ports[j].port)
                            continue;
                        n += ag_total(g);
                        if (!first || g->first.source < first->first.source ||
                            (g->first.source == first->first.source && g->first.frame < first->first.frame))
                            first = g;
                    }
                    if (!n || off >= (int)sizeof l->why - 1)
                        continue;
                    off += snprintf(l->why + off, sizeof l->why - (size_t)off,
                                    "%s%llu attempt%s to %s/%u (first: %s frame %llu)", off ? "; " : "traffic seen: ",
                                    (unsigned long long)n, n == 1 ? "" : "s",
                                    pw_proto_str(cd->ports[j].proto), cd->ports[j].port,
                                    src_name(srcs, first->first.source), (unsigned long long)first->first.frame);
                }
            } else if (cd->kind == PW_COND_NTLM_RPC) {
                if (!p->ntlm_rpc || off >= (int)sizeof l->why - 1)
                    continue;
                off += snprintf(l->why + off, sizeof l->why - (size_t)off,
                                "%s%llu DCE/RPC bind%s to tcp/135 with NTLMSSP (NTLM over RPC; first: %s frame %llu)",
                                off ? "; " : "traffic seen: ", (unsigned long long)p->ntlm_rpc,
                                p->ntlm_rpc == 1 ? "" : "s", src_name(srcs, p->ntlm_rpc_source),
                                (unsigned long long)p->ntlm_rpc_frame);
            } else if (cd->kind == PW_COND_SNI) {
                cflow *f, *t, *first = NULL;
                uint64_t n = 0;
                LL_FOREACH_SAFE(p->cflows, f, t) {
                    const char *name = cflow_name(f);
                    if (!pw_name_match(cd->pattern, name))
                        continue;
                    n++;
                    if (!first || f->source < first->source || (f->source == first->source && f->frame < first->frame))
                        first = f;
                }
                if (!n || off >= (int)sizeof l->why - 1)
                    continue;
                off += snprintf(l->why + off, sizeof l->why - (size_t)off,
                                "%s%llu connection%s for %s (first: %s %s frame %llu)", off ? "; " : "traffic seen: ",
                                (unsigned long long)n, n == 1 ? "" : "s", cd->pattern,
                                first->is_connect ? "HTTP CONNECT" : first->sni[0] ? "TLS SNI" : "DNS answer",
                                src_name(srcs, first->source),
                                (unsigned long long)(first->name_frame ? first->name_frame : first->frame));
            }
        }
        l->active = off > 0;
    }
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

/* Role check for one side; by_rule gets true when the role had no holders
 * and the rule's traffic stands in for it. */
bool side_ok(const pw_policy *p, const pw_profile_def *d, const char *role, const pw_addr *ip,
                    const pw_rule_def *r, bool server, bool *inferred, bool *by_rule)
{
    *by_rule = false;
    *inferred = false;
    if (!strcmp(role, "any-host"))
        return true;
    int h = role_has(p, role, ip, inferred);
    if (h < 0) {
        if (r && !fallback_ok(p, role, r, server))
            return false;
        /* a client already identified as another role is not assumed to hold
         * this unidentified one (the enterprise manager's SQL traffic is not
         * the Threat Manager's) */
        if (r && !server && d)
            for (int i = 0; i < d->n_roles; i++) {
                bool inf2;
                if (strcmp(d->roles[i].name, role) && role_has(p, d->roles[i].name, ip, &inf2) == 1)
                    return false;
            }
        *inferred = true;
        *by_rule = true;
        return true;
    }
    return h == 1;
}


void by_rule_assign(pw_policy *p, const char *role, const pw_addr *ip, const pw_rule_def *r,
                           bool server)
{
    char why[320];
    snprintf(why, sizeof why, "%s of %s/%s traffic matching rule %s (no other host identified as %s)",
             server ? "server" : "client", pw_proto_str(r->proto), r->ports.text, r->id, role);
    add_assign(p, role, ip, full_prefix(ip), AS_BY_RULE, why);
}
