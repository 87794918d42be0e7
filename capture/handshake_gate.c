/* handshake_gate.c - TCP handshakes held back from libnids (see
 * handshake_gate.h).  A packet is held only where what libnids would do
 * with it is certain; anything else lets the connection's held packets go,
 * and libnids decides as it always did. */
#include "handshake_gate.h"

#include <stdlib.h>
#include <string.h>

#include "../common/cursor.h"
#include "../common/hash.h"

_Static_assert(sizeof(pw_gate_key) * PW_GATE_WAYS == 64, "a set of keys is one cache line");
_Static_assert(PW_GATE_SLOTS % PW_GATE_WAYS == 0, "whole sets");

#define ORDER_MAX ((1u << 30) - 1)
#define FLAGS (PW_TH_SYN | PW_TH_ACK | PW_TH_RST | PW_TH_FIN)

/* ---- the table ------------------------------------------------------------ */

static uint64_t endpoint(const uint8_t addr[4], uint16_t port)
{
    uint32_t a;
    memcpy(&a, addr, 4);
    return (uint64_t)a << 16 | port;
}

/* The first slot of a connection's set: the same from either direction. */
static uint32_t set_of(const pw_pkt *pkt)
{
    uint64_t x = endpoint(pkt->src.b, pkt->sport), y = endpoint(pkt->dst.b, pkt->dport);
    uint64_t h = pw_fmix64((x + y) ^ (x ^ y) * 0x9e3779b97f4a7c15ull);
    return (uint32_t)(h >> 32) % (PW_GATE_SLOTS / PW_GATE_WAYS) * PW_GATE_WAYS;
}

static bool is(const pw_gate_key *k, const uint8_t *client, uint16_t cport, const uint8_t *server, uint16_t sport)
{
    return k->order && k->client_port == cport && k->server_port == sport && !memcmp(k->client, client, 4) &&
           !memcmp(k->server, server, 4);
}

/* The slot of pkt's connection, or -1; *from_client tells pkt's direction. */
static long find(const pw_gate *g, const pw_pkt *pkt, bool *from_client)
{
    if (!g->keys || pkt->src.family != 4)
        return -1;
    uint32_t set = set_of(pkt);
    for (uint32_t w = 0; w < PW_GATE_WAYS; w++) {
        const pw_gate_key *k = &g->keys[set + w];
        if (is(k, pkt->src.b, pkt->sport, pkt->dst.b, pkt->dport)) {
            *from_client = true;
            return (long)(set + w);
        }
        if (is(k, pkt->dst.b, pkt->dport, pkt->src.b, pkt->sport)) {
            *from_client = false;
            return (long)(set + w);
        }
    }
    return -1;
}

/* A slot for a new connection: a free one in its set, else the set's oldest
 * (counted by how far its handshake got). */
static uint32_t slot_for(pw_gate *g, const pw_pkt *pkt)
{
    uint32_t set = set_of(pkt), at = set;
    for (uint32_t w = 0; w < PW_GATE_WAYS; w++) {
        const pw_gate_key *k = &g->keys[set + w];
        if (!k->order)
            return set + w;
        if (k->order < g->keys[at].order)
            at = set + w;
    }
    if (g->keys[at].stage == PW_GATE_SYN)
        g->replaced++;
    else
        g->forgotten++;
    return at;
}

static int by_order64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Renumbers the held keys 1, 2, ... in their order, before the count of
 * holds outgrows its 30 bits (once per billion holds).  Each entry sorted
 * is a key's order above its index. */
static void renumber(pw_gate *g)
{
    uint64_t *v = malloc(PW_GATE_SLOTS * sizeof *v);
    uint32_t n = 0;
    if (!v) { /* forget them all rather than misorder them */
        memset(g->keys, 0, PW_GATE_SLOTS * sizeof *g->keys);
        g->held = 0;
        return;
    }
    for (uint32_t i = 0; i < PW_GATE_SLOTS; i++)
        if (g->keys[i].order)
            v[n++] = (uint64_t)g->keys[i].order << 32 | i;
    qsort(v, n, sizeof *v, by_order64);
    for (uint32_t r = 0; r < n; r++)
        g->keys[(uint32_t)v[r]].order = r + 1;
    g->held = n;
    free(v);
}

static bool make(pw_gate *g)
{
    g->keys = aligned_alloc(64, PW_GATE_SLOTS * sizeof *g->keys);
    g->slots = malloc(PW_GATE_SLOTS * sizeof *g->slots);
    if (!g->keys || !g->slots) {
        pw_gate_free(g);
        g->nomem = true;
        return false;
    }
    memset(g->keys, 0, PW_GATE_SLOTS * sizeof *g->keys);
    return true;
}

static void keep(pw_gate_pkt *p, const uint8_t *ip, uint32_t len, pw_usec ts)
{
    p->ts = ts;
    p->len = (uint16_t)len;
    memcpy(p->ip, ip, len);
}

/* ---- what libnids would read ------------------------------------------------ */

/* Whether libnids reads ip/len as an unfragmented IPv4 TCP segment without
 * payload whose headers, options included, fill exactly len bytes (at most
 * PW_GATE_BYTES), between addresses not both zero. */
static bool holdable(const uint8_t *ip, uint32_t len)
{
    if (len > PW_GATE_BYTES)
        return false;
    pw_cursor c = pw_cur(ip, len);
    uint8_t vihl = pw_peek_u8(&c, 0);
    size_t ihl = (size_t)(vihl & 0x0f) * 4;
    uint16_t total = 0, frag = 0;
    uint32_t src = 0, dst = 0;
    if (vihl >> 4 != 4 || ihl < 20 || !pw_peek_be16(&c, 2, &total) || !pw_peek_be16(&c, 6, &frag) ||
        !pw_peek_be32(&c, 12, &src) || !pw_peek_be32(&c, 16, &dst))
        return false;
    size_t thl = (size_t)(pw_peek_u8(&c, ihl + 12) >> 4) * 4;
    return (frag & 0x3fff) == 0 && (src | dst) != 0 && thl >= 20 && total == ihl + thl && total == len;
}

/* The TCP header of a held packet (holdable: it is all there). */
static pw_cursor tcp_of(const pw_gate_pkt *p)
{
    pw_cursor c = pw_cur(p->ip, p->len);
    pw_skip(&c, (size_t)(pw_peek_u8(&c, 0) & 0x0f) * 4);
    return pw_rest(&c);
}

static uint32_t tcp_word(const pw_gate_pkt *p, size_t at)
{
    pw_cursor t = tcp_of(p);
    uint32_t v = 0;
    pw_peek_be32(&t, at, &v);
    return v;
}

static uint32_t seq_of(const pw_gate_pkt *p) { return tcp_word(p, 4); }
static uint32_t ack_of(const pw_gate_pkt *p) { return tcp_word(p, 8); }

/* The TCP timestamp value of a held packet, found the way libnids' get_ts()
 * walks the options: it stops at an end-of-options, at an option length
 * below two, and where fewer than ten bytes of options are left. */
static bool tsval_of(const pw_gate_pkt *p, uint32_t *ts)
{
    pw_cursor t = tcp_of(p);
    size_t hlen = (size_t)(pw_peek_u8(&t, 12) >> 4) * 4;
    pw_skip(&t, 20);
    pw_cursor opt = pw_sub(&t, hlen - 20);
    size_t len = pw_cur_left(&opt);
    bool found = false;
    for (size_t i = 0; i + 10 <= len;) {
        uint8_t kind = pw_peek_u8(&opt, i);
        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        uint32_t v;
        if (kind == 8 && pw_peek_be32(&opt, i + 2, &v)) {
            *ts = v;
            found = true;
        }
        uint8_t olen = pw_peek_u8(&opt, i + 1);
        if (olen < 2)
            break;
        i += olen;
    }
    return found;
}

/* libnids' before(): serial-number order. */
static bool before(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

/* Whether libnids' timestamp check drops the ACK a (of the handshake in s):
 * timestamps are on when the SYN and the SYN-ACK both carry one, and the
 * ACK's must not be older than the SYN's. */
static bool paws_drops(const pw_gate_slot *s, const pw_gate_pkt *a)
{
    uint32_t syn_ts, synack_ts, ack_ts;
    return tsval_of(&s->pkt[0], &syn_ts) && tsval_of(&s->pkt[1], &synack_ts) && tsval_of(a, &ack_ts) &&
           before(ack_ts, syn_ts);
}

/* ---- the gate --------------------------------------------------------------- */

/* A client's SYN for a connection not held. */
static pw_gate_verdict hold_syn(pw_gate *g, const pw_pkt *pkt, const uint8_t *ip, uint32_t len, pw_usec ts)
{
    if (!g->keys && (g->nomem || !make(g)))
        return PW_GATE_PASS;
    if (g->held == ORDER_MAX)
        renumber(g);
    uint32_t i = slot_for(g, pkt);
    pw_gate_key *k = &g->keys[i];
    k->order = ++g->held;
    k->stage = PW_GATE_SYN;
    memcpy(k->client, pkt->src.b, 4);
    memcpy(k->server, pkt->dst.b, 4);
    k->client_port = pkt->sport;
    k->server_port = pkt->dport;
    keep(&g->slots[i].pkt[0], ip, len, ts);
    /* the SYN-ACK and the ACK, if they come, come soon */
    for (size_t at = 0; at < sizeof(pw_gate_slot); at += 64)
        __builtin_prefetch((const char *)&g->slots[i] + at, 1);
    return PW_GATE_HELD;
}

/* The next packet of held handshake i, if it is the one expected (it is
 * then kept), else none (the caller lets the handshake go). */
static pw_gate_verdict next_step(pw_gate *g, uint32_t i, bool from_client, uint8_t flags, const uint8_t *ip,
                                 uint32_t len, pw_usec ts)
{
    pw_gate_key *k = &g->keys[i];
    pw_gate_slot *s = &g->slots[i];
    if (k->stage == PW_GATE_SYN && from_client && flags == PW_TH_SYN) {
        keep(&s->pkt[0], ip, len, ts); /* a repeated SYN: libnids takes the latest too */
        k->order = ++g->held;
        return PW_GATE_HELD;
    }
    if (k->stage == PW_GATE_SYN && !from_client && flags == (PW_TH_SYN | PW_TH_ACK)) {
        keep(&s->pkt[1], ip, len, ts);
        if (ack_of(&s->pkt[1]) != seq_of(&s->pkt[0]) + 1)
            return PW_GATE_PASS; /* libnids ignores it; so let it see it */
        k->stage = PW_GATE_SYNACK;
        return PW_GATE_HELD;
    }
    if (k->stage == PW_GATE_SYNACK && from_client && flags == PW_TH_ACK) {
        keep(&s->pkt[2], ip, len, ts);
        if (seq_of(&s->pkt[2]) != seq_of(&s->pkt[0]) + 1 || ack_of(&s->pkt[2]) != seq_of(&s->pkt[1]) + 1 ||
            paws_drops(s, &s->pkt[2]))
            return PW_GATE_PASS;
        k->stage = PW_GATE_ACK;
        return PW_GATE_ESTABLISHED;
    }
    return PW_GATE_PASS;
}

pw_gate_verdict pw_gate_offer(pw_gate *g, const pw_pkt *pkt, const uint8_t *ip, uint32_t len, pw_usec ts,
                              pw_gate_release *rel)
{
    rel->n = 0;
    if (pkt->src.family != 4)
        return PW_GATE_PASS;
    uint8_t flags = pkt->tcp_flags & FLAGS;
    bool from_client = false;
    long i = find(g, pkt, &from_client);
    if (i < 0) {
        if (flags == PW_TH_SYN && !pkt->payload_len && holdable(ip, len))
            return hold_syn(g, pkt, ip, len, ts);
        return PW_GATE_PASS;
    }
    if (!pkt->payload_len && holdable(ip, len)) {
        pw_gate_verdict v = next_step(g, (uint32_t)i, from_client, flags, ip, len, ts);
        if (v != PW_GATE_PASS)
            return v;
    }
    /* Anything else: the handshake so far goes first (its bytes stay until
     * the slot is reused, at a later offer). */
    pw_gate_key *k = &g->keys[i];
    for (int n = 0; n < (int)k->stage; n++)
        rel->pkt[rel->n++] = &g->slots[i].pkt[n];
    k->order = 0;
    k->stage = 0;
    return PW_GATE_PASS;
}

bool pw_gate_holds(const pw_gate *g, const pw_pkt *pkt)
{
    bool from_client;
    return find(g, pkt, &from_client) >= 0;
}

void pw_gate_free(pw_gate *g)
{
    free(g->keys);
    free(g->slots);
    memset(g, 0, sizeof *g);
}
