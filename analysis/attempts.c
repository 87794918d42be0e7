/* attempts.c - attempt tracking in packet time (the passive reachability core).
 *
 * Rules (all in packet time; the clock is the largest pkt->ts seen):
 *
 * TCP
 *   - A SYN without ACK (and without RST) from C:cp to S:sp with nothing
 *     tracked on that 4-tuple starts an attempt.  Key: proto + both addresses
 *     + both ports (not the VLAN, not the input).
 *   - The same SYN again while pending is a retransmission (retries++,
 *     last_request_ts = its time), except an identical copy (same ISN) within
 *     1 ms of the last request, which is a span port duplicate.  A SYN with a
 *     different ISN while pending is counted as a retry too (the latest ISN is
 *     remembered for the inferred rule); after the attempt was decided it
 *     starts a new attempt.
 *   - SYN-ACK from S -> answered/syn-ack; RST from S -> refused/rst.
 *   - Client ACK (no SYN) with seq == ISN+1, or a server non-SYN packet with
 *     ACK set and ack == ISN+1 -> answered/inferred.
 *   - Anything else with no tracked flow is a connection first seen
 *     mid-stream: counted once per flow (stats.midstream), not an attempt
 *     until the server side is seen sending payload (pw_attempts_midstream:
 *     the pipeline decides which side is the server): then it is an attempt
 *     answered/midstream.  A one-way mid-stream flow stays out of outcomes.
 * UDP
 *   - A datagram C:cp -> S:sp with nothing tracked on the 4-tuple starts an
 *     attempt, unless
 *       . S is multicast/broadcast (then C:cp is remembered as a group
 *         querier for 2 x the UDP timeout, unless the datagram is itself a
 *         response),
 *       . it is a response by its protocol (pkt->dgram_kind, set by the
 *         pipeline from the bytes: the DNS/NBNS/mDNS/LLMNR response bit, an
 *         HTTP/SSDP status line, an SQL Browser SVR_RESP),
 *       . it goes to a remembered group querier's C:cp and is not a request
 *         by its protocol (the unicast answers to a broadcast/multicast query),
 *       . or it looks like a reply whose request was not captured
 *         (sport < 1024, dport >= 1024).
 *   - Repeats from C while pending are retries (same 1 ms duplicate rule;
 *     a response from C is not a repeat); any datagram back from S:sp ->
 *     answered/udp-reply.
 *   - On a record a dissector event made (no attempt yet), a request by its
 *     protocol from either side starts the attempt (its sender is the
 *     client); otherwise the record's client starts it unless the datagram
 *     is a response or reply-shaped by ports.
 * ICMP/ICMPv6 errors (v4 types 3, 11, 12; v6 types 1, 3, 4) whose quoted
 *   header is the client's packet of a pending attempt decide it:
 *   port-unreachable from the server itself -> refused, anything else ->
 *   blocked (reason by code); icmp_from/type/code/frame_reply recorded.
 *   Echo, redirect, source quench and packet-too-big are not verdicts.
 * Deadline = last_request_ts + timeout (so SYN retries with growing gaps stay
 *   one attempt).  At the deadline: unanswered/timeout if the capture shows any
 *   packet toward the client's address in [first request - timeout, deadline],
 *   else indeterminate/one-sided.  pw_attempts_flush(end) retires attempts
 *   whose deadline is after `end`:
 *     - unanswered/retransmitted when the client's own retransmission timer
 *       fired and nothing came back, on a two-sided capture (a packet toward
 *       the client since first request - timeout): a TCP SYN (or UDP
 *       request) repeated at least once, RETRY_MIN_GAP (200 ms) or more after
 *       the first; or a UDP request that repeats the same client's unanswered
 *       request to the same server and port from another source port (or
 *       after its record went), 200 ms to 2 x the UDP timeout after it
 *       (frame_retry_of), or is repeated that way itself, with nothing on
 *       that server port answering since (any reply or ICMP error counts);
 *     - else indeterminate/capture-ended.
 *   Eviction at the cap is not the end: a pending attempt evicted stays
 *   indeterminate/capture-ended.
 * Who refused (refused and blocked only), judged when the attempt is handed
 *   on (so the server's packets up to its linger count): the server's own
 *   packets -- what it sends as the server side of any tracked connection
 *   (SYN-ACKs, data and ACKs on other ports, UDP replies), never RSTs or ICMP
 *   errors, which a device in the path forges in the host's name -- are
 *   remembered per address: count, TTL range, last IP ID and frame.  An ICMP error from a third address -> responder "path".  Else no
 *   own packet -> "unknown"; the RST's / ICMP error's TTL inside the host's
 *   TTL range -> "host", outside -> "path" (a nearer device, or another
 *   initial TTL).  The refusing packet's TTL, IP ID and TCP window are kept
 *   beside the host's as evidence.
 *
 * Lifecycle of a connection record (conn.h): PENDING -> (decision) DECIDED,
 * lingering `timeout` after the decision so dissectors can set `app` ->
 * attempt handed on (the `decided` callback, exactly once: the jsonl stream)
 * -> TRACK while the flow is active (idle timeout), so that later packets of
 * the same connection / UDP flow neither start new attempts nor count as
 * mid-stream (an answered connection reset, or closed by FIN from both
 * sides, lingers only CLOSE_GRACE after the close) -> removed (the table's
 * removal hook, exactly once: services,
 * NNR and policy finish there).  Unanswered TCP attempts keep the record for
 * one more timeout so a late same-ISN retransmission is not a new attempt
 * (an unanswered UDP attempt is removed at once).  Mid-stream TCP flows, and
 * flows a dissector reports on that the core does not track (pw_attempts_conn),
 * get a TRACK record without an attempt.  A new SYN on a record whose attempt
 * was decided removes the old connection (hook) and starts a new one in the
 * same slot.
 *
 * Memory: max_open caps the records; when full, the record with the earliest
 * deadline goes early (a pending attempt as indeterminate/capture-ended,
 * counted in stats.evicted).  Storage, hashing, the deadline queue and the
 * destination-address table (the one-sided rule's "last packet toward the
 * client") are conn.c's.  The facts kept beyond one record (group queriers,
 * the UDP retry chain per client/server/port, each address's own packets) are
 * in fixed-size memo.h tables (1024/4096/4096 sets of 4 entries); a live entry
 * pushed out is counted in stats.memo_replaced. */
#include "attempts.h"
#include "../common/xalloc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "memo.h"

#define DUP_WINDOW 1000 /* us: identical copies closer than this are span duplicates */
/* An answered connection that was reset, or closed both ways, carries no
 * more payload for dissectors: its record goes this long after the close
 * instead of lingering a whole timeout (short flows would otherwise fill the
 * table).  Long enough for the close's own retransmissions. */
#define CLOSE_GRACE (1 * PW_USEC_PER_SEC)
/* A retransmission is the client's timer firing: closer than this to the
 * request it repeats, it is an application sending twice, not a retry
 * (the shortest TCP RTO is 200 ms; resolvers wait about a second). */
#define RETRY_MIN_GAP (200 * 1000)
/* Bounded memories (memo.h): sets of 4 entries each. */
#define GROUP_SETS 1024   /* client ports that sent a broadcast/multicast query */
#define CHAIN_SETS 4096   /* last request per client, server and UDP port */
#define HOST_SETS 4096    /* each address's own packets: TTLs and IP ID */

enum { ST_FREE = 0, ST_PENDING, ST_DECIDED, ST_TRACK };

/* pw_conn.mid: what a record without an attempt has seen of a flow caught
 * mid-stream.  It becomes an answered attempt once the server side sent
 * payload and the client side was seen too (one-way flows prove nothing). */
enum { MID_FROM_CLIENT = 1, MID_FROM_SERVER = 2, MID_SERVER_SPOKE = 4 };

struct pw_attempts {
    pw_attempts_opts o;
    pw_attempt_retire_fn decided;
    void *arg;
    pw_conns *conns;
    pw_usec clock;
    bool have_clock;
    bool ended;             /* flushed: the input is over, nothing more is taken */
    pw_attempts_stats st;
    pw_memo *group_queries; /* key: querier address + port; value: last query time */
    pw_memo *chains;        /* key: client + server + port (UDP); value: chain */
    pw_memo *hosts;         /* key: address; value: host_seen */
};

/* The last UDP request from a client to a server port, whatever its source
 * port, and the last time anything on that server port answered it. */
typedef struct chain {
    pw_usec last_request_ts, last_answer_ts;
    uint64_t frame;
} chain;

/* What an address's own packets (never its RSTs or ICMP errors, which a
 * device in the path may forge in its name) look like at the capture point. */
typedef struct host_seen {
    uint32_t packets;
    uint8_t ttl_min, ttl_max;
    bool has_ip_id;
    uint16_t ip_id;
    uint64_t frame;
} host_seen;


static inline pw_usec timeout_of(const pw_attempts *t, uint8_t proto)
{
    return proto == PW_IPPROTO_TCP ? t->o.tcp_timeout : t->o.udp_timeout;
}

/* ---- bounded memories --------------------------------------------------------- */

/* Keys are packed bytes (no struct padding in a hash key). */
static size_t key_addr(uint8_t *k, size_t at, const pw_addr *a)
{
    k[at] = a->family;
    memcpy(k + at + 1, a->b, sizeof a->b);
    return at + 1 + sizeof a->b;
}

/* A host's key is its address as it lies in the packet or the attempt: the
 * same bytes key_addr() writes, read in place (hashing a key just written
 * byte by byte waits for the writes). */
_Static_assert(sizeof(pw_addr) == 17 && offsetof(pw_addr, b) == 1, "pw_addr is key_addr()'s bytes");
#define HOST_KEY(a) (const void *)(a), sizeof(pw_addr)

static size_t key_port(uint8_t *k, size_t at, uint16_t port)
{
    k[at] = (uint8_t)(port >> 8);
    k[at + 1] = (uint8_t)port;
    return at + 2;
}

static pw_usec group_window(const pw_attempts *t) { return 2 * t->o.udp_timeout; }
static pw_usec chain_window(const pw_attempts *t) { return 2 * t->o.udp_timeout; }
static pw_usec host_window(const pw_attempts *t) { return t->o.tcp_timeout + t->o.udp_timeout; }

/* A broadcast or multicast query from src:sport: the unicast answers to
 * that port (NBNS, mDNS, LLMNR, SSDP, SQL Browser) are not attempts. */
static void remember_group_query(pw_attempts *t, const pw_pkt *pkt)
{
    uint8_t k[PW_MEMO_KEY_MAX];
    size_t n = key_port(k, key_addr(k, 0, &pkt->src), pkt->sport);
    bool fresh;
    pw_usec *last = pw_memo_put(t->group_queries, k, n, pkt->ts, group_window(t), &fresh);
    if (last)
        *last = pkt->ts;
}

static bool answers_group_query(pw_attempts *t, const pw_pkt *pkt)
{
    uint8_t k[PW_MEMO_KEY_MAX];
    size_t n = key_port(k, key_addr(k, 0, &pkt->dst), pkt->dport);
    const pw_usec *last = pw_memo_get(t->group_queries, k, n);
    return last && pkt->ts >= *last && pkt->ts - *last <= group_window(t);
}

static size_t chain_key(uint8_t *k, const pw_attempt *a)
{
    return key_port(k, key_addr(k, key_addr(k, 0, &a->client), &a->server), a->port);
}

/* A UDP attempt starts: when the same client's previous request to this
 * server port (another source port, or the same one after its record went)
 * is unanswered and came a retry interval earlier, this one repeats it. */
static void chain_request(pw_attempts *t, pw_attempt *a)
{
    uint8_t k[PW_MEMO_KEY_MAX];
    size_t n = chain_key(k, a);
    bool fresh;
    chain *ch = pw_memo_put(t->chains, k, n, a->ts, chain_window(t), &fresh);
    if (!ch)
        return;
    if (!fresh && ch->last_answer_ts < ch->last_request_ts && a->ts - ch->last_request_ts >= RETRY_MIN_GAP &&
        a->ts - ch->last_request_ts <= chain_window(t)) {
        a->frame_retry_of = ch->frame;
        a->retry_of_ts = ch->last_request_ts;
    }
    ch->last_request_ts = a->ts;
    ch->frame = a->frame_request;
}

/* A repeat on the same 4-tuple moves the chain's last request on. */
static void chain_repeat(pw_attempts *t, const pw_attempt *a, pw_usec ts)
{
    uint8_t k[PW_MEMO_KEY_MAX];
    size_t n = chain_key(k, a);
    chain *ch = pw_memo_get(t->chains, k, n);
    if (ch && ch->frame == a->frame_request && ts > ch->last_request_ts)
        ch->last_request_ts = ts;
}

static void chain_answered(pw_attempts *t, const pw_attempt *a, pw_usec ts)
{
    uint8_t k[PW_MEMO_KEY_MAX];
    size_t n = chain_key(k, a);
    chain *ch = pw_memo_get(t->chains, k, n);
    if (ch && ts > ch->last_answer_ts)
        ch->last_answer_ts = ts;
}

/* At the end of the capture: did a later request (another source port)
 * repeat this pending UDP attempt, or did this one repeat an earlier one,
 * with no answer on that server port since? */
static bool chain_retried(pw_attempts *t, const pw_attempt *a)
{
    uint8_t k[PW_MEMO_KEY_MAX];
    size_t n = chain_key(k, a);
    const chain *ch = pw_memo_get(t->chains, k, n);
    if (!ch)
        return false;
    if (a->frame_retry_of && ch->last_answer_ts < a->retry_of_ts)
        return true;
    return ch->frame != a->frame_request && ch->last_answer_ts < a->ts &&
           ch->last_request_ts - a->ts >= RETRY_MIN_GAP && ch->last_request_ts - a->ts <= chain_window(t);
}

/* A packet the sender made itself: anything but a RST, which a firewall in
 * the path forges in the name of the host it protects (ICMP errors never get
 * here: they belong to no connection record). */
static bool own_packet(const pw_pkt *pkt)
{
    return pkt->proto == PW_IPPROTO_UDP || (pkt->proto == PW_IPPROTO_TCP && !(pkt->tcp_flags & PW_TH_RST));
}

static void remember_host(pw_attempts *t, const pw_pkt *pkt)
{
    if (!own_packet(pkt))
        return;
    bool fresh;
    host_seen *h = pw_memo_put(t->hosts, HOST_KEY(&pkt->src), pkt->ts, host_window(t), &fresh);
    if (!h)
        return;
    if (fresh || pkt->ttl < h->ttl_min)
        h->ttl_min = pkt->ttl;
    if (fresh || pkt->ttl > h->ttl_max)
        h->ttl_max = pkt->ttl;
    h->packets++;
    h->has_ip_id = pkt->has_ip_id;
    h->ip_id = pkt->ip_id;
    h->frame = pkt->frame;
}

/* Refused or blocked: compare the refusing packet (kept by decide()) with
 * the server's own packets seen so far.  An ICMP error from a third address
 * comes from the path by definition; otherwise the TTL decides: a packet
 * the host sent crosses the same hops as its other packets and arrives with
 * the same TTL, a device in the path is nearer (or starts from another
 * initial TTL).  IP ID and window are kept as evidence for the reader. */
static void judge_responder(pw_attempts *t, pw_attempt *a)
{
    const host_seen *h = pw_memo_get(t->hosts, HOST_KEY(&a->server));
    if (h && h->packets) {
        a->host_packets = h->packets;
        a->host_ttl_min = h->ttl_min;
        a->host_ttl_max = h->ttl_max;
        a->host_has_ip_id = h->has_ip_id;
        a->host_ip_id = h->ip_id;
        a->host_frame = h->frame;
    }
    if (a->has_icmp_from && !pw_addr_eq(&a->icmp_from, &a->server))
        a->responder = PW_RESPONDER_PATH;
    else if (!a->host_packets)
        a->responder = PW_RESPONDER_UNKNOWN;
    else if (a->resp_ttl >= a->host_ttl_min && a->resp_ttl <= a->host_ttl_max)
        a->responder = PW_RESPONDER_HOST;
    else
        a->responder = PW_RESPONDER_PATH;
}

/* ---- lifecycle ------------------------------------------------------------- */

/* Hands the attempt on (exactly once) and leaves the record in TRACK. */
static void retire_attempt(pw_attempts *t, pw_conn *c)
{
    t->st.attempts++;
    t->st.open--;
    c->state = ST_TRACK;
    c->has_isn = c->a.proto == PW_IPPROTO_TCP;
    c->attempt_done = true;
    if (c->a.outcome == PW_OUT_REFUSED || c->a.outcome == PW_OUT_BLOCKED)
        judge_responder(t, &c->a);
    if (t->decided)
        t->decided(t->arg, &c->a);
}

static void decide(pw_attempts *t, pw_conn *c, const pw_pkt *pkt, pw_outcome o, pw_reason r)
{
    c->a.outcome = o;
    c->a.reason = r;
    c->a.frame_reply = pkt->frame;
    c->a.reply_ts = pkt->ts;
    if (o == PW_OUT_REFUSED || o == PW_OUT_BLOCKED) {
        c->a.resp_ttl = pkt->ttl;
        c->a.resp_has_ip_id = pkt->has_ip_id;
        c->a.resp_ip_id = pkt->ip_id;
        c->a.resp_win = pkt->proto == PW_IPPROTO_TCP ? pkt->win : 0;
    }
    if (c->a.proto == PW_IPPROTO_UDP)
        chain_answered(t, &c->a, pkt->ts); /* any reply, ICMP too: not a silent server */
    c->state = ST_DECIDED;
    pw_conn_set_deadline(t->conns, c, pkt->ts + timeout_of(t, c->a.proto));
}

/* The client's own retransmission timer fired and nothing came back, on a
 * capture that shows traffic toward the client (two-sided). */
static bool retransmitted_unanswered(pw_attempts *t, const pw_conn *c)
{
    const pw_attempt *a = &c->a;
    pw_usec seen = pw_conn_client_last_seen(t->conns, c);
    if (seen == PW_USEC_NEVER || seen < a->ts - timeout_of(t, a->proto))
        return false; /* one-sided */
    if (a->retries > 0 && a->last_request_ts - a->ts >= RETRY_MIN_GAP)
        return true;
    return a->proto == PW_IPPROTO_UDP && chain_retried(t, a);
}

/* A record leaves early (at_end false: evicted at the cap) or at the end of
 * the input: a pending attempt is cut short. */
static void finish(pw_attempts *t, pw_conn *c, bool at_end)
{
    if (c->state == ST_PENDING) {
        bool retx = at_end && retransmitted_unanswered(t, c);
        c->a.outcome = retx ? PW_OUT_UNANSWERED : PW_OUT_INDETERMINATE;
        c->a.reason = retx ? PW_R_RETRANSMITTED : PW_R_CAPTURE_ENDED;
    }
    if (c->state == ST_PENDING || c->state == ST_DECIDED)
        retire_attempt(t, c);
    pw_conn_remove(t->conns, c);
}

/* The record with the earliest deadline goes early (max_open reached). */
static void evict_one(pw_attempts *t)
{
    pw_conn *c = pw_conns_earliest(t->conns);
    if (!c)
        return;
    if (c->state == ST_PENDING || c->state == ST_DECIDED)
        t->st.evicted++;
    else
        t->st.evicted_idle++;
    finish(t, c, false);
}

static pw_conn *conn_new(pw_attempts *t, uint8_t proto, const pw_addr *client, uint16_t cport,
                         const pw_addr *server, uint16_t sport, pw_usec ts)
{
    if (pw_conns_full(t->conns))
        evict_one(t);
    return pw_conn_new(t->conns, proto, client, cport, server, sport, ts, ts + timeout_of(t, proto));
}

/* (Re)starts an attempt in c from request pkt; fwd: pkt's source is c's
 * client side.  A decided attempt still on the record is removed first (a
 * new connection on the 4-tuple); what events taught a record that had no
 * attempt yet stays with it, unless the record turns round. */
static void start_attempt(pw_attempts *t, pw_conn *c, const pw_pkt *pkt, bool fwd)
{
    if (c->has_attempt || (!fwd && (c->nnr || c->policy || c->app)))
        pw_conn_recycle(t->conns, c);
    if (!fwd)
        pw_conn_reorient(c);
    pw_attempt *a = &c->a;
    memset(a, 0, sizeof *a);
    a->source = pkt->source;
    a->ts = pkt->ts;
    a->proto = pkt->proto;
    a->vlan = pkt->vlan;
    a->client = pkt->src;
    a->server = pkt->dst;
    a->client_port = pkt->sport;
    a->port = pkt->dport;
    a->outcome = PW_OUT_PENDING;
    a->frame_request = pkt->frame;
    a->last_request_ts = pkt->ts;
    c->has_attempt = true;
    c->attempt_done = false;
    c->fins = 0;
    c->closed = false;
    c->mid = 0;
    c->isn_first = c->isn_last = pkt->seq;
    c->has_isn = false;
    c->state = ST_PENDING;
    c->last_seen = pkt->ts;
    if (pkt->proto == PW_IPPROTO_UDP)
        chain_request(t, a);
    pw_conn_set_deadline(t->conns, c, pkt->ts + timeout_of(t, pkt->proto));
    if (++t->st.open > t->st.peak_open)
        t->st.peak_open = t->st.open;
}

static void track_extend(pw_attempts *t, pw_conn *c, pw_usec ts)
{
    pw_conn_extend(t->conns, c, ts + timeout_of(t, c->a.proto));
}

/* A repeated request from the client while pending. */
static void request_again(pw_attempts *t, pw_conn *c, const pw_pkt *pkt, bool same)
{
    pw_usec since = pkt->ts - c->a.last_request_ts;
    if (same && since >= 0 && since < DUP_WINDOW)
        return; /* the same packet captured twice */
    c->a.retries++;
    if (c->a.proto == PW_IPPROTO_UDP)
        chain_repeat(t, &c->a, pkt->ts);
    if (pkt->ts > c->a.last_request_ts) {
        c->a.last_request_ts = pkt->ts;
        pw_conn_set_deadline(t->conns, c, pkt->ts + timeout_of(t, c->a.proto));
    }
}

/* ---- expiry ----------------------------------------------------------------- */

/* No reply by the deadline: unanswered when the capture shows traffic toward
 * the client around the attempt, else one-sided. */
static void expire_pending(pw_attempts *t, pw_conn *c, pw_usec now)
{
    pw_usec to = timeout_of(t, c->a.proto);
    pw_usec seen = pw_conn_client_last_seen(t->conns, c);
    if (seen != PW_USEC_NEVER && seen >= c->a.ts - to) {
        c->a.outcome = PW_OUT_UNANSWERED;
        c->a.reason = PW_R_TIMEOUT;
    } else {
        c->a.outcome = PW_OUT_INDETERMINATE;
        c->a.reason = PW_R_ONE_SIDED;
    }
    pw_usec d = c->deadline;
    retire_attempt(t, c);
    if (c->a.proto == PW_IPPROTO_TCP && d + to > now)
        pw_conn_set_deadline(t->conns, c, d + to); /* absorb a late same-ISN retransmission */
    else
        pw_conn_remove(t->conns, c);
}

static void expire(pw_attempts *t, pw_conn *c, pw_usec now)
{
    pw_usec to = timeout_of(t, c->a.proto);
    switch (c->state) {
    case ST_PENDING:
        expire_pending(t, c, now);
        return;
    case ST_DECIDED:
        retire_attempt(t, c);
        if (c->last_seen + to > now && !c->closed)
            pw_conn_set_deadline(t->conns, c, c->last_seen + to);
        else
            pw_conn_remove(t->conns, c);
        return;
    default:
        pw_conn_remove(t->conns, c);
        return;
    }
}

/* Expires every record whose deadline is before `now` (or at it, if inclusive). */
static void run_timers(pw_attempts *t, pw_usec now, bool inclusive)
{
    pw_conn *c;
    while ((c = pw_conns_due(t->conns, now, inclusive)) != NULL)
        expire(t, c, now);
}

/* ---- per protocol ----------------------------------------------------------- */

/* A TCP packet of a pending attempt: the reply (or the client's ACK) decides. */
static void tcp_pending(pw_attempts *t, pw_conn *c, const pw_pkt *pkt, bool fwd, bool syn_only)
{
    uint8_t fl = pkt->tcp_flags;
    if (fwd) {
        if (syn_only) {
            request_again(t, c, pkt, pkt->seq == c->isn_first || pkt->seq == c->isn_last);
            c->isn_last = pkt->seq;
        } else if ((fl & (PW_TH_ACK | PW_TH_SYN)) == PW_TH_ACK &&
                   (pkt->seq == c->isn_first + 1 || pkt->seq == c->isn_last + 1)) {
            decide(t, c, pkt, PW_OUT_ANSWERED, PW_R_INFERRED);
        }
        return;
    }
    if ((fl & (PW_TH_SYN | PW_TH_ACK | PW_TH_RST)) == (PW_TH_SYN | PW_TH_ACK))
        decide(t, c, pkt, PW_OUT_ANSWERED, PW_R_SYN_ACK);
    else if (fl & PW_TH_RST)
        decide(t, c, pkt, PW_OUT_REFUSED, PW_R_RST);
    else if ((fl & (PW_TH_ACK | PW_TH_SYN)) == PW_TH_ACK &&
             (pkt->ack == c->isn_first + 1 || pkt->ack == c->isn_last + 1))
        decide(t, c, pkt, PW_OUT_ANSWERED, PW_R_INFERRED);
}

/* RST, or FIN from both sides, on an answered connection: it is over. */
static void tcp_close(pw_attempts *t, pw_conn *c, const pw_pkt *pkt, bool fwd)
{
    if (!c->has_attempt || c->a.outcome != PW_OUT_ANSWERED)
        return;
    if (pkt->tcp_flags & PW_TH_FIN)
        c->fins |= fwd ? 1 : 2;
    if (!(pkt->tcp_flags & PW_TH_RST) && c->fins != 3)
        return;
    c->closed = true;
    if (pkt->ts + CLOSE_GRACE < c->deadline)
        pw_conn_set_deadline(t->conns, c, pkt->ts + CLOSE_GRACE);
}

/* The mid-stream record's server spoke and its client was seen: an attempt
 * answered/midstream (c->a was filled by pw_attempts_midstream). */
static void midstream_answered(pw_attempts *t, pw_conn *c)
{
    c->a.outcome = PW_OUT_ANSWERED;
    c->a.reason = PW_R_MIDSTREAM;
    c->has_attempt = true;
    c->attempt_done = false;
    c->state = ST_DECIDED;
    if (++t->st.open > t->st.peak_open)
        t->st.peak_open = t->st.open;
    pw_usec last = c->last_seen > c->a.reply_ts ? c->last_seen : c->a.reply_ts;
    pw_conn_set_deadline(t->conns, c, last + timeout_of(t, c->a.proto));
}

/* A packet of a record without an attempt: which sides a mid-stream flow
 * has shown. */
static void midstream_seen(pw_attempts *t, pw_conn *c, bool fwd)
{
    if (c->has_attempt || c->attempt_done)
        return;
    c->mid |= fwd ? MID_FROM_CLIENT : MID_FROM_SERVER;
    if ((c->mid & MID_SERVER_SPOKE) && (c->mid & MID_FROM_CLIENT))
        midstream_answered(t, c);
}

/* The record the packet belongs to (NULL when it is none's). */
static pw_conn *on_tcp(pw_attempts *t, const pw_pkt *pkt, bool *fwd)
{
    bool syn_only = (pkt->tcp_flags & (PW_TH_SYN | PW_TH_ACK | PW_TH_RST)) == PW_TH_SYN;
    pw_conn *c = pw_conn_find(t->conns, PW_IPPROTO_TCP, &pkt->src, pkt->sport, &pkt->dst, pkt->dport, fwd);
    if (!c) {
        c = conn_new(t, PW_IPPROTO_TCP, &pkt->src, pkt->sport, &pkt->dst, pkt->dport, pkt->ts);
        *fwd = true;
        if (syn_only) {
            start_attempt(t, c, pkt, true);
        } else {
            c->state = ST_TRACK;
            c->mid = MID_FROM_CLIENT; /* the record's client is this packet's source */
            t->st.midstream++;
        }
        return c;
    }
    if (pkt->ts > c->last_seen)
        c->last_seen = pkt->ts;
    bool known_isn = pkt->seq == c->isn_first || pkt->seq == c->isn_last;
    switch (c->state) {
    case ST_PENDING:
        tcp_pending(t, c, pkt, *fwd, syn_only);
        break;
    case ST_DECIDED:
        if (*fwd && syn_only && !known_isn) {
            /* A new connection on the same 4-tuple: the old attempt is final. */
            retire_attempt(t, c);
            start_attempt(t, c, pkt, true);
        }
        break;
    default: /* ST_TRACK */
        if (syn_only && !(c->has_isn && *fwd && known_isn)) {
            start_attempt(t, c, pkt, *fwd); /* pkt's source is the new client */
            *fwd = true;
        } else {
            if (!c->closed)
                track_extend(t, c, pkt->ts);
            midstream_seen(t, c, *fwd);
        }
        break;
    }
    if ((pkt->tcp_flags & (PW_TH_RST | PW_TH_FIN)) && !c->closed && c->state != ST_PENDING)
        tcp_close(t, c, pkt, *fwd);
    return c;
}

static pw_conn *on_udp(pw_attempts *t, const pw_pkt *pkt, bool *fwd)
{
    pw_conn *c = pw_conn_find(t->conns, PW_IPPROTO_UDP, &pkt->src, pkt->sport, &pkt->dst, pkt->dport, fwd);
    if (!c) {
        if (pw_addr_is_group(&pkt->dst)) {
            if (pkt->dgram_kind != PW_DGRAM_RESPONSE)
                remember_group_query(t, pkt);
            return NULL;
        }
        if (pkt->dgram_kind == PW_DGRAM_RESPONSE) {
            t->st.responses++; /* a reply whose request was not captured, by its protocol */
            return NULL;
        }
        if (pkt->dgram_kind != PW_DGRAM_REQUEST && answers_group_query(t, pkt)) {
            t->st.group_answers++; /* a unicast answer to a broadcast or multicast query */
            return NULL;
        }
        if (pkt->sport < 1024 && pkt->dport >= 1024)
            return NULL; /* a reply whose request was not captured, by its ports */
        c = conn_new(t, PW_IPPROTO_UDP, &pkt->src, pkt->sport, &pkt->dst, pkt->dport, pkt->ts);
        start_attempt(t, c, pkt, true);
        *fwd = true;
        return c;
    }
    if (pkt->ts > c->last_seen)
        c->last_seen = pkt->ts;
    switch (c->state) {
    case ST_PENDING:
        if (!*fwd)
            decide(t, c, pkt, PW_OUT_ANSWERED, PW_R_UDP_REPLY);
        else if (pkt->dgram_kind != PW_DGRAM_RESPONSE)
            request_again(t, c, pkt, true);
        break;
    case ST_DECIDED:
        break;
    default:
        if (!c->has_attempt && !c->attempt_done && pkt->dgram_kind == PW_DGRAM_REQUEST) {
            /* a record a dissector event made (say on a reply to a broadcast
             * query): a request by its protocol starts the attempt, from
             * whichever side sends it */
            start_attempt(t, c, pkt, *fwd);
            *fwd = true;
            break;
        }
        if (!c->has_attempt && *fwd && !c->attempt_done && pkt->dgram_kind != PW_DGRAM_RESPONSE &&
            !(pkt->sport < 1024 && pkt->dport >= 1024)) {
            /* a record a dissector event made: the client's request starts the attempt */
            start_attempt(t, c, pkt, true);
            break;
        }
        track_extend(t, c, pkt->ts);
        break;
    }
    return c;
}

static bool icmp_is_error(const pw_pkt *pkt)
{
    if (pkt->proto == PW_IPPROTO_ICMP)
        return pkt->icmp_type == 3 || pkt->icmp_type == 11 || pkt->icmp_type == 12;
    return pkt->icmp_type == 1 || pkt->icmp_type == 3 || pkt->icmp_type == 4;
}

static pw_reason icmp_reason(const pw_pkt *pkt)
{
    bool v4 = pkt->proto == PW_IPPROTO_ICMP;
    uint8_t ty = pkt->icmp_type, c = pkt->icmp_code;
    if (!(v4 ? ty == 3 : ty == 1))
        return PW_R_ICMP_OTHER;
    if (v4 ? c == 3 : c == 4)
        return PW_R_ICMP_PORT_UNREACHABLE;
    if (v4 ? (c == 9 || c == 10 || c == 13) : (c == 1 || c == 5 || c == 6))
        return PW_R_ICMP_ADMIN_PROHIBITED;
    if (v4 ? c == 1 : c == 3)
        return PW_R_ICMP_HOST_UNREACHABLE;
    if (c == 0)
        return PW_R_ICMP_NET_UNREACHABLE;
    return PW_R_ICMP_OTHER;
}

static void on_icmp(pw_attempts *t, const pw_pkt *pkt)
{
    if (!icmp_is_error(pkt))
        return;
    t->st.icmp_errors++;
    const pw_icmp_quote *q = &pkt->quote;
    if (!q->present || !q->has_ports || (q->proto != PW_IPPROTO_TCP && q->proto != PW_IPPROTO_UDP)) {
        t->st.icmp_unmatched++;
        return;
    }
    bool fwd = false;
    pw_conn *c = pw_conn_find(t->conns, q->proto, &q->src, q->sport, &q->dst, q->dport, &fwd);
    if (!c || !fwd || (c->state != ST_PENDING && c->state != ST_DECIDED)) {
        t->st.icmp_unmatched++;
        return;
    }
    if (c->state != ST_PENDING)
        return; /* already decided: first evidence wins */
    pw_reason r = icmp_reason(pkt);
    pw_outcome o = r == PW_R_ICMP_PORT_UNREACHABLE && pw_addr_eq(&pkt->src, &c->a.server)
                       ? PW_OUT_REFUSED
                       : PW_OUT_BLOCKED;
    c->a.has_icmp_from = true;
    c->a.icmp_from = pkt->src;
    c->a.icmp_type = pkt->icmp_type;
    c->a.icmp_code = pkt->icmp_code;
    decide(t, c, pkt, o, r);
}

/* ---- public ----------------------------------------------------------------- */

pw_attempts *pw_attempts_new(const pw_attempts_opts *opts, pw_attempt_retire_fn decided, void *arg)
{
    pw_attempts *t = pw_xcalloc(1, sizeof *t);
    if (opts)
        t->o = *opts;
    if (t->o.tcp_timeout <= 0)
        t->o.tcp_timeout = 10 * PW_USEC_PER_SEC;
    if (t->o.udp_timeout <= 0)
        t->o.udp_timeout = 5 * PW_USEC_PER_SEC;
    if (t->o.max_open == 0)
        t->o.max_open = PW_ATTEMPTS_DEFAULT_MAX_OPEN;
    t->decided = decided;
    t->arg = arg;
    pw_usec window = t->o.tcp_timeout > t->o.udp_timeout ? t->o.tcp_timeout : t->o.udp_timeout;
    t->conns = pw_conns_new(t->o.max_open, window, t->o.removed, t->o.removed_arg);
    pw_conns_set_upcoming(t->conns, t->o.upcoming);
    t->group_queries = pw_memo_new(GROUP_SETS, sizeof(pw_usec));
    t->chains = pw_memo_new(CHAIN_SETS, sizeof(chain));
    t->hosts = pw_memo_new(HOST_SETS, sizeof(host_seen));
    return t;
}

void pw_attempts_prefetch(const pw_attempts *t, const pw_pkt *pkt)
{
    if (pkt->proto != PW_IPPROTO_TCP && pkt->proto != PW_IPPROTO_UDP)
        return;
    pw_conns_prefetch(t->conns, pkt->proto, &pkt->src, pkt->sport, &pkt->dst, pkt->dport);
    bool client_syn = pkt->proto == PW_IPPROTO_TCP && (pkt->tcp_flags & (PW_TH_SYN | PW_TH_ACK)) == PW_TH_SYN;
    if (own_packet(pkt) && !client_syn) { /* a server's packet is remembered (remember_host) */
        pw_memo_prefetch(t->hosts, HOST_KEY(&pkt->src));
    }
}

void pw_attempts_packet(pw_attempts *t, const pw_pkt *pkt)
{
    if (!pkt->src.family || !pkt->dst.family || t->ended)
        return;
    if (!t->have_clock || pkt->ts > t->clock) {
        t->clock = pkt->ts;
        t->have_clock = true;
        run_timers(t, t->clock, false);
        pw_conns_clock(t->conns, t->clock);
    }
    /* Decide first (timers ran above), then record pkt's destination as
     * seen: through the record when there is one, else by a lookup. */
    pw_conn *c = NULL;
    bool fwd = true;
    switch (pkt->proto) {
    case PW_IPPROTO_TCP: c = on_tcp(t, pkt, &fwd); break;
    case PW_IPPROTO_UDP: c = on_udp(t, pkt, &fwd); break;
    case PW_IPPROTO_ICMP:
    case PW_IPPROTO_ICMPV6: on_icmp(t, pkt); break;
    default: break;
    }
    pw_conns_dest_seen(t->conns, c, fwd ? 1 : 0, &pkt->dst, pkt->ts);
    if (c && !fwd)
        remember_host(t, pkt); /* the server's side of a connection: its SYN-ACKs, data, replies */
}

pw_conn *pw_attempts_conn(pw_attempts *t, uint8_t proto, const pw_addr *client, uint16_t cport,
                          const pw_addr *server, uint16_t sport, pw_usec ts)
{
    if (!t || t->ended || (proto != PW_IPPROTO_TCP && proto != PW_IPPROTO_UDP) || !client->family ||
        !server->family || pw_addr_is_group(server) || pw_addr_is_group(client))
        return NULL;
    bool fwd;
    pw_conn *c = pw_conn_find(t->conns, proto, client, cport, server, sport, &fwd);
    if (c)
        return c;
    c = conn_new(t, proto, client, cport, server, sport, ts);
    c->state = ST_TRACK;
    t->st.event_only++;
    return c;
}

void pw_attempts_midstream(pw_attempts *t, const pw_attempt *m)
{
    if (t->ended)
        return;
    bool fwd = false;
    pw_conn *c = pw_conn_find(t->conns, m->proto, &m->client, m->client_port, &m->server, m->port, &fwd);
    if (!c || c->state != ST_TRACK || c->has_attempt || c->attempt_done || (c->mid & MID_SERVER_SPOKE))
        return;
    if (!fwd) {
        pw_conn_reorient(c);
        uint8_t sides = c->mid & (MID_FROM_CLIENT | MID_FROM_SERVER);
        c->mid = (uint8_t)((c->mid & ~sides) | (sides == MID_FROM_CLIENT   ? MID_FROM_SERVER
                                                : sides == MID_FROM_SERVER ? MID_FROM_CLIENT
                                                                           : sides));
    }
    char app[sizeof c->a.app];
    memcpy(app, c->a.app, sizeof app); /* named by a dissector before the server spoke */
    c->a = *m;
    memcpy(c->a.app, app, sizeof app);
    c->a.outcome = PW_OUT_PENDING;
    c->a.last_request_ts = m->ts;
    c->mid |= MID_SERVER_SPOKE;
    if (c->mid & MID_FROM_CLIENT)
        midstream_answered(t, c);
}

void pw_attempts_set_app(pw_attempts *t, uint8_t proto, const pw_addr *client, uint16_t cport,
                         const pw_addr *server, uint16_t sport, const char *app)
{
    if (!t || t->ended || !client || !server || !app)
        return;
    bool fwd = false;
    pw_conn *c = pw_conn_find(t->conns, proto, client, cport, server, sport, &fwd);
    /* The first application named wins, except that gRPC refines the HTTP/2
     * it is carried in. */
    bool refine = c && !strcmp(c->a.app, "http2") && !strcmp(app, "grpc");
    /* A mid-stream flow (no attempt yet) keeps the name for the attempt its
     * server's payload may make (pw_attempts_midstream). */
    bool open = c && (c->state == ST_PENDING || c->state == ST_DECIDED ||
                      (c->state == ST_TRACK && !c->has_attempt && !c->attempt_done));
    if (open && (!c->a.app[0] || refine)) {
        strncpy(c->a.app, app, sizeof c->a.app - 1);
        c->a.app[sizeof c->a.app - 1] = '\0';
    }
}

void pw_attempts_flush(pw_attempts *t, pw_usec end)
{
    if (!t->have_clock || end > t->clock) {
        t->clock = end;
        t->have_clock = true;
    }
    run_timers(t, end, true);
    /* Whatever is left goes now, earliest deadline first, from a table no
     * packet will look into again. */
    t->ended = true;
    pw_conns_close(t->conns);
    pw_conn *c;
    while ((c = pw_conns_earliest(t->conns)) != NULL)
        finish(t, c, true);
}

void pw_attempts_get_stats(const pw_attempts *t, pw_attempts_stats *s)
{
    *s = t->st;
    s->flows = pw_conns_count(t->conns);
    s->peak_flows = pw_conns_peak(t->conns);
    s->hosts = pw_conns_hosts(t->conns);
    s->peak_hosts = pw_conns_hosts_peak(t->conns);
    s->memo_replaced = pw_memo_replaced(t->group_queries) + pw_memo_replaced(t->chains) +
                       pw_memo_replaced(t->hosts);
}

void pw_attempts_free(pw_attempts *t)
{
    if (!t)
        return;
    pw_conns_free(t->conns);
    pw_memo_free(t->group_queries);
    pw_memo_free(t->chains);
    pw_memo_free(t->hosts);
    free(t);
}
