/* test_decode.c - link/IP/transport decoding, tunnels, fragments (capture/decode.c). */
#include <pcap/dlt.h>
#include <stdlib.h>

#include "../../capture/decode.h"
#include "check.h"

/* ---- a tiny frame builder ---- */
typedef struct {
    uint8_t b[70000];
    size_t n;
} buf;

static void u8(buf *f, unsigned v) { f->b[f->n++] = (uint8_t)v; }
static void be16(buf *f, unsigned v) { u8(f, v >> 8); u8(f, v & 0xff); }
static void be32(buf *f, uint32_t v) { be16(f, v >> 16); be16(f, v & 0xffff); }
static void bytes(buf *f, const void *p, size_t n) { memcpy(f->b + f->n, p, n); f->n += n; }
static void zeros(buf *f, size_t n) { memset(f->b + f->n, 0, n); f->n += n; }
static void put16at(buf *f, size_t at, unsigned v) { f->b[at] = (uint8_t)(v >> 8); f->b[at + 1] = (uint8_t)v; }

static void ether(buf *f, unsigned type)
{
    static const uint8_t macs[12] = {0, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10};
    bytes(f, macs, 12);
    be16(f, type);
}

/* IPv4 header 10.0.0.src -> 10.0.0.dst; returns offset of the header (patch length later). */
static size_t ip4(buf *f, unsigned proto, unsigned src, unsigned dst, unsigned id, unsigned frag)
{
    size_t at = f->n;
    u8(f, 0x45); u8(f, 0); be16(f, 0); be16(f, id); be16(f, frag); u8(f, 64); u8(f, proto);
    be16(f, 0xdead); /* bad checksum on purpose: never verified */
    u8(f, 10); u8(f, 0); u8(f, 0); u8(f, src);
    u8(f, 10); u8(f, 0); u8(f, 0); u8(f, dst);
    return at;
}
static void ip4_len(buf *f, size_t at) { put16at(f, at + 2, (unsigned)(f->n - at)); }

static size_t ip6(buf *f, unsigned nh, unsigned src, unsigned dst)
{
    size_t at = f->n;
    be32(f, 0x60000000); be16(f, 0); u8(f, nh); u8(f, 33);
    be32(f, 0x20010db8); zeros(f, 11); u8(f, src);
    be32(f, 0x20010db8); zeros(f, 11); u8(f, dst);
    return at;
}
static void ip6_len(buf *f, size_t at) { put16at(f, at + 4, (unsigned)(f->n - at - 40)); }

static void tcp(buf *f, unsigned sp, unsigned dp, uint32_t seq, uint32_t ack, unsigned flags, const char *data)
{
    be16(f, sp); be16(f, dp); be32(f, seq); be32(f, ack); u8(f, 0x50); u8(f, flags); be16(f, 8192);
    be16(f, 0xbeef); be16(f, 0);
    if (data)
        bytes(f, data, strlen(data));
}
static void udp(buf *f, unsigned sp, unsigned dp, const char *data)
{
    size_t n = data ? strlen(data) : 0;
    be16(f, sp); be16(f, dp); be16(f, 8 + n); be16(f, 0);
    if (n)
        bytes(f, data, n);
}

static pw_decoder D;
static pw_pkt P;

static int dec(int dlt, buf *f) { return pw_decode(&D, dlt, f->b, (uint32_t)f->n, (uint32_t)f->n, 1000000, &P); }

static bool is_v4(const pw_addr *a, unsigned last) { return a->family == 4 && a->b[0] == 10 && a->b[3] == last; }
static bool is_v6(const pw_addr *a, unsigned last) { return a->family == 6 && a->b[0] == 0x20 && a->b[15] == last; }

/* ---- tests ---- */

static void test_ethernet_tcp(void)
{
    buf f = {.n = 0};
    ether(&f, 0x0800);
    size_t ip = ip4(&f, 6, 1, 2, 1, 0x4000);
    tcp(&f, 50001, 445, 1000, 0, PW_TH_SYN, NULL);
    ip4_len(&f, ip);
    zeros(&f, 6); /* Ethernet padding must be ignored */
    CHECK_INT(dec(DLT_EN10MB, &f), PW_DEC_PKT);
    CHECK(is_v4(&P.src, 1) && is_v4(&P.dst, 2));
    CHECK_INT(P.proto, 6);
    CHECK_INT(P.sport, 50001);
    CHECK_INT(P.dport, 445);
    CHECK_INT(P.seq, 1000);
    CHECK_INT(P.tcp_flags, PW_TH_SYN);
    CHECK_INT(P.win, 8192);
    CHECK_INT(P.ttl, 64);
    CHECK(P.has_ip_id);      /* the IPv4 Identification, for "who refused" */
    CHECK_INT(P.ip_id, 1);
    CHECK_INT(P.dgram_kind, PW_DGRAM_UNKNOWN); /* the pipeline's to fill, never capture's */
    CHECK_INT(P.payload_len, 0);
    CHECK_INT(P.vlan, 0);
    CHECK_INT(P.wire_len, f.n);
    CHECK(D.ip4 != NULL);
    CHECK_INT(D.ip4_len, 40);
    CHECK(!P.payload_truncated);
}

static void test_vlan_stacks(void)
{
    buf f = {.n = 0};
    ether(&f, 0x88A8);
    be16(&f, 0x0064); be16(&f, 0x8100); /* outer 100 */
    be16(&f, 0x00c8); be16(&f, 0x9100); /* 200 */
    be16(&f, 0x012c); be16(&f, 0x0800); /* 300 */
    size_t ip = ip4(&f, 17, 3, 4, 2, 0);
    udp(&f, 5353, 53, "abcd");
    ip4_len(&f, ip);
    CHECK_INT(dec(DLT_EN10MB, &f), PW_DEC_PKT);
    CHECK_INT(P.vlan, 100);
    CHECK_INT(P.proto, 17);
    CHECK_INT(P.dport, 53);
    CHECK_INT(P.payload_len, 4);
    CHECK(P.payload && memcmp(P.payload, "abcd", 4) == 0);

    buf g = {.n = 0}; /* single 802.1Q, priority bits must be masked */
    ether(&g, 0x8100);
    be16(&g, 0xe00a); be16(&g, 0x86DD);
    size_t i6 = ip6(&g, 6, 1, 2);
    tcp(&g, 1, 2, 3, 4, PW_TH_ACK, "x");
    ip6_len(&g, i6);
    CHECK_INT(dec(DLT_EN10MB, &g), PW_DEC_PKT);
    CHECK_INT(P.vlan, 10);
    CHECK(is_v6(&P.src, 1) && is_v6(&P.dst, 2));
    CHECK_INT(P.payload_len, 1);
    CHECK(D.ip4 == NULL);
}

static void test_sll(void)
{
    buf f = {.n = 0};
    be16(&f, 0); be16(&f, 1); be16(&f, 6); zeros(&f, 8); be16(&f, 0x0800);
    size_t ip = ip4(&f, 6, 5, 6, 3, 0);
    tcp(&f, 80, 40000, 7, 8, PW_TH_SYN | PW_TH_ACK, NULL);
    ip4_len(&f, ip);
    CHECK_INT(dec(DLT_LINUX_SLL, &f), PW_DEC_PKT);
    CHECK(is_v4(&P.src, 5));
    CHECK_INT(P.tcp_flags, PW_TH_SYN | PW_TH_ACK);
    CHECK_INT(P.ack, 8);

    buf g = {.n = 0};
    be16(&g, 0x86DD); be16(&g, 0); be32(&g, 2); be16(&g, 1); u8(&g, 0); u8(&g, 6); zeros(&g, 8);
    size_t i6 = ip6(&g, 17, 7, 8);
    udp(&g, 1000, 2000, "hi");
    ip6_len(&g, i6);
    CHECK_INT(dec(DLT_LINUX_SLL2, &g), PW_DEC_PKT);
    CHECK(is_v6(&P.dst, 8));
    CHECK_INT(P.dport, 2000);
    CHECK_INT(P.ttl, 33);
    CHECK(!P.has_ip_id); /* IPv6, after an IPv4 packet in the same pw_pkt */
    CHECK_INT(P.ip_id, 0);

    buf a = {.n = 0}; /* ARP over SLL2: non-IP, not an error */
    be16(&a, 0x0806); zeros(&a, 18); zeros(&a, 28);
    CHECK_INT(dec(DLT_LINUX_SLL2, &a), PW_DEC_NONIP);
    buf s = {.n = 0};
    be16(&s, 0x0800); zeros(&s, 5); /* short SLL2 header */
    CHECK_INT(dec(DLT_LINUX_SLL2, &s), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_BAD_LENGTH);
}

static void test_raw_and_null(void)
{
    buf f = {.n = 0};
    size_t ip = ip4(&f, 17, 9, 10, 4, 0);
    udp(&f, 1, 2, NULL);
    ip4_len(&f, ip);
    CHECK_INT(dec(12, &f), PW_DEC_PKT);
    CHECK(is_v4(&P.src, 9));
    CHECK_INT(dec(101, &f), PW_DEC_PKT);
    CHECK_INT(dec(DLT_IPV4, &f), PW_DEC_PKT);
    CHECK_INT(dec(DLT_IPV6, &f), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_BAD_HEADER);

    buf g = {.n = 0};
    size_t i6 = ip6(&g, 17, 1, 2);
    udp(&g, 1, 2, NULL);
    ip6_len(&g, i6);
    CHECK_INT(dec(12, &g), PW_DEC_PKT);
    CHECK_INT(P.src.family, 6);
    CHECK_INT(dec(DLT_IPV6, &g), PW_DEC_PKT);

    /* DLT_NULL: AF in the capturing host's byte order (either) */
    buf n = {.n = 0};
    u8(&n, 2); u8(&n, 0); u8(&n, 0); u8(&n, 0);
    bytes(&n, f.b, f.n);
    CHECK_INT(dec(DLT_NULL, &n), PW_DEC_PKT);
    CHECK(is_v4(&P.dst, 10));
    buf nb = {.n = 0};
    be32(&nb, 2);
    bytes(&nb, f.b, f.n);
    CHECK_INT(dec(DLT_NULL, &nb), PW_DEC_PKT);
    buf n6 = {.n = 0};
    be32(&n6, 30);
    bytes(&n6, g.b, g.n);
    CHECK_INT(dec(DLT_NULL, &n6), PW_DEC_PKT);
    CHECK_INT(P.src.family, 6);
    CHECK_INT(dec(108, &n6), PW_DEC_PKT); /* DLT_LOOP: network order */
    n6.b[0] = 24; n6.b[3] = 0; /* little-endian 24 */
    CHECK_INT(dec(DLT_NULL, &n6), PW_DEC_PKT);
    buf nx = {.n = 0};
    be32(&nx, 7); zeros(&nx, 20);
    CHECK_INT(dec(DLT_NULL, &nx), PW_DEC_NONIP);
}

static void test_ipv6_ext(void)
{
    buf f = {.n = 0};
    size_t at = ip6(&f, 0, 1, 2);
    u8(&f, 60); u8(&f, 0); zeros(&f, 6);          /* hop-by-hop, 8 bytes */
    u8(&f, 43); u8(&f, 1); zeros(&f, 14);         /* dest options, 16 bytes */
    u8(&f, 44); u8(&f, 2); zeros(&f, 6);          /* routing, 24 bytes */
    zeros(&f, 16);
    u8(&f, 51); u8(&f, 0); be16(&f, 0); be32(&f, 77); /* atomic fragment */
    u8(&f, 6); u8(&f, 1); zeros(&f, 10);          /* AH: (1+2)*4 = 12 bytes */
    tcp(&f, 33000, 443, 5, 0, PW_TH_SYN, NULL);
    ip6_len(&f, at);
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_PKT);
    CHECK_INT(P.proto, 6);
    CHECK_INT(P.dport, 443);
    CHECK_INT(P.seq, 5);

    buf e = {.n = 0}; /* ESP stops the walk */
    size_t ae = ip6(&e, 0, 1, 2);
    u8(&e, 50); u8(&e, 0); zeros(&e, 6);
    be32(&e, 0x1234); zeros(&e, 20);
    ip6_len(&e, ae);
    CHECK_INT(dec(DLT_RAW, &e), PW_DEC_PKT);
    CHECK_INT(P.proto, 50);
    CHECK_INT(P.payload_len, 24);

    buf t = {.n = 0}; /* extension header beyond payload */
    size_t a2 = ip6(&t, 60, 1, 2);
    u8(&t, 6); u8(&t, 5); zeros(&t, 6);
    ip6_len(&t, a2);
    CHECK_INT(dec(DLT_RAW, &t), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_BAD_LENGTH);
    /* IPv6 payload length beyond a complete frame: delivered, counted */
    buf l6 = {.n = 0};
    size_t a3 = ip6(&l6, 17, 1, 2);
    udp(&l6, 1, 53, "abcd");
    put16at(&l6, a3 + 4, 300);
    CHECK_INT(dec(DLT_RAW, &l6), PW_DEC_PKT);
    CHECK_INT(D.soft_err, PW_DERR_BAD_LENGTH);
    CHECK_INT(P.dport, 53);
}

static void test_icmp_quotes(void)
{
    /* full quote: port unreachable for UDP 10.0.0.1:5000 -> 10.0.0.2:161 */
    buf f = {.n = 0};
    size_t at = ip4(&f, 1, 2, 1, 9, 0);
    u8(&f, 3); u8(&f, 3); be16(&f, 0); be32(&f, 0);
    size_t q = ip4(&f, 17, 1, 2, 10, 0);
    put16at(&f, q + 2, 28);
    udp(&f, 5000, 161, NULL);
    ip4_len(&f, at);
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_PKT);
    CHECK_INT(P.proto, 1);
    CHECK_INT(P.icmp_type, 3);
    CHECK_INT(P.icmp_code, 3);
    CHECK(P.quote.present);
    CHECK(is_v4(&P.quote.src, 1) && is_v4(&P.quote.dst, 2));
    CHECK_INT(P.quote.proto, 17);
    CHECK(P.quote.has_ports);
    CHECK_INT(P.quote.sport, 5000);
    CHECK_INT(P.quote.dport, 161);
    CHECK(!P.quote.has_seq);

    /* TCP quote with seq; admin prohibited from a router */
    buf t = {.n = 0};
    size_t a2 = ip4(&t, 1, 254, 1, 9, 0);
    u8(&t, 3); u8(&t, 13); be16(&t, 0); be32(&t, 0);
    ip4(&t, 6, 1, 2, 10, 0);
    be16(&t, 40000); be16(&t, 3389); be32(&t, 0xabcdef01);
    ip4_len(&t, a2);
    CHECK_INT(dec(DLT_RAW, &t), PW_DEC_PKT);
    CHECK_INT(P.icmp_code, 13);
    CHECK(P.quote.has_seq);
    CHECK_INT(P.quote.seq, 0xabcdef01);
    CHECK_INT(P.quote.dport, 3389);

    /* short quote: only 4 transport bytes -> ports but no seq */
    t.n -= 4;
    ip4_len(&t, a2);
    CHECK_INT(dec(DLT_RAW, &t), PW_DEC_PKT);
    CHECK(P.quote.present && P.quote.has_ports && !P.quote.has_seq);
    /* shorter: only part of the quoted IP header -> no quote, packet still fine */
    t.n = a2 + 20 + 8 + 12;
    ip4_len(&t, a2);
    CHECK_INT(dec(DLT_RAW, &t), PW_DEC_PKT);
    CHECK_INT(P.icmp_type, 3);
    CHECK(!P.quote.present);
    /* echo reply is not an error: no quote */
    buf e = {.n = 0};
    size_t a3 = ip4(&e, 1, 2, 1, 9, 0);
    u8(&e, 0); u8(&e, 0); be16(&e, 0); be32(&e, 0);
    ip4(&e, 6, 1, 2, 10, 0);
    ip4_len(&e, a3);
    CHECK_INT(dec(DLT_RAW, &e), PW_DEC_PKT);
    CHECK(!P.quote.present);

    /* ICMPv6 destination unreachable (port) quoting TCP */
    buf s = {.n = 0};
    size_t a6 = ip6(&s, 58, 2, 1);
    u8(&s, 1); u8(&s, 4); be16(&s, 0); be32(&s, 0);
    size_t qa = ip6(&s, 6, 1, 2);
    tcp(&s, 41000, 22, 99, 0, PW_TH_SYN, NULL);
    ip6_len(&s, qa);
    ip6_len(&s, a6);
    CHECK_INT(dec(DLT_RAW, &s), PW_DEC_PKT);
    CHECK_INT(P.proto, 58);
    CHECK_INT(P.icmp_type, 1);
    CHECK_INT(P.icmp_code, 4);
    CHECK(P.quote.present);
    CHECK(is_v6(&P.quote.src, 1) && is_v6(&P.quote.dst, 2));
    CHECK_INT(P.quote.dport, 22);
    CHECK_INT(P.quote.seq, 99);
    /* short ICMPv6 quote: IPv6 header cut */
    s.n = a6 + 40 + 8 + 30;
    ip6_len(&s, a6);
    CHECK_INT(dec(DLT_RAW, &s), PW_DEC_PKT);
    CHECK(!P.quote.present);
}

static void test_bad_lengths(void)
{
    buf f = {.n = 0};
    CHECK_INT(pw_decode(&D, DLT_EN10MB, f.b, 0, 0, 0, &P), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_ZERO_LENGTH);

    ether(&f, 0x0800);
    size_t ip = ip4(&f, 6, 1, 2, 1, 0);
    tcp(&f, 1, 2, 3, 4, PW_TH_ACK, "hello world");
    ip4_len(&f, ip);
    size_t full = f.n;
    /* snaplen cut the payload: decoded, payload truncated */
    CHECK_INT(pw_decode(&D, DLT_EN10MB, f.b, (uint32_t)full - 5, (uint32_t)full, 0, &P), PW_DEC_PKT);
    CHECK_INT(D.soft_err, -1);
    CHECK(P.payload_truncated);
    CHECK_INT(P.payload_len, 6);
    CHECK(D.ip4 == NULL); /* not handed to libnids */
    /* snaplen cut the TCP header */
    CHECK_INT(pw_decode(&D, DLT_EN10MB, f.b, 14 + 20 + 10, (uint32_t)full, 0, &P), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_TRUNCATED);
    /* snaplen cut the IP header */
    CHECK_INT(pw_decode(&D, DLT_EN10MB, f.b, 14 + 10, (uint32_t)full, 0, &P), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_TRUNCATED);
    /* snaplen cut the TCP options of a SYN: the fixed header is still delivered */
    {
        buf g = {.n = 0};
        ether(&g, 0x0800);
        size_t gip = ip4(&g, 6, 1, 2, 1, 0);
        tcp(&g, 50001, 135, 1000, 0, PW_TH_SYN, "");
        g.b[gip + 20 + 12] = 0x80; /* data offset 32: 12 bytes of options follow */
        zeros(&g, 12);
        ip4_len(&g, gip);
        CHECK_INT(pw_decode(&D, DLT_EN10MB, g.b, 14 + 20 + 26, (uint32_t)g.n, 0, &P), PW_DEC_PKT);
        CHECK_INT(D.soft_err, PW_DERR_TRUNCATED);
        CHECK_INT(P.sport, 50001);
        CHECK_INT(P.dport, 135);
        CHECK_INT(P.tcp_flags, PW_TH_SYN);
        CHECK_INT(P.seq, 1000);
        CHECK_INT(P.payload_len, 0);
        CHECK(P.payload_truncated);
        CHECK(D.ip4 == NULL);
    }
    /* complete frame but IP says more than there is: decoded as truncated, error counted */
    put16at(&f, ip + 2, 400);
    CHECK_INT(dec(DLT_EN10MB, &f), PW_DEC_PKT);
    CHECK_INT(D.soft_err, PW_DERR_BAD_LENGTH);
    CHECK(P.payload_truncated);
    CHECK_INT(P.payload_len, 11);
    CHECK(D.ip4 == NULL);
    put16at(&f, ip + 2, 400);
    CHECK_INT(pw_decode(&D, DLT_EN10MB, f.b, 14 + 20 + 10, 14 + 20 + 10, 0, &P), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_BAD_LENGTH); /* TCP header cut by the lying length, not snaplen */
    /* total length below header length */
    put16at(&f, ip + 2, 12);
    CHECK_INT(dec(DLT_EN10MB, &f), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_BAD_LENGTH);
    /* header length below 20 */
    put16at(&f, ip + 2, (unsigned)(full - 14));
    f.b[ip] = 0x44;
    CHECK_INT(dec(DLT_EN10MB, &f), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_BAD_HEADER);
    f.b[ip] = 0x45;
    /* TCP data offset below 20 */
    f.b[ip + 20 + 12] = 0x30;
    CHECK_INT(dec(DLT_EN10MB, &f), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_BAD_HEADER);
    /* TCP data offset beyond the packet */
    f.b[ip + 20 + 12] = 0xf0;
    CHECK_INT(dec(DLT_EN10MB, &f), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_BAD_LENGTH);
    /* short Ethernet */
    CHECK_INT(pw_decode(&D, DLT_EN10MB, f.b, 10, 10, 0, &P), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_BAD_LENGTH);
    /* IP version 5 */
    f.b[ip] = 0x55;
    CHECK_INT(dec(DLT_EN10MB, &f), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_BAD_HEADER);
    /* UDP length impossible */
    buf u = {.n = 0};
    size_t i2 = ip4(&u, 17, 1, 2, 1, 0);
    udp(&u, 1, 2, "abc");
    ip4_len(&u, i2);
    put16at(&u, i2 + 24, 5);
    CHECK_INT(dec(DLT_RAW, &u), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_BAD_LENGTH);
    put16at(&u, i2 + 24, 100);
    CHECK_INT(dec(DLT_RAW, &u), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_BAD_LENGTH);
    put16at(&u, i2 + 24, 9); /* shorter than the IP payload: trimmed */
    CHECK_INT(dec(DLT_RAW, &u), PW_DEC_PKT);
    CHECK_INT(P.payload_len, 1);
    /* ARP is not an error */
    buf a = {.n = 0};
    ether(&a, 0x0806);
    zeros(&a, 28);
    CHECK_INT(dec(DLT_EN10MB, &a), PW_DEC_NONIP);
    buf l = {.n = 0}; /* 802.3 length field (STP) */
    ether(&l, 38);
    zeros(&l, 38);
    CHECK_INT(dec(DLT_EN10MB, &l), PW_DEC_NONIP);
}

/* a UDP datagram 10.0.0.1 -> .2 of `len` payload bytes (pattern), split in fragments */
static uint8_t DG[4000];
static void frag4(buf *f, unsigned id, unsigned off, unsigned len, bool more)
{
    f->n = 0;
    size_t at = ip4(f, 17, 1, 2, id, (more ? 0x2000 : 0) | (off / 8));
    bytes(f, DG + off, len);
    ip4_len(f, at);
}

static void test_fragments(void)
{
    /* build the datagram: UDP header + 1992 bytes */
    buf d = {.n = 0};
    be16(&d, 4000); be16(&d, 53); be16(&d, 2000); be16(&d, 0);
    for (int i = 0; i < 1992; i++)
        u8(&d, (unsigned)(i * 7));
    memcpy(DG, d.b, 2000);
    buf f = {.n = 0};
    pw_decoder_init(&D);

    /* in order */
    frag4(&f, 100, 0, 1000, true);
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_HELD);
    frag4(&f, 100, 1000, 800, true);
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_HELD);
    frag4(&f, 100, 1800, 200, false);
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_PKT);
    CHECK(P.reassembled);
    CHECK_INT(P.proto, 17);
    CHECK_INT(P.sport, 4000);
    CHECK_INT(P.dport, 53);
    CHECK_INT(P.payload_len, 1992);
    CHECK(P.payload && memcmp(P.payload, DG + 8, 1992) == 0);
    CHECK_INT(D.ip4_len, 2020);
    CHECK(D.ip4 && D.ip4[0] == 0x45 && D.ip4[2] == (2020 >> 8) && D.ip4[3] == (2020 & 0xff));
    CHECK(D.ip4 && D.ip4[6] == 0 && D.ip4[7] == 0);
    CHECK_INT(D.frag.count, 0);

    /* out of order */
    frag4(&f, 101, 1800, 200, false);
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_HELD);
    frag4(&f, 101, 1000, 800, true);
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_HELD);
    frag4(&f, 101, 1000, 800, true); /* exact duplicate: ignored */
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_HELD);
    frag4(&f, 101, 0, 1000, true);
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_PKT);
    CHECK_INT(P.payload_len, 1992);
    CHECK(P.payload && memcmp(P.payload, DG + 8, 1992) == 0);
    CHECK_INT(pw_decoder_take_frag_errors(&D), 0);

    /* overlapping with different bytes: dropped and counted */
    frag4(&f, 102, 0, 1000, true);
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_HELD);
    frag4(&f, 102, 992, 808, true);
    f.b[20] ^= 0xff;
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_HELD);
    CHECK_INT(pw_decoder_take_frag_errors(&D), 1);
    frag4(&f, 102, 1800, 200, false);
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_HELD); /* the datagram is gone */
    CHECK_INT(D.frag.count, 1);

    /* timed out: the first fragment is 31 s older */
    frag4(&f, 103, 0, 1000, true);
    CHECK_INT(pw_decode(&D, DLT_RAW, f.b, (uint32_t)f.n, (uint32_t)f.n, 1000000, &P), PW_DEC_HELD);
    frag4(&f, 103, 1000, 1000, false);
    CHECK_INT(pw_decode(&D, DLT_RAW, f.b, (uint32_t)f.n, (uint32_t)f.n, 32000000, &P), PW_DEC_HELD);
    CHECK_INT(pw_decoder_take_frag_errors(&D), 2); /* 102's leftover and 103 expired */

    /* oversized: offset + length beyond 65535 */
    f.n = 0;
    size_t at = ip4(&f, 17, 1, 2, 104, 0x2000 | (65528 / 8));
    zeros(&f, 16);
    ip4_len(&f, at);
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_HELD);
    CHECK_INT(pw_decoder_take_frag_errors(&D), 1);

    /* a non-final fragment whose length is not a multiple of 8 */
    frag4(&f, 105, 0, 999, true);
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_HELD);
    CHECK_INT(pw_decoder_take_frag_errors(&D), 1);

    /* IPv6 fragments (out of order) */
    buf a = {.n = 0};
    size_t a6 = ip6(&a, 44, 1, 2);
    u8(&a, 17); u8(&a, 0); be16(&a, 1000 | 0); be32(&a, 0xfeed); /* offset 1000, last */
    bytes(&a, DG + 1000, 1000);
    ip6_len(&a, a6);
    CHECK_INT(dec(DLT_RAW, &a), PW_DEC_HELD);
    a.n = 0;
    a6 = ip6(&a, 44, 1, 2);
    u8(&a, 17); u8(&a, 0); be16(&a, 0 | 1); be32(&a, 0xfeed);
    bytes(&a, DG, 1000);
    ip6_len(&a, a6);
    CHECK_INT(dec(DLT_RAW, &a), PW_DEC_PKT);
    CHECK(P.reassembled);
    CHECK_INT(P.src.family, 6);
    CHECK_INT(P.proto, 17);
    CHECK_INT(P.dport, 53);
    CHECK_INT(P.payload_len, 1992);
    CHECK(P.payload && memcmp(P.payload, DG + 8, 1992) == 0);

    /* pending datagrams at the end count as dropped */
    frag4(&f, 106, 0, 1000, true);
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_HELD);
    pw_decoder_free(&D);
    CHECK(pw_decoder_take_frag_errors(&D) >= 1);
    pw_decoder_init(&D);
}

static void test_tunnels(void)
{
    /* VXLAN: outer IPv4/UDP 4789 -> inner Ethernet/IPv4/TCP */
    buf f = {.n = 0};
    ether(&f, 0x0800);
    size_t o = ip4(&f, 17, 100, 101, 1, 0);
    size_t u = f.n;
    udp(&f, 12345, 4789, NULL);
    u8(&f, 0x08); zeros(&f, 3); be32(&f, 0x00012300);
    ether(&f, 0x8100);
    be16(&f, 42); be16(&f, 0x0800);
    size_t in = ip4(&f, 6, 1, 2, 5, 0);
    tcp(&f, 1111, 22, 1, 0, PW_TH_SYN, NULL);
    ip4_len(&f, in);
    ip4_len(&f, o);
    put16at(&f, u + 4, (unsigned)(f.n - u));
    CHECK_INT(dec(DLT_EN10MB, &f), PW_DEC_PKT);
    CHECK(is_v4(&P.src, 1) && is_v4(&P.dst, 2));
    CHECK_INT(P.proto, 6);
    CHECK_INT(P.dport, 22);
    CHECK_INT(P.vlan, 42);
    CHECK_INT(D.ip4_len, 40);
    CHECK(D.ip4 && D.ip4[9] == 6);

    /* GRE (plain, with key) -> IPv4 */
    buf g = {.n = 0};
    size_t go = ip4(&g, 47, 100, 101, 1, 0);
    be16(&g, 0x2000); be16(&g, 0x0800); be32(&g, 7);
    size_t gi = ip4(&g, 17, 3, 4, 2, 0);
    udp(&g, 53, 5353, "q");
    ip4_len(&g, gi);
    ip4_len(&g, go);
    CHECK_INT(dec(DLT_RAW, &g), PW_DEC_PKT);
    CHECK(is_v4(&P.src, 3));
    CHECK_INT(P.dport, 5353);

    /* GRE ERSPAN II (sequence) -> Ethernet -> IPv6 */
    buf e = {.n = 0};
    size_t eo = ip4(&e, 47, 100, 101, 1, 0);
    be16(&e, 0x1000); be16(&e, 0x88BE); be32(&e, 1);
    be32(&e, 0x10000001); be32(&e, 0);
    ether(&e, 0x86DD);
    size_t e6 = ip6(&e, 17, 5, 6);
    udp(&e, 1, 2, NULL);
    ip6_len(&e, e6);
    ip4_len(&e, eo);
    CHECK_INT(dec(DLT_RAW, &e), PW_DEC_PKT);
    CHECK(is_v6(&P.src, 5));
    CHECK(D.ip4 == NULL);

    /* GRE ERSPAN III with the optional subheader */
    buf e3 = {.n = 0};
    size_t e3o = ip4(&e3, 47, 100, 101, 1, 0);
    be16(&e3, 0x1000); be16(&e3, 0x22EB); be32(&e3, 1);
    be32(&e3, 0x20000001); be32(&e3, 0); be32(&e3, 1); zeros(&e3, 8);
    ether(&e3, 0x0800);
    size_t e3i = ip4(&e3, 6, 7, 8, 3, 0);
    tcp(&e3, 1, 2, 3, 4, PW_TH_RST, NULL);
    ip4_len(&e3, e3i);
    ip4_len(&e3, e3o);
    CHECK_INT(dec(DLT_RAW, &e3), PW_DEC_PKT);
    CHECK(is_v4(&P.src, 7));
    CHECK_INT(P.tcp_flags, PW_TH_RST);

    /* GRE transparent Ethernet bridging */
    buf t = {.n = 0};
    size_t to = ip4(&t, 47, 100, 101, 1, 0);
    be16(&t, 0); be16(&t, 0x6558);
    ether(&t, 0x0800);
    size_t ti = ip4(&t, 17, 9, 10, 4, 0);
    udp(&t, 1, 2, NULL);
    ip4_len(&t, ti);
    ip4_len(&t, to);
    CHECK_INT(dec(DLT_RAW, &t), PW_DEC_PKT);
    CHECK(is_v4(&P.src, 9));

    /* IP-in-IP and IPv6-in-IPv4 */
    buf i = {.n = 0};
    size_t io = ip4(&i, 4, 100, 101, 1, 0);
    size_t ii = ip4(&i, 17, 11, 12, 1, 0);
    udp(&i, 1, 2, NULL);
    ip4_len(&i, ii);
    ip4_len(&i, io);
    CHECK_INT(dec(DLT_RAW, &i), PW_DEC_PKT);
    CHECK(is_v4(&P.src, 11));
    buf s = {.n = 0};
    size_t so = ip4(&s, 41, 100, 101, 1, 0);
    size_t si = ip6(&s, 58, 1, 2);
    u8(&s, 128); u8(&s, 0); zeros(&s, 6);
    ip6_len(&s, si);
    ip4_len(&s, so);
    CHECK_INT(dec(DLT_RAW, &s), PW_DEC_PKT);
    CHECK_INT(P.proto, 58);
    CHECK_INT(P.icmp_type, 128);

    /* MPLS: two labels then IPv4 */
    buf m = {.n = 0};
    ether(&m, 0x8847);
    be32(&m, 0x00010040); be32(&m, 0x00020140);
    size_t mi = ip4(&m, 17, 13, 14, 1, 0);
    udp(&m, 1, 2, NULL);
    ip4_len(&m, mi);
    CHECK_INT(dec(DLT_EN10MB, &m), PW_DEC_PKT);
    CHECK(is_v4(&P.src, 13));

    /* PPPoE session */
    buf p = {.n = 0};
    ether(&p, 0x8864);
    u8(&p, 0x11); u8(&p, 0); be16(&p, 1); be16(&p, 0); be16(&p, 0x0021);
    size_t pi = ip4(&p, 6, 15, 16, 1, 0);
    tcp(&p, 1, 80, 0, 0, PW_TH_SYN, NULL);
    ip4_len(&p, pi);
    CHECK_INT(dec(DLT_EN10MB, &p), PW_DEC_PKT);
    CHECK(is_v4(&P.src, 15));
    CHECK_INT(P.dport, 80);

    /* VXLAN-GPE (4790) carrying IPv4 directly */
    buf vg = {.n = 0};
    size_t vgo = ip4(&vg, 17, 100, 101, 1, 0);
    size_t vgu = vg.n;
    udp(&vg, 1, 4790, NULL);
    u8(&vg, 0x0c); zeros(&vg, 2); u8(&vg, 1); be32(&vg, 0x100);
    size_t vgi = ip4(&vg, 6, 21, 22, 1, 0);
    tcp(&vg, 5, 443, 1, 0, PW_TH_SYN, NULL);
    ip4_len(&vg, vgi);
    ip4_len(&vg, vgo);
    put16at(&vg, vgu + 4, (unsigned)(vg.n - vgu));
    CHECK_INT(dec(DLT_RAW, &vg), PW_DEC_PKT);
    CHECK(is_v4(&P.src, 21));
    CHECK_INT(P.dport, 443);

    /* GTP-U (2152) with a sequence number and no extension headers */
    buf gt = {.n = 0};
    size_t gto = ip4(&gt, 17, 100, 101, 1, 0);
    size_t gtu = gt.n;
    udp(&gt, 2152, 2152, NULL);
    u8(&gt, 0x32); u8(&gt, 0xff); be16(&gt, 0); be32(&gt, 1); be16(&gt, 7); u8(&gt, 0); u8(&gt, 0);
    size_t gti = ip4(&gt, 17, 23, 24, 1, 0);
    udp(&gt, 3000, 53, "dns");
    ip4_len(&gt, gti);
    ip4_len(&gt, gto);
    put16at(&gt, gtu + 4, (unsigned)(gt.n - gtu));
    put16at(&gt, gtu + 8 + 2, (unsigned)(gt.n - gtu - 16)); /* GTP length: after 8 bytes */
    CHECK_INT(dec(DLT_RAW, &gt), PW_DEC_PKT);
    CHECK(is_v4(&P.src, 23));
    CHECK_INT(P.dport, 53);
    CHECK_INT(P.payload_len, 3);

    /* Geneve (6081) with 4 bytes of options, Ethernet inside */
    buf gn = {.n = 0};
    size_t gno = ip4(&gn, 17, 100, 101, 1, 0);
    size_t gnu = gn.n;
    udp(&gn, 1, 6081, NULL);
    u8(&gn, 0x01); u8(&gn, 0); be16(&gn, 0x6558); be32(&gn, 0x100); be32(&gn, 0);
    ether(&gn, 0x0800);
    size_t gni = ip4(&gn, 1, 25, 26, 1, 0);
    u8(&gn, 8); u8(&gn, 0); zeros(&gn, 6);
    ip4_len(&gn, gni);
    ip4_len(&gn, gno);
    put16at(&gn, gnu + 4, (unsigned)(gn.n - gnu));
    CHECK_INT(dec(DLT_RAW, &gn), PW_DEC_PKT);
    CHECK(is_v4(&P.src, 25));
    CHECK_INT(P.proto, 1);
    CHECK_INT(P.icmp_type, 8);

    /* PPTP enhanced GRE (version 1) with PPP carrying IPv4 */
    buf pp = {.n = 0};
    size_t ppo = ip4(&pp, 47, 100, 101, 1, 0);
    be16(&pp, 0x3081); be16(&pp, 0x880B); be16(&pp, 0); be16(&pp, 5); be32(&pp, 1); be32(&pp, 0);
    u8(&pp, 0xff); u8(&pp, 0x03); be16(&pp, 0x0021);
    size_t ppi = ip4(&pp, 17, 27, 28, 1, 0);
    udp(&pp, 1, 53, NULL);
    ip4_len(&pp, ppi);
    ip4_len(&pp, ppo);
    CHECK_INT(dec(DLT_RAW, &pp), PW_DEC_PKT);
    CHECK(is_v4(&P.src, 27));

    /* Aruba GRE: an 802.11 QoS data frame with LLC/SNAP */
    buf ar = {.n = 0};
    size_t aro = ip4(&ar, 47, 100, 101, 1, 0);
    be16(&ar, 0); be16(&ar, 0x8200);
    u8(&ar, 0x88); u8(&ar, 0x01); zeros(&ar, 22); be16(&ar, 0);
    u8(&ar, 0xaa); u8(&ar, 0xaa); u8(&ar, 0x03); zeros(&ar, 3); be16(&ar, 0x0800);
    size_t ari = ip4(&ar, 6, 29, 30, 1, 0);
    tcp(&ar, 1, 80, 1, 0, PW_TH_SYN, NULL);
    ip4_len(&ar, ari);
    ip4_len(&ar, aro);
    CHECK_INT(dec(DLT_RAW, &ar), PW_DEC_PKT);
    CHECK(is_v4(&P.src, 29));
    CHECK_INT(P.dport, 80);

    /* Teredo (UDP 3544) with an origin indication, IPv6/UDP inside */
    buf te = {.n = 0};
    size_t teo = ip4(&te, 17, 100, 101, 1, 0);
    size_t teu = te.n;
    udp(&te, 3544, 50000, NULL);
    be16(&te, 0); be16(&te, 0x1234); be32(&te, 0x01020304);
    size_t te6 = ip6(&te, 17, 9, 10);
    udp(&te, 546, 547, "t");
    ip6_len(&te, te6);
    ip4_len(&te, teo);
    put16at(&te, teu + 4, (unsigned)(te.n - teu));
    CHECK_INT(dec(DLT_RAW, &te), PW_DEC_PKT);
    CHECK(is_v6(&P.src, 9));
    CHECK_INT(P.dport, 547);

    /* IPv4 AH then TCP */
    buf ah = {.n = 0};
    size_t aho = ip4(&ah, 51, 1, 2, 1, 0);
    u8(&ah, 6); u8(&ah, 4); zeros(&ah, 22);
    tcp(&ah, 7, 8, 9, 0, PW_TH_SYN, NULL);
    ip4_len(&ah, aho);
    CHECK_INT(dec(DLT_RAW, &ah), PW_DEC_PKT);
    CHECK_INT(P.proto, 6);
    CHECK_INT(P.dport, 8);

    /* a UDP 4789 datagram that is not VXLAN stays UDP */
    buf n = {.n = 0};
    size_t ni = ip4(&n, 17, 1, 2, 1, 0);
    udp(&n, 4789, 4789, "zz");
    ip4_len(&n, ni);
    CHECK_INT(dec(DLT_RAW, &n), PW_DEC_PKT);
    CHECK_INT(P.proto, 17);
    CHECK_INT(P.payload_len, 2);

    /* too deep: IP-in-IP nested 10 times -> reported, no crash */
    buf z = {.n = 0};
    size_t at[12];
    for (int k = 0; k < 10; k++)
        at[k] = ip4(&z, 4, 1, 2, 1, 0);
    at[10] = ip4(&z, 17, 1, 2, 1, 0);
    udp(&z, 1, 2, NULL);
    for (int k = 10; k >= 0; k--)
        ip4_len(&z, at[k]);
    int r = dec(DLT_RAW, &z);
    CHECK(r == PW_DEC_PKT || r == PW_DEC_ERROR);
}

int main(void)
{
    pw_decoder_init(&D);
    test_ethernet_tcp();
    test_vlan_stacks();
    test_sll();
    test_raw_and_null();
    test_ipv6_ext();
    test_icmp_quotes();
    test_bad_lengths();
    test_fragments();
    test_tunnels();
    pw_decoder_free(&D);
    CHECK_DONE();
}
