/* decode.c - link -> IP -> transport decoding (see decode.h).
 *
 * Link types: Ethernet (any stack of 802.1Q / 802.1ad / 0x9100 tags,
 * 802.1ah I-TAGs), Linux cooked v1 and v2, raw IP (DLT_RAW,
 * LINKTYPE_IPV4/IPV6), BSD null/loopback, PPP (DLT_PPP, DLT_PPP_SERIAL with
 * HDLC-like or Cisco HDLC framing, DLT_C_HDLC), 802.11 (plain, behind
 * radiotap, Prism or AVS headers), Linux NFLOG.  Tunnels peeled (the
 * innermost packet is reported, the outer flow never is): GRE (incl. ERSPAN
 * I/II/III, transparent Ethernet bridging, PPP, PPTP's enhanced GRE, Aruba
 * GRE with 802.11 data frames), GRE in UDP (4754), VXLAN (UDP 4789),
 * VXLAN-GPE (4790), Geneve (UDP 6081), GTP-U (UDP 2152), Teredo (UDP 3544),
 * AYIYA (UDP 5072), IP-in-IP, IPv6-in-IPv4 (and the IPv6 equivalents), MPLS
 * label stacks and PPPoE sessions.  A UDP datagram on a tunnel port is
 * peeled only when its header validates; otherwise it stays an ordinary
 * datagram.  Every byte is read through common/cursor.h. */
#include "decode.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>

#define MAX_DEPTH 6

/* Inline address setters (pkt was zeroed, so only the used bytes are written). */
static inline void set_v4(pw_addr *a, const uint8_t b[4])
{
    a->family = 4;
    memcpy(a->b, b, 4);
}
static inline void set_v6(pw_addr *a, const uint8_t b[16])
{
    a->family = 6;
    memcpy(a->b, b, 16);
}

static int fail(pw_decoder *d, int err, const char *why)
{
    if (err == PW_DERR_TRUNCATED && !d->cut)
        err = PW_DERR_BAD_LENGTH; /* short because a length field lied, not snaplen */
    d->err = err;
    d->why = why;
    return PW_DEC_ERROR;
}

/* A header that does not fit: cut by snaplen, or an impossibly short frame. */
static int short_hdr(pw_decoder *d, const char *why)
{
    return fail(d, d->cut ? PW_DERR_TRUNCATED : PW_DERR_BAD_LENGTH, why);
}

static int dec_ether(pw_decoder *d, pw_cursor *c, pw_pkt *pkt);
static int dec_ethertype(pw_decoder *d, uint16_t type, pw_cursor *c, pw_pkt *pkt);
static int dec_ip4(pw_decoder *d, pw_cursor *c, pw_pkt *pkt);
static int dec_ip6(pw_decoder *d, pw_cursor *c, pw_pkt *pkt);
static int dec_l4(pw_decoder *d, uint8_t proto, pw_cursor *c, pw_pkt *pkt, bool trunc);
static int dec_ppp(pw_decoder *d, pw_cursor *c, pw_pkt *pkt);
static int dec_wlan(pw_decoder *d, pw_cursor *c, pw_pkt *pkt);
static int tunnel_depth(pw_decoder *d);

bool pw_decode_dlt_supported(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case 12: /* DLT_RAW (Linux) */
    case 14: /* DLT_RAW (BSD/OS) */
    case 101: /* LINKTYPE_RAW */
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case 108: /* DLT_LOOP */
    case 9:   /* DLT_PPP */
    case 50:  /* DLT_PPP_SERIAL */
    case 104: /* DLT_C_HDLC */
    case 105: /* DLT_IEEE802_11 */
    case 119: /* DLT_PRISM_HEADER */
    case 127: /* DLT_IEEE802_11_RADIO (radiotap) */
    case 163: /* DLT_IEEE802_11_RADIO_AVS */
    case 239: /* DLT_NFLOG */
        return true;
    default:
        return false;
    }
}

void pw_decoder_init(pw_decoder *d)
{
    memset(d, 0, sizeof *d);
    pw_frag_init(&d->frag);
}

static void release_done(pw_decoder *d)
{
    for (int i = 0; i < d->ndone; i++)
        free(d->done[i]);
    d->ndone = 0;
}

void pw_decoder_free(pw_decoder *d)
{
    release_done(d);
    pw_frag_free(&d->frag);
    d->frag_errors += d->frag.dropped;
    d->frag.dropped = 0;
}

/* Dispatch on the IP version nibble (raw IP links, MPLS, GTP-U). */
static int dec_ip_any(pw_decoder *d, pw_cursor *c, pw_pkt *pkt)
{
    if (!pw_cur_has(c, 1))
        return short_hdr(d, "empty IP packet");
    switch (pw_peek_u8(c, 0) >> 4) {
    case 4:
        return dec_ip4(d, c, pkt);
    case 6:
        return dec_ip6(d, c, pkt);
    default:
        return fail(d, PW_DERR_BAD_HEADER, "IP version is neither 4 nor 6");
    }
}

static int dec_af(pw_decoder *d, uint32_t af, pw_cursor *c, pw_pkt *pkt)
{
    if (af > 0xffff) /* written in the other byte order */
        af = ((af & 0xff) << 24) | ((af & 0xff00) << 8) | ((af >> 8) & 0xff00) | (af >> 24);
    switch (af) {
    case 2:
        return dec_ip4(d, c, pkt);
    case 10: /* Linux AF_INET6 seen in some null captures */
    case 24:
    case 28:
    case 30:
        return dec_ip6(d, c, pkt);
    default:
        return PW_DEC_NONIP;
    }
}

/* ---- PPP, HDLC, 802.11 radio headers, NFLOG ---- */

/* Cisco HDLC: address (0x0f unicast, 0x8f broadcast), control 0, ethertype. */
static int dec_chdlc(pw_decoder *d, pw_cursor *c, pw_pkt *pkt)
{
    pw_skip(c, 2);
    uint16_t type = pw_be16(c);
    if (!pw_cur_ok(c))
        return short_hdr(d, "short Cisco HDLC header");
    return dec_ethertype(d, type, c, pkt);
}

/* DLT_PPP and DLT_PPP_SERIAL: a PPP frame (RFC 1661), or on serial links
 * the Cisco HDLC framing that shares the link type. */
static int dec_ppp_link(pw_decoder *d, pw_cursor *c, pw_pkt *pkt)
{
    uint8_t first = pw_peek_u8(c, 0);
    if (first == 0x0f || first == 0x8f)
        return dec_chdlc(d, c, pkt);
    int r = dec_ppp(d, c, pkt);
    return r < 0 ? short_hdr(d, "short PPP header") : r;
}

/* DLT_IEEE802_11 (also behind the radio headers): the frame starts here. */
static int dec_wlan_link(pw_decoder *d, pw_cursor *c, pw_pkt *pkt)
{
    if (!pw_cur_has(c, 2))
        return short_hdr(d, "short 802.11 header");
    return dec_wlan(d, c, pkt);
}

/* Radiotap: version 0, pad, total header length (LE), present bitmaps.
 * Only the length matters: the 802.11 frame follows it. */
static int dec_radiotap(pw_decoder *d, pw_cursor *c, pw_pkt *pkt)
{
    uint8_t version = pw_u8(c);
    pw_skip(c, 1);
    uint16_t len = pw_le16(c);
    if (!pw_cur_ok(c))
        return short_hdr(d, "short radiotap header");
    if (version != 0 || len < 8)
        return fail(d, PW_DERR_BAD_HEADER, "radiotap header with a bad version or length");
    pw_skip(c, (size_t)len - 4);
    if (!pw_cur_ok(c))
        return short_hdr(d, "radiotap header beyond the frame");
    return dec_wlan_link(d, c, pkt);
}

/* AVS capture header: magic/version and header length, both big-endian. */
#define AVS_MAGIC 0x80211000u
static int dec_avs(pw_decoder *d, pw_cursor *c, pw_pkt *pkt)
{
    uint32_t version = pw_be32(c);
    uint32_t len = pw_be32(c);
    if (!pw_cur_ok(c))
        return short_hdr(d, "short AVS header");
    if ((version & 0xfffffff0u) != AVS_MAGIC || len < 8)
        return fail(d, PW_DERR_BAD_HEADER, "AVS header with a bad version or length");
    pw_skip(c, (size_t)len - 8);
    if (!pw_cur_ok(c))
        return short_hdr(d, "AVS header beyond the frame");
    return dec_wlan_link(d, c, pkt);
}

/* Prism monitor header: message code and length (host order, written LE
 * in practice).  Captures labelled Prism may carry an AVS header instead,
 * recognisable by its big-endian magic (Wireshark does the same). */
static int dec_prism(pw_decoder *d, pw_cursor *c, pw_pkt *pkt)
{
    pw_cursor peek = *c;
    uint32_t magic = pw_be32(&peek);
    if (pw_cur_ok(&peek) && (magic & 0xfffffff0u) == AVS_MAGIC)
        return dec_avs(d, c, pkt);
    pw_skip(c, 4); /* message code */
    uint32_t len = pw_le32(c);
    if (!pw_cur_ok(c))
        return short_hdr(d, "short Prism header");
    if (len > 0xffff) /* written big-endian */
        len = ((len & 0xff) << 24) | ((len & 0xff00) << 8) | ((len >> 8) & 0xff00) | (len >> 24);
    if (len < 8)
        return fail(d, PW_DERR_BAD_HEADER, "Prism header length below 8");
    pw_skip(c, (size_t)len - 8);
    if (!pw_cur_ok(c))
        return short_hdr(d, "Prism header beyond the frame");
    return dec_wlan_link(d, c, pkt);
}

/* Linux NFLOG: family, version 0, resource id, then TLVs (length includes
 * the 4-byte TLV header, padded to 4; length and type in the capturing
 * host's byte order) until NFULA_PAYLOAD (type 9), the bare IP packet. */
#define NFULA_PAYLOAD 9
static int dec_nflog(pw_decoder *d, pw_cursor *c, pw_pkt *pkt)
{
    uint8_t family = pw_u8(c);
    uint8_t version = pw_u8(c);
    pw_skip(c, 2);
    if (!pw_cur_ok(c))
        return short_hdr(d, "short NFLOG header");
    if (version != 0)
        return fail(d, PW_DERR_BAD_HEADER, "NFLOG version is not 0");
    /* byte order: the first TLV's length must fit in the record */
    bool be = false;
    if (pw_cur_has(c, 4)) {
        size_t left = pw_cur_left(c);
        uint16_t le_len = (uint16_t)(pw_peek_u8(c, 0) | pw_peek_u8(c, 1) << 8);
        be = le_len < 4 || le_len > left;
    }
    for (int i = 0; i < 64; i++) {
        uint16_t len = be ? pw_be16(c) : pw_le16(c);
        uint16_t type = be ? pw_be16(c) : pw_le16(c);
        if (!pw_cur_ok(c))
            return short_hdr(d, "NFLOG record without a payload TLV");
        if (len < 4)
            return fail(d, PW_DERR_BAD_LENGTH, "NFLOG TLV length below 4");
        size_t body = (size_t)len - 4;
        if ((type & 0x7fff) == NFULA_PAYLOAD) {
            /* cut by snaplen: the packet is decoded as far as it goes */
            pw_cursor pl = d->cut && body > pw_cur_left(c) ? pw_rest(c) : pw_sub(c, body);
            if (!pw_cur_ok(c))
                return short_hdr(d, "NFLOG payload beyond the record");
            if (family == 2)
                return dec_ip4(d, &pl, pkt);
            if (family == 10)
                return dec_ip6(d, &pl, pkt);
            return dec_ip_any(d, &pl, pkt);
        }
        pw_skip(c, (body + 3) & ~(size_t)3);
        if (!pw_cur_ok(c))
            return short_hdr(d, "NFLOG TLV beyond the record");
    }
    return fail(d, PW_DERR_BAD_HEADER, "too many NFLOG TLVs");
}

static int dec_link(pw_decoder *d, int dlt, pw_cursor *c, pw_pkt *pkt)
{
    switch (dlt) {
    case DLT_EN10MB:
        return dec_ether(d, c, pkt);
    case DLT_LINUX_SLL: {
        pw_skip(c, 14); /* packet type, ARPHRD, address length, address */
        uint16_t proto = pw_be16(c);
        if (!pw_cur_ok(c))
            return short_hdr(d, "short Linux cooked header");
        return dec_ethertype(d, proto, c, pkt);
    }
    case DLT_LINUX_SLL2: {
        uint16_t proto = pw_be16(c);
        pw_skip(c, 18); /* reserved, ifindex, ARPHRD, packet type, address */
        if (!pw_cur_ok(c))
            return short_hdr(d, "short Linux cooked v2 header");
        return dec_ethertype(d, proto, c, pkt);
    }
    case 12:
    case 14:
    case 101:
        return dec_ip_any(d, c, pkt);
    case DLT_IPV4:
        return dec_ip4(d, c, pkt);
    case DLT_IPV6:
        return dec_ip6(d, c, pkt);
    case DLT_NULL: {
        uint32_t af = pw_le32(c);
        if (!pw_cur_ok(c))
            return short_hdr(d, "short null/loopback header");
        return dec_af(d, af, c, pkt);
    }
    case 108: {
        uint32_t af = pw_be32(c);
        if (!pw_cur_ok(c))
            return short_hdr(d, "short loopback header");
        return dec_af(d, af, c, pkt);
    }
    case 9:  /* DLT_PPP */
    case 50: /* DLT_PPP_SERIAL */
        return dec_ppp_link(d, c, pkt);
    case 104: /* DLT_C_HDLC */
        return dec_chdlc(d, c, pkt);
    case 105: /* DLT_IEEE802_11 */
        return dec_wlan_link(d, c, pkt);
    case 119: /* DLT_PRISM_HEADER */
        return dec_prism(d, c, pkt);
    case 127: /* DLT_IEEE802_11_RADIO */
        return dec_radiotap(d, c, pkt);
    case 163: /* DLT_IEEE802_11_RADIO_AVS */
        return dec_avs(d, c, pkt);
    case 239: /* DLT_NFLOG */
        return dec_nflog(d, c, pkt);
    default:
        return fail(d, PW_DERR_UNSUPPORTED, "unsupported link type");
    }
}

/* Zeroes every field (compiles to a few vector stores; a memset of the
 * whole struct becomes a slow `rep stos`).  Keep in step with packet.h:
 * the assertion fires when a field is appended after dgram_kind. */
_Static_assert(offsetof(pw_pkt, dgram_kind) < offsetof(pw_pkt, quote) &&
               offsetof(pw_pkt, quote) <= offsetof(pw_pkt, dgram_kind) + sizeof(void *) &&
               sizeof(pw_pkt) <= offsetof(pw_pkt, quote) + sizeof(pw_icmp_quote) + sizeof(void *),
               "pw_pkt grew: reset the new fields in pkt_reset()");
static inline void pkt_reset(pw_pkt *p, pw_usec ts)
{
    p->source = 0;
    p->frame = 0;
    p->ts = ts;
    p->wire_len = 0;
    p->vlan = 0;
    memset(&p->src, 0, sizeof p->src);
    memset(&p->dst, 0, sizeof p->dst);
    p->ttl = 0;
    p->proto = 0;
    p->reassembled = false;
    p->sport = p->dport = 0;
    p->tcp_flags = 0;
    p->seq = p->ack = 0;
    p->win = 0;
    p->icmp_type = p->icmp_code = 0;
    memset(&p->quote, 0, sizeof p->quote);
    p->payload = NULL;
    p->payload_len = 0;
    p->payload_truncated = false;
    p->has_ip_id = false;
    p->ip_id = 0;
    p->dgram_kind = 0;
}

int pw_decode(pw_decoder *d, int dlt, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
              pw_usec ts, pw_pkt *pkt)
{
    if (d->ndone)
        release_done(d);
    pkt_reset(pkt, ts);
    pkt->wire_len = wirelen;
    d->err = 0;
    d->soft_err = -1;
    d->why = NULL;
    d->ip4 = NULL;
    d->ip4_len = 0;
    d->depth = 0;
    if (caplen == 0 || !data)
        return fail(d, PW_DERR_ZERO_LENGTH, "zero-length record");
    d->cut = caplen < wirelen;
    pw_cursor c = pw_cur(data, caplen);
    int r = dec_link(d, dlt, &c, pkt);
    if (d->frag.dropped) {
        d->frag_errors += d->frag.dropped;
        d->frag.dropped = 0;
    }
    if (r != PW_DEC_PKT)
        d->ip4 = NULL;
    return r;
}

static int dec_ether(pw_decoder *d, pw_cursor *c, pw_pkt *pkt)
{
    pw_skip(c, 12);
    uint16_t type = pw_be16(c);
    if (!pw_cur_ok(c))
        return short_hdr(d, "short Ethernet header");
    return dec_ethertype(d, type, c, pkt);
}

/* 802.1ah I-TAGs one frame may stack (Wireshark decodes any number). */
#define MAX_ITAGS 64

static int dec_ethertype(pw_decoder *d, uint16_t type, pw_cursor *c, pw_pkt *pkt)
{
    int itags = 0;
    for (int tags = 0;; tags++) {
        switch (type) {
        case 0x0800:
            return dec_ip4(d, c, pkt);
        case 0x86DD:
            return dec_ip6(d, c, pkt);
        case 0x8100:
        case 0x88A8:
        case 0x9100:
        case 0x9200: {
            if (tags > 8)
                return fail(d, PW_DERR_BAD_HEADER, "too many VLAN tags");
            uint16_t tci = pw_be16(c);
            type = pw_be16(c);
            if (!pw_cur_ok(c))
                return short_hdr(d, "short VLAN tag");
            if (!pkt->vlan)
                pkt->vlan = tci & 0x0fff;
            continue;
        }
        case 0x8847:
        case 0x8848: { /* MPLS unicast/multicast */
            for (int n = 0;; n++) {
                uint32_t lse = pw_be32(c);
                if (!pw_cur_ok(c))
                    return short_hdr(d, "short MPLS label stack");
                if (lse & 0x100)
                    break; /* bottom of stack */
                if (n > 16)
                    return fail(d, PW_DERR_BAD_HEADER, "MPLS label stack too deep");
            }
            uint8_t nib = pw_peek_u8(c, 0) >> 4;
            if (nib == 4)
                return dec_ip4(d, c, pkt);
            if (nib == 6)
                return dec_ip6(d, c, pkt);
            if (nib == 0 && pw_cur_has(c, 4 + 14)) { /* pseudowire control word + Ethernet */
                pw_skip(c, 4);
                return dec_ether(d, c, pkt);
            }
            return PW_DEC_NONIP;
        }
        case 0x8864: { /* PPPoE session */
            pw_skip(c, 6);
            uint16_t ppp = pw_be16(c);
            if (!pw_cur_ok(c))
                return short_hdr(d, "short PPPoE header");
            if (ppp == 0x0021)
                return dec_ip4(d, c, pkt);
            if (ppp == 0x0057)
                return dec_ip6(d, c, pkt);
            return PW_DEC_NONIP;
        }
        case 0x8909: { /* Cisco metadata (SGT): version, length, option, value, ethertype */
            pw_skip(c, 6);
            type = pw_be16(c);
            if (!pw_cur_ok(c))
                return short_hdr(d, "short Cisco metadata header");
            continue;
        }
        case 0x894F: { /* NSH: base + service path header, options; next protocol */
            pw_skip(c, 1);                 /* version, O, U, TTL high bits */
            uint8_t len = pw_u8(c) & 0x3f; /* TTL low bits, length in 4-byte words */
            pw_skip(c, 1);                 /* MD type */
            uint8_t next = pw_u8(c);
            if (!pw_cur_ok(c) || len < 2)
                return short_hdr(d, "short NSH header");
            pw_skip(c, (size_t)len * 4 - 4);
            if (!pw_cur_ok(c))
                return short_hdr(d, "short NSH header");
            if (next == 1)
                return dec_ip4(d, c, pkt);
            if (next == 2)
                return dec_ip6(d, c, pkt);
            if (next == 3)
                return dec_ether(d, c, pkt);
            return PW_DEC_NONIP;
        }
        case 0x6558: /* transparent Ethernet bridging (inside GRE) */
            if (tunnel_depth(d))
                return PW_DEC_ERROR;
            return dec_ether(d, c, pkt);
        case 0x88E7: { /* 802.1ah I-TAG: flags + I-SID, then the customer's Ethernet
                          * frame (addresses, type), read in this loop: I-TAGs stacked
                          * by the dozen cost no recursion */
            if (++itags > MAX_ITAGS)
                return fail(d, PW_DERR_TUNNEL, "too many 802.1ah I-TAGs");
            pw_skip(c, 4 + 12);
            type = pw_be16(c);
            if (!pw_cur_ok(c))
                return short_hdr(d, "short 802.1ah I-TAG");
            continue;
        }
        default:
            return PW_DEC_NONIP; /* ARP, LLDP, STP (802.3 lengths), IPX... */
        }
    }
}

static int set_payload(pw_decoder *d, pw_cursor *c, pw_pkt *pkt, bool trunc)
{
    (void)d;
    size_t n = pw_cur_left(c);
    pkt->payload = n ? pw_cur_view(c, n) : NULL;
    pkt->payload_len = (uint32_t)n;
    pkt->payload_truncated = trunc;
    return PW_DEC_PKT;
}

static int dec_ip4(pw_decoder *d, pw_cursor *c, pw_pkt *pkt)
{
    pw_cursor start = *c;
    size_t avail = pw_cur_left(c);
    uint8_t vhl = pw_u8(c);
    if (!pw_cur_ok(c))
        return short_hdr(d, "empty IPv4 header");
    if (vhl >> 4 != 4)
        return fail(d, PW_DERR_BAD_HEADER, "IPv4 header with another version");
    uint32_t hl = (vhl & 15u) * 4;
    if (hl < 20)
        return fail(d, PW_DERR_BAD_HEADER, "IPv4 header length below 20");
    pw_skip(c, 1);
    uint32_t tot = pw_be16(c);
    uint16_t id = pw_be16(c);
    uint16_t frag = pw_be16(c);
    uint8_t ttl = pw_u8(c);
    uint8_t proto = pw_u8(c);
    pw_skip(c, 2);
    uint8_t src[4], dst[4];
    pw_copy(c, src, 4);
    pw_copy(c, dst, 4);
    pw_skip(c, hl - 20);
    if (!pw_cur_ok(c))
        return short_hdr(d, "short IPv4 header");
    if (tot == 0 && avail >= hl)
        tot = (uint32_t)avail; /* TSO: length left to the NIC */
    if (tot < hl)
        return fail(d, PW_DERR_BAD_LENGTH, "IPv4 total length below header length");
    bool trunc = false;
    if (avail < tot) {
        if (!d->cut) { /* headers are there: decode what we have, but count it */
            d->soft_err = PW_DERR_BAD_LENGTH;
            d->why = "IPv4 total length beyond the frame";
        }
        trunc = true;
    }
    uint32_t iplen = trunc ? (uint32_t)avail : tot;
    if (d->depth) { /* an outer (tunnel) address may be there */
        memset(&pkt->src, 0, sizeof pkt->src);
        memset(&pkt->dst, 0, sizeof pkt->dst);
    }
    set_v4(&pkt->src, src);
    set_v4(&pkt->dst, dst);
    pkt->ttl = ttl;
    pkt->proto = proto;
    pkt->has_ip_id = true; /* the innermost header's: the one whose sender counts */
    pkt->ip_id = id;
    pw_cursor pl = pw_sub(c, iplen - hl);

    uint32_t off = (frag & 0x1fffu) * 8;
    bool more = frag & 0x2000;
    if (off || more) {
        if (trunc)
            return fail(d, PW_DERR_TRUNCATED, "IPv4 fragment cut by snaplen");
        pw_frag_key k;
        memset(&k, 0, sizeof k);
        k.family = 4;
        k.proto = proto;
        k.id = id;
        memcpy(k.src, src, 4);
        memcpy(k.dst, dst, 4);
        uint32_t len = (uint32_t)pw_cur_left(&pl);
        const uint8_t *fdata = len ? pw_cur_view(&pl, len) : NULL;
        pw_cursor hc = start;
        const uint8_t *hdr = pw_cur_view(&hc, hl);
        pw_frag_done done;
        if (!pw_frag_add(&d->frag, &k, pkt->ts, off, more, fdata, len, hdr, hl, 0, &done))
            return PW_DEC_HELD;
        if (d->ndone >= PW_DEC_MAX_DONE) {
            free(done.buf);
            return fail(d, PW_DERR_FRAGMENT, "too many nested reassemblies");
        }
        d->done[d->ndone++] = done.buf;
        pkt->reassembled = true;
        d->ip4 = done.hdr;
        d->ip4_len = done.hdr_len + done.data_len;
        pw_cursor rc = pw_cur(done.data, done.data_len);
        return dec_l4(d, proto, &rc, pkt, false);
    }
    if (trunc) {
        d->ip4 = NULL;
    } else {
        pw_cursor ic = start;
        d->ip4 = pw_cur_view(&ic, iplen);
        d->ip4_len = iplen;
    }
    return dec_l4(d, proto, &pl, pkt, trunc);
}

static bool ip6_ext(uint8_t nh)
{
    return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60 || nh == 135 || nh == 139 ||
           nh == 140;
}

/* Skips one non-fragment extension header; returns its next header. */
static uint8_t skip_ext(pw_cursor *c, uint8_t nh)
{
    uint8_t next = pw_u8(c);
    uint8_t len = pw_u8(c);
    if (nh == 51) /* AH: length in 4-octet units minus 2 */
        pw_skip(c, ((size_t)len + 2) * 4 - 2);
    else
        pw_skip(c, ((size_t)len + 1) * 8 - 2);
    return next;
}

static int dec_ip6(pw_decoder *d, pw_cursor *c, pw_pkt *pkt)
{
    uint32_t vtf = pw_be32(c);
    if (!pw_cur_ok(c))
        return short_hdr(d, "short IPv6 header");
    if (vtf >> 28 != 6)
        return fail(d, PW_DERR_BAD_HEADER, "IPv6 header with another version");
    uint32_t plen = pw_be16(c);
    uint8_t nh = pw_u8(c);
    uint8_t hlim = pw_u8(c);
    uint8_t src[16], dst[16];
    pw_copy(c, src, 16);
    pw_copy(c, dst, 16);
    if (!pw_cur_ok(c))
        return short_hdr(d, "short IPv6 header");
    d->ip4 = NULL;
    size_t avail = pw_cur_left(c);
    if (plen == 0)
        plen = (uint32_t)avail; /* jumbogram or TSO */
    bool trunc = false;
    if (avail < plen) {
        if (!d->cut) {
            d->soft_err = PW_DERR_BAD_LENGTH;
            d->why = "IPv6 payload length beyond the frame";
        }
        trunc = true;
    }
    set_v6(&pkt->src, src);
    set_v6(&pkt->dst, dst);
    pkt->ttl = hlim;
    pkt->has_ip_id = false; /* IPv6 has no Identification outside fragments */
    pkt->ip_id = 0;
    pw_cursor pl = pw_sub(c, trunc ? avail : plen);
    for (int i = 0; ip6_ext(nh); i++) {
        if (i > 64)
            return fail(d, PW_DERR_BAD_HEADER, "too many IPv6 extension headers");
        if (nh != 44) {
            nh = skip_ext(&pl, nh);
            if (!pw_cur_ok(&pl))
                return trunc ? fail(d, PW_DERR_TRUNCATED, "IPv6 extension header cut by snaplen")
                             : fail(d, PW_DERR_BAD_LENGTH, "IPv6 extension header beyond payload");
            continue;
        }
        uint8_t next = pw_u8(&pl);
        pw_skip(&pl, 1);
        uint16_t offm = pw_be16(&pl);
        uint32_t id = pw_be32(&pl);
        if (!pw_cur_ok(&pl))
            return trunc ? fail(d, PW_DERR_TRUNCATED, "IPv6 fragment header cut by snaplen")
                         : fail(d, PW_DERR_BAD_LENGTH, "IPv6 fragment header beyond payload");
        uint32_t off = offm & 0xfff8u;
        bool more = offm & 1;
        if (!off && !more) { /* atomic fragment */
            nh = next;
            continue;
        }
        if (trunc)
            return fail(d, PW_DERR_TRUNCATED, "IPv6 fragment cut by snaplen");
        pw_frag_key k;
        memset(&k, 0, sizeof k);
        k.family = 6;
        k.id = id;
        memcpy(k.src, src, 16);
        memcpy(k.dst, dst, 16);
        uint32_t len = (uint32_t)pw_cur_left(&pl);
        const uint8_t *fdata = len ? pw_cur_view(&pl, len) : NULL;
        pw_frag_done done;
        pkt->proto = next;
        if (!pw_frag_add(&d->frag, &k, pkt->ts, off, more, fdata, len, NULL, 0, next, &done))
            return PW_DEC_HELD;
        if (d->ndone >= PW_DEC_MAX_DONE) {
            free(done.buf);
            return fail(d, PW_DERR_FRAGMENT, "too many nested reassemblies");
        }
        d->done[d->ndone++] = done.buf;
        pkt->reassembled = true;
        pl = pw_cur(done.data, done.data_len);
        nh = done.next;
    }
    pkt->proto = nh;
    return dec_l4(d, nh, &pl, pkt, trunc);
}

/* Parses the IP header and first transport bytes quoted in an ICMP error. */
static void parse_quote(pw_cursor q, pw_icmp_quote *qt, int family)
{
    uint8_t proto;
    bool first = true;
    if (family == 4) {
        uint8_t vhl = pw_u8(&q);
        if ((vhl >> 4) != 4 || (vhl & 15) < 5)
            return;
        pw_skip(&q, 5);
        uint16_t frag = pw_be16(&q);
        pw_skip(&q, 1);
        proto = pw_u8(&q);
        pw_skip(&q, 2);
        uint8_t s[4], t[4];
        pw_copy(&q, s, 4);
        pw_copy(&q, t, 4);
        if (!pw_cur_ok(&q))
            return;
        pw_addr_v4(&qt->src, s);
        pw_addr_v4(&qt->dst, t);
        pw_skip(&q, (size_t)(vhl & 15) * 4 - 20);
        first = (frag & 0x1fff) == 0;
    } else {
        uint32_t vtf = pw_be32(&q);
        if (vtf >> 28 != 6)
            return;
        pw_skip(&q, 2);
        proto = pw_u8(&q);
        pw_skip(&q, 1);
        uint8_t s[16], t[16];
        pw_copy(&q, s, 16);
        pw_copy(&q, t, 16);
        if (!pw_cur_ok(&q))
            return;
        pw_addr_v6(&qt->src, s);
        pw_addr_v6(&qt->dst, t);
        for (int i = 0; ip6_ext(proto) && i < 8 && pw_cur_ok(&q); i++) {
            if (proto == 44) {
                uint8_t next = pw_u8(&q);
                pw_skip(&q, 1);
                uint16_t offm = pw_be16(&q);
                pw_skip(&q, 4);
                first = (offm & 0xfff8) == 0;
                proto = next;
            } else {
                proto = skip_ext(&q, proto);
            }
        }
    }
    qt->present = true;
    qt->proto = proto;
    if (!pw_cur_ok(&q) || !first)
        return;
    if (proto == PW_IPPROTO_TCP || proto == PW_IPPROTO_UDP || proto == 132 /* SCTP */) {
        uint16_t sp = pw_be16(&q), dp = pw_be16(&q);
        if (!pw_cur_ok(&q))
            return;
        qt->has_ports = true;
        qt->sport = sp;
        qt->dport = dp;
        if (proto == PW_IPPROTO_TCP) {
            uint32_t seq = pw_be32(&q);
            if (pw_cur_ok(&q)) {
                qt->has_seq = true;
                qt->seq = seq;
            }
        }
    }
}

static int tunnel_depth(pw_decoder *d)
{
    if (++d->depth > MAX_DEPTH) {
        fail(d, PW_DERR_TUNNEL, "tunnels nested too deep");
        return 1;
    }
    return 0;
}

/* An 802.11 data frame (as Aruba GRE carries them): header, optional
 * A-MSDU subframe header, LLC/SNAP, ethertype.  Protected frames are opaque. */
static int dec_wlan(pw_decoder *d, pw_cursor *c, pw_pkt *pkt)
{
    uint8_t fc0 = pw_u8(c);
    uint8_t fc1 = pw_u8(c);
    if (!pw_cur_ok(c) || ((fc0 >> 2) & 3) != 2 || (fc0 & 0x40))
        return PW_DEC_NONIP; /* management, control, or a data subtype without data */
    if (fc1 & 0x40) /* protected: the payload is ciphertext */
        return fail(d, PW_DERR_WLAN_PROTECTED, "protected 802.11 data frame");
    bool qos = fc0 & 0x80;
    pw_skip(c, 22); /* duration, three addresses, sequence control */
    if ((fc1 & 3) == 3)
        pw_skip(c, 6); /* fourth address */
    bool amsdu = false;
    if (qos) {
        amsdu = pw_u8(c) & 0x80;
        pw_skip(c, 1);
        if (fc1 & 0x80)
            pw_skip(c, 4); /* HT control */
    }
    if (amsdu)
        pw_skip(c, 14); /* first A-MSDU subframe: DA, SA, length */
    uint8_t dsap = pw_u8(c), ssap = pw_u8(c), ctl = pw_u8(c);
    pw_skip(c, 3);
    uint16_t type = pw_be16(c);
    if (!pw_cur_ok(c))
        return short_hdr(d, "short 802.11 header");
    if (dsap != 0xaa || ssap != 0xaa || ctl != 0x03)
        return PW_DEC_NONIP;
    return dec_ethertype(d, type, c, pkt);
}

/* PPP inside GRE: optional address/control, 1- or 2-byte protocol. */
static int dec_ppp(pw_decoder *d, pw_cursor *c, pw_pkt *pkt)
{
    if (!pw_cur_has(c, 1))
        return -1;
    if (pw_peek_u8(c, 0) == 0xff && pw_peek_u8(c, 1) == 0x03)
        pw_skip(c, 2);
    uint16_t ppp = pw_peek_u8(c, 0);
    if (ppp & 1)
        pw_skip(c, 1);
    else
        ppp = pw_be16(c);
    if (!pw_cur_ok(c))
        return -1;
    if (ppp == 0x21)
        return dec_ip4(d, c, pkt);
    if (ppp == 0x57)
        return dec_ip6(d, c, pkt);
    return PW_DEC_NONIP;
}

static int dec_gre(pw_decoder *d, pw_cursor *c, pw_pkt *pkt)
{
    uint16_t fv = pw_be16(c);
    uint16_t type = pw_be16(c);
    if (!pw_cur_ok(c))
        return -1;
    int ver = fv & 7;
    if (fv & 0x4000)
        return -1; /* source routing: not decoded */
    if (ver == 0) {
        if (fv & 0x8000)
            pw_skip(c, 4);
        if (fv & 0x2000)
            pw_skip(c, 4);
        if (fv & 0x1000)
            pw_skip(c, 4);
        if (!pw_cur_ok(c))
            return -1;
        if (type == 0x88BE) { /* ERSPAN type II (type I has no sequence and no header) */
            if (fv & 0x1000)
                pw_skip(c, 8);
            return dec_ether(d, c, pkt);
        }
        if (type == 0x22EB) { /* ERSPAN type III */
            pw_skip(c, 11);
            uint8_t last = pw_u8(c);
            if (last & 1)
                pw_skip(c, 8); /* platform-specific subheader */
            if (!pw_cur_ok(c))
                return -1;
            return dec_ether(d, c, pkt);
        }
        if (type == 0x880B)
            return dec_ppp(d, c, pkt);
        if (type >= 0x8200 && type <= 0x8350) /* Aruba: 802.11 frames */
            return dec_wlan(d, c, pkt);
        return dec_ethertype(d, type, c, pkt);
    }
    if (ver == 1 && type == 0x880B) { /* PPTP enhanced GRE carrying PPP */
        pw_skip(c, 4); /* payload length + call id */
        if (fv & 0x1000)
            pw_skip(c, 4);
        if (fv & 0x0080)
            pw_skip(c, 4);
        if (!pw_cur_ok(c))
            return -1;
        return dec_ppp(d, c, pkt);
    }
    return -1;
}

/* ---- UDP encapsulations ----
 * Each returns -1 when the datagram is not that tunnel (its header does not
 * validate): the caller then delivers the UDP datagram itself, so ordinary
 * traffic on these ports is never swallowed.  Once a header validated, the
 * inner packet is what is delivered, and what cannot be read in it counts. */

/* A validated tunnel whose payload is not a readable packet: a tunnel error
 * (truncation keeps its own class). */
static int inner(pw_decoder *d, int r)
{
    if (r == PW_DEC_ERROR && (d->err == PW_DERR_BAD_HEADER || d->err == PW_DERR_UNSUPPORTED))
        d->err = PW_DERR_TUNNEL;
    return r;
}

/* An Ethernet frame a tunnel carries must name a protocol a network would
 * bridge there (IP, ARP, tags, MPLS, I-TAG); text or other payload on a
 * tunnel port rarely does. */
static bool ether_plausible(const pw_cursor *pl)
{
    if (!pw_cur_has(pl, 14))
        return false;
    uint16_t type = (uint16_t)(pw_peek_u8(pl, 12) << 8 | pw_peek_u8(pl, 13));
    switch (type) {
    case 0x0800: case 0x86DD: case 0x0806: case 0x8035: case 0x8100: case 0x88A8: case 0x9100:
    case 0x8847: case 0x8848: case 0x88E7: case 0x8864: case 0x8863:
        return true;
    default:
        return false;
    }
}

/* VXLAN (RFC 7348): flags with the I bit, 24-bit VNI; Ethernet follows. */
static int udp_vxlan(pw_decoder *d, pw_cursor pl, pw_pkt *pkt)
{
    uint8_t flags = pw_u8(&pl);
    pw_skip(&pl, 7);
    if (!pw_cur_ok(&pl) || !(flags & 0x08) || !ether_plausible(&pl))
        return -1;
    if (tunnel_depth(d))
        return PW_DEC_ERROR;
    return inner(d, dec_ether(d, &pl, pkt));
}

/* VXLAN-GPE: like VXLAN plus a next-protocol byte (1 IPv4, 2 IPv6, 3 Ethernet). */
static int udp_vxlan_gpe(pw_decoder *d, pw_cursor pl, pw_pkt *pkt)
{
    uint8_t flags = pw_u8(&pl);
    pw_skip(&pl, 2);
    uint8_t next = pw_u8(&pl);
    pw_skip(&pl, 4);
    if (!pw_cur_ok(&pl) || !(flags & 0x08) || !pw_cur_has(&pl, 20))
        return -1;
    if (!(flags & 0x04) && next == 0)
        next = 3; /* no next protocol: Ethernet as in plain VXLAN */
    if (next != 1 && next != 2 && next != 3)
        return -1;
    if (next == 3 && !ether_plausible(&pl))
        return -1;
    if (tunnel_depth(d))
        return PW_DEC_ERROR;
    if (next == 1)
        return inner(d, dec_ip4(d, &pl, pkt));
    if (next == 2)
        return inner(d, dec_ip6(d, &pl, pkt));
    return inner(d, dec_ether(d, &pl, pkt));
}

/* Geneve (RFC 8926): version 0, option length in 4-byte words, protocol type. */
static int udp_geneve(pw_decoder *d, pw_cursor pl, pw_pkt *pkt, bool cut)
{
    uint8_t vo = pw_u8(&pl);
    pw_skip(&pl, 1);
    uint16_t type = pw_be16(&pl);
    pw_skip(&pl, 4 + (size_t)(vo & 0x3f) * 4);
    if (!pw_cur_ok(&pl) || (vo >> 6) != 0 || (!cut && !pw_cur_has(&pl, 20)))
        return -1;
    if (type != 0x6558 && type != 0x0800 && type != 0x86DD)
        return -1;
    if (type == 0x6558 && !ether_plausible(&pl))
        return -1;
    if (tunnel_depth(d))
        return PW_DEC_ERROR;
    if (type == 0x6558)
        return inner(d, dec_ether(d, &pl, pkt));
    return inner(d, dec_ethertype(d, type, &pl, pkt));
}

/* The IPv6 packet a Teredo or AYIYA header carries must fill the datagram
 * exactly (or, when snaplen cut it, at least what was captured): that is
 * what tells a tunnel from other traffic on the port. */
static bool ip6_fills(const pw_cursor *pl, bool cut)
{
    size_t left = pw_cur_left(pl);
    if (left == 0 || (pw_peek_u8(pl, 0) >> 4) != 6)
        return false;
    if (left < 40)
        return cut; /* the length is beyond snaplen */
    size_t plen = (size_t)pw_peek_u8(pl, 4) << 8 | pw_peek_u8(pl, 5);
    return cut ? plen + 40 >= left : plen + 40 == left;
}

/* An IPv4 packet an AYIYA header announces: version 4 and room for the
 * header, unless snaplen cut it. */
static bool ip4_fits(const pw_cursor *pl, bool cut)
{
    if (!pw_cur_left(pl))
        return cut;
    return (pw_peek_u8(pl, 0) >> 4) == 4 && (cut || pw_cur_has(pl, 20));
}

/* Teredo (RFC 4380): IPv6 in UDP, optionally preceded by an authentication
 * indication (0x0001, id and auth lengths, id, auth, nonce, confirmation)
 * and/or an origin indication (0x0000, port, address: 8 bytes). */
static int udp_teredo(pw_decoder *d, pw_cursor pl, pw_pkt *pkt, bool cut)
{
    if (pw_peek_u8(&pl, 0) == 0 && pw_peek_u8(&pl, 1) == 1) {
        pw_skip(&pl, 2);
        uint8_t idlen = pw_u8(&pl), aulen = pw_u8(&pl);
        pw_skip(&pl, (size_t)idlen + aulen + 9); /* ids, nonce (8), confirmation (1) */
    }
    if (pw_peek_u8(&pl, 0) == 0 && pw_peek_u8(&pl, 1) == 0)
        pw_skip(&pl, 8);
    if (!pw_cur_ok(&pl) || !ip6_fills(&pl, cut))
        return -1;
    if (tunnel_depth(d))
        return PW_DEC_ERROR;
    return inner(d, dec_ip6(d, &pl, pkt));
}

/* AYIYA (Anything In Anything): identity length/type, signature length/hash
 * method, auth method/opcode, next header, epoch, identity, signature.
 * Only opcode 1 (forward) carries a packet. */
static int udp_ayiya(pw_decoder *d, pw_cursor pl, pw_pkt *pkt, bool cut)
{
    uint8_t id = pw_u8(&pl);
    uint8_t sig = pw_u8(&pl);
    uint8_t op = pw_u8(&pl);
    uint8_t next = pw_u8(&pl);
    pw_skip(&pl, 4); /* epoch */
    pw_skip(&pl, ((size_t)1 << (id >> 4)) + (size_t)(sig >> 4) * 4);
    if (!pw_cur_ok(&pl) || (op & 0x0f) != 1 || (next != 4 && next != 41))
        return -1;
    if (next == 41 && !ip6_fills(&pl, cut) && !(cut && !pw_cur_left(&pl)))
        return -1;
    if (next == 4 && !ip4_fits(&pl, cut))
        return -1;
    if (tunnel_depth(d))
        return PW_DEC_ERROR;
    return inner(d, next == 41 ? dec_ip6(d, &pl, pkt) : dec_ip4(d, &pl, pkt));
}

/* GTP-U (3GPP TS 29.281): version 1, protocol type GTP, message G-PDU (255),
 * a length that fits, then optional sequence / N-PDU / extension headers
 * (chained by a next-type byte, lengths in 4-byte units) and the IP packet. */
static int udp_gtpu(pw_decoder *d, pw_cursor pl, pw_pkt *pkt, bool cut)
{
    uint8_t flags = pw_u8(&pl);
    uint8_t type = pw_u8(&pl);
    uint16_t len = pw_be16(&pl);
    pw_skip(&pl, 4); /* TEID */
    if (!pw_cur_ok(&pl) || (flags >> 5) != 1 || !(flags & 0x10) || type != 0xff)
        return -1;
    if (len > pw_cur_left(&pl) && !cut)
        return -1;
    pw_cursor body = len > pw_cur_left(&pl) ? pw_rest(&pl) : pw_sub(&pl, len);
    if (flags & 0x07) { /* sequence number, N-PDU number, next extension type */
        pw_skip(&body, 3);
        uint8_t next = pw_u8(&body);
        if (!(flags & 0x04))
            next = 0; /* the byte is there but no extension follows */
        for (int i = 0; next && pw_cur_ok(&body); i++) {
            uint8_t n = pw_u8(&body);
            if (n == 0 || i >= 16)
                return -1;
            pw_skip(&body, (size_t)n * 4 - 2);
            next = pw_u8(&body);
        }
    }
    if (!pw_cur_ok(&body))
        return -1;
    uint8_t nib = pw_peek_u8(&body, 0) >> 4;
    if (pw_cur_left(&body) ? (nib != 4 && nib != 6) || (!cut && !pw_cur_has(&body, 20)) : !cut)
        return -1;
    if (tunnel_depth(d))
        return PW_DEC_ERROR;
    return inner(d, dec_ip_any(d, &body, pkt));
}

/* GRE in UDP (RFC 8086): a GRE header (version 0, no routing, reserved
 * bits clear) carrying a protocol we peel. */
static int udp_gre(pw_decoder *d, pw_cursor pl, pw_pkt *pkt)
{
    uint16_t fv = (uint16_t)(pw_peek_u8(&pl, 0) << 8 | pw_peek_u8(&pl, 1));
    uint16_t type = (uint16_t)(pw_peek_u8(&pl, 2) << 8 | pw_peek_u8(&pl, 3));
    if (!pw_cur_has(&pl, 4) || (fv & 0x4ff8) || (fv & 7))
        return -1;
    if (type != 0x0800 && type != 0x86DD && type != 0x6558 && type != 0x8847 && type != 0x8848 &&
        type != 0x880B)
        return -1;
    if (tunnel_depth(d))
        return PW_DEC_ERROR;
    int r = dec_gre(d, &pl, pkt);
    return r < 0 ? -1 : inner(d, r);
}

enum {
    PORT_GTPU = 2152, PORT_TEREDO = 3544, PORT_GRE_UDP = 4754, PORT_VXLAN = 4789,
    PORT_VXLAN_GPE = 4790, PORT_AYIYA = 5072, PORT_GENEVE = 6081
};

static bool tunnel_port(uint16_t sport, uint16_t dport)
{
    switch (dport) {
    case PORT_GTPU: case PORT_TEREDO: case PORT_GRE_UDP: case PORT_VXLAN: case PORT_VXLAN_GPE:
    case PORT_AYIYA: case PORT_GENEVE:
        return true;
    default:
        return sport == PORT_TEREDO || sport == PORT_AYIYA;
    }
}

/* Returns -1 when the payload is not a tunnel (deliver the UDP packet).
 * cut: snaplen cut the datagram; a tunnel header that was captured whole is
 * still peeled, so that a short snaplen never turns the outer flow into an
 * attempt (the inner packet is then decoded as truncated). */
static int dec_udp_tunnel(pw_decoder *d, uint16_t sport, uint16_t dport, pw_cursor pl, pw_pkt *pkt,
                          bool cut)
{
    switch (dport) {
    case PORT_VXLAN:
        return udp_vxlan(d, pl, pkt);
    case PORT_VXLAN_GPE:
        return udp_vxlan_gpe(d, pl, pkt);
    case PORT_GENEVE:
        return udp_geneve(d, pl, pkt, cut);
    case PORT_GTPU:
        return udp_gtpu(d, pl, pkt, cut);
    case PORT_GRE_UDP:
        return udp_gre(d, pl, pkt);
    default:
        break;
    }
    if (dport == PORT_TEREDO || sport == PORT_TEREDO)
        return udp_teredo(d, pl, pkt, cut);
    if (dport == PORT_AYIYA || sport == PORT_AYIYA)
        return udp_ayiya(d, pl, pkt, cut);
    return -1;
}

static int dec_l4(pw_decoder *d, uint8_t proto, pw_cursor *c, pw_pkt *pkt, bool trunc)
{
    switch (proto) {
    case PW_IPPROTO_TCP: {
        pkt->sport = pw_be16(c);
        pkt->dport = pw_be16(c);
        pkt->seq = pw_be32(c);
        pkt->ack = pw_be32(c);
        uint8_t doff = pw_u8(c);
        pkt->tcp_flags = pw_u8(c) & 0x3f;
        pkt->win = pw_be16(c);
        pw_skip(c, 4);
        if (!pw_cur_ok(c))
            return trunc ? fail(d, PW_DERR_TRUNCATED, "TCP header cut by snaplen")
                         : fail(d, PW_DERR_BAD_LENGTH, "TCP header beyond IP payload");
        uint32_t hl = (uint32_t)(doff >> 4) * 4;
        if (hl < 20)
            return fail(d, PW_DERR_BAD_HEADER, "TCP data offset below 20");
        if (trunc && pw_cur_left(c) < hl - 20) {
            /* Ports, flags and sequence numbers are all in the fixed 20
             * bytes: a SYN whose options were cut by a small snaplen
             * (tcpdump -s 68) is still an attempt.  Deliver the header,
             * with no payload, and count the cut. */
            d->soft_err = PW_DERR_TRUNCATED;
            d->why = "TCP options cut by snaplen (header still used)";
            pkt->payload = NULL;
            pkt->payload_len = 0;
            pkt->payload_truncated = true;
            return PW_DEC_PKT;
        }
        pw_skip(c, hl - 20);
        if (!pw_cur_ok(c))
            return fail(d, PW_DERR_BAD_LENGTH, "TCP data offset beyond IP payload");
        return set_payload(d, c, pkt, trunc);
    }
    case PW_IPPROTO_UDP: {
        pkt->sport = pw_be16(c);
        pkt->dport = pw_be16(c);
        uint32_t ulen = pw_be16(c);
        pw_skip(c, 2);
        if (!pw_cur_ok(c))
            return trunc ? fail(d, PW_DERR_TRUNCATED, "UDP header cut by snaplen")
                         : fail(d, PW_DERR_BAD_LENGTH, "UDP header beyond IP payload");
        size_t left = pw_cur_left(c);
        pw_cursor pl;
        bool ptrunc = trunc;
        if (ulen == 0 && !trunc) {
            pl = pw_rest(c); /* IPv6 jumbogram or TSO */
        } else if (ulen < 8) {
            return fail(d, PW_DERR_BAD_LENGTH, "UDP length below 8");
        } else if (ulen - 8 <= left) {
            pl = pw_sub(c, ulen - 8);
            ptrunc = false;
        } else if (trunc) {
            pl = pw_rest(c);
        } else {
            return fail(d, PW_DERR_BAD_LENGTH, "UDP length beyond IP payload");
        }
        if (tunnel_port(pkt->sport, pkt->dport)) {
            pw_pkt save = *pkt;
            const uint8_t *save_ip4 = d->ip4;
            uint32_t save_ip4_len = d->ip4_len;
            int r = dec_udp_tunnel(d, pkt->sport, pkt->dport, pl, pkt, ptrunc);
            if (r >= 0)
                return r;
            *pkt = save;
            d->ip4 = save_ip4;
            d->ip4_len = save_ip4_len;
        }
        return set_payload(d, &pl, pkt, ptrunc);
    }
    case PW_IPPROTO_ICMP:
    case PW_IPPROTO_ICMPV6: {
        pkt->icmp_type = pw_u8(c);
        pkt->icmp_code = pw_u8(c);
        pw_skip(c, 6);
        if (!pw_cur_ok(c))
            return trunc ? fail(d, PW_DERR_TRUNCATED, "ICMP header cut by snaplen")
                         : fail(d, PW_DERR_BAD_LENGTH, "ICMP header beyond IP payload");
        uint8_t t = pkt->icmp_type;
        bool err = proto == PW_IPPROTO_ICMP ? (t == 3 || t == 4 || t == 5 || t == 11 || t == 12)
                                            : (t >= 1 && t <= 4);
        if (err)
            parse_quote(*c, &pkt->quote, proto == PW_IPPROTO_ICMP ? 4 : 6);
        return set_payload(d, c, pkt, trunc);
    }
    case 51: { /* IPv4 AH (IPv6 AH is walked with the extension headers) */
        pw_cursor save = *c;
        uint8_t next = pw_u8(c);
        uint8_t len = pw_u8(c);
        pw_skip(c, ((size_t)len + 2) * 4 - 2);
        if (!pw_cur_ok(c) || next == 51 || d->depth >= MAX_DEPTH) {
            *c = save;
            return set_payload(d, c, pkt, trunc);
        }
        d->depth++;
        pkt->proto = next;
        return dec_l4(d, next, c, pkt, trunc);
    }
    case 47: /* GRE */
    case 4:  /* IP in IP */
    case 41: /* IPv6 in IP */
    {
        if (trunc || d->depth >= MAX_DEPTH)
            return set_payload(d, c, pkt, trunc);
        pw_pkt save = *pkt;
        pw_cursor inner = *c;
        d->depth++;
        int r;
        if (proto == 47)
            r = dec_gre(d, &inner, pkt);
        else if (proto == 4)
            r = dec_ip4(d, &inner, pkt);
        else
            r = dec_ip6(d, &inner, pkt);
        if (r >= 0)
            return r;
        /* a GRE flavour we do not decode: report the GRE packet itself */
        *pkt = save;
        return set_payload(d, c, pkt, trunc);
    }
    default:
        return set_payload(d, c, pkt, trunc);
    }
}
