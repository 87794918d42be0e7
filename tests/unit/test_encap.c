/* test_encap.c - encapsulations and link types added for issue 12: GTP-U,
 * Teredo, AYIYA, GRE in UDP, Geneve/VXLAN nesting, 802.1ah, 802.11 behind
 * radiotap / Prism / AVS / nothing, PPP and HDLC, Linux NFLOG.
 *
 * Each frame is decoded whole (the inner packet is what comes out, never the
 * outer tunnel flow), then cut at every offset, both as snaplen would cut it
 * and as a frame whose headers lie about their lengths: no read beyond the
 * record (each cut is an exact-size heap copy, so ASan sees it), and a cut
 * never yields the outer UDP datagram once the tunnel header is whole. */
#include <pcap/dlt.h>
#include <stdlib.h>

#include "../../capture/decode.h"
#include "check.h"

typedef struct {
    uint8_t b[4096];
    size_t n;
} buf;

static void u8(buf *f, unsigned v) { f->b[f->n++] = (uint8_t)v; }
static void be16(buf *f, unsigned v) { u8(f, v >> 8); u8(f, v & 0xff); }
static void le16(buf *f, unsigned v) { u8(f, v & 0xff); u8(f, v >> 8); }
static void be32(buf *f, uint32_t v) { be16(f, v >> 16); be16(f, v & 0xffff); }
static void le32(buf *f, uint32_t v) { le16(f, v & 0xffff); le16(f, v >> 16); }
static void zeros(buf *f, size_t n) { memset(f->b + f->n, 0, n); f->n += n; }
static void text(buf *f, const char *s) { memcpy(f->b + f->n, s, strlen(s)); f->n += strlen(s); }
static void put16at(buf *f, size_t at, unsigned v) { f->b[at] = (uint8_t)(v >> 8); f->b[at + 1] = (uint8_t)v; }

static void ether(buf *f, unsigned type)
{
    for (unsigned i = 0; i < 12; i++)
        u8(f, i);
    be16(f, type);
}

/* IPv4 10.0.0.src -> 10.0.0.dst; returns the header offset (length patched by end4). */
static size_t ip4(buf *f, unsigned proto, unsigned src, unsigned dst)
{
    size_t at = f->n;
    u8(f, 0x45); u8(f, 0); be16(f, 0); be16(f, 1); be16(f, 0); u8(f, 64); u8(f, proto);
    be16(f, 0);
    be32(f, 0x0a000000 | src);
    be32(f, 0x0a000000 | dst);
    return at;
}
static void end4(buf *f, size_t at) { put16at(f, at + 2, (unsigned)(f->n - at)); }

static size_t ip6(buf *f, unsigned nh, unsigned src, unsigned dst)
{
    size_t at = f->n;
    be32(f, 0x60000000); be16(f, 0); u8(f, nh); u8(f, 64);
    be32(f, 0x20010db8); zeros(f, 11); u8(f, src);
    be32(f, 0x20010db8); zeros(f, 11); u8(f, dst);
    return at;
}
static void end6(buf *f, size_t at) { put16at(f, at + 4, (unsigned)(f->n - at - 40)); }

/* UDP header; returns its offset (length patched by endu). */
static size_t udp(buf *f, unsigned sp, unsigned dp)
{
    size_t at = f->n;
    be16(f, sp); be16(f, dp); be16(f, 0); be16(f, 0);
    return at;
}
static void endu(buf *f, size_t at) { put16at(f, at + 4, (unsigned)(f->n - at)); }

/* The inner packet every frame carries: a TCP SYN 10.0.0.7:40000 -> 10.0.0.8:445. */
static void inner_syn(buf *f)
{
    size_t at = ip4(f, 6, 7, 8);
    be16(f, 40000); be16(f, 445); be32(f, 100); be32(f, 0); u8(f, 0x50); u8(f, PW_TH_SYN);
    be16(f, 8192); be32(f, 0);
    end4(f, at);
}
static void inner_syn6(buf *f)
{
    size_t at = ip6(f, 6, 7, 8);
    be16(f, 40000); be16(f, 445); be32(f, 100); be32(f, 0); u8(f, 0x50); u8(f, PW_TH_SYN);
    be16(f, 8192); be32(f, 0);
    end6(f, at);
}

static pw_decoder D;
static pw_pkt P;

static int dec_n(int dlt, const buf *f, size_t caplen, size_t wirelen)
{
    uint8_t *copy = malloc(caplen ? caplen : 1);
    memcpy(copy, f->b, caplen);
    int r = pw_decode(&D, dlt, copy, (uint32_t)caplen, (uint32_t)wirelen, 1000000, &P);
    /* touch what the decoder handed out while the copy lives */
    volatile uint8_t x = 0;
    for (uint32_t i = 0; r == PW_DEC_PKT && i < P.payload_len; i++)
        x ^= P.payload[i];
    (void)x;
    free(copy);
    return r;
}
static int dec(int dlt, const buf *f) { return dec_n(dlt, f, f->n, f->n); }

static bool inner_v4(void)
{
    return P.src.family == 4 && P.src.b[3] == 7 && P.dst.b[3] == 8 && P.proto == 6 &&
           P.sport == 40000 && P.dport == 445 && P.tcp_flags == PW_TH_SYN && P.seq == 100;
}
static bool inner_v6(void)
{
    return P.src.family == 6 && P.src.b[15] == 7 && P.dst.b[15] == 8 && P.proto == 6 &&
           P.dport == 445 && P.tcp_flags == PW_TH_SYN;
}

/* Decodes f whole (must give the inner SYN), then every cut.  hdr_end: the
 * offset where the inner packet starts (every header around it is whole);
 * from there on a snaplen cut must deliver the inner packet or nothing, and
 * never the outer datagram (port outer_port). */
static void whole_and_cut(const char *what, int dlt, const buf *f, bool v6, size_t hdr_end,
                          unsigned outer_port)
{
    int r = dec(dlt, f);
    CHECK_INT(r, PW_DEC_PKT);
    bool ok = r == PW_DEC_PKT && (v6 ? inner_v6() : inner_v4());
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  %s: whole frame did not give the inner SYN (r=%d why=%s)\n", what, r,
                D.why ? D.why : "");
    unsigned bad = 0;
    for (size_t n = 0; n < f->n; n++) {
        /* snaplen cut: errors are "truncated" only */
        r = dec_n(dlt, f, n, f->n);
        if (r == PW_DEC_ERROR && n && D.err != PW_DERR_TRUNCATED && D.err != PW_DERR_ZERO_LENGTH)
            bad++;
        if (r == PW_DEC_PKT && n >= hdr_end && outer_port &&
            (P.dport == outer_port || P.sport == outer_port) && P.proto == PW_IPPROTO_UDP)
            bad++;
        if (r == PW_DEC_PKT && n >= hdr_end && !(v6 ? inner_v6() : inner_v4()))
            bad++;
        /* a frame that ends early on the wire too: lengths lie; no crash, no overread */
        r = dec_n(dlt, f, n, n);
        CHECK(r == PW_DEC_PKT || r == PW_DEC_NONIP || r == PW_DEC_ERROR || r == PW_DEC_HELD);
    }
    CHECK_INT(bad, 0);
    if (bad)
        fprintf(stderr, "  %s: %u bad cuts\n", what, bad);
}

/* ---- UDP tunnels ---- */

static void test_gtpu(void)
{
    buf f = {.n = 0};
    size_t o = ip4(&f, 17, 1, 2);
    size_t u = udp(&f, 2152, 2152);
    size_t g = f.n;
    u8(&f, 0x34); u8(&f, 0xff); be16(&f, 0); be32(&f, 0x11); /* E flag, G-PDU */
    be16(&f, 7); u8(&f, 0); u8(&f, 0x85);                   /* seq, N-PDU, next: PDU session */
    u8(&f, 1); be16(&f, 0x1001); u8(&f, 0);                   /* 4-byte extension, no next */
    size_t hdr_end = f.n;
    inner_syn(&f);
    put16at(&f, g + 2, (unsigned)(f.n - g - 8));
    endu(&f, u);
    end4(&f, o);
    whole_and_cut("GTP-U", DLT_RAW, &f, false, hdr_end, 2152);

    /* another GTP message type (echo request, 1) stays a UDP datagram */
    f.b[g + 1] = 1;
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_PKT);
    CHECK_INT(P.dport, 2152);
    /* GTP' (PT = 0) too */
    f.b[g + 1] = 0xff;
    f.b[g] = 0x24;
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_PKT);
    CHECK_INT(P.dport, 2152);
    /* a valid G-PDU whose packet is unreadable (IPv4 header length 8): a tunnel error */
    size_t inner_at = f.n - 40;
    f.b[g] = 0x34;
    f.b[inner_at] = 0x42;
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_TUNNEL);
    f.b[inner_at] = 0x45;
    /* a length that overruns the datagram: not GTP-U */
    f.b[g] = 0x34;
    put16at(&f, g + 2, 2000);
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_PKT);
    CHECK_INT(P.dport, 2152);
}

static void test_teredo(void)
{
    buf f = {.n = 0};
    size_t o = ip4(&f, 17, 1, 2);
    size_t u = udp(&f, 40001, 3544);
    u8(&f, 0); u8(&f, 1); u8(&f, 2); u8(&f, 1); /* auth: id length 2, auth length 1 */
    text(&f, "idA"); zeros(&f, 8); u8(&f, 0);   /* id, auth value, nonce, confirmation */
    be16(&f, 0); be16(&f, 0xffff ^ 40001); be32(&f, 0xffffffff ^ 0xc0000201); /* origin */
    size_t hdr_end = f.n + 1; /* Teredo has no header of its own: one IPv6 byte says it */
    inner_syn6(&f);
    endu(&f, u);
    end4(&f, o);
    whole_and_cut("Teredo", DLT_RAW, &f, true, hdr_end, 3544);
}

static void test_ayiya(void)
{
    for (int v6 = 0; v6 < 2; v6++) {
        buf f = {.n = 0};
        size_t o = ip4(&f, 17, 1, 2);
        size_t u = udp(&f, 5072, 5072);
        u8(&f, 0x41); u8(&f, 0x52); u8(&f, 0x11); u8(&f, v6 ? 41 : 4); /* id 2^4, sig 5 words */
        be32(&f, 1700000000);
        zeros(&f, 16 + 20);
        size_t hdr_end = f.n;
        if (v6)
            inner_syn6(&f);
        else
            inner_syn(&f);
        endu(&f, u);
        end4(&f, o);
        whole_and_cut(v6 ? "AYIYA/IPv6" : "AYIYA/IPv4", DLT_RAW, &f, v6, hdr_end, 5072);
        /* opcode 2 (echo request) carries no packet: UDP */
        f.b[u + 8 + 2] = 0x12;
        CHECK_INT(dec(DLT_RAW, &f), PW_DEC_PKT);
        CHECK_INT(P.dport, 5072);
    }
}

static void test_gre_udp(void)
{
    buf f = {.n = 0};
    size_t o = ip4(&f, 17, 1, 2);
    size_t u = udp(&f, 49200, 4754);
    be16(&f, 0x2000); be16(&f, 0x0800); be32(&f, 9); /* key present */
    size_t hdr_end = f.n;
    inner_syn(&f);
    endu(&f, u);
    end4(&f, o);
    whole_and_cut("GRE-in-UDP", DLT_RAW, &f, false, hdr_end, 4754);
    /* reserved bits set: not GRE, the datagram stays */
    f.b[u + 8] = 0x02;
    CHECK_INT(dec(DLT_RAW, &f), PW_DEC_PKT);
    CHECK_INT(P.dport, 4754);
}

static void vxlan_hdr(buf *f) { u8(f, 0x08); zeros(f, 3); be32(f, 0x6400); }

static void test_geneve_vxlan(void)
{
    /* Geneve -> Ethernet -> IPv4 -> UDP 4789 -> VXLAN -> Ethernet -> IPv4 SYN */
    buf f = {.n = 0};
    size_t o = ip4(&f, 17, 1, 2);
    size_t u = udp(&f, 49301, 6081);
    u8(&f, 0); u8(&f, 0); be16(&f, 0x6558); be32(&f, 0xc800);
    ether(&f, 0x0800);
    size_t o2 = ip4(&f, 17, 3, 4);
    size_t u2 = udp(&f, 49300, 4789);
    vxlan_hdr(&f);
    ether(&f, 0x0800);
    size_t hdr_end = f.n;
    inner_syn(&f);
    endu(&f, u2);
    end4(&f, o2);
    endu(&f, u);
    end4(&f, o);
    whole_and_cut("Geneve/VXLAN", DLT_RAW, &f, false, hdr_end, 0);

    /* VXLAN -> Ethernet -> IPv4 -> UDP 6081 -> Geneve (8 bytes of options) -> IPv4 SYN */
    buf g = {.n = 0};
    o = ip4(&g, 17, 1, 2);
    u = udp(&g, 49401, 4789);
    vxlan_hdr(&g);
    ether(&g, 0x0800);
    o2 = ip4(&g, 17, 3, 4);
    u2 = udp(&g, 49400, 6081);
    u8(&g, 2); u8(&g, 0); be16(&g, 0x0800); be32(&g, 0xc800);
    be16(&g, 0x0103); u8(&g, 0x80); u8(&g, 1); be32(&g, 42);
    hdr_end = g.n;
    inner_syn(&g);
    endu(&g, u2);
    end4(&g, o2);
    endu(&g, u);
    end4(&g, o);
    whole_and_cut("VXLAN/Geneve", DLT_RAW, &g, false, hdr_end, 0);

    /* VXLAN nested nine times: beyond the bound, a tunnel error, not a crash */
    buf z = {.n = 0};
    size_t os[9], us[9];
    for (int i = 0; i < 9; i++) {
        os[i] = ip4(&z, 17, 1, 2);
        us[i] = udp(&z, 49500, 4789);
        vxlan_hdr(&z);
        ether(&z, 0x0800);
    }
    inner_syn(&z);
    for (int i = 8; i >= 0; i--) {
        endu(&z, us[i]);
        end4(&z, os[i]);
    }
    CHECK_INT(dec(DLT_RAW, &z), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_TUNNEL);
}

/* Ordinary datagrams on every tunnel port stay datagrams (DNS-shaped payload). */
static void test_not_tunnels(void)
{
    static const unsigned ports[] = {2152, 3544, 4754, 4789, 4790, 5072, 6081};
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
        buf f = {.n = 0};
        size_t o = ip4(&f, 17, 1, 2);
        size_t u = udp(&f, 51000, ports[i]);
        be16(&f, 0x1234); be16(&f, 0x0100); be16(&f, 1); zeros(&f, 6);
        text(&f, "\003www\007example\003com");
        zeros(&f, 1); be16(&f, 1); be16(&f, 1);
        endu(&f, u);
        end4(&f, o);
        CHECK_INT(dec(DLT_RAW, &f), PW_DEC_PKT);
        CHECK_INT(P.dport, ports[i]);
        CHECK_INT(P.payload_len, f.n - u - 8);
    }
}

/* ---- link level ---- */

static void test_pbb(void)
{
    buf f = {.n = 0};
    ether(&f, 0x88A8); /* B-TAG */
    be16(&f, 7); be16(&f, 0x88E7);
    be32(&f, 0x10203); /* I-TAG */
    ether(&f, 0x8100); /* customer frame with a C-TAG */
    be16(&f, 30); be16(&f, 0x0800);
    size_t hdr_end = f.n;
    inner_syn(&f);
    whole_and_cut("802.1ah", DLT_EN10MB, &f, false, hdr_end, 0);
    CHECK_INT(P.vlan, 7);

    /* 70 stacked I-TAGs: over the bound, a tunnel error */
    buf z = {.n = 0};
    ether(&z, 0x88E7);
    for (int i = 0; i < 70; i++) {
        be32(&z, (uint32_t)i);
        ether(&z, 0x88E7);
    }
    be32(&z, 0);
    ether(&z, 0x0800);
    inner_syn(&z);
    CHECK_INT(dec(DLT_EN10MB, &z), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_TUNNEL);
}

/* An 802.11 data frame (ToDS, or FromDS), QoS or not, LLC/SNAP, then f's inner SYN. */
static void wlan(buf *f, bool qos, bool from_ds, bool protect)
{
    u8(f, qos ? 0x88 : 0x08);
    u8(f, (from_ds ? 0x02 : 0x01) | (protect ? 0x40 : 0));
    le16(f, 0x2c);
    for (int i = 0; i < 18; i++)
        u8(f, 0x20 + i);
    le16(f, 0x10);
    if (qos)
        le16(f, 0);
    if (protect) {
        zeros(f, 8);
        text(f, "ciphertext ciphertext ciphertext ciphertext");
        return;
    }
    u8(f, 0xaa); u8(f, 0xaa); u8(f, 0x03); zeros(f, 3); be16(f, 0x0800);
    inner_syn(f);
}

static void test_wlan(void)
{
    /* radiotap: flags + rate present */
    buf r = {.n = 0};
    u8(&r, 0); u8(&r, 0); le16(&r, 10); le32(&r, 0x06); u8(&r, 0); u8(&r, 0x0c);
    wlan(&r, true, false, false);
    whole_and_cut("radiotap", 127, &r, false, r.n - 40, 0);

    /* Prism (144 bytes) */
    buf p = {.n = 0};
    le32(&p, 0x41); le32(&p, 144); text(&p, "wlan0"); zeros(&p, 11);
    for (int i = 0; i < 10; i++) {
        le32(&p, 0x44 + (uint32_t)i); le16(&p, 0); le16(&p, 4); le32(&p, (uint32_t)i);
    }
    wlan(&p, false, true, false);
    whole_and_cut("Prism", 119, &p, false, p.n - 40, 0);

    /* AVS version 2 (64 bytes); also accepted under the Prism link type */
    buf a = {.n = 0};
    be32(&a, 0x80211002); be32(&a, 64); zeros(&a, 56);
    wlan(&a, true, true, false);
    whole_and_cut("AVS", 163, &a, false, a.n - 40, 0);
    CHECK_INT(dec(119, &a), PW_DEC_PKT);
    CHECK(inner_v4());

    /* plain 802.11 */
    buf w = {.n = 0};
    wlan(&w, false, false, false);
    whole_and_cut("802.11", 105, &w, false, w.n - 40, 0);

    /* protected data: counted as such; a beacon: not IP */
    buf e = {.n = 0};
    wlan(&e, true, false, true);
    CHECK_INT(dec(105, &e), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_WLAN_PROTECTED);
    buf b = {.n = 0};
    u8(&b, 0x80); u8(&b, 0); le16(&b, 0); zeros(&b, 20); zeros(&b, 12);
    CHECK_INT(dec(105, &b), PW_DEC_NONIP);

    /* a bad radiotap version is a header error */
    r.b[0] = 1;
    CHECK_INT(dec(127, &r), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_BAD_HEADER);
}

static void test_ppp(void)
{
    buf f = {.n = 0};
    u8(&f, 0xff); u8(&f, 0x03); be16(&f, 0x0021);
    inner_syn(&f);
    whole_and_cut("PPP", DLT_PPP, &f, false, f.n - 40, 0);
    whole_and_cut("PPP serial", DLT_PPP_SERIAL, &f, false, f.n - 40, 0);

    /* address/control and protocol field compressed (ACFC, PFC) */
    buf c = {.n = 0};
    u8(&c, 0x21);
    inner_syn(&c);
    whole_and_cut("PPP compressed", DLT_PPP, &c, false, c.n - 40, 0);

    /* Cisco HDLC, on DLT_PPP_SERIAL and DLT_C_HDLC */
    buf h = {.n = 0};
    u8(&h, 0x0f); u8(&h, 0); be16(&h, 0x0800);
    inner_syn(&h);
    whole_and_cut("Cisco HDLC", DLT_PPP_SERIAL, &h, false, h.n - 40, 0);
    whole_and_cut("C_HDLC", DLT_C_HDLC, &h, false, h.n - 40, 0);

    /* LCP is not IP */
    buf l = {.n = 0};
    u8(&l, 0xff); u8(&l, 0x03); be16(&l, 0xc021); zeros(&l, 8);
    CHECK_INT(dec(DLT_PPP, &l), PW_DEC_NONIP);
}

static void test_nflog(void)
{
    for (int big = 0; big < 2; big++) {
        buf f = {.n = 0};
        u8(&f, 2); u8(&f, 0); be16(&f, 5);
        void (*tl)(buf *, unsigned) = big ? be16 : le16;
        tl(&f, 8); tl(&f, 1); be16(&f, 0x0800); u8(&f, 3); u8(&f, 0); /* packet header */
        tl(&f, 4 + 7); tl(&f, 10); text(&f, "prefix"); zeros(&f, 2);   /* prefix, padded */
        size_t at = f.n;
        tl(&f, 0); tl(&f, 9);
        inner_syn(&f);
        if (big)
            put16at(&f, at, (unsigned)(f.n - at));
        else {
            f.b[at] = (uint8_t)(f.n - at);
            f.b[at + 1] = (uint8_t)((f.n - at) >> 8);
        }
        whole_and_cut(big ? "NFLOG (BE)" : "NFLOG", 239, &f, false, f.n - 40, 0);
    }
    /* version 1: not NFLOG as we know it */
    buf v = {.n = 0};
    u8(&v, 2); u8(&v, 1); be16(&v, 0); zeros(&v, 8);
    CHECK_INT(dec(239, &v), PW_DEC_ERROR);
    CHECK_INT(D.err, PW_DERR_BAD_HEADER);
}

static void test_supported(void)
{
    static const int dlts[] = {DLT_PPP, DLT_PPP_SERIAL, DLT_C_HDLC, 105, 119, 127, 163, 239};
    for (size_t i = 0; i < sizeof dlts / sizeof dlts[0]; i++)
        CHECK(pw_decode_dlt_supported(dlts[i]));
    CHECK(!pw_decode_dlt_supported(DLT_ARCNET));
    CHECK_STR(pw_decode_err_names[PW_DERR_TUNNEL], "tunnel");
    CHECK_STR(pw_decode_err_names[PW_DERR_WLAN_PROTECTED], "wireless_protected");
}

int main(void)
{
    pw_decoder_init(&D);
    test_gtpu();
    test_teredo();
    test_ayiya();
    test_gre_udp();
    test_geneve_vxlan();
    test_not_tunnels();
    test_pbb();
    test_wlan();
    test_ppp();
    test_nflog();
    test_supported();
    pw_decoder_free(&D);
    CHECK_DONE();
}
