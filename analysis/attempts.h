/* attempts.h - attempt tracking in packet time (the passive reachability core).
 *
 * Fed every decoded packet (header fields only), it recognises TCP and UDP
 * connection attempts and decides their outcome: answered, refused, blocked,
 * unanswered or indeterminate (see attempts.c for the rules).  Each attempt
 * is handed to the retire callback exactly once, when its outcome is final
 * and its flow no longer needs tracking; memory is bounded by the attempts
 * still open, not by capture length. */
#ifndef PW_ATTEMPTS_H
#define PW_ATTEMPTS_H

#include <stdint.h>

#include "../capture/packet.h"
#include "attempt.h"
#include "conn.h"

typedef struct pw_attempts pw_attempts;

/* Called once per attempt when its outcome is final and the linger for
 * dissectors to name its application has passed (the jsonl stream). */
typedef void (*pw_attempt_retire_fn)(void *arg, const pw_attempt *a);

/* Default cap on connection records (--max-connections). */
#define PW_ATTEMPTS_DEFAULT_MAX_OPEN (1u << 18)

typedef struct pw_attempts_opts {
    pw_usec tcp_timeout;   /* default 10 s */
    pw_usec udp_timeout;   /* default 5 s */
    uint32_t max_open;     /* cap on connection records (0 = PW_ATTEMPTS_DEFAULT_MAX_OPEN);
                              the one with the earliest deadline goes first */
    pw_conn_removed_fn removed; /* the removal hook: once per record (may be NULL) */
    pw_conn_upcoming_fn upcoming; /* conn.h's prefetch hint (may be NULL) */
    void *removed_arg;
} pw_attempts_opts;

typedef struct pw_attempts_stats {
    uint64_t attempts;          /* retired attempts */
    uint64_t open;              /* currently tracked */
    uint64_t peak_open;
    uint64_t evicted;           /* retired early because of max_open */
    uint64_t icmp_errors;       /* ICMP/ICMPv6 errors seen */
    uint64_t icmp_unmatched;    /* ... that matched no attempt */
    uint64_t midstream;         /* TCP flows first seen mid-stream (not attempts) */
    /* appended: memory accounting */
    uint64_t flows;             /* tracked flow entries now (open attempts + retired flows still active) */
    uint64_t peak_flows;
    uint64_t hosts;             /* destination addresses remembered for the one-sided check */
    uint64_t peak_hosts;
    uint64_t evicted_idle;      /* records without a pending attempt removed early at the cap */
    uint64_t event_only;        /* records made by a dissector event on an untracked flow */
    /* appended: replies that are not attempts, and the bounded memories */
    uint64_t responses;         /* datagrams that are responses by their protocol (never attempts) */
    uint64_t group_answers;     /* unicast datagrams to a port that had sent a broadcast/multicast query */
    uint64_t memo_replaced;     /* live entries pushed out of the bounded memories (attempts.c) */
} pw_attempts_stats;

pw_attempts *pw_attempts_new(const pw_attempts_opts *opts, pw_attempt_retire_fn retire, void *arg);
/* One decoded packet, in capture order. */
void pw_attempts_packet(pw_attempts *t, const pw_pkt *pkt);
/* pkt comes soon: start loading what its lookups will touch. */
void pw_attempts_prefetch(const pw_attempts *t, const pw_pkt *pkt);
/* The record of a flow a dissector reports on (either orientation), made
 * as a tracking-only record when the core has none; NULL for flows that are
 * not connections (multicast, broadcast, non-TCP/UDP). */
pw_conn *pw_attempts_conn(pw_attempts *t, uint8_t proto, const pw_addr *client, uint16_t cport,
                          const pw_addr *server, uint16_t sport, pw_usec ts);
/* A TCP connection first seen mid-stream whose server side sent payload
 * (the caller decided which side is the server): its record becomes an
 * attempt answered/midstream, with m's addresses, source, ts (first frame
 * seen), frame_request (that frame), frame_reply and reply_ts (the server's
 * payload).  Nothing happens when the record already holds an attempt. */
void pw_attempts_midstream(pw_attempts *t, const pw_attempt *m);
/* A dissector recognised `app` on the flow client:cport -> server:sport. */
void pw_attempts_set_app(pw_attempts *t, uint8_t proto, const pw_addr *client, uint16_t cport,
                         const pw_addr *server, uint16_t sport, const char *app);
/* The input ended at packet time `end`: retire everything still open
 * (pending ones as indeterminate/capture-ended unless their timeout passed).
 * The tracker takes nothing more after this: later packets, events and
 * mid-stream reports are ignored. */
void pw_attempts_flush(pw_attempts *t, pw_usec end);
void pw_attempts_get_stats(const pw_attempts *t, pw_attempts_stats *s);
void pw_attempts_free(pw_attempts *t);

#endif
