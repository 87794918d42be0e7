/* deadlines.c - the connection table's timer queue (see deadlines.h). */
#include "deadlines.h"
#include "../common/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define NFIFO 4
/* loc[idx] says where record idx's entry is: a heap position, or IN_FIFO
 * with the FIFO's number and the entry's position in it.  FIFO positions
 * count modulo 2^28; a FIFO holds at most 2^27 entries. */
#define IN_FIFO 0x80000000u
#define FIFO_SHIFT 28
#define POS_MASK 0x0fffffffu
#define FIFO_LIMIT (1u << 27)
/* A 4-ary heap: half the levels of a binary one, and the four children of
 * node p (4p+1..4p+4) share a cache line when the array starts HEAP_SKEW
 * 16-byte slots before a line. */
#define HEAP_ARITY 4
#define HEAP_SKEW 3

typedef struct fifo {
    pw_deadline *e; /* ring of cap entries (a power of two; 0 until used) */
    uint32_t cap;
    uint32_t head;  /* position of the first entry, always a live one */
    uint32_t len;   /* entries from head on, tombstones (idx NONE) included */
    pw_usec gap;    /* key - clock of each entry when it came (while len > 0) */
} fifo;

struct pw_deadlines {
    pw_deadline *heap; /* heapmem + HEAP_SKEW */
    void *heapmem;
    uint32_t heapn, heapcap;
    fifo f[NFIFO];
    uint32_t fifo_max;
    uint32_t *loc;
    uint32_t loccap;
    uint32_t seq, n;
    pw_usec clock;
    /* The first entry and where it is (first()), kept while nothing could
     * have changed it: the table asks for it at every packet. */
    bool top_known;
    int top_where;
    pw_deadline top;
};

static inline bool before(pw_deadline a, pw_deadline b)
{
    return a.key < b.key || (a.key == b.key && (int32_t)(a.seq - b.seq) < 0);
}

/* ---- heap ------------------------------------------------------------------ */

static inline void heap_set(pw_deadlines *q, uint32_t pos, pw_deadline d)
{
    q->heap[pos] = d;
    q->loc[d.idx] = pos;
}

static void sift_up(pw_deadlines *q, uint32_t pos)
{
    pw_deadline d = q->heap[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / HEAP_ARITY;
        if (!before(d, q->heap[parent]))
            break;
        heap_set(q, pos, q->heap[parent]);
        pos = parent;
    }
    heap_set(q, pos, d);
}

static void sift_down(pw_deadlines *q, uint32_t pos)
{
    pw_deadline d = q->heap[pos];
    uint32_t n = q->heapn;
    for (;;) {
        uint32_t first = HEAP_ARITY * pos + 1;
        if (first >= n)
            break;
        uint32_t end = n - first < HEAP_ARITY ? n : first + HEAP_ARITY;
        uint32_t m = first;
        for (uint32_t k = first + 1; k < end; k++)
            if (before(q->heap[k], q->heap[m]))
                m = k;
        if (!before(q->heap[m], d))
            break;
        heap_set(q, pos, q->heap[m]);
        pos = m;
    }
    heap_set(q, pos, d);
}

static void heap_push(pw_deadlines *q, pw_deadline d)
{
    if (q->heapn == q->heapcap) {
        uint32_t nc = q->heapcap ? q->heapcap * 2 : 1024;
        void *mem = pw_xaligned(64, ((size_t)nc + HEAP_SKEW) * sizeof(pw_deadline));
        if (q->heapn)
            memcpy((pw_deadline *)mem + HEAP_SKEW, q->heap, (size_t)q->heapn * sizeof(pw_deadline));
        free(q->heapmem);
        q->heapmem = mem;
        q->heap = (pw_deadline *)mem + HEAP_SKEW;
        q->heapcap = nc;
    }
    uint32_t pos = q->heapn++;
    heap_set(q, pos, d);
    sift_up(q, pos);
}

static void heap_remove(pw_deadlines *q, uint32_t pos)
{
    uint32_t last = --q->heapn;
    if (pos == last)
        return;
    pw_deadline old = q->heap[pos];
    heap_set(q, pos, q->heap[last]);
    if (before(q->heap[pos], old))
        sift_up(q, pos);
    else
        sift_down(q, pos);
}

/* ---- FIFOs ----------------------------------------------------------------- */

static inline pw_deadline *fifo_at(const fifo *f, uint32_t pos)
{
    return &f->e[pos & (f->cap - 1)];
}

static void fifo_grow(fifo *f)
{
    uint32_t nc = f->cap ? f->cap * 2 : 1024;
    pw_deadline *e = pw_xmalloc((size_t)nc * sizeof *e);
    for (uint32_t k = 0; k < f->len; k++) {
        uint32_t pos = (f->head + k) & POS_MASK;
        e[pos & (nc - 1)] = *fifo_at(f, pos);
    }
    free(f->e);
    f->e = e;
    f->cap = nc;
}

static void fifo_append(pw_deadlines *q, uint32_t i, pw_deadline d)
{
    fifo *f = &q->f[i];
    if (!f->len)
        f->gap = d.key - q->clock;
    if (f->len == f->cap)
        fifo_grow(f);
    uint32_t pos = (f->head + f->len) & POS_MASK;
    *fifo_at(f, pos) = d;
    f->len++;
    q->loc[d.idx] = IN_FIFO | i << FIFO_SHIFT | pos;
}

/* Drops the tombstones at the head, so that the head is a live entry. */
static void fifo_trim(fifo *f)
{
    while (f->len && fifo_at(f, f->head)->idx == NONE) {
        f->head = (f->head + 1) & POS_MASK;
        f->len--;
    }
}

/* The FIFO d may be appended to, or -1.  An entry goes to the FIFO of its
 * gap if it sorts after that FIFO's tail; an empty FIFO takes a new gap
 * only when may_open (a new record or a lowered deadline, whose gaps are
 * the table's constants; a key raised at the top has an arbitrary one). */
static int fifo_for(const pw_deadlines *q, pw_deadline d, bool may_open)
{
    pw_usec gap = d.key - q->clock;
    int empty = -1;
    for (int i = 0; i < NFIFO; i++) {
        const fifo *f = &q->f[i];
        if (!f->len) {
            if (empty < 0)
                empty = i;
        } else if (f->gap == gap) {
            bool fits = f->len < q->fifo_max && before(*fifo_at(f, f->head + f->len - 1), d);
            return fits ? i : -1;
        }
    }
    return may_open ? empty : -1;
}

static void place(pw_deadlines *q, pw_deadline d, bool may_open)
{
    int i = fifo_for(q, d, may_open);
    if (i >= 0)
        fifo_append(q, (uint32_t)i, d);
    else
        heap_push(q, d);
}

/* Takes the entry at loc out of its FIFO (a tombstone unless at the head). */
static void fifo_take(pw_deadlines *q, uint32_t loc)
{
    fifo *f = &q->f[(loc & ~IN_FIFO) >> FIFO_SHIFT];
    fifo_at(f, loc & POS_MASK)->idx = NONE;
    fifo_trim(f);
}

/* ---- the first entry ------------------------------------------------------ */

/* Where the first entry is: a FIFO's number, NFIFO for the heap, -1 when
 * the queue is empty. */
static int first(pw_deadlines *q)
{
    if (q->top_known)
        return q->top_where;
    int w = q->heapn ? NFIFO : -1;
    const pw_deadline *best = q->heapn ? &q->heap[0] : NULL;
    for (int i = 0; i < NFIFO; i++) {
        const fifo *f = &q->f[i];
        if (f->len && (!best || before(*fifo_at(f, f->head), *best))) {
            best = fifo_at(f, f->head);
            w = i;
        }
    }
    q->top_known = true;
    q->top_where = w;
    if (best)
        q->top = *best;
    return w;
}

/* An entry d was added or moved earlier: the first one may now be d. */
static void maybe_first(pw_deadlines *q, pw_deadline d)
{
    if (q->top_known && (q->top_where < 0 || before(d, q->top)))
        q->top_known = false;
}

/* Record idx's entry goes: if it was the first, another one is. */
static void maybe_not_first(pw_deadlines *q, uint32_t idx)
{
    if (q->top_known && q->top_where >= 0 && q->top.idx == idx)
        q->top_known = false;
}

/* ---- the queue ------------------------------------------------------------- */

pw_deadlines *pw_deadlines_new(uint32_t fifo_max)
{
    pw_deadlines *q = pw_xcalloc(1, sizeof *q);
    q->fifo_max = fifo_max && fifo_max < FIFO_LIMIT ? fifo_max : FIFO_LIMIT;
    return q;
}

void pw_deadlines_free(pw_deadlines *q)
{
    if (!q)
        return;
    for (int i = 0; i < NFIFO; i++)
        free(q->f[i].e);
    free(q->heapmem);
    free(q->loc);
    free(q);
}

void pw_deadlines_clock(pw_deadlines *q, pw_usec now)
{
    if (now > q->clock)
        q->clock = now;
}

void pw_deadlines_push(pw_deadlines *q, uint32_t idx, pw_usec key)
{
    if (idx >= q->loccap) {
        uint32_t nc = q->loccap ? q->loccap * 2 : 1024;
        while (nc <= idx)
            nc *= 2;
        q->loc = pw_xrealloc(q->loc, nc, sizeof *q->loc);
        q->loccap = nc;
    }
    pw_deadline d = {key, idx, q->seq++};
    maybe_first(q, d);
    place(q, d, true);
    q->n++;
}

void pw_deadlines_remove(pw_deadlines *q, uint32_t idx)
{
    maybe_not_first(q, idx);
    uint32_t loc = q->loc[idx];
    if (loc & IN_FIFO)
        fifo_take(q, loc);
    else
        heap_remove(q, loc);
    q->n--;
}

void pw_deadlines_lower(pw_deadlines *q, uint32_t idx, pw_usec key)
{
    uint32_t loc = q->loc[idx];
    if (!(loc & IN_FIFO)) {
        if (key < q->heap[loc].key) {
            q->heap[loc].key = key;
            maybe_first(q, q->heap[loc]);
            sift_up(q, loc);
        }
        return;
    }
    pw_deadline d = *fifo_at(&q->f[(loc & ~IN_FIFO) >> FIFO_SHIFT], loc & POS_MASK);
    if (key >= d.key)
        return;
    maybe_not_first(q, idx);
    fifo_take(q, loc);
    d.key = key;
    maybe_first(q, d);
    place(q, d, true);
}

bool pw_deadlines_top(pw_deadlines *q, pw_deadline *top)
{
    if (first(q) < 0)
        return false;
    *top = q->top;
    return true;
}

void pw_deadlines_raise_top(pw_deadlines *q, pw_usec key)
{
    int w = first(q);
    if (w < 0)
        return;
    q->top_known = false;
    if (w == NFIFO) {
        q->heap[0].key = key;
        sift_down(q, 0);
        return;
    }
    fifo *f = &q->f[w];
    pw_deadline d = *fifo_at(f, f->head);
    fifo_take(q, IN_FIFO | (uint32_t)w << FIFO_SHIFT | f->head);
    d.key = key;
    place(q, d, false);
}

uint32_t pw_deadlines_peek(pw_deadlines *q, uint32_t *idx, uint32_t n)
{
    int w = first(q);
    if (w < 0 || !n)
        return 0;
    uint32_t k = 0;
    if (w == NFIFO) {
        for (uint32_t p = 0; p <= HEAP_ARITY && p < q->heapn && k < n; p++)
            idx[k++] = q->heap[p].idx;
        return k;
    }
    const fifo *f = &q->f[w];
    for (uint32_t j = 0; j < f->len && j < 2 * n && k < n; j++) {
        const pw_deadline *d = fifo_at(f, f->head + j);
        if (d->idx != NONE)
            idx[k++] = d->idx;
    }
    return k;
}

void pw_deadlines_each(const pw_deadlines *q, void (*fn)(void *arg, uint32_t idx), void *arg)
{
    for (uint32_t k = 0; k < q->heapn; k++)
        fn(arg, q->heap[k].idx);
    for (int i = 0; i < NFIFO; i++) {
        const fifo *f = &q->f[i];
        for (uint32_t j = 0; j < f->len; j++) {
            const pw_deadline *d = fifo_at(f, f->head + j);
            if (d->idx != NONE)
                fn(arg, d->idx);
        }
    }
}

uint32_t pw_deadlines_count(const pw_deadlines *q)
{
    return q->n;
}
