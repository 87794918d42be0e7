/* test_ldap.c - LDAP bind exchanges (SASL GSS-SPNEGO / NTLM, sicily) over
 * TCP: the NTLMSSP messages in them, BER framing across segments, skipping
 * of other messages, limits and malformed input, on hand-built bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/dissector.h"
#include "check.h"

#define NTLM_BUF_SIZE 16384
#include "ntlm_build.h"

#define FEED_DISSECTOR pw_dissector_ldap
#define FEED_PEND 300000
#define FEED_STOP_WHEN_DONE 1
#define FEED_FIRST_FRAME 1
#define FEED_FRAME_STEP 0
#include "feed_harness.h"

/* This test's names in the shared NTLMSSP builders. */
static void ntlm_challenge(buf *b, const char *nb, const char *dns)
{
    ntlm_challenge_in(b, "CORP", "corp.example", nb, dns);
}
static void ntlm_authenticate(buf *b) { ntlm_authenticate_as(b, "CORP", "alice", "WKS7"); }

/* BER element: `lform` 0 = shortest length form, 4 = 0x84 + 4 bytes (as
 * Active Directory writes them). */
static void ber(buf *out, uint8_t tag, const void *p, size_t n, int lform)
{
    put8(out, tag);
    if (lform == 4) {
        put8(out, 0x84), put8(out, (uint8_t)(n >> 24)), put8(out, (uint8_t)(n >> 16));
        put8(out, (uint8_t)(n >> 8)), put8(out, (uint8_t)n);
    } else if (n < 0x80) {
        put8(out, (uint8_t)n);
    } else if (n < 0x100) {
        put8(out, 0x81), put8(out, (uint8_t)n);
    } else if (n < 0x10000) {
        put8(out, 0x82), put8(out, (uint8_t)(n >> 8)), put8(out, (uint8_t)n);
    } else {
        put8(out, 0x83), put8(out, (uint8_t)(n >> 16)), put8(out, (uint8_t)(n >> 8)), put8(out, (uint8_t)n);
    }
    putn(out, p, n);
}
static void berb(buf *out, uint8_t tag, const buf *in, int lform) { ber(out, tag, in->b, in->n, lform); }

/* LDAPMessage { messageID, protocolOp } */
static void ldap_msg(buf *out, uint32_t id, uint8_t op, const buf *body, int lform)
{
    buf m = {.n = 0}, opb = {.n = 0};
    uint8_t idb[4] = {(uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8), (uint8_t)id};
    size_t skip = 0;
    while (skip < 3 && idb[skip] == 0 && !(idb[skip + 1] & 0x80))
        skip++;
    ber(&m, 0x02, idb + skip, 4 - skip, 0);
    berb(&opb, op, body, lform);
    putn(&m, opb.b, opb.n);
    berb(out, 0x30, &m, lform);
}

/* BindRequest { version 3, name, authentication } with the authentication
 * element given whole. */
static void bind_req(buf *out, uint32_t id, const char *dn, const buf *auth, int lform)
{
    buf body = {.n = 0};
    ber(&body, 0x02, "\x03", 1, 0);
    ber(&body, 0x04, dn, strlen(dn), 0);
    putn(&body, auth->b, auth->n);
    ldap_msg(out, id, 0x60, &body, lform);
}

static void sasl_auth(buf *auth, const char *mech, const buf *cred, int lform)
{
    buf s = {.n = 0};
    ber(&s, 0x04, mech, strlen(mech), 0);
    if (cred)
        berb(&s, 0x04, cred, lform);
    auth->n = 0;
    berb(auth, 0xa3, &s, lform);
}

/* BindResponse { resultCode, matchedDN, diagnosticMessage, serverSaslCreds } */
static void bind_resp(buf *out, uint32_t id, uint8_t result, const buf *matched, const buf *creds, int lform)
{
    buf body = {.n = 0};
    ber(&body, 0x0a, &result, 1, 0);
    if (matched)
        berb(&body, 0x04, matched, lform);
    else
        ber(&body, 0x04, "", 0, 0);
    ber(&body, 0x04, "", 0, 0);
    if (creds)
        berb(&body, 0x87, creds, lform);
    ldap_msg(out, id, 0x61, &body, lform);
}

/* SPNEGO negTokenResp { negState, supportedMech NTLMSSP, responseToken } */
static void spnego_resp(buf *out, const buf *tok)
{
    buf seq = {.n = 0}, t = {.n = 0}, o = {.n = 0};
    ber(&seq, 0xa0, "\x0a\x01\x01", 3, 0);
    ber(&seq, 0xa1, "\x06\x0a\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a", 12, 0);
    berb(&t, 0x04, tok, 0);
    berb(&seq, 0xa2, &t, 0);
    berb(&o, 0x30, &seq, 0);
    out->n = 0;
    berb(out, 0xa1, &o, 0);
}

/* Windows: GSS-SPNEGO mechanism with raw NTLMSSP, AD-style 0x84 lengths. */
static void test_sasl_gss_spnego(void)
{
    feeder *f = feeder_new();
    buf tok, auth, out = {.n = 0};
    ntlm_negotiate(&tok);
    sasl_auth(&auth, "GSS-SPNEGO", &tok, 4);
    bind_req(&out, 151, "", &auth, 4);
    feedb(f, 0, &out);
    CHECK_INT(count(PW_EV_APP), 1);
    CHECK_STR(NTH(PW_EV_APP, 0)->u.app, "ldap");
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    CHECK_INT(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.msg_type, PW_NTLM_NEGOTIATE);
    CHECK_INT(NTH(PW_EV_NTLMSSP, 0)->dir, 0);

    ntlm_challenge(&tok, "DC01", "dc01.corp.example");
    out.n = 0;
    bind_resp(&out, 151, 14, NULL, &tok, 4);
    nev = 0;
    feedb(f, 1, &out);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    const pw_ev_ntlmssp *n = &NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp;
    CHECK_INT(n->msg_type, PW_NTLM_CHALLENGE);
    CHECK_STR(n->nb_computer, "DC01");
    CHECK_STR(n->dns_computer, "dc01.corp.example");
    CHECK_STR(n->nb_domain, "CORP");
    CHECK_STR(n->dns_domain, "corp.example");
    CHECK_INT(NTH(PW_EV_NTLMSSP, 0)->dir, 1);
    CHECK(!f->done);

    ntlm_authenticate(&tok);
    sasl_auth(&auth, "GSS-SPNEGO", &tok, 4);
    out.n = 0;
    bind_req(&out, 152, "", &auth, 4);
    nev = 0;
    feedb(f, 0, &out);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.user, "alice");
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.workstation, "WKS7");
    CHECK(!f->done);

    /* success: the exchange is over (what follows may be SASL-wrapped) */
    out.n = 0;
    bind_resp(&out, 152, 0, NULL, NULL, 4);
    nev = 0;
    feedb(f, 1, &out);
    CHECK_INT(nev, 0);
    CHECK(f->done);
    CHECK_INT(f->plen[1], 0);
    feeder_free(f);

    /* invalidCredentials (49) also ends the exchange */
    ntlm_authenticate(&tok);
    sasl_auth(&auth, "GSS-SPNEGO", &tok, 0);
    f = feeder_new();
    out.n = 0;
    bind_req(&out, 2, "", &auth, 0);
    feedb(f, 0, &out);
    out.n = 0;
    bind_resp(&out, 2, 49, NULL, NULL, 0);
    feedb(f, 1, &out);
    CHECK(f->done);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    feeder_free(f);
}

/* SASL "NTLM" (Samba / OpenLDAP) and a SPNEGO-wrapped challenge. */
static void test_sasl_ntlm_and_spnego(void)
{
    feeder *f = feeder_new();
    buf tok, sp, auth, out = {.n = 0};
    ntlm_negotiate(&tok);
    sasl_auth(&auth, "NTLM", &tok, 0);
    bind_req(&out, 1, "", &auth, 0);
    feedb(f, 0, &out);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    ntlm_challenge(&tok, "LDAPSRV", "ldapsrv.corp.example");
    buf diag = {.n = 0};
    puts_(&diag, "SASL(0): successful result: ");
    out.n = 0;
    bind_resp(&out, 1, 14, &diag, &tok, 0);
    nev = 0;
    feed_steps(f, 1, &out, 1); /* one byte at a time */
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.nb_computer, "LDAPSRV");
    CHECK_INT(f->plen[1], 0);
    feeder_free(f);

    /* GSS-SPNEGO with a real SPNEGO negTokenResp around the challenge */
    f = feeder_new();
    ntlm_challenge(&tok, "DC02", "dc02.corp.example");
    spnego_resp(&sp, &tok);
    out.n = 0;
    bind_resp(&out, 7, 14, NULL, &sp, 0);
    feed_steps(f, 1, &out, 13);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.dns_computer, "dc02.corp.example");
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    /* The app event came first. */
    CHECK_INT(evs[0].type, PW_EV_APP);
    feeder_free(f);
}

/* Sicily: discovery, negotiate (challenge in matchedDN), response. */
static void test_sicily(void)
{
    feeder *f = feeder_new();
    buf tok, auth, out = {.n = 0}, m = {.n = 0};
    /* an anonymous simple bind first: the connection is still followed */
    auth.n = 0;
    ber(&auth, 0x80, "", 0, 0);
    bind_req(&out, 1, "cn=anon", &auth, 0);
    feedb(f, 0, &out);
    out.n = 0;
    bind_resp(&out, 1, 0, NULL, NULL, 0);
    feedb(f, 1, &out);
    CHECK(!f->done);
    CHECK_INT(count(PW_EV_NTLMSSP), 0);

    auth.n = 0;
    ber(&auth, 0x89, "", 0, 0);
    out.n = 0;
    bind_req(&out, 2, "", &auth, 0);
    feedb(f, 0, &out);
    puts_(&m, "NTLM");
    out.n = 0;
    bind_resp(&out, 2, 0, &m, NULL, 0);
    feedb(f, 1, &out);
    CHECK(!f->done);

    ntlm_negotiate(&tok);
    auth.n = 0;
    berb(&auth, 0x8a, &tok, 0);
    out.n = 0;
    bind_req(&out, 3, "", &auth, 0);
    nev = 0;
    feedb(f, 0, &out);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    CHECK_INT(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.msg_type, 1);

    ntlm_challenge(&tok, "SICILYDC", "sicilydc.corp.example");
    out.n = 0;
    bind_resp(&out, 3, 0, &tok, NULL, 4); /* success, challenge in matchedDN */
    nev = 0;
    feedb(f, 1, &out);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.nb_computer, "SICILYDC");
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.dns_computer, "sicilydc.corp.example");
    CHECK(!f->done);

    ntlm_authenticate(&tok);
    auth.n = 0;
    berb(&auth, 0x8b, &tok, 0);
    out.n = 0;
    bind_req(&out, 4, "", &auth, 0);
    nev = 0;
    feedb(f, 0, &out);
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.user, "alice");
    out.n = 0;
    bind_resp(&out, 4, 0, NULL, NULL, 4);
    feedb(f, 1, &out);
    CHECK(f->done);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    feeder_free(f);
}

/* Searches are skipped as they stream past; a large result is never buffered. */
static void test_skip_and_limits(void)
{
    feeder *f = feeder_new();
    buf body = {.n = 0}, out = {.n = 0};
    ber(&body, 0x04, "dc=corp,dc=example", 18, 0);
    ber(&body, 0x0a, "\x02", 1, 0);
    ldap_msg(&out, 5, 0x63, &body, 0);
    feedb(f, 0, &out);
    CHECK_INT(count(PW_EV_APP), 1);
    CHECK_INT(f->plen[0], 0);

    /* a 40 KB search result entry, fed in 4 KB pieces: never buffered */
    static uint8_t big[40005];
    size_t blen = 40000;
    big[0] = 0x30, big[1] = 0x83, big[2] = (uint8_t)(blen >> 16), big[3] = (uint8_t)(blen >> 8), big[4] = (uint8_t)blen;
    big[5] = 0x02, big[6] = 0x01, big[7] = 0x05, big[8] = 0x64;
    feed(f, 1, big, 9);
    CHECK_INT(f->plen[1], 0); /* header seen: skipping */
    int buffered = 0;
    for (size_t off = 9; off < sizeof big; off += 4096) {
        size_t k = sizeof big - off < 4096 ? sizeof big - off : 4096;
        feed(f, 1, big + off, k);
        buffered += f->plen[1] != 0;
    }
    CHECK_INT(buffered, 0);
    CHECK(!f->done);
    /* a bind request afterwards is still read */
    buf tok, auth;
    ntlm_negotiate(&tok);
    sasl_auth(&auth, "GSS-SPNEGO", &tok, 0);
    buf br = {.n = 0};
    bind_req(&br, 6, "", &auth, 0);
    feedb(f, 0, &br);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    /* another 40 KB: past 64 KiB the flow is done */
    feed(f, 1, big, sizeof big);
    CHECK(f->done);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    feeder_free(f);

    /* 64 messages */
    f = feeder_new();
    for (int i = 0; i < 70; i++)
        feedb(f, 0, &out);
    CHECK(f->done);
    feeder_free(f);

    /* probe and ports */
    ntlm_negotiate(&tok);
    sasl_auth(&auth, "GSS-SPNEGO", &tok, 4);
    out.n = 0;
    bind_req(&out, 151, "", &auth, 4);
    CHECK(pw_dissector_ldap.probe(out.b, out.n));
    CHECK(pw_dissector_ldap.probe(out.b, 20));
    CHECK(!pw_dissector_ldap.probe(out.b, 8));
    CHECK(!pw_dissector_ldap.probe((const uint8_t *)"GET / HTTP/1.1\r\n", 16));
    CHECK(pw_dissector_for_port(6, 389) == &pw_dissector_ldap);
    CHECK(pw_dissector_for_port(6, 3268) == &pw_dissector_ldap);
    CHECK(pw_dissector_by_name("ldap") == &pw_dissector_ldap);
}

static void test_malformed(void)
{
    /* not LDAP */
    feeder *f = feeder_new();
    feed(f, 0, (const uint8_t *)"SSH-2.0-OpenSSH_9.6\r\n", 21);
    CHECK(f->done);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    CHECK_INT(count(PW_EV_APP), 0);
    feeder_free(f);

    /* SASL-wrapped data after a SASL bind whose answer was missed: quietly done */
    {
        buf tk, au, o = {.n = 0};
        ntlm_negotiate(&tk);
        sasl_auth(&au, "GSS-SPNEGO", &tk, 4);
        bind_req(&o, 3, "", &au, 4);
        f = feeder_new();
        feedb(f, 0, &o);
        CHECK(!f->done);
        feed(f, 0, (const uint8_t *)"\x00\x00\x00\x20\x05\x04\x05\xff\x00\x0c", 10);
        CHECK(f->done);
        CHECK_INT(count(PW_EV_MALFORMED), 0);
        feeder_free(f);
        /* a final bind response with serverSaslCreds, its request missed */
        o.n = 0;
        tk.n = 0;
        putn(&tk, "\xa1\x07\x30\x05\xa0\x03\x0a\x01\x00", 9); /* SPNEGO accept-completed */
        bind_resp(&o, 3, 0, NULL, &tk, 4);
        f = feeder_new();
        feedb(f, 1, &o);
        CHECK(f->done);
        CHECK_INT(count(PW_EV_MALFORMED), 0);
        feeder_free(f);
    }

    /* TLS (after StartTLS): quietly done */
    f = feeder_new();
    feed(f, 0, (const uint8_t *)"\x16\x03\x01\x00\x05hello", 10);
    CHECK(f->done);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    feeder_free(f);

    /* indefinite length */
    f = feeder_new();
    feed(f, 0, (const uint8_t *)"\x30\x80\x02\x01\x01\x60\x00\x00\x00", 9);
    CHECK(f->done);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    feeder_free(f);

    /* messageID not an INTEGER */
    f = feeder_new();
    feed(f, 0, (const uint8_t *)"\x30\x05\x04\x01\x01\x42\x00", 7);
    CHECK(f->done);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    feeder_free(f);

    /* over 1 MiB declared */
    f = feeder_new();
    feed(f, 0, (const uint8_t *)"\x30\x84\x7f\x00\x00\x00\x02\x01\x01\x42\x00", 11);
    CHECK(f->done);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    feeder_free(f);

    /* a credentials element longer than its bind: malformed, no NTLMSSP */
    buf tok, auth, out = {.n = 0};
    ntlm_negotiate(&tok);
    sasl_auth(&auth, "GSS-SPNEGO", &tok, 0);
    bind_req(&out, 9, "", &auth, 0);
    size_t at = out.n - tok.n - 1; /* credentials length byte */
    CHECK_INT(out.b[at], tok.n);
    out.b[at] = (uint8_t)(tok.n + 5);
    f = feeder_new();
    feedb(f, 0, &out);
    CHECK_INT(count(PW_EV_NTLMSSP), 0);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    CHECK(!f->done);
    feeder_free(f);

    /* a challenge whose AV pairs run past the token: ntlmssp reports it */
    ntlm_challenge(&tok, "DC01", "dc01.corp.example");
    tok.n -= 10;
    out.n = 0;
    bind_resp(&out, 3, 14, NULL, &tok, 0);
    f = feeder_new();
    feedb(f, 1, &out);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    CHECK(count(PW_EV_MALFORMED) >= 1);
    feeder_free(f);

    /* every prefix of a full exchange, and every single-byte corruption */
    static buf c2s, s2c;
    c2s.n = s2c.n = 0;
    ntlm_negotiate(&tok);
    sasl_auth(&auth, "GSS-SPNEGO", &tok, 4);
    bind_req(&c2s, 1, "", &auth, 4);
    ntlm_authenticate(&tok);
    sasl_auth(&auth, "GSS-SPNEGO", &tok, 0);
    bind_req(&c2s, 2, "", &auth, 0);
    ntlm_challenge(&tok, "DC01", "dc01.corp.example");
    bind_resp(&s2c, 1, 14, NULL, &tok, 4);
    bind_resp(&s2c, 2, 0, NULL, NULL, 0);
    int challenges = 0;
    for (size_t cut = 0; cut <= s2c.n; cut++) {
        f = feeder_new();
        feed(f, 0, c2s.b, cut < c2s.n ? cut : c2s.n);
        feed(f, 1, s2c.b, cut);
        challenges += count_challenges();
        CHECK_INT(count(PW_EV_MALFORMED), 0);
        feeder_free(f);
    }
    /* the challenge is seen exactly when the whole first response is there */
    size_t first = s2c.n - 14;
    CHECK_INT(challenges, (int)(s2c.n - first + 1));
    feed_corruptions(&c2s, 7, &s2c);
    CHECK_INT(contract_violations, 0);
}

int main(void)
{
    flow.proto = 6;
    flow.server_port = 389;
    flow.client_port = 50000;
    test_sasl_gss_spnego();
    test_sasl_ntlm_and_spnego();
    test_sicily();
    test_skip_and_limits();
    test_malformed();
    CHECK_DONE();
}
