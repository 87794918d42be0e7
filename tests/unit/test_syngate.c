/* test_syngate.c - capture/syngate.c: a client SYN is held and handed back,
 * bytes intact, for the SYN-ACK that answers it (and only that one); a
 * repeated SYN of the same connection replaces the one held without being
 * counted; a SYN pushed out by another connection's is counted; what cannot
 * be held (too long, IPv6) is refused so the caller feeds it on; holds()
 * sees a held connection from either side; a full set gives up its older
 * SYN, also when the count of holds wraps and the keys are renumbered. */
#include <stdio.h>
#include <string.h>

#include "../../capture/syngate.h"
#include "check.h"

static pw_pkt pkt4(const char *src, const char *dst, uint16_t sport, uint16_t dport)
{
    pw_pkt p;
    memset(&p, 0, sizeof p);
    p.src.family = p.dst.family = 4;
    unsigned a, b, c, d;
    sscanf(src, "%u.%u.%u.%u", &a, &b, &c, &d);
    p.src.b[0] = (uint8_t)a, p.src.b[1] = (uint8_t)b, p.src.b[2] = (uint8_t)c, p.src.b[3] = (uint8_t)d;
    sscanf(dst, "%u.%u.%u.%u", &a, &b, &c, &d);
    p.dst.b[0] = (uint8_t)a, p.dst.b[1] = (uint8_t)b, p.dst.b[2] = (uint8_t)c, p.dst.b[3] = (uint8_t)d;
    p.sport = sport;
    p.dport = dport;
    p.proto = PW_IPPROTO_TCP;
    return p;
}

static void test_hold_take(void)
{
    pw_syngate g = {0};
    uint8_t ip[60];
    for (int i = 0; i < 60; i++)
        ip[i] = (uint8_t)(i * 3);
    pw_pkt syn = pkt4("10.0.0.1", "10.0.0.2", 40000, 445);
    CHECK(pw_syngate_hold(&g, &syn, ip, sizeof ip, 111));
    pw_pkt synack = pkt4("10.0.0.2", "10.0.0.1", 445, 40000);
    pw_pkt other = pkt4("10.0.0.2", "10.0.0.1", 445, 40001);
    CHECK(pw_syngate_holds(&g, &syn));
    CHECK(pw_syngate_holds(&g, &synack)); /* from either side */
    CHECK(!pw_syngate_holds(&g, &other));
    CHECK(pw_syngate_take(&g, &other) == NULL);
    CHECK(pw_syngate_take(&g, &syn) == NULL); /* the client's own packet answers nothing */
    const pw_syngate_slot *s = pw_syngate_take(&g, &synack);
    CHECK(s != NULL);
    CHECK(s && s->len == sizeof ip && !memcmp(s->ip, ip, sizeof ip) && s->ts == 111);
    CHECK(pw_syngate_take(&g, &synack) == NULL); /* taken once */
    CHECK(!pw_syngate_holds(&g, &syn));
    CHECK_INT(g.replaced, 0);
    pw_syngate_free(&g);
}

static void test_repeat_and_replace(void)
{
    pw_syngate g = {0};
    uint8_t a[40] = {1}, b[40] = {2};
    pw_pkt syn = pkt4("10.0.1.1", "10.0.1.2", 1025, 80);
    CHECK(pw_syngate_hold(&g, &syn, a, sizeof a, 1));
    CHECK(pw_syngate_hold(&g, &syn, b, sizeof b, 2)); /* the latest SYN stands */
    CHECK_INT(g.replaced, 0);
    pw_pkt synack = pkt4("10.0.1.2", "10.0.1.1", 80, 1025);
    const pw_syngate_slot *s = pw_syngate_take(&g, &synack);
    CHECK(s && s->ip[0] == 2 && s->ts == 2);
    /* many connections in few slots: every SYN pushed out is counted, and a
     * SYN-ACK finds its SYN exactly when it is still there */
    int held = 0;
    for (uint32_t i = 0; i < 3 * PW_SYNGATE_SLOTS; i++) {
        pw_pkt p = pkt4("10.9.0.0", "172.16.0.1", (uint16_t)(1024 + i % 60000), 443);
        p.src.b[2] = (uint8_t)(i >> 8);
        p.src.b[3] = (uint8_t)i;
        p.src.b[1] = (uint8_t)(i >> 16);
        held += pw_syngate_hold(&g, &p, a, sizeof a, i);
    }
    CHECK_INT(held, 3 * PW_SYNGATE_SLOTS);
    uint64_t found = 0;
    for (uint32_t i = 0; i < 3 * PW_SYNGATE_SLOTS; i++) {
        pw_pkt p = pkt4("172.16.0.1", "10.9.0.0", 443, (uint16_t)(1024 + i % 60000));
        p.dst.b[2] = (uint8_t)(i >> 8);
        p.dst.b[3] = (uint8_t)i;
        p.dst.b[1] = (uint8_t)(i >> 16);
        found += pw_syngate_take(&g, &p) != NULL;
    }
    CHECK_INT(found + g.replaced, (uint64_t)held);
    CHECK(found > 0 && found <= PW_SYNGATE_SLOTS);
    pw_syngate_free(&g);
}

/* The slot pkt's SYN is held in, or -1. */
static long index_of(const pw_syngate *g, const pw_pkt *p)
{
    for (long i = 0; i < PW_SYNGATE_SLOTS; i++) {
        const pw_syngate_key *k = &g->keys[i];
        if (k->order && !memcmp(k->client, p->src.b, 4) && k->client_port == p->sport &&
            !memcmp(k->server, p->dst.b, 4) && k->server_port == p->dport)
            return i;
    }
    return -1;
}

static pw_pkt answer(const pw_pkt *syn)
{
    pw_pkt a = *syn;
    a.src = syn->dst;
    a.dst = syn->src;
    a.sport = syn->dport;
    a.dport = syn->sport;
    return a;
}

/* Holds SYNs of new connections until one lands in `set`; the others are
 * taken back out. */
static pw_pkt hold_in_set(pw_syngate *g, long set, uint32_t *next, const uint8_t *ip)
{
    for (;;) {
        pw_pkt p = pkt4("10.7.0.0", "172.17.0.1", (uint16_t)(2000 + *next % 50000), 135);
        p.src.b[2] = (uint8_t)(*next >> 8);
        p.src.b[3] = (uint8_t)*next;
        ++*next;
        uint64_t replaced = g->replaced;
        pw_syngate_hold(g, &p, ip, 40, *next);
        long i = index_of(g, &p);
        if (i / PW_SYNGATE_WAYS == set)
            return p;
        CHECK_INT(g->replaced, replaced); /* another set, not full: nothing pushed out */
        pw_pkt a = answer(&p);
        pw_syngate_take(g, &a);
    }
}

static void test_older_leaves(void)
{
    pw_syngate g = {0};
    uint8_t ip[40] = {7};
    g.held = UINT32_MAX - 1; /* the next hold takes the last number; the one after renumbers */
    pw_pkt a = pkt4("10.6.0.1", "172.17.0.1", 3000, 135);
    CHECK(pw_syngate_hold(&g, &a, ip, sizeof ip, 1));
    CHECK_INT(g.keys[index_of(&g, &a)].order, UINT32_MAX);
    long set = index_of(&g, &a) / PW_SYNGATE_WAYS;
    uint32_t next = 0;
    pw_pkt b = hold_in_set(&g, set, &next, ip);
    CHECK(g.held < 1000000); /* renumbered: a is 1 */
    CHECK_INT(g.keys[index_of(&g, &a)].order, 1);
    CHECK_INT(g.replaced, 0);
    pw_pkt c = hold_in_set(&g, set, &next, ip); /* the set is full: a, the older, leaves */
    CHECK_INT(g.replaced, 1);
    pw_pkt aa = answer(&a), ab = answer(&b), ac = answer(&c);
    CHECK(pw_syngate_take(&g, &aa) == NULL);
    CHECK(pw_syngate_take(&g, &ab) != NULL);
    CHECK(pw_syngate_take(&g, &ac) != NULL);
    pw_syngate_free(&g);
}

static void test_refused(void)
{
    pw_syngate g = {0};
    uint8_t big[PW_SYNGATE_BYTES + 1] = {0};
    pw_pkt syn = pkt4("10.0.2.1", "10.0.2.2", 5000, 22);
    CHECK(!pw_syngate_hold(&g, &syn, big, sizeof big, 0)); /* IP options too long: fed on */
    pw_pkt v6 = syn;
    v6.src.family = v6.dst.family = 6;
    CHECK(!pw_syngate_hold(&g, &v6, big, 60, 0));
    CHECK(!pw_syngate_holds(&g, &syn));
    pw_syngate_free(&g);
}

int main(void)
{
    test_hold_take();
    test_repeat_and_replace();
    test_refused();
    test_older_leaves();
    CHECK_DONE();
}
