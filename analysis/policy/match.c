/* policy/match.c - intake: dissector events (endpoint-mapper grants, TLS, HTTP
 * CONNECT, NTLM-over-RPC binds, DNS answers for watched names) and the
 * core's attempts, folded into bounded aggregates with evidence samples
 * (see internal.h for the memory bounds). */
#include "internal.h"
#include "../../common/hint.h"
#include "../../common/xalloc.h"

#include "../apps.h"

void pw_policy_set_limits(pw_policy *p, const pw_policy_limits *l)
{
    if (!p || !l)
        return;
    if (l->pairs)
        p->lim.pairs = l->pairs;
    if (l->servers)
        p->lim.servers = l->servers;
    if (l->samples)
        p->lim.samples = l->samples;
    if (l->flows)
        p->lim.flows = l->flows;
}

void pw_policy_get_stats(const pw_policy *p, pw_policy_stats *o)
{
    memset(o, 0, sizeof *o);
    if (!p)
        return;
    o->pairs = p->n_level[LV_PAIR];
    o->servers = p->n_level[LV_SERVER];
    o->ports = p->n_level[LV_PORT];
    o->samples = p->n_samples;
    o->folded = p->folded;
    o->samples_dropped = p->samples_dropped;
    o->cflows = p->n_cflows;
    o->epm = p->n_epm;
    o->dns = p->n_dns;
    o->proxies = p->n_proxies;
    o->events_dropped = p->events_dropped;
}

/* A new entry in an event table of n entries may be made. */
static bool room(pw_policy *p, size_t n)
{
    if (n < p->lim.flows)
        return true;
    p->events_dropped++;
    return false;
}

static bool watched_name(const pw_policy *p, const char *name)
{
    for (int i = 0; i < p->n_patterns; i++)
        if (pw_name_match(p->patterns[i], name))
            return true;
    return false;
}
/* ---- events ----------------------------------------------------------------- */

static flow_key fkey(uint8_t proto, const pw_addr *c, uint16_t cp, const pw_addr *s, uint16_t sp)
{
    flow_key k;
    memset(&k, 0, sizeof k);
    k.client = *c;
    k.server = *s;
    k.cport = cp;
    k.sport = sp;
    k.proto = proto;
    return k;
}

/* The connection's cloud-check slot, made when create (a watched name was
 * asked for on it); the flow as the dissector saw it is its key. */
static cflow *cflow_get(pw_policy *p, pw_conn *c, const flow_key *k, bool create, const pw_event *ev)
{
    if (!c)
        return NULL;
    cflow *f = c->policy;
    if (!f && create) {
        f = pw_xcalloc(1, sizeof *f);
        p->n_cflows_open++;
        f->k = *k;
        if (ev) {
            f->source = ev->source;
            f->ts = ev->ts;
            f->frame = ev->frame;
            f->name_frame = ev->frame;
        }
        c->policy = f;
    }
    return f;
}

static bool addr_zero(const pw_addr *a)
{
    for (int i = 0; i < 16; i++)
        if (a->b[i])
            return false;
    return true;
}

/* A port announced to a client (endpoint mapper or SQL Browser): the next
 * attempt from that client to that target and port counts as announced. */
static epm_key epm_key_of(const pw_addr *client, const pw_addr *target, uint16_t port)
{
    epm_key ek;
    memset(&ek, 0, sizeof ek);
    ek.client = *client;
    ek.target = *target;
    ek.port = port;
    ek.proto = 6;
    return ek;
}

/* The port announced to client on target, or NULL. */
static epm_ent *epm_find(const pw_policy *p, const epm_key *ek)
{
    epm_ent *x;
    HASH_FIND(hh, p->epm, ek, sizeof *ek, x);
    return x;
}

static void announce(pw_policy *p, const pw_event *ev, const pw_addr *client, const pw_addr *target,
                     uint16_t port, uint8_t by, const char *instance)
{
    epm_key ek = epm_key_of(client, target, port);
    epm_ent *x = epm_find(p, &ek);
    if (x)
        return;
    if (!room(p, p->n_epm))
        return;
    x = pw_xcalloc(1, sizeof *x);
    p->n_epm++;
    x->k = ek;
    x->ts = ev->ts;
    x->frame = ev->frame;
    x->source = ev->source;
    x->by = by;
    snprintf(x->instance, sizeof x->instance, "%s", instance);
    HASH_ADD(hh, p->epm, k, sizeof x->k, x);
}

/* The endpoint mapper handed the client a TCP port on a server. */
static void on_epm(pw_policy *p, const pw_event *ev)
{
    const pw_ev_epm_port *e = &ev->u.epm;
    if (e->proto != 6 || !e->port)
        return;
    const pw_addr *target = (e->has_addr && e->addr.family && !addr_zero(&e->addr)) ? &e->addr : &ev->flow.server;
    announce(p, ev, &ev->flow.client, target, e->port, AN_EPM, "");
}

/* The SQL Browser's answer comes from the server whose instances it lists. */
static void on_ssrp(pw_policy *p, const pw_event *ev)
{
    const pw_ev_ssrp *m = &ev->u.ssrp;
    if (m->kind != PW_SSRP_RESPONSE)
        return;
    const pw_addr *server = ev->dir == 0 ? &ev->flow.client : &ev->flow.server;
    const pw_addr *client = ev->dir == 0 ? &ev->flow.server : &ev->flow.client;
    for (int i = 0; i < m->n_instances && i < PW_SSRP_MAX_INSTANCES; i++)
        if (m->instances[i].tcp_port)
            announce(p, ev, client, server, m->instances[i].tcp_port, AN_SSRP, m->instances[i].instance);
}

/* TLS facts of a cloud connection: the ClientHello naming a watched
 * service makes the connection's slot; the server's answers fill it. */
static void on_tls(pw_policy *p, pw_conn *c, const flow_key *k, const pw_event *ev)
{
    const pw_ev_tls *t = &ev->u.tls;
    if (t->kind == PW_TLS_CLIENT_HELLO) {
        cflow *f = cflow_get(p, c, k, t->sni[0] && watched_name(p, t->sni), ev);
        if (f) {
            f->client_hello = true;
            if (t->sni[0] && !f->sni[0])
                snprintf(f->sni, sizeof f->sni, "%s", t->sni);
        }
        return;
    }
    cflow *f = cflow_get(p, c, k, false, NULL);
    if (!f)
        return;
    if (t->kind == PW_TLS_SERVER_HELLO && !f->server_hello) {
        f->server_hello = true;
        f->sh_frame = ev->frame;
    } else if (t->kind == PW_TLS_CERTIFICATE && !f->cert) {
        f->cert = true;
        f->cert_frame = ev->frame;
        snprintf(f->issuer, sizeof f->issuer, "%s", t->issuer[0] ? t->issuer : t->issuer_cn);
    } else if (t->kind == PW_TLS_ALERT && !f->alert) {
        f->alert = true;
        f->alert_frame = ev->frame;
        f->alert_desc = t->alert_desc;
    }
}

/* A proxy receiving CONNECT, counted per (proxy, port). */
static void note_proxy(pw_policy *p, const pw_event *ev)
{
    const pw_flow *fl = &ev->flow;
    flow_key pk = fkey(fl->proto, &fl->client, 0, &fl->server, fl->server_port);
    memset(&pk.client, 0, sizeof pk.client);
    proxy_ent *px;
    HASH_FIND(hh, p->proxies, &pk, sizeof pk, px);
    if (!px && room(p, p->n_proxies)) {
        px = pw_xcalloc(1, sizeof *px);
        p->n_proxies++;
        px->k = pk;
        px->first_client = fl->client;
        px->source = ev->source;
        px->frame = ev->frame;
        snprintf(px->host, sizeof px->host, "%s", ev->u.http.host);
        HASH_ADD(hh, p->proxies, k, sizeof px->k, px);
    }
    if (px)
        px->connects++;
}

/* HTTP CONNECT to a watched name and the proxy's answer. */
static void on_http(pw_policy *p, pw_conn *c, const flow_key *k, const pw_event *ev)
{
    const pw_ev_http *h = &ev->u.http;
    if (h->kind == PW_HTTP_REQUEST && !strcasecmp(h->method, "CONNECT")) {
        note_proxy(p, ev);
        cflow *f = cflow_get(p, c, k, watched_name(p, h->host), ev);
        if (f && !f->is_connect) {
            f->is_connect = true;
            snprintf(f->connect_host, sizeof f->connect_host, "%s", h->host);
            f->connect_port = h->port ? h->port : 443;
        }
    } else if (h->kind == PW_HTTP_RESPONSE) {
        cflow *f = cflow_get(p, c, k, false, NULL);
        /* the last status wins: a CONNECT retried with credentials (407, then 200) */
        if (f && f->is_connect && h->status >= 200) {
            f->status = h->status;
            f->status_frame = ev->frame;
        }
    }
}

/* A DCE/RPC bind to tcp/135 carrying NTLMSSP (NTLM over RPC, for detection). */
static void on_dcerpc(pw_policy *p, const pw_event *ev)
{
    const pw_ev_dcerpc *d = &ev->u.dcerpc;
    if (ev->flow.proto == 6 && ev->flow.server_port == 135 && ev->dir == 0 &&
        (d->ptype == PW_DCERPC_BIND || d->ptype == PW_DCERPC_ALTER_CONTEXT) && d->auth_type == PW_AUTHN_WINNT &&
        !p->ntlm_rpc++) {
        p->ntlm_rpc_source = ev->source;
        p->ntlm_rpc_frame = ev->frame;
    }
}

/* DNS answers for watched names: the client may connect to those addresses. */
static void on_dns(pw_policy *p, const pw_event *ev)
{
    const pw_ev_dns *d = &ev->u.dns;
    if (!d->response || d->rcode != 0 || !watched_name(p, d->qname))
        return;
    for (int i = 0; i < d->n_answers && i < PW_DNS_MAX_ANSWERS; i++) {
        if (d->answers[i].type != 1 && d->answers[i].type != 28)
            continue;
        dns_key dk;
        memset(&dk, 0, sizeof dk);
        dk.client = ev->flow.client;
        dk.ip = d->answers[i].addr;
        dns_ent *x;
        HASH_FIND(hh, p->dns, &dk, sizeof dk, x);
        if (x || !room(p, p->n_dns))
            continue;
        x = pw_xcalloc(1, sizeof *x);
        p->n_dns++;
        x->k = dk;
        snprintf(x->name, sizeof x->name, "%s", d->qname);
        HASH_ADD(hh, p->dns, k, sizeof x->k, x);
    }
}

void pw_policy_event(pw_policy *p, pw_conn *c, const pw_event *ev)
{
    if (!p || !ev)
        return;
    const pw_flow *fl = &ev->flow;
    switch (ev->type) {
    case PW_EV_EPM_PORT: on_epm(p, ev); break;
    case PW_EV_SSRP: on_ssrp(p, ev); break;
    case PW_EV_TLS:
    case PW_EV_HTTP: { /* the flow key only for these two: most events are DNS */
        flow_key k = fkey(fl->proto, &fl->client, fl->client_port, &fl->server, fl->server_port);
        if (ev->type == PW_EV_TLS)
            on_tls(p, c, &k, ev);
        else
            on_http(p, c, &k, ev);
        break;
    }
    case PW_EV_DCERPC: on_dcerpc(p, ev); break;
    case PW_EV_DNS: on_dns(p, ev); break;
    default: break;
    }
}

/* ---- attempts --------------------------------------------------------------- */

/* Evidence samples share one budget (lim.samples); answered ones may take
 * at most half of it, so the failures a user acts on always find room. */
static void keep_sample(pw_policy *p, sample **arr, uint16_t *n, uint16_t *cap, const sample *s)
{
    int max = p->cfg.max_evidence;
    if (*n >= max)
        return;
    if (*n == *cap) {
        int c = *cap ? *cap * 2 : 1;
        if (c > max)
            c = max;
        bool ok = s->outcome == PW_OUT_ANSWERED;
        size_t more = (size_t)(c - *cap);
        if (p->n_samples + more > p->lim.samples || (ok && p->n_samples_ok + more > p->lim.samples / 2)) {
            p->samples_dropped++;
            return;
        }
        sample *x = pw_xrealloc(*arr, (size_t)c, sizeof *x);
        p->n_samples += more;
        if (ok)
            p->n_samples_ok += more;
        *arr = x;
        *cap = (uint16_t)c;
    }
    (*arr)[(*n)++] = *s;
}
/* Two words of an address, each multiplied by its own odd constant: the
 * sum differs whenever the address does, at one multiply per word. */
static uint64_t addr_words(const pw_addr *a, uint64_t k0, uint64_t k1)
{
    uint64_t w0, w1;
    memcpy(&w0, a->b, 8);
    memcpy(&w1, a->b + 8, 8);
    return (w0 + a->family) * k0 + w1 * k1;
}

/* The hash of an aggregate key, from its fields where they are: an
 * attempt's are hashed in place, not copied into a key first (the reads of
 * a key just written field by field wait for those writes). */
static uint32_t fields_hash(const pw_addr *client, const pw_addr *server, uint16_t port, uint8_t proto,
                            uint8_t dyn, uint8_t level)
{
    uint64_t h = addr_words(client, 0x9e3779b97f4a7c15ull, 0xbf58476d1ce4e5b9ull) ^
                 addr_words(server, 0x94d049bb133111ebull, 0xd6e8feb86659fd93ull) ^
                 ((uint64_t)port | (uint64_t)proto << 16 | (uint64_t)dyn << 24 | (uint64_t)level << 32) *
                     0xff51afd7ed558ccdull;
    h ^= h >> 32;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return (uint32_t)h;
}

static uint32_t agg_hash(const agg_key *k)
{
    return fields_hash(&k->client, &k->server, k->port, k->proto, k->dyn, k->level);
}

/* The client and server of an attempt's aggregate at `level`: zero where
 * the level folds them. */
static const pw_addr no_addr;
static const pw_addr *level_client(const pw_attempt *a, int level)
{
    return level == LV_PAIR ? &a->client : &no_addr;
}
static const pw_addr *level_server(const pw_attempt *a, int level)
{
    return level == LV_PORT ? &no_addr : &a->server;
}

static uint32_t level_hash(const pw_attempt *a, uint8_t dyn, int level)
{
    return fields_hash(level_client(a, level), level_server(a, level), a->port, a->proto, dyn, (uint8_t)level);
}

static agg_key level_key(const pw_attempt *a, uint8_t dyn, int level)
{
    agg_key k;
    memset(&k, 0, sizeof k);
    k.client = *level_client(a, level);
    k.server = *level_server(a, level);
    k.port = a->port;
    k.proto = a->proto;
    k.dyn = dyn;
    k.level = (uint8_t)level;
    return k;
}

static bool key_is(const agg_key *k, const pw_attempt *a, uint8_t dyn, int level)
{
    return k->level == level && k->port == a->port && k->proto == a->proto && k->dyn == dyn &&
           !memcmp(&k->client, level_client(a, level), sizeof k->client) &&
           !memcmp(&k->server, level_server(a, level), sizeof k->server);
}

/* The aggregate of attempt a at `level` (key hash h), or NULL. */
static agg *agg_find(const pw_policy *p, const pw_attempt *a, uint8_t dyn, int level, uint32_t h)
{
    if (!p->slots)
        return NULL;
    for (size_t i = h & p->slot_mask;; i = (i + 1) & p->slot_mask) {
        const struct aslot *s = &p->slots[i];
        if (!s->g)
            return NULL;
        if (s->h == h && key_is(&s->g->k, a, dyn, level))
            return s->g;
    }
}

static void slot_put(struct aslot *slots, size_t mask, uint32_t h, agg *g)
{
    size_t i = h & mask;
    while (slots[i].g)
        i = (i + 1) & mask;
    slots[i].h = h;
    slots[i].g = g;
}

/* Adds g (not present); false when out of memory. Load stays at most 1/2. */
static bool agg_insert(pw_policy *p, agg *g, uint32_t h)
{
    if (p->n_agv == p->cap_agv) {
        size_t cap = p->cap_agv ? p->cap_agv * 2 : 64;
        agg **v = pw_xrealloc(p->agv, cap, sizeof *v);
        if (!v)
            return false;
        p->agv = v;
        p->cap_agv = cap;
    }
    if (!p->slots || (p->n_agv + 1) * 2 > p->slot_mask + 1) {
        size_t n = p->slots ? (p->slot_mask + 1) * 2 : 256;
        struct aslot *ns = pw_xcalloc(n, sizeof *ns);
        for (size_t i = 0; i < p->n_agv; i++)
            slot_put(ns, n - 1, agg_hash(&p->agv[i]->k), p->agv[i]);
        free(p->slots);
        p->slots = ns;
        p->slot_mask = n - 1;
    }
    slot_put(p->slots, p->slot_mask, h, g);
    p->agv[p->n_agv++] = g;
    return true;
}

/* Aggregates are never dropped before the policy is, so they are laid out
 * in chunks in the order they are made: no malloc each (82,000 of them in a
 * scan), and a pass over all of them (the verdicts, role inference) reads
 * memory in order.  The one made here lies where agv[n_agv] will point; one
 * that is not inserted is made again in the same place. */
#define AGG_CHUNK 1024
static agg *agg_new(pw_policy *p)
{
    size_t c = p->n_agv / AGG_CHUNK;
    if (c == p->n_agg_chunks) {
        p->agg_chunks = pw_xrealloc(p->agg_chunks, c + 1, sizeof *p->agg_chunks);
        p->agg_chunks[p->n_agg_chunks++] = pw_xcalloc(AGG_CHUNK, sizeof(agg));
    }
    agg *g = &p->agg_chunks[c][p->n_agv % AGG_CHUNK];
    memset(g, 0, sizeof *g);
    return g;
}

static size_t level_limit(const pw_policy *p, int level)
{
    return level == LV_PAIR ? p->lim.pairs : level == LV_SERVER ? p->lim.servers : SIZE_MAX;
}

/* Whether an aggregate of key hash h may be at `level`: false proves it is
 * not.  Most attempts of a scan or a flood find their pair and server
 * levels full and their key in neither; the bit (in 128 KiB per level,
 * where the slots take megabytes) spares them both probes. */
#define PRESENT_BITS 20
static bool maybe_at(const pw_policy *p, int level, uint32_t h)
{
    if (level == LV_COUNT - 1 || !p->present[level])
        return true;
    uint32_t b = h & ((1u << PRESENT_BITS) - 1);
    return p->present[level][b >> 6] >> (b & 63) & 1;
}

static void mark_present(pw_policy *p, int level, uint32_t h)
{
    if (level == LV_COUNT - 1)
        return;
    if (!p->present[level])
        p->present[level] = pw_xcalloc((1u << PRESENT_BITS) / 64, sizeof(uint64_t));
    uint32_t b = h & ((1u << PRESENT_BITS) - 1);
    p->present[level][b >> 6] |= 1ull << (b & 63);
}

/* A level that takes no new aggregate: only one present there can match. */
static bool level_full(const pw_policy *p, int level)
{
    return p->n_level[level] >= level_limit(p, level);
}

/* The slots agg_get() will probe: the pair's, and while a level is full
 * (a new pair's attempt goes on to the next), the next level's. */
PW_HINT_FN void pw_policy_prefetch(const pw_policy *p, const pw_attempt *a)
{
    if (!p || !p->slots || !is_rel(p, a->proto, a->port))
        return;
    for (int level = LV_PAIR; level < LV_COUNT; level++) {
        uint32_t h = level_hash(a, 0, level);
        bool full = level_full(p, level);
        if (!full || maybe_at(p, level, h))
            __builtin_prefetch(&p->slots[h & p->slot_mask]);
        if (!full)
            break;
    }
}

/* The aggregate an attempt counts in: its pair's, else (pair table full) its
 * server's, else its port's. */
static agg *agg_get(pw_policy *p, const pw_attempt *a, uint8_t dyn, const sample *s)
{
    for (int level = LV_PAIR; level < LV_COUNT; level++) {
        uint32_t h = level_hash(a, dyn, level);
        bool full = level_full(p, level);
        agg *g = full && !maybe_at(p, level, h) ? NULL : agg_find(p, a, dyn, level, h);
        if (!g && !full) {
            g = agg_new(p);
            g->k = level_key(a, dyn, level);
            g->first = *s;
            if (!agg_insert(p, g, h))
                return NULL;
            mark_present(p, level, h);
            p->n_level[level]++;
        }
        if (g) {
            if (level != LV_PAIR)
                p->folded++;
            return g;
        }
    }
    return NULL;
}

/* The application's answers on the attempt's connection join the
 * aggregate's (made on the first answer: most aggregates see none). */
static void count_app(agg *g, const pw_attempt *a, const pw_app_slot *as)
{
    if (!as && !a->app_ok && !a->app_failed)
        return;
    if (!g->app)
        g->app = pw_xcalloc(1, sizeof *g->app);
    pw_res_app *x = g->app;
    if (a->app[0] && !x->name[0])
        snprintf(x->name, sizeof x->name, "%s", a->app);
    if (!as) {
        x->ok += a->app_ok;
        x->failed += a->app_failed;
        if (a->app_failure[0])
            pw_app_code_add(x->codes, &x->n_codes, a->app_failure, a->app_failed);
        return;
    }
    x->ok += as->ok;
    x->failed += as->failed;
    x->h2_tls += as->h2_tls;
    for (uint8_t i = 0; i < as->n_codes; i++)
        pw_app_code_add(x->codes, &x->n_codes, as->codes[i].code, as->codes[i].n);
}

/* Whether the port of a TCP attempt was announced to its client before it
 * (the endpoint-mapper grant, or SQL Browser answer, is then marked used). */
static void mark_announced(pw_policy *p, const pw_attempt *a, pw_policy_mark *m)
{
    epm_key ek = epm_key_of(&a->client, &a->server, a->port);
    epm_ent *x = epm_find(p, &ek);
    if (x && a->ts >= x->ts) {
        m->announced = x->by;
        m->announced_frame = x->frame;
        x->used = true;
    }
}

void pw_policy_count(pw_policy *p, const pw_attempt *a, const pw_app_slot *as, const pw_policy_mark *m)
{
    if (!p || !m->counts)
        return;
    sample s = {.source = a->source, .frame = a->frame_request, .frame_reply = a->frame_reply,
                .epm_frame = m->announced_frame, .ts = a->ts, .client = a->client, .server = a->server,
                .outcome = (uint8_t)a->outcome, .reason = (uint8_t)a->reason};
    pw_responder_save(a, &s.resp);
    agg *g = agg_get(p, a, m->announced, &s);
    if (!g)
        return;
    g->counts[a->outcome]++;
    count_app(g, a, as);
    if (s.ts < g->first.ts)
        g->first = s;
    if (a->outcome == PW_OUT_ANSWERED)
        keep_sample(p, &g->ok, &g->n_ok, &g->cap_ok, &s);
    else
        keep_sample(p, &g->bad, &g->n_bad, &g->cap_bad, &s);
}

/* A TCP connection to an address a DNS answer for a watched name gave its
 * client is a cloud connection too (the sensor connects by name). */
static cflow *cflow_from_dns(pw_policy *p, pw_conn *c)
{
    const pw_attempt *a = &c->a;
    dns_key dk;
    memset(&dk, 0, sizeof dk);
    dk.client = a->client;
    dk.ip = a->server;
    dns_ent *d;
    HASH_FIND(hh, p->dns, &dk, sizeof dk, d);
    if (!d)
        return NULL;
    flow_key fk = fkey(6, &a->client, a->client_port, &a->server, a->port);
    cflow *f = cflow_get(p, c, &fk, true, NULL);
    snprintf(f->dns_name, sizeof f->dns_name, "%s", d->name);
    f->source = a->source;
    f->ts = a->ts;
    f->frame = a->frame_request;
    return f;
}

static void cflow_take_attempt(cflow *f, const pw_attempt *a)
{
    f->has_attempt = true;
    f->tcp_out = (uint8_t)a->outcome;
    f->tcp_reason = (uint8_t)a->reason;
    f->att_frame = a->frame_request;
    f->att_reply = a->frame_reply;
    if (!f->frame || a->frame_request < f->frame) {
        f->frame = a->frame_request;
        f->ts = a->ts;
        f->source = a->source;
    }
}

pw_policy_mark pw_policy_conn_removed(pw_policy *p, pw_conn *c)
{
    pw_policy_mark m = {0};
    if (!p || !c)
        return m;
    const pw_attempt *a = &c->a;
    bool att = c->attempt_done && (a->proto == 6 || a->proto == 17) &&
               a->outcome != PW_OUT_PENDING && a->outcome < PW_OUT_COUNT;
    if (att && a->proto == 6 && p->epm)
        mark_announced(p, a, &m);
    m.counts = att && (m.announced || is_rel(p, a->proto, a->port));
    cflow *f = c->policy;
    if (!f && att && a->proto == 6 && p->dns)
        f = cflow_from_dns(p, c);
    if (!f)
        return m;
    c->policy = NULL;
    p->n_cflows_open--;
    if (att && a->proto == 6)
        cflow_take_attempt(f, a);
    /* The finished cloud connection joins the list the verdicts read. */
    if (!room(p, p->n_cflows)) {
        free(f);
        return m;
    }
    p->n_cflows++;
    LL_APPEND(p->cflows, f);
    return m;
}
