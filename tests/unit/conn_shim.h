/* conn_shim.h - connection records for unit tests of the modules that hang
 * slots on them (nnr, policy), without the core's attempt rules: events and
 * attempts find or make the record of their 4-tuple (either orientation),
 * and shim_flush() runs the removal hook on every record, as the end of an
 * input does.  An attempt on a record that already holds one removes the
 * old connection first (a reused 4-tuple). */
#ifndef PW_TEST_CONN_SHIM_H
#define PW_TEST_CONN_SHIM_H

#include <stdbool.h>
#include <string.h>

#include "../../analysis/conn.h"
#include "../../dissectors/events.h"

#define SHIM_MAX 1024

typedef void (*shim_removed_fn)(void *arg, pw_conn *c);

typedef struct conn_shim {
    pw_conn c[SHIM_MAX];
    bool live[SHIM_MAX];
    shim_removed_fn removed;
    void *arg;
    /* An attempt on a flow no event touched: false removes its record at
     * once (the order attempts arrive in is the order they are counted),
     * true keeps it for events that follow, as the core's linger does. */
    bool attempts_linger;
} conn_shim;

static inline void shim_init(conn_shim *s, shim_removed_fn removed, void *arg)
{
    memset(s, 0, sizeof *s);
    s->removed = removed;
    s->arg = arg;
}

static inline pw_conn *shim_find(conn_shim *s, uint8_t proto, const pw_addr *a, uint16_t ap,
                                 const pw_addr *b, uint16_t bp, bool *fwd)
{
    for (int i = 0; i < SHIM_MAX; i++) {
        pw_conn *c = &s->c[i];
        if (!s->live[i] || c->a.proto != proto)
            continue;
        if (pw_addr_eq(&c->a.client, a) && c->a.client_port == ap && pw_addr_eq(&c->a.server, b) &&
            c->a.port == bp) {
            *fwd = true;
            return c;
        }
        if (pw_addr_eq(&c->a.client, b) && c->a.client_port == bp && pw_addr_eq(&c->a.server, a) &&
            c->a.port == ap) {
            *fwd = false;
            return c;
        }
    }
    return NULL;
}

static inline void shim_flush(conn_shim *s);

/* A new record; when all are in use, every record is removed first (the
 * core evicts at its cap likewise, earliest first). */
static inline pw_conn *shim_new(conn_shim *s, uint8_t proto, const pw_addr *client, uint16_t cport,
                                const pw_addr *server, uint16_t sport)
{
    for (int pass = 0; pass < 2; pass++, shim_flush(s))
    for (int i = 0; i < SHIM_MAX; i++) {
        if (s->live[i])
            continue;
        pw_conn *c = &s->c[i];
        memset(c, 0, sizeof *c);
        s->live[i] = true;
        c->a.proto = proto;
        c->a.client = *client;
        c->a.client_port = cport;
        c->a.server = *server;
        c->a.port = sport;
        return c;
    }
    return NULL;
}

static inline void shim_remove(conn_shim *s, pw_conn *c)
{
    s->removed(s->arg, c);
    s->live[c - s->c] = false;
}

/* The record an event belongs to (made when new); NULL for group addresses,
 * as the core does. */
static inline pw_conn *shim_event(conn_shim *s, const pw_event *ev)
{
    const pw_flow *f = &ev->flow;
    if (pw_addr_is_group(&f->server) || pw_addr_is_group(&f->client))
        return NULL;
    bool fwd;
    pw_conn *c = shim_find(s, f->proto, &f->client, f->client_port, &f->server, f->server_port, &fwd);
    return c ? c : shim_new(s, f->proto, &f->client, f->client_port, &f->server, f->server_port);
}

/* An attempt whose outcome is final lands on its flow's record, which stays
 * until shim_flush() (see attempts_linger for a flow without one). */
static inline void shim_attempt(conn_shim *s, const pw_attempt *a)
{
    bool fwd = true;
    pw_conn *c = shim_find(s, a->proto, &a->client, a->client_port, &a->server, a->port, &fwd);
    if (c && c->attempt_done) {
        shim_remove(s, c);
        c = NULL;
    }
    if (!c && !s->attempts_linger) {
        pw_conn one;
        memset(&one, 0, sizeof one);
        one.a = *a;
        one.has_attempt = one.attempt_done = true;
        s->removed(s->arg, &one);
        return;
    }
    if (!c)
        c = shim_new(s, a->proto, &a->client, a->client_port, &a->server, a->port);
    c->a = *a;
    c->has_attempt = c->attempt_done = true;
}

static inline void shim_flush(conn_shim *s)
{
    for (int i = 0; i < SHIM_MAX; i++)
        if (s->live[i])
            shim_remove(s, &s->c[i]);
}

#endif
