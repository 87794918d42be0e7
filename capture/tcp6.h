/* tcp6.h - private: the small in-order TCP payload shim.
 *
 * libnids reassembles IPv4 only, and only connections whose handshake it
 * saw.  This shim gives the same callback semantics (stream_open /
 * stream_data with consume-and-offer-again / stream_close exactly once) for
 * the rest:
 *   - IPv6 connections, from the handshake;
 *   - connections of either family first seen mid-stream (the capture began
 *     while they were open): from the first segment with payload seen on each
 *     side, the direction decided by cb->midstream_dir.
 * Each direction is followed in order: retransmitted overlap is trimmed, a
 * segment beyond a gap is dropped (and so is everything after it).  That is
 * enough for first-flight messages (a TLS ClientHello, an SMB negotiate, an
 * RDP connection request, a DCE/RPC bind), not for full reassembly of long
 * or lossy streams.  Bounded: PW_TCP6_MAX_STREAMS streams (the least recently
 * used goes), PW_TCP6_BUF unconsumed bytes per direction, PW_SHIM_BUF_TOTAL
 * buffered bytes in all. */
#ifndef PW_CAPTURE_TCP6_H
#define PW_CAPTURE_TCP6_H

#include <stdint.h>

#include "../common/cursor.h"
#include "capture.h"

#define PW_TCP6_MAX_STREAMS 65536
#define PW_TCP6_IDLE_TIMEOUT (300 * PW_USEC_PER_SEC)
#define PW_TCP6_BUF 65536 /* unconsumed bytes kept per direction */
#define PW_SHIM_BUF_TOTAL (64u << 20) /* all streams' buffers together */

struct pw_tcp6;

typedef struct pw_tcp6_table {
    struct pw_tcp6 *hash;
    struct pw_tcp6 *lru_head, *lru_tail; /* least recently used first */
    unsigned count;
    const pw_capture_cb *cb;
    uint32_t source;
    uint64_t opened; /* streams handed to stream_open */
    uint64_t nomem;  /* streams not followed, or stopped, for want of memory */
    uint64_t midstream;   /* of opened: flows first seen mid-stream */
    uint64_t evicted;     /* streams dropped at the stream cap */
    uint64_t buffer_full; /* streams stopped because PW_SHIM_BUF_TOTAL was reached */
    size_t buffered;      /* bytes of buffers allocated now */
    /* Streams per slice (a 16-bit hash of the address and port pair, the
     * same both ways): a segment whose slice holds none is no stream's,
     * with neither a key built nor a lookup (pw_tcp6_owns() is asked for
     * every IPv4 TCP segment). */
    uint16_t in_slice[1u << 16];
    /* The entry found last: the shim's flows are mostly bulk data libnids
     * does not follow, in runs of segments, each asked about twice (whose
     * it is, then its payload).  NULL once that entry goes. */
    struct pw_tcp6 *last;
} pw_tcp6_table;

void pw_tcp6_init(pw_tcp6_table *t, const pw_capture_cb *cb, uint32_t source);
/* Whether another reassembler (libnids) follows pkt's connection. */
typedef bool (*pw_tcp6_followed_fn)(const pw_pkt *pkt);
/* Feeds one decoded TCP packet (after cb->packet saw it).  handshakes: a
 * client SYN starts a stream (IPv6; for IPv4 libnids does that).  followed
 * (may be NULL) is asked before payload on an unknown flow is taken for a
 * mid-stream one. */
void pw_tcp6_packet(pw_tcp6_table *t, const pw_pkt *pkt, bool handshakes,
                    pw_tcp6_followed_fn followed);
/* Another reassembler stopped following pkt's connection (its consumer
 * wanted no more): remember it as ignored, so that its further segments are
 * not taken for a mid-stream connection. */
void pw_tcp6_ignore(pw_tcp6_table *t, const pw_pkt *pkt);
/* Whether pkt's IPv4 flow is this shim's alone: followed here (caught
 * mid-stream), or ignored after libnids dropped it (its consumer wanted no
 * more).  Such segments need not go to libnids, which would only hash them
 * to find nothing.  A client SYN on such a flow is a new connection: from
 * then on its segments are libnids' again (false). */
bool pw_tcp6_owns(pw_tcp6_table *t, const pw_pkt *pkt);
/* Closes every stream (PW_STREAM_EXITING) and frees the table. */
void pw_tcp6_exit(pw_tcp6_table *t);

#endif
