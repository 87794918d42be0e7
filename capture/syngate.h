/* syngate.h - private: client SYNs held back from libnids until the server
 * answers.
 *
 * libnids makes a stream for every SYN: a keyed hash, a table walk, an
 * allocation, and with a scan or a SYN flood the eviction of the oldest
 * stream, for connections that will never carry a byte.  Reassembly only
 * matters once the server has answered, so a client's IPv4 SYN (no ACK, no
 * payload) is kept here, and handed to libnids, ahead of the SYN-ACK, when
 * the SYN-ACK comes.  libnids then sees the same packets in the same order
 * as before, minus the SYNs nobody answered.
 *
 * Bounded: PW_SYNGATE_SLOTS slots in sets of two; a SYN whose set is full
 * replaces the older one there (a repeated SYN of the same connection
 * replaces its own: libnids takes the latest sequence number as well).  A SYN pushed out before its SYN-ACK came is
 * a connection libnids does not follow: if it carries data, the in-order
 * shim takes it as one caught mid-stream.  Replacements are counted. */
#ifndef PW_CAPTURE_SYNGATE_H
#define PW_CAPTURE_SYNGATE_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/pwtime.h"
#include "packet.h"

#define PW_SYNGATE_SLOTS 16384 /* in sets of PW_SYNGATE_WAYS */
#define PW_SYNGATE_WAYS 2
#define PW_SYNGATE_BYTES 80 /* IPv4 and TCP headers, TCP options included */

/* A held SYN's connection: sets of PW_SYNGATE_WAYS keys share a cache
 * line, so a lookup reads one line; the SYN's bytes are read only when it
 * leaves. */
typedef struct pw_syngate_key {
    uint8_t client[4], server[4];
    uint16_t client_port, server_port;
    uint32_t order; /* when it was held (counts holds from 1); 0 = free */
} pw_syngate_key;

typedef struct pw_syngate_slot {
    pw_usec ts;
    uint16_t len;
    uint8_t ip[PW_SYNGATE_BYTES];
} pw_syngate_slot;

typedef struct pw_syngate {
    pw_syngate_key *keys;   /* made at the first SYN, with slots */
    pw_syngate_slot *slots; /* the bytes of keys[i]'s SYN */
    uint32_t held;          /* holds so far: the next key's order */
    uint64_t replaced;      /* SYNs pushed out before a SYN-ACK came */
    bool nomem;             /* the table could not be had: nothing is held */
} pw_syngate;

/* Holds pkt (a client SYN; ip/len its bare IPv4 packet); false when it
 * cannot be held (too long, no memory): the caller feeds it on. */
bool pw_syngate_hold(pw_syngate *g, const pw_pkt *pkt, const uint8_t *ip, uint32_t len, pw_usec ts);
/* pkt is a SYN-ACK: the SYN it answers, taken out of the table, or NULL.
 * The slot's bytes stay valid until the next hold. */
const pw_syngate_slot *pw_syngate_take(pw_syngate *g, const pw_pkt *pkt);
/* Whether a SYN of pkt's connection (either direction) is held. */
bool pw_syngate_holds(const pw_syngate *g, const pw_pkt *pkt);
void pw_syngate_free(pw_syngate *g);

#endif
