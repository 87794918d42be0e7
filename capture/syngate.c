/* syngate.c - client SYNs held back from libnids (see syngate.h). */
#include "syngate.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(PW_SYNGATE_SLOTS % PW_SYNGATE_WAYS == 0 && 64 % (PW_SYNGATE_WAYS * sizeof(pw_syngate_key)) == 0,
               "a set of keys lies in one cache line");

/* The first slot of the set of client:cport -> server:sport. */
static uint32_t set_of(const uint8_t *client, uint16_t cport, const uint8_t *server, uint16_t sport)
{
    uint32_t a, b;
    memcpy(&a, client, 4);
    memcpy(&b, server, 4);
    uint64_t h = ((uint64_t)a << 32 | b) * 0x9e3779b97f4a7c15ull;
    h ^= ((uint64_t)cport << 16 | sport) * 0xc2b2ae3d27d4eb4full;
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    uint32_t sets = PW_SYNGATE_SLOTS / PW_SYNGATE_WAYS;
    return ((uint32_t)(h >> 40) & (sets - 1)) * PW_SYNGATE_WAYS;
}

static bool same(const pw_syngate_key *k, const uint8_t *client, uint16_t cport, const uint8_t *server,
                 uint16_t sport)
{
    return k->order && k->client_port == cport && k->server_port == sport && !memcmp(k->client, client, 4) &&
           !memcmp(k->server, server, 4);
}

/* The index of the key of client:cport -> server:sport, or -1. */
static long find(const pw_syngate *g, const uint8_t *client, uint16_t cport, const uint8_t *server,
                 uint16_t sport)
{
    if (!g->keys)
        return -1;
    uint32_t set = set_of(client, cport, server, sport);
    for (uint32_t w = 0; w < PW_SYNGATE_WAYS; w++)
        if (same(&g->keys[set + w], client, cport, server, sport))
            return (long)(set + w);
    return -1;
}

/* Where a new SYN goes: its connection's own slot, a free one, else the
 * older of the set's (counted). */
static uint32_t slot_for(pw_syngate *g, const pw_pkt *pkt)
{
    long own = find(g, pkt->src.b, pkt->sport, pkt->dst.b, pkt->dport);
    if (own >= 0)
        return (uint32_t)own;
    uint32_t set = set_of(pkt->src.b, pkt->sport, pkt->dst.b, pkt->dport), at = set;
    for (uint32_t w = 0; w < PW_SYNGATE_WAYS && g->keys[at].order; w++)
        if (!g->keys[set + w].order || g->keys[set + w].order < g->keys[at].order)
            at = set + w;
    if (g->keys[at].order)
        g->replaced++;
    return at;
}

/* Renumbers the held keys from 1 in their order, when the count would
 * wrap (after 4 billion holds). */
static void renumber(pw_syngate *g)
{
    uint32_t min = UINT32_MAX;
    for (uint32_t i = 0; i < PW_SYNGATE_SLOTS; i++)
        if (g->keys[i].order && g->keys[i].order < min)
            min = g->keys[i].order;
    for (uint32_t i = 0; i < PW_SYNGATE_SLOTS; i++)
        if (g->keys[i].order)
            g->keys[i].order -= min - 1;
    g->held -= min - 1;
}

static bool make(pw_syngate *g)
{
    g->keys = aligned_alloc(64, PW_SYNGATE_SLOTS * sizeof *g->keys);
    g->slots = malloc(PW_SYNGATE_SLOTS * sizeof *g->slots);
    if (!g->keys || !g->slots) {
        free(g->keys);
        free(g->slots);
        g->keys = NULL;
        g->slots = NULL;
        g->nomem = true;
        return false;
    }
    memset(g->keys, 0, PW_SYNGATE_SLOTS * sizeof *g->keys);
    return true;
}

bool pw_syngate_hold(pw_syngate *g, const pw_pkt *pkt, const uint8_t *ip, uint32_t len, pw_usec ts)
{
    if (len > PW_SYNGATE_BYTES || g->nomem || pkt->src.family != 4)
        return false;
    if (!g->keys && !make(g))
        return false;
    if (g->held == UINT32_MAX)
        renumber(g);
    uint32_t i = slot_for(g, pkt);
    pw_syngate_key *k = &g->keys[i];
    k->order = ++g->held;
    memcpy(k->client, pkt->src.b, 4);
    memcpy(k->server, pkt->dst.b, 4);
    k->client_port = pkt->sport;
    k->server_port = pkt->dport;
    pw_syngate_slot *s = &g->slots[i];
    s->ts = ts;
    s->len = (uint16_t)len;
    memcpy(s->ip, ip, len);
    return true;
}

const pw_syngate_slot *pw_syngate_take(pw_syngate *g, const pw_pkt *pkt)
{
    if (pkt->src.family != 4)
        return NULL;
    long i = find(g, pkt->dst.b, pkt->dport, pkt->src.b, pkt->sport);
    if (i < 0)
        return NULL;
    g->keys[i].order = 0; /* its bytes stay until the slot is reused */
    return &g->slots[i];
}

bool pw_syngate_holds(const pw_syngate *g, const pw_pkt *pkt)
{
    if (pkt->src.family != 4)
        return false;
    return find(g, pkt->src.b, pkt->sport, pkt->dst.b, pkt->dport) >= 0 ||
           find(g, pkt->dst.b, pkt->dport, pkt->src.b, pkt->sport) >= 0;
}

void pw_syngate_free(pw_syngate *g)
{
    free(g->keys);
    free(g->slots);
    memset(g, 0, sizeof *g);
}
