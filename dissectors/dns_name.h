/* dns_name.h - private to dns.c and nbns.c: RFC 1035 domain names with
 * compression pointers (4.1.4), read only through the cursor.
 *
 * A name is decoded into its uncompressed wire form (length-prefixed labels
 * and a terminating zero), which both DNS (dotted text, reverse lookups) and
 * NBNS (the 32-byte first-level encoded label, then scope labels) use.
 * Loop protection: every pointer must point strictly before the start of the
 * label run it ends (so targets decrease and a loop is impossible), at most
 * PW_DNSN_MAX_JUMPS pointers are followed, and the whole name is at most
 * 255 bytes in wire form.  Label types 01 and 10 (RFC 6891 extended / RFC
 * 2673 bit labels, both obsolete) are rejected. */
#ifndef PW_DNS_NAME_H
#define PW_DNS_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/cursor.h"

#define PW_DNSN_WIRE_MAX 255
#define PW_DNSN_MAX_JUMPS 32

/* Reads the name at msg's position.  msg must be a cursor over the whole
 * message (pointers are offsets from its start).  On success msg has moved
 * past the name as it appears in place (up to and including the first
 * pointer), wire holds the expanded name and its length is returned.  On any
 * error (truncation, bad label type, forward or looping pointer, too long)
 * msg is failed and 0 is returned. */
size_t pw_dnsn_read(pw_cursor *msg, uint8_t wire[PW_DNSN_WIRE_MAX]);

/* Number of labels in a wire name (not counting the root). */
size_t pw_dnsn_labels(const uint8_t *wire, size_t wlen);

/* Writes the wire name as dotted text without a trailing dot ("" for the
 * root), NUL-terminated and truncated to cap.  Bytes outside printable ASCII
 * become '?' so the text is always valid UTF-8. */
void pw_dnsn_dotted(const uint8_t *wire, size_t wlen, char *out, size_t cap);

#endif
