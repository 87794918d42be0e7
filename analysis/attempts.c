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
 *     mid-stream: counted once per flow (stats.midstream), never an attempt.
 * UDP
 *   - A datagram C:cp -> S:sp with nothing tracked on the 4-tuple starts an
 *     attempt, unless S is multicast/broadcast or the datagram looks like a
 *     reply whose request was not captured (sport < 1024, dport >= 1024).
 *   - Repeats from C while pending are retries (same 1 ms duplicate rule);
 *     any datagram back from S:sp -> answered/udp-reply.
 * ICMP/ICMPv6 errors (v4 types 3, 11, 12; v6 types 1, 3, 4) whose quoted
 *   header is the client's packet of a pending attempt decide it:
 *   port-unreachable from the server itself -> refused, anything else ->
 *   blocked (reason by code); icmp_from/type/code/frame_reply recorded.
 *   Echo, redirect, source quench and packet-too-big are not verdicts.
 * Deadline = last_request_ts + timeout (so SYN retries with growing gaps stay
 *   one attempt).  At the deadline: unanswered/timeout if the capture shows any
 *   packet toward the client's address in [first request - timeout, deadline],
 *   else indeterminate/one-sided.  pw_attempts_flush(end) retires attempts
 *   whose deadline is after `end` as indeterminate/capture-ended.
 *
 * Lifecycle: PENDING -> (decision) DECIDED, lingering `timeout` after the
 * decision so dissectors can set `app` -> retired (callback, exactly once) ->
 * TRACK: a tracking-only entry that lives while the flow is active (idle
 * timeout) so that later packets of the same connection / UDP flow neither
 * start new attempts nor count as mid-stream.  Unanswered TCP attempts keep a
 * TRACK entry for one more timeout so a late same-ISN retransmission is not a
 * new attempt (an unanswered UDP attempt is freed at once).  Mid-stream TCP
 * flows get a TRACK entry too.
 *
 * Memory: flow entries and destination-address ("host") entries come from
 * chunked pools with freelists (no malloc per packet; chunks are allocated
 * as the live set grows).  Timers: a binary min-heap keyed by deadline.  A
 * key may be stale-early (activity only pushes deadlines later): when it
 * reaches the top the entry is re-keyed in place instead of expired.  The
 * host table keeps "last time seen as destination" for addresses seen in the
 * last max(timeout) of packet time (FIFO with second chance) and for both
 * ends of every tracked flow (referenced by the flow, so a packet of a
 * tracked flow updates its destination without a second lookup).  max_open
 * caps flow entries (when full the entry with the earliest deadline is
 * retired early: pending ones as indeterminate/capture-ended, counted in
 * stats.evicted); the host table is capped at 2 * max_open + 1024 (oldest
 * unreferenced address dropped first).  Pools keep their high-water mark
 * until pw_attempts_free. */
#include "attempts.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define CHUNK_SHIFT 12u
#define CHUNK_SIZE (1u << CHUNK_SHIFT)
#define CHUNK_MASK (CHUNK_SIZE - 1u)
#define DUP_WINDOW 1000 /* us: identical copies closer than this are span duplicates */
#define NEVER INT64_MIN

enum { ST_FREE = 0, ST_PENDING, ST_DECIDED, ST_TRACK };

typedef struct flow {
    uint32_t hash;         /* first: checked before the key on lookups */
    uint32_t hnext;        /* hash chain / freelist */
    uint32_t hpos;         /* position in the heap */
    uint32_t hcli, hsrv;   /* host entries of client and server, referenced while tracked */
    uint32_t isn_first, isn_last;
    uint8_t state;
    bool has_isn;          /* TRACK entry that came from a TCP attempt */
    pw_usec deadline;      /* true deadline; the heap key may be earlier */
    pw_usec last_seen;     /* last packet of the flow (either direction) */
    pw_attempt a;          /* key lives in a.proto/client/server/client_port/port */
} flow;

typedef struct host {
    pw_addr addr;
    pw_usec last_seen;     /* last time seen as a destination, NEVER if not */
    pw_usec queue_ts;      /* when it was (re)queued in the FIFO */
    uint32_t hash, hnext, qnext, refs;
} host;

typedef struct hslot {
    pw_usec key;
    uint32_t idx;
} hslot;

typedef struct pool {
    void **chunks;
    uint32_t nchunks, capchunks;
    uint32_t next;   /* first never-used slot */
    uint32_t free;   /* freelist head */
} pool;

struct pw_attempts {
    pw_attempts_opts o;
    pw_attempt_retire_fn retire;
    void *arg;
    pw_usec clock;
    bool have_clock;
    pw_usec host_window;

    pool fp;              /* flows */
    uint32_t *fb;         /* flow buckets */
    uint32_t fmask;
    uint32_t nflows;
    hslot *heap;
    uint32_t heapn, heapcap;

    pool hp;              /* hosts */
    uint32_t *hb;
    uint32_t hmask;
    uint32_t nhosts, host_cap;
    uint32_t qhead, qtail;

    pw_attempts_stats st;
};

/* ---- pools ---------------------------------------------------------------- */

static inline flow *F(const pw_attempts *t, uint32_t i)
{
    return (flow *)t->fp.chunks[i >> CHUNK_SHIFT] + (i & CHUNK_MASK);
}

static inline host *H(const pw_attempts *t, uint32_t i)
{
    return (host *)t->hp.chunks[i >> CHUNK_SHIFT] + (i & CHUNK_MASK);
}

/* A never-used slot index, adding a chunk when needed (rare). */
static uint32_t pool_grow(pool *p, size_t elem)
{
    if (p->next == p->nchunks * CHUNK_SIZE) {
        if (p->nchunks == p->capchunks) {
            uint32_t nc = p->capchunks ? p->capchunks * 2 : 16;
            void **c = realloc(p->chunks, nc * sizeof *c);
            if (!c)
                abort();
            p->chunks = c;
            p->capchunks = nc;
        }
        void *chunk = calloc(CHUNK_SIZE, elem);
        if (!chunk)
            abort();
        p->chunks[p->nchunks++] = chunk;
    }
    return p->next++;
}

static uint32_t flow_alloc(pw_attempts *t)
{
    uint32_t i = t->fp.free;
    if (i != NONE)
        t->fp.free = F(t, i)->hnext;
    else
        i = pool_grow(&t->fp, sizeof(flow));
    return i;
}

static uint32_t host_alloc(pw_attempts *t)
{
    uint32_t i = t->hp.free;
    if (i != NONE)
        t->hp.free = H(t, i)->hnext;
    else
        i = pool_grow(&t->hp, sizeof(host));
    return i;
}

static void pool_free_all(pool *p)
{
    for (uint32_t i = 0; i < p->nchunks; i++)
        free(p->chunks[i]);
    free(p->chunks);
    memset(p, 0, sizeof *p);
}

/* ---- hashing -------------------------------------------------------------- */

static inline uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static inline uint64_t ep_hash(const pw_addr *a, uint16_t port)
{
    uint64_t x, y;
    memcpy(&x, a->b, 8);
    memcpy(&y, a->b + 8, 8);
    return mix64(x * 0x9e3779b97f4a7c15ULL ^ y * 0xc2b2ae3d27d4eb4fULL ^
                 ((uint64_t)port << 8 | a->family));
}

/* Symmetric: the same for both orientations of the 4-tuple. */
static inline uint32_t flow_hash(uint8_t proto, const pw_addr *a, uint16_t ap, const pw_addr *b,
                                 uint16_t bp)
{
    uint64_t h = ep_hash(a, ap) + ep_hash(b, bp) + proto;
    return (uint32_t)(h ^ (h >> 32));
}

static inline uint32_t host_hash(const pw_addr *a)
{
    uint64_t h = ep_hash(a, 0xffff);
    return (uint32_t)(h ^ (h >> 32));
}

static inline bool addr_eq(const pw_addr *x, const pw_addr *y)
{
    return x->family == y->family && memcmp(x->b, y->b, 16) == 0;
}

/* ---- timer heap ----------------------------------------------------------- */

static inline void heap_set(pw_attempts *t, uint32_t pos, hslot s)
{
    t->heap[pos] = s;
    F(t, s.idx)->hpos = pos;
}

static void sift_up(pw_attempts *t, uint32_t pos)
{
    hslot s = t->heap[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (t->heap[parent].key <= s.key)
            break;
        heap_set(t, pos, t->heap[parent]);
        pos = parent;
    }
    heap_set(t, pos, s);
}

static void sift_down(pw_attempts *t, uint32_t pos)
{
    hslot s = t->heap[pos];
    uint32_t n = t->heapn;
    for (;;) {
        uint32_t c = 2 * pos + 1;
        if (c >= n)
            break;
        if (c + 1 < n && t->heap[c + 1].key < t->heap[c].key)
            c++;
        if (t->heap[c].key >= s.key)
            break;
        heap_set(t, pos, t->heap[c]);
        pos = c;
    }
    heap_set(t, pos, s);
}

static void heap_push(pw_attempts *t, uint32_t idx, pw_usec key)
{
    if (t->heapn == t->heapcap) {
        uint32_t nc = t->heapcap ? t->heapcap * 2 : 1024;
        hslot *h = realloc(t->heap, nc * sizeof *h);
        if (!h)
            abort();
        t->heap = h;
        t->heapcap = nc;
    }
    uint32_t pos = t->heapn++;
    t->heap[pos] = (hslot){key, idx};
    F(t, idx)->hpos = pos;
    sift_up(t, pos);
}

static void heap_remove(pw_attempts *t, uint32_t pos)
{
    uint32_t last = --t->heapn;
    if (pos == last)
        return;
    pw_usec old = t->heap[pos].key;
    heap_set(t, pos, t->heap[last]);
    if (t->heap[pos].key < old)
        sift_up(t, pos);
    else
        sift_down(t, pos);
}

/* Sets the flow's deadline.  Later deadlines are applied lazily (the heap
 * key is fixed up when it reaches the top); earlier ones in place. */
static inline void set_deadline(pw_attempts *t, flow *f, pw_usec d)
{
    f->deadline = d;
    if (d < t->heap[f->hpos].key) {
        t->heap[f->hpos].key = d;
        sift_up(t, f->hpos);
    }
}

/* ---- destination-address table ---------------------------------------------- */

static uint32_t host_find(const pw_attempts *t, const pw_addr *a, uint32_t h)
{
    for (uint32_t i = t->hb[h & t->hmask]; i != NONE;) {
        host *e = H(t, i);
        if (e->hash == h && addr_eq(&e->addr, a))
            return i;
        i = e->hnext;
    }
    return NONE;
}

static void host_unlink_free(pw_attempts *t, uint32_t i)
{
    host *e = H(t, i);
    uint32_t *pp = &t->hb[e->hash & t->hmask];
    while (*pp != i)
        pp = &H(t, *pp)->hnext;
    *pp = e->hnext;
    e->hnext = t->hp.free;
    t->hp.free = i;
    t->nhosts--;
}

static void host_enqueue(pw_attempts *t, uint32_t i)
{
    host *e = H(t, i);
    e->queue_ts = t->clock;
    e->qnext = NONE;
    if (t->qtail == NONE)
        t->qhead = i;
    else
        H(t, t->qtail)->qnext = i;
    t->qtail = i;
}

static uint32_t host_dequeue(pw_attempts *t)
{
    uint32_t i = t->qhead;
    t->qhead = H(t, i)->qnext;
    if (t->qhead == NONE)
        t->qtail = NONE;
    return i;
}

/* Forget addresses not seen as a destination for host_window (unless pinned). */
static void hosts_expire(pw_attempts *t)
{
    pw_usec cutoff = t->clock - t->host_window;
    while (t->qhead != NONE && H(t, t->qhead)->queue_ts < cutoff) {
        uint32_t i = host_dequeue(t);
        host *e = H(t, i);
        if (e->refs == 0 && e->last_seen < cutoff)
            host_unlink_free(t, i);
        else
            host_enqueue(t, i);
    }
}

static void hosts_rehash(pw_attempts *t)
{
    uint32_t nsize = (t->hmask + 1) * 2;
    uint32_t *nb = malloc(nsize * sizeof *nb);
    if (!nb)
        abort();
    memset(nb, 0xff, nsize * sizeof *nb);
    free(t->hb);
    t->hb = nb;
    t->hmask = nsize - 1;
    for (uint32_t i = t->qhead; i != NONE; i = H(t, i)->qnext) {
        host *e = H(t, i);
        e->hnext = nb[e->hash & t->hmask];
        nb[e->hash & t->hmask] = i;
    }
}

static uint32_t host_insert(pw_attempts *t, const pw_addr *a, uint32_t h, pw_usec seen)
{
    if (t->nhosts >= t->host_cap) {
        /* Full: drop the oldest unpinned entry.  Pinned entries are at most
         * the open attempts, fewer than host_cap, so this terminates. */
        for (;;) {
            uint32_t j = host_dequeue(t);
            if (H(t, j)->refs == 0) {
                host_unlink_free(t, j);
                break;
            }
            host_enqueue(t, j);
        }
    }
    if (t->nhosts >= t->hmask + 1)
        hosts_rehash(t);
    uint32_t i = host_alloc(t);
    host *e = H(t, i);
    e->addr = *a;
    e->last_seen = seen;
    e->hash = h;
    e->refs = 0;
    e->hnext = t->hb[h & t->hmask];
    t->hb[h & t->hmask] = i;
    host_enqueue(t, i);
    if (++t->nhosts > t->st.peak_hosts)
        t->st.peak_hosts = t->nhosts;
    return i;
}

static inline void host_seen(pw_attempts *t, uint32_t i, pw_usec ts)
{
    host *e = H(t, i);
    if (ts > e->last_seen)
        e->last_seen = ts;
}

/* The entry for `a` (created as never seen when new). */
static uint32_t host_get(pw_attempts *t, const pw_addr *a)
{
    uint32_t h = host_hash(a);
    uint32_t i = host_find(t, a, h);
    if (i == NONE)
        i = host_insert(t, a, h, NEVER);
    return i;
}

/* A flow references both its hosts for as long as it is tracked, so
 * packets of a tracked flow update their destination without a lookup. */
static void flow_ref_hosts(pw_attempts *t, flow *f)
{
    f->hsrv = host_get(t, &f->a.server);
    H(t, f->hsrv)->refs++;
    f->hcli = host_get(t, &f->a.client); /* cannot drop hsrv: it is referenced */
    H(t, f->hcli)->refs++;
}

/* ---- flow table ------------------------------------------------------------- */

static inline pw_usec timeout_of(const pw_attempts *t, uint8_t proto)
{
    return proto == PW_IPPROTO_TCP ? t->o.tcp_timeout : t->o.udp_timeout;
}

/* Finds the flow for a -> b; *fwd tells whether a is the client side. */
static uint32_t flow_find(const pw_attempts *t, uint32_t h, uint8_t proto, const pw_addr *a,
                          uint16_t ap, const pw_addr *b, uint16_t bp, bool *fwd)
{
    for (uint32_t i = t->fb[h & t->fmask]; i != NONE;) {
        flow *f = F(t, i);
        if (f->hash == h && f->a.proto == proto) {
            if (f->a.client_port == ap && f->a.port == bp && addr_eq(&f->a.client, a) &&
                addr_eq(&f->a.server, b)) {
                *fwd = true;
                return i;
            }
            if (f->a.client_port == bp && f->a.port == ap && addr_eq(&f->a.client, b) &&
                addr_eq(&f->a.server, a)) {
                *fwd = false;
                return i;
            }
        }
        i = f->hnext;
    }
    return NONE;
}

static void flows_rehash(pw_attempts *t)
{
    uint32_t nsize = (t->fmask + 1) * 2;
    uint32_t *nb = malloc(nsize * sizeof *nb);
    if (!nb)
        abort();
    memset(nb, 0xff, nsize * sizeof *nb);
    free(t->fb);
    t->fb = nb;
    t->fmask = nsize - 1;
    for (uint32_t k = 0; k < t->heapn; k++) { /* every live flow is in the heap */
        uint32_t i = t->heap[k].idx;
        flow *f = F(t, i);
        f->hnext = nb[f->hash & t->fmask];
        nb[f->hash & t->fmask] = i;
    }
}

static void flow_free(pw_attempts *t, uint32_t i)
{
    flow *f = F(t, i);
    H(t, f->hcli)->refs--;
    H(t, f->hsrv)->refs--;
    uint32_t *pp = &t->fb[f->hash & t->fmask];
    while (*pp != i)
        pp = &F(t, *pp)->hnext;
    *pp = f->hnext;
    heap_remove(t, f->hpos);
    f->state = ST_FREE;
    f->hnext = t->fp.free;
    t->fp.free = i;
    t->nflows--;
}

/* Hands the attempt to the callback (exactly once) and leaves the entry in TRACK. */
static void retire_attempt(pw_attempts *t, flow *f)
{
    t->st.attempts++;
    t->st.open--;
    f->state = ST_TRACK;
    f->has_isn = f->a.proto == PW_IPPROTO_TCP;
    if (t->retire)
        t->retire(t->arg, &f->a);
}

static void decide(pw_attempts *t, flow *f, const pw_pkt *pkt, pw_outcome o, pw_reason r)
{
    f->a.outcome = o;
    f->a.reason = r;
    f->a.frame_reply = pkt->frame;
    f->a.reply_ts = pkt->ts;
    f->state = ST_DECIDED;
    set_deadline(t, f, pkt->ts + timeout_of(t, f->a.proto));
}

/* The entry with the earliest deadline goes early (max_open reached). */
static void evict_one(pw_attempts *t)
{
    while (t->heapn) {
        flow *f = F(t, t->heap[0].idx);
        if (f->deadline > t->heap[0].key) {
            t->heap[0].key = f->deadline;
            sift_down(t, 0);
            continue;
        }
        uint32_t i = t->heap[0].idx;
        if (f->state == ST_PENDING) {
            f->a.outcome = PW_OUT_INDETERMINATE;
            f->a.reason = PW_R_CAPTURE_ENDED;
        }
        if (f->state == ST_PENDING || f->state == ST_DECIDED) {
            t->st.evicted++;
            retire_attempt(t, f);
        }
        flow_free(t, i);
        return;
    }
}

/* A new table entry for pkt's 4-tuple, oriented src = client. */
static flow *flow_new(pw_attempts *t, const pw_pkt *pkt, uint32_t h, pw_usec deadline)
{
    if (t->nflows >= t->o.max_open)
        evict_one(t);
    if (t->nflows >= t->fmask + 1)
        flows_rehash(t);
    uint32_t i = flow_alloc(t);
    flow *f = F(t, i);
    f->hash = h;
    f->hnext = t->fb[h & t->fmask];
    t->fb[h & t->fmask] = i;
    f->a.proto = pkt->proto;
    f->a.client = pkt->src;
    f->a.server = pkt->dst;
    f->a.client_port = pkt->sport;
    f->a.port = pkt->dport;
    f->last_seen = pkt->ts;
    f->deadline = deadline;
    flow_ref_hosts(t, f);
    heap_push(t, i, deadline);
    if (++t->nflows > t->st.peak_flows)
        t->st.peak_flows = t->nflows;
    return f;
}

/* (Re)starts an attempt in f from request pkt (f's hash bucket stays valid:
 * the hash is symmetric); fwd: pkt's source is f's client side. */
static void start_attempt(pw_attempts *t, flow *f, const pw_pkt *pkt, bool fwd)
{
    pw_attempt *a = &f->a;
    if (!fwd) {
        uint32_t x = f->hcli;
        f->hcli = f->hsrv;
        f->hsrv = x;
    }
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
    f->isn_first = f->isn_last = pkt->seq;
    f->has_isn = false;
    f->state = ST_PENDING;
    f->last_seen = pkt->ts;
    set_deadline(t, f, pkt->ts + timeout_of(t, pkt->proto));
    if (++t->st.open > t->st.peak_open)
        t->st.peak_open = t->st.open;
}

static void track_extend(pw_attempts *t, flow *f, pw_usec ts)
{
    pw_usec d = ts + timeout_of(t, f->a.proto);
    if (d > f->deadline)
        set_deadline(t, f, d);
}

/* A repeated request from the client while pending. */
static void request_again(pw_attempts *t, flow *f, const pw_pkt *pkt, bool same)
{
    pw_usec since = pkt->ts - f->a.last_request_ts;
    if (same && since >= 0 && since < DUP_WINDOW)
        return; /* the same packet captured twice */
    f->a.retries++;
    if (pkt->ts > f->a.last_request_ts) {
        f->a.last_request_ts = pkt->ts;
        set_deadline(t, f, pkt->ts + timeout_of(t, f->a.proto));
    }
}

/* ---- expiry ----------------------------------------------------------------- */

static void expire(pw_attempts *t, uint32_t i, pw_usec now)
{
    flow *f = F(t, i);
    pw_usec to = timeout_of(t, f->a.proto);
    switch (f->state) {
    case ST_PENDING: {
        const host *h = H(t, f->hcli);
        if (h->last_seen != NEVER && h->last_seen >= f->a.ts - to) {
            f->a.outcome = PW_OUT_UNANSWERED;
            f->a.reason = PW_R_TIMEOUT;
        } else {
            f->a.outcome = PW_OUT_INDETERMINATE;
            f->a.reason = PW_R_ONE_SIDED;
        }
        pw_usec d = f->deadline;
        retire_attempt(t, f);
        if (f->a.proto == PW_IPPROTO_TCP && d + to > now)
            set_deadline(t, f, d + to); /* absorb a late same-ISN retransmission */
        else
            flow_free(t, i);
        return;
    }
    case ST_DECIDED:
        retire_attempt(t, f);
        if (f->last_seen + to > now)
            set_deadline(t, f, f->last_seen + to);
        else
            flow_free(t, i);
        return;
    default:
        flow_free(t, i);
        return;
    }
}

/* Expires every entry whose deadline is before `now` (or at it, if inclusive). */
static void run_timers(pw_attempts *t, pw_usec now, bool inclusive)
{
    while (t->heapn) {
        hslot top = t->heap[0];
        if (top.key > now || (top.key == now && !inclusive))
            break;
        flow *f = F(t, top.idx);
        if (f->deadline > top.key) {
            t->heap[0].key = f->deadline;
            sift_down(t, 0);
            continue;
        }
        expire(t, top.idx, now);
    }
}

/* ---- per protocol ----------------------------------------------------------- */

/* on_tcp/on_udp return the host entry of pkt's destination when the packet
 * belongs to a tracked flow (NONE otherwise). */
static uint32_t on_tcp(pw_attempts *t, const pw_pkt *pkt)
{
    uint8_t fl = pkt->tcp_flags;
    bool syn_only = (fl & (PW_TH_SYN | PW_TH_ACK | PW_TH_RST)) == PW_TH_SYN;
    uint32_t h = flow_hash(PW_IPPROTO_TCP, &pkt->src, pkt->sport, &pkt->dst, pkt->dport);
    bool fwd = false;
    uint32_t i = flow_find(t, h, PW_IPPROTO_TCP, &pkt->src, pkt->sport, &pkt->dst, pkt->dport, &fwd);
    if (i == NONE) {
        flow *f = flow_new(t, pkt, h, pkt->ts + t->o.tcp_timeout);
        if (syn_only) {
            start_attempt(t, f, pkt, true);
        } else {
            f->state = ST_TRACK;
            f->has_isn = false;
            t->st.midstream++;
        }
        return f->hsrv;
    }
    flow *f = F(t, i);
    uint32_t dsthost = fwd ? f->hsrv : f->hcli;
    if (pkt->ts > f->last_seen)
        f->last_seen = pkt->ts;
    bool known_isn = pkt->seq == f->isn_first || pkt->seq == f->isn_last;
    switch (f->state) {
    case ST_PENDING:
        if (fwd) {
            if (syn_only) {
                request_again(t, f, pkt, known_isn);
                f->isn_last = pkt->seq;
            } else if ((fl & (PW_TH_ACK | PW_TH_SYN)) == PW_TH_ACK &&
                       (pkt->seq == f->isn_first + 1 || pkt->seq == f->isn_last + 1)) {
                decide(t, f, pkt, PW_OUT_ANSWERED, PW_R_INFERRED);
            }
        } else {
            if ((fl & (PW_TH_SYN | PW_TH_ACK | PW_TH_RST)) == (PW_TH_SYN | PW_TH_ACK))
                decide(t, f, pkt, PW_OUT_ANSWERED, PW_R_SYN_ACK);
            else if (fl & PW_TH_RST)
                decide(t, f, pkt, PW_OUT_REFUSED, PW_R_RST);
            else if ((fl & (PW_TH_ACK | PW_TH_SYN)) == PW_TH_ACK &&
                     (pkt->ack == f->isn_first + 1 || pkt->ack == f->isn_last + 1))
                decide(t, f, pkt, PW_OUT_ANSWERED, PW_R_INFERRED);
        }
        return dsthost;
    case ST_DECIDED:
        if (fwd && syn_only && !known_isn) {
            /* A new connection on the same 4-tuple: the old attempt is final. */
            retire_attempt(t, f);
            start_attempt(t, f, pkt, true);
        }
        return dsthost;
    default: /* ST_TRACK */
        if (syn_only && !(f->has_isn && fwd && known_isn))
            start_attempt(t, f, pkt, fwd); /* pkt's source is the new client */
        else
            track_extend(t, f, pkt->ts);
        return dsthost;
    }
}

static uint32_t on_udp(pw_attempts *t, const pw_pkt *pkt)
{
    uint32_t h = flow_hash(PW_IPPROTO_UDP, &pkt->src, pkt->sport, &pkt->dst, pkt->dport);
    bool fwd = false;
    uint32_t i = flow_find(t, h, PW_IPPROTO_UDP, &pkt->src, pkt->sport, &pkt->dst, pkt->dport, &fwd);
    if (i == NONE) {
        if (pw_addr_is_group(&pkt->dst))
            return NONE;
        if (pkt->sport < 1024 && pkt->dport >= 1024)
            return NONE; /* a reply whose request was not captured */
        flow *f = flow_new(t, pkt, h, pkt->ts + t->o.udp_timeout);
        start_attempt(t, f, pkt, true);
        return f->hsrv;
    }
    flow *f = F(t, i);
    if (pkt->ts > f->last_seen)
        f->last_seen = pkt->ts;
    switch (f->state) {
    case ST_PENDING:
        if (fwd)
            request_again(t, f, pkt, true);
        else
            decide(t, f, pkt, PW_OUT_ANSWERED, PW_R_UDP_REPLY);
        break;
    case ST_DECIDED:
        break;
    default:
        track_extend(t, f, pkt->ts);
        break;
    }
    return fwd ? f->hsrv : f->hcli;
}

static bool icmp_is_error(const pw_pkt *pkt)
{
    if (pkt->proto == PW_IPPROTO_ICMP)
        return pkt->icmp_type == 3 || pkt->icmp_type == 11 || pkt->icmp_type == 12;
    return pkt->icmp_type == 1 || pkt->icmp_type == 3 || pkt->icmp_type == 4;
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
    uint32_t h = flow_hash(q->proto, &q->src, q->sport, &q->dst, q->dport);
    bool fwd = false;
    uint32_t i = flow_find(t, h, q->proto, &q->src, q->sport, &q->dst, q->dport, &fwd);
    flow *f = i != NONE ? F(t, i) : NULL;
    if (!f || !fwd || (f->state != ST_PENDING && f->state != ST_DECIDED)) {
        t->st.icmp_unmatched++;
        return;
    }
    if (f->state != ST_PENDING)
        return; /* already decided: first evidence wins */

    bool v4 = pkt->proto == PW_IPPROTO_ICMP;
    uint8_t ty = pkt->icmp_type, c = pkt->icmp_code;
    pw_reason r = PW_R_ICMP_OTHER;
    if (v4 ? ty == 3 : ty == 1) {
        if (v4 ? c == 3 : c == 4)
            r = PW_R_ICMP_PORT_UNREACHABLE;
        else if (v4 ? (c == 9 || c == 10 || c == 13) : (c == 1 || c == 5 || c == 6))
            r = PW_R_ICMP_ADMIN_PROHIBITED;
        else if (v4 ? c == 1 : c == 3)
            r = PW_R_ICMP_HOST_UNREACHABLE;
        else if (c == 0)
            r = PW_R_ICMP_NET_UNREACHABLE;
    }
    pw_outcome o = r == PW_R_ICMP_PORT_UNREACHABLE && addr_eq(&pkt->src, &f->a.server)
                       ? PW_OUT_REFUSED
                       : PW_OUT_BLOCKED;
    f->a.has_icmp_from = true;
    f->a.icmp_from = pkt->src;
    f->a.icmp_type = ty;
    f->a.icmp_code = c;
    decide(t, f, pkt, o, r);
}

/* ---- public ----------------------------------------------------------------- */

pw_attempts *pw_attempts_new(const pw_attempts_opts *opts, pw_attempt_retire_fn retire, void *arg)
{
    pw_attempts *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (opts)
        t->o = *opts;
    if (t->o.tcp_timeout <= 0)
        t->o.tcp_timeout = 10 * PW_USEC_PER_SEC;
    if (t->o.udp_timeout <= 0)
        t->o.udp_timeout = 5 * PW_USEC_PER_SEC;
    if (t->o.max_open == 0)
        t->o.max_open = 1000000;
    t->retire = retire;
    t->arg = arg;
    t->host_window = t->o.tcp_timeout > t->o.udp_timeout ? t->o.tcp_timeout : t->o.udp_timeout;
    /* Pinned hosts <= open attempts <= max_open < host_cap. */
    t->host_cap = t->o.max_open > UINT32_MAX / 4 ? UINT32_MAX - 1 : t->o.max_open * 2 + 1024;
    t->fp.free = t->hp.free = NONE;
    t->qhead = t->qtail = NONE;
    t->fmask = t->hmask = 1023;
    t->fb = malloc(1024 * sizeof *t->fb);
    t->hb = malloc(1024 * sizeof *t->hb);
    if (!t->fb || !t->hb) {
        free(t->fb);
        free(t->hb);
        free(t);
        return NULL;
    }
    memset(t->fb, 0xff, 1024 * sizeof *t->fb);
    memset(t->hb, 0xff, 1024 * sizeof *t->hb);
    return t;
}

void pw_attempts_packet(pw_attempts *t, const pw_pkt *pkt)
{
    if (!pkt->src.family || !pkt->dst.family)
        return;
    if (!t->have_clock || pkt->ts > t->clock) {
        t->clock = pkt->ts;
        t->have_clock = true;
        if (t->heapn && t->heap[0].key < t->clock)
            run_timers(t, t->clock, false);
        if (t->qhead != NONE)
            hosts_expire(t);
    }
    /* Decide first (timers ran above), then record pkt's destination as
     * seen: through the flow when tracked, else by a lookup. */
    uint32_t dh = NONE;
    switch (pkt->proto) {
    case PW_IPPROTO_TCP: dh = on_tcp(t, pkt); break;
    case PW_IPPROTO_UDP: dh = on_udp(t, pkt); break;
    case PW_IPPROTO_ICMP:
    case PW_IPPROTO_ICMPV6: on_icmp(t, pkt); break;
    default: break;
    }
    if (dh != NONE) {
        host_seen(t, dh, pkt->ts);
    } else if (!pw_addr_is_group(&pkt->dst)) {
        uint32_t h = host_hash(&pkt->dst);
        uint32_t i = host_find(t, &pkt->dst, h);
        if (i == NONE)
            host_insert(t, &pkt->dst, h, pkt->ts);
        else
            host_seen(t, i, pkt->ts);
    }
}

void pw_attempts_set_app(pw_attempts *t, uint8_t proto, const pw_addr *client, uint16_t cport,
                         const pw_addr *server, uint16_t sport, const char *app)
{
    if (!t || !client || !server || !app)
        return;
    uint32_t h = flow_hash(proto, client, cport, server, sport);
    bool fwd = false;
    uint32_t i = flow_find(t, h, proto, client, cport, server, sport, &fwd);
    if (i == NONE)
        return;
    flow *f = F(t, i);
    if ((f->state == ST_PENDING || f->state == ST_DECIDED) && !f->a.app[0]) {
        strncpy(f->a.app, app, sizeof f->a.app - 1);
        f->a.app[sizeof f->a.app - 1] = '\0';
    }
}

void pw_attempts_flush(pw_attempts *t, pw_usec end)
{
    if (!t->have_clock || end > t->clock) {
        t->clock = end;
        t->have_clock = true;
    }
    run_timers(t, end, true);
    /* Whatever is left retires now, earliest deadline first. */
    while (t->heapn) {
        uint32_t i = t->heap[0].idx;
        flow *f = F(t, i);
        if (f->state == ST_PENDING) {
            f->a.outcome = PW_OUT_INDETERMINATE;
            f->a.reason = PW_R_CAPTURE_ENDED;
        }
        if (f->state == ST_PENDING || f->state == ST_DECIDED)
            retire_attempt(t, f);
        flow_free(t, i);
    }
}

void pw_attempts_get_stats(const pw_attempts *t, pw_attempts_stats *s)
{
    *s = t->st;
    s->flows = t->nflows;
    s->hosts = t->nhosts;
}

void pw_attempts_free(pw_attempts *t)
{
    if (!t)
        return;
    pool_free_all(&t->fp);
    pool_free_all(&t->hp);
    free(t->fb);
    free(t->hb);
    free(t->heap);
    free(t);
}
