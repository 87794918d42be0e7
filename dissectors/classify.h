/* classify.h - is a UDP datagram a request or a response, by its protocol?
 *
 * The attempt core must not take a reply for a new attempt: an NBNS, LLMNR
 * or mDNS answer, an SSDP "HTTP/1.1 200 OK" or an SQL Browser SVR_RESP sent
 * to a client port.  Deciding that needs the payload, which analysis never
 * reads, so this pure classifier runs in cli/pipeline.c and its answer
 * travels on the packet view (pw_pkt.dgram_kind). */
#ifndef PW_CLASSIFY_H
#define PW_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "../capture/packet.h" /* PW_DGRAM_* */

/* PW_DGRAM_REQUEST, PW_DGRAM_RESPONSE, or PW_DGRAM_UNKNOWN when the bytes
 * are not one of the protocols it knows (or are cut too short to tell). */
int pw_datagram_kind(uint16_t sport, uint16_t dport, const uint8_t *data, size_t len);

#endif
