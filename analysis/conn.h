/* conn.h - the connection table: one record per connection, owned by the
 * analysis core (Zeek's connection record).
 *
 * A record is made by the first packet of an attempt, by the first packet of
 * a flow caught mid-stream, or by the first dissector event on a flow the
 * core does not track (a reply whose request was not captured).  It holds the
 * attempt and its outcome (attempts.c decides them), the application a
 * dissector recognised, and the small slots the other analysis modules hang
 * on the connection: NNR's method state (nnr.c) and policy's cloud-check
 * facts (policy/match.c).  No module keeps a table of its own keyed on the
 * connection; all of them finish their work from the one removal hook, which
 * runs exactly once per record when it leaves the table: idle after its
 * outcome was final, evicted at the cap, or at the end of the input.  (What
 * needs only the attempt may be finished later, on another thread, in the
 * same order: analysis.h, pw_retired.)
 *
 * This file is storage only: chunked pools with freelists (no malloc per
 * packet), a hash keyed symmetrically on the 4-tuple so both directions find
 * the record, a timer queue of deadlines (deadlines.h; keys may be
 * stale-early and are re-keyed lazily), and the destination-address table
 * the one-sided rule reads.  What a deadline means, and what happens when it passes, is
 * attempts.c's business. */
#ifndef PW_CONN_H
#define PW_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "attempt.h"

#define PW_CONN_NONE UINT32_MAX

struct pw_nnr_slot;
struct pw_policy_slot;
struct pw_app_slot;

typedef struct pw_conn {
    /* table links (conn.c) */
    uint32_t idx;          /* this record's index in the pool */
    uint32_t hash, hnext;  /* 4-tuple hash (symmetric); freelist link */
    uint32_t hcli, hsrv;   /* destination-table entries of client and server */
    pw_usec deadline;      /* true deadline; the queue key may be earlier */
    pw_usec last_seen;     /* last packet of the connection, either direction */
    /* attempt state (attempts.c) */
    uint32_t isn_first, isn_last;
    uint8_t state;         /* attempts.c's lifecycle state; 0 = free */
    bool has_isn;          /* a TCP attempt was decided on this record */
    bool has_attempt;      /* a holds an attempt (else the record only tracks the flow) */
    bool attempt_done;     /* a's outcome is final and was handed on */
    uint8_t fins;          /* FIN seen from the client (bit 0) / the server (bit 1) */
    bool closed;           /* an answered connection was reset or closed both ways */
    uint8_t mid;           /* first seen mid-stream, no attempt yet: attempts.c's MID_* bits */
    pw_attempt a;          /* key: a.proto, a.client:a.client_port -> a.server:a.port */
    /* what the other modules learn on this connection (NULL until they do) */
    struct pw_nnr_slot *nnr;
    struct pw_policy_slot *policy;
    struct pw_app_slot *app;     /* application results (apps.c) */
} pw_conn;

typedef struct pw_conns pw_conns;
typedef void (*pw_conn_removed_fn)(void *arg, pw_conn *c);

/* cap: records at most (the caller evicts before pw_conn_new when full);
 * host_window: how long a destination address is remembered. */
pw_conns *pw_conns_new(uint32_t cap, pw_usec host_window, pw_conn_removed_fn removed, void *arg);
/* Removes every record (running the removal hook) and frees the table. */
void pw_conns_free(pw_conns *t);

/* The record of proto a:ap <-> b:bp in either orientation, or NULL; *fwd
 * tells whether a is the record's client. */
pw_conn *pw_conn_find(pw_conns *t, uint8_t proto, const pw_addr *a, uint16_t ap,
                      const pw_addr *b, uint16_t bp, bool *fwd);
/* A new record client:cport -> server:sport expiring at deadline; the table
 * must not be full.  Both endpoints are entered in the destination table and
 * pinned while the record lives. */
pw_conn *pw_conn_new(pw_conns *t, uint8_t proto, const pw_addr *client, uint16_t cport,
                     const pw_addr *server, uint16_t sport, pw_usec ts, pw_usec deadline);
/* An optional hint, called after each removal with the record that is now
 * the earliest to go (records mostly leave in deadline order): the modules
 * start loading what their removal hook will touch for it.  It must change
 * nothing. */
typedef void (*pw_conn_upcoming_fn)(void *arg, const pw_conn *c);
void pw_conns_set_upcoming(pw_conns *t, pw_conn_upcoming_fn upcoming);
/* Runs the removal hook and frees the record. */
void pw_conn_remove(pw_conns *t, pw_conn *c);
/* The table is being emptied for good (the input ended): the removals from
 * here on leave the index and the destination table's pins as they are,
 * since nothing will look a record or an address up again.  After this
 * only pw_conns_earliest, pw_conn_remove, the counts and pw_conns_free. */
void pw_conns_close(pw_conns *t);
/* Runs the removal hook and empties the record's slots, keeping it in the
 * table (a 4-tuple reused by a new connection). */
void pw_conn_recycle(pw_conns *t, pw_conn *c);
/* Swaps the record's client and server (a new attempt from the other side). */
void pw_conn_reorient(pw_conn *c);

/* The index slots a lookup of this 4-tuple and of its two addresses will
 * read start loading into the cache (a hint; changes nothing). */
void pw_conns_prefetch(const pw_conns *t, uint8_t proto, const pw_addr *a, uint16_t ap, const pw_addr *b,
                       uint16_t bp);

bool pw_conns_full(const pw_conns *t);
uint32_t pw_conns_count(const pw_conns *t);
uint32_t pw_conns_peak(const pw_conns *t);

/* Deadlines. */
void pw_conn_set_deadline(pw_conns *t, pw_conn *c, pw_usec d);
/* Moves the deadline later only. */
void pw_conn_extend(pw_conns *t, pw_conn *c, pw_usec d);
/* The record whose deadline is the earliest, if that deadline is before now
 * (or at it when inclusive); NULL when none is due.  Stale queue keys are
 * fixed on the way. */
pw_conn *pw_conns_due(pw_conns *t, pw_usec now, bool inclusive);
/* The record with the earliest deadline (for eviction), or NULL. */
pw_conn *pw_conns_earliest(pw_conns *t);

/* Destination-address table: "last time a packet was seen going to this
 * address", for addresses seen in the last host_window of packet time and
 * for both ends of every record.  Bounded at 2 * cap + 1024 entries. */
void pw_conns_clock(pw_conns *t, pw_usec now);
/* A packet went to dst at ts: through its record when it has one (side 0 =
 * the client, 1 = the server), else by a lookup. */
void pw_conns_dest_seen(pw_conns *t, const pw_conn *c, int side, const pw_addr *dst, pw_usec ts);
/* Last time a packet went to the record's client (PW_USEC_NEVER if never). */
pw_usec pw_conn_client_last_seen(const pw_conns *t, const pw_conn *c);
uint32_t pw_conns_hosts(const pw_conns *t);
uint32_t pw_conns_hosts_peak(const pw_conns *t);

#define PW_USEC_NEVER INT64_MIN

#endif
