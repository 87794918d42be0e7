/* test_syngate.c - capture/syngate.c: a client SYN is held and handed back,
 * bytes intact, for the SYN-ACK that answers it (and only that one); a
 * repeated SYN of the same connection replaces the one held without being
 * counted; a SYN pushed out by another connection's is counted; what cannot
 * be held (too long, IPv6) is refused so the caller feeds it on; holds()
 * sees a held connection from either side. */
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
    CHECK_DONE();
}
