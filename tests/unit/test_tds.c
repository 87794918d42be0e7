/* test_tds.c - SQL Server TDS logins on hand-built bytes laid out as MS-TDS
 * describes them: PRELOGIN both ways with every option, NTLMSSP in LOGIN7,
 * in the SSPI token of a tabular result and in SSPI packets, the server's
 * answer (LOGINACK, ERROR 18456, DONE), the TLS handshake carried in
 * PRELOGIN packets up to the server certificate, TDS packet framing, limits,
 * truncation at every offset and malformed input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/dissector.h"
#include "check.h"

#define NTLM_BUF_SIZE 16384
#include "ntlm_build.h"

/* tls_build.h's builders under other names (ntlm_build.h owns buf/put*). */
#define buf tbuf
#define put8 tput8
#define put16 tput16
#define put24 tput24
#define putn tputn
#define puts_ tputs_
#include "tls_build.h"
#undef buf
#undef put8
#undef put16
#undef put24
#undef putn
#undef puts_
#include "test_certs.h"

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

/* ERROR 18456 "Login failed for user '<user>'." (state 1, class 14), then
 * DONE with DONE_ERROR, as SQL Server answers a bad SQL login. */
static void login_failed(buf *p, const char *user)
{
    char msg[128];
    snprintf(msg, sizeof msg, "Login failed for user '%s'.", user);
    p->n = 0;
    put8(p, 0xaa);
    size_t len_at = p->n;
    put16(p, 0);
    put32(p, 18456), put8(p, 1), put8(p, 14);
    put16(p, (uint16_t)strlen(msg));
    put_utf16(p, msg);
    put8(p, 5);
    put_utf16(p, "SQL01");
    put8(p, 0);                   /* ProcName */
    put32(p, 1);                  /* LineNumber */
    set16(p, len_at, (uint16_t)(p->n - len_at - 2));
    put8(p, 0xfd), put16(p, 0x0002), put16(p, 0), put64(p, 0);
}

/* LOGINACK "Microsoft SQL Server" 15.0.2000 for TDS 7.4, then DONE. */
static void login_ack_named(buf *p)
{
    p->n = 0;
    put8(p, 0xad);
    size_t len_at = p->n;
    put16(p, 0);
    put8(p, 1);
    put8(p, 0x74), put8(p, 0), put8(p, 0), put8(p, 4);
    put8(p, 20);
    put_utf16(p, "Microsoft SQL Server");
    put8(p, 15), put8(p, 0), put8(p, 0x07), put8(p, 0xd0);
    set16(p, len_at, (uint16_t)(p->n - len_at - 2));
    put8(p, 0xfd), put16(p, 0), put16(p, 0xc1), put64(p, 0);
}

/* PRELOGIN with every option: VERSION, ENCRYPTION, INSTOPT, THREADID,
 * MARS, TRACEID, FEDAUTHREQUIRED (the client's form). */
static void prelogin_all(buf *p, uint8_t encryption)
{
    p->n = 0;
    uint8_t toks[7] = {0, 1, 2, 3, 4, 5, 6};
    uint16_t lens[7] = {6, 1, 12, 4, 1, 36, 1};
    uint16_t off = 7 * 5 + 1;
    for (int i = 0; i < 7; i++) {
        put8(p, toks[i]), put16be(p, off), put16be(p, lens[i]);
        off = (uint16_t)(off + lens[i]);
    }
    put8(p, 0xff);
    putn(p, "\x0f\x00\x07\xd0\x00\x05", 6);
    put8(p, encryption);
    putn(p, "MSSQLServer", 12);      /* with its NUL */
    put16be(p, 0), put16be(p, 0x0e9c); /* thread 3740 */
    put8(p, 1);
    for (int i = 0; i < 36; i++)
        put8(p, (uint8_t)i);
    put8(p, 1);
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
    CHECK_INT(nev, 2);
    CHECK_INT(NTH(PW_EV_TDS, 0)->u.tds.kind, PW_TDS_LOGINACK);
    CHECK_INT(NTH(PW_EV_TDS, 0)->u.tds.tds_version, 0x74000004);
    CHECK_INT(NTH(PW_EV_TDS, 0)->u.tds.interface, 1);
    CHECK_STR(NTH(PW_EV_TDS, 0)->u.tds.prog_name, "");
    CHECK_INT(NTH(PW_EV_TDS, 1)->u.tds.kind, PW_TDS_DONE);
    CHECK_INT(NTH(PW_EV_TDS, 1)->u.tds.done_status, 0);
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
    login_failed(&p, "x");
    out.n = 0;
    tds_pkt(&out, 0x04, 1, &p);
    feedb(f, 1, &out);
    CHECK(f->done);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    CHECK_INT(NTH(PW_EV_TDS, 0)->u.tds.kind, PW_TDS_ERROR);
    CHECK_INT(NTH(PW_EV_TDS, 0)->u.tds.number, 18456);
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
    /* encryption negotiated: a record that is not TLS inside PRELOGIN ends
     * the stream (the TLS state gives up on it) */
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
    putn(&p, "\x99\x03\x01\x00\x00", 5);
    out.n = 0;
    tds_pkt(&out, 0x12, 1, &p);
    feedb(f, 0, &out);
    CHECK(f->done);
    CHECK_INT(count(PW_EV_TDS), 2);
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

static void test_prelogin_options(void)
{
    feeder *f = feeder_new();
    buf p, out = {.n = 0};
    prelogin_all(&p, 0);
    tds_pkt(&out, 0x12, 1, &p);
    feedb(f, 0, &out);
    CHECK_INT(count(PW_EV_TDS), 1);
    const pw_ev_tds *t = &NTH(PW_EV_TDS, 0)->u.tds;
    CHECK_INT(t->kind, PW_TDS_PRELOGIN);
    CHECK_INT(NTH(PW_EV_TDS, 0)->dir, 0);
    CHECK(t->has_version && t->has_encryption && t->has_instance && t->has_thread_id && t->has_mars &&
          t->has_trace_id && t->has_fedauth_required);
    CHECK_INT(t->version, 0x0f0007d0);
    CHECK_INT(t->subbuild, 5);
    CHECK_INT(t->encryption, PW_TDS_ENCRYPT_OFF);
    CHECK_STR(t->instance, "MSSQLServer");
    CHECK_INT(t->thread_id, 3740);
    CHECK_INT(t->mars, 1);
    CHECK_INT(t->fedauth_required, 1);
    /* the server's answer (tabular result): VERSION, ENCRYPTION NOT_SUP,
     * INSTOPT 0, an empty THREADID, MARS 0 */
    p.n = 0;
    uint16_t lens[5] = {6, 1, 1, 0, 1};
    uint16_t off = 5 * 5 + 1;
    for (int i = 0; i < 5; i++) {
        put8(&p, (uint8_t)i), put16be(&p, off), put16be(&p, lens[i]);
        off = (uint16_t)(off + lens[i]);
    }
    put8(&p, 0xff);
    putn(&p, "\x10\x00\x03\xe8\x00\x00", 6);
    put8(&p, 2), put8(&p, 0), put8(&p, 0);
    out.n = 0;
    tds_pkt(&out, 0x04, 1, &p);
    feedb(f, 1, &out);
    CHECK_INT(count(PW_EV_TDS), 2);
    t = &NTH(PW_EV_TDS, 1)->u.tds;
    CHECK_INT(NTH(PW_EV_TDS, 1)->dir, 1);
    CHECK_INT(t->version, 0x100003e8);
    CHECK_INT(t->encryption, PW_TDS_ENCRYPT_NOT_SUP);
    CHECK_STR(t->instance, "");
    CHECK(t->has_instance && !t->has_thread_id && t->has_mars && !t->has_trace_id);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    feeder_free(f);

    /* every prefix: nothing until the packet is whole; every option list
     * cut short inside a whole packet: malformed, no event */
    buf whole = {.n = 0};
    prelogin_all(&p, 3);
    tds_pkt(&whole, 0x12, 1, &p);
    for (size_t cut = 0; cut < whole.n; cut++) {
        f = feeder_new();
        feed(f, 0, whole.b, cut);
        CHECK_INT(count(PW_EV_TDS), 0);
        CHECK_INT(count(PW_EV_MALFORMED), 0);
        feeder_free(f);
    }
    for (size_t cut = 0; cut < p.n; cut++) {
        buf q = {.n = 0};
        putn(&q, p.b, cut);
        out.n = 0;
        tds_pkt(&out, 0x12, 1, &q);
        f = feeder_new();
        feedb(f, 0, &out);
        CHECK_INT(count(PW_EV_TDS), 0);
        CHECK_INT(count(PW_EV_MALFORMED), 1);
        feeder_free(f);
    }
    f = feeder_new();
    feedb(f, 0, &whole);
    CHECK_INT(NTH(PW_EV_TDS, 0)->u.tds.encryption, PW_TDS_ENCRYPT_REQ);
    feeder_free(f);
}

/* LOGINACK and ERROR 18456 answers; truncation of each at every offset. */
static void test_login_answers(void)
{
    buf p, out;
    login7(&p, NULL);
    buf login = {.n = 0};
    tds_pkt(&login, 0x10, 1, &p);

    login_ack_named(&p);
    out.n = 0;
    tds_pkt(&out, 0x04, 1, &p);
    feeder *f = feeder_new();
    feedb(f, 0, &login);
    feedb(f, 1, &out);
    CHECK(f->done);
    CHECK_INT(count(PW_EV_TDS), 2);
    const pw_event *e = NTH(PW_EV_TDS, 0);
    CHECK_INT(e->dir, 1);
    CHECK_INT(e->u.tds.kind, PW_TDS_LOGINACK);
    CHECK_STR(e->u.tds.prog_name, "Microsoft SQL Server");
    CHECK_INT(e->u.tds.tds_version, 0x74000004);
    CHECK_INT(e->u.tds.prog_version[0], 15);
    CHECK_INT(e->u.tds.prog_version[2] << 8 | e->u.tds.prog_version[3], 2000);
    CHECK_INT(NTH(PW_EV_TDS, 1)->u.tds.done_status, 0);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    feeder_free(f);

    login_failed(&p, "x");
    buf fail = {.n = 0};
    tds_pkt(&fail, 0x04, 1, &p);
    f = feeder_new();
    feedb(f, 0, &login);
    feed_steps(f, 1, &fail, 5);
    CHECK(f->done);
    CHECK_INT(count(PW_EV_TDS), 2);
    const pw_ev_tds *t = &NTH(PW_EV_TDS, 0)->u.tds;
    CHECK_INT(t->kind, PW_TDS_ERROR);
    CHECK_INT(t->number, 18456);
    CHECK_INT(t->state, 1);
    CHECK_INT(t->severity, 14);
    CHECK_STR(t->message, "Login failed for user 'x'.");
    CHECK_STR(t->server_name, "SQL01");
    CHECK_STR(t->proc_name, "");
    CHECK_INT(t->line, 1);
    CHECK_INT(NTH(PW_EV_TDS, 1)->u.tds.kind, PW_TDS_DONE);
    CHECK_INT(NTH(PW_EV_TDS, 1)->u.tds.done_status, 2);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    feeder_free(f);

    /* an older server: LineNumber as USHORT */
    p.n -= 13;                        /* drop the DONE */
    p.n -= 4;
    put16(&p, 7);
    set16(&p, 1, (uint16_t)(p.n - 3));
    out.n = 0;
    tds_pkt(&out, 0x04, 1, &p);
    f = feeder_new();
    feedb(f, 0, &login);
    feedb(f, 1, &out);
    CHECK_INT(NTH(PW_EV_TDS, 0)->u.tds.line, 7);
    CHECK_STR(NTH(PW_EV_TDS, 0)->u.tds.message, "Login failed for user 'x'.");
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    CHECK(f->done);
    feeder_free(f);

    /* a hostile message: control characters and a lone surrogate */
    login_failed(&p, "x");
    set16(&p, 11, 0x0007), set16(&p, 13, 0xd800);
    out.n = 0;
    tds_pkt(&out, 0x04, 1, &p);
    f = feeder_new();
    feedb(f, 0, &login);
    feedb(f, 1, &out);
    CHECK_INT(count(PW_EV_TDS), 2);
    CHECK_INT(NTH(PW_EV_TDS, 0)->u.tds.message[1], '?');
    feeder_free(f);

    /* every prefix of the answer: nothing until whole */
    for (size_t cut = 0; cut <= fail.n; cut++) {
        f = feeder_new();
        feedb(f, 0, &login);
        feed(f, 1, fail.b, cut);
        CHECK_INT(count(PW_EV_TDS), cut == fail.n ? 2 : 0);
        CHECK_INT(count(PW_EV_MALFORMED), 0);
        feeder_free(f);
    }
    /* the token stream cut at every offset inside a whole packet: the
     * ERROR only when whole, the DONE once it has a row count (4 bytes
     * before TDS 7.2), a malformed count when a token is cut */
    login_failed(&p, "x");
    size_t err_end = 3 + (size_t)(p.b[1] | p.b[2] << 8);
    for (size_t cut = 1; cut < p.n; cut++) {
        buf q = {.n = 0};
        putn(&q, p.b, cut);
        out.n = 0;
        tds_pkt(&out, 0x04, 1, &q);
        f = feeder_new();
        feedb(f, 0, &login);
        feedb(f, 1, &out);
        size_t done_min = err_end + 1 + 2 + 2 + 4;
        CHECK_INT(count(PW_EV_TDS), cut >= done_min ? 2 : cut >= err_end ? 1 : 0);
        CHECK_INT(count(PW_EV_MALFORMED), cut == err_end || cut >= done_min ? 0 : 1);
        feeder_free(f);
    }
    /* a token length that lies: the fields inside run past it */
    login_failed(&p, "x");
    set16(&p, 1, 12);
    p.n = 15;
    put8(&p, 0xfd), put16(&p, 2), put16(&p, 0), put64(&p, 0);
    out.n = 0;
    tds_pkt(&out, 0x04, 1, &p);
    f = feeder_new();
    feedb(f, 0, &login);
    feedb(f, 1, &out);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    CHECK_STR(NTH(PW_EV_MALFORMED, 0)->u.malformed, "tds: bad ERROR token");
    feeder_free(f);
}

/* TDS 5.0 (Sybase): a login packet (0x02), then LOGINACK with a status byte
 * and a single-byte program name, and a DONE with a 4-byte row count. */
static void test_tds5(void)
{
    buf p = {.n = 0}, out = {.n = 0};
    zeros(&p, 512);
    memcpy(p.b, "SYBHOST", 7);
    tds_pkt(&out, 0x02, 1, &p);
    feeder *f = feeder_new();
    feedb(f, 0, &out);
    CHECK_INT(count(PW_EV_APP), 1);
    p.n = 0;
    put8(&p, 0xad), put16(&p, 1 + 4 + 1 + 10 + 4), put8(&p, 5);
    put8(&p, 5), put8(&p, 0), put8(&p, 0), put8(&p, 0);
    put8(&p, 10), puts_(&p, "sql server");
    put8(&p, 16), put8(&p, 0), put8(&p, 2), put8(&p, 0);
    put8(&p, 0xfd), put16(&p, 0), put16(&p, 0), put32(&p, 0);
    out.n = 0;
    tds_pkt(&out, 0x04, 1, &p);
    feedb(f, 1, &out);
    CHECK_INT(count(PW_EV_TDS), 2);
    const pw_ev_tds *t = &NTH(PW_EV_TDS, 0)->u.tds;
    CHECK_INT(t->kind, PW_TDS_LOGINACK);
    CHECK(t->tds5);
    CHECK_INT(t->interface, 5);
    CHECK_INT(t->tds_version, 0x05000000);
    CHECK_STR(t->prog_name, "sql server");
    CHECK_INT(t->prog_version[0], 16);
    CHECK_INT(NTH(PW_EV_TDS, 1)->u.tds.kind, PW_TDS_DONE);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    CHECK(f->done);
    feeder_free(f);
}

/* The server's first TLS flight (ServerHello, Certificate leaf + CA,
 * ServerHelloDone) as records of at most 700 bytes. */
static void server_flight(tbuf *recs)
{
    static tbuf hs;
    hs.n = 0;
    server_hello(&hs, 0xc02f, NULL, false);
    certificate_msg(&hs, leaf_der, sizeof leaf_der, ca_der, sizeof ca_der);
    server_hello_done(&hs);
    recs->n = 0;
    records(recs, 22, hs.b, hs.n, 700);
}

/* TLS records carried in PRELOGIN packets of at most `max` payload bytes. */
static void tls_in_prelogin(buf *out, const tbuf *recs, size_t max)
{
    out->n = 0;
    for (size_t off = 0; off < recs->n; off += max) {
        buf q = {.n = 0};
        size_t k = recs->n - off < max ? recs->n - off : max;
        putn(&q, recs->b + off, k);
        tds_pkt(out, 0x12, 1, &q);
    }
}

static void test_tls_in_tds(void)
{
    static tbuf hs, crec, srec;
    static buf c2s, s2c, p, out;
    hs.n = 0;
    client_hello(&hs, NULL, NULL, false);
    crec.n = 0;
    records(&crec, 22, hs.b, hs.n, 16384);
    server_flight(&srec);

    feeder *f = feeder_new();
    prelogin(&p, 1);
    out.n = 0;
    tds_pkt(&out, 0x12, 1, &p);
    feedb(f, 0, &out);
    out.n = 0;
    tds_pkt(&out, 0x04, 1, &p);
    feedb(f, 1, &out);
    CHECK_INT(count(PW_EV_TDS), 2);
    CHECK_INT(NTH(PW_EV_TDS, 1)->u.tds.encryption, PW_TDS_ENCRYPT_ON);
    tls_in_prelogin(&c2s, &crec, 4088);
    feedb(f, 0, &c2s);
    CHECK_INT(count(PW_EV_TLS), 1);
    CHECK_INT(NTH(PW_EV_TLS, 0)->u.tls.kind, PW_TLS_CLIENT_HELLO);
    /* the server's flight over packets of 512 bytes: records span packets */
    tls_in_prelogin(&s2c, &srec, 512);
    feed_steps(f, 1, &s2c, 97);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    CHECK_INT(count(PW_EV_APP), 1); /* "tds" only, never "tls" */
    CHECK_STR(NTH(PW_EV_APP, 0)->u.app, "tds");
    int certs = 0;
    for (int i = 0; i < nev && i < MAXEV; i++)
        if (evs[i].type == PW_EV_TLS && evs[i].u.tls.kind == PW_TLS_CERTIFICATE) {
            certs++;
            CHECK_STR(evs[i].u.tls.subject_cn, "dc01.contoso.local");
            CHECK_INT(evs[i].u.tls.n_san, 3);
            CHECK_STR(evs[i].u.tls.san[1], "dc01");
            CHECK_INT(evs[i].u.tls.chain_len, 2);
            CHECK_INT(evs[i].dir, 1);
        }
    CHECK_INT(certs, 1);
    CHECK_INT(count(PW_EV_TDS), 3);
    CHECK_INT(NTH(PW_EV_TDS, 2)->u.tds.kind, PW_TDS_ENCRYPTED);
    CHECK(f->done);
    feeder_free(f);

    /* the encrypted login that follows (raw TLS records): nothing invented */
    f = feeder_new();
    feedb(f, 0, &c2s);
    CHECK_INT(count(PW_EV_TLS), 1);
    feed(f, 0, (const uint8_t *)"\x17\x03\x03\x00\x05hello", 10);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    CHECK_INT(count(PW_EV_TDS), 0);
    feeder_free(f);

    /* every prefix of the server's flight: the certificate once whole,
     * never malformed */
    int whole_runs = 0;
    for (size_t cut = 0; cut <= s2c.n; cut += 3) {
        f = feeder_new();
        feedb(f, 0, &c2s);
        feed(f, 1, s2c.b, cut);
        int c = 0;
        for (int i = 0; i < nev && i < MAXEV; i++)
            c += evs[i].type == PW_EV_TLS && evs[i].u.tls.kind == PW_TLS_CERTIFICATE;
        whole_runs += c;
        CHECK(c <= 1);
        CHECK_INT(count(PW_EV_MALFORMED), 0);
        feeder_free(f);
    }
    CHECK(whole_runs >= 1);
    /* every corruption of the wrapped flight: the sanitizers judge */
    feed_corruptions(&c2s, 200, &s2c);
    CHECK_INT(contract_violations, 0);
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
    test_prelogin_options();
    test_login_answers();
    test_tls_in_tds();
    test_tds5();
    test_malformed();
    CHECK_DONE();
}
