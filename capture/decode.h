/* decode.h - private: link -> IP -> transport decoding of one frame, with
 * tunnels peeled and IPv4/IPv6 fragments reassembled (capture/ only).
 *
 * pw_decode() fills a pw_pkt from one captured record.  Everything is read
 * through common/cursor.h; nothing is allocated per packet except when a
 * fragmented datagram starts (one buffer per pending datagram). */
#ifndef PW_CAPTURE_DECODE_H
#define PW_CAPTURE_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "../common/cursor.h"
#include "ipfrag.h"
#include "packet.h"

enum pw_dec_result {
    PW_DEC_PKT = 0,  /* pkt holds a decoded IP packet: deliver it */
    PW_DEC_NONIP,    /* a normal non-IP frame (ARP, LLDP, STP...) */
    PW_DEC_HELD,     /* a fragment kept for reassembly; nothing to deliver yet */
    PW_DEC_ERROR,    /* d->err / d->why say what was wrong */
};

#define PW_DEC_MAX_DONE 8 /* reassembled buffers alive for the current frame */

typedef struct pw_decoder {
    pw_frag_table frag;
    /* set by pw_decode: */
    int err;                  /* PW_DERR_* when PW_DEC_ERROR */
    const char *why;          /* static text for the log */
    int soft_err;             /* PW_DERR_* counted for a packet still delivered, or -1
                                 (IP length beyond a complete frame: decoded as truncated) */
    const uint8_t *ip4;       /* the innermost complete IPv4 packet (for libnids), or NULL */
    uint32_t ip4_len;
    /* internal */
    bool cut;                 /* snaplen cut this record */
    int depth;
    uint8_t *done[PW_DEC_MAX_DONE];
    int ndone;
    uint64_t frag_errors;     /* fragment drops (timeouts, overlaps, overflow) */
} pw_decoder;

/* Link types we decode (libpcap DLT_ values as returned by pcap_datalink). */
bool pw_decode_dlt_supported(int dlt);

void pw_decoder_init(pw_decoder *d);
/* Frees pending fragments (each pending datagram counts as a fragment drop). */
void pw_decoder_free(pw_decoder *d);

/* Decodes one record.  pkt is fully overwritten (source/frame must be set by
 * the caller afterwards).  caplen bytes are at data; wirelen is the original
 * length.  The pkt (payload pointer) stays valid until the next call. */
int pw_decode(pw_decoder *d, int dlt, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
              pw_usec ts, pw_pkt *pkt);

/* Fragment drops counted since the last call (and reset). */
static inline uint64_t pw_decoder_take_frag_errors(pw_decoder *d)
{
    uint64_t n = d->frag_errors;
    d->frag_errors = 0;
    return n;
}

#endif
