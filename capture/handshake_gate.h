/* handshake_gate.h - private: TCP handshakes held back from libnids until
 * their connection carries something.
 *
 * libnids makes a stream for every SYN (a keyed hash, a walk of a chain in
 * its table, an allocation, and in a scan or a flood the eviction of the
 * oldest stream), and looks it up again for the SYN-ACK and the ACK.  Most
 * connections of a scan, and many of a busy network, never send a byte:
 * reassembly matters only once one does.  So an IPv4 handshake that goes
 * as expected (the client's SYN, the SYN-ACK acknowledging it, the
 * client's ACK of that, none carrying payload) is kept here.  Any other
 * segment of the connection (payload, FIN, RST, a SYN-ACK that does not
 * match, a repeated ACK) lets it go: the caller feeds libnids the held
 * packets in their order, then that segment, and libnids sees what it
 * always saw, later.  A handshake the gate completes is counted as the
 * stream libnids would have opened on its ACK (the callers count it then,
 * not again when it is fed).
 *
 * The gate predicts libnids 1.26's process_tcp() for these three packets:
 * a SYN without ACK or RST starts a stream; a SYN-ACK from the server whose
 * acknowledgement is the SYN's sequence number plus one is taken; a pure
 * ACK from the client whose sequence number is the SYN's plus one and whose
 * acknowledgement is the SYN-ACK's plus one establishes the stream, unless
 * the timestamp check rejects it (the three carry timestamps and the ACK's
 * is older than the SYN's).  Only packets libnids reads the same way from
 * their IP header on are held: no fragment, no payload by the IP total
 * length, headers within PW_GATE_BYTES.
 *
 * Bounded: PW_GATE_SLOTS connections in sets of PW_GATE_WAYS; a new SYN
 * whose set is full pushes out the set's oldest.  What is pushed out is
 * dropped, not fed: a connection that later carries data is then caught
 * mid-stream by the in-order shim (tcp6.h), as a connection whose start the
 * capture missed.  Pushed out at the SYN (no SYN-ACK came) is counted as
 * `replaced`, once answered as `forgotten`. */
#ifndef PW_CAPTURE_HANDSHAKE_GATE_H
#define PW_CAPTURE_HANDSHAKE_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/pwtime.h"
#include "packet.h"

#define PW_GATE_SLOTS 8192 /* in sets of PW_GATE_WAYS */
#define PW_GATE_WAYS 4
#define PW_GATE_BYTES 80 /* IPv4 and TCP headers, TCP options included */

/* How far a held handshake got (a key's stage). */
enum { PW_GATE_SYN = 1, PW_GATE_SYNACK, PW_GATE_ACK };

/* A held connection: a set's keys share a cache line, so a lookup (either
 * direction) reads one line; the packets' bytes are read only to check a
 * sequence number or when they leave. */
typedef struct pw_gate_key {
    uint8_t client[4], server[4];
    uint16_t client_port, server_port;
    uint32_t order : 30; /* when it was held (counts holds from 1); 0 = free */
    uint32_t stage : 2;  /* PW_GATE_SYN.. */
} pw_gate_key;

typedef struct pw_gate_pkt {
    pw_usec ts;
    uint16_t len;
    uint8_t ip[PW_GATE_BYTES];
} pw_gate_pkt;

/* The packets of a held handshake, in their order (SYN, SYN-ACK, ACK). */
typedef struct pw_gate_slot {
    pw_gate_pkt pkt[3];
} pw_gate_slot;

typedef struct pw_gate {
    pw_gate_key *keys;   /* made at the first SYN, with slots */
    pw_gate_slot *slots; /* the packets of keys[i]'s handshake */
    uint32_t held;       /* holds so far: the next key's order */
    uint64_t replaced;   /* pushed out before a SYN-ACK came */
    uint64_t forgotten;  /* pushed out after one, before the connection sent anything else */
    bool nomem;          /* the table could not be had: nothing is held */
} pw_gate;

typedef enum pw_gate_verdict {
    PW_GATE_PASS,        /* feed the released packets, then this one */
    PW_GATE_HELD,        /* kept */
    PW_GATE_ESTABLISHED, /* kept: the ACK that completes the handshake */
} pw_gate_verdict;

/* What a PASS lets go first: n packets, oldest first, valid until the next
 * offer. */
typedef struct pw_gate_release {
    int n;
    const pw_gate_pkt *pkt[3];
} pw_gate_release;

/* Offers an IPv4 TCP segment (pkt decoded; ip/len its bare IP packet) on
 * its way to libnids.  Anything else passes. */
pw_gate_verdict pw_gate_offer(pw_gate *g, const pw_pkt *pkt, const uint8_t *ip, uint32_t len, pw_usec ts,
                              pw_gate_release *rel);
/* Whether a handshake of pkt's connection (either direction) is held. */
bool pw_gate_holds(const pw_gate *g, const pw_pkt *pkt);
void pw_gate_free(pw_gate *g);

#endif
