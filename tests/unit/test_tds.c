/* test_tds.c - SQL Server TDS logins with integrated security: NTLMSSP in
 * LOGIN7, in the SSPI token of a tabular result and in SSPI packets; TDS
 * packet framing, encryption (TLS) give-up, limits and malformed input, on
 * hand-built bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/dissector.h"
#include "check.h"

/* ---- byte builder ---- */
typedef struct buf {
    uint8_t b[16384];
    size_t n;
} buf;

static void put8(buf *b, uint8_t v) { b->b[b->n++] = v; }
static void put16(buf *b, uint16_t v) { put8(b, (uint8_t)v), put8(b, (uint8_t)(v >> 8)); }
static void put16be(buf *b, uint16_t v) { put8(b, (uint8_t)(v >> 8)), put8(b, (uint8_t)v); }
static void put32(buf *b, uint32_t v) { put16(b, (uint16_t)v), put16(b, (uint16_t)(v >> 16)); }
static void put64(buf *b, uint64_t v) { put32(b, (uint32_t)v), put32(b, (uint32_t)(v >> 32)); }
static void putn(buf *b, const void *p, size_t n) { memcpy(b->b + b->n, p, n), b->n += n; }
static void zeros(buf *b, size_t n) { memset(b->b + b->n, 0, n), b->n += n; }
static void set16(buf *b, size_t at, uint16_t v) { b->b[at] = (uint8_t)v, b->b[at + 1] = (uint8_t)(v >> 8); }
static void set32(buf *b, size_t at, uint32_t v) { set16(b, at, (uint16_t)v), set16(b, at + 2, (uint16_t)(v >> 16)); }

static size_t put_utf16(buf *b, const char *s)
{
    size_t start = b->n;
    for (; *s; s++)
        put16(b, (uint8_t)*s);
    return b->n - start;
}

static void secbuf(buf *b, size_t at, size_t len, size_t off)
{
    set16(b, at, (uint16_t)len), set16(b, at + 2, (uint16_t)len), set32(b, at + 4, (uint32_t)off);
}

static void ntlm_negotiate(buf *b)
{
    b->n = 0;
    putn(b, "NTLMSSP\0", 8), put32(b, 1);
    put32(b, 0xe2088297);
    put64(b, 0), put64(b, 0);
}

static void ntlm_challenge(buf *b, const char *nb, const char *dns)
{
    b->n = 0;
    putn(b, "NTLMSSP\0", 8), put32(b, 2);
    put64(b, 0);
    put32(b, 0xe28a8215);
    put64(b, 0x8877665544332211ull), put64(b, 0), put64(b, 0), put64(b, 0);
    size_t o = b->n;
    secbuf(b, 12, put_utf16(b, "SQLDOM"), o);
    size_t tio = b->n;
    struct { uint16_t id; const char *v; } av[] = {{2, "SQLDOM"}, {1, nb}, {4, "sql.example"}, {3, dns}};
    for (size_t i = 0; i < 4; i++) {
        put16(b, av[i].id);
        size_t at = b->n;
        put16(b, 0);
        set16(b, at, (uint16_t)put_utf16(b, av[i].v));
    }
    put32(b, 0);
    secbuf(b, 40, b->n - tio, tio);
}

static void ntlm_authenticate(buf *b)
{
    b->n = 0;
    putn(b, "NTLMSSP\0", 8), put32(b, 3);
    zeros(b, 48);
    put32(b, 0xe2888215);
    size_t o = b->n;
    secbuf(b, 28, put_utf16(b, "SQLDOM"), o);
    o = b->n;
    secbuf(b, 36, put_utf16(b, "svc_app"), o);
    o = b->n;
    secbuf(b, 44, put_utf16(b, "APPSRV3"), o);
    secbuf(b, 12, 0, o), secbuf(b, 20, 0, o), secbuf(b, 52, 0, o);
}

/* TDS packet: header (type, status, length BE16, SPID, packet id, window). */
static void tds_pkt(buf *out, uint8_t type, uint8_t status, const buf *payload)
{
    put8(out, type), put8(out, status), put16be(out, (uint16_t)(8 + payload->n));
    put16be(out, 0), put8(out, 1), put8(out, 0);
    putn(out, payload->b, payload->n);
}

/* PRELOGIN option list: VERSION, ENCRYPTION, INSTOPT, THREADID, MARS. */
static void prelogin(buf *p, uint8_t encryption)
{
    p->n = 0;
    uint16_t off = 5 * 5 + 1;
    uint8_t toks[5] = {0, 1, 2, 3, 4};
    uint16_t lens[5] = {6, 1, 1, 4, 1};
    for (int i = 0; i < 5; i++) {
        put8(p, toks[i]), put16be(p, off), put16be(p, lens[i]);
        off = (uint16_t)(off + lens[i]);
    }
    put8(p, 0xff);
    putn(p, "\x0f\x00\x07\xd0\x00\x00", 6); /* version */
    put8(p, encryption);
    put8(p, 0);
    put32(p, 0x1234);
    put8(p, 0);
}

/* LOGIN7 body with the SSPI field holding `sspi`. */
static void login7(buf *p, const buf *sspi)
{
    p->n = 0;
    put32(p, 0);                  /* Length, patched */
    put32(p, 0x74000004);         /* TDS 7.4 */
    put32(p, 4096), put32(p, 7), put32(p, 0x1234), put32(p, 0);
    put8(p, 0xe0), put8(p, 0x83), put8(p, 0), put8(p, 0); /* OptionFlags2: fIntSecurity */
    put32(p, 0), put32(p, 0x0409);
    size_t fields = p->n;
    zeros(p, 9 * 4);              /* HostName ... Database */
    zeros(p, 6);                  /* ClientID */
    size_t sspi_at = p->n;
    zeros(p, 4);                  /* ibSSPI, cbSSPI */
    zeros(p, 4 + 4 + 4);          /* AtchDBFile, ChangePassword, cbSSPILong */
    /* HostName */
    size_t host = p->n;
    size_t hl = put_utf16(p, "APPSRV3");
    set16(p, fields, (uint16_t)host), set16(p, fields + 2, (uint16_t)(hl / 2));
    for (int i = 1; i < 9; i++)
        set16(p, fields + (size_t)i * 4, (uint16_t)p->n);
    if (sspi) {
        set16(p, sspi_at, (uint16_t)p->n), set16(p, sspi_at + 2, (uint16_t)sspi->n);
        putn(p, sspi->b, sspi->n);
    }
    set32(p, 0, (uint32_t)p->n);
}

/* A tabular result with ENVCHANGE, INFO, LOGINACK and DONE tokens. */
static void login_ack(buf *p)
{
    p->n = 0;
    put8(p, 0xe3), put16(p, 5), put8(p, 4), put8(p, 1), put16(p, '8'), put8(p, 0); /* packet size */
    put8(p, 0xab), put16(p, 4), put32(p, 0);
    put8(p, 0xad), put16(p, 10), put8(p, 1), put32(p, 0x04000074), put8(p, 0), put32(p, 0x10000000);
    put8(p, 0xfd), put16(p, 0), put16(p, 0), put64(p, 0);
}

/* ---- harness ---- */
#define MAXEV 64
static pw_event evs[MAXEV];
static int nev;
static void sink(void *arg, const pw_event *ev)
{
    (void)arg;
    if (nev < MAXEV)
        evs[nev] = *ev;
    nev++;
}
static pw_flow flow;
static int contract_violations;

typedef struct feeder {
    void *st;
    uint8_t pend[2][200000];
    size_t plen[2];
    bool done;
} feeder;

static feeder *feeder_new(void)
{
    feeder *f = calloc(1, sizeof *f);
    f->st = calloc(1, pw_dissector_tds.state_size);
    nev = 0;
    return f;
}
static void feeder_free(feeder *f)
{
    free(f->st);
    free(f);
}
static void feed(feeder *f, int dir, const uint8_t *p, size_t n)
{
    if (f->done)
        return;
    memcpy(f->pend[dir] + f->plen[dir], p, n);
    f->plen[dir] += n;
    pw_dctx ctx = {.flow = &flow, .dir = dir, .frame = 1, .emit = sink};
    bool done = false;
    size_t used = pw_dissector_tds.stream(&ctx, f->st, f->pend[dir], f->plen[dir], &done);
    if (used > f->plen[dir]) {
        contract_violations++;
        used = f->plen[dir];
    }
    memmove(f->pend[dir], f->pend[dir] + used, f->plen[dir] - used);
    f->plen[dir] -= used;
    if (done)
        f->done = true;
}
static void feedb(feeder *f, int dir, const buf *b) { feed(f, dir, b->b, b->n); }
static void feed_steps(feeder *f, int dir, const buf *b, size_t step)
{
    for (size_t off = 0; off < b->n; off += step)
        feed(f, dir, b->b + off, b->n - off < step ? b->n - off : step);
}

static int count(pw_event_type t)
{
    int n = 0;
    for (int i = 0; i < nev && i < MAXEV; i++)
        n += evs[i].type == t;
    return n;
}
static const pw_event *nth(pw_event_type t, int k)
{
    for (int i = 0; i < nev && i < MAXEV; i++)
        if (evs[i].type == t && k-- == 0)
            return &evs[i];
    return NULL;
}
static const pw_event none_ev;
#define NTH(t, k) (nth(t, k) ? nth(t, k) : &none_ev)

/* PRELOGIN without encryption, LOGIN7 (NEGOTIATE), SSPI token (CHALLENGE),
 * SSPI packet (AUTHENTICATE), LOGINACK. */
static void test_login(void)
{
    feeder *f = feeder_new();
    buf p, tok, tk, out = {.n = 0};
    prelogin(&p, 2);
    tds_pkt(&out, 0x12, 1, &p);
    feedb(f, 0, &out);
    CHECK_INT(count(PW_EV_APP), 1);
    CHECK_STR(NTH(PW_EV_APP, 0)->u.app, "tds");
    out.n = 0;
    tds_pkt(&out, 0x04, 1, &p); /* the server's PRELOGIN answer */
    feedb(f, 1, &out);
    CHECK_INT(count(PW_EV_MALFORMED), 0);

    ntlm_negotiate(&tok);
    login7(&p, &tok);
    out.n = 0;
    tds_pkt(&out, 0x10, 1, &p);
    nev = 0;
    feed_steps(f, 0, &out, 3);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    CHECK_INT(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.msg_type, PW_NTLM_NEGOTIATE);
    CHECK_INT(f->plen[0], 0);

    ntlm_challenge(&tok, "SQL01", "sql01.sql.example");
    tk.n = 0;
    put8(&tk, 0xed), put16(&tk, (uint16_t)tok.n), putn(&tk, tok.b, tok.n);
    out.n = 0;
    tds_pkt(&out, 0x04, 1, &tk);
    nev = 0;
    feedb(f, 1, &out);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    const pw_ev_ntlmssp *n = &NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp;
    CHECK_INT(n->msg_type, PW_NTLM_CHALLENGE);
    CHECK_STR(n->nb_computer, "SQL01");
    CHECK_STR(n->dns_computer, "sql01.sql.example");
    CHECK_STR(n->nb_domain, "SQLDOM");
    CHECK_INT(NTH(PW_EV_NTLMSSP, 0)->dir, 1);
    CHECK(!f->done);

    ntlm_authenticate(&tok);
    out.n = 0;
    tds_pkt(&out, 0x11, 1, &tok);
    nev = 0;
    feedb(f, 0, &out);
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.user, "svc_app");
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.workstation, "APPSRV3");
    CHECK(!f->done);

    login_ack(&p);
    out.n = 0;
    tds_pkt(&out, 0x04, 1, &p);
    nev = 0;
    feedb(f, 1, &out);
    CHECK_INT(nev, 0);
    CHECK(f->done);
    feeder_free(f);

    /* no PRELOGIN; the server sends its CHALLENGE as an SSPI packet; a
     * login ERROR ends the exchange */
    f = feeder_new();
    ntlm_negotiate(&tok);
    login7(&p, &tok);
    out.n = 0;
    tds_pkt(&out, 0x10, 1, &p);
    feedb(f, 0, &out);
    ntlm_challenge(&tok, "SQL02", "sql02.sql.example");
    out.n = 0;
    tds_pkt(&out, 0x11, 1, &tok);
    feed_steps(f, 1, &out, 1);
    CHECK_INT(count(PW_EV_NTLMSSP), 2);
    CHECK_STR(NTH(PW_EV_NTLMSSP, 1)->u.ntlmssp.nb_computer, "SQL02");
    p.n = 0;
    put8(&p, 0xaa), put16(&p, 6), put32(&p, 18456), put8(&p, 1), put8(&p, 14);
    put8(&p, 0xfd), put16(&p, 2), put16(&p, 0), put64(&p, 0);
    out.n = 0;
    tds_pkt(&out, 0x04, 1, &p);
    feedb(f, 1, &out);
    CHECK(f->done);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    feeder_free(f);

    /* a LOGIN7 without SSPI (SQL authentication): no NTLMSSP */
    f = feeder_new();
    login7(&p, NULL);
    out.n = 0;
    tds_pkt(&out, 0x10, 1, &p);
    feedb(f, 0, &out);
    CHECK_INT(count(PW_EV_NTLMSSP), 0);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    CHECK_INT(count(PW_EV_APP), 1);
    feeder_free(f);
}

static void test_encryption_and_framing(void)
{
    /* encryption negotiated: the TLS handshake inside PRELOGIN ends it */
    feeder *f = feeder_new();
    buf p, out = {.n = 0};
    prelogin(&p, 1);
    tds_pkt(&out, 0x12, 1, &p);
    feedb(f, 0, &out);
    out.n = 0;
    tds_pkt(&out, 0x04, 1, &p);
    feedb(f, 1, &out);
    CHECK(!f->done);
    p.n = 0;
    putn(&p, "\x16\x03\x01\x00\x20\x01\x00\x00\x1c\x03\x03", 11);
    zeros(&p, 28);
    out.n = 0;
    tds_pkt(&out, 0x12, 1, &p);
    feedb(f, 0, &out);
    CHECK(f->done);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    feeder_free(f);

    /* TDS 8.0: TLS from the first byte */
    f = feeder_new();
    feed(f, 0, (const uint8_t *)"\x16\x03\x01\x02\x00\x01", 6);
    CHECK(f->done);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    CHECK_INT(count(PW_EV_APP), 0);
    feeder_free(f);

    /* a big SQL batch is skipped as it streams, never buffered */
    f = feeder_new();
    static uint8_t big[30000];
    memset(big, 'x', sizeof big);
    big[0] = 0x01, big[1] = 0x01, big[2] = (uint8_t)(sizeof big >> 8), big[3] = (uint8_t)sizeof big;
    int buffered = 0;
    for (size_t off = 0; off < sizeof big; off += 1000) {
        feed(f, 0, big + off, 1000);
        buffered += f->plen[0] > 8;
    }
    CHECK_INT(buffered, 0);
    CHECK(!f->done);
    /* then a CHALLENGE still parses */
    buf tok, tk;
    ntlm_challenge(&tok, "SQL03", "sql03.sql.example");
    tk.n = 0;
    put8(&tk, 0xed), put16(&tk, (uint16_t)tok.n), putn(&tk, tok.b, tok.n);
    out.n = 0;
    tds_pkt(&out, 0x04, 1, &tk);
    feedb(f, 1, &out);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    /* 64 KiB: done */
    feed(f, 0, big, sizeof big);
    feed(f, 0, big, sizeof big);
    CHECK(f->done);
    feeder_free(f);

    /* a LOGIN7 split over two packets: the SSPI beyond the first packet is
     * not an error; the continuation is skipped */
    f = feeder_new();
    buf full;
    ntlm_negotiate(&tok);
    login7(&full, &tok);
    buf a = {.n = 0}, b = {.n = 0};
    putn(&a, full.b, 100);
    putn(&b, full.b + 100, full.n - 100);
    out.n = 0;
    tds_pkt(&out, 0x10, 0, &a);
    tds_pkt(&out, 0x10, 1, &b);
    feedb(f, 0, &out);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    CHECK_INT(f->plen[0], 0);
    CHECK(!f->done);
    feeder_free(f);

    CHECK(pw_dissector_tds.probe != NULL);
    prelogin(&p, 2);
    out.n = 0;
    tds_pkt(&out, 0x12, 1, &p);
    CHECK(pw_dissector_tds.probe(out.b, out.n));
    CHECK(!pw_dissector_tds.probe(out.b, 6));
    CHECK(!pw_dissector_tds.probe((const uint8_t *)"\x16\x03\x01\x02\x00\x01\x00\x00\x00\x00\x00\x00", 12));
    CHECK(pw_dissector_for_port(6, 1433) == &pw_dissector_tds);
    CHECK(pw_dissector_by_name("tds") == &pw_dissector_tds);
}

static void test_malformed(void)
{
    feeder *f = feeder_new();
    feed(f, 0, (const uint8_t *)"SSH-2.0-OpenSSH_9.6\r\n", 21);
    CHECK(f->done);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    feeder_free(f);

    /* length below the header */
    f = feeder_new();
    feed(f, 0, (const uint8_t *)"\x12\x01\x00\x04\x00\x00\x01\x00", 8);
    CHECK(f->done);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    feeder_free(f);

    /* LOGIN7 SSPI offset outside the packet */
    buf p, tok, tk, out = {.n = 0};
    ntlm_negotiate(&tok);
    login7(&p, &tok);
    set16(&p, 78, 3000);
    tds_pkt(&out, 0x10, 1, &p);
    f = feeder_new();
    feedb(f, 0, &out);
    CHECK_INT(count(PW_EV_NTLMSSP), 0);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    feeder_free(f);

    /* SSPI token longer than the packet */
    ntlm_challenge(&tok, "SQL01", "sql01.sql.example");
    tk.n = 0;
    put8(&tk, 0xed), put16(&tk, (uint16_t)(tok.n + 40)), putn(&tk, tok.b, tok.n);
    out.n = 0;
    tds_pkt(&out, 0x04, 1, &tk);
    f = feeder_new();
    feedb(f, 1, &out);
    CHECK_INT(count(PW_EV_NTLMSSP), 0);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    feeder_free(f);

    /* every prefix and every corruption of a login */
    static buf c2s, s2c;
    c2s.n = s2c.n = 0;
    prelogin(&p, 2);
    tds_pkt(&c2s, 0x12, 1, &p);
    tds_pkt(&s2c, 0x04, 1, &p);
    ntlm_negotiate(&tok);
    login7(&p, &tok);
    tds_pkt(&c2s, 0x10, 1, &p);
    ntlm_authenticate(&tok);
    tds_pkt(&c2s, 0x11, 1, &tok);
    ntlm_challenge(&tok, "SQL01", "sql01.sql.example");
    tk.n = 0;
    put8(&tk, 0xed), put16(&tk, (uint16_t)tok.n), putn(&tk, tok.b, tok.n);
    tds_pkt(&s2c, 0x04, 1, &tk);
    login_ack(&p);
    tds_pkt(&s2c, 0x04, 1, &p);
    int challenges = 0;
    for (size_t cut = 0; cut <= s2c.n; cut++) {
        f = feeder_new();
        feed(f, 0, c2s.b, c2s.n);
        feed(f, 1, s2c.b, cut);
        for (int i = 0; i < nev && i < MAXEV; i++)
            challenges += evs[i].type == PW_EV_NTLMSSP && evs[i].u.ntlmssp.msg_type == 2;
        CHECK_INT(count(PW_EV_MALFORMED), 0);
        feeder_free(f);
    }
    size_t ack = 8 + p.n;
    CHECK_INT(challenges, (int)(ack + 1));
    static buf mut;
    for (size_t i = 0; i < s2c.n; i++) {
        for (int x = 0; x < 2; x++) {
            mut = s2c;
            mut.b[i] ^= x ? 0xff : 0x01;
            f = feeder_new();
            feed_steps(f, 0, &c2s, 11);
            feed_steps(f, 1, &mut, 7);
            feeder_free(f);
        }
    }
    for (size_t i = 0; i < c2s.n; i++) {
        mut = c2s;
        mut.b[i] ^= 0x80;
        f = feeder_new();
        feed_steps(f, 0, &mut, 5);
        feeder_free(f);
    }
    CHECK_INT(contract_violations, 0);
}

int main(void)
{
    flow.proto = 6;
    flow.server_port = 1433;
    flow.client_port = 50000;
    test_login();
    test_encryption_and_framing();
    test_malformed();
    CHECK_DONE();
}
