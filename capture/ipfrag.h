/* ipfrag.h - private: bounded IPv4/IPv6 fragment reassembly table.
 *
 * Pending datagrams are keyed by (family, src, dst, id, proto), expire
 * 30 s (packet time) after their first fragment, and are capped in number
 * (the oldest is evicted).  A datagram over 65535 bytes, a fragment that
 * overlaps already received bytes with different contents, or inconsistent
 * final lengths drop the whole datagram.  Exact duplicates are ignored. */
#ifndef PW_CAPTURE_IPFRAG_H
#define PW_CAPTURE_IPFRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/addr.h"
#include "../common/pwtime.h"

#define PW_FRAG_TIMEOUT (30 * PW_USEC_PER_SEC)
#define PW_FRAG_MAX_PENDING 1024
#define PW_FRAG_MAX_DATA 65535u
#define PW_FRAG_HDR_ROOM 64u /* room before the data for the rebuilt IPv4 header */

typedef struct pw_frag_key {
    uint8_t family;
    uint8_t proto;    /* IPv4 protocol; 0 for IPv6 */
    uint8_t pad[2];
    uint32_t id;
    uint8_t src[16], dst[16];
} pw_frag_key;

struct pw_frag;

typedef struct pw_frag_table {
    struct pw_frag *hash;          /* uthash head */
    struct pw_frag *oldest, *newest; /* creation order, for expiry */
    unsigned count;
    uint64_t dropped;              /* fragments/datagrams dropped (PW_DERR_FRAGMENT) */
    uint64_t nomem;                /* of those, dropped for want of memory */
} pw_frag_table;

typedef struct pw_frag_done {
    uint8_t *buf;         /* malloc'd; caller frees */
    const uint8_t *hdr;   /* IPv4: rebuilt header (in buf) followed by data; IPv6: NULL */
    uint32_t hdr_len;
    const uint8_t *data;  /* reassembled payload (in buf) */
    uint32_t data_len;
    uint8_t next;         /* IPv6: next header of the fragmentable part */
} pw_frag_done;

void pw_frag_init(pw_frag_table *t);
void pw_frag_free(pw_frag_table *t); /* counts pending datagrams as dropped */

/* Adds a fragment.  off/len in bytes of the fragmentable payload; hdr is
 * the IPv4 header (only used from the offset-0 fragment) or NULL; next is
 * the IPv6 next header from the fragment header.  Returns true when the
 * datagram is complete (out filled, caller owns out->buf). */
bool pw_frag_add(pw_frag_table *t, const pw_frag_key *k, pw_usec ts, uint32_t off, bool more,
                 const uint8_t *data, uint32_t len, const uint8_t *hdr, uint32_t hdr_len,
                 uint8_t next, pw_frag_done *out);

#endif
