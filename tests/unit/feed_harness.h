/* feed_harness.h - a pipeline-like feeder for one TCP dissector and a global
 * event log, shared by test_ldap.c, test_tds.c, test_smb.c and test_dcerpc.c.
 * The feeder keeps each direction's unconsumed bytes and offers them again
 * with the next chunk, as capture does; stream() consuming more than it was
 * given is counted in contract_violations.
 *
 * Include after ntlm_build.h (for `buf`), with these defined:
 *   FEED_DISSECTOR       the pw_dissector under test
 *   FEED_PEND            bytes of pending data kept per direction
 *   FEED_STOP_WHEN_DONE  1: once stream() set *done, further feeds are dropped
 *   FEED_FIRST_FRAME, FEED_FRAME_STEP
 *                        frame number of the n-th stream() call (from 0):
 *                        FEED_FIRST_FRAME + n * FEED_FRAME_STEP */
#ifndef PW_FEED_HARNESS_H
#define PW_FEED_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/dissector.h"

#define MAXEV 64
static pw_event evs[MAXEV];
static int nev;
static inline void sink(void *arg, const pw_event *ev)
{
    (void)arg;
    if (nev < MAXEV)
        evs[nev] = *ev;
    nev++;
}
static pw_flow flow;
static int contract_violations; /* stream() consumed more than it was given */

typedef struct feeder {
    void *st;
    uint8_t pend[2][FEED_PEND];
    size_t plen[2];
    bool done;
    size_t calls;
} feeder;

static inline feeder *feeder_new(void)
{
    feeder *f = calloc(1, sizeof *f);
    f->st = calloc(1, FEED_DISSECTOR.state_size);
    nev = 0;
    return f;
}
static inline void feeder_free(feeder *f)
{
    if (FEED_DISSECTOR.stream_free) /* what stream() allocated (tds: TLS buffers) */
        FEED_DISSECTOR.stream_free(f->st);
    free(f->st);
    free(f);
}
/* Appends bytes to the direction's unconsumed data and runs stream(). */
static inline void feed(feeder *f, int dir, const uint8_t *p, size_t n)
{
    if (FEED_STOP_WHEN_DONE && f->done)
        return;
    memcpy(f->pend[dir] + f->plen[dir], p, n);
    f->plen[dir] += n;
    uint64_t frame = (uint64_t)FEED_FIRST_FRAME + (uint64_t)FEED_FRAME_STEP * f->calls++;
    pw_dctx ctx = {.flow = &flow, .dir = dir, .frame = frame, .emit = sink};
    bool done = false;
    size_t used = FEED_DISSECTOR.stream(&ctx, f->st, f->pend[dir], f->plen[dir], &done);
    if (used > f->plen[dir]) {
        contract_violations++;
        used = f->plen[dir];
    }
    memmove(f->pend[dir], f->pend[dir] + used, f->plen[dir] - used);
    f->plen[dir] -= used;
    if (done)
        f->done = true;
}
static inline void feedb(feeder *f, int dir, const buf *b) { feed(f, dir, b->b, b->n); }
static inline void feed_steps(feeder *f, int dir, const buf *b, size_t step)
{
    for (size_t off = 0; off < b->n; off += step)
        feed(f, dir, b->b + off, b->n - off < step ? b->n - off : step);
}

static inline int count(pw_event_type t)
{
    int n = 0;
    for (int i = 0; i < nev && i < MAXEV; i++)
        n += evs[i].type == t;
    return n;
}
static inline const pw_event *nth(pw_event_type t, int k)
{
    for (int i = 0; i < nev && i < MAXEV; i++)
        if (evs[i].type == t && k-- == 0)
            return &evs[i];
    return NULL;
}
static const pw_event none_ev;
#define NTH(t, k) (nth(t, k) ? nth(t, k) : &none_ev)

/* NTLMSSP CHALLENGE events recorded so far. */
static inline int count_challenges(void)
{
    int n = 0;
    for (int i = 0; i < nev && i < MAXEV; i++)
        n += evs[i].type == PW_EV_NTLMSSP && evs[i].u.ntlmssp.msg_type == 2;
    return n;
}

/* Feeds every single-byte corruption of an exchange, each in a fresh feeder:
 * every byte of s2c with its low bit and then all its bits flipped (after
 * c2s; c2s in steps of c2s_step, s2c in steps of 7), then every byte of c2s
 * with its top bit flipped (in steps of 5).  Nothing is asserted per run:
 * contract_violations and the sanitizers judge them. */
static inline void feed_corruptions(const buf *c2s, size_t c2s_step, const buf *s2c)
{
    static buf mut;
    for (size_t i = 0; i < s2c->n; i++) {
        for (int x = 0; x < 2; x++) {
            mut = *s2c;
            mut.b[i] ^= x ? 0xff : 0x01;
            feeder *f = feeder_new();
            feed_steps(f, 0, c2s, c2s_step);
            feed_steps(f, 1, &mut, 7);
            feeder_free(f);
        }
    }
    for (size_t i = 0; i < c2s->n; i++) {
        mut = *c2s;
        mut.b[i] ^= 0x80;
        feeder *f = feeder_new();
        feed_steps(f, 0, &mut, 5);
        feeder_free(f);
    }
}

#endif
