/* services.c - attempts summarised per (server, proto, port).
 *
 * Counts are additive (so reports over disjoint captures could be merged);
 * distinct clients are counted exactly up to CLIENTS_EXACT per service (a
 * small open-addressing set) and then reported as "at least" that many, to
 * keep memory bounded. */
#include "services.h"
#include "../common/xalloc.h"

#include "apps.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../common/table.h"

#define CLIENT_SLOTS 64  /* power of two */
#define CLIENTS_EXACT 48 /* 75% load, then stop counting exactly */

typedef struct svc_key {
    pw_addr server;
    uint8_t proto;
    uint16_t port;
} svc_key;

/* Distinct clients are kept as 32-bit hashes. */
typedef struct svc {
    svc_key key;
    uint32_t n_clients;
    bool clients_capped;
    uint64_t counts[PW_OUT_COUNT];
    uint64_t first_frame;
    uint32_t first_source;
    pw_usec first_ts;
    uint32_t clients[CLIENT_SLOTS]; /* hash of each distinct client; 0 = empty */
    pw_res_app app;                 /* what the application answered (apps.c) */
} svc;

/* Attempts to services beyond the cap, folded per transport and port. */
typedef struct port_fold {
    pw_services_fold pub;
    uint64_t servers_sketch[32]; /* 2048-bit linear counting of distinct servers */
    uint32_t bits;               /* set in the sketch */
    uint64_t attempts_at_bit;    /* attempts when the last one was set */
} port_fold;

/* An open-addressing index over the entries (load at most 1/2), with each
 * slot's hash beside the entry index so a miss touches no entry: most
 * lookups of a busy capture are misses once the table is full. */
typedef struct slot {
    uint32_t hash, idx; /* idx UINT32_MAX = empty */
} slot;

struct pw_services {
    svc **v;                    /* entries in the order they were made */
    slot *slots;
    uint32_t mask;
    uint32_t n, max;
    port_fold *folds[2];        /* [tcp, udp] x 65536 ports, made on the first fold */
    uint64_t folded_ports[2][65536 / 64]; /* which ports of folds[] are in use: listing them
                                             reads only those (the arrays are 23 MB each) */
    pw_services_fold *out;
    uint64_t folded;            /* attempts folded */
    uint32_t n_folds;
};

pw_services *pw_services_new(uint32_t max_services)
{
    pw_services *s = pw_xcalloc(1, sizeof(pw_services));
    s->max = max_services ? max_services : PW_SERVICES_DEFAULT_MAX;
    return s;
}

static uint32_t key_hash(const svc_key *k)
{
    uint32_t h = pw_addr_hash(&k->server) ^ (((uint32_t)k->proto << 16 | k->port) * 0x9e3779b1u);
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    return h;
}

static void slots_grow(pw_services *s)
{
    uint32_t size = s->slots ? (s->mask + 1) * 2 : 1024;
    slot *ns = pw_xmalloc(size * sizeof *ns);
    s->v = pw_xrealloc(s->v, size / 2, sizeof *s->v);
    memset(ns, 0xff, size * sizeof *ns);
    for (uint32_t i = 0; i < s->n; i++) {
        uint32_t h = key_hash(&s->v[i]->key), j = h & (size - 1);
        while (ns[j].idx != UINT32_MAX)
            j = (j + 1) & (size - 1);
        ns[j] = (slot){h, i};
    }
    free(s->slots);
    s->slots = ns;
    s->mask = size - 1;
}

static svc *find(const pw_services *s, const pw_addr *server, uint8_t proto, uint16_t port)
{
    svc_key k;
    memset(&k, 0, sizeof k);
    k.server = *server;
    k.proto = proto;
    k.port = port;
    if (!s->slots)
        return NULL;
    uint32_t h = key_hash(&k);
    for (uint32_t j = h & s->mask; s->slots[j].idx != UINT32_MAX; j = (j + 1) & s->mask) {
        if (s->slots[j].hash != h)
            continue;
        svc *e = s->v[s->slots[j].idx];
        if (e->key.port == port && e->key.proto == proto && pw_addr_eq(&e->key.server, server))
            return e;
    }
    return NULL;
}

/* Adds a client to the service's small hash set of distinct clients
 * (32-bit address hashes: a collision undercounts by one, never crashes). */
static void add_client(svc *e, const pw_addr *c)
{
    uint32_t h = pw_addr_hash(c) | 1u; /* never 0, which marks an empty slot */
    uint32_t i = h & (CLIENT_SLOTS - 1);
    for (uint32_t n = 0; n < CLIENT_SLOTS; n++, i = (i + 1) & (CLIENT_SLOTS - 1)) {
        if (e->clients[i] == 0)
            break;
        if (e->clients[i] == h)
            return;
    }
    if (e->n_clients >= CLIENTS_EXACT) {
        e->clients_capped = true;
        return;
    }
    e->clients[i] = h;
    e->n_clients++;
}

/* Linear counting over a sketch of `words` words with `set` bits set:
 * n ~ -m ln(zero bits / m); a full sketch gives its largest estimate and
 * marks the count as a lower bound. */
static uint32_t sketch_estimate(unsigned set, size_t words, bool *at_least)
{
    double m = (double)words * 64;
    *at_least = set >= m - 1;
    if (*at_least)
        set = (unsigned)m - 1;
    return (uint32_t)lround(-m * log((m - set) / m));
}

/* The attempt of a service beyond the cap counts in its port's fold. */
static void fold_attempt(pw_services *s, const pw_attempt *a)
{
    int pi = a->proto == 17 ? 1 : 0;
    if (!s->folds[pi])
        s->folds[pi] = pw_xcalloc(65536, sizeof(port_fold));
    port_fold *f = &s->folds[pi][a->port];
    pw_services_fold *p = &f->pub;
    if (!p->attempts) {
        p->proto = a->proto;
        p->port = a->port;
        p->first_source = a->source;
        p->first_frame = a->frame_request;
        p->first_ts = a->ts;
        s->folded_ports[pi][a->port / 64] |= 1ULL << (a->port % 64);
        s->n_folds++;
    }
    p->attempts++;
    if ((unsigned)a->outcome < PW_OUT_COUNT)
        p->counts[a->outcome]++;
    uint32_t bit = (pw_addr_hash(&a->server) * 2654435761u) >> 21;
    uint64_t m = 1ULL << (bit % 64);
    if (!(f->servers_sketch[bit / 64] & m)) { /* the estimate is made when asked for */
        f->servers_sketch[bit / 64] |= m;
        f->bits++;
        f->attempts_at_bit = p->attempts;
    }
    if (a->ts >= p->last_ts) {
        p->last_ts = a->ts;
        p->last_source = a->source;
        p->last_frame = a->frame_request;
    }
    s->folded++;
}

/* The application's answers on one connection join its service's. */
static void take_app(pw_res_app *app, const pw_attempt *a, const pw_app_slot *as)
{
    bool refine = !strcmp(app->name, "http2") && !strcmp(a->app, "grpc");
    if (a->app[0] && (!app->name[0] || refine))
        snprintf(app->name, sizeof app->name, "%s", a->app);
    if (!as) {
        app->ok += a->app_ok;
        app->failed += a->app_failed;
        if (a->app_failure[0])
            pw_app_code_add(app->codes, &app->n_codes, a->app_failure, a->app_failed);
        return;
    }
    app->ok += as->ok;
    app->failed += as->failed;
    app->h2_tls += as->h2_tls;
    for (uint8_t i = 0; i < as->n_codes; i++)
        pw_app_code_add(app->codes, &app->n_codes, as->codes[i].code, as->codes[i].n);
}

void pw_services_attempt(pw_services *s, const pw_attempt *a)
{
    pw_services_attempt_app(s, a, NULL);
}

void pw_services_prefetch(const pw_services *s, const pw_addr *server, uint8_t proto, uint16_t port)
{
    if (!s->slots)
        return;
    svc_key k;
    memset(&k, 0, sizeof k);
    k.server = *server;
    k.proto = proto;
    k.port = port;
    __builtin_prefetch(&s->slots[key_hash(&k) & s->mask]);
}

void pw_services_attempt_app(pw_services *s, const pw_attempt *a, const pw_app_slot *as)
{
    svc *e = find(s, &a->server, a->proto, a->port);
    if (!e) {
        if (s->n >= s->max) {
            fold_attempt(s, a);
            return;
        }
        e = pw_xcalloc(1, sizeof *e);
        e->key.server = a->server;
        e->key.proto = a->proto;
        e->key.port = a->port;
        e->first_frame = a->frame_request;
        e->first_source = a->source;
        e->first_ts = a->ts;
        if (!s->slots || (s->n + 1) * 2 > s->mask + 1)
            slots_grow(s);
        uint32_t h = key_hash(&e->key), j = h & s->mask;
        while (s->slots[j].idx != UINT32_MAX)
            j = (j + 1) & s->mask;
        s->slots[j] = (slot){h, s->n};
        s->v[s->n++] = e;
    }
    if ((unsigned)a->outcome < PW_OUT_COUNT)
        e->counts[a->outcome]++;
    if (a->ts < e->first_ts || (a->ts == e->first_ts && (a->source < e->first_source ||
                                (a->source == e->first_source && a->frame_request < e->first_frame)))) {
        e->first_ts = a->ts;
        e->first_frame = a->frame_request;
        e->first_source = a->source;
    }
    add_client(e, &a->client);
    take_app(&e->app, a, as);
}

bool pw_services_lookup(const pw_services *s, const pw_addr *server, uint8_t proto, uint16_t port,
                        uint64_t counts[PW_OUT_COUNT])
{
    svc *e = find(s, server, proto, port);
    if (!e)
        return false;
    memcpy(counts, e->counts, sizeof e->counts);
    return true;
}

static int cmp_svc(const void *x, const void *y)
{
    const svc *a = *(const svc *const *)x, *b = *(const svc *const *)y;
    int c = pw_addr_cmp(&a->key.server, &b->key.server);
    if (c)
        return c;
    if (a->key.proto != b->key.proto)
        return a->key.proto < b->key.proto ? -1 : 1;
    return a->key.port < b->key.port ? -1 : a->key.port > b->key.port;
}

/* Sorted snapshot of the table; caller frees. */
static svc **sorted(const pw_services *s, size_t *n)
{
    *n = s->n;
    svc **v = pw_xmalloc((*n ? *n : 1) * sizeof *v);
    for (size_t i = 0; i < *n; i++)
        v[i] = s->v[i];
    qsort(v, *n, sizeof *v, cmp_svc);
    return v;
}

void pw_services_each(const pw_services *s,
                      void (*cb)(void *arg, const pw_addr *server, uint8_t proto, uint16_t port,
                                 const uint64_t counts[PW_OUT_COUNT]),
                      void *arg)
{
    size_t n;
    svc **v = sorted(s, &n);
    for (size_t i = 0; i < n; i++)
        cb(arg, &v[i]->key.server, v[i]->key.proto, v[i]->key.port, v[i]->counts);
    free(v);
}

/* The most informative outcome among the counts: answered if any answer. */
static pw_outcome summary(const uint64_t counts[PW_OUT_COUNT])
{
    pw_outcome best = PW_OUT_INDETERMINATE;
    for (int o = 1; o < PW_OUT_COUNT; o++)
        if (counts[o] && pw_outcome_rank((pw_outcome)o) > pw_outcome_rank(best))
            best = (pw_outcome)o;
    return best;
}

void pw_services_result(const pw_services *s, pw_result *r)
{
    size_t n;
    svc **v = sorted(s, &n);
    r->services = pw_result_alloc(n, sizeof *r->services);
    r->n_services = n;
    for (size_t i = 0; i < n; i++) {
        const svc *e = v[i];
        pw_res_service *o = &r->services[i];
        o->server = e->key.server;
        o->proto = e->key.proto;
        o->port = e->key.port;
        o->outcome = summary(e->counts);
        memcpy(o->counts, e->counts, sizeof o->counts);
        o->clients = e->n_clients;
        o->clients_at_least = e->clients_capped;
        o->first_frame = e->first_frame;
        o->source = e->first_source;
        o->app = e->app;
    }
    free(v);
}

/* A fold with its distinct-server estimate, never more servers than there
 * were attempts when the last new one was seen. */
static pw_services_fold fold_result(const port_fold *f)
{
    pw_services_fold p = f->pub;
    p.servers = sketch_estimate(f->bits, 32, &p.servers_at_least);
    if (p.servers >= f->attempts_at_bit) {
        p.servers = (uint32_t)f->attempts_at_bit;
        p.servers_at_least = false;
    }
    return p;
}

const pw_services_fold *pw_services_folds(pw_services *s, size_t *n)
{
    free(s->out);
    s->out = pw_xmalloc((s->n_folds ? s->n_folds : 1) * sizeof *s->out);
    size_t k = 0;
    for (int pi = 0; pi < 2; pi++)
        for (uint32_t w = 0; w < 65536 / 64; w++)
            for (uint64_t bits = s->folded_ports[pi][w]; bits; bits &= bits - 1)
                s->out[k++] = fold_result(&s->folds[pi][w * 64 + (uint32_t)__builtin_ctzll(bits)]);
    *n = k;
    return s->out;
}

void pw_services_stats_get(const pw_services *s, pw_services_stats *st)
{
    st->services = s->n;
    st->max_services = s->max;
    st->folded_attempts = s->folded;
    st->folded_ports = s->n_folds;
}

void pw_services_free(pw_services *s)
{
    if (!s)
        return;
    free(s->folds[0]);
    free(s->folds[1]);
    free(s->out);
    for (uint32_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    free(s->slots);
    free(s);
}
