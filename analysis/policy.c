/* policy.c - port policies: profiles, roles (bound or inferred) and a verdict
 * per rule with evidence (issue 4).
 *
 * While the capture is read, attempts are folded into small aggregates, one
 * per client, server, transport, port and "handed out by the endpoint
 * mapper" flag, kept only for ports some loaded rule or inference looks at.
 * Memory is bounded, whatever the capture length: at most
 * PW_POLICY_MAX_PAIRS such pair aggregates are kept (policy_internal.h);
 * attempts of further pairs are folded into one aggregate per (server,
 * transport, port, flag), at most PW_POLICY_MAX_SERVERS of them, and beyond
 * that into one per (transport, port, flag).  A folded aggregate stands for
 * its clients (and servers) by the first one seen: its counts feed the
 * rule's counts and verdict exactly (a rule is partial when some of its
 * pairs pass and others fail, which a folded aggregate holding both answered
 * and failed attempts also yields), but per-client detail is lost, so a rule
 * that matched folded attempts carries "truncated": true and
 * counts.folded (the attempts folded).  Each aggregate keeps at most
 * max_evidence answered and failed samples, within a global budget of
 * PW_POLICY_MAX_SAMPLES; each rule reports the max_evidence best (failures
 * first, then by frame).  Flows that ask for a watched name (TLS SNI, HTTP
 * CONNECT, DNS answers) are tracked as "cloud flows" for the name-based
 * rules of the sensor profile (at most PW_POLICY_MAX_FLOWS, as are
 * endpoint-mapper grants, DNS answers and proxies).  Roles, profile choice
 * and verdicts are decided once, in pw_policy_json(), when the whole
 * capture has been seen. */
#include "policy.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "../common/table.h"

#include "../common/log.h"
#include "policy_internal.h"

#ifndef PW_PROFILE_DIR
#define PW_PROFILE_DIR "profiles"
#endif

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

/* ---- state ------------------------------------------------------------------ */

typedef struct sample {
    uint64_t frame, frame_reply, epm_frame;
    pw_usec ts;
    uint32_t source;
    pw_addr client, server; /* a folded aggregate holds several */
    uint8_t outcome, reason;
} sample;

enum { LV_PAIR = 0, LV_SERVER, LV_PORT, LV_COUNT };

typedef struct agg_key {
    pw_addr client, server; /* client zero from LV_SERVER, server zero at LV_PORT */
    uint16_t port;
    uint8_t proto;
    uint8_t dyn;   /* the port was handed out by the endpoint mapper */
    uint8_t level; /* LV_* */
} agg_key;

typedef struct agg {
    agg_key k;
    uint16_t n_ok, n_bad, cap_ok, cap_bad; /* arrays grow on demand: most pairs see one attempt */
    uint64_t counts[PW_OUT_COUNT];
    sample first;       /* earliest attempt; stands for the clients / servers of a folded aggregate */
    sample *ok, *bad;   /* up to max_evidence answered / not answered samples */
} agg;

/* The client and server an aggregate stands for. */
static const pw_addr *ag_client(const agg *g) { return g->k.level != LV_PAIR ? &g->first.client : &g->k.client; }
static const pw_addr *ag_server(const agg *g) { return g->k.level == LV_PORT ? &g->first.server : &g->k.server; }
static uint64_t ag_total(const agg *g)
{
    uint64_t t = 0;
    for (int i = 0; i < PW_OUT_COUNT; i++)
        t += g->counts[i];
    return t;
}

typedef struct epm_key {
    pw_addr client, target;
    uint16_t port;
    uint8_t proto;
} epm_key;

typedef struct epm_ent {
    epm_key k;
    pw_usec ts;
    uint64_t frame;
    uint32_t source;
    UT_hash_handle hh;
} epm_ent;

typedef struct flow_key {
    pw_addr client, server;
    uint16_t cport, sport;
    uint8_t proto;
} flow_key;

typedef struct cflow {
    flow_key k;
    uint32_t source;
    pw_usec ts;
    uint64_t frame;              /* first frame we know of (the SYN when seen) */
    uint64_t name_frame;         /* frame of the ClientHello / CONNECT that named the service */
    char sni[PW_NAME_MAX];
    char dns_name[PW_NAME_MAX];
    bool is_connect;
    char connect_host[PW_NAME_MAX];
    uint16_t connect_port;
    uint16_t status;
    uint64_t status_frame;
    bool client_hello, server_hello, cert, alert;
    uint64_t sh_frame, cert_frame, alert_frame;
    uint8_t alert_desc;
    char issuer[PW_NAME_MAX];
    bool has_attempt;
    uint8_t tcp_out, tcp_reason;
    uint64_t att_frame, att_reply;
    UT_hash_handle hh;
} cflow;

typedef struct dns_key {
    pw_addr client, ip;
} dns_key;

typedef struct dns_ent {
    dns_key k;
    char name[PW_NAME_MAX];
    UT_hash_handle hh;
} dns_ent;

typedef struct proxy_ent {
    flow_key k;   /* server + sport identify the proxy (client and cport zero) */
    pw_addr first_client;
    uint32_t source;
    uint64_t frame;
    char host[PW_NAME_MAX];
    uint64_t connects;
    UT_hash_handle hh;
} proxy_ent;

typedef enum { AS_BOUND = 0, AS_INFERRED, AS_BY_RULE } as_kind;

typedef struct assign {
    char role[64];
    pw_cidr cidr;
    as_kind kind;
    char *why;          /* malloc'd */
} assign;

typedef struct as_key {
    char role[64];
    pw_addr ip;
    int prefix;
} as_key;

typedef struct as_idx {
    as_key k;
    int i;              /* index into pw_policy.as */
    UT_hash_handle hh;
} as_idx;

typedef struct role_cnt {
    char role[64];
    int holders;        /* bound + inferred (not by-rule) */
    int bound;
} role_cnt;

typedef struct svc_key {
    pw_addr server;
    uint16_t port;
    uint8_t proto;
} svc_key;

typedef struct svc_ent {
    svc_key k;
    UT_hash_handle hh;
} svc_ent;

typedef struct loaded {
    pw_profile_def *def;
    bool explicit_;  /* named with --profile */
    bool active;
    char why[512];
} loaded;

/* The verdict of one rule, kept for pw_policy_should_fail. */
typedef struct rule_result {
    const pw_profile_def *prof;
    const pw_rule_def *rule;
    pw_verdict verdict;
    json_t *obj;
} rule_result;

struct pw_policy {
    pw_config cfg;
    loaded prof[PW_MAX_PROFILES * 2];
    int n_prof;
    bool auto_choose;
    uint8_t relevant[2][65536 / 8];  /* [tcp, udp] ports to keep aggregates for */
    char patterns[64][128];          /* names watched (SNI / CONNECT / DNS) */
    int n_patterns;
    agg **agv;                       /* aggregates, in the order they were made */
    size_t n_agv, cap_agv;
    struct aslot { uint32_t h; agg *g; } *slots; /* open addressing over agv; NULL g = empty */
    size_t slot_mask;
    epm_ent *epm;
    cflow *cflows;
    dns_ent *dns;
    proxy_ent *proxies;
    assign *as;
    int n_as, cap_as;
    as_idx *as_hash;                 /* (role, ip, prefix) -> as[] */
    int *cidr_idx;                   /* as[] entries that are real CIDRs (bound) */
    int n_cidr, cap_cidr;
    role_cnt rc[256];
    int n_rc;
    svc_ent *answered;               /* (server, proto, port) that answered, for inference */
    uint64_t ntlm_rpc;               /* DCE/RPC binds to tcp/135 carrying NTLMSSP */
    uint32_t ntlm_rpc_source;
    uint64_t ntlm_rpc_frame;
    bool decided;
    bool should_fail;
    pw_policy_limits lim;
    size_t n_level[LV_COUNT];        /* aggregates per level */
    size_t n_samples;                /* sample slots allocated */
    uint64_t folded, samples_dropped;
    size_t n_cflows, n_epm, n_dns, n_proxies;
    uint64_t events_dropped;
};

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

static int pidx(uint8_t proto) { return proto == 17 ? 1 : 0; }
static void set_rel(pw_policy *p, uint8_t proto, uint16_t port)
{
    p->relevant[pidx(proto)][port >> 3] |= (uint8_t)(1u << (port & 7));
}
static bool is_rel(const pw_policy *p, uint8_t proto, uint16_t port)
{
    return (proto == 6 || proto == 17) && (p->relevant[pidx(proto)][port >> 3] >> (port & 7)) & 1;
}

static void add_pattern(pw_policy *p, const char *pat)
{
    for (int i = 0; i < p->n_patterns; i++)
        if (!strcasecmp(p->patterns[i], pat))
            return;
    if (p->n_patterns < 64)
        snprintf(p->patterns[p->n_patterns++], sizeof p->patterns[0], "%s", pat);
}

static bool watched_name(const pw_policy *p, const char *name)
{
    for (int i = 0; i < p->n_patterns; i++)
        if (pw_name_match(p->patterns[i], name))
            return true;
    return false;
}

static void index_profile(pw_policy *p, const pw_profile_def *d)
{
    for (int i = 0; i < d->n_detect; i++) {
        const pw_cond *c = &d->detect[i];
        for (int j = 0; j < c->n_ports; j++)
            set_rel(p, c->ports[j].proto, c->ports[j].port);
        if (c->kind == PW_COND_SNI)
            add_pattern(p, c->pattern);
    }
    for (int r = 0; r < d->n_roles; r++)
        for (int i = 0; i < d->roles[r].n_infer; i++) {
            const pw_cond *c = &d->roles[r].infer[i];
            for (int j = 0; j < c->n_ports; j++)
                set_rel(p, c->ports[j].proto, c->ports[j].port);
            if (c->kind == PW_COND_SNI)
                add_pattern(p, c->pattern);
        }
    for (int r = 0; r < d->n_rules; r++) {
        const pw_rule_def *rule = &d->rules[r];
        for (int i = 0; i < rule->n_hosts; i++)
            add_pattern(p, rule->hosts[i]);
        if (rule->n_hosts || rule->ports.epm_dynamic || rule->ports.rpc_dynamic)
            continue; /* name rules use cloud flows; dynamic ones the dyn flag */
        for (int i = 0; i < rule->ports.n; i++)
            for (uint32_t port = rule->ports.lo[i]; port <= rule->ports.hi[i]; port++)
                set_rel(p, rule->proto, (uint16_t)port);
    }
}

/* ---- loading ---------------------------------------------------------------- */

static bool is_path(const char *s)
{
    size_t n = strlen(s);
    return strchr(s, '/') || (n > 5 && !strcmp(s + n - 5, ".yaml")) || (n > 4 && !strcmp(s + n - 4, ".yml"));
}

static const char *profile_dir(const pw_config *cfg)
{
    return cfg && cfg->profile_dir && cfg->profile_dir[0] ? cfg->profile_dir : PW_PROFILE_DIR;
}

static int yaml_filter(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return e->d_name[0] != '.' && n > 5 && !strcmp(e->d_name + n - 5, ".yaml");
}

/* Sorted list of built-in profile files; returns count or -1. */
static int builtin_files(const char *dir, struct dirent ***list)
{
    return scandir(dir, list, yaml_filter, alphasort);
}

static bool add_profile(pw_policy *p, pw_profile_def *d, bool explicit_, char *err, size_t errlen)
{
    for (int i = 0; i < p->n_prof; i++)
        if (!strcmp(p->prof[i].def->name, d->name)) {
            if (explicit_ && p->prof[i].explicit_) {
                pw_profile_free(d); /* named twice: keep one */
                return true;
            }
            snprintf(err, errlen, "%s: profile name '%s' is already loaded from %s", d->path, d->name,
                     p->prof[i].def->path);
            pw_profile_free(d);
            return false;
        }
    if (p->n_prof >= (int)(sizeof p->prof / sizeof p->prof[0])) {
        snprintf(err, errlen, "too many profiles");
        pw_profile_free(d);
        return false;
    }
    loaded *l = &p->prof[p->n_prof++];
    l->def = d;
    l->explicit_ = explicit_;
    l->active = explicit_;
    if (explicit_)
        snprintf(l->why, sizeof l->why, "selected with --profile");
    index_profile(p, d);
    return true;
}

pw_policy *pw_policy_new(const pw_config *cfg, char *err, size_t errlen)
{
    pw_policy *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (cfg)
        p->cfg = *cfg;
    else
        pw_config_defaults(&p->cfg);
    if (p->cfg.max_evidence < 0)
        p->cfg.max_evidence = 0;
    if (p->cfg.max_evidence > 1000)
        p->cfg.max_evidence = 1000;
    p->lim.pairs = PW_POLICY_MAX_PAIRS;
    p->lim.servers = PW_POLICY_MAX_SERVERS;
    p->lim.samples = PW_POLICY_MAX_SAMPLES;
    p->lim.flows = PW_POLICY_MAX_FLOWS;
    const char *dir = profile_dir(&p->cfg);
    if (p->cfg.n_profiles > 0) {
        for (int i = 0; i < p->cfg.n_profiles; i++) {
            const char *name = p->cfg.profiles[i];
            char path[1024];
            bool builtin = !is_path(name);
            if (builtin)
                snprintf(path, sizeof path, "%s/%s.yaml", dir, name);
            else
                snprintf(path, sizeof path, "%s", name);
            FILE *f = fopen(path, "rb");
            if (!f) {
                if (builtin)
                    snprintf(err, errlen, "unknown profile '%s' (no %s; see --list-profiles)", name, path);
                else
                    snprintf(err, errlen, "%s: cannot open profile", path);
                pw_policy_free(p);
                return NULL;
            }
            fclose(f);
            pw_profile_def *d = pw_profile_load(path, err, errlen);
            if (!d) {
                pw_policy_free(p);
                return NULL;
            }
            d->builtin = builtin;
            if (!add_profile(p, d, true, err, errlen)) {
                pw_policy_free(p);
                return NULL;
            }
        }
    } else {
        p->auto_choose = true;
        struct dirent **list = NULL;
        int n = builtin_files(dir, &list);
        if (n < 0)
            pw_warn("policy: no built-in profiles in %s", dir);
        for (int i = 0; i < n; i++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
            pw_profile_def *d = pw_profile_load(path, err, errlen);
            bool ok = d != NULL;
            if (d) {
                d->builtin = true;
                ok = add_profile(p, d, false, err, errlen);
            }
            if (!ok) {
                for (int j = i; j < n; j++)
                    free(list[j]);
                free(list);
                pw_policy_free(p);
                return NULL;
            }
            free(list[i]);
        }
        free(list);
    }
    return p;
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

static cflow *cflow_get(pw_policy *p, const flow_key *k, bool create, const pw_event *ev)
{
    cflow *f;
    HASH_FIND(hh, p->cflows, k, sizeof *k, f);
    if (!f && create) {
        if (!room(p, p->n_cflows))
            return NULL;
        f = calloc(1, sizeof *f);
        if (!f)
            return NULL;
        p->n_cflows++;
        f->k = *k;
        if (ev) {
            f->source = ev->source;
            f->ts = ev->ts;
            f->frame = ev->frame;
            f->name_frame = ev->frame;
        }
        HASH_ADD(hh, p->cflows, k, sizeof f->k, f);
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

void pw_policy_event(pw_policy *p, const pw_event *ev)
{
    if (!p || !ev)
        return;
    const pw_flow *fl = &ev->flow;
    flow_key k = fkey(fl->proto, &fl->client, fl->client_port, &fl->server, fl->server_port);
    switch (ev->type) {
    case PW_EV_EPM_PORT: {
        const pw_ev_epm_port *e = &ev->u.epm;
        if (e->proto != 6 || !e->port)
            break;
        epm_key ek;
        memset(&ek, 0, sizeof ek);
        ek.client = fl->client;
        ek.target = (e->has_addr && e->addr.family && !addr_zero(&e->addr)) ? e->addr : fl->server;
        ek.port = e->port;
        ek.proto = 6;
        epm_ent *x;
        HASH_FIND(hh, p->epm, &ek, sizeof ek, x);
        if (!x) {
            if (!room(p, p->n_epm) || (x = calloc(1, sizeof *x)) == NULL)
                break;
            p->n_epm++;
            x->k = ek;
            x->ts = ev->ts;
            x->frame = ev->frame;
            x->source = ev->source;
            HASH_ADD(hh, p->epm, k, sizeof x->k, x);
        }
        break;
    }
    case PW_EV_TLS: {
        const pw_ev_tls *t = &ev->u.tls;
        if (t->kind == PW_TLS_CLIENT_HELLO) {
            bool want = t->sni[0] && watched_name(p, t->sni);
            cflow *f = cflow_get(p, &k, want, ev);
            if (f) {
                f->client_hello = true;
                if (t->sni[0] && !f->sni[0])
                    snprintf(f->sni, sizeof f->sni, "%s", t->sni);
            }
            break;
        }
        cflow *f = cflow_get(p, &k, false, NULL);
        if (!f)
            break;
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
        break;
    }
    case PW_EV_HTTP: {
        const pw_ev_http *h = &ev->u.http;
        if (h->kind == PW_HTTP_REQUEST && !strcasecmp(h->method, "CONNECT")) {
            flow_key pk = fkey(fl->proto, &fl->client, 0, &fl->server, fl->server_port);
            memset(&pk.client, 0, sizeof pk.client);
            proxy_ent *px;
            HASH_FIND(hh, p->proxies, &pk, sizeof pk, px);
            if (!px && room(p, p->n_proxies) && (px = calloc(1, sizeof *px)) != NULL) {
                p->n_proxies++;
                px->k = pk;
                px->first_client = fl->client;
                px->source = ev->source;
                px->frame = ev->frame;
                snprintf(px->host, sizeof px->host, "%s", h->host);
                HASH_ADD(hh, p->proxies, k, sizeof px->k, px);
            }
            if (px)
                px->connects++;
            bool want = watched_name(p, h->host);
            cflow *f = cflow_get(p, &k, want, ev);
            if (f && !f->is_connect) {
                f->is_connect = true;
                snprintf(f->connect_host, sizeof f->connect_host, "%s", h->host);
                f->connect_port = h->port ? h->port : 443;
            }
        } else if (h->kind == PW_HTTP_RESPONSE) {
            cflow *f = cflow_get(p, &k, false, NULL);
            /* the last status wins: a CONNECT retried with credentials (407, then 200) */
            if (f && f->is_connect && h->status >= 200) {
                f->status = h->status;
                f->status_frame = ev->frame;
            }
        }
        break;
    }
    case PW_EV_DCERPC:
        if (fl->proto == 6 && fl->server_port == 135 && ev->dir == 0 &&
            (ev->u.dcerpc.ptype == PW_DCERPC_BIND || ev->u.dcerpc.ptype == PW_DCERPC_ALTER_CONTEXT) &&
            ev->u.dcerpc.auth_type == PW_AUTHN_WINNT) {
            if (!p->ntlm_rpc++) {
                p->ntlm_rpc_source = ev->source;
                p->ntlm_rpc_frame = ev->frame;
            }
        }
        break;
    case PW_EV_DNS: {
        const pw_ev_dns *d = &ev->u.dns;
        if (!d->response || d->rcode != 0 || !watched_name(p, d->qname))
            break;
        for (int i = 0; i < d->n_answers && i < PW_DNS_MAX_ANSWERS; i++) {
            if (d->answers[i].type != 1 && d->answers[i].type != 28)
                continue;
            dns_key dk;
            memset(&dk, 0, sizeof dk);
            dk.client = fl->client;
            dk.ip = d->answers[i].addr;
            dns_ent *x;
            HASH_FIND(hh, p->dns, &dk, sizeof dk, x);
            if (!x && room(p, p->n_dns) && (x = calloc(1, sizeof *x)) != NULL) {
                p->n_dns++;
                x->k = dk;
                snprintf(x->name, sizeof x->name, "%s", d->qname);
                HASH_ADD(hh, p->dns, k, sizeof x->k, x);
            }
        }
        break;
    }
    default:
        break;
    }
}

/* ---- attempts --------------------------------------------------------------- */

static void keep_sample(pw_policy *p, sample **arr, uint16_t *n, uint16_t *cap, const sample *s)
{
    int max = p->cfg.max_evidence;
    if (*n >= max)
        return;
    if (*n == *cap) {
        int c = *cap ? *cap * 2 : 1;
        if (c > max)
            c = max;
        if (p->n_samples + (size_t)(c - *cap) > p->lim.samples) {
            p->samples_dropped++;
            return;
        }
        sample *x = realloc(*arr, (size_t)c * sizeof *x);
        if (!x)
            return;
        p->n_samples += (size_t)(c - *cap);
        *arr = x;
        *cap = (uint16_t)c;
    }
    (*arr)[(*n)++] = *s;
}

/* Walks the aggregates in the order they were made. */
#define FOR_AGG(p, g) for (size_t g##_i = 0; g##_i < (p)->n_agv && ((g) = (p)->agv[g##_i]) != NULL; g##_i++)

static uint32_t agg_hash(const agg_key *k)
{
    const unsigned char *b = (const unsigned char *)k;
    const size_t n = sizeof *k;
    uint64_t h = 0x9e3779b97f4a7c15ull, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
    }
    w = 0;
    memcpy(&w, b + i, n - i);
    h = (h ^ w) * 0x94d049bb133111ebull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

static agg *agg_find(const pw_policy *p, const agg_key *k, uint32_t h)
{
    if (!p->slots)
        return NULL;
    for (size_t i = h & p->slot_mask;; i = (i + 1) & p->slot_mask) {
        const struct aslot *s = &p->slots[i];
        if (!s->g)
            return NULL;
        if (s->h == h && !memcmp(&s->g->k, k, sizeof *k))
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
        agg **v = realloc(p->agv, cap * sizeof *v);
        if (!v)
            return false;
        p->agv = v;
        p->cap_agv = cap;
    }
    if (!p->slots || (p->n_agv + 1) * 2 > p->slot_mask + 1) {
        size_t n = p->slots ? (p->slot_mask + 1) * 2 : 256;
        struct aslot *ns = calloc(n, sizeof *ns);
        if (!ns)
            return false;
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

/* The aggregate an attempt counts in: its pair's, else (pair table full) its
 * server's, else its port's. */
static agg *agg_get(pw_policy *p, const pw_attempt *a, uint8_t dyn, const sample *s)
{
    agg_key k;
    memset(&k, 0, sizeof k);
    k.client = a->client;
    k.server = a->server;
    k.port = a->port;
    k.proto = a->proto;
    k.dyn = dyn;
    const size_t lim[LV_COUNT] = {p->lim.pairs, p->lim.servers, SIZE_MAX};
    for (int level = LV_PAIR; level < LV_COUNT; level++) {
        k.level = (uint8_t)level;
        if (level == LV_SERVER)
            memset(&k.client, 0, sizeof k.client);
        else if (level == LV_PORT)
            memset(&k.server, 0, sizeof k.server);
        uint32_t h = agg_hash(&k);
        agg *g = agg_find(p, &k, h);
        if (!g && p->n_level[level] < lim[level]) {
            if ((g = calloc(1, sizeof *g)) == NULL)
                return NULL;
            g->k = k;
            g->first = *s;
            if (!agg_insert(p, g, h)) {
                free(g);
                return NULL;
            }
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

void pw_policy_attempt(pw_policy *p, const pw_attempt *a)
{
    if (!p || !a || (a->proto != 6 && a->proto != 17) || a->outcome == PW_OUT_PENDING ||
        a->outcome >= PW_OUT_COUNT)
        return;
    uint8_t dyn = 0;
    uint64_t epm_frame = 0;
    if (a->proto == 6 && p->epm) {
        epm_key ek;
        memset(&ek, 0, sizeof ek);
        ek.client = a->client;
        ek.target = a->server;
        ek.port = a->port;
        ek.proto = 6;
        epm_ent *x;
        HASH_FIND(hh, p->epm, &ek, sizeof ek, x);
        if (x && a->ts >= x->ts) {
            dyn = 1;
            epm_frame = x->frame;
        }
    }
    if (dyn || is_rel(p, a->proto, a->port)) {
        sample s = {.source = a->source, .frame = a->frame_request, .frame_reply = a->frame_reply,
                    .epm_frame = epm_frame, .ts = a->ts, .client = a->client, .server = a->server,
                    .outcome = (uint8_t)a->outcome, .reason = (uint8_t)a->reason};
        agg *g = agg_get(p, a, dyn, &s);
        if (g) {
            g->counts[a->outcome]++;
            if (s.ts < g->first.ts)
                g->first = s;
            if (a->outcome == PW_OUT_ANSWERED)
                keep_sample(p, &g->ok, &g->n_ok, &g->cap_ok, &s);
            else
                keep_sample(p, &g->bad, &g->n_bad, &g->cap_bad, &s);
        }
    }
    if (a->proto == 6 && (p->cflows || p->dns)) {
        flow_key fk = fkey(6, &a->client, a->client_port, &a->server, a->port);
        cflow *f = cflow_get(p, &fk, false, NULL);
        if (!f && p->dns) {
            dns_key dk;
            memset(&dk, 0, sizeof dk);
            dk.client = a->client;
            dk.ip = a->server;
            dns_ent *d;
            HASH_FIND(hh, p->dns, &dk, sizeof dk, d);
            if (d && (f = cflow_get(p, &fk, true, NULL)) != NULL) {
                snprintf(f->dns_name, sizeof f->dns_name, "%s", d->name);
                f->source = a->source;
                f->ts = a->ts;
                f->frame = a->frame_request;
            }
        }
        if (f && !f->has_attempt) {
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
    }
}

/* ---- roles ------------------------------------------------------------------ */

static int full_prefix(const pw_addr *a) { return a->family == 6 ? 128 : 32; }

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

static void clear_assigns(pw_policy *p)
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

static void build_answered(pw_policy *p)
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

static const char *src_name(const pw_sources *srcs, uint32_t i)
{
    const char *n = pw_source_name(srcs, i);
    return n ? n : "?";
}

static const char *cflow_name(const cflow *f)
{
    return f->connect_host[0] ? f->connect_host : f->sni[0] ? f->sni : f->dns_name;
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
        HASH_ITER(hh, p->cflows, f, t) {
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

static void decide_roles(pw_policy *p, const pw_sources *srcs)
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

static void choose_profiles(pw_policy *p, const pw_sources *srcs)
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
                HASH_ITER(hh, p->cflows, f, t) {
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

/* Outcome of a cloud flow (002) and its reason. */
static pw_outcome cflow_outcome(const cflow *f, const char **reason, const char **failure)
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

static bool cflow_matches(const pw_rule_def *r, const cflow *f)
{
    const char *name = cflow_name(f);
    bool hit = false;
    for (int i = 0; i < r->n_hosts && !hit; i++)
        hit = pw_name_match(r->hosts[i], name);
    return hit && r->proto == 6 && (r->ports.epm_dynamic || pw_portspec_has(&r->ports, cflow_port(f)));
}

static bool issuer_expected(const pw_rule_def *r, const char *issuer)
{
    if (!r->n_issuers)
        return true;
    for (int i = 0; i < r->n_issuers; i++)
        if (strcasestr(issuer, r->expected_issuers[i]))
            return true;
    return false;
}

static json_t *jaddr(const pw_addr *a)
{
    char b[PW_ADDR_STRLEN];
    return json_string(pw_addr_str(a, b, sizeof b));
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
static bool side_ok(const pw_policy *p, const pw_profile_def *d, const char *role, const pw_addr *ip,
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

static void by_rule_assign(pw_policy *p, const char *role, const pw_addr *ip, const pw_rule_def *r,
                           bool server)
{
    char why[320];
    snprintf(why, sizeof why, "%s of %s/%s traffic matching rule %s (no other host identified as %s)",
             server ? "server" : "client", pw_proto_str(r->proto), r->ports.text, r->id, role);
    add_assign(p, role, ip, full_prefix(ip), AS_BY_RULE, why);
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
        HASH_ITER(hh, p->cflows, f, t) {
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

/* "sensor_cloud": per sensor, how it reached (or failed to reach) the cloud. */
static json_t *sensor_cloud(pw_policy *p, const pw_sources *srcs)
{
    const pw_rule_def *rules[64];
    int nr = 0;
    for (int i = 0; i < p->n_prof; i++)
        if (p->prof[i].active)
            for (int r = 0; r < p->prof[i].def->n_rules && nr < 64; r++)
                if (p->prof[i].def->rules[r].n_hosts)
                    rules[nr++] = &p->prof[i].def->rules[r];
    json_t *arr = json_array();
    if (!nr)
        return arr;
    /* collect matching flows, sorted by client then frame */
    size_t n = 0, cap = 16;
    const cflow **fl = malloc(cap * sizeof *fl);
    cflow *f, *t;
    HASH_ITER(hh, p->cflows, f, t) {
        const pw_rule_def *hit = NULL;
        for (int i = 0; i < nr && !hit; i++)
            if (cflow_matches(rules[i], f))
                hit = rules[i];
        if (!hit)
            continue;
        bool inf, by;
        if (!side_ok(p, NULL, hit->from, &f->k.client, hit, false, &inf, &by))
            continue;
        if (n == cap)
            fl = realloc(fl, (cap *= 2) * sizeof *fl);
        fl[n++] = f;
    }
    for (size_t i = 1; i < n; i++) { /* insertion sort: small */
        const cflow *x = fl[i];
        size_t j = i;
        while (j > 0) {
            int c = pw_addr_cmp(&fl[j - 1]->k.client, &x->k.client);
            if (c < 0 || (c == 0 && (fl[j - 1]->source < x->source ||
                                     (fl[j - 1]->source == x->source && fl[j - 1]->frame <= x->frame))))
                break;
            fl[j] = fl[j - 1];
            j--;
        }
        fl[j] = x;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        bool reached = false;
        const char *first_failure = NULL;
        json_t *conns = json_array(), *issuers = json_array();
        bool inspection = false, ind_only = true;
        char via_proxy[80] = "";
        while (j < n && pw_addr_eq(&fl[j]->k.client, &fl[i]->k.client)) {
            const cflow *c = fl[j];
            const char *reason, *failure;
            pw_outcome o = cflow_outcome(c, &reason, &failure);
            if (o == PW_OUT_ANSWERED) {
                reached = true;
                if (c->is_connect) {
                    char ip[PW_ADDR_STRLEN];
                    snprintf(via_proxy, sizeof via_proxy, "%s:%u", pw_addr_str(&c->k.server, ip, sizeof ip),
                             c->k.sport);
                }
            }
            if (o != PW_OUT_INDETERMINATE)
                ind_only = false;
            if (failure && !first_failure)
                first_failure = failure;
            bool insp = false;
            if (c->cert) {
                bool expected = true;
                for (int r = 0; r < nr; r++)
                    if (cflow_matches(rules[r], c) && !issuer_expected(rules[r], c->issuer))
                        expected = false;
                insp = !expected;
                if (insp) {
                    inspection = true;
                    json_array_append_new(issuers, json_string(c->issuer));
                }
            }
            char ip[PW_ADDR_STRLEN];
            json_t *o_ = json_pack("{s:s,s:s,s:I,s:f,s:s,s:o,s:I,s:s,s:s}", "via", c->is_connect ? "proxy" : "direct",
                                   "source", src_name(srcs, c->source), "frame", (json_int_t)c->frame, "ts",
                                   pw_usec_to_sec(c->ts), "host", cflow_name(c), "server", jaddr(&c->k.server),
                                   "port", (json_int_t)cflow_port(c), "outcome", pw_outcome_name(o), "result",
                                   reason);
            if (c->is_connect) {
                char px[80];
                snprintf(px, sizeof px, "%s:%u", pw_addr_str(&c->k.server, ip, sizeof ip), c->k.sport);
                json_object_set_new(o_, "proxy", json_string(px));
                json_object_set_new(o_, "status", c->status ? json_integer(c->status) : json_null());
            } else {
                json_object_set_new(o_, "proxy", json_null());
            }
            json_object_set_new(o_, "failure", failure ? json_string(failure) : json_null());
            json_object_set_new(o_, "tls_server_hello", json_boolean(c->server_hello));
            json_object_set_new(o_, "issuer", c->cert ? json_string(c->issuer) : json_null());
            json_object_set_new(o_, "tls_inspection", json_boolean(insp));
            if ((int)json_array_size(conns) < (p->cfg.max_evidence > 0 ? p->cfg.max_evidence : 1))
                json_array_append_new(conns, o_);
            else
                json_decref(o_);
            j++;
        }
        bool inf = true, by;
        side_ok(p, NULL, "sensor", &fl[i]->k.client, NULL, false, &inf, &by);
        json_t *s = json_pack("{s:o,s:b,s:b}", "sensor", jaddr(&fl[i]->k.client), "role_inferred", inf,
                              "reached", reached);
        json_object_set_new(s, "verdict", json_string(reached ? "pass" : ind_only ? "indeterminate" : "fail"));
        json_object_set_new(s, "via", reached ? json_string(via_proxy[0] ? "proxy" : "direct") : json_null());
        json_object_set_new(s, "proxy", via_proxy[0] ? json_string(via_proxy) : json_null());
        json_object_set_new(s, "failure", reached ? json_null() : first_failure ? json_string(first_failure)
                                                                                 : json_null());
        json_t *ti = json_pack("{s:b,s:o}", "detected", inspection, "issuers", issuers);
        if (inspection)
            json_object_set_new(ti, "note",
                                json_string("a TLS inspection device re-signs the Azure ATP certificate; "
                                            "SSL inspection of sensor traffic must support mutual inspection"));
        json_object_set_new(s, "tls_inspection", ti);
        json_object_set_new(s, "connections", conns);
        json_array_append_new(arr, s);
        i = j;
    }
    free(fl);
    return arr;
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

int pw_policy_list_profiles(const char *dir, FILE *out)
{
    if (!dir || !*dir)
        dir = PW_PROFILE_DIR;
    struct dirent **list = NULL;
    int n = builtin_files(dir, &list);
    if (n < 0) {
        pw_error("%s: cannot list profiles", dir);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path[1024], err[512];
        snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
        pw_profile_def *d = pw_profile_load(path, err, sizeof err);
        if (d) {
            fprintf(out, "%s\t%s\n", d->name, d->description);
            pw_profile_free(d);
        } else {
            pw_error("%s", err);
            rc = -1;
        }
        free(list[i]);
    }
    free(list);
    return rc;
}

void pw_policy_free(pw_policy *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n_prof; i++)
        pw_profile_free(p->prof[i].def);
    for (size_t i = 0; i < p->n_agv; i++) {
        free(p->agv[i]->ok);
        free(p->agv[i]->bad);
        free(p->agv[i]);
    }
    free(p->agv);
    free(p->slots);
    epm_ent *e, *te;
    HASH_ITER(hh, p->epm, e, te) {
        HASH_DEL(p->epm, e);
        free(e);
    }
    cflow *f, *tf;
    HASH_ITER(hh, p->cflows, f, tf) {
        HASH_DEL(p->cflows, f);
        free(f);
    }
    dns_ent *d, *td;
    HASH_ITER(hh, p->dns, d, td) {
        HASH_DEL(p->dns, d);
        free(d);
    }
    proxy_ent *x, *tx;
    HASH_ITER(hh, p->proxies, x, tx) {
        HASH_DEL(p->proxies, x);
        free(x);
    }
    clear_assigns(p);
    free(p->as);
    free(p->cidr_idx);
    free(p);
}
