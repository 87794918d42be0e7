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

typedef struct pw_attempts pw_attempts;

typedef void (*pw_attempt_retire_fn)(void *arg, const pw_attempt *a);

typedef struct pw_attempts_opts {
    pw_usec tcp_timeout;   /* default 10 s */
    pw_usec udp_timeout;   /* default 5 s */
    uint32_t max_open;     /* cap on tracked attempts (0 = 1,000,000); oldest retired first */
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
} pw_attempts_stats;

pw_attempts *pw_attempts_new(const pw_attempts_opts *opts, pw_attempt_retire_fn retire, void *arg);
/* One decoded packet, in capture order. */
void pw_attempts_packet(pw_attempts *t, const pw_pkt *pkt);
/* A dissector recognised `app` on the flow client:cport -> server:sport. */
void pw_attempts_set_app(pw_attempts *t, uint8_t proto, const pw_addr *client, uint16_t cport,
                         const pw_addr *server, uint16_t sport, const char *app);
/* The input ended at packet time `end`: retire everything still open
 * (pending ones as indeterminate/capture-ended unless their timeout passed). */
void pw_attempts_flush(pw_attempts *t, pw_usec end);
void pw_attempts_get_stats(const pw_attempts *t, pw_attempts_stats *s);
void pw_attempts_free(pw_attempts *t);

#endif
