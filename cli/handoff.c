/* handoff.c - the analysis thread and its ring (see handoff.h).
 *
 * The ring is a power-of-two byte array; head and tail count bytes written
 * and taken since the start, so (head - tail) is what waits.  A message is a
 * 16-byte header and the item, padded to 16 bytes; one that does not fit
 * before the end of the array is preceded by a pad message that skips there.
 *
 * Either side that finds nothing to do sleeps on a condition variable after
 * raising its flag and looking once more (a Dekker-style pair of sequentially
 * consistent accesses: the other side either sees the flag and wakes it, or
 * the sleeper sees the other side's progress).  Wake-ups are batched: the
 * pipeline wakes the analysis thread when a batch is waiting, the analysis
 * thread wakes the pipeline once half the ring is free, so a busy run makes
 * few system calls. */
#include "handoff.h"

#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define RING_SIZE ((size_t)1 << 19)
#define RING_MASK (RING_SIZE - 1)
#define MSG_ALIGN 16
/* Bytes produced before they are made visible to the analysis thread. */
#define PUBLISH_BATCH ((size_t)16 << 10)
/* Bytes of the ring loaded ahead of the message being read. */
#define RING_PREFETCH ((size_t)4 << 10)
/* How many messages ahead the analysis' table slots are prefetched. */
#define PREFETCH_AHEAD 8
/* Bytes waiting before a sleeping analysis thread is woken. */
#define WAKE_BATCH ((size_t)64 << 10)
/* Bytes taken before the tail is moved on, so that room shows up while a
 * long run is still being delivered. */
#define RELEASE_BATCH ((size_t)64 << 10)

/* MSG_PACKET_SHORT: a packet without its ICMP quote (not an ICMP error),
 * a third less to copy for nearly every packet: it ends with the quote's
 * `present` flag, false, and analysis reads no other quote field then. */
enum { MSG_PAD = 1, MSG_PACKET, MSG_PACKET_SHORT, MSG_EVENT, MSG_MIDSTREAM };
#define SHORT_PACKET (offsetof(pw_pkt, quote.present) + sizeof(bool))
/* Items are read in place, as far as they were copied (a packet as above,
 * an event as far as pw_event_size()).  Copying them out first cost more
 * than the analysis of an event: the copy's loads wait for the ring line
 * and the reads wait for the copy.  Bytes past the ring's end, so that
 * not even a whole-struct read of the last item leaves the allocation. */
#define RING_SLACK ((sizeof(pw_event) + 63) & ~(size_t)63)
_Static_assert(sizeof(pw_event) >= sizeof(pw_pkt) && sizeof(pw_event) >= sizeof(pw_attempt),
               "the slack covers any item");

/* Retired items (analysis.h) travel the other way, in a ring of fixed
 * slots the analysis thread fills and the pipeline's thread empties. */
#define BACK_SLOTS ((size_t)1 << 12)
#define BACK_MASK (BACK_SLOTS - 1)
/* How many retired items ahead their tables' lines are loaded (and twice
 * as far, the items' own lines, written on the other core). */
#define BACK_PREFETCH 6

typedef struct msg_hdr {
    alignas(MSG_ALIGN) uint32_t kind;
    uint32_t size; /* header and item, padded */
} msg_hdr;

/* Each line is written by one side only, or seldom (the flags): a field
 * one side reads often beside one the other writes often would bounce the
 * line between the cores. */
struct pw_handoff {
    pw_analysis *a;
    unsigned char *ring;
    pw_retired *back; /* the retired items' ring (BACK_SLOTS) */
    alignas(64) atomic_size_t head; /* written by the pipeline */
    alignas(64) atomic_size_t tail; /* taken by the analysis thread */
    alignas(64) atomic_bool consumer_sleeping;
    atomic_bool producer_sleeping;
    atomic_bool stopping;
    atomic_bool back_waiting; /* the analysis thread waits for a free retired slot */
    /* the pipeline's own */
    alignas(64) size_t produced; /* the pipeline's own copy of head */
    size_t published;            /* what head was last set to */
    size_t seen_tail;            /* tail as the pipeline last read it (reading the
                                    analysis thread's line on every message would
                                    bounce it between the cores) */
    atomic_size_t back_tail;     /* retired items finished */
    /* the analysis thread's own */
    alignas(64) atomic_size_t back_head; /* retired items handed back */
    size_t back_made;                    /* its own copy of back_head */
    size_t back_seen_tail;               /* back_tail as it last read it */
    alignas(64) pthread_mutex_t mu;
    pthread_cond_t consumer_cv, producer_cv;
    pthread_t thread;
};

/* The handoff whose analysis thread this is (NULL on any other thread):
 * only that thread hands retired items back. */
static _Thread_local pw_handoff *tl_analysis_of;

static size_t padded(size_t n)
{
    return (n + MSG_ALIGN - 1) & ~(size_t)(MSG_ALIGN - 1);
}

/* Wakes the side whose flag is raised. */
static void wake(pw_handoff *h, atomic_bool *sleeping, pthread_cond_t *cv)
{
    if (!atomic_load(sleeping))
        return;
    pthread_mutex_lock(&h->mu);
    atomic_store(sleeping, false);
    pthread_cond_signal(cv);
    pthread_mutex_unlock(&h->mu);
}

/* Sleeps until woken, unless `ready` already holds after the flag is up. */
static void sleep_unless(pw_handoff *h, atomic_bool *sleeping, pthread_cond_t *cv,
                         bool (*ready)(pw_handoff *))
{
    atomic_store(sleeping, true);
    if (ready(h)) {
        atomic_store(sleeping, false);
        return;
    }
    pthread_mutex_lock(&h->mu);
    while (atomic_load(sleeping) && !ready(h))
        pthread_cond_wait(cv, &h->mu);
    atomic_store(sleeping, false);
    pthread_mutex_unlock(&h->mu);
}

/* ---- the analysis thread -------------------------------------------------- */

static bool has_work(pw_handoff *h)
{
    return atomic_load(&h->head) != atomic_load(&h->tail) || atomic_load(&h->stopping);
}

static void deliver(pw_handoff *h, const msg_hdr *m)
{
    const void *item = m + 1;
    switch (m->kind) {
    case MSG_PACKET:
    case MSG_PACKET_SHORT: pw_analysis_packet(h->a, item); break;
    case MSG_EVENT: pw_analysis_event(h->a, item); break;
    case MSG_MIDSTREAM: pw_analysis_midstream(h->a, item); break;
    default: break; /* MSG_PAD */
    }
}

/* Hands the bytes before t back to the pipeline.  A pipeline waiting for
 * room is woken only once half the ring is free (or all of it, for a sync),
 * so that a run the analysis holds back makes a few wake-ups per ring, not
 * one per batch. */
static void release(pw_handoff *h, size_t t)
{
    atomic_store(&h->tail, t);
    if (atomic_load(&h->head) - t <= RING_SIZE / 2)
        wake(h, &h->producer_sleeping, &h->producer_cv);
}

/* ---- retired items, from the analysis thread back to the pipeline's ---- */

static bool back_room(pw_handoff *h)
{
    return h->back_made - atomic_load(&h->back_tail) < BACK_SLOTS;
}

/* The retire sink's reserve() (analysis.h): a free slot, waiting for the
 * pipeline to finish items while all are taken; NULL off the analysis
 * thread, whose removals then finish their items themselves. */
static pw_retired *back_reserve(void *arg)
{
    pw_handoff *h = arg;
    if (tl_analysis_of != h)
        return NULL;
    if (h->back_made - h->back_seen_tail == BACK_SLOTS) {
        while (!back_room(h)) {
            atomic_store(&h->back_waiting, true);
            wake(h, &h->producer_sleeping, &h->producer_cv);
            sleep_unless(h, &h->back_waiting, &h->consumer_cv, back_room);
        }
        h->back_seen_tail = atomic_load(&h->back_tail);
    }
    return &h->back[h->back_made & BACK_MASK];
}

/* The slot after next starts coming to this core for writing: its lines
 * were last read on the pipeline's. */
static void back_commit(void *arg)
{
    pw_handoff *h = arg;
    atomic_store_explicit(&h->back_head, ++h->back_made, memory_order_release);
    const char *next = (const char *)&h->back[(h->back_made + 1) & BACK_MASK];
    for (size_t at = 0; at < sizeof(pw_retired); at += 64)
        __builtin_prefetch(next + at, 1);
}

static void load_item(const pw_retired *r)
{
    for (size_t at = 0; at < sizeof *r; at += 64)
        __builtin_prefetch((const char *)r + at);
}

/* On the pipeline's thread: finishes the items handed back so far, the
 * table lines of the items BACK_PREFETCH further on loading meanwhile. */
static void take_retired(pw_handoff *h)
{
    size_t t = atomic_load_explicit(&h->back_tail, memory_order_relaxed);
    size_t end = atomic_load_explicit(&h->back_head, memory_order_acquire);
    if (t == end)
        return;
    size_t ahead = t, loaded = t;
    for (; loaded != end && loaded - t < 2 * BACK_PREFETCH; loaded++)
        load_item(&h->back[loaded & BACK_MASK]);
    for (; ahead != end && ahead - t < BACK_PREFETCH; ahead++)
        pw_analysis_retired_prefetch(h->a, &h->back[ahead & BACK_MASK]);
    for (; t != end; t++) {
        if (loaded != end)
            load_item(&h->back[loaded++ & BACK_MASK]);
        if (ahead != end)
            pw_analysis_retired_prefetch(h->a, &h->back[ahead++ & BACK_MASK]);
        pw_analysis_retired(h->a, &h->back[t & BACK_MASK]);
    }
    atomic_store(&h->back_tail, t);
    if (atomic_load(&h->back_waiting))
        wake(h, &h->back_waiting, &h->consumer_cv);
}

static void *analysis_main(void *arg)
{
    pw_handoff *h = arg;
    tl_analysis_of = h;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the pipeline's */
    size_t t = atomic_load(&h->tail);
    for (;;) {
        size_t end = atomic_load(&h->head);
        if (t == end) {
            if (atomic_load(&h->stopping))
                break;
            sleep_unless(h, &h->consumer_sleeping, &h->consumer_cv, has_work);
            continue;
        }
        /* The table slots of the packets PREFETCH_AHEAD messages on start
         * loading while these are delivered. */
        size_t ahead = t, fetched = t;
        int lead = 0;
        while (t != end) {
            /* The ring's lines were written on the other core: they start
             * moving here well before the messages in them are read. */
            for (; fetched < end && fetched - t < RING_PREFETCH; fetched += 64)
                __builtin_prefetch(h->ring + (fetched & RING_MASK));
            for (; lead < PREFETCH_AHEAD && ahead != end; lead++) {
                const msg_hdr *m = (const msg_hdr *)(h->ring + (ahead & RING_MASK));
                if (m->kind == MSG_PACKET || m->kind == MSG_PACKET_SHORT) /* reads no quote */
                    pw_analysis_prefetch(h->a, (const pw_pkt *)(const void *)(m + 1));
                ahead += m->size;
            }
            const msg_hdr *m = (const msg_hdr *)(h->ring + (t & RING_MASK));
            deliver(h, m);
            t += m->size;
            lead--;
            if (t - atomic_load_explicit(&h->tail, memory_order_relaxed) >= RELEASE_BATCH)
                release(h, t);
        }
        release(h, t);
    }
    return NULL;
}

/* ---- the pipeline's side -------------------------------------------------- */

/* What the pipeline waits for: room in the ring, or the analysis thread
 * done with everything; either way it wakes when the analysis thread waits
 * for it to finish retired items. */
static bool half_free(pw_handoff *h)
{
    return atomic_load(&h->head) - atomic_load(&h->tail) <= RING_SIZE / 2 || atomic_load(&h->back_waiting);
}

static bool drained(pw_handoff *h)
{
    return atomic_load(&h->head) == atomic_load(&h->tail);
}

static bool drained_or_back_full(pw_handoff *h)
{
    return drained(h) || atomic_load(&h->back_waiting);
}

/* Makes what was produced visible, in batches of PUBLISH_BATCH bytes
 * unless forced: a sequentially consistent store is a full barrier. */
static void publish(pw_handoff *h, bool force)
{
    if (!force && h->produced - h->published < PUBLISH_BATCH)
        return;
    atomic_store(&h->head, h->produced);
    h->published = h->produced;
    take_retired(h);
    if (!atomic_load(&h->consumer_sleeping))
        return;
    h->seen_tail = atomic_load(&h->tail);
    if (force || h->produced - h->seen_tail >= WAKE_BATCH)
        wake(h, &h->consumer_sleeping, &h->consumer_cv);
}

/* Room for n bytes at the produced position. */
static void wait_room(pw_handoff *h, size_t n)
{
    if (RING_SIZE - (h->produced - h->seen_tail) >= n)
        return;
    while (RING_SIZE - (h->produced - (h->seen_tail = atomic_load(&h->tail))) < n) {
        publish(h, true);
        sleep_unless(h, &h->producer_sleeping, &h->producer_cv, half_free);
        take_retired(h);
    }
}

/* Copies item into the ring; returns the copy, which may be amended until
 * the next put. */
static void *put(pw_handoff *h, uint32_t kind, const void *item, size_t len)
{
    publish(h, false); /* what earlier puts made, amended or not */
    size_t n = padded(sizeof(msg_hdr) + len);
    size_t to_end = RING_SIZE - (h->produced & RING_MASK);
    if (n > to_end) {
        wait_room(h, to_end);
        msg_hdr *pad = (msg_hdr *)(h->ring + (h->produced & RING_MASK));
        pad->kind = MSG_PAD;
        pad->size = (uint32_t)to_end;
        h->produced += to_end;
    }
    wait_room(h, n);
    msg_hdr *m = (msg_hdr *)(h->ring + (h->produced & RING_MASK));
    m->kind = kind;
    m->size = (uint32_t)n;
    memcpy(m + 1, item, len);
    h->produced += n;
    return m + 1;
}

void pw_handoff_packet(pw_handoff *h, const pw_pkt *pkt)
{
    pw_pkt *copy = pkt->quote.present ? put(h, MSG_PACKET, pkt, sizeof *pkt)
                                      : put(h, MSG_PACKET_SHORT, pkt, SHORT_PACKET);
    copy->payload = NULL; /* the bytes stay behind: analysis reads none */
}

void pw_handoff_event(pw_handoff *h, const pw_event *ev)
{
    put(h, MSG_EVENT, ev, pw_event_size(ev));
}

void pw_handoff_midstream(pw_handoff *h, const pw_attempt *m)
{
    put(h, MSG_MIDSTREAM, m, sizeof *m);
}

void pw_handoff_sync(pw_handoff *h)
{
    if (!h)
        return;
    publish(h, true);
    while (!drained(h)) {
        sleep_unless(h, &h->producer_sleeping, &h->producer_cv, drained_or_back_full);
        take_retired(h);
    }
    take_retired(h); /* handed back before the last message was taken */
}

pw_handoff *pw_handoff_start(pw_analysis *a)
{
    pw_handoff *h = aligned_alloc(alignof(pw_handoff), sizeof *h); /* its lines as laid out */
    if (!h)
        return NULL;
    memset(h, 0, sizeof *h);
    h->a = a;
    h->ring = aligned_alloc(64, RING_SIZE + RING_SLACK);
    h->back = aligned_alloc(64, BACK_SLOTS * sizeof *h->back);
    bool ok = h->ring && h->back && pthread_mutex_init(&h->mu, NULL) == 0;
    ok = ok && pthread_cond_init(&h->consumer_cv, NULL) == 0 && pthread_cond_init(&h->producer_cv, NULL) == 0;
    pw_retire_sink sink = {.arg = h, .reserve = back_reserve, .commit = back_commit};
    pw_analysis_set_retire(a, &sink);
    if (!ok || pthread_create(&h->thread, NULL, analysis_main, h) != 0) {
        pw_analysis_set_retire(a, NULL);
        free(h->ring);
        free(h->back);
        free(h);
        return NULL;
    }
    return h;
}

void pw_handoff_stop(pw_handoff *h)
{
    if (!h)
        return;
    pw_handoff_sync(h);
    atomic_store(&h->stopping, true);
    pthread_mutex_lock(&h->mu);
    atomic_store(&h->consumer_sleeping, false);
    pthread_cond_signal(&h->consumer_cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    pw_analysis_set_retire(h->a, NULL);
    pthread_cond_destroy(&h->consumer_cv);
    pthread_cond_destroy(&h->producer_cv);
    pthread_mutex_destroy(&h->mu);
    free(h->ring);
    free(h->back);
    free(h);
}
