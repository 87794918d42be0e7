/* syngate.c - client SYNs held back from libnids (see syngate.h). */
#include "syngate.h"

#include <stdlib.h>
#include <string.h>

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

static bool same(const pw_syngate_slot *s, const uint8_t *client, uint16_t cport, const uint8_t *server,
                 uint16_t sport)
{
    return s->used && s->client_port == cport && s->server_port == sport && !memcmp(s->client, client, 4) &&
           !memcmp(s->server, server, 4);
}

/* The slot holding client:cport -> server:sport, or NULL. */
static pw_syngate_slot *find(const pw_syngate *g, const uint8_t *client, uint16_t cport, const uint8_t *server,
                             uint16_t sport)
{
    if (!g->slots)
        return NULL;
    pw_syngate_slot *set = &g->slots[set_of(client, cport, server, sport)];
    for (int w = 0; w < PW_SYNGATE_WAYS; w++)
        if (same(&set[w], client, cport, server, sport))
            return &set[w];
    return NULL;
}

/* Where a new SYN goes: its connection's own slot, a free one, else the
 * older of the set's (counted). */
static pw_syngate_slot *slot_for(pw_syngate *g, const pw_pkt *pkt)
{
    pw_syngate_slot *s = find(g, pkt->src.b, pkt->sport, pkt->dst.b, pkt->dport);
    if (s)
        return s;
    pw_syngate_slot *set = &g->slots[set_of(pkt->src.b, pkt->sport, pkt->dst.b, pkt->dport)];
    s = &set[0];
    for (int w = 0; w < PW_SYNGATE_WAYS && s->used; w++)
        if (!set[w].used || set[w].ts < s->ts)
            s = &set[w];
    if (s->used)
        g->replaced++;
    return s;
}

bool pw_syngate_hold(pw_syngate *g, const pw_pkt *pkt, const uint8_t *ip, uint32_t len, pw_usec ts)
{
    if (len > PW_SYNGATE_BYTES || g->nomem || pkt->src.family != 4)
        return false;
    if (!g->slots && !(g->slots = calloc(PW_SYNGATE_SLOTS, sizeof *g->slots))) {
        g->nomem = true;
        return false;
    }
    pw_syngate_slot *s = slot_for(g, pkt);
    s->used = true;
    memcpy(s->client, pkt->src.b, 4);
    memcpy(s->server, pkt->dst.b, 4);
    s->client_port = pkt->sport;
    s->server_port = pkt->dport;
    s->ts = ts;
    s->len = (uint16_t)len;
    memcpy(s->ip, ip, len);
    return true;
}

const pw_syngate_slot *pw_syngate_take(pw_syngate *g, const pw_pkt *pkt)
{
    if (pkt->src.family != 4)
        return NULL;
    pw_syngate_slot *s = find(g, pkt->dst.b, pkt->dport, pkt->src.b, pkt->sport);
    if (s)
        s->used = false; /* its bytes stay until the slot is reused */
    return s;
}

bool pw_syngate_holds(const pw_syngate *g, const pw_pkt *pkt)
{
    if (pkt->src.family != 4)
        return false;
    return find(g, pkt->src.b, pkt->sport, pkt->dst.b, pkt->dport) ||
           find(g, pkt->dst.b, pkt->dport, pkt->src.b, pkt->sport);
}

void pw_syngate_free(pw_syngate *g)
{
    free(g->slots);
    memset(g, 0, sizeof *g);
}
