/* tcp6.c - in-order IPv6 TCP shim (see tcp6.h: enough for first-flight
 * messages, not a full reassembler). */
#include "tcp6.h"

#include <stdlib.h>
#include <string.h>

#include "../common/table.h"

typedef struct pw_tcp6_key {
    uint8_t a[16], b[16];
    uint16_t pa, pb;
} pw_tcp6_key;

typedef struct pw_tcp6 {
    pw_tcp6_key key;
    UT_hash_handle hh;
    struct pw_tcp6 *prev, *next; /* LRU */
    pw_stream_info si;
    bool open;       /* SYN-ACK seen and stream_open accepted it */
    bool ignored;
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

static void destroy(pw_tcp6_table *t, pw_tcp6 *s, int how)
{
    if (s->open && s->user && t->cb->stream_close)
        t->cb->stream_close(t->cb->arg, s->user, how);
    HASH_DEL(t->hash, s);
    lru_unlink(t, s);
    t->count--;
    free(s->buf[0]);
    free(s->buf[1]);
    free(s);
}

void pw_tcp6_exit(pw_tcp6_table *t)
{
    while (t->lru_head)
        destroy(t, t->lru_head, PW_STREAM_EXITING);
}

static void make_key(const pw_pkt *p, pw_tcp6_key *k)
{
    memset(k, 0, sizeof *k);
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
        s->buf[dir] = malloc(PW_TCP6_BUF);
        if (!s->buf[dir]) {
            t->nomem++;
            return false;
        }
    }
    memmove(s->buf[dir], p + used, rest);
    s->blen[dir] = (uint32_t)rest;
    return true;
}

void pw_tcp6_packet(pw_tcp6_table *t, const pw_pkt *pkt)
{
    if (pkt->proto != PW_IPPROTO_TCP || pkt->src.family != 6)
        return;
    /* idle streams time out in packet time */
    while (t->lru_head && pkt->ts - t->lru_head->last > PW_TCP6_IDLE_TIMEOUT)
        destroy(t, t->lru_head, PW_STREAM_TIMED_OUT);

    pw_tcp6_key k;
    make_key(pkt, &k);
    pw_tcp6 *s = NULL;
    HASH_FIND(hh, t->hash, &k, sizeof k, s);
    uint8_t fl = pkt->tcp_flags;
    if (!s) {
        if ((fl & (PW_TH_SYN | PW_TH_ACK | PW_TH_RST)) != PW_TH_SYN)
            return; /* only a client SYN starts a stream */
        if (t->count >= PW_TCP6_MAX_STREAMS)
            destroy(t, t->lru_head, PW_STREAM_TIMED_OUT);
        s = calloc(1, sizeof *s);
        if (!s) {
            t->nomem++;
            return;
        }
        s->key = k;
        s->si.source = t->source;
        s->si.client = pkt->src;
        s->si.server = pkt->dst;
        s->si.client_port = pkt->sport;
        s->si.server_port = pkt->dport;
        s->isn[0] = pkt->seq;
        s->last = pkt->ts;
        HASH_ADD(hh, t->hash, key, sizeof s->key, s);
        lru_append(t, s);
        t->count++;
        return;
    }
    s->last = pkt->ts;
    lru_unlink(t, s);
    lru_append(t, s);
    if (s->ignored) {
        if (fl & (PW_TH_RST | PW_TH_FIN))
            destroy(t, s, PW_STREAM_CLOSED); /* never opened: no callback */
        return;
    }
    int dir = (pw_addr_eq(&pkt->src, &s->si.client) && pkt->sport == s->si.client_port)
                  ? PW_DIR_TO_SERVER
                  : PW_DIR_TO_CLIENT;
    if (!s->open) {
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
            s->user = t->cb->stream_open ? t->cb->stream_open(t->cb->arg, &s->si, pkt) : NULL;
            if (!s->user) {
                s->ignored = true;
                return;
            }
            s->open = true;
            t->opened++;
        }
        return;
    }
    if (fl & PW_TH_SYN)
        return; /* retransmitted SYN / SYN-ACK */
    uint32_t seq = pkt->seq;
    uint32_t len = pkt->payload_len;
    if (len && !s->gap[dir]) {
        int32_t ahead = sdiff(seq, s->next_seq[dir]);
        if (ahead > 0) {
            s->gap[dir] = true; /* a hole: first flight is over for this direction */
        } else if ((uint32_t)(-ahead) < len) {
            uint32_t skip = (uint32_t)(-ahead);
            pw_cursor pc = pw_cur(pkt->payload, len);
            pw_skip(&pc, skip);
            size_t n = pw_cur_left(&pc);
            const uint8_t *p = pw_cur_view(&pc, n);
            s->next_seq[dir] += (uint32_t)n;
            if (pkt->payload_truncated)
                s->gap[dir] = true; /* the rest of this segment is missing */
            if (!deliver(t, s, dir, p, n, pkt)) {
                destroy(t, s, PW_STREAM_CLOSED);
                return;
            }
        }
    }
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
