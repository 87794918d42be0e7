/* tcp6.h - private: the small in-order IPv6 TCP payload path.
 *
 * libnids reassembles IPv4 only.  For IPv6 this shim gives the same
 * callback semantics (stream_open / stream_data with consume-and-offer-again
 * / stream_close exactly once) but only follows each direction in order
 * from the handshake: retransmitted overlap is trimmed, a segment beyond a
 * gap is dropped (and so is everything after it).  That is enough for
 * first-flight messages (a TLS ClientHello, an SMB negotiate, an RDP
 * connection request), not for full reassembly of long or lossy streams. */
#ifndef PW_CAPTURE_TCP6_H
#define PW_CAPTURE_TCP6_H

#include <stdint.h>

#include "../common/cursor.h"
#include "capture.h"

#define PW_TCP6_MAX_STREAMS 65536
#define PW_TCP6_IDLE_TIMEOUT (300 * PW_USEC_PER_SEC)
#define PW_TCP6_BUF 65536 /* unconsumed bytes kept per direction */

struct pw_tcp6;

typedef struct pw_tcp6_table {
    struct pw_tcp6 *hash;
    struct pw_tcp6 *lru_head, *lru_tail; /* least recently used first */
    unsigned count;
    const pw_capture_cb *cb;
    uint32_t source;
    uint64_t opened; /* streams handed to stream_open */
    uint64_t nomem;  /* streams not followed, or stopped, for want of memory */
} pw_tcp6_table;

void pw_tcp6_init(pw_tcp6_table *t, const pw_capture_cb *cb, uint32_t source);
/* Feeds one decoded IPv6 TCP packet (after cb->packet saw it). */
void pw_tcp6_packet(pw_tcp6_table *t, const pw_pkt *pkt);
/* Closes every stream (PW_STREAM_EXITING) and frees the table. */
void pw_tcp6_exit(pw_tcp6_table *t);

#endif
