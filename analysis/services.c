/* services.c - attempts summarised per (server, proto, port).
 *
 * Counts are additive (so reports over disjoint captures could be merged);
 * distinct clients are counted exactly up to CLIENTS_EXACT per service (a
 * small open-addressing set) and then reported as "at least" that many, to
 * keep memory bounded. */
#include "services.h"

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

/* The hash handle and key come first so a bucket-chain walk touches one
 * cache line per entry; distinct clients are kept as 32-bit hashes. */
typedef struct svc {
    UT_hash_handle hh;
    svc_key key;
    uint32_t n_clients;
    bool clients_capped;
    uint64_t counts[PW_OUT_COUNT];
    uint64_t first_frame;
    uint32_t first_source;
    pw_usec first_ts;
    uint32_t clients[CLIENT_SLOTS]; /* hash of each distinct client; 0 = empty */
} svc;

struct pw_services {
    svc *table;
};

pw_services *pw_services_new(void)
{
    return calloc(1, sizeof(pw_services));
}

static svc *find(const pw_services *s, const pw_addr *server, uint8_t proto, uint16_t port)
{
    svc_key k;
    memset(&k, 0, sizeof k);
    k.server = *server;
    k.proto = proto;
    k.port = port;
    svc *e = NULL;
    HASH_FIND(hh, s->table, &k, sizeof k, e);
    return e;
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

void pw_services_attempt(pw_services *s, const pw_attempt *a)
{
    svc *e = find(s, &a->server, a->proto, a->port);
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e)
            return;
        e->key.server = a->server;
        e->key.proto = a->proto;
        e->key.port = a->port;
        e->first_frame = a->frame_request;
        e->first_source = a->source;
        e->first_ts = a->ts;
        HASH_ADD(hh, s->table, key, sizeof e->key, e);
    }
    if ((unsigned)a->outcome < PW_OUT_COUNT)
        e->counts[a->outcome]++;
    if (a->ts < e->first_ts) {
        e->first_ts = a->ts;
        e->first_frame = a->frame_request;
        e->first_source = a->source;
    }
    add_client(e, &a->client);
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
    *n = HASH_COUNT(s->table);
    svc **v = malloc((*n ? *n : 1) * sizeof *v);
    size_t i = 0;
    for (svc *e = s->table; e; e = e->hh.next)
        v[i++] = e;
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
    }
    free(v);
}

void pw_services_free(pw_services *s)
{
    if (!s)
        return;
    svc *e, *tmp;
    HASH_ITER(hh, s->table, e, tmp)
    {
        HASH_DEL(s->table, e);
        free(e);
    }
    free(s);
}
