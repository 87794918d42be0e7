/* conn.c - the connection table's storage: pools, symmetric 4-tuple hash,
 * destination-address table, with deadlines.h's timer queue (see conn.h). */
#include "conn.h"
#include "deadlines.h"
#include "../common/hash.h"
#include "../common/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define NONE PW_CONN_NONE
#define CHUNK_SHIFT 12u
#define CHUNK_SIZE (1u << CHUNK_SHIFT)
#define CHUNK_MASK (CHUNK_SIZE - 1u)
#define NEVER PW_USEC_NEVER

typedef struct host {
    pw_addr addr;
    pw_usec last_seen;     /* last time seen as a destination, NEVER if not */
    uint32_t hash, hnext, refs; /* hnext: freelist link */
} host;

/* The FIFO of hosts, oldest first, by when each was (re)queued: an array
 * ring holding the hash beside the index, so the hosts about to be looked
 * at, and their index slots, can be loaded before they are reached. */
typedef struct qent {
    pw_usec ts;
    uint32_t idx, hash;
} qent;
#define QUEUE_AHEAD 4

/* An open-addressing index (linear probing, at most half full): the hash
 * beside the index, so a probe that finds no match touches one cache line
 * and no record.  The records and hosts live in the pools. */
typedef struct islot {
    uint32_t hash, idx;
} islot;

typedef struct oa_index {
    islot *s;
    uint32_t mask;
} index_t;

typedef struct pool {
    void **chunks;
    uint32_t nchunks, capchunks;
    uint32_t next;   /* first never-used slot */
    uint32_t free;   /* freelist head */
} pool;

struct pw_conns {
    pw_conn_removed_fn removed;
    pw_conn_upcoming_fn upcoming;
    void *arg;
    uint32_t cap;
    pw_usec clock, host_window;

    pool cp;              /* records */
    index_t ci;           /* record index */
    pw_conn *last;        /* the record found last: a bulk flow's packets come
                             in runs, and its events follow its packets */
    uint32_t n, peak;
    bool closing;         /* pw_conns_close: the index and pins are left as they are */
    pw_deadlines *due;    /* every live record's deadline */

    pool hp;              /* destination addresses */
    index_t hi;           /* host index */
    uint32_t nhosts, peak_hosts, host_cap;
    qent *q;              /* every live host once */
    uint32_t qcap, qhead, qlen;
};

/* ---- pools (out of memory ends the run: common/xalloc.h) ------------------ */

static inline pw_conn *C(const pw_conns *t, uint32_t i)
{
    return (pw_conn *)t->cp.chunks[i >> CHUNK_SHIFT] + (i & CHUNK_MASK);
}

static inline host *H(const pw_conns *t, uint32_t i)
{
    return (host *)t->hp.chunks[i >> CHUNK_SHIFT] + (i & CHUNK_MASK);
}

/* A free slot index: the freelist first, else a never-used one, adding a
 * chunk when needed (rare).  `next_of` reads a free slot's link. */
static uint32_t pool_take(pool *p, size_t elem, uint32_t *(*next_of)(void *slot))
{
    if (p->free != NONE) {
        uint32_t i = p->free;
        void *slot = (char *)p->chunks[i >> CHUNK_SHIFT] + (size_t)(i & CHUNK_MASK) * elem;
        p->free = *next_of(slot);
        return i;
    }
    if (p->next == p->nchunks * CHUNK_SIZE) {
        if (p->nchunks == p->capchunks) {
            uint32_t nc = p->capchunks ? p->capchunks * 2 : 16;
            void **c = pw_xrealloc(p->chunks, nc, sizeof *c);
            p->chunks = c;
            p->capchunks = nc;
        }
        p->chunks[p->nchunks++] = pw_xcalloc(CHUNK_SIZE, elem);
    }
    return p->next++;
}

static uint32_t *conn_link(void *slot) { return &((pw_conn *)slot)->hnext; }
static uint32_t *host_link(void *slot) { return &((host *)slot)->hnext; }

static void pool_free_all(pool *p)
{
    for (uint32_t i = 0; i < p->nchunks; i++)
        free(p->chunks[i]);
    free(p->chunks);
    memset(p, 0, sizeof *p);
}

/* ---- open-addressing index ------------------------------------------------ */

static void index_init(index_t *x, uint32_t n)
{
    x->s = pw_xmalloc((size_t)n * sizeof *x->s);
    memset(x->s, 0xff, (size_t)n * sizeof *x->s);
    x->mask = n - 1;
}

static void index_free(index_t *x)
{
    free(x->s);
}

static void index_put(index_t *x, uint32_t h, uint32_t idx)
{
    uint32_t i = h & x->mask;
    while (x->s[i].idx != NONE)
        i = (i + 1) & x->mask;
    x->s[i] = (islot){h, idx};
}

/* Removes idx (present) and shifts the entries behind it back, so that no
 * probe sequence is broken and no tombstone is needed. */
static void index_del(index_t *x, uint32_t h, uint32_t idx)
{
    uint32_t i = h & x->mask;
    while (x->s[i].idx != idx)
        i = (i + 1) & x->mask;
    for (uint32_t j = (i + 1) & x->mask; x->s[j].idx != NONE; j = (j + 1) & x->mask) {
        uint32_t home = x->s[j].hash & x->mask;
        /* j's entry may move to i when its home is not in (i, j] */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            x->s[i] = x->s[j];
            i = j;
        }
    }
    x->s[i] = (islot){NONE, NONE};
}

/* ---- hashing -------------------------------------------------------------- */

/* An endpoint as one word: multiplied, not yet mixed (the sum of both
 * endpoints is mixed once, which is what makes conn_hash cheap enough for
 * every packet). */
static inline uint64_t ep_word(const pw_addr *a, uint16_t port)
{
    uint64_t x, y;
    memcpy(&x, a->b, 8);
    memcpy(&y, a->b + 8, 8);
    return x * 0x9e3779b97f4a7c15ULL ^ y * 0xc2b2ae3d27d4eb4fULL ^ ((uint64_t)port << 8 | a->family);
}

/* Symmetric: the same for both orientations of the 4-tuple. */
static inline uint32_t conn_hash(uint8_t proto, const pw_addr *a, uint16_t ap, const pw_addr *b,
                                 uint16_t bp)
{
    uint64_t h = pw_fmix64(ep_word(a, ap) + ep_word(b, bp) + proto);
    return (uint32_t)(h ^ (h >> 32));
}

static inline uint32_t host_hash(const pw_addr *a)
{
    uint64_t h = pw_fmix64(ep_word(a, 0xffff));
    return (uint32_t)(h ^ (h >> 32));
}

static inline bool addr_eq(const pw_addr *x, const pw_addr *y)
{
    return x->family == y->family && memcmp(x->b, y->b, 16) == 0;
}

/* ---- deadlines ------------------------------------------------------------ */

/* Later deadlines are applied lazily (the queue's key is raised when it
 * reaches the top); earlier ones at once. */
void pw_conn_set_deadline(pw_conns *t, pw_conn *c, pw_usec d)
{
    c->deadline = d;
    pw_deadlines_lower(t->due, c->idx, d);
}

void pw_conn_extend(pw_conns *t, pw_conn *c, pw_usec d)
{
    if (d > c->deadline)
        pw_conn_set_deadline(t, c, d);
}

/* The first record with its queue key made true (NULL when none). */
static pw_conn *first_due(pw_conns *t)
{
    pw_deadline d;
    while (pw_deadlines_top(t->due, &d)) {
        pw_conn *c = C(t, d.idx);
        if (c->deadline <= d.key)
            return c;
        pw_deadlines_raise_top(t->due, c->deadline);
    }
    return NULL;
}

pw_conn *pw_conns_due(pw_conns *t, pw_usec now, bool inclusive)
{
    pw_deadline d;
    if (!pw_deadlines_top(t->due, &d) || d.key > now || (d.key == now && !inclusive))
        return NULL;
    pw_conn *c = first_due(t);
    if (!c || c->deadline > now || (c->deadline == now && !inclusive))
        return NULL;
    return c;
}

pw_conn *pw_conns_earliest(pw_conns *t)
{
    return first_due(t);
}

/* ---- destination-address table -------------------------------------------- */

static uint32_t host_find(const pw_conns *t, const pw_addr *a, uint32_t h)
{
    for (uint32_t i = h & t->hi.mask;; i = (i + 1) & t->hi.mask) {
        islot s = t->hi.s[i];
        if (s.idx == NONE)
            return NONE;
        if (s.hash == h && addr_eq(&H(t, s.idx)->addr, a))
            return s.idx;
    }
}

static void host_unlink_free(pw_conns *t, uint32_t i)
{
    host *e = H(t, i);
    index_del(&t->hi, e->hash, i);
    e->hnext = t->hp.free;
    t->hp.free = i;
    t->nhosts--;
}

static inline qent *qat(const pw_conns *t, uint32_t k)
{
    return &t->q[(t->qhead + k) & (t->qcap - 1)];
}

static void queue_grow(pw_conns *t)
{
    uint32_t nc = t->qcap ? t->qcap * 2 : 1024;
    qent *nq = pw_xmalloc((size_t)nc * sizeof *nq);
    for (uint32_t k = 0; k < t->qlen; k++)
        nq[k] = *qat(t, k);
    free(t->q);
    t->q = nq;
    t->qcap = nc;
    t->qhead = 0;
}

static void host_enqueue(pw_conns *t, uint32_t i, uint32_t hash)
{
    if (t->qlen == t->qcap)
        queue_grow(t);
    *qat(t, t->qlen++) = (qent){t->clock, i, hash};
}

static qent host_dequeue(pw_conns *t)
{
    qent e = *qat(t, 0);
    t->qhead = (t->qhead + 1) & (t->qcap - 1);
    t->qlen--;
    if (t->qlen > QUEUE_AHEAD) {
        const qent *n = qat(t, QUEUE_AHEAD);
        __builtin_prefetch(H(t, n->idx));
        __builtin_prefetch(&t->hi.s[n->hash & t->hi.mask]);
    }
    return e;
}

/* Forget addresses not seen as a destination for host_window (unless pinned). */
static void hosts_expire(pw_conns *t)
{
    pw_usec cutoff = t->clock - t->host_window;
    while (t->qlen && qat(t, 0)->ts < cutoff) {
        qent q = host_dequeue(t);
        host *e = H(t, q.idx);
        if (e->refs == 0 && e->last_seen < cutoff)
            host_unlink_free(t, q.idx);
        else
            host_enqueue(t, q.idx, q.hash);
    }
}

static void hosts_rehash(pw_conns *t)
{
    uint32_t nsize = (t->hi.mask + 1) * 2;
    index_free(&t->hi);
    index_init(&t->hi, nsize);
    for (uint32_t k = 0; k < t->qlen; k++) /* every live host is queued */
        index_put(&t->hi, qat(t, k)->hash, qat(t, k)->idx);
}

static uint32_t host_insert(pw_conns *t, const pw_addr *a, uint32_t h, pw_usec seen)
{
    if (t->nhosts >= t->host_cap) {
        /* Full: drop the oldest unpinned entry.  Pinned entries are at most
         * two per record, fewer than host_cap, so this terminates. */
        for (;;) {
            qent q = host_dequeue(t);
            if (H(t, q.idx)->refs == 0) {
                host_unlink_free(t, q.idx);
                break;
            }
            host_enqueue(t, q.idx, q.hash);
        }
    }
    if (t->nhosts >= (t->hi.mask + 1) / 2)
        hosts_rehash(t);
    uint32_t i = pool_take(&t->hp, sizeof(host), host_link);
    host *e = H(t, i);
    e->addr = *a;
    e->last_seen = seen;
    e->hash = h;
    e->refs = 0;
    index_put(&t->hi, h, i);
    host_enqueue(t, i, h);
    if (++t->nhosts > t->peak_hosts)
        t->peak_hosts = t->nhosts;
    return i;
}

static inline void host_seen(pw_conns *t, uint32_t i, pw_usec ts)
{
    host *e = H(t, i);
    if (ts > e->last_seen)
        e->last_seen = ts;
}

/* The entry for `a`, pinned (created as never seen when new). */
static uint32_t host_pin(pw_conns *t, const pw_addr *a)
{
    uint32_t h = host_hash(a);
    uint32_t i = host_find(t, a, h);
    if (i == NONE)
        i = host_insert(t, a, h, NEVER);
    H(t, i)->refs++;
    return i;
}

void pw_conns_clock(pw_conns *t, pw_usec now)
{
    t->clock = now;
    pw_deadlines_clock(t->due, now);
    if (t->qlen)
        hosts_expire(t);
}

void pw_conns_dest_seen(pw_conns *t, const pw_conn *c, int side, const pw_addr *dst, pw_usec ts)
{
    if (c) {
        host_seen(t, side == 0 ? c->hcli : c->hsrv, ts);
        return;
    }
    if (pw_addr_is_group(dst))
        return;
    uint32_t h = host_hash(dst);
    uint32_t i = host_find(t, dst, h);
    if (i == NONE)
        host_insert(t, dst, h, ts);
    else
        host_seen(t, i, ts);
}

pw_usec pw_conn_client_last_seen(const pw_conns *t, const pw_conn *c)
{
    return H(t, c->hcli)->last_seen;
}

uint32_t pw_conns_hosts(const pw_conns *t) { return t->nhosts; }
uint32_t pw_conns_hosts_peak(const pw_conns *t) { return t->peak_hosts; }

/* ---- records -------------------------------------------------------------- */

pw_conns *pw_conns_new(uint32_t cap, pw_usec host_window, pw_conn_removed_fn removed, void *arg)
{
    pw_conns *t = pw_xcalloc(1, sizeof *t);
    t->cap = cap ? cap : 1;
    t->host_window = host_window;
    t->removed = removed;
    t->arg = arg;
    /* Pinned hosts <= 2 * records < host_cap. */
    t->host_cap = t->cap > UINT32_MAX / 4 ? UINT32_MAX - 1 : t->cap * 2 + 1024;
    t->cp.free = t->hp.free = NONE;
    index_init(&t->ci, 1024);
    index_init(&t->hi, 1024);
    t->due = pw_deadlines_new(t->cap);
    return t;
}

/* Whether c is the connection of this 4-tuple, and which way (*fwd: a is
 * the client). */
static bool is_conn(const pw_conn *c, uint8_t proto, const pw_addr *a, uint16_t ap, const pw_addr *b,
                    uint16_t bp, bool *fwd)
{
    if (c->a.proto != proto)
        return false;
    if (c->a.client_port == ap && c->a.port == bp && addr_eq(&c->a.client, a) && addr_eq(&c->a.server, b)) {
        *fwd = true;
        return true;
    }
    if (c->a.client_port == bp && c->a.port == ap && addr_eq(&c->a.client, b) && addr_eq(&c->a.server, a)) {
        *fwd = false;
        return true;
    }
    return false;
}

pw_conn *pw_conn_find(pw_conns *t, uint8_t proto, const pw_addr *a, uint16_t ap, const pw_addr *b, uint16_t bp,
                      bool *fwd)
{
    if (t->last && is_conn(t->last, proto, a, ap, b, bp, fwd))
        return t->last;
    uint32_t h = conn_hash(proto, a, ap, b, bp);
    for (uint32_t i = h & t->ci.mask;; i = (i + 1) & t->ci.mask) {
        islot s = t->ci.s[i];
        if (s.idx == NONE)
            return NULL;
        if (s.hash == h && is_conn(C(t, s.idx), proto, a, ap, b, bp, fwd))
            return t->last = C(t, s.idx);
    }
}

static void reindex(void *arg, uint32_t idx)
{
    pw_conns *t = arg;
    index_put(&t->ci, C(t, idx)->hash, idx);
}

static void conns_rehash(pw_conns *t)
{
    uint32_t nsize = (t->ci.mask + 1) * 2;
    index_free(&t->ci);
    index_init(&t->ci, nsize);
    pw_deadlines_each(t->due, reindex, t); /* every live record has a deadline */
}

pw_conn *pw_conn_new(pw_conns *t, uint8_t proto, const pw_addr *client, uint16_t cport,
                     const pw_addr *server, uint16_t sport, pw_usec ts, pw_usec deadline)
{
    if (t->n >= (t->ci.mask + 1) / 2) /* short probes */
        conns_rehash(t);
    uint32_t i = pool_take(&t->cp, sizeof(pw_conn), conn_link);
    pw_conn *c = C(t, i);
    memset(c, 0, sizeof *c);
    c->idx = i;
    c->hash = conn_hash(proto, client, cport, server, sport);
    index_put(&t->ci, c->hash, i);
    c->a.proto = proto;
    c->a.client = *client;
    c->a.server = *server;
    c->a.client_port = cport;
    c->a.port = sport;
    c->last_seen = ts;
    c->deadline = deadline;
    c->hsrv = host_pin(t, server);
    c->hcli = host_pin(t, client); /* cannot drop hsrv: it is pinned */
    pw_deadlines_push(t->due, i, deadline);
    if (++t->n > t->peak)
        t->peak = t->n;
    return c;
}

void pw_conn_recycle(pw_conns *t, pw_conn *c)
{
    if (t->removed)
        t->removed(t->arg, c);
    c->nnr = NULL;
    c->policy = NULL;
    c->app = NULL;
    c->has_attempt = c->attempt_done = false;
}

/* Every cache line record c lies on starts loading (records are several
 * lines long and not aligned to lines).  A fixed count from the record's
 * start, and its last byte: unrolled without a branch.  Stepping over the
 * lines themselves takes five or six steps by the record's alignment, a
 * branch mispredicted half the time (measured 1 to 4 % slower), where this
 * only repeats, now and then, a prefetch of a line already on its way. */
static inline void prefetch_record(const pw_conn *c)
{
    const char *p = (const char *)c, *end = p + sizeof *c - 1;
    for (; p <= end; p += 64)
        __builtin_prefetch(p);
    __builtin_prefetch(end);
}

void pw_conns_close(pw_conns *t)
{
    t->closing = true;
    t->last = NULL;
}

void pw_conn_remove(pw_conns *t, pw_conn *c)
{
    pw_conn_recycle(t, c);
    if (!t->closing) {
        H(t, c->hcli)->refs--;
        H(t, c->hsrv)->refs--;
        index_del(&t->ci, c->hash, c->idx);
        if (t->last == c)
            t->last = NULL;
    }
    pw_deadlines_remove(t->due, c->idx);
    /* Records mostly leave in deadline order (expiry, eviction): start
     * loading what the next ones' removals will touch, so that the hint
     * below finds the next record already loaded when its turn comes.
     * The removal hook reads every line of a record (the attempt's
     * responder and application fields, the module slots at its end), and
     * a record's last packet is long gone from the cache by then: all of
     * them, not just the first (4 to 7 % on short flows and floods). */
    uint32_t next[5];
    uint32_t n = pw_deadlines_peek(t->due, next, 5);
    for (uint32_t k = 1; k < n; k++)
        prefetch_record(C(t, next[k]));
    if (n) {
        const pw_conn *first = C(t, next[0]);
        __builtin_prefetch(H(t, first->hcli));
        if (!t->closing) {
            __builtin_prefetch(&t->ci.s[first->hash & t->ci.mask]);
            __builtin_prefetch(H(t, first->hsrv));
        }
        if (t->upcoming)
            t->upcoming(t->arg, first);
    }
    c->state = 0;
    c->hnext = t->cp.free;
    t->cp.free = c->idx;
    t->n--;
}

void pw_conn_reorient(pw_conn *c)
{
    uint32_t x = c->hcli;
    c->hcli = c->hsrv;
    c->hsrv = x;
}

void pw_conns_prefetch(const pw_conns *t, uint8_t proto, const pw_addr *a, uint16_t ap, const pw_addr *b,
                       uint16_t bp)
{
    __builtin_prefetch(&t->ci.s[conn_hash(proto, a, ap, b, bp) & t->ci.mask]);
    __builtin_prefetch(&t->hi.s[host_hash(a) & t->hi.mask]);
    __builtin_prefetch(&t->hi.s[host_hash(b) & t->hi.mask]);
}

void pw_conns_set_upcoming(pw_conns *t, pw_conn_upcoming_fn upcoming)
{
    t->upcoming = upcoming;
}

bool pw_conns_full(const pw_conns *t) { return t->n >= t->cap; }
uint32_t pw_conns_count(const pw_conns *t) { return t->n; }
uint32_t pw_conns_peak(const pw_conns *t) { return t->peak; }

void pw_conns_free(pw_conns *t)
{
    if (!t)
        return;
    pw_conns_close(t);
    pw_conn *c;
    while ((c = pw_conns_earliest(t)) != NULL)
        pw_conn_remove(t, c);
    pool_free_all(&t->cp);
    pool_free_all(&t->hp);
    index_free(&t->ci);
    index_free(&t->hi);
    free(t->q);
    pw_deadlines_free(t->due);
    free(t);
}
