/* test_attempts.c - the attempt tracker (analysis/attempts.c) on hand-built
 * pw_pkt sequences: every outcome rule with exact outcome, reason, retries,
 * frames, rtt and icmp_from; lifecycle (linger, idle, flush, eviction) and
 * bounded memory over a long capture.
 *
 * PW_ATTEMPTS_BENCH=N (packets, e.g. 10000000) also times the tracker on a
 * synthetic mixed stream and prints ns/packet (measurement only, no assert);
 * PW_ATTEMPTS_BENCH_CONC sets the number of interleaved flows (50000). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../analysis/attempts.h"
#include "check.h"

#define T0 (1700000000LL * PW_USEC_PER_SEC)
#define MS 1000LL
#define SEC PW_USEC_PER_SEC

/* ---- collected attempts ---- */
#define MAXGOT 64
static pw_attempt got[MAXGOT];
static int ngot;

static void collect(void *arg, const pw_attempt *a)
{
    (void)arg;
    if (ngot < MAXGOT)
        got[ngot] = *a;
    ngot++;
}

static pw_attempts *fresh(pw_usec tcp_to, pw_usec udp_to, uint32_t max_open)
{
    ngot = 0;
    memset(got, 0, sizeof got);
    pw_attempts_opts o = {.tcp_timeout = tcp_to, .udp_timeout = udp_to, .max_open = max_open};
    return pw_attempts_new(&o, collect, NULL);
}

/* ---- packet builders ---- */
static pw_addr v4(int a, int b, int c, int d)
{
    uint8_t x[4] = {(uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d};
    pw_addr r;
    pw_addr_v4(&r, x);
    return r;
}

static pw_addr v6(const char *s)
{
    pw_addr r;
    int pfx;
    if (!pw_addr_parse_cidr(s, &r, &pfx))
        abort();
    return r;
}

static uint64_t frame_no;

static pw_pkt base(pw_usec ts, pw_addr src, pw_addr dst, uint8_t proto)
{
    pw_pkt p;
    memset(&p, 0, sizeof p);
    p.frame = ++frame_no;
    p.ts = ts;
    p.src = src;
    p.dst = dst;
    p.proto = proto;
    p.ttl = 64;
    p.wire_len = 60;
    return p;
}

static pw_pkt tcp(pw_usec ts, pw_addr s, uint16_t sp, pw_addr d, uint16_t dp, uint8_t fl, uint32_t seq,
                  uint32_t ack)
{
    pw_pkt p = base(ts, s, d, PW_IPPROTO_TCP);
    p.sport = sp;
    p.dport = dp;
    p.tcp_flags = fl;
    p.seq = seq;
    p.ack = ack;
    return p;
}

static pw_pkt udp(pw_usec ts, pw_addr s, uint16_t sp, pw_addr d, uint16_t dp)
{
    pw_pkt p = base(ts, s, d, PW_IPPROTO_UDP);
    p.sport = sp;
    p.dport = dp;
    return p;
}

/* An ICMP (v4 or v6 by address family) error from `from` to the client,
 * quoting the client's packet client:cp -> server:sp. */
static pw_pkt icmp(pw_usec ts, pw_addr from, uint8_t type, uint8_t code, uint8_t qproto, pw_addr client,
                   uint16_t cp, pw_addr server, uint16_t sp)
{
    pw_pkt p = base(ts, from, client, from.family == 6 ? PW_IPPROTO_ICMPV6 : PW_IPPROTO_ICMP);
    p.icmp_type = type;
    p.icmp_code = code;
    p.quote.present = true;
    p.quote.src = client;
    p.quote.dst = server;
    p.quote.proto = qproto;
    p.quote.has_ports = true;
    p.quote.sport = cp;
    p.quote.dport = sp;
    p.quote.has_seq = qproto == PW_IPPROTO_TCP;
    p.quote.seq = 1000;
    return p;
}

/* Unrelated traffic (GRE between two other hosts): only moves the clock. */
static pw_pkt tick(pw_usec ts)
{
    return base(ts, v4(192, 0, 2, 100), v4(192, 0, 2, 101), 47);
}

/* Something toward `client` from an unrelated host: return traffic exists. */
static pw_pkt toward(pw_usec ts, pw_addr client)
{
    return base(ts, v4(192, 0, 2, 200), client, 47);
}

static void feed(pw_attempts *t, pw_pkt p)
{
    pw_attempts_packet(t, &p);
}

#define SYN PW_TH_SYN
#define ACK PW_TH_ACK
#define RST PW_TH_RST
#define PSH PW_TH_PSH
#define FIN PW_TH_FIN

static const pw_addr *CL(void)
{
    static pw_addr a;
    a = v4(198, 18, 0, 10);
    return &a;
}
static const pw_addr *SV(void)
{
    static pw_addr a;
    a = v4(198, 18, 0, 21);
    return &a;
}
static const pw_addr *RT(void)
{
    static pw_addr a;
    a = v4(198, 18, 0, 1);
    return &a;
}

#define C (*CL())
#define S (*SV())
#define R (*RT())

static void check_common(const pw_attempt *a, uint8_t proto, const pw_addr *cl, uint16_t cp,
                         const pw_addr *sv, uint16_t sp)
{
    CHECK_INT(a->proto, proto);
    CHECK(pw_addr_eq(&a->client, cl));
    CHECK(pw_addr_eq(&a->server, sv));
    CHECK_INT(a->client_port, cp);
    CHECK_INT(a->port, sp);
}

#define CHECK_OUT(a, o, r)                                                    \
    do {                                                                      \
        CHECK_STR(pw_outcome_name((a)->outcome), pw_outcome_name(o));         \
        CHECK_STR(pw_reason_name((a)->reason), pw_reason_name(r));            \
    } while (0)

static long long rtt_us(const pw_attempt *a)
{
    double ms = pw_attempt_rtt_ms(a);
    return ms < 0 ? -1 : (long long)(ms * 1000.0 + 0.5);
}

/* ---- TCP ---- */

static void test_answered(void)
{
    pw_attempts *t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, tcp(T0, C, 50001, S, 135, SYN, 1000, 0));
    feed(t, tcp(T0 + 410, S, 135, C, 50001, SYN | ACK, 7000, 1001));
    feed(t, tcp(T0 + 500, C, 50001, S, 135, ACK, 1001, 7001));
    CHECK_INT(ngot, 0); /* lingers for set_app */
    pw_attempts_stats st;
    pw_attempts_get_stats(t, &st);
    CHECK_INT(st.open, 1);
    /* The linger ends timeout (10 s default) after the decision, in packet time. */
    feed(t, tick(T0 + 10 * SEC + 410));
    CHECK_INT(ngot, 0);
    feed(t, tick(T0 + 10 * SEC + 411));
    CHECK_INT(ngot, 1);
    const pw_attempt *a = &got[0];
    check_common(a, PW_IPPROTO_TCP, &C, 50001, &S, 135);
    CHECK_OUT(a, PW_OUT_ANSWERED, PW_R_SYN_ACK);
    CHECK_INT(a->retries, 0);
    CHECK_INT(a->frame_request, 1);
    CHECK_INT(a->frame_reply, 2);
    CHECK_INT(a->ts, T0);
    CHECK_INT(a->last_request_ts, T0);
    CHECK_INT(a->reply_ts, T0 + 410);
    CHECK_INT(rtt_us(a), 410);
    CHECK(!a->has_icmp_from);
    CHECK_STR(a->app, "");
    pw_attempts_flush(t, T0 + 20 * SEC);
    CHECK_INT(ngot, 1);
    pw_attempts_get_stats(t, &st);
    CHECK_INT(st.attempts, 1);
    CHECK_INT(st.open, 0);
    CHECK_INT(st.flows, 0);
    CHECK_INT(st.midstream, 0);
    pw_attempts_free(t);
}

static void test_retries(void)
{
    pw_attempts *t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, tcp(T0, C, 50002, S, 445, SYN, 1000, 0));
    feed(t, tcp(T0 + 1 * SEC, C, 50002, S, 445, SYN, 1000, 0));
    feed(t, tcp(T0 + 3 * SEC, C, 50002, S, 445, SYN, 1000, 0));
    feed(t, tcp(T0 + 3 * SEC + 520, S, 445, C, 50002, SYN | ACK, 9, 1001));
    pw_attempts_flush(t, T0 + 4 * SEC);
    CHECK_INT(ngot, 1);
    const pw_attempt *a = &got[0];
    CHECK_OUT(a, PW_OUT_ANSWERED, PW_R_SYN_ACK);
    CHECK_INT(a->retries, 2);
    CHECK_INT(a->frame_request, 1);
    CHECK_INT(a->frame_reply, 4);
    CHECK_INT(a->ts, T0);
    CHECK_INT(a->last_request_ts, T0 + 3 * SEC);
    CHECK_INT(rtt_us(a), 520);
    pw_attempts_free(t);
}

static void test_duplicate_copy(void)
{
    pw_attempts *t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, tcp(T0, C, 50003, S, 80, SYN, 1000, 0));
    feed(t, tcp(T0 + 300, C, 50003, S, 80, SYN, 1000, 0)); /* span copy */
    feed(t, tcp(T0 + 900, S, 80, C, 50003, SYN | ACK, 5, 1001));
    feed(t, tcp(T0 + 950, S, 80, C, 50003, SYN | ACK, 5, 1001)); /* its copy */
    pw_attempts_flush(t, T0 + SEC);
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_ANSWERED, PW_R_SYN_ACK);
    CHECK_INT(got[0].retries, 0);
    CHECK_INT(got[0].frame_reply, 3);
    CHECK_INT(rtt_us(&got[0]), 900);
    pw_attempts_free(t);

    /* 1 ms or more apart is a real retransmission. */
    t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, tcp(T0, C, 50003, S, 80, SYN, 1000, 0));
    feed(t, tcp(T0 + 1000, C, 50003, S, 80, SYN, 1000, 0));
    feed(t, tcp(T0 + 1500, S, 80, C, 50003, SYN | ACK, 5, 1001));
    pw_attempts_flush(t, T0 + SEC);
    CHECK_INT(ngot, 1);
    CHECK_INT(got[0].retries, 1);
    CHECK_INT(rtt_us(&got[0]), 500);
    pw_attempts_free(t);
}

static void test_rst(void)
{
    pw_attempts *t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, tcp(T0, C, 50004, S, 3389, SYN, 1000, 0));
    feed(t, tcp(T0 + 250, S, 3389, C, 50004, RST | ACK, 0, 1001));
    pw_attempts_flush(t, T0 + SEC);
    CHECK_INT(ngot, 1);
    check_common(&got[0], PW_IPPROTO_TCP, &C, 50004, &S, 3389);
    CHECK_OUT(&got[0], PW_OUT_REFUSED, PW_R_RST);
    CHECK_INT(got[0].frame_request, 1);
    CHECK_INT(got[0].frame_reply, 2);
    CHECK(!got[0].has_icmp_from);
    pw_attempts_free(t);
}

/* One TCP attempt to port 135 decided by an ICMP error; checks every field. */
static void icmp_case(pw_addr cl, pw_addr sv, pw_addr from, uint8_t type, uint8_t code, pw_outcome o,
                      pw_reason r)
{
    pw_attempts *t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, tcp(T0, cl, 50010, sv, 135, SYN, 1000, 0));
    feed(t, icmp(T0 + 700, from, type, code, PW_IPPROTO_TCP, cl, 50010, sv, 135));
    pw_attempts_flush(t, T0 + SEC);
    CHECK_INT(ngot, 1);
    const pw_attempt *a = &got[0];
    check_common(a, PW_IPPROTO_TCP, &cl, 50010, &sv, 135);
    CHECK_OUT(a, o, r);
    CHECK(a->has_icmp_from);
    CHECK(pw_addr_eq(&a->icmp_from, &from));
    CHECK_INT(a->icmp_type, type);
    CHECK_INT(a->icmp_code, code);
    CHECK_INT(a->frame_request, 1);
    CHECK_INT(a->frame_reply, 2);
    CHECK_INT(a->reply_ts, T0 + 700);
    CHECK_INT(rtt_us(a), -1); /* rtt only for answers */
    pw_attempts_stats st;
    pw_attempts_get_stats(t, &st);
    CHECK_INT(st.icmp_errors, 1);
    CHECK_INT(st.icmp_unmatched, 0);
    pw_attempts_free(t);
}

static void test_icmp_v4(void)
{
    icmp_case(C, S, S, 3, 3, PW_OUT_REFUSED, PW_R_ICMP_PORT_UNREACHABLE);
    icmp_case(C, S, R, 3, 3, PW_OUT_BLOCKED, PW_R_ICMP_PORT_UNREACHABLE);
    icmp_case(C, S, R, 3, 9, PW_OUT_BLOCKED, PW_R_ICMP_ADMIN_PROHIBITED);
    icmp_case(C, S, R, 3, 10, PW_OUT_BLOCKED, PW_R_ICMP_ADMIN_PROHIBITED);
    icmp_case(C, S, R, 3, 13, PW_OUT_BLOCKED, PW_R_ICMP_ADMIN_PROHIBITED);
    icmp_case(C, S, S, 3, 13, PW_OUT_BLOCKED, PW_R_ICMP_ADMIN_PROHIBITED); /* host firewall */
    icmp_case(C, S, R, 3, 1, PW_OUT_BLOCKED, PW_R_ICMP_HOST_UNREACHABLE);
    icmp_case(C, S, R, 3, 0, PW_OUT_BLOCKED, PW_R_ICMP_NET_UNREACHABLE);
    icmp_case(C, S, R, 3, 2, PW_OUT_BLOCKED, PW_R_ICMP_OTHER);  /* protocol unreachable */
    icmp_case(C, S, R, 3, 4, PW_OUT_BLOCKED, PW_R_ICMP_OTHER);  /* frag needed */
    icmp_case(C, S, R, 11, 0, PW_OUT_BLOCKED, PW_R_ICMP_OTHER); /* TTL exceeded */
}

static void test_icmp_v6(void)
{
    pw_addr c6 = v6("2001:db8::10"), s6 = v6("2001:db8::21"), r6 = v6("2001:db8::1");
    icmp_case(c6, s6, s6, 1, 4, PW_OUT_REFUSED, PW_R_ICMP_PORT_UNREACHABLE);
    icmp_case(c6, s6, r6, 1, 4, PW_OUT_BLOCKED, PW_R_ICMP_PORT_UNREACHABLE);
    icmp_case(c6, s6, r6, 1, 1, PW_OUT_BLOCKED, PW_R_ICMP_ADMIN_PROHIBITED);
    icmp_case(c6, s6, r6, 1, 5, PW_OUT_BLOCKED, PW_R_ICMP_ADMIN_PROHIBITED);
    icmp_case(c6, s6, r6, 1, 6, PW_OUT_BLOCKED, PW_R_ICMP_ADMIN_PROHIBITED);
    icmp_case(c6, s6, r6, 1, 3, PW_OUT_BLOCKED, PW_R_ICMP_HOST_UNREACHABLE);
    icmp_case(c6, s6, r6, 1, 0, PW_OUT_BLOCKED, PW_R_ICMP_NET_UNREACHABLE);
    icmp_case(c6, s6, r6, 1, 2, PW_OUT_BLOCKED, PW_R_ICMP_OTHER); /* beyond scope */
    icmp_case(c6, s6, r6, 3, 0, PW_OUT_BLOCKED, PW_R_ICMP_OTHER); /* hop limit exceeded */
}

static void test_icmp_unmatched(void)
{
    pw_attempts *t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, tcp(T0, C, 50011, S, 135, SYN, 1000, 0));
    /* quotes another port: no attempt */
    feed(t, icmp(T0 + 100, R, 3, 13, PW_IPPROTO_TCP, C, 50011, S, 136));
    /* echo reply and redirect are not errors */
    pw_pkt e = icmp(T0 + 150, R, 0, 0, PW_IPPROTO_TCP, C, 50011, S, 135);
    feed(t, e);
    e = icmp(T0 + 160, R, 5, 1, PW_IPPROTO_TCP, C, 50011, S, 135);
    feed(t, e);
    /* error without ports */
    e = icmp(T0 + 170, R, 3, 13, PW_IPPROTO_TCP, C, 50011, S, 135);
    e.quote.has_ports = false;
    feed(t, e);
    feed(t, tcp(T0 + 200, S, 135, C, 50011, SYN | ACK, 1, 1001));
    /* after the answer: matched (no change), not counted as unmatched */
    feed(t, icmp(T0 + 300, R, 3, 13, PW_IPPROTO_TCP, C, 50011, S, 135));
    pw_attempts_flush(t, T0 + SEC);
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_ANSWERED, PW_R_SYN_ACK);
    CHECK(!got[0].has_icmp_from);
    pw_attempts_stats st;
    pw_attempts_get_stats(t, &st);
    CHECK_INT(st.icmp_errors, 3);
    CHECK_INT(st.icmp_unmatched, 2);
    pw_attempts_free(t);
}

static void test_unanswered_return_traffic(void)
{
    pw_attempts *t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, tcp(T0, C, 50020, S, 5985, SYN, 1000, 0));
    feed(t, toward(T0 + 2 * SEC, C));
    feed(t, tcp(T0 + 1 * SEC, C, 50020, S, 5985, SYN, 1000, 0)); /* out of order ts: still a retry */
    feed(t, tick(T0 + 11 * SEC));
    CHECK_INT(ngot, 0);
    feed(t, tick(T0 + 11 * SEC + 1)); /* deadline = last request (1 s) + 10 s */
    CHECK_INT(ngot, 1);
    const pw_attempt *a = &got[0];
    CHECK_OUT(a, PW_OUT_UNANSWERED, PW_R_TIMEOUT);
    CHECK_INT(a->retries, 1);
    CHECK_INT(a->frame_request, 1);
    CHECK_INT(a->frame_reply, 0);
    CHECK_INT(a->reply_ts, 0);
    CHECK_INT(a->last_request_ts, T0 + SEC);
    CHECK_INT(rtt_us(a), -1);
    pw_attempts_flush(t, T0 + 60 * SEC);
    CHECK_INT(ngot, 1);
    pw_attempts_free(t);

    /* Return traffic shortly before the first request counts too (window
     * starts timeout before the first request). */
    t = fresh(0, 0, 0);
    feed(t, toward(T0 - 9 * SEC, C));
    feed(t, tcp(T0, C, 50021, S, 5985, SYN, 1000, 0));
    feed(t, tick(T0 + 30 * SEC));
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_UNANSWERED, PW_R_TIMEOUT);
    pw_attempts_free(t);

    /* Linux-style retries 1,3,7 s apart stay one attempt (deadline from the
     * last one). */
    t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, toward(T0, C));
    feed(t, tcp(T0, C, 50022, S, 22, SYN, 77, 0));
    feed(t, tcp(T0 + 1 * SEC, C, 50022, S, 22, SYN, 77, 0));
    feed(t, tcp(T0 + 3 * SEC, C, 50022, S, 22, SYN, 77, 0));
    feed(t, tcp(T0 + 7 * SEC, C, 50022, S, 22, SYN, 77, 0));
    feed(t, tcp(T0 + 15 * SEC, C, 50022, S, 22, SYN, 77, 0));
    feed(t, tick(T0 + 25 * SEC + 1));
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_UNANSWERED, PW_R_TIMEOUT); /* toward at T0 is in the window */
    CHECK_INT(got[0].retries, 4);
    CHECK_INT(got[0].frame_request, 2);
    CHECK_INT(got[0].last_request_ts, T0 + 15 * SEC);
    /* A late retransmission of the same SYN is not a new attempt. */
    feed(t, tcp(T0 + 31 * SEC, C, 50022, S, 22, SYN, 77, 0));
    pw_attempts_flush(t, T0 + 32 * SEC);
    CHECK_INT(ngot, 1);
    pw_attempts_free(t);
}

static void test_one_sided(void)
{
    pw_attempts *t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, toward(T0 - 11 * SEC, C));                    /* too early to count */
    feed(t, tcp(T0, C, 50030, S, 135, SYN, 1000, 0));
    feed(t, tcp(T0 + 100, C, 50031, S, 445, SYN, 2000, 0)); /* another attempt, same client */
    feed(t, toward(T0 + 5 * SEC, v4(198, 18, 0, 11)));    /* toward someone else */
    feed(t, tcp(T0 + 6 * SEC, S, 135, v4(198, 18, 0, 12), 1, ACK, 1, 1)); /* server talks, not to C */
    feed(t, tick(T0 + 20 * SEC));
    CHECK_INT(ngot, 2);
    CHECK_OUT(&got[0], PW_OUT_INDETERMINATE, PW_R_ONE_SIDED);
    CHECK_OUT(&got[1], PW_OUT_INDETERMINATE, PW_R_ONE_SIDED);
    CHECK_INT(got[0].port, 135);
    CHECK_INT(got[1].port, 445);
    CHECK_INT(got[0].frame_reply, 0);
    pw_attempts_free(t);

    /* Traffic toward the client after the deadline does not help. */
    t = fresh(0, 0, 0);
    feed(t, tcp(T0, C, 50032, S, 135, SYN, 1000, 0));
    feed(t, toward(T0 + 10 * SEC + 1, C));
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_INDETERMINATE, PW_R_ONE_SIDED);
    pw_attempts_free(t);

    /* ... but at the deadline exactly it does. */
    t = fresh(0, 0, 0);
    feed(t, tcp(T0, C, 50033, S, 135, SYN, 1000, 0));
    feed(t, toward(T0 + 10 * SEC, C));
    feed(t, tick(T0 + 10 * SEC + 1));
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_UNANSWERED, PW_R_TIMEOUT);
    pw_attempts_free(t);
}

static void test_capture_ended(void)
{
    pw_attempts *t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, toward(T0, C));
    feed(t, tcp(T0, C, 50040, S, 135, SYN, 1000, 0));
    feed(t, tcp(T0 + 2 * SEC, C, 50040, S, 135, SYN, 1000, 0));
    pw_attempts_flush(t, T0 + 11 * SEC); /* deadline T0 + 12 s is after the end */
    CHECK_INT(ngot, 1);
    /* the client's own retransmission timer fired, nothing came back, and
     * the capture shows traffic toward the client: unanswered already */
    CHECK_OUT(&got[0], PW_OUT_UNANSWERED, PW_R_RETRANSMITTED);
    CHECK_INT(got[0].retries, 1);
    CHECK_INT(got[0].frame_request, 2);
    CHECK_INT(got[0].frame_reply, 0);
    pw_attempts_free(t);

    /* Deadline passed before the end: decided normally. */
    t = fresh(0, 0, 0);
    feed(t, toward(T0, C));
    feed(t, tcp(T0, C, 50041, S, 135, SYN, 1000, 0));
    pw_attempts_flush(t, T0 + 10 * SEC); /* deadline == end: the timeout ran out */
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_UNANSWERED, PW_R_TIMEOUT);
    pw_attempts_free(t);

    t = fresh(0, 0, 0);
    feed(t, tcp(T0, C, 50042, S, 135, SYN, 1000, 0));
    pw_attempts_flush(t, T0 + 15 * SEC);
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_INDETERMINATE, PW_R_ONE_SIDED);
    pw_attempts_free(t);
    /* a single SYN near the end stays capture-ended */
    t = fresh(0, 0, 0);
    feed(t, toward(T0, C));
    feed(t, tcp(T0, C, 50043, S, 135, SYN, 1000, 0));
    pw_attempts_flush(t, T0 + 9 * SEC);
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_INDETERMINATE, PW_R_CAPTURE_ENDED);
    pw_attempts_free(t);

    /* retransmitted, but one-sided (nothing toward the client): stays capture-ended */
    t = fresh(0, 0, 0);
    feed(t, tcp(T0, C, 50044, S, 135, SYN, 1000, 0));
    feed(t, tcp(T0 + 1 * SEC, C, 50044, S, 135, SYN, 1000, 0));
    feed(t, tcp(T0 + 3 * SEC, C, 50044, S, 135, SYN, 1000, 0));
    pw_attempts_flush(t, T0 + 5 * SEC);
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_INDETERMINATE, PW_R_CAPTURE_ENDED);
    CHECK_INT(got[0].retries, 2);
    pw_attempts_free(t);

    /* a second SYN closer than a retransmission timer (100 ms) is no evidence */
    t = fresh(0, 0, 0);
    feed(t, toward(T0, C));
    feed(t, tcp(T0, C, 50045, S, 135, SYN, 1000, 0));
    feed(t, tcp(T0 + 100 * MS, C, 50045, S, 135, SYN, 1000, 0));
    pw_attempts_flush(t, T0 + 1 * SEC);
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_INDETERMINATE, PW_R_CAPTURE_ENDED);
    CHECK_INT(got[0].retries, 1);
    pw_attempts_free(t);

    /* evicted at the cap is not the end of the capture: capture-ended */
    t = fresh(0, 0, 1);
    feed(t, toward(T0, C));
    feed(t, tcp(T0, C, 50046, S, 135, SYN, 1000, 0));
    feed(t, tcp(T0 + 1 * SEC, C, 50046, S, 135, SYN, 1000, 0));
    feed(t, tcp(T0 + 2 * SEC, C, 50047, S, 135, SYN, 2000, 0));
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_INDETERMINATE, PW_R_CAPTURE_ENDED);
    pw_attempts_flush(t, T0 + 3 * SEC);
    pw_attempts_free(t);
}

/* UDP clients that retry from a new source port (resolvers, SQL Browser
 * clients): at the end of the capture each request of the chain is
 * unanswered/retransmitted; an answer anywhere in the chain undoes it. */
static void test_udp_retry_chain(void)
{
    pw_attempts *t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, toward(T0, C));                       /* 1 */
    feed(t, udp(T0, C, 53001, S, 53));            /* 2 */
    feed(t, udp(T0 + 1 * SEC, C, 53002, S, 53));  /* 3 */
    feed(t, udp(T0 + 2 * SEC, C, 53003, S, 53));  /* 4 */
    pw_attempts_flush(t, T0 + 3 * SEC);
    CHECK_INT(ngot, 3);
    for (int i = 0; i < 3 && i < ngot; i++) {
        CHECK_OUT(&got[i], PW_OUT_UNANSWERED, PW_R_RETRANSMITTED);
        CHECK_INT(got[i].frame_request, 2 + i);
        CHECK_INT(got[i].frame_retry_of, i ? 1 + i : 0);
        CHECK_INT(got[i].retries, 0);
    }
    pw_attempts_free(t);

    /* the same chain, one-sided: indeterminate/capture-ended */
    t = fresh(0, 0, 0);
    feed(t, udp(T0, C, 53001, S, 53));
    feed(t, udp(T0 + 1 * SEC, C, 53002, S, 53));
    pw_attempts_flush(t, T0 + 3 * SEC);
    CHECK_INT(ngot, 2);
    CHECK_OUT(&got[0], PW_OUT_INDETERMINATE, PW_R_CAPTURE_ENDED);
    CHECK_OUT(&got[1], PW_OUT_INDETERMINATE, PW_R_CAPTURE_ENDED);
    pw_attempts_free(t);

    /* the first is answered: the next one follows an answered request */
    t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, udp(T0, C, 1434 + 50000, S, 1434));                   /* 1 */
    feed(t, udp(T0 + 10 * MS, S, 1434, C, 1434 + 50000));         /* 2 */
    feed(t, udp(T0 + 1 * SEC, C, 1434 + 50001, S, 1434));         /* 3 */
    pw_attempts_flush(t, T0 + 2 * SEC);
    CHECK_INT(ngot, 2);
    CHECK_OUT(&got[0], PW_OUT_ANSWERED, PW_R_UDP_REPLY);
    CHECK_OUT(&got[1], PW_OUT_INDETERMINATE, PW_R_CAPTURE_ENDED);
    CHECK_INT(got[1].frame_retry_of, 0);
    pw_attempts_free(t);

    /* two queries 20 ms apart (A and AAAA): not a retry */
    t = fresh(0, 0, 0);
    feed(t, toward(T0, C));
    feed(t, udp(T0, C, 53011, S, 53));
    feed(t, udp(T0 + 20 * MS, C, 53012, S, 53));
    pw_attempts_flush(t, T0 + 1 * SEC);
    CHECK_INT(ngot, 2);
    CHECK_OUT(&got[0], PW_OUT_INDETERMINATE, PW_R_CAPTURE_ENDED);
    CHECK_OUT(&got[1], PW_OUT_INDETERMINATE, PW_R_CAPTURE_ENDED);
    pw_attempts_free(t);

    /* a retry after an earlier request timed out (unanswered/timeout) */
    t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, toward(T0, C));                       /* 1 */
    feed(t, udp(T0, C, 53021, S, 53));            /* 2 */
    feed(t, toward(T0 + 5 * SEC, C));             /* 3 */
    feed(t, udp(T0 + 6 * SEC, C, 53022, S, 53));  /* 4 */
    pw_attempts_flush(t, T0 + 7 * SEC);
    CHECK_INT(ngot, 2);
    CHECK_OUT(&got[0], PW_OUT_UNANSWERED, PW_R_TIMEOUT);
    CHECK_OUT(&got[1], PW_OUT_UNANSWERED, PW_R_RETRANSMITTED);
    CHECK_INT(got[1].frame_retry_of, 2);
    pw_attempts_free(t);

    /* same 4-tuple repeats (NBNS 137 -> 137): retries */
    t = fresh(0, 0, 0);
    feed(t, toward(T0, C));
    feed(t, udp(T0, C, 137, S, 137));
    feed(t, udp(T0 + 750 * MS, C, 137, S, 137));
    feed(t, udp(T0 + 1500 * MS, C, 137, S, 137));
    pw_attempts_flush(t, T0 + 2 * SEC);
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_UNANSWERED, PW_R_RETRANSMITTED);
    CHECK_INT(got[0].retries, 2);
    pw_attempts_free(t);
}

static pw_pkt with_kind(pw_pkt p, int kind)
{
    p.dgram_kind = (uint8_t)kind;
    return p;
}

/* Replies are never attempts: by their protocol's response marker, or as
 * unicast answers to a port that sent a broadcast or multicast query. */
static void test_udp_replies(void)
{
    pw_addr mdns = v4(224, 0, 0, 251), ssdp = v4(239, 255, 255, 250), bcast = v4(198, 18, 0, 255);
    pw_attempts *t = fresh(0, 0, 0);
    frame_no = 0;
    /* an mDNS response to the querier's 5353 without the query captured */
    feed(t, with_kind(udp(T0, S, 5353, C, 5353), PW_DGRAM_RESPONSE));
    /* an LLMNR response to an ephemeral port */
    feed(t, with_kind(udp(T0 + 1, S, 5355, C, 61000), PW_DGRAM_RESPONSE));
    /* SSDP: M-SEARCH to the group, then the unicast 200 OK (say unclassified) */
    feed(t, with_kind(udp(T0 + 2, C, 50000, ssdp, 1900), PW_DGRAM_REQUEST));
    feed(t, udp(T0 + 3, S, 1900, C, 50000));
    feed(t, udp(T0 + 4, R, 1900, C, 50000));
    /* NBNS broadcast query 137 -> x.x.x.255:137, a reply 137 -> 137 */
    feed(t, with_kind(udp(T0 + 5, C, 137, bcast, 137), PW_DGRAM_REQUEST));
    feed(t, udp(T0 + 6, S, 137, C, 137));
    /* mDNS multicast query and its unicast answer */
    feed(t, with_kind(udp(T0 + 7, C, 5353, mdns, 5353), PW_DGRAM_REQUEST));
    feed(t, udp(T0 + 8, R, 5353, C, 5353));
    pw_attempts_flush(t, T0 + 1 * SEC);
    CHECK_INT(ngot, 0);
    pw_attempts_stats st;
    pw_attempts_get_stats(t, &st);
    CHECK_INT(st.responses, 2);
    CHECK_INT(st.group_answers, 4);
    CHECK_INT(st.attempts, 0);
    pw_attempts_free(t);

    /* a real unicast query to the querier's port is still an attempt,
     * answered or not */
    t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, with_kind(udp(T0, C, 137, bcast, 137), PW_DGRAM_REQUEST));   /* 1 */
    feed(t, with_kind(udp(T0 + 1 * MS, S, 137, C, 137), PW_DGRAM_REQUEST)); /* 2: node status */
    feed(t, with_kind(udp(T0 + 2 * MS, C, 137, S, 137), PW_DGRAM_RESPONSE)); /* 3 */
    feed(t, with_kind(udp(T0 + 3 * MS, R, 137, C, 137), PW_DGRAM_REQUEST)); /* 4: no answer */
    feed(t, toward(T0 + 4 * MS, R));
    pw_attempts_flush(t, T0 + 10 * SEC);
    CHECK_INT(ngot, 2);
    check_common(&got[0], PW_IPPROTO_UDP, &S, 137, &C, 137);
    CHECK_OUT(&got[0], PW_OUT_ANSWERED, PW_R_UDP_REPLY);
    CHECK_INT(got[0].frame_request, 2);
    CHECK_INT(got[0].frame_reply, 3);
    check_common(&got[1], PW_IPPROTO_UDP, &R, 137, &C, 137);
    CHECK_OUT(&got[1], PW_OUT_UNANSWERED, PW_R_TIMEOUT);
    pw_attempts_free(t);

    /* the group memory expires: a later unclassified datagram is an attempt */
    t = fresh(0, 0, 0);
    feed(t, with_kind(udp(T0, C, 50000, ssdp, 1900), PW_DGRAM_REQUEST));
    feed(t, udp(T0 + 11 * SEC, S, 40000, C, 50000));
    pw_attempts_flush(t, T0 + 12 * SEC);
    CHECK_INT(ngot, 1);
    pw_attempts_free(t);

    /* a response on a record a dissector event made does not start an
     * attempt; a request from either side does */
    t = fresh(0, 0, 0);
    frame_no = 0;
    CHECK(pw_attempts_conn(t, PW_IPPROTO_UDP, &C, 5355, &S, 61001, T0) != NULL);
    feed(t, with_kind(udp(T0, C, 5355, S, 61001), PW_DGRAM_RESPONSE)); /* 1 */
    feed(t, with_kind(udp(T0 + 1, S, 61001, C, 5355), PW_DGRAM_REQUEST)); /* 2 */
    feed(t, with_kind(udp(T0 + 2, C, 5355, S, 61001), PW_DGRAM_RESPONSE)); /* 3 */
    pw_attempts_flush(t, T0 + 10 * SEC);
    CHECK_INT(ngot, 1);
    check_common(&got[0], PW_IPPROTO_UDP, &S, 61001, &C, 5355);
    CHECK_OUT(&got[0], PW_OUT_ANSWERED, PW_R_UDP_REPLY);
    CHECK_INT(got[0].frame_request, 2);
    CHECK_INT(got[0].frame_reply, 3);
    pw_attempts_free(t);
}

static pw_pkt ttl_id(pw_pkt p, uint8_t ttl, uint16_t id)
{
    p.ttl = ttl;
    p.has_ip_id = true;
    p.ip_id = id;
    return p;
}

/* Who refused: the host itself or a device in the path, by TTL. */
static void test_responder(void)
{
    /* the host answers 80 with TTL 63; a RST on 81 arrives with TTL 64 */
    pw_attempts *t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, tcp(T0, C, 40001, S, 80, SYN, 1000, 0));                                   /* 1 */
    feed(t, ttl_id(tcp(T0 + 1 * MS, S, 80, C, 40001, SYN | ACK, 5000, 1001), 63, 4242)); /* 2 */
    feed(t, tcp(T0 + 2 * MS, C, 40002, S, 81, SYN, 2000, 0));                           /* 3 */
    pw_pkt rst = ttl_id(tcp(T0 + 3 * MS, S, 81, C, 40002, RST | ACK, 0, 2001), 64, 0);  /* 4 */
    rst.win = 0;
    feed(t, rst);
    feed(t, tcp(T0 + 4 * MS, C, 40003, S, 82, SYN, 3000, 0));                           /* 5 */
    pw_pkt rst2 = ttl_id(tcp(T0 + 5 * MS, S, 82, C, 40003, RST | ACK, 0, 3001), 63, 4243); /* 6 */
    rst2.win = 0;
    feed(t, rst2);
    pw_attempts_flush(t, T0 + 1 * SEC);
    CHECK_INT(ngot, 3);
    CHECK_INT(got[0].responder, PW_RESPONDER_NONE);
    CHECK_OUT(&got[1], PW_OUT_REFUSED, PW_R_RST);
    CHECK_STR(pw_responder_name(got[1].responder), "path");
    CHECK_INT(got[1].resp_ttl, 64);
    CHECK_INT(got[1].host_ttl_min, 63);
    CHECK_INT(got[1].host_ttl_max, 63);
    CHECK_INT(got[1].host_frame, 2);
    CHECK_INT(got[1].host_packets, 1);
    CHECK(got[1].resp_has_ip_id);
    CHECK_INT(got[1].resp_ip_id, 0);
    CHECK_INT(got[1].host_ip_id, 4242);
    char buf[256];
    CHECK_STR(pw_responder_sentence(&got[1], buf, sizeof buf),
              "RST with TTL 64 while 198.18.0.21's own packets arrive with TTL 63: sent by a device "
              "in the path, not by the host");
    CHECK_STR(pw_responder_name(got[2].responder), "host");
    CHECK_INT(got[2].resp_ttl, 63);
    CHECK_STR(pw_responder_sentence(&got[2], buf, sizeof buf),
              "RST with TTL 63, as 198.18.0.21's own packets arrive (TTL 63): sent by the host itself");
    pw_attempts_free(t);

    /* no packet of the host's own: unknown */
    t = fresh(0, 0, 0);
    feed(t, tcp(T0, C, 40011, S, 81, SYN, 1000, 0));
    feed(t, ttl_id(tcp(T0 + 1 * MS, S, 81, C, 40011, RST | ACK, 0, 1001), 64, 0));
    pw_attempts_flush(t, T0 + 1 * SEC);
    CHECK_INT(ngot, 1);
    CHECK_STR(pw_responder_name(got[0].responder), "unknown");
    CHECK_INT(got[0].host_packets, 0);
    CHECK_STR(pw_responder_sentence(&got[0], buf, sizeof buf),
              "RST with TTL 64; the capture holds no packet of 198.18.0.21's own to compare with: sender unknown");
    pw_attempts_free(t);

    /* the host's own packet after the RST (within the linger) still counts;
     * a packet S sends as a client does not (its SYN to C, TTL 99) */
    t = fresh(0, 0, 0);
    feed(t, tcp(T0, C, 40021, S, 81, SYN, 1000, 0));
    feed(t, ttl_id(tcp(T0 + 1 * MS, S, 81, C, 40021, RST | ACK, 0, 1001), 128, 7));
    feed(t, ttl_id(tcp(T0 + 1 * SEC, S, 40999, C, 22, SYN, 77, 0), 99, 9));
    feed(t, udp(T0 + 2 * SEC, C, 40022, S, 53));
    feed(t, ttl_id(udp(T0 + 2 * SEC + 1 * MS, S, 53, C, 40022), 127, 8));
    pw_attempts_flush(t, T0 + 3 * SEC);
    CHECK_INT(ngot, 3);
    const pw_attempt *refused = NULL;
    for (int i = 0; i < ngot && i < MAXGOT; i++)
        if (got[i].port == 81)
            refused = &got[i];
    CHECK(refused != NULL);
    if (refused) {
        CHECK_OUT(refused, PW_OUT_REFUSED, PW_R_RST);
        CHECK_STR(pw_responder_name(refused->responder), "path");
        CHECK_INT(refused->host_ttl_min, 127);
        CHECK_INT(refused->host_ttl_max, 127);
        CHECK_INT(refused->host_packets, 1);
        CHECK_INT(refused->host_ip_id, 8);
    }
    pw_attempts_free(t);

    /* ICMP: from a third address is the path; from the host with its TTL, the host */
    t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, udp(T0, C, 40030, S, 53));                                 /* 1 */
    feed(t, ttl_id(udp(T0 + 1, S, 53, C, 40030), 61, 1));              /* S's own: a reply */
    feed(t, udp(T0 + 1 * MS, C, 40031, S, 161));                       /* 2 */
    feed(t, ttl_id(icmp(T0 + 2 * MS, S, 3, 3, PW_IPPROTO_UDP, C, 40031, S, 161), 61, 2));
    feed(t, udp(T0 + 3 * MS, C, 40032, S, 162));                       /* 4 */
    feed(t, ttl_id(icmp(T0 + 4 * MS, R, 3, 13, PW_IPPROTO_UDP, C, 40032, S, 162), 255, 0));
    feed(t, tcp(T0 + 5 * MS, C, 40033, S, 445, SYN, 1, 0));            /* 6 */
    feed(t, ttl_id(icmp(T0 + 6 * MS, S, 3, 13, PW_IPPROTO_TCP, C, 40033, S, 445), 64, 0));
    pw_attempts_flush(t, T0 + 1 * SEC);
    CHECK_INT(ngot, 4);
    /* got[0] is C -> S:53, answered */
    CHECK_OUT(&got[0], PW_OUT_ANSWERED, PW_R_UDP_REPLY);
    CHECK_OUT(&got[1], PW_OUT_REFUSED, PW_R_ICMP_PORT_UNREACHABLE);
    CHECK_STR(pw_responder_name(got[1].responder), "host");
    CHECK_OUT(&got[2], PW_OUT_BLOCKED, PW_R_ICMP_ADMIN_PROHIBITED);
    CHECK_STR(pw_responder_name(got[2].responder), "path");
    CHECK_INT(got[2].resp_ttl, 255);
    CHECK_STR(pw_responder_sentence(&got[2], buf, sizeof buf),
              "ICMP error sent by 198.18.0.1, not by 198.18.0.21: a device in the path");
    CHECK_OUT(&got[3], PW_OUT_BLOCKED, PW_R_ICMP_ADMIN_PROHIBITED);
    CHECK_STR(pw_responder_name(got[3].responder), "path");
    CHECK_INT(got[3].resp_ttl, 64);
    CHECK_INT(got[3].host_ttl_min, 61);
    pw_attempts_free(t);
}

static void test_inferred(void)
{
    /* by the client's handshake-completing ACK */
    pw_attempts *t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, tcp(T0, C, 50050, S, 443, SYN, 1000, 0));
    feed(t, tcp(T0 + 30 * MS, C, 50050, S, 443, ACK, 1001, 5001));
    feed(t, tcp(T0 + 31 * MS, C, 50050, S, 443, ACK | PSH, 1001, 5001));
    pw_attempts_flush(t, T0 + SEC);
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_ANSWERED, PW_R_INFERRED);
    CHECK_INT(got[0].frame_request, 1);
    CHECK_INT(got[0].frame_reply, 2);
    CHECK_INT(rtt_us(&got[0]), 30000);
    pw_attempts_stats st;
    pw_attempts_get_stats(t, &st);
    CHECK_INT(st.midstream, 0);
    pw_attempts_free(t);

    /* by server data acknowledging ISN+1 */
    t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, tcp(T0, C, 50051, S, 25, SYN, 0xfffffffe, 0));
    feed(t, tcp(T0 + 40 * MS, S, 25, C, 50051, ACK | PSH, 5001, 0xffffffff));
    pw_attempts_flush(t, T0 + SEC);
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_ANSWERED, PW_R_INFERRED);
    CHECK_INT(got[0].frame_reply, 2);
    pw_attempts_free(t);

    /* sequence wrap: ISN 0xffffffff, ACK seq 0 */
    t = fresh(0, 0, 0);
    feed(t, tcp(T0, C, 50052, S, 25, SYN, 0xffffffff, 0));
    feed(t, tcp(T0 + 40 * MS, C, 50052, S, 25, ACK, 0, 5));
    pw_attempts_flush(t, T0 + SEC);
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_ANSWERED, PW_R_INFERRED);
    pw_attempts_free(t);

    /* a wrong sequence number infers nothing */
    t = fresh(0, 0, 0);
    feed(t, toward(T0, C));
    feed(t, tcp(T0, C, 50053, S, 25, SYN, 1000, 0));
    feed(t, tcp(T0 + 40 * MS, C, 50053, S, 25, ACK, 5000, 5));
    feed(t, tcp(T0 + 41 * MS, S, 25, C, 50053, ACK, 5, 4000));
    pw_attempts_flush(t, T0 + 30 * SEC);
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_UNANSWERED, PW_R_TIMEOUT);
    pw_attempts_free(t);

    /* SYN with a new ISN while pending: a retry, and the new ISN infers */
    t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, tcp(T0, C, 50054, S, 25, SYN, 1000, 0));
    feed(t, tcp(T0 + SEC, C, 50054, S, 25, SYN, 3000, 0));
    feed(t, tcp(T0 + SEC + 200, C, 50054, S, 25, ACK, 3001, 9));
    pw_attempts_flush(t, T0 + 5 * SEC);
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_ANSWERED, PW_R_INFERRED);
    CHECK_INT(got[0].retries, 1);
    CHECK_INT(rtt_us(&got[0]), 200);
    pw_attempts_free(t);
}

static void test_midstream(void)
{
    pw_attempts *t = fresh(0, 0, 0);
    frame_no = 0;
    for (int i = 0; i < 5; i++) {
        feed(t, tcp(T0 + i * MS, C, 50060, S, 445, ACK | PSH, 100 + i, 200));
        feed(t, tcp(T0 + i * MS + 100, S, 445, C, 50060, ACK, 200, 101 + i));
    }
    feed(t, tcp(T0 + 10 * MS, S, 80, C, 50061, SYN | ACK, 1, 1)); /* SYN-ACK without SYN */
    feed(t, tcp(T0 + 20 * MS, S, 80, C, 50062, RST, 1, 1));
    pw_attempts_flush(t, T0 + 100 * SEC);
    CHECK_INT(ngot, 0);
    pw_attempts_stats st;
    pw_attempts_get_stats(t, &st);
    CHECK_INT(st.midstream, 3);
    CHECK_INT(st.attempts, 0);
    CHECK_INT(st.flows, 0);
    pw_attempts_free(t);

    /* A flow seen mid-stream, then a fresh SYN on the same 4-tuple. */
    t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, tcp(T0, C, 50064, S, 445, ACK | PSH, 100, 200));
    feed(t, tcp(T0 + 1 * MS, C, 50064, S, 445, FIN | ACK, 101, 200));
    feed(t, tcp(T0 + 2 * SEC, C, 50064, S, 445, SYN, 7777, 0));
    feed(t, tcp(T0 + 2 * SEC + 300, S, 445, C, 50064, SYN | ACK, 1, 7778));
    pw_attempts_flush(t, T0 + 3 * SEC);
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_ANSWERED, PW_R_SYN_ACK);
    CHECK_INT(got[0].frame_request, 3);
    CHECK_INT(rtt_us(&got[0]), 300);
    pw_attempts_get_stats(t, &st);
    CHECK_INT(st.midstream, 1);
    pw_attempts_free(t);

    /* A long answered connection: still one attempt, never "mid-stream". */
    t = fresh(0, 0, 0);
    feed(t, tcp(T0, C, 50063, S, 445, SYN, 1000, 0));
    feed(t, tcp(T0 + 100, S, 445, C, 50063, SYN | ACK, 1, 1001));
    for (int i = 1; i <= 60; i++)
        feed(t, tcp(T0 + i * SEC, C, 50063, S, 445, ACK | PSH, 1001 + i, 2));
    CHECK_INT(ngot, 1); /* retired after the linger */
    feed(t, tcp(T0 + 61 * SEC, C, 50063, S, 445, FIN | ACK, 2000, 2));
    pw_attempts_flush(t, T0 + 62 * SEC);
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_ANSWERED, PW_R_SYN_ACK);
    pw_attempts_get_stats(t, &st);
    CHECK_INT(st.midstream, 0);
    pw_attempts_free(t);
}

static void test_new_isn(void)
{
    pw_attempts *t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, tcp(T0, C, 50070, S, 135, SYN, 1000, 0));
    feed(t, tcp(T0 + 100, S, 135, C, 50070, RST | ACK, 0, 1001));
    feed(t, tcp(T0 + 200, C, 50070, S, 135, SYN, 1000, 0)); /* same ISN: nothing new */
    feed(t, tcp(T0 + SEC, C, 50070, S, 135, SYN, 5000, 0)); /* new ISN: new attempt */
    CHECK_INT(ngot, 1); /* the decided one retired at once */
    CHECK_OUT(&got[0], PW_OUT_REFUSED, PW_R_RST);
    CHECK_INT(got[0].retries, 0);
    feed(t, tcp(T0 + SEC + 300, S, 135, C, 50070, SYN | ACK, 1, 5001));
    pw_attempts_flush(t, T0 + 2 * SEC);
    CHECK_INT(ngot, 2);
    CHECK_OUT(&got[1], PW_OUT_ANSWERED, PW_R_SYN_ACK);
    CHECK_INT(got[1].frame_request, 4);
    CHECK_INT(got[1].frame_reply, 5);
    CHECK_INT(got[1].ts, T0 + SEC);
    CHECK_INT(got[1].retries, 0);
    pw_attempts_free(t);

    /* After the old attempt retired: the flow entry remains; a new SYN
     * (new ISN) still starts a new attempt, also in the other direction. */
    t = fresh(0, 0, 0);
    feed(t, tcp(T0, C, 50071, S, 135, SYN, 1000, 0));
    feed(t, tcp(T0 + 100, S, 135, C, 50071, SYN | ACK, 0, 1001));
    feed(t, tcp(T0 + 11 * SEC, C, 50071, S, 135, ACK, 1001, 1));
    CHECK_INT(ngot, 1);
    feed(t, tcp(T0 + 12 * SEC, S, 135, C, 50071, SYN, 42, 0));
    feed(t, tcp(T0 + 12 * SEC + 10, C, 50071, S, 135, SYN | ACK, 7, 43));
    pw_attempts_flush(t, T0 + 13 * SEC);
    CHECK_INT(ngot, 2);
    check_common(&got[1], PW_IPPROTO_TCP, &S, 135, &C, 50071);
    CHECK_OUT(&got[1], PW_OUT_ANSWERED, PW_R_SYN_ACK);
    pw_attempts_free(t);
}

static void test_ipv6_tcp(void)
{
    pw_addr c6 = v6("2001:db8:1::10"), s6 = v6("2001:db8:2::21");
    pw_attempts *t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, tcp(T0, c6, 40000, s6, 443, SYN, 1, 0));
    feed(t, tcp(T0 + 1200, s6, 443, c6, 40000, SYN | ACK, 9, 2));
    feed(t, tcp(T0 + 2 * MS, c6, 40001, s6, 8443, SYN, 1, 0));
    feed(t, tcp(T0 + 3 * MS, s6, 8443, c6, 40001, RST | ACK, 0, 2));
    feed(t, tcp(T0 + 4 * MS, c6, 40002, s6, 9443, SYN, 1, 0));
    feed(t, tick(T0 + 20 * SEC));
    pw_attempts_flush(t, T0 + 20 * SEC);
    CHECK_INT(ngot, 3);
    /* retire order: the unanswered one at its deadline (T0+10.004 s) comes
     * after the two decided ones (lingers end at T0+10.0012 and T0+10.003). */
    check_common(&got[0], PW_IPPROTO_TCP, &c6, 40000, &s6, 443);
    CHECK_OUT(&got[0], PW_OUT_ANSWERED, PW_R_SYN_ACK);
    CHECK_INT(rtt_us(&got[0]), 1200);
    CHECK_OUT(&got[1], PW_OUT_REFUSED, PW_R_RST);
    CHECK_OUT(&got[2], PW_OUT_UNANSWERED, PW_R_TIMEOUT); /* c6 got the SYN-ACK: return traffic */
    CHECK_INT(got[2].port, 9443);
    pw_attempts_free(t);
}

static void test_set_app(void)
{
    pw_attempts *t = fresh(0, 0, 0);
    feed(t, tcp(T0, C, 50080, S, 443, SYN, 1000, 0));
    feed(t, tcp(T0 + 100, S, 443, C, 50080, SYN | ACK, 1, 1001));
    feed(t, tcp(T0 + 200, C, 50080, S, 443, ACK | PSH, 1001, 2));
    pw_attempts_set_app(t, PW_IPPROTO_TCP, &C, 50080, &S, 443, "tls");
    pw_attempts_set_app(t, PW_IPPROTO_TCP, &S, 443, &C, 50080, "http"); /* reversed, already set */
    pw_attempts_set_app(t, PW_IPPROTO_UDP, &C, 50080, &S, 443, "dns");  /* other proto: none */
    feed(t, tcp(T0 + 300, C, 50081, S, 443, SYN, 1000, 0));
    pw_attempts_set_app(t, PW_IPPROTO_TCP, &S, 443, &C, 50081, "a-very-long-application-name");
    pw_attempts_flush(t, T0 + SEC);
    CHECK_INT(ngot, 2);
    CHECK_STR(got[0].app, "tls");
    CHECK_INT(got[1].client_port, 50081);
    CHECK_STR(got[1].app, "a-very-long-app"); /* truncated to 15 */
    pw_attempts_free(t);
}

/* ---- UDP ---- */

static void test_udp(void)
{
    /* answered, with a retry and more datagrams after the linger */
    pw_attempts *t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, udp(T0, C, 51000, S, 53));
    feed(t, udp(T0 + 1 * SEC, C, 51000, S, 53));
    feed(t, udp(T0 + 1 * SEC + 800, S, 53, C, 51000));
    for (int i = 2; i < 30; i += 2)
        feed(t, udp(T0 + i * SEC, C, 51000, S, 53));
    CHECK_INT(ngot, 1);
    pw_attempts_flush(t, T0 + 31 * SEC);
    CHECK_INT(ngot, 1);
    check_common(&got[0], PW_IPPROTO_UDP, &C, 51000, &S, 53);
    CHECK_OUT(&got[0], PW_OUT_ANSWERED, PW_R_UDP_REPLY);
    CHECK_INT(got[0].retries, 1);
    CHECK_INT(got[0].frame_request, 1);
    CHECK_INT(got[0].frame_reply, 3);
    CHECK_INT(rtt_us(&got[0]), 800);
    pw_attempts_free(t);

    /* unanswered (return traffic exists) then, after idle, a new attempt */
    t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, toward(T0, C));
    feed(t, udp(T0, C, 51001, S, 161));
    feed(t, udp(T0 + 300, C, 51001, S, 161)); /* within 1 ms: a copy */
    feed(t, udp(T0 + 2 * SEC, C, 51001, S, 161));
    feed(t, tick(T0 + 7 * SEC));
    CHECK_INT(ngot, 0);
    feed(t, tick(T0 + 7 * SEC + 1));
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_UNANSWERED, PW_R_TIMEOUT);
    CHECK_INT(got[0].retries, 1);
    CHECK_INT(got[0].last_request_ts, T0 + 2 * SEC);
    CHECK_INT(got[0].frame_request, 2);
    feed(t, udp(T0 + 8 * SEC, C, 51001, S, 161));
    pw_attempts_flush(t, T0 + 9 * SEC);
    CHECK_INT(ngot, 2);
    CHECK_OUT(&got[1], PW_OUT_INDETERMINATE, PW_R_CAPTURE_ENDED);
    pw_attempts_free(t);

    /* one-sided */
    t = fresh(0, 0, 0);
    feed(t, udp(T0, C, 51002, S, 514));
    pw_attempts_flush(t, T0 + 60 * SEC);
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_INDETERMINATE, PW_R_ONE_SIDED);
    pw_attempts_free(t);

    /* ICMP port unreachable from the server; from a router */
    t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, udp(T0, C, 51003, S, 69));
    feed(t, icmp(T0 + 500, S, 3, 3, PW_IPPROTO_UDP, C, 51003, S, 69));
    feed(t, udp(T0 + 600, C, 51004, S, 69));
    feed(t, icmp(T0 + 900, R, 3, 3, PW_IPPROTO_UDP, C, 51004, S, 69));
    feed(t, udp(T0 + 1000, C, 51005, S, 69));
    feed(t, icmp(T0 + 1100, R, 3, 10, PW_IPPROTO_TCP, C, 51005, S, 69)); /* wrong proto quoted */
    pw_attempts_flush(t, T0 + 2 * SEC);
    CHECK_INT(ngot, 3);
    CHECK_OUT(&got[0], PW_OUT_REFUSED, PW_R_ICMP_PORT_UNREACHABLE);
    CHECK(pw_addr_eq(&got[0].icmp_from, &S));
    CHECK_INT(got[0].frame_reply, 2);
    CHECK_OUT(&got[1], PW_OUT_BLOCKED, PW_R_ICMP_PORT_UNREACHABLE);
    CHECK(pw_addr_eq(&got[1].icmp_from, &R));
    CHECK_INT(got[1].icmp_type, 3);
    CHECK_INT(got[1].icmp_code, 3);
    CHECK_OUT(&got[2], PW_OUT_INDETERMINATE, PW_R_CAPTURE_ENDED);
    pw_attempts_free(t);

    /* IPv6 UDP answered and ICMPv6 refused */
    pw_addr c6 = v6("fd00::10"), s6 = v6("fd00::53");
    t = fresh(0, 0, 0);
    frame_no = 0;
    feed(t, udp(T0, c6, 52000, s6, 53));
    feed(t, udp(T0 + 250, s6, 53, c6, 52000));
    feed(t, udp(T0 + 300, c6, 52001, s6, 123));
    feed(t, icmp(T0 + 400, s6, 1, 4, PW_IPPROTO_UDP, c6, 52001, s6, 123));
    pw_attempts_flush(t, T0 + SEC);
    CHECK_INT(ngot, 2);
    CHECK_OUT(&got[0], PW_OUT_ANSWERED, PW_R_UDP_REPLY);
    CHECK_INT(rtt_us(&got[0]), 250);
    CHECK_OUT(&got[1], PW_OUT_REFUSED, PW_R_ICMP_PORT_UNREACHABLE);
    CHECK_INT(got[1].icmp_type, 1);
    CHECK_INT(got[1].icmp_code, 4);
    pw_attempts_free(t);
}

static void test_udp_skipped(void)
{
    pw_attempts *t = fresh(0, 0, 0);
    feed(t, udp(T0, C, 137, v4(198, 18, 0, 255), 137));         /* subnet broadcast */
    feed(t, udp(T0 + 1, C, 68, v4(255, 255, 255, 255), 67));    /* broadcast */
    feed(t, udp(T0 + 2, C, 5353, v4(224, 0, 0, 251), 5353));    /* multicast */
    feed(t, udp(T0 + 3, v6("fe80::1"), 5353, v6("ff02::fb"), 5353));
    feed(t, udp(T0 + 4, S, 53, C, 40000));                       /* reply without request */
    feed(t, udp(T0 + 5, S, 123, C, 40001));
    pw_attempts_flush(t, T0 + 60 * SEC);
    CHECK_INT(ngot, 0);
    pw_attempts_stats st;
    pw_attempts_get_stats(t, &st);
    CHECK_INT(st.attempts, 0);
    CHECK_INT(st.peak_flows, 0);
    pw_attempts_free(t);

    /* both ports high, or both low: an attempt */
    t = fresh(0, 0, 0);
    feed(t, udp(T0, C, 40000, S, 40001));
    feed(t, udp(T0 + 1, C, 123, S, 123));
    pw_attempts_flush(t, T0 + SEC);
    CHECK_INT(ngot, 2);
    pw_attempts_free(t);
}

/* ---- lifecycle ---- */

static void test_eviction(void)
{
    pw_attempts *t = fresh(0, 0, 3);
    frame_no = 0;
    for (int i = 0; i < 5; i++)
        feed(t, tcp(T0 + i * MS, C, (uint16_t)(50100 + i), S, 135, SYN, 1000, 0));
    CHECK_INT(ngot, 2);
    CHECK_INT(got[0].client_port, 50100); /* earliest deadline first */
    CHECK_INT(got[1].client_port, 50101);
    CHECK_OUT(&got[0], PW_OUT_INDETERMINATE, PW_R_CAPTURE_ENDED);
    pw_attempts_stats st;
    pw_attempts_get_stats(t, &st);
    CHECK_INT(st.evicted, 2);
    CHECK_INT(st.open, 3);
    CHECK_INT(st.peak_open, 3);
    CHECK_INT(st.peak_flows, 3);
    /* a decided attempt is evicted with its outcome */
    feed(t, tcp(T0 + 10 * MS, S, 135, C, 50102, RST | ACK, 0, 1001));
    feed(t, tcp(T0 + 11 * MS, C, 50200, S, 135, SYN, 1000, 0));
    feed(t, tcp(T0 + 12 * MS, C, 50201, S, 135, SYN, 1000, 0));
    CHECK_INT(ngot, 4);
    CHECK_INT(got[2].client_port, 50103);
    CHECK_INT(got[3].client_port, 50104);
    pw_attempts_flush(t, T0 + 20 * MS);
    CHECK_INT(ngot, 7);
    int refused = 0;
    for (int i = 0; i < 7; i++)
        refused += got[i].outcome == PW_OUT_REFUSED && got[i].client_port == 50102;
    CHECK_INT(refused, 1);
    pw_attempts_get_stats(t, &st);
    CHECK_INT(st.attempts, 7);
    CHECK_INT(st.evicted, 4);
    CHECK_INT(st.open, 0);
    pw_attempts_free(t);

    /* The destination table is capped too (2 * max_open + 1024 entries);
     * hosts of tracked flows are never the ones dropped. */
    t = fresh(0, 0, 3);
    feed(t, toward(T0, C));
    feed(t, tcp(T0, C, 50300, S, 135, SYN, 1000, 0));
    for (int i = 0; i < 5000; i++)
        feed(t, toward(T0 + 1 + i, v4(10, 9, i >> 8, i & 255)));
    pw_attempts_get_stats(t, &st);
    CHECK(st.hosts <= 3 * 2 + 1024);
    CHECK_INT(st.peak_hosts, 3 * 2 + 1024);
    feed(t, tick(T0 + 11 * SEC));
    CHECK_INT(ngot, 1);
    CHECK_OUT(&got[0], PW_OUT_UNANSWERED, PW_R_TIMEOUT); /* C's entry survived */
    pw_attempts_free(t);
}

static uint64_t big_count[PW_OUT_COUNT], big_reason[PW_R_COUNT], big_total, big_retries;

static void count_cb(void *arg, const pw_attempt *a)
{
    (void)arg;
    big_total++;
    big_count[a->outcome]++;
    big_reason[a->reason]++;
    big_retries += a->retries;
}

/* 1,000,000 attempts, one per millisecond (1000 s of packet time): half
 * answered, a quarter unanswered with return traffic, a quarter one-sided. */
static void test_bounded_memory(void)
{
    memset(big_count, 0, sizeof big_count);
    memset(big_reason, 0, sizeof big_reason);
    big_total = big_retries = 0;
    pw_attempts_opts o = {.max_open = 0};
    pw_attempts *t = pw_attempts_new(&o, count_cb, NULL);
    const int N = 1000000;
    pw_addr srv = v4(10, 200, 0, 1), dns = v4(10, 200, 0, 53);
    uint64_t peak_open_seen = 0;
    for (int i = 0; i < N; i++) {
        int c = i % 50000;
        pw_addr cl = v4(10, 1, c >> 8, c & 255);
        uint16_t cp = (uint16_t)(1024 + (i / 50000) * 3 + (i & 1));
        pw_usec ts = T0 + (pw_usec)i * MS;
        pw_pkt p = tcp(ts, cl, cp, srv, 443, SYN, (uint32_t)i, 0);
        pw_attempts_packet(t, &p);
        if (i % 2 == 0) {
            p = tcp(ts + 100, srv, 443, cl, cp, SYN | ACK, 1, (uint32_t)i + 1);
            pw_attempts_packet(t, &p);
            p = tcp(ts + 200, cl, cp, srv, 443, ACK, (uint32_t)i + 1, 2);
            pw_attempts_packet(t, &p);
        } else if (i % 4 == 1) {
            p = udp(ts + 100, dns, 53, cl, 33333); /* reply-looking: no attempt */
            pw_attempts_packet(t, &p);
        }
        if ((i & 1023) == 0) {
            pw_attempts_stats st;
            pw_attempts_get_stats(t, &st);
            if (st.open > peak_open_seen)
                peak_open_seen = st.open;
        }
    }
    pw_attempts_stats st;
    pw_attempts_get_stats(t, &st);
    printf("bounded: peak_open %llu peak_flows %llu peak_hosts %llu (of %d attempts)\n",
           (unsigned long long)st.peak_open, (unsigned long long)st.peak_flows,
           (unsigned long long)st.peak_hosts, N);
    /* ~10 s of attempts in flight (pending or lingering): 10,000 */
    CHECK(st.peak_open <= 12000);
    CHECK(st.peak_flows <= 20000);
    CHECK(st.peak_hosts <= 30000);
    CHECK(peak_open_seen >= 9000);
    CHECK_INT(st.evicted, 0);
    CHECK(big_total >= (uint64_t)N - 12000);
    pw_attempts_flush(t, T0 + (pw_usec)N * MS + 60 * SEC);
    pw_attempts_get_stats(t, &st);
    CHECK_INT(big_total, N);
    CHECK_INT(st.attempts, N);
    CHECK_INT(st.open, 0);
    CHECK_INT(st.flows, 0);
    CHECK_INT(big_count[PW_OUT_ANSWERED], N / 2);
    CHECK_INT(big_reason[PW_R_SYN_ACK], N / 2);
    CHECK_INT(big_count[PW_OUT_UNANSWERED], N / 4);
    CHECK_INT(big_reason[PW_R_ONE_SIDED], N / 4);
    CHECK_INT(big_retries, 0);
    pw_attempts_free(t);
}

/* A small cap under a long stream: every attempt still retired exactly
 * once, nothing above the caps. */
static void test_cap_stress(void)
{
    memset(big_count, 0, sizeof big_count);
    memset(big_reason, 0, sizeof big_reason);
    big_total = big_retries = 0;
    pw_attempts_opts o = {.max_open = 1000};
    pw_attempts *t = pw_attempts_new(&o, count_cb, NULL);
    const int N = 200000;
    pw_addr srv = v4(10, 200, 0, 1);
    for (int i = 0; i < N; i++) {
        pw_addr cl = v4(10, 2, (i >> 8) & 255, i & 255);
        uint16_t cp = (uint16_t)(1024 + i % 50000);
        pw_usec ts = T0 + (pw_usec)i * 100; /* 10,000 attempts per second */
        pw_pkt p = tcp(ts, cl, cp, srv, 443, SYN, (uint32_t)i, 0);
        pw_attempts_packet(t, &p);
        if (i % 3 == 0) {
            p = tcp(ts + 50, srv, 443, cl, cp, RST | ACK, 0, (uint32_t)i + 1);
            pw_attempts_packet(t, &p);
        }
    }
    pw_attempts_stats st;
    pw_attempts_get_stats(t, &st);
    CHECK_INT(st.peak_flows, 1000);
    CHECK(st.peak_hosts <= 2 * 1000 + 1024);
    CHECK(st.evicted > 190000);
    pw_attempts_flush(t, T0 + (pw_usec)N * 100 + 60 * SEC);
    pw_attempts_get_stats(t, &st);
    CHECK_INT(big_total, N);
    CHECK_INT(st.attempts, N);
    CHECK_INT(st.open, 0);
    CHECK_INT(st.flows, 0);
    CHECK_INT(big_count[PW_OUT_REFUSED], (N + 2) / 3);
    CHECK_INT(big_count[PW_OUT_INDETERMINATE], N - (N + 2) / 3);
    pw_attempts_free(t);
}

/* ---- benchmark (opt-in) ---- */

static uint64_t bench_sink;
static void bench_cb(void *arg, const pw_attempt *a)
{
    (void)arg;
    bench_sink += a->outcome;
}

/* Packet k of a synthetic mix: 50,000 concurrent flows of 20 packets each,
 * interleaved; 5% UDP request/response, 5% unanswered SYN retries, the
 * rest TCP handshake + data + FIN.  2 Mpps of packet time. */
static uint64_t CONC = 50000;

static void bench_gen(uint64_t k, pw_pkt *p)
{
    uint64_t slot = k % CONC, round = k / CONC;
    uint64_t flowid = slot + (round / 20) * CONC;
    unsigned n = (unsigned)(round % 20);
    uint32_t h = (uint32_t)(flowid * 2654435761u);
    pw_addr cl = v4(10, (h >> 8) & 15, (h >> 16) & 255, h >> 24);
    pw_addr sv = v4(172, 16, 0, h % 100);
    uint16_t cp = (uint16_t)(1024 + (flowid % 60000)), sp = (uint16_t)(h % 7 == 0 ? 445 : 443);
    memset(p, 0, sizeof *p);
    p->frame = k + 1;
    p->ts = T0 + (pw_usec)(k / 2);
    p->wire_len = 100;
    unsigned kind = flowid % 20;
    bool back = (n & 1) != 0;
    p->src = back ? sv : cl;
    p->dst = back ? cl : sv;
    if (kind == 0) {
        p->proto = PW_IPPROTO_UDP;
        p->sport = back ? 53 : cp;
        p->dport = back ? cp : 53;
        return;
    }
    p->proto = PW_IPPROTO_TCP;
    p->sport = back ? sp : cp;
    p->dport = back ? cp : sp;
    if (kind == 1) { /* SYN only, retransmitted */
        p->src = cl;
        p->dst = sv;
        p->sport = cp;
        p->dport = sp;
        p->tcp_flags = PW_TH_SYN;
        p->seq = h;
        return;
    }
    if (n == 0) {
        p->tcp_flags = PW_TH_SYN;
        p->seq = h;
    } else if (n == 1) {
        p->tcp_flags = PW_TH_SYN | PW_TH_ACK;
        p->seq = 5;
        p->ack = h + 1;
    } else {
        p->tcp_flags = PW_TH_ACK | (n == 19 ? PW_TH_FIN : PW_TH_PSH);
        p->seq = back ? 6 : h + 1;
        p->ack = back ? h + 1 : 6;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the box is shared */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench(uint64_t n)
{
    pw_pkt p;
    double t0 = now_s();
    uint64_t x = 0;
    for (uint64_t k = 0; k < n; k++) {
        bench_gen(k, &p);
        x += p.sport;
    }
    double gen = now_s() - t0;
    pw_attempts_opts o = {.max_open = 0};
    pw_attempts *t = pw_attempts_new(&o, bench_cb, NULL);
    t0 = now_s();
    for (uint64_t k = 0; k < n; k++) {
        bench_gen(k, &p);
        pw_attempts_packet(t, &p);
    }
    pw_attempts_flush(t, p.ts);
    double total = now_s() - t0;
    pw_attempts_stats st;
    pw_attempts_get_stats(t, &st);
    printf("bench: %llu concurrent flows, %llu packets, generator %.1f ns/pkt, generator+tracker %.1f ns/pkt, "
           "tracker %.1f ns/pkt (%.2f Mpps); attempts %llu peak_open %llu peak_flows %llu "
           "peak_hosts %llu (%llu)\n",
           (unsigned long long)CONC, (unsigned long long)n, gen * 1e9 / (double)n, total * 1e9 / (double)n,
           (total - gen) * 1e9 / (double)n, (double)n / (total - gen) / 1e6,
           (unsigned long long)st.attempts, (unsigned long long)st.peak_open,
           (unsigned long long)st.peak_flows, (unsigned long long)st.peak_hosts,
           (unsigned long long)(x + bench_sink) % 7);
    pw_attempts_free(t);
}

int main(void)
{
    test_answered();
    test_retries();
    test_duplicate_copy();
    test_rst();
    test_icmp_v4();
    test_icmp_v6();
    test_icmp_unmatched();
    test_unanswered_return_traffic();
    test_one_sided();
    test_capture_ended();
    test_udp_retry_chain();
    test_udp_replies();
    test_responder();
    test_inferred();
    test_midstream();
    test_new_isn();
    test_ipv6_tcp();
    test_set_app();
    test_udp();
    test_udp_skipped();
    test_eviction();
    test_bounded_memory();
    test_cap_stress();
    const char *b = getenv("PW_ATTEMPTS_BENCH");
    const char *conc = getenv("PW_ATTEMPTS_BENCH_CONC");
    if (conc && atoll(conc) > 0)
        CONC = (uint64_t)atoll(conc);
    if (b && atoll(b) > 0)
        bench((uint64_t)atoll(b));
    CHECK_DONE();
}
