/* packet.h - the decoded packet view that capture/ hands onwards.
 *
 * capture/ fills one pw_pkt per frame (link -> IP -> transport headers,
 * tunnels and tags peeled, IPv4 fragments reassembled).  Analysis reads the
 * header fields only; dissectors get the payload bytes.  The struct lives on
 * the capture loop's stack and is valid only during the callback: copy what
 * you keep. */
#ifndef PW_PACKET_H
#define PW_PACKET_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/addr.h"
#include "../common/pwtime.h"

enum { PW_IPPROTO_ICMP = 1, PW_IPPROTO_TCP = 6, PW_IPPROTO_UDP = 17, PW_IPPROTO_ICMPV6 = 58 };

enum { /* TCP flag bits as on the wire */
    PW_TH_FIN = 0x01, PW_TH_SYN = 0x02, PW_TH_RST = 0x04, PW_TH_PSH = 0x08,
    PW_TH_ACK = 0x10, PW_TH_URG = 0x20
};

/* What a UDP datagram is by its own protocol (pw_pkt.dgram_kind).  Set by
 * cli/pipeline.c from dissectors/classify.h, never by capture/. */
enum { PW_DGRAM_UNKNOWN = 0, PW_DGRAM_REQUEST = 1, PW_DGRAM_RESPONSE = 2 };

/* The IP/transport header quoted inside an ICMP or ICMPv6 error. */
typedef struct pw_icmp_quote {
    bool present;       /* the error quoted an IP header we could read */
    pw_addr src, dst;   /* of the original (offending) packet */
    uint8_t proto;      /* its transport protocol */
    bool has_ports;     /* first 4 transport bytes were quoted */
    uint16_t sport, dport;
    bool has_seq;       /* TCP sequence number was quoted */
    uint32_t seq;
} pw_icmp_quote;

typedef struct pw_pkt {
    /* where it came from */
    uint32_t source;      /* index of the input (file) it was read from */
    uint64_t frame;       /* 1-based record number in that input, as Wireshark counts */
    pw_usec ts;           /* capture timestamp */
    uint32_t wire_len;    /* original length on the wire */
    uint16_t vlan;        /* outermost VLAN id, 0 if untagged */

    /* network layer */
    pw_addr src, dst;
    uint8_t ttl;          /* TTL / hop limit */
    uint8_t proto;        /* transport protocol (after IPv6 extension headers) */
    bool reassembled;     /* rebuilt from IPv4 fragments */

    /* transport layer; valid according to proto */
    uint16_t sport, dport;
    uint8_t tcp_flags;
    uint32_t seq, ack;
    uint16_t win;
    uint8_t icmp_type, icmp_code; /* ICMP or ICMPv6 */

    /* transport payload as captured (may be shorter than on the wire) */
    const uint8_t *payload;
    uint32_t payload_len;
    bool payload_truncated; /* snaplen cut the payload */

    /* appended */
    bool has_ip_id;         /* IPv4: ip_id is the header's Identification */
    uint16_t ip_id;
    uint8_t dgram_kind;     /* PW_DGRAM_*: filled by cli/pipeline.c for UDP, 0 from capture/ */

    /* last, so that a copy of a packet that is no ICMP error can leave it
     * out (cli/handoff.c): append new fields above it */
    pw_icmp_quote quote;    /* for ICMP/ICMPv6 errors */
} pw_pkt;

#endif
