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

#define NTLM_BUF_SIZE 16384
#include "ntlm_build.h"

#define FEED_DISSECTOR pw_dissector_tds
#define FEED_PEND 200000
#define FEED_STOP_WHEN_DONE 1
#define FEED_FIRST_FRAME 1
#define FEED_FRAME_STEP 0
#include "feed_harness.h"

/* This test's names in the shared NTLMSSP builders. */
static void ntlm_challenge(buf *b, const char *nb, const char *dns)
{
    ntlm_challenge_in(b, "SQLDOM", "sql.example", nb, dns);
}
static void ntlm_authenticate(buf *b) { ntlm_authenticate_as(b, "SQLDOM", "svc_app", "APPSRV3"); }

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
        challenges += count_challenges();
        CHECK_INT(count(PW_EV_MALFORMED), 0);
        feeder_free(f);
    }
    size_t ack = 8 + p.n;
    CHECK_INT(challenges, (int)(ack + 1));
    feed_corruptions(&c2s, 11, &s2c);
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
