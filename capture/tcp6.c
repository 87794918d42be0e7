/* tcp6.c - the in-order TCP shim: IPv6 connections from their handshake and
 * connections of either family first seen mid-stream (see tcp6.h: enough for
 * first-flight messages, not a full reassembler). */
#include "tcp6.h"

#include <stdlib.h>
#include <string.h>

#include "../common/table.h"

typedef struct pw_tcp6_key {
    uint8_t a[16], b[16];
    uint16_t pa, pb;
    uint8_t family;
} pw_tcp6_key;

typedef struct pw_tcp6 {
    pw_tcp6_key key;
    UT_hash_handle hh;
    struct pw_tcp6 *prev, *next; /* LRU */
    pw_stream_info si;
    bool open;       /* SYN-ACK seen (or mid-stream) and stream_open accepted it */
    bool ignored;    /* not followed (or no longer): packets only end it */
    bool nids_follows; /* libnids follows this flow (ignored here for that reason, or a
                          new connection's SYN came): its segments go to libnids */
    bool midstream;  /* first seen mid-stream: each side starts at its first segment seen */
    bool synced[2];  /* next_seq[dir] is known */
    uint32_t isn[2]; /* [0] client, [1] server */
    uint32_t next_seq[2]; /* next expected sequence number from each side */
    bool gap[2];
    bool fin[2];
    void *user;
    uint8_t *buf[2];
    uint32_t blen[2];
    pw_usec last;
} pw_tcp6;

void pw_tcp6_init(pw_tcp6_table *t, const pw_capture_cb *cb, uint32_t source)
{
    memset(t, 0, sizeof *t);
    t->cb = cb;
    t->source = source;
}

static void lru_unlink(pw_tcp6_table *t, pw_tcp6 *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        t->lru_head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        t->lru_tail = s->prev;
    s->prev = s->next = NULL;
}

static void lru_append(pw_tcp6_table *t, pw_tcp6 *s)
{
    s->prev = t->lru_tail;
    s->next = NULL;
    if (t->lru_tail)
        t->lru_tail->next = s;
    else
        t->lru_head = s;
    t->lru_tail = s;
}

static void free_bufs(pw_tcp6_table *t, pw_tcp6 *s)
{
    for (int d = 0; d < 2; d++) {
        if (s->buf[d])
            t->buffered -= PW_TCP6_BUF;
        free(s->buf[d]);
        s->buf[d] = NULL;
        s->blen[d] = 0;
    }
}

/* The table's slice of a flow (16 bits): a hash that reads the same in
 * both directions and needs no key built, so that most segments of flows
 * the table does not hold are told so with one counter read. */
static inline uint32_t pair_slice(const uint8_t a[16], const uint8_t b[16], uint16_t pa, uint16_t pb)
{
    uint64_t x, y, u, v;
    memcpy(&x, a, 8);
    memcpy(&y, a + 8, 8);
    memcpy(&u, b, 8);
    memcpy(&v, b + 8, 8);
    uint64_t h = ((x ^ u) * 0x9e3779b97f4a7c15u) ^ ((y ^ v) * 0xc2b2ae3d27d4eb4fu) ^ (uint64_t)(pa ^ pb);
    h *= 0xff51afd7ed558ccdu;
    return (uint32_t)(h >> 48);
}

static inline uint32_t key_slice(const pw_tcp6_key *k)
{
    return pair_slice(k->a, k->b, k->pa, k->pb);
}

static void destroy(pw_tcp6_table *t, pw_tcp6 *s, int how)
{
    if (s->open && s->user && t->cb->stream_close)
        t->cb->stream_close(t->cb->arg, s->user, how);
    HASH_DEL(t->hash, s);
    if (t->last == s)
        t->last = NULL;
    t->in_slice[key_slice(&s->key)]--;
    lru_unlink(t, s);
    t->count--;
    free_bufs(t, s);
    free(s);
}

/* The consumer wants no more of this stream.  It stays in the table as
 * ignored until it ends (FIN, RST, idle), so that its next segment does not
 * look like a new mid-stream flow. */
static void stop(pw_tcp6_table *t, pw_tcp6 *s)
{
    if (s->open && s->user && t->cb->stream_close)
        t->cb->stream_close(t->cb->arg, s->user, PW_STREAM_CLOSED);
    s->user = NULL;
    s->open = false;
    s->ignored = true;
    free_bufs(t, s);
}

void pw_tcp6_exit(pw_tcp6_table *t)
{
    while (t->lru_head)
        destroy(t, t->lru_head, PW_STREAM_EXITING);
}

static void make_key(const pw_pkt *p, pw_tcp6_key *k)
{
    memset(k, 0, sizeof *k);
    k->family = p->src.family;
    int c = memcmp(p->src.b, p->dst.b, 16);
    if (c < 0 || (c == 0 && p->sport <= p->dport)) {
        memcpy(k->a, p->src.b, 16);
        memcpy(k->b, p->dst.b, 16);
        k->pa = p->sport;
        k->pb = p->dport;
    } else {
        memcpy(k->a, p->dst.b, 16);
        memcpy(k->b, p->src.b, 16);
        k->pa = p->dport;
        k->pb = p->sport;
    }
}

/* The key's hash, a word at a time: every IPv4 TCP segment with payload is
 * looked up here (mid-stream candidates), so the byte-wise table hash would
 * cost more than the lookup itself. */
static uint32_t key_hash(const pw_tcp6_key *k)
{
    uint64_t w[4], h = 0x9e3779b97f4a7c15u ^ ((uint64_t)k->pa << 24 | (uint64_t)k->pb << 8 | k->family);
    memcpy(w, k->a, 16);
    memcpy(w + 2, k->b, 16);
    for (int i = 0; i < 4; i++) {
        h ^= w[i];
        h *= 0xff51afd7ed558ccdu;
        h ^= h >> 33;
    }
    return (uint32_t)(h ^ (h >> 32));
}

static inline int32_t sdiff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }

/* Offers bytes of one direction to the consumer; false when the stream must stop. */
static bool deliver(pw_tcp6_table *t, pw_tcp6 *s, int dir, const uint8_t *data, size_t len,
                    const pw_pkt *pkt)
{
    if (!t->cb->stream_data || !len)
        return true;
    const uint8_t *p = data;
    size_t n = len;
    if (s->blen[dir]) {
        if (s->blen[dir] + len > PW_TCP6_BUF)
            return false; /* the consumer is not keeping up: stop */
        memcpy(s->buf[dir] + s->blen[dir], data, len);
        s->blen[dir] += (uint32_t)len;
        p = s->buf[dir];
        n = s->blen[dir];
    }
    bool stop = false;
    size_t used = t->cb->stream_data(t->cb->arg, s->user, dir, p, n, pkt, &stop);
    if (stop)
        return false;
    if (used > n)
        used = n;
    size_t rest = n - used;
    if (!rest) {
        s->blen[dir] = 0;
        return true;
    }
    if (rest > PW_TCP6_BUF)
        return false;
    if (!s->buf[dir]) {
        if (t->buffered + PW_TCP6_BUF > PW_SHIM_BUF_TOTAL) {
            t->buffer_full++;
            return false;
        }
        s->buf[dir] = malloc(PW_TCP6_BUF);
        if (!s->buf[dir]) {
            t->nomem++;
            return false;
        }
        t->buffered += PW_TCP6_BUF;
    }
    memmove(s->buf[dir], p + used, rest);
    s->blen[dir] = (uint32_t)rest;
    return true;
}

/* A new table entry for pkt's flow; NULL when it cannot be had. */
static pw_tcp6 *add(pw_tcp6_table *t, const pw_tcp6_key *k, const pw_pkt *pkt)
{
    if (t->count >= PW_TCP6_MAX_STREAMS) {
        t->evicted++;
        destroy(t, t->lru_head, PW_STREAM_TIMED_OUT);
    }
    pw_tcp6 *s = calloc(1, sizeof *s);
    if (!s) {
        t->nomem++;
        return NULL;
    }
    s->key = *k;
    s->si.source = t->source;
    s->last = pkt->ts;
    uint32_t h = key_hash(k);
    HASH_ADD_BYHASHVALUE(hh, t->hash, key, sizeof s->key, h, s);
    t->in_slice[key_slice(k)]++;
    lru_append(t, s);
    t->count++;
    return s;
}

/* A client SYN: the stream opens when the server's SYN-ACK comes. */
static void start_handshake(pw_tcp6_table *t, const pw_tcp6_key *k, const pw_pkt *pkt)
{
    pw_tcp6 *s = add(t, k, pkt);
    if (!s)
        return;
    s->si.client = pkt->src;
    s->si.server = pkt->dst;
    s->si.client_port = pkt->sport;
    s->si.server_port = pkt->dport;
    s->isn[0] = pkt->seq;
}

/* Payload on a flow whose handshake was not seen: the consumer says which
 * way it goes (or to leave it), and the stream opens at once. */
static pw_tcp6 *start_midstream(pw_tcp6_table *t, const pw_tcp6_key *k, const pw_pkt *pkt)
{
    int dir = t->cb->midstream_dir(t->cb->arg, pkt);
    if (dir != PW_DIR_TO_SERVER && dir != PW_DIR_TO_CLIENT)
        return NULL;
    pw_tcp6 *s = add(t, k, pkt);
    if (!s)
        return NULL;
    s->midstream = s->si.midstream = true;
    bool to_server = dir == PW_DIR_TO_SERVER;
    s->si.client = to_server ? pkt->src : pkt->dst;
    s->si.server = to_server ? pkt->dst : pkt->src;
    s->si.client_port = to_server ? pkt->sport : pkt->dport;
    s->si.server_port = to_server ? pkt->dport : pkt->sport;
    s->user = t->cb->stream_open ? t->cb->stream_open(t->cb->arg, &s->si, pkt) : NULL;
    if (!s->user) {
        s->ignored = true;
        return s;
    }
    s->open = true;
    t->opened++;
    t->midstream++;
    return s;
}

/* Before the stream opened: SYN retransmissions, a RST, the SYN-ACK. */
static void handshake(pw_tcp6_table *t, pw_tcp6 *s, int dir, const pw_pkt *pkt)
{
    uint8_t fl = pkt->tcp_flags;
    if (dir == PW_DIR_TO_SERVER && (fl & (PW_TH_SYN | PW_TH_ACK)) == PW_TH_SYN) {
        s->isn[0] = pkt->seq; /* retransmitted or new SYN */
        return;
    }
    if (fl & PW_TH_RST) {
        destroy(t, s, PW_STREAM_RESET);
        return;
    }
    if (dir == PW_DIR_TO_CLIENT && (fl & (PW_TH_SYN | PW_TH_ACK)) == (PW_TH_SYN | PW_TH_ACK) &&
        pkt->ack == s->isn[0] + 1) {
        s->isn[1] = pkt->seq;
        s->next_seq[0] = s->isn[0] + 1;
        s->next_seq[1] = s->isn[1] + 1;
        s->synced[0] = s->synced[1] = true;
        s->user = t->cb->stream_open ? t->cb->stream_open(t->cb->arg, &s->si, pkt) : NULL;
        if (!s->user) {
            s->ignored = true;
            return;
        }
        s->open = true;
        t->opened++;
    }
}

/* In-order payload of an open stream; false when the stream went. */
static bool segment(pw_tcp6_table *t, pw_tcp6 *s, int dir, const pw_pkt *pkt)
{
    uint32_t len = pkt->payload_len;
    if (!len || s->gap[dir])
        return true;
    if (!s->synced[dir]) {
        s->next_seq[dir] = pkt->seq; /* mid-stream: this side starts here */
        s->synced[dir] = true;
    }
    int32_t ahead = sdiff(pkt->seq, s->next_seq[dir]);
    if (ahead > 0) {
        s->gap[dir] = true; /* a hole: first flight is over for this direction */
        return true;
    }
    if ((uint32_t)(-ahead) >= len)
        return true; /* all of it already delivered */
    pw_cursor pc = pw_cur(pkt->payload, len);
    pw_skip(&pc, (uint32_t)(-ahead));
    size_t n = pw_cur_left(&pc);
    const uint8_t *p = pw_cur_view(&pc, n);
    s->next_seq[dir] += (uint32_t)n;
    if (pkt->payload_truncated)
        s->gap[dir] = true; /* the rest of this segment is missing */
    if (!deliver(t, s, dir, p, n, pkt)) {
        stop(t, s);
        return false;
    }
    return true;
}

/* Whether s is pkt's flow (either way), read from the packet, no key built. */
static bool is_flow_of(const pw_tcp6 *s, const pw_pkt *pkt)
{
    const pw_tcp6_key *k = &s->key;
    if (k->family != pkt->src.family)
        return false;
    if (k->pa == pkt->sport && k->pb == pkt->dport && !memcmp(k->a, pkt->src.b, 16) &&
        !memcmp(k->b, pkt->dst.b, 16))
        return true;
    return k->pa == pkt->dport && k->pb == pkt->sport && !memcmp(k->a, pkt->dst.b, 16) &&
           !memcmp(k->b, pkt->src.b, 16);
}

/* The entry of pkt's flow, or NULL. */
static pw_tcp6 *find(pw_tcp6_table *t, const pw_pkt *pkt)
{
    if (t->last && is_flow_of(t->last, pkt))
        return t->last;
    if (!t->in_slice[pair_slice(pkt->src.b, pkt->dst.b, pkt->sport, pkt->dport)])
        return NULL;
    pw_tcp6_key k;
    make_key(pkt, &k);
    pw_tcp6 *s = NULL;
    HASH_FIND_BYHASHVALUE(hh, t->hash, &k, sizeof k, key_hash(&k), s);
    if (s)
        t->last = s;
    return s;
}

bool pw_tcp6_owns(pw_tcp6_table *t, const pw_pkt *pkt)
{
    if (!t->count)
        return false;
    pw_tcp6 *s = find(t, pkt);
    if (!s || s->nids_follows)
        return false;
    if ((pkt->tcp_flags & (PW_TH_SYN | PW_TH_ACK)) == PW_TH_SYN) {
        s->nids_follows = true; /* a new connection on the 4-tuple: libnids takes it */
        return false;
    }
    return true;
}

/* pkt's flow as ignored (made so when new); its entry, or NULL. */
static pw_tcp6 *ignore(pw_tcp6_table *t, const pw_pkt *pkt)
{
    pw_tcp6 *s = find(t, pkt);
    if (!s) {
        pw_tcp6_key k;
        make_key(pkt, &k);
        s = add(t, &k, pkt);
    }
    if (s && !s->open) {
        s->ignored = true;
        s->midstream = true; /* it is not waiting for a handshake */
        s->nids_follows = false;
    }
    return s;
}

void pw_tcp6_ignore(pw_tcp6_table *t, const pw_pkt *pkt)
{
    ignore(t, pkt);
}

void pw_tcp6_packet(pw_tcp6_table *t, const pw_pkt *pkt, bool handshakes,
                    pw_tcp6_followed_fn followed)
{
    if (pkt->proto != PW_IPPROTO_TCP)
        return;
    /* idle streams time out in packet time */
    while (t->lru_head && pkt->ts - t->lru_head->last > PW_TCP6_IDLE_TIMEOUT)
        destroy(t, t->lru_head, PW_STREAM_TIMED_OUT);

    pw_tcp6 *s = find(t, pkt);
    pw_tcp6_key k; /* built only for a new entry */
    uint8_t fl = pkt->tcp_flags;
    if (!s) {
        if ((fl & (PW_TH_SYN | PW_TH_ACK | PW_TH_RST)) == PW_TH_SYN) {
            if (handshakes) {
                make_key(pkt, &k);
                start_handshake(t, &k, pkt);
            }
            return;
        }
        if ((fl & (PW_TH_SYN | PW_TH_RST)) || !pkt->payload_len || !t->cb->midstream_dir)
            return;
        if (followed && followed(pkt)) {
            /* libnids's (a handshake it has not seen completed, data it
             * holds out of order): remembered, so it is asked once */
            if ((s = ignore(t, pkt)) != NULL)
                s->nids_follows = true;
            return;
        }
        make_key(pkt, &k);
        s = start_midstream(t, &k, pkt);
        if (!s)
            return;
    }
    if (s->ignored) {
        /* Left in place in the LRU: an ignored flow's bulk data (a TLS
         * session after its handshake) costs one lookup a segment, and the
         * entry expires PW_TCP6_IDLE_TIMEOUT after it was made (then the
         * flow is asked about once more). */
        if (fl & (PW_TH_RST | PW_TH_FIN))
            destroy(t, s, PW_STREAM_CLOSED); /* no longer open: no callback */
        return;
    }
    s->last = pkt->ts;
    lru_unlink(t, s);
    lru_append(t, s);
    int dir = (pw_addr_eq(&pkt->src, &s->si.client) && pkt->sport == s->si.client_port)
                  ? PW_DIR_TO_SERVER
                  : PW_DIR_TO_CLIENT;
    if (!s->open) {
        handshake(t, s, dir, pkt);
        return;
    }
    if (fl & PW_TH_SYN)
        return; /* retransmitted SYN / SYN-ACK */
    if (!segment(t, s, dir, pkt))
        return;
    if (fl & PW_TH_RST) {
        destroy(t, s, PW_STREAM_RESET);
        return;
    }
    if (fl & PW_TH_FIN) {
        s->fin[dir] = true;
        if (s->fin[0] && s->fin[1])
            destroy(t, s, PW_STREAM_CLOSED);
    }
}
