/* scanners.h - clients that try many distinct targets, summarised as one row
 * each instead of thousands of services.
 *
 * Every attempt's client is tracked (up to max_clients addresses; beyond
 * that new clients are counted as untracked and never become scanners) with
 * a 256-bit linear-counting sketch of the distinct (server, proto, port)
 * targets it tried.  When the estimate exceeds `threshold`, the client is a
 * scanner: from then on its attempts are counted in its scanner row (ports,
 * servers, outcomes, first and last frame) and not in services; the attempts
 * before that stay in services.  NNR and policy see every attempt whatever
 * this module says.  Counts are additive. */
#ifndef PW_SCANNERS_H
#define PW_SCANNERS_H

#include <stdbool.h>
#include <stdint.h>

#include "attempt.h"

#define PW_SCANNER_DEFAULT_THRESHOLD 512
#define PW_SCANNER_DEFAULT_MAX_CLIENTS 65536

typedef struct pw_scanner_row {
    pw_addr client;
    uint64_t attempts;                 /* counted in this row (after detection) */
    uint64_t counts[PW_OUT_COUNT];
    uint32_t servers, ports;           /* distinct estimates over all its attempts */
    uint16_t port_lo, port_hi;
    uint8_t protos;                    /* bit 0 tcp, bit 1 udp */
    uint32_t first_source, last_source;
    uint64_t first_frame, last_frame;
    pw_usec first_ts, last_ts;
} pw_scanner_row;

typedef struct pw_scanners_stats {
    uint64_t clients;                  /* clients tracked */
    uint64_t untracked;                /* attempts of clients beyond max_clients */
    uint64_t scanners;
    uint64_t diverted;                 /* attempts counted in scanner rows, not services */
} pw_scanners_stats;

typedef struct pw_scanners pw_scanners;

pw_scanners *pw_scanners_new(uint32_t threshold, uint32_t max_clients);
/* True when the attempt was counted in a scanner row (so services skip it). */
/* Starts loading the client's slot (a hint). */
void pw_scanners_prefetch(const pw_scanners *s, const pw_addr *client);
bool pw_scanners_attempt(pw_scanners *s, const pw_attempt *a);
/* The scanner rows, sorted by client address; valid until the next call. */
const pw_scanner_row *pw_scanners_rows(pw_scanners *s, size_t *n);
void pw_scanners_stats_get(const pw_scanners *s, pw_scanners_stats *st);
void pw_scanners_free(pw_scanners *s);

#endif
