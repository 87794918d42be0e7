/* test_starttls.c - upgrades to TLS inside a clear-text session, on
 * hand-built bytes: SMTP STARTTLS, IMAP STARTTLS, POP3 STLS, FTP AUTH TLS
 * (dissectors/starttls.c) and the LDAP StartTLS extended operation
 * (dissectors/ldap.c).  Each accepted upgrade is followed by a TLS 1.2
 * ClientHello and a ServerHello + Certificate + ServerHelloDone whose
 * certificate must come out of the flow; refusals must leave the session in
 * clear; every prefix and every corrupted byte of a session is fed too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/dissector.h"
#include "check.h"
#include "stream_harness.h"
#include "test_certs.h"
#include "tls_build.h"

/* One segment of a session: who sends it and its bytes (text, or one of
 * the two TLS flights when text is NULL). */
typedef struct step {
    int dir;
    const char *text;
} step;

#define END_STEPS {-1, NULL}
#define CLIENT_TLS {0, NULL}
#define SERVER_TLS {1, NULL}

static buf client_flight, server_flight;

/* The TLS flights every accepted upgrade carries. */
static void make_flights(void)
{
    static buf hs;
    hs.n = client_flight.n = server_flight.n = 0;
    client_hello(&hs, NULL, NULL, false);
    records(&client_flight, 22, hs.b, hs.n, 16384);
    hs.n = 0;
    server_hello(&hs, 0xc02f, NULL, false);
    certificate_msg(&hs, leaf_der, sizeof leaf_der, ca_der, sizeof ca_der);
    server_hello_done(&hs);
    records(&server_flight, 22, hs.b, hs.n, 16384); /* one record: the certificate completes with it */
}

/* The session as one byte string per segment, in order: segs[i] of dirs[i]. */
typedef struct session {
    buf bytes;
    size_t end[32]; /* end offset of segment i in bytes */
    int dir[32];
    int n;
} session;

static void build(session *s, const step *steps)
{
    s->bytes.n = 0;
    s->n = 0;
    for (const step *p = steps; p->dir >= 0; p++) {
        if (p->text)
            puts_(&s->bytes, p->text);
        else
            putn(&s->bytes, p->dir ? server_flight.b : client_flight.b,
                 p->dir ? server_flight.n : client_flight.n);
        s->dir[s->n] = p->dir;
        s->end[s->n++] = s->bytes.n;
    }
}

/* Feeds the session's first `upto` bytes, each segment in pieces of `chunk`. */
static feeder *play(const pw_dissector *d, uint16_t port, const session *s, size_t upto, size_t chunk)
{
    feeder *f = feeder_new(d, port);
    size_t start = 0;
    for (int i = 0; i < s->n && start < upto; i++) {
        size_t end = s->end[i] < upto ? s->end[i] : upto;
        feed_steps(f, s->dir[i], s->bytes.b + start, end - start, chunk);
        start = s->end[i];
    }
    return f;
}

static bool has_app(const feeder *f, const char *app)
{
    const pw_event *e = find(&f->sink, PW_EV_APP, 0, 0);
    return e && !strcmp(e->u.app, app) && count(&f->sink, PW_EV_APP) == 1;
}

/* An accepted upgrade: the certificate comes out of this flow, which keeps
 * its app name, whatever the segment sizes. */
static void check_upgrade(const pw_dissector *d, uint16_t port, const char *app, const step *steps)
{
    static session s;
    build(&s, steps);
    size_t chunks[] = {1, 7, 100000};
    for (size_t k = 0; k < sizeof chunks / sizeof *chunks; k++) {
        feeder *f = play(d, port, &s, s.bytes.n, chunks[k]);
        CHECK(has_app(f, app));
        CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_CLIENT_HELLO, 0) != NULL);
        const pw_event *e = find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0);
        CHECK(e != NULL);
        if (e) {
            CHECK_STR(e->u.tls.subject_cn, "dc01.contoso.local");
            CHECK_INT(e->u.tls.n_san, 3);
            CHECK_STR(e->u.tls.san[2], "ldap.contoso.local");
            CHECK_INT(e->dir, 1);
            CHECK_INT(e->flow.server_port, port);
        }
        CHECK_INT(f->sink.malformed, 0);
        CHECK(f->done); /* both first flights are over */
        feeder_free(f);
    }
}

/* A refused upgrade: no TLS, no malformed, the app still named. */
static void check_refused(const pw_dissector *d, uint16_t port, const char *app, const step *steps)
{
    static session s;
    build(&s, steps);
    feeder *f = play(d, port, &s, s.bytes.n, 100000);
    CHECK(has_app(f, app));
    CHECK_INT(count(&f->sink, PW_EV_TLS), 0);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);
}

/* Every prefix of the session, and every byte of it corrupted: no crash,
 * no contract breach (the feeder aborts on one), the certificate only from
 * the whole session. */
static void check_cuts(const pw_dissector *d, uint16_t port, const step *steps)
{
    static session s, mut;
    build(&s, steps);
    int with_cert = 0;
    for (size_t cut = 0; cut <= s.bytes.n; cut++) {
        feeder *f = play(d, port, &s, cut, 100000);
        with_cert += find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0) != NULL;
        feeder_free(f);
    }
    CHECK_INT(with_cert, 1);
    for (size_t i = 0; i < s.bytes.n; i++) {
        mut = s;
        mut.bytes.b[i] ^= 0x5a;
        feeder *f = play(d, port, &mut, mut.bytes.n, 61);
        CHECK(count(&f->sink, PW_EV_APP) <= 1);
        feeder_free(f);
    }
}

/* ---- SMTP ---- */

static const step smtp_ok[] = {
    {1, "220 mail.contoso.local ESMTP ready\r\n"},
    {0, "EHLO ws042.contoso.local\r\n"},
    {1, "250-mail.contoso.local\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 STARTTLS\r\n"},
    {0, "starttls\r\n"},
    {1, "220 2.0.0 Ready to start TLS\r\n"},
    CLIENT_TLS, SERVER_TLS, END_STEPS,
};

static void test_smtp(void)
{
    check_upgrade(&pw_dissector_smtp, 25, "smtp", smtp_ok);
    check_cuts(&pw_dissector_smtp, 25, smtp_ok);
    static const step refused[] = {
        {1, "220 mail.contoso.local ESMTP\r\n"},
        {0, "EHLO ws042\r\n"},
        {1, "250 mail.contoso.local\r\n"},
        {0, "STARTTLS\r\n"},
        {1, "454 4.7.0 TLS not available due to temporary reason\r\n"},
        {0, "QUIT\r\n"},
        {1, "221 2.0.0 Bye\r\n"},
        END_STEPS,
    };
    check_refused(&pw_dissector_smtp, 587, "smtp", refused);
    /* a 220 that answers nothing (a second greeting line) is not an upgrade */
    static const step unasked[] = {
        {1, "220-mail.contoso.local ESMTP\r\n220 no UCE\r\n"},
        {0, "EHLO ws042\r\n"},
        {1, "250 mail.contoso.local\r\n"},
        {0, "MAIL FROM:<a@contoso.local>\r\n"},
        {1, "220 odd but not an answer to STARTTLS\r\n"},
        END_STEPS,
    };
    check_refused(&pw_dissector_smtp, 25, "smtp", unasked);
    CHECK(pw_dissector_for_port(6, 25) == &pw_dissector_smtp);
    CHECK(pw_dissector_for_port(6, 587) == &pw_dissector_smtp);

    /* not SMTP at all: malformed, done */
    feeder *f = feeder_new(&pw_dissector_smtp, 25);
    feed(f, 1, (const uint8_t *)"SSH-2.0-OpenSSH_9.6\r\n", 21);
    CHECK(f->done);
    CHECK_INT(f->sink.malformed, 1);
    CHECK_INT(count(&f->sink, PW_EV_APP), 0);
    feeder_free(f);

    /* implicit TLS on an SMTP port: read as TLS, named "tls" */
    static const step implicit[] = {CLIENT_TLS, SERVER_TLS, END_STEPS};
    check_upgrade(&pw_dissector_smtp, 25, "tls", implicit);

    /* the client's ClientHello before the server's answer is held for it */
    static session s;
    build(&s, smtp_ok);
    f = feeder_new(&pw_dissector_smtp, 25);
    for (int i = 0; i < 4; i++)
        feed(f, s.dir[i], s.bytes.b + (i ? s.end[i - 1] : 0), s.end[i] - (i ? s.end[i - 1] : 0));
    feed(f, 0, client_flight.b, client_flight.n);
    CHECK_INT(count(&f->sink, PW_EV_TLS), 0);
    CHECK_INT(f->plen[0], client_flight.n);
    feed(f, 1, (const uint8_t *)"220 go ahead\r\n", 14);
    feed(f, 0, client_flight.b, 0); /* capture offers the held bytes again with the next segment */
    feed(f, 1, server_flight.b, server_flight.n);
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_CLIENT_HELLO, 0) != NULL);
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0) != NULL);
    feeder_free(f);

    /* a session that never upgrades is dropped after a bounded number of lines */
    f = feeder_new(&pw_dissector_smtp, 25);
    feed(f, 1, (const uint8_t *)"220 hi\r\n", 8);
    for (int i = 0; i < 200 && !f->done; i++)
        feed(f, 0, (const uint8_t *)"NOOP\r\n", 6);
    CHECK(f->done);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);
}

/* ---- IMAP ---- */

static const step imap_ok[] = {
    {1, "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n"},
    {0, "a1 CAPABILITY\r\n"},
    {1, "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na1 OK CAPABILITY completed\r\n"},
    {0, "a2 STARTTLS\r\n"},
    {1, "* OK still here\r\na1 OK not the answer\r\na2 OK Begin TLS negotiation now\r\n"},
    CLIENT_TLS, SERVER_TLS, END_STEPS,
};

static void test_imap(void)
{
    check_upgrade(&pw_dissector_imap, 143, "imap", imap_ok);
    check_cuts(&pw_dissector_imap, 143, imap_ok);
    static const step no[] = {
        {1, "* OK ready\r\n"},
        {0, "A001 STARTTLS\r\n"},
        {1, "A001 NO TLS is not configured\r\n"},
        {0, "A002 LOGOUT\r\n"},
        {1, "* BYE\r\nA002 OK LOGOUT completed\r\n"},
        END_STEPS,
    };
    check_refused(&pw_dissector_imap, 143, "imap", no);
    static const step bad[] = {
        {1, "* OK ready\r\n"},
        {0, "A001 STARTTLS\r\n"},
        {1, "A001 BAD unknown command\r\n"},
        END_STEPS,
    };
    check_refused(&pw_dissector_imap, 143, "imap", bad);
    CHECK(pw_dissector_for_port(6, 143) == &pw_dissector_imap);
}

/* ---- POP3 ---- */

static const step pop3_ok[] = {
    {1, "+OK POP3 server ready\r\n"},
    {0, "CAPA\r\n"},
    {1, "+OK Capability list follows\r\nUSER\r\n-ERR looks like a status but is data\r\nSTLS\r\n.\r\n"},
    {0, "STLS\r\n"},
    {1, "+OK Begin TLS negotiation\r\n"},
    CLIENT_TLS, SERVER_TLS, END_STEPS,
};

static void test_pop3(void)
{
    check_upgrade(&pw_dissector_pop3, 110, "pop3", pop3_ok);
    check_cuts(&pw_dissector_pop3, 110, pop3_ok);
    static const step refused[] = {
        {1, "+OK ready\r\n"},
        {0, "STLS\r\n"},
        {1, "-ERR Command not permitted when TLS active\r\n"},
        {0, "QUIT\r\n"},
        {1, "+OK bye\r\n"},
        END_STEPS,
    };
    check_refused(&pw_dissector_pop3, 110, "pop3", refused);
    CHECK(pw_dissector_for_port(6, 110) == &pw_dissector_pop3);
}

/* ---- FTP ---- */

static const step ftp_ok[] = {
    {1, "220-Welcome to the Contoso FTP service\r\n    any text may follow\r\n220 ready\r\n"},
    {0, "AUTH TLS\r\n"},
    {1, "234 AUTH TLS OK.\r\n"},
    CLIENT_TLS, SERVER_TLS, END_STEPS,
};

static void test_ftp(void)
{
    check_upgrade(&pw_dissector_ftp, 21, "ftp", ftp_ok);
    check_cuts(&pw_dissector_ftp, 21, ftp_ok);
    static const step ssl[] = {
        {1, "220 ready\r\n"},
        {0, "FEAT\r\n"},
        {1, "211-Features:\r\n AUTH TLS\r\n PBSZ\r\n211 End\r\n"},
        {0, "auth ssl\r\n"},
        {1, "234 Proceed with negotiation.\r\n"},
        CLIENT_TLS, SERVER_TLS, END_STEPS,
    };
    check_upgrade(&pw_dissector_ftp, 21, "ftp", ssl);
    static const step refused[] = {
        {1, "220 ready\r\n"},
        {0, "AUTH TLS\r\n"},
        {1, "534 Policy requires SSL.\r\n"},
        {0, "USER anonymous\r\n"},
        {1, "331 Please specify the password.\r\n"},
        END_STEPS,
    };
    check_refused(&pw_dissector_ftp, 21, "ftp", refused);
    CHECK(pw_dissector_for_port(6, 21) == &pw_dissector_ftp);
}

/* ---- LDAP StartTLS (dissectors/ldap.c) ---- */

static void ber(buf *out, uint8_t tag, const void *p, size_t n)
{
    put8(out, tag);
    if (n >= 0x80)
        put8(out, 0x81); /* the elements here are short */
    put8(out, (unsigned)n);
    putn(out, p, n);
}

static const char starttls_oid[] = "1.3.6.1.4.1.1466.20037";

/* LDAPMessage { messageID, protocolOp } */
static void ldap_msg(buf *out, uint8_t id, uint8_t op, const buf *body)
{
    buf m = {.n = 0}, o = {.n = 0};
    ber(&m, 0x02, &id, 1);
    ber(&o, op, body->b, body->n);
    putn(&m, o.b, o.n);
    ber(out, 0x30, m.b, m.n);
}

static void extended_req(buf *out, uint8_t id, const char *oid)
{
    static buf body;
    body.n = 0;
    ber(&body, 0x80, oid, strlen(oid));
    ldap_msg(out, id, 0x77, &body);
}

static void extended_resp(buf *out, uint8_t id, uint8_t result, bool name)
{
    static buf body;
    body.n = 0;
    ber(&body, 0x0a, &result, 1);
    ber(&body, 0x04, "", 0);
    ber(&body, 0x04, result ? "unavailable" : "", result ? 11 : 0);
    if (name)
        ber(&body, 0x8a, starttls_oid, strlen(starttls_oid));
    ldap_msg(out, id, 0x78, &body);
}

/* The LDAP session as steps of raw bytes: held in static buffers the steps
 * cannot name, so it is fed here directly. */
static feeder *ldap_session(const buf *req, const buf *resp, size_t chunk)
{
    feeder *f = feeder_new(&pw_dissector_ldap, 389);
    feed_steps(f, 0, req->b, req->n, chunk);
    feed_steps(f, 1, resp->b, resp->n, chunk);
    feed_steps(f, 0, client_flight.b, client_flight.n, chunk);
    feed_steps(f, 1, server_flight.b, server_flight.n, chunk);
    return f;
}

static void test_ldap_starttls(void)
{
    static buf req, resp, other;
    req.n = resp.n = other.n = 0;
    extended_req(&req, 1, starttls_oid);
    extended_resp(&resp, 1, 0, true);
    size_t chunks[] = {1, 5, 100000};
    for (size_t k = 0; k < sizeof chunks / sizeof *chunks; k++) {
        feeder *f = ldap_session(&req, &resp, chunks[k]);
        CHECK(has_app(f, "ldap"));
        const pw_event *e = find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0);
        CHECK(e != NULL);
        if (e) {
            CHECK_STR(e->u.tls.subject_cn, "dc01.contoso.local");
            CHECK_INT(e->u.tls.n_san, 3);
            CHECK_INT(e->flow.server_port, 389);
        }
        CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_CLIENT_HELLO, 0) != NULL);
        CHECK_INT(f->sink.malformed, 0);
        CHECK(f->done);
        feeder_free(f);
    }
    /* the response without its optional responseName still answers by messageID */
    resp.n = 0;
    extended_resp(&resp, 1, 0, false);
    feeder *f = ldap_session(&req, &resp, 100000);
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0) != NULL);
    feeder_free(f);

    /* refused (unavailable, 52): no TLS is read, the session goes on */
    resp.n = 0;
    extended_resp(&resp, 1, 52, true);
    f = ldap_session(&req, &resp, 100000);
    CHECK(has_app(f, "ldap"));
    CHECK_INT(count(&f->sink, PW_EV_TLS), 0);
    feeder_free(f);

    /* success for another messageID, or another extended operation: not an upgrade */
    resp.n = 0;
    extended_resp(&resp, 2, 0, true);
    f = ldap_session(&req, &resp, 100000);
    CHECK_INT(count(&f->sink, PW_EV_TLS), 0);
    feeder_free(f);
    other.n = 0;
    extended_req(&other, 1, "1.3.6.1.4.1.4203.1.11.3"); /* Who am I? */
    resp.n = 0;
    extended_resp(&resp, 1, 0, false);
    f = ldap_session(&other, &resp, 100000);
    CHECK_INT(count(&f->sink, PW_EV_TLS), 0);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* every prefix of the session, and every byte corrupted */
    static buf all, mut;
    resp.n = all.n = 0;
    extended_resp(&resp, 1, 0, true);
    size_t ends[4] = {req.n, req.n + resp.n, req.n + resp.n + client_flight.n, 0};
    putn(&all, req.b, req.n);
    putn(&all, resp.b, resp.n);
    putn(&all, client_flight.b, client_flight.n);
    putn(&all, server_flight.b, server_flight.n);
    ends[3] = all.n;
    int with_cert = 0;
    for (size_t cut = 0; cut <= all.n; cut++) {
        for (int pass = 0; pass < 2; pass++) {
            mut = all;
            if (pass == 1 && cut < all.n)
                mut.b[cut] ^= 0x5a;
            f = feeder_new(&pw_dissector_ldap, 389);
            size_t start = 0, upto = pass ? all.n : cut;
            for (int i = 0; i < 4 && start < upto; i++) {
                size_t end = ends[i] < upto ? ends[i] : upto;
                feed_steps(f, i % 2, mut.b + start, end - start, 33);
                start = ends[i];
            }
            if (pass == 0)
                with_cert += find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0) != NULL;
            feeder_free(f);
        }
    }
    CHECK_INT(with_cert, 1);
}

int main(void)
{
    make_flights();
    test_smtp();
    test_imap();
    test_pop3();
    test_ftp();
    test_ldap_starttls();
    CHECK_DONE();
}
