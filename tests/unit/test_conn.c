/* test_conn.c - the connection record and its one removal hook
 * (analysis/conn.c under analysis/attempts.c): a module's slot hung on the
 * record by an event before the attempt, or after it was decided, reaches
 * the hook exactly once with the attempt; a reused 4-tuple removes the old
 * connection first; eviction at the cap, a close and the end of the input
 * each run the hook once (the end in deadline order, taking nothing after
 * it); the table's own pieces (find in both orientations, recycle,
 * deadlines) on their own. */
#include <stdlib.h>
#include <string.h>

#include "../../analysis/attempts.h"
#include "check.h"

#define T0 (1700000000LL * PW_USEC_PER_SEC)
#define MS 1000LL
#define SEC PW_USEC_PER_SEC

/* What the removal hook saw. */
#define MAXSEEN 16
static struct seen {
    bool has_attempt, attempt_done, had_slot;
    pw_outcome outcome;
    pw_reason reason;
    uint16_t port, client_port;
    uint64_t frame_request;
} seen[MAXSEEN];
static int nseen, ndecided;
static int slot_marker; /* the "module state" a test hangs on a record */

static void removed(void *arg, pw_conn *c)
{
    (void)arg;
    if (nseen < MAXSEEN)
        seen[nseen] = (struct seen){c->has_attempt, c->attempt_done, c->policy == (void *)&slot_marker,
                                    c->a.outcome, c->a.reason, c->a.port, c->a.client_port,
                                    c->a.frame_request};
    nseen++;
    c->policy = NULL; /* a module frees its slot here */
}

static void decided(void *arg, const pw_attempt *a)
{
    (void)arg, (void)a;
    ndecided++;
}

static pw_attempts *fresh(uint32_t max_open)
{
    nseen = ndecided = 0;
    memset(seen, 0, sizeof seen);
    pw_attempts_opts o = {.max_open = max_open, .removed = removed, .removed_arg = NULL};
    return pw_attempts_new(&o, decided, NULL);
}

static pw_addr v4(int a, int b, int c, int d)
{
    uint8_t x[4] = {(uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d};
    pw_addr r;
    pw_addr_v4(&r, x);
    return r;
}

static uint64_t frame_no;

static void feed(pw_attempts *t, pw_usec ts, pw_addr s, uint16_t sp, pw_addr d, uint16_t dp, uint8_t proto,
                 uint8_t flags, uint32_t seq, uint32_t ack)
{
    pw_pkt p;
    memset(&p, 0, sizeof p);
    p.frame = ++frame_no;
    p.ts = ts;
    p.src = s;
    p.dst = d;
    p.proto = proto;
    p.sport = sp;
    p.dport = dp;
    p.tcp_flags = flags;
    p.seq = seq;
    p.ack = ack;
    pw_attempts_packet(t, &p);
}

/* A module learns something on the flow (a dissector event): its slot. */
static void hang_slot(pw_attempts *t, uint8_t proto, pw_addr c, uint16_t cp, pw_addr s, uint16_t sp,
                      pw_usec ts)
{
    pw_conn *rec = pw_attempts_conn(t, proto, &c, cp, &s, sp, ts);
    CHECK(rec != NULL);
    if (rec)
        rec->policy = (void *)&slot_marker;
}

static const pw_addr *C1(void)
{
    static pw_addr a;
    a = v4(10, 0, 0, 1);
    return &a;
}

static void test_udp_event_before_attempt(void)
{
    pw_attempts *t = fresh(0);
    pw_addr c = *C1(), s = v4(10, 0, 0, 53);
    frame_no = 0;
    /* the event comes first: a tracking-only record holds the slot */
    hang_slot(t, PW_IPPROTO_UDP, c, 40000, s, 53, T0);
    feed(t, T0 + MS, c, 40000, s, 53, PW_IPPROTO_UDP, 0, 0, 0);  /* the request starts the attempt */
    feed(t, T0 + 2 * MS, s, 53, c, 40000, PW_IPPROTO_UDP, 0, 0, 0);
    CHECK_INT(nseen, 0);
    pw_attempts_flush(t, T0 + 60 * SEC);
    CHECK_INT(nseen, 1);
    CHECK_INT(ndecided, 1);
    CHECK(seen[0].has_attempt && seen[0].attempt_done && seen[0].had_slot);
    CHECK_INT(seen[0].outcome, PW_OUT_ANSWERED);
    CHECK_INT(seen[0].reason, PW_R_UDP_REPLY);
    CHECK_INT(seen[0].frame_request, 1);
    pw_attempts_free(t);
}

static void test_tcp_event_after_decision(void)
{
    pw_attempts *t = fresh(0);
    pw_addr c = *C1(), s = v4(10, 0, 0, 135);
    frame_no = 0;
    feed(t, T0, c, 50000, s, 135, PW_IPPROTO_TCP, PW_TH_SYN, 1000, 0);
    feed(t, T0 + MS, s, 135, c, 50000, PW_IPPROTO_TCP, PW_TH_SYN | PW_TH_ACK, 7000, 1001);
    /* the attempt is decided; a dissector event arrives afterwards, from the server's side */
    hang_slot(t, PW_IPPROTO_TCP, s, 135, c, 50000, T0 + 5 * SEC);
    feed(t, T0 + 6 * SEC, c, 50000, s, 135, PW_IPPROTO_TCP, PW_TH_ACK, 1001, 7001);
    CHECK_INT(nseen, 0);
    /* a reset closes it: the record goes a 1 s grace later, not a whole timeout */
    feed(t, T0 + 7 * SEC, c, 50000, s, 135, PW_IPPROTO_TCP, PW_TH_RST | PW_TH_ACK, 1001, 7001);
    feed(t, T0 + 8 * SEC + 1, v4(192, 0, 2, 1), 1, v4(192, 0, 2, 2), 2, PW_IPPROTO_UDP, 0, 0, 0);
    CHECK_INT(nseen, 1);
    CHECK(seen[0].had_slot && seen[0].attempt_done);
    CHECK_INT(seen[0].outcome, PW_OUT_ANSWERED);
    CHECK_INT(seen[0].port, 135);
    pw_attempts_flush(t, T0 + 60 * SEC);
    CHECK_INT(ndecided, 2); /* and the stray UDP datagram's attempt */
    pw_attempts_free(t);
}

static void test_reused_tuple(void)
{
    pw_attempts *t = fresh(0);
    pw_addr c = *C1(), s = v4(10, 0, 0, 3389);
    frame_no = 0;
    feed(t, T0, c, 50001, s, 3389, PW_IPPROTO_TCP, PW_TH_SYN, 1000, 0);
    feed(t, T0 + MS, s, 3389, c, 50001, PW_IPPROTO_TCP, PW_TH_SYN | PW_TH_ACK, 7000, 1001);
    hang_slot(t, PW_IPPROTO_TCP, c, 50001, s, 3389, T0 + 2 * MS);
    /* a new connection on the same 4-tuple (new ISN): the old one is removed first */
    feed(t, T0 + 3 * SEC, c, 50001, s, 3389, PW_IPPROTO_TCP, PW_TH_SYN, 9000, 0);
    CHECK_INT(nseen, 1);
    CHECK(seen[0].had_slot && seen[0].attempt_done);
    CHECK_INT(seen[0].frame_request, 1);
    CHECK_INT(seen[0].outcome, PW_OUT_ANSWERED);
    pw_attempts_flush(t, T0 + 4 * SEC);
    CHECK_INT(nseen, 2);
    CHECK(!seen[1].had_slot && seen[1].attempt_done);
    CHECK_INT(seen[1].frame_request, 3);
    CHECK_INT(seen[1].outcome, PW_OUT_INDETERMINATE);
    CHECK_INT(seen[1].reason, PW_R_CAPTURE_ENDED);
    pw_attempts_free(t);
}

static void test_eviction_and_event_only(void)
{
    pw_attempts *t = fresh(2);
    pw_addr c = *C1();
    frame_no = 0;
    for (int i = 0; i < 3; i++)
        feed(t, T0 + i * MS, c, (uint16_t)(41000 + i), v4(10, 1, 0, i + 1), 445, PW_IPPROTO_TCP, PW_TH_SYN, 1, 0);
    /* the cap is two records: the earliest deadline went, with its attempt cut short */
    CHECK_INT(nseen, 1);
    CHECK_INT(seen[0].client_port, 41000);
    CHECK_INT(seen[0].outcome, PW_OUT_INDETERMINATE);
    CHECK_INT(seen[0].reason, PW_R_CAPTURE_ENDED);
    pw_attempts_stats st;
    pw_attempts_get_stats(t, &st);
    CHECK_INT(st.evicted, 1);
    /* an event on a flow the core does not track makes a record without an attempt */
    hang_slot(t, PW_IPPROTO_TCP, v4(10, 2, 0, 1), 42000, v4(10, 2, 0, 2), 389, T0 + 4 * MS);
    CHECK_INT(nseen, 2); /* made room: another eviction */
    pw_attempts_get_stats(t, &st);
    CHECK_INT(st.event_only, 1);
    /* multicast and broadcast flows are no connections */
    pw_addr m = v4(224, 0, 0, 251);
    CHECK(pw_attempts_conn(t, PW_IPPROTO_UDP, &c, 5353, &m, 5353, T0) == NULL);
    pw_attempts_flush(t, T0 + SEC);
    CHECK_INT(nseen, 4);
    CHECK(!seen[3].has_attempt && seen[3].had_slot); /* the event-only record, last deadline */
    CHECK_INT(ndecided, 3);
    pw_attempts_free(t);
}

/* The table on its own: both orientations find the record; recycle runs the
 * hook and keeps the record; removal frees it. */
static void test_table(void)
{
    nseen = 0;
    pw_conns *t = pw_conns_new(4, 10 * SEC, removed, NULL);
    pw_addr a = v4(10, 3, 0, 1), b = v4(10, 3, 0, 2);
    pw_conn *c = pw_conn_new(t, PW_IPPROTO_TCP, &a, 1234, &b, 80, T0, T0 + SEC);
    bool fwd;
    CHECK(pw_conn_find(t, PW_IPPROTO_TCP, &a, 1234, &b, 80, &fwd) == c && fwd);
    CHECK(pw_conn_find(t, PW_IPPROTO_TCP, &b, 80, &a, 1234, &fwd) == c && !fwd);
    CHECK(pw_conn_find(t, PW_IPPROTO_UDP, &a, 1234, &b, 80, &fwd) == NULL);
    CHECK(pw_conns_due(t, T0 + SEC, false) == NULL);
    CHECK(pw_conns_due(t, T0 + SEC, true) == c);
    pw_conn_extend(t, c, T0 + 2 * SEC);
    CHECK(pw_conns_due(t, T0 + SEC, true) == NULL);
    c->policy = (void *)&slot_marker;
    pw_conn_recycle(t, c);
    CHECK_INT(nseen, 1);
    CHECK(c->policy == NULL);
    CHECK_INT(pw_conns_count(t), 1);
    pw_conn_remove(t, c);
    CHECK_INT(nseen, 2);
    CHECK_INT(pw_conns_count(t), 0);
    CHECK(pw_conn_find(t, PW_IPPROTO_TCP, &a, 1234, &b, 80, &fwd) == NULL); /* not the one found last */
    pw_conn *again = pw_conn_new(t, PW_IPPROTO_TCP, &b, 80, &a, 1234, T0, T0 + SEC); /* the other way */
    CHECK(pw_conn_find(t, PW_IPPROTO_TCP, &a, 1234, &b, 80, &fwd) == again && !fwd);
    CHECK(pw_conn_find(t, PW_IPPROTO_TCP, &b, 80, &a, 1234, &fwd) == again && fwd);
    pw_conn_remove(t, again);
    for (int i = 0; i < 4; i++)
        pw_conn_new(t, PW_IPPROTO_UDP, &a, (uint16_t)(2000 + i), &b, 53, T0, T0 + i);
    CHECK(pw_conns_full(t));
    CHECK_INT(pw_conns_earliest(t)->a.client_port, 2000);
    pw_conns_free(t); /* removes the rest through the hook */
    CHECK_INT(nseen, 7);
}

/* The open-addressing indexes under churn: thousands of records made and
 * removed in random order (deletion shifts entries back, growth rehashes),
 * every live one still found in both orientations, every removed one gone,
 * and the deadline heap still giving the earliest.  A plain array is the
 * reference. */
static void test_index_churn(void)
{
    enum { N = 3000, LIVE = 700 };
    static pw_conn *live[N];
    static uint16_t port_of[N];
    static pw_usec deadline_of[N];
    nseen = 0;
    pw_conns *t = pw_conns_new(LIVE, 10 * SEC, removed, NULL);
    pw_addr srv = v4(10, 4, 0, 1);
    uint32_t rng = 12345, n_live = 0, made = 0;
    for (int step = 0; step < 20000; step++) {
        rng = rng * 1103515245u + 12345u;
        bool make = n_live < LIVE && (n_live == 0 || (rng >> 16) % 3 != 0) && made < N;
        if (make) {
            pw_addr cli = v4(10, 5, (uint8_t)(made >> 8), (uint8_t)made);
            port_of[n_live] = (uint16_t)(1024 + made % 7); /* clients share ports */
            deadline_of[n_live] = T0 + (pw_usec)((rng >> 8) % 100000);
            live[n_live] = pw_conn_new(t, PW_IPPROTO_TCP, &cli, port_of[n_live], &srv, 445, T0,
                                       deadline_of[n_live]);
            n_live++;
            made++;
        } else if (n_live) {
            uint32_t k = (rng >> 16) % n_live;
            pw_addr cli = live[k]->a.client;
            uint16_t cp = live[k]->a.client_port;
            pw_conn_remove(t, live[k]);
            bool fwd;
            CHECK(pw_conn_find(t, PW_IPPROTO_TCP, &cli, cp, &srv, 445, &fwd) == NULL);
            n_live--;
            live[k] = live[n_live];
            port_of[k] = port_of[n_live];
            deadline_of[k] = deadline_of[n_live];
        }
        if (made == N && n_live == 0)
            break;
    }
    bool all_found = true;
    pw_usec earliest = INT64_MAX;
    for (uint32_t k = 0; k < n_live; k++) {
        bool fwd = false;
        pw_conn *c = pw_conn_find(t, PW_IPPROTO_TCP, &srv, 445, &live[k]->a.client, port_of[k], &fwd);
        all_found = all_found && c == live[k] && !fwd;
        if (deadline_of[k] < earliest)
            earliest = deadline_of[k];
    }
    CHECK(all_found);
    CHECK_INT(pw_conns_count(t), n_live);
    CHECK(n_live == 0 || pw_conns_earliest(t)->deadline == earliest);
    pw_conns_free(t);
    CHECK_INT(nseen, made);
}

/* The end of the input: every record still open goes through the hook
 * once, earliest deadline first, from a table that is then closed; what
 * comes after the flush is not taken. */
static void test_end_of_input(void)
{
    pw_attempts *t = fresh(0);
    pw_addr c = *C1(), s = v4(10, 0, 0, 80);
    frame_no = 0;
    /* pending SYNs, answered connections and a UDP request, deadlines apart */
    feed(t, T0 + 3 * MS, c, 40003, s, 83, PW_IPPROTO_TCP, PW_TH_SYN, 1000, 0);
    feed(t, T0 + 4 * MS, c, 40001, s, 81, PW_IPPROTO_TCP, PW_TH_SYN, 1000, 0);
    feed(t, T0 + 5 * MS, s, 81, c, 40001, PW_IPPROTO_TCP, PW_TH_SYN | PW_TH_ACK, 5000, 1001);
    feed(t, T0 + 6 * MS, c, 40002, s, 53, PW_IPPROTO_UDP, 0, 0, 0);
    feed(t, T0 + 7 * MS, c, 40004, s, 84, PW_IPPROTO_TCP, PW_TH_SYN, 1000, 0);
    hang_slot(t, PW_IPPROTO_TCP, c, 40004, s, 84, T0 + 8 * MS);
    CHECK_INT(nseen, 0);
    pw_attempts_flush(t, T0 + 2 * SEC);
    /* deadlines: 83 and 84 a TCP timeout after their SYN, 81 one after its
     * SYN-ACK, 53 a UDP timeout after its request */
    CHECK_INT(nseen, 4);
    CHECK_INT(seen[0].port, 53);
    CHECK_INT(seen[1].port, 83);
    CHECK_INT(seen[2].port, 81);
    CHECK_INT(seen[3].port, 84);
    CHECK(seen[3].had_slot && seen[3].attempt_done);
    CHECK_INT(seen[1].outcome, PW_OUT_INDETERMINATE);
    CHECK_INT(seen[1].reason, PW_R_CAPTURE_ENDED);
    CHECK_INT(seen[2].outcome, PW_OUT_ANSWERED);
    CHECK_INT(ndecided, 4);
    pw_attempts_stats before;
    pw_attempts_get_stats(t, &before);
    /* after the end: no record, no attempt, no hook */
    feed(t, T0 + 3 * SEC, c, 40005, s, 85, PW_IPPROTO_TCP, PW_TH_SYN, 1000, 0);
    feed(t, T0 + 3 * SEC + MS, c, 40006, s, 53, PW_IPPROTO_UDP, 0, 0, 0);
    CHECK(pw_attempts_conn(t, PW_IPPROTO_TCP, &c, 40007, &s, 87, T0 + 3 * SEC) == NULL);
    pw_attempt m;
    memset(&m, 0, sizeof m);
    m.proto = PW_IPPROTO_TCP;
    m.client = c;
    m.client_port = 40001;
    m.server = s;
    m.port = 81;
    pw_attempts_midstream(t, &m);
    pw_attempts_stats after;
    pw_attempts_get_stats(t, &after);
    CHECK_INT(after.attempts, before.attempts);
    CHECK_INT(after.flows, 0);
    CHECK_INT(after.hosts, before.hosts);
    pw_attempts_free(t);
    CHECK_INT(nseen, 4);
    CHECK_INT(ndecided, 4);
}

int main(void)
{
    test_udp_event_before_attempt();
    test_tcp_event_after_decision();
    test_reused_tuple();
    test_eviction_and_event_only();
    test_table();
    test_index_churn();
    test_end_of_input();
    CHECK_DONE();
}
