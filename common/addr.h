/* addr.h - IPv4/IPv6 addresses as one small value type.
 *
 * Used by every layer (capture fills them, dissectors report them, analysis
 * keys tables on them), so it lives in common/.  IPv4 is stored in b[0..3]
 * with the rest zeroed, which makes memcmp/hash on the whole struct valid. */
#ifndef PW_ADDR_H
#define PW_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pw_addr {
    uint8_t family; /* 4 or 6; 0 = unset */
    uint8_t b[16];
} pw_addr;

#define PW_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

void pw_addr_v4(pw_addr *a, const uint8_t b[4]);
void pw_addr_v6(pw_addr *a, const uint8_t b[16]);
bool pw_addr_eq(const pw_addr *x, const pw_addr *y);
/* Total order (family, then bytes); handy for sorting reports. */
int pw_addr_cmp(const pw_addr *x, const pw_addr *y);
/* Writes the usual text form ("198.18.0.10", "2001:db8::1"); returns buf. */
const char *pw_addr_str(const pw_addr *a, char *buf, size_t len);
/* Parses "IP" or "IP/prefix"; prefix defaults to 32/128. Returns false on error. */
bool pw_addr_parse_cidr(const char *text, pw_addr *net, int *prefix);
bool pw_addr_in_cidr(const pw_addr *a, const pw_addr *net, int prefix);
/* Multicast or broadcast (255.255.255.255, x.x.x.255, 224/4, ff00::/8):
 * datagrams to these are not point-to-point attempts. */
bool pw_addr_is_group(const pw_addr *a);
uint32_t pw_addr_hash(const pw_addr *a);

#endif
