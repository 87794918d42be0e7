/* stream_harness.h - an event recorder and a stand-in for capture's stream
 * reassembly (keeps each direction's unconsumed bytes and offers them again
 * with the next chunk), shared by test_tls.c, test_http.c and test_rdp.c. */
#ifndef PW_STREAM_HARNESS_H
#define PW_STREAM_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/dissector.h"
#include "check.h"
#include "event_tail.h"

/* ---- event sink ---- */
#ifndef MAX_EVENTS /* a test may want more */
#define MAX_EVENTS 64
#endif
typedef struct sink {
    pw_event ev[MAX_EVENTS];
    int n;
    int malformed;
} sink;

static inline void on_event(void *arg, const pw_event *ev)
{
    sink *s = arg;
    CHECK_EVENT_TAIL(ev);
    if (ev->type == PW_EV_MALFORMED)
        s->malformed++;
    if (s->n < MAX_EVENTS)
        s->ev[s->n++] = *ev;
}

/* Finds the i-th event of a type (and TLS/HTTP/RDP kind when kind != 0). */
static const pw_event *find(const sink *s, pw_event_type type, int kind, int nth)
{
    for (int i = 0; i < s->n; i++) {
        const pw_event *e = &s->ev[i];
        if (e->type != type)
            continue;
        if (kind && type == PW_EV_TLS && e->u.tls.kind != kind)
            continue;
        if (kind && type == PW_EV_HTTP && e->u.http.kind != kind)
            continue;
        if (kind && type == PW_EV_RDP && e->u.rdp.kind != kind)
            continue;
        if (nth-- == 0)
            return e;
    }
    return NULL;
}

static inline int count(const sink *s, pw_event_type type)
{
    int n = 0;
    for (int i = 0; i < s->n; i++)
        n += s->ev[i].type == type;
    return n;
}

/* ---- a stand-in for capture: keeps unconsumed bytes per direction ---- */
typedef struct feeder {
    const pw_dissector *d;
    void *state;
    pw_flow flow;
    sink sink;
    uint8_t pend[2][140000];
    size_t plen[2];
    bool done;
    uint64_t frame;
    struct pw_dissect_cache *cache; /* NULL unless a test sets it */
} feeder;

static inline feeder *feeder_new(const pw_dissector *d, uint16_t server_port)
{
    feeder *f = calloc(1, sizeof *f);
    f->d = d;
    f->state = calloc(1, d->state_size);
    if (d->stream_init)
        d->stream_init(f->state);
    f->flow.proto = 6;
    uint8_t a[4] = {10, 0, 0, 5}, b[4] = {10, 0, 0, 1};
    pw_addr_v4(&f->flow.client, a);
    pw_addr_v4(&f->flow.server, b);
    f->flow.client_port = 50000;
    f->flow.server_port = server_port;
    return f;
}

static inline void feed(feeder *f, int dir, const uint8_t *p, size_t n)
{
    if (f->done)
        return;
    memcpy(f->pend[dir] + f->plen[dir], p, n);
    f->plen[dir] += n;
    pw_dctx ctx = {.flow = &f->flow, .dir = dir, .frame = ++f->frame, .ts = 0,
                   .emit = on_event, .emit_arg = &f->sink, .cache = f->cache};
    size_t used = f->d->stream(&ctx, f->state, f->pend[dir], f->plen[dir], &f->done);
    if (used > f->plen[dir]) {
        fprintf(stderr, "consumed %zu of %zu\n", used, f->plen[dir]);
        abort();
    }
    memmove(f->pend[dir], f->pend[dir] + used, f->plen[dir] - used);
    f->plen[dir] -= used;
}

/* Feeds in chunks of `step` bytes. */
static inline void feed_steps(feeder *f, int dir, const uint8_t *p, size_t n, size_t step)
{
    for (size_t off = 0; off < n; off += step)
        feed(f, dir, p + off, n - off < step ? n - off : step);
}

static inline void feeder_free(feeder *f)
{
    if (f->d->stream_free)
        f->d->stream_free(f->state);
    free(f->state);
    free(f);
}

#endif
