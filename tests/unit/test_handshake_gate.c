/* test_handshake_gate.c - capture/handshake_gate.c on real IPv4/TCP bytes:
 * a clean handshake is held to its ACK and let go, bytes and times intact
 * and in order, by the first segment that is not its next step; a SYN-ACK
 * or ACK that libnids would not take, an ACK its timestamp check drops,
 * payload, FIN and RST let it go at once; what libnids reads differently
 * (payload by the IP length, fragments, long headers, IPv6, zero
 * addresses) is never held; a repeated SYN replaces the held one; a full
 * set pushes out its oldest, counted as replaced before the SYN-ACK and as
 * forgotten after it, also once the count of holds is renumbered (with the
 * oldest key still at 1). */
#include <stdio.h>
#include <string.h>

#include "../../capture/handshake_gate.h"
#include "check.h"

typedef struct seg {
    pw_pkt pkt;
    uint8_t ip[128];
    uint32_t len;
} seg;

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* An IPv4 TCP segment a -> b; ts nonzero adds a timestamp option (NOP NOP
 * TS, 12 bytes); payload bytes of data follow the headers. */
static seg make(uint32_t a, uint16_t ap, uint32_t b, uint16_t bp, uint8_t flags, uint32_t seq, uint32_t ack,
                uint32_t ts, uint32_t payload)
{
    seg s;
    memset(&s, 0, sizeof s);
    uint32_t thl = ts ? 32 : 20;
    s.len = 20 + thl + payload;
    uint8_t *ip = s.ip;
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)s.len);
    ip[8] = 64;
    ip[9] = 6;
    put32(ip + 12, a);
    put32(ip + 16, b);
    uint8_t *t = ip + 20;
    put16(t, ap);
    put16(t + 2, bp);
    put32(t + 4, seq);
    put32(t + 8, ack);
    t[12] = (uint8_t)(thl / 4 << 4);
    t[13] = flags;
    put16(t + 14, 64240);
    if (ts) {
        t[20] = 1, t[21] = 1, t[22] = 8, t[23] = 10;
        put32(t + 24, ts);
    }
    s.pkt.src.family = s.pkt.dst.family = 4;
    put32(s.pkt.src.b, a);
    put32(s.pkt.dst.b, b);
    s.pkt.sport = ap;
    s.pkt.dport = bp;
    s.pkt.proto = PW_IPPROTO_TCP;
    s.pkt.tcp_flags = flags;
    s.pkt.payload_len = payload;
    return s;
}

#define C 0x0a000001u /* 10.0.0.1 */
#define S 0x0a000002u /* 10.0.0.2 */
#define SYN PW_TH_SYN
#define ACK PW_TH_ACK

static pw_gate_verdict offer(pw_gate *g, const seg *s, pw_usec ts, pw_gate_release *rel)
{
    return pw_gate_offer(g, &s->pkt, s->ip, s->len, ts, rel);
}

static bool same(const pw_gate_pkt *p, const seg *s, pw_usec ts)
{
    return p->len == s->len && !memcmp(p->ip, s->ip, s->len) && p->ts == ts;
}

/* SYN, SYN-ACK, ACK of C:40000 -> S:445 (timestamps ts_c, ts_s, ts_a). */
static void handshake(seg h[3], uint32_t ts_c, uint32_t ts_s, uint32_t ts_a)
{
    h[0] = make(C, 40000, S, 445, SYN, 1000, 0, ts_c, 0);
    h[1] = make(S, 445, C, 40000, SYN | ACK, 5000, 1001, ts_s, 0);
    h[2] = make(C, 40000, S, 445, ACK, 1001, 5001, ts_a, 0);
}

static void test_held_then_released(void)
{
    pw_gate g = {0};
    pw_gate_release rel;
    seg h[3];
    handshake(h, 0, 0, 0);
    CHECK_INT(offer(&g, &h[0], 10, &rel), PW_GATE_HELD);
    CHECK(pw_gate_holds(&g, &h[0].pkt));
    CHECK(pw_gate_holds(&g, &h[1].pkt)); /* from either side */
    CHECK_INT(offer(&g, &h[1], 11, &rel), PW_GATE_HELD);
    CHECK_INT(offer(&g, &h[2], 12, &rel), PW_GATE_ESTABLISHED);
    seg other = make(C, 40001, S, 445, ACK, 1001, 5001, 0, 0);
    CHECK(!pw_gate_holds(&g, &other.pkt));
    CHECK_INT(offer(&g, &other, 13, &rel), PW_GATE_PASS);
    CHECK_INT(rel.n, 0);
    seg data = make(C, 40000, S, 445, ACK | PW_TH_PSH, 1001, 5001, 0, 20);
    CHECK_INT(offer(&g, &data, 14, &rel), PW_GATE_PASS);
    CHECK_INT(rel.n, 3);
    for (int i = 0; i < 3 && i < rel.n; i++)
        CHECK(same(rel.pkt[i], &h[i], 10 + i));
    CHECK(!pw_gate_holds(&g, &h[0].pkt));
    CHECK_INT(offer(&g, &data, 15, &rel), PW_GATE_PASS); /* once */
    CHECK_INT(rel.n, 0);
    CHECK_INT(g.replaced + g.forgotten, 0);
    pw_gate_free(&g);
}

/* The handshake as far as `upto` packets, then `next`: let go with it. */
static int released_by(int upto, const seg *next, uint32_t ts_c, uint32_t ts_s, uint32_t ts_a)
{
    pw_gate g = {0};
    pw_gate_release rel;
    seg h[3];
    handshake(h, ts_c, ts_s, ts_a);
    for (int i = 0; i < upto; i++)
        offer(&g, &h[i], i, &rel);
    pw_gate_verdict v = offer(&g, next ? next : &h[upto], 9, &rel);
    bool held = pw_gate_holds(&g, &h[0].pkt);
    pw_gate_free(&g);
    if (v == PW_GATE_PASS)
        return held ? -2 : rel.n;
    return held ? -1 : -3;
}

static void test_let_go(void)
{
    seg bad_synack = make(S, 445, C, 40000, SYN | ACK, 5000, 1002, 0, 0);
    CHECK_INT(released_by(1, &bad_synack, 0, 0, 0), 1);
    seg synack_from_client = make(C, 40000, S, 445, SYN | ACK, 5000, 1001, 0, 0);
    CHECK_INT(released_by(1, &synack_from_client, 0, 0, 0), 1);
    seg bad_ack = make(C, 40000, S, 445, ACK, 1001, 5002, 0, 0);
    CHECK_INT(released_by(2, &bad_ack, 0, 0, 0), 2);
    seg bad_seq = make(C, 40000, S, 445, ACK, 1002, 5001, 0, 0);
    CHECK_INT(released_by(2, &bad_seq, 0, 0, 0), 2);
    seg data3 = make(C, 40000, S, 445, ACK, 1001, 5001, 0, 5); /* data on the third packet */
    CHECK_INT(released_by(2, &data3, 0, 0, 0), 2);
    seg rst = make(S, 445, C, 40000, PW_TH_RST | ACK, 1, 1001, 0, 0);
    CHECK_INT(released_by(1, &rst, 0, 0, 0), 1);
    seg fin = make(C, 40000, S, 445, PW_TH_FIN | ACK, 1001, 5001, 0, 0);
    CHECK_INT(released_by(3, &fin, 0, 0, 0), 3);
    seg again = make(C, 40000, S, 445, ACK, 1001, 5001, 0, 0); /* a repeated ACK */
    CHECK_INT(released_by(3, &again, 0, 0, 0), 3);
    /* libnids' timestamp check: the ACK's older than the SYN's is dropped */
    CHECK_INT(released_by(2, NULL, 1000, 7, 999), 2);
    CHECK_INT(released_by(2, NULL, 1000, 7, 1000), -1);
    CHECK_INT(released_by(2, NULL, 1000, 0, 999), -1); /* off: the SYN-ACK had none */
    CHECK_INT(released_by(2, NULL, 0x7fffffff, 7, 0x80000001u), -1); /* serial order */
}

static void test_never_held(void)
{
    pw_gate g = {0};
    pw_gate_release rel;
    seg syn = make(C, 1, S, 2, SYN, 1, 0, 0, 0);
    seg pay = make(C, 1, S, 2, SYN, 1, 0, 0, 4); /* a SYN with data */
    CHECK_INT(offer(&g, &pay, 0, &rel), PW_GATE_PASS);
    seg frag = syn;
    frag.ip[6] = 0x20; /* more fragments */
    CHECK_INT(offer(&g, &frag, 0, &rel), PW_GATE_PASS);
    seg longer = syn;
    put16(longer.ip + 2, (uint16_t)(syn.len + 4)); /* the IP length says payload: libnids reads it */
    CHECK_INT(offer(&g, &longer, 0, &rel), PW_GATE_PASS);
    seg zero = make(0, 1, 0, 2, SYN, 1, 0, 0, 0);
    CHECK_INT(offer(&g, &zero, 0, &rel), PW_GATE_PASS);
    seg big = make(C, 1, S, 2, SYN, 1, 0, 0, 0);
    big.len = PW_GATE_BYTES + 4;
    put16(big.ip + 2, (uint16_t)big.len);
    big.ip[0] = 0x46 + 5; /* IP options fill the header out */
    CHECK_INT(offer(&g, &big, 0, &rel), PW_GATE_PASS);
    seg v6 = syn;
    v6.pkt.src.family = v6.pkt.dst.family = 6;
    CHECK_INT(offer(&g, &v6, 0, &rel), PW_GATE_PASS);
    CHECK(!pw_gate_holds(&g, &syn.pkt));
    CHECK_INT(rel.n, 0);
    /* a repeated SYN replaces the held one, uncounted */
    seg syn2 = make(C, 1, S, 2, SYN, 77, 0, 0, 0);
    CHECK_INT(offer(&g, &syn, 1, &rel), PW_GATE_HELD);
    CHECK_INT(offer(&g, &syn2, 2, &rel), PW_GATE_HELD);
    seg rst = make(S, 2, C, 1, PW_TH_RST | ACK, 0, 78, 0, 0);
    CHECK_INT(offer(&g, &rst, 3, &rel), PW_GATE_PASS);
    CHECK(rel.n == 1 && same(rel.pkt[0], &syn2, 2));
    CHECK_INT(g.replaced, 0);
    pw_gate_free(&g);
}

/* Connection i of many: client 10.(i>>16).(i>>8).i:1024+ -> 172.16.0.1:443. */
static void many(seg h[3], uint32_t i)
{
    uint32_t c = 0x0a000000u | (i & 0xffffff);
    uint16_t cp = (uint16_t)(1024 + i % 60000);
    h[0] = make(c, cp, 0xac100001u, 443, SYN, i, 0, 0, 0);
    h[1] = make(0xac100001u, 443, c, cp, SYN | ACK, 7, i + 1, 0, 0);
    h[2] = make(c, cp, 0xac100001u, 443, ACK, i + 1, 8, 0, 0);
}

static void test_pushed_out(void)
{
    pw_gate g = {0};
    pw_gate_release rel;
    /* every third connection stops at the SYN, the others are answered */
    uint32_t n = 3 * PW_GATE_SLOTS, syn_only = 0;
    for (uint32_t i = 0; i < n; i++) {
        seg h[3];
        many(h, i);
        int steps = i % 3 ? 3 : 1;
        syn_only += steps == 1;
        for (int k = 0; k < steps; k++)
            offer(&g, &h[k], i, &rel);
    }
    uint32_t still = 0, still_syn = 0;
    for (uint32_t i = 0; i < n; i++) {
        seg h[3];
        many(h, i);
        if (pw_gate_holds(&g, &h[0].pkt)) {
            still++;
            still_syn += i % 3 == 0;
        }
    }
    CHECK(still <= PW_GATE_SLOTS && still > PW_GATE_SLOTS * 99 / 100); /* nearly every set is full */
    CHECK_INT(g.replaced, syn_only - still_syn);
    CHECK_INT(g.forgotten, n - syn_only - (still - still_syn));
    /* the newest are the ones still held */
    seg last[3];
    many(last, n - 1);
    CHECK(pw_gate_holds(&g, &last[0].pkt));
    pw_gate_free(&g);
}

/* The count of holds nears its 30 bits: keys are renumbered, in order. */
static void test_renumbered(void)
{
    pw_gate g = {0};
    pw_gate_release rel;
    seg first[3];
    many(first, 0);
    offer(&g, &first[0], 0, &rel);
    g.held = (1u << 30) - 2;
    for (uint32_t i = 1; i <= 2 * PW_GATE_SLOTS; i++) {
        seg h[3];
        many(h, i);
        offer(&g, &h[0], i, &rel);
    }
    CHECK(g.held < 4 * PW_GATE_SLOTS);
    uint32_t still = 0;
    for (uint32_t i = 0; i <= 2 * PW_GATE_SLOTS; i++) {
        seg h[3];
        many(h, i);
        still += pw_gate_holds(&g, &h[0].pkt);
    }
    CHECK(!pw_gate_holds(&g, &first[0].pkt)); /* the oldest went */
    seg last[3];
    many(last, 2 * PW_GATE_SLOTS);
    CHECK(pw_gate_holds(&g, &last[0].pkt));
    CHECK_INT(g.replaced, 2 * PW_GATE_SLOTS + 1 - still);
    pw_gate_free(&g);
}

int main(void)
{
    test_held_then_released();
    test_let_go();
    test_never_held();
    test_pushed_out();
    test_renumbered();
    CHECK_DONE();
}
