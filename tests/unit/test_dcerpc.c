/* test_dcerpc.c - DCE/RPC connection-oriented PDUs, the endpoint mapper's
 * towers and NTLMSSP in auth verifiers, on hand-built byte arrays. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/dissector.h"
#include "../../dissectors/ntlmssp.h"
#include "check.h"

#define NTLM_BUF_SIZE 8192
#include "ntlm_build.h"

#define FEED_DISSECTOR pw_dissector_dcerpc
#define FEED_PEND 70000
#define FEED_STOP_WHEN_DONE 0
#define FEED_FIRST_FRAME 100
#define FEED_FRAME_STEP 1
#include "feed_harness.h"

#include "rpc_build.h"

/* ---- tests ---- */

static void test_bind_ntlm_to_epm(void)
{
    buf tok, b = {.n = 0};
    ntlm_negotiate_ver(&tok);
    ctxdef c[] = {{0, EPM, 3, NDR}};
    bind_pdu(&b, 11, 2, c, 1, &tok, 10);
    feeder *f = feeder_new();
    feed(f, 0, b.b, b.n);
    CHECK_INT(f->plen[0], 0);
    CHECK_INT(count(PW_EV_APP), 1);
    CHECK_STR(NTH(PW_EV_APP, 0)->u.app, "dcerpc");
    CHECK_INT(count(PW_EV_DCERPC), 1);
    const pw_ev_dcerpc *d = &NTH(PW_EV_DCERPC, 0)->u.dcerpc;
    CHECK_INT(d->ptype, PW_DCERPC_BIND);
    CHECK_INT(d->call_id, 2);
    CHECK_INT(d->frag_len, b.n);
    CHECK_STR(d->iface, EPM);
    CHECK_INT(d->iface_ver, 3);
    CHECK(d->iface_is_epm);
    CHECK_INT(d->auth_type, PW_AUTHN_WINNT);
    CHECK_INT(d->auth_level, 2);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    CHECK_INT(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.msg_type, PW_NTLM_NEGOTIATE);
    CHECK_INT(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.flags, 0xe2088297u);
    CHECK_INT(NTH(PW_EV_NTLMSSP, 0)->dir, 0);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    CHECK(!f->done);

    /* The bind_ack with the CHALLENGE: every AV pair, a non-ASCII name. */
    buf ack = {.n = 0};
    ntlm_challenge_ver(&tok, "SRV\xc3\x84\xe2\x82\xac", "srv\xc3\xa4.corp.example.com");
    resdef r[] = {{0, 0, NDR}};
    ack_pdu(&ack, 12, 2, "135", r, 1, &tok, 10);
    nev = 0;
    feed(f, 1, ack.b, ack.n);
    CHECK_INT(count(PW_EV_APP), 0);
    d = &NTH(PW_EV_DCERPC, 0)->u.dcerpc;
    CHECK_INT(d->ptype, PW_DCERPC_BIND_ACK);
    CHECK_INT(d->call_id, 2);
    CHECK_INT(d->ack_result, 0);
    CHECK_STR(d->sec_addr, "135");
    CHECK_STR(d->iface, "");
    CHECK_INT(d->auth_type, 10);
    const pw_ev_ntlmssp *n = &NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp;
    CHECK_INT(NTH(PW_EV_NTLMSSP, 0)->dir, 1);
    CHECK_INT(n->msg_type, PW_NTLM_CHALLENGE);
    CHECK_INT(n->flags, 0xe28a8215u);
    CHECK_STR(n->target_name, "CORP");
    CHECK_STR(n->nb_computer, "SRV\xc3\x84\xe2\x82\xac");
    CHECK_STR(n->nb_domain, "CORP");
    CHECK_STR(n->dns_computer, "srv\xc3\xa4.corp.example.com");
    CHECK_STR(n->dns_domain, "corp.example.com");
    CHECK_STR(n->dns_tree, "example.com");
    CHECK(n->has_timestamp);
    CHECK(n->timestamp == TS_VALUE);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    feeder_free(f);
}

static void test_spnego_alter_context(void)
{
    buf tok, sp, b = {.n = 0};
    ntlm_challenge_ver(&tok, "DC01", "dc01.corp.example.com");
    spnego_wrap(&sp, &tok);
    resdef r[] = {{0, 0, NDR}};
    ack_pdu(&b, 15, 7, "", r, 1, &sp, 9);
    feeder *f = feeder_new();
    feed(f, 1, b.b, b.n);
    const pw_ev_dcerpc *d = &NTH(PW_EV_DCERPC, 0)->u.dcerpc;
    CHECK_INT(d->ptype, PW_DCERPC_ALTER_CONTEXT_RESP);
    CHECK_STR(d->sec_addr, "");
    CHECK_INT(d->auth_type, PW_AUTHN_SPNEGO);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.nb_computer, "DC01");
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.dns_computer, "dc01.corp.example.com");

    /* alter_context (14) with an interface. */
    buf a = {.n = 0};
    ctxdef c[] = {{1, LSARPC, 0, NDR}};
    bind_pdu(&a, 14, 8, c, 1, NULL, 0);
    nev = 0;
    feed(f, 0, a.b, a.n);
    d = &NTH(PW_EV_DCERPC, 0)->u.dcerpc;
    CHECK_INT(d->ptype, PW_DCERPC_ALTER_CONTEXT);
    CHECK_STR(d->iface, LSARPC);
    CHECK(!d->iface_is_epm);
    CHECK_INT(d->auth_type, 0);

    /* auth3 (16) carrying the AUTHENTICATE-less token: event, no NTLMSSP. */
    buf a3 = {.n = 0}, junk = {.n = 0};
    putn(&junk, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    size_t s = pdu_start(&a3, 16, 3, 9);
    put32(&a3, 0);
    pdu_end(&a3, s, &junk, 10, 2);
    nev = 0;
    feed(f, 0, a3.b, a3.n);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.ptype, PW_DCERPC_AUTH3);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.auth_type, 10);
    CHECK_INT(count(PW_EV_NTLMSSP), 0);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    feeder_free(f);
}

static void test_nak_and_fault(void)
{
    buf b = {.n = 0};
    size_t s = pdu_start(&b, 13, 3, 4);
    put16(&b, 4); /* proposed transfer syntaxes not supported */
    put8(&b, 1), put8(&b, 5), put8(&b, 0);
    pdu_end(&b, s, NULL, 0, 0);
    feeder *f = feeder_new();
    feed(f, 1, b.b, b.n);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.ptype, PW_DCERPC_BIND_NAK);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.reject_reason, 4);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.call_id, 4);

    b.n = 0;
    s = pdu_start(&b, 3, 3, 5);
    put32(&b, 0), put16(&b, 0), put8(&b, 0), put8(&b, 0);
    put32(&b, 0x1c010003); /* nca_s_unk_if */
    put32(&b, 0);
    pdu_end(&b, s, NULL, 0, 0);
    nev = 0;
    feed(f, 1, b.b, b.n);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.ptype, PW_DCERPC_FAULT);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.status, 0x1c010003);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.call_id, 5);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    feeder_free(f);
}

static const uint8_t ip5[4] = {10, 0, 0, 5};

static void epm_session(bool n64)
{
    feeder *f = feeder_new();
    buf b = {.n = 0}, t1, t2, stub;
    if (n64) {
        /* Windows style: NDR rejected, NDR64 accepted, bind time features. */
        ctxdef c[] = {{0, EPM, 3, NDR}, {1, EPM, 3, NDR64}, {2, EPM, 3, BTFN}};
        bind_pdu(&b, 11, 2, c, 3, NULL, 0);
        feed(f, 0, b.b, b.n);
        resdef r[] = {{2, 2, NULL}, {0, 0, NDR64}, {3, 3, NULL}};
        b.n = 0;
        ack_pdu(&b, 12, 2, "135", r, 3, NULL, 0);
    } else {
        ctxdef c[] = {{0, EPM, 3, NDR}};
        bind_pdu(&b, 11, 2, c, 1, NULL, 0);
        feed(f, 0, b.b, b.n);
        resdef r[] = {{0, 0, NDR}};
        b.n = 0;
        ack_pdu(&b, 12, 2, "135", r, 1, NULL, 0);
    }
    feed(f, 1, b.b, b.n);
    CHECK_INT(NTH(PW_EV_DCERPC, 1)->u.dcerpc.ack_result, 0);
    uint16_t cid = n64 ? 1 : 0;

    tower(&t1, NETLOGON, 0x07, 0, (const uint8_t[]){0, 0, 0, 0});
    b.n = 0;
    if (n64) {
        request_pdu(&b, 3, cid, 3, NULL); /* stub omitted: fine */
    } else {
        ept_map_request(&stub, &t1);
        request_pdu(&b, 3, cid, 3, &stub);
    }
    nev = 0;
    feed(f, 0, b.b, b.n);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.ptype, PW_DCERPC_REQUEST);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.opnum, 3);

    tower(&t1, NETLOGON, 0x07, 49667, ip5);
    tower(&t2, "00000000-0000-0000-0000-000000000000", 0x08, 49668, ip5);
    ept_map_response(&stub, n64, &t1, &t2);
    b.n = 0;
    response_pdu(&b, 3, cid, &stub);
    nev = 0;
    feed(f, 1, b.b, b.n);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.ptype, PW_DCERPC_RESPONSE);
    CHECK_INT(count(PW_EV_EPM_PORT), 2);
    const pw_ev_epm_port *e = &NTH(PW_EV_EPM_PORT, 0)->u.epm;
    char a[PW_ADDR_STRLEN];
    CHECK_INT(e->proto, 6);
    CHECK_INT(e->port, 49667);
    CHECK(e->has_addr);
    CHECK_STR(pw_addr_str(&e->addr, a, sizeof a), "10.0.0.5");
    CHECK_STR(e->iface, NETLOGON);
    CHECK_INT(e->opnum, 3);
    e = &NTH(PW_EV_EPM_PORT, 1)->u.epm;
    CHECK_INT(e->proto, 17);
    CHECK_INT(e->port, 49668);
    CHECK(e->has_addr);
    CHECK_STR(pw_addr_str(&e->addr, a, sizeof a), "10.0.0.5");
    CHECK_STR(e->iface, "00000000-0000-0000-0000-000000000000");

    /* The call is answered: a second response with that call id is not EPM. */
    nev = 0;
    feed(f, 1, b.b, b.n);
    CHECK_INT(count(PW_EV_EPM_PORT), 0);
    CHECK_INT(count(PW_EV_DCERPC), 1);
    feeder_free(f);
}

static void test_epm(void)
{
    epm_session(false);
    epm_session(true);
}

static void test_ept_lookup(void)
{
    feeder *f = feeder_new();
    buf b = {.n = 0}, t, stub = {.n = 0};
    ctxdef c[] = {{0, EPM, 3, NDR}};
    bind_pdu(&b, 11, 1, c, 1, NULL, 0);
    feed(f, 0, b.b, b.n);
    resdef r[] = {{0, 0, NDR}};
    b.n = 0;
    ack_pdu(&b, 12, 1, "135", r, 1, NULL, 0);
    feed(f, 1, b.b, b.n);
    b.n = 0;
    buf q = {.n = 0};
    put32(&q, 0), put32(&q, 0), put32(&q, 0), put32(&q, 1), zeros(&q, 20), put32(&q, 500);
    request_pdu(&b, 2, 0, 2, &q);
    feed(f, 0, b.b, b.n);

    tower(&t, LSARPC, 0x07, 49670, ip5);
    zeros(&stub, 20);
    put32(&stub, 2);                       /* num_ents */
    put32(&stub, 2), put32(&stub, 0), put32(&stub, 2); /* max, offset, actual */
    zeros(&stub, 16), put32(&stub, 1), put32(&stub, 0), put32(&stub, 6), putn(&stub, "LSA  \0", 6);
    align(&stub, 0, 4);
    zeros(&stub, 16), put32(&stub, 0), put32(&stub, 0), put32(&stub, 1), put8(&stub, 0); /* null tower */
    align(&stub, 0, 4);
    put_twr(&stub, false, &t);
    align(&stub, 0, 4);
    put32(&stub, 0);
    b.n = 0;
    response_pdu(&b, 2, 0, &stub);
    nev = 0;
    feed(f, 1, b.b, b.n);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    CHECK_INT(count(PW_EV_EPM_PORT), 1);
    CHECK_INT(NTH(PW_EV_EPM_PORT, 0)->u.epm.port, 49670);
    CHECK_INT(NTH(PW_EV_EPM_PORT, 0)->u.epm.opnum, 2);
    CHECK_STR(NTH(PW_EV_EPM_PORT, 0)->u.epm.iface, LSARPC);
    feeder_free(f);
}

/* A bind_ack + CHALLENGE split across three stream() calls, then two PDUs
 * in one call. */
static void test_framing(void)
{
    buf tok, ack = {.n = 0}, two = {.n = 0};
    ntlm_challenge_ver(&tok, "SRV01", "srv01.corp.example.com");
    resdef r[] = {{0, 0, NDR}};
    ack_pdu(&ack, 12, 1, "49667", r, 1, &tok, 10);
    feeder *f = feeder_new();
    size_t c1 = 10, c2 = ack.n / 2;
    feed(f, 1, ack.b, c1);
    CHECK_INT(nev, 0);
    feed(f, 1, ack.b + c1, c2 - c1);
    CHECK_INT(count(PW_EV_DCERPC), 0);
    CHECK_INT(count(PW_EV_NTLMSSP), 0);
    feed(f, 1, ack.b + c2, ack.n - c2);
    CHECK_INT(count(PW_EV_DCERPC), 1);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    CHECK_STR(NTH(PW_EV_DCERPC, 0)->u.dcerpc.sec_addr, "49667");
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->frame, 102); /* the call that completed it */
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.nb_computer, "SRV01");
    CHECK_INT(f->plen[1], 0);

    /* Two PDUs (bind_ack again + fault) and half of a third in one call. */
    putn(&two, ack.b, ack.n);
    size_t s = pdu_start(&two, 3, 3, 5);
    put32(&two, 0), put32(&two, 0), put32(&two, 5), put32(&two, 0);
    pdu_end(&two, s, NULL, 0, 0);
    putn(&two, ack.b, 20);
    nev = 0;
    feed(f, 1, two.b, two.n);
    CHECK_INT(count(PW_EV_DCERPC), 2);
    CHECK_INT(NTH(PW_EV_DCERPC, 1)->u.dcerpc.status, 5);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    CHECK_INT(f->plen[1], 20);
    feed(f, 1, ack.b + 20, ack.n - 20);
    CHECK_INT(count(PW_EV_DCERPC), 3);
    CHECK_INT(f->plen[1], 0);
    feeder_free(f);
}

/* A big request on a non-EPM context is skipped as it streams past: the
 * dissector never waits for all of it. */
static void test_skip_large(void)
{
    feeder *f = feeder_new();
    static buf big;
    big.n = 0;
    buf stub = {.n = 0};
    zeros(&stub, 6000);
    request_pdu(&big, 9, 0, 7, &stub);
    feed(f, 0, big.b, 1000);
    CHECK_INT(f->plen[0], 0); /* consumed */
    CHECK_INT(count(PW_EV_DCERPC), 0); /* sent when the PDU is complete */
    feed(f, 0, big.b + 1000, 3000);
    CHECK_INT(count(PW_EV_DCERPC), 0);
    feed(f, 0, big.b + 4000, big.n - 4000);
    CHECK_INT(f->plen[0], 0);
    CHECK_INT(count(PW_EV_DCERPC), 1);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.opnum, 7);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.call_id, 9);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.frag_len, big.n);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->frame, 102);
    /* then a bind follows and is seen. */
    buf b = {.n = 0};
    ctxdef c[] = {{0, EPM, 3, NDR}};
    bind_pdu(&b, 11, 10, c, 1, NULL, 0);
    feed(f, 0, b.b, b.n);
    CHECK_INT(count(PW_EV_DCERPC), 2);
    CHECK_INT(NTH(PW_EV_DCERPC, 1)->u.dcerpc.ptype, PW_DCERPC_BIND);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    feeder_free(f);
}

static void test_big_endian(void)
{
    buf b = {.n = 0};
    put8(&b, 5), put8(&b, 0), put8(&b, 11), put8(&b, 3);
    put32(&b, 0x00000000); /* drep: big-endian */
    put16be(&b, 0), put16be(&b, 0), put32be(&b, 77);
    put16be(&b, 4280), put16be(&b, 4280), put32be(&b, 0);
    put8(&b, 1), put8(&b, 0), put16(&b, 0);
    put16be(&b, 0), put8(&b, 1), put8(&b, 0);
    put_uuid_e(&b, EPM, true), put16be(&b, 3), put16be(&b, 0);
    put_uuid_e(&b, NDR, true), put32be(&b, 2);
    b.b[8] = (uint8_t)(b.n >> 8), b.b[9] = (uint8_t)b.n;
    CHECK(pw_dissector_dcerpc.probe(b.b, b.n));
    feeder *f = feeder_new();
    feed(f, 0, b.b, b.n);
    CHECK_INT(f->plen[0], 0);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.call_id, 77);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.frag_len, b.n);
    CHECK_STR(NTH(PW_EV_DCERPC, 0)->u.dcerpc.iface, EPM);
    CHECK(NTH(PW_EV_DCERPC, 0)->u.dcerpc.iface_is_epm);
    feeder_free(f);
}

static void test_malformed(void)
{
    /* Not DCE/RPC at all: malformed once, then done. */
    feeder *f = feeder_new();
    const char *http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    feed(f, 0, (const uint8_t *)http, strlen(http));
    CHECK(f->done);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    CHECK_INT(count(PW_EV_APP), 0);
    CHECK_INT(f->plen[0], 0);
    feeder_free(f);

    /* auth_length larger than the PDU. */
    buf tok, b = {.n = 0};
    ntlm_negotiate_ver(&tok);
    ctxdef c[] = {{0, EPM, 3, NDR}};
    bind_pdu(&b, 11, 2, c, 1, &tok, 10);
    set16(&b, 10, 4000);
    f = feeder_new();
    feed(f, 0, b.b, b.n);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    CHECK_INT(count(PW_EV_NTLMSSP), 0);
    CHECK_INT(count(PW_EV_DCERPC), 1);
    feeder_free(f);

    /* frag_length shorter than the bind's contents. */
    b.n = 0;
    bind_pdu(&b, 11, 2, c, 1, NULL, 0);
    set16(&b, 8, 40);
    f = feeder_new();
    feed(f, 0, b.b, 40);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    CHECK_INT(count(PW_EV_DCERPC), 0);
    feeder_free(f);

    /* A tower floor overrunning the tower. */
    f = feeder_new();
    b.n = 0;
    bind_pdu(&b, 11, 1, c, 1, NULL, 0);
    feed(f, 0, b.b, b.n);
    resdef r[] = {{0, 0, NDR}};
    b.n = 0;
    ack_pdu(&b, 12, 1, "135", r, 1, NULL, 0);
    feed(f, 1, b.b, b.n);
    b.n = 0;
    request_pdu(&b, 3, 0, 3, NULL);
    feed(f, 0, b.b, b.n);
    buf t1, t2, stub;
    tower(&t1, NETLOGON, 0x07, 49667, ip5);
    tower(&t2, NETLOGON, 0x07, 49668, ip5);
    set16(&t2, 2, 200); /* first floor's lhs_len */
    ept_map_response(&stub, false, &t1, &t2);
    b.n = 0;
    response_pdu(&b, 3, 0, &stub);
    nev = 0;
    feed(f, 1, b.b, b.n);
    CHECK_INT(count(PW_EV_EPM_PORT), 1);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    feeder_free(f);
}

/* Every prefix of a valid exchange, fed on fresh state, and every 1-byte
 * split: no crash, consumed never exceeds what was given. */
static void test_truncation(void)
{
    buf tok, ack = {.n = 0};
    ntlm_challenge_ver(&tok, "SRV01", "srv01.corp.example.com");
    resdef r[] = {{0, 0, NDR}};
    ack_pdu(&ack, 12, 1, "135", r, 1, &tok, 10);
    int events_before_full = 0;
    for (size_t len = 0; len < ack.n; len++) {
        feeder *f = feeder_new();
        feed(f, 1, ack.b, len);
        events_before_full += count(PW_EV_DCERPC) + count(PW_EV_NTLMSSP);
        feeder_free(f);
    }
    CHECK_INT(events_before_full, 0);

    /* A truncated PDU declared complete (frag_length cut): parsed as much as is there. */
    int crashes = 0;
    for (size_t len = 16; len < ack.n; len++) {
        buf cut = ack;
        cut.n = len;
        set16(&cut, 8, (uint16_t)len);
        feeder *f = feeder_new();
        feed(f, 1, cut.b, cut.n);
        crashes += f->plen[1] != 0;
        feeder_free(f);
    }
    CHECK_INT(crashes, 0);

    /* Byte at a time. */
    feeder *f = feeder_new();
    for (size_t i = 0; i < ack.n; i++)
        feed(f, 1, ack.b + i, 1);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.dns_computer, "srv01.corp.example.com");
    feeder_free(f);
}

/* Unanswered binds do not fill the context table for good; a complete
 * request with an auth verifier reports its type and level. */
static void test_ctx_table_and_auth(void)
{
    feeder *f = feeder_new();
    buf b = {.n = 0};
    ctxdef junk[] = {{0, LSARPC, 0, NDR}, {1, LSARPC, 0, NDR64}, {2, LSARPC, 0, BTFN}};
    for (uint32_t call = 1; call <= 4; call++) {
        b.n = 0;
        bind_pdu(&b, 11, call, junk, 3, NULL, 0);
        feed(f, 0, b.b, b.n);
    }
    ctxdef c[] = {{5, EPM, 3, NDR}};
    b.n = 0;
    bind_pdu(&b, 11, 9, c, 1, NULL, 0);
    feed(f, 0, b.b, b.n);
    resdef r[] = {{0, 0, NDR}};
    b.n = 0;
    ack_pdu(&b, 12, 9, "135", r, 1, NULL, 0);
    feed(f, 1, b.b, b.n);
    buf t1, t2, stub;
    tower(&t1, NETLOGON, 0x07, 49667, ip5);
    tower(&t2, NETLOGON, 0x07, 49668, ip5);
    ept_map_request(&stub, &t1);
    b.n = 0;
    request_pdu(&b, 10, 5, 3, &stub);
    feed(f, 0, b.b, b.n);
    ept_map_response(&stub, false, &t1, &t2);
    b.n = 0;
    response_pdu(&b, 10, 5, &stub);
    nev = 0;
    feed(f, 1, b.b, b.n);
    CHECK_INT(count(PW_EV_EPM_PORT), 2);
    CHECK_INT(NTH(PW_EV_EPM_PORT, 1)->u.epm.port, 49668);

    /* Signed request (auth level 5, NTLMSSP verifier of 16 bytes). */
    buf sigv = {.n = 0};
    put32(&sigv, 1), put64(&sigv, 0x1122334455667788ull), put32(&sigv, 0);
    buf q = {.n = 0};
    zeros(&q, 32);
    b.n = 0;
    size_t s = pdu_start(&b, 0, 3, 11);
    put32(&b, 32), put16(&b, 5), put16(&b, 4);
    putn(&b, q.b, q.n);
    size_t before = b.n;
    pdu_end(&b, s, &sigv, 10, 5);
    CHECK(b.n > before);
    nev = 0;
    feed(f, 0, b.b, b.n);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.opnum, 4);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.auth_type, 10);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->u.dcerpc.auth_level, 5);
    CHECK_INT(count(PW_EV_NTLMSSP), 0);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    feeder_free(f);
}

static void test_limits_and_probe(void)
{
    feeder *f = feeder_new();
    buf b = {.n = 0};
    size_t s = pdu_start(&b, 3, 3, 1);
    put32(&b, 0), put32(&b, 0), put32(&b, 0), put32(&b, 0);
    pdu_end(&b, s, NULL, 0, 0);
    for (int i = 0; i < 63; i++)
        feed(f, 1, b.b, b.n);
    CHECK(!f->done);
    feed(f, 1, b.b, b.n);
    CHECK(f->done);
    feeder_free(f);

    buf tok, bind = {.n = 0};
    ntlm_negotiate_ver(&tok);
    ctxdef c[] = {{0, EPM, 3, NDR}};
    bind_pdu(&bind, 11, 2, c, 1, &tok, 10);
    CHECK(pw_dissector_dcerpc.probe(bind.b, bind.n));
    CHECK(pw_dissector_dcerpc.probe(bind.b, 12));
    CHECK(!pw_dissector_dcerpc.probe(bind.b, 9));
    CHECK(!pw_dissector_dcerpc.probe((const uint8_t *)"GET / HTTP/1.1\r\n", 16));
    CHECK(!pw_dissector_dcerpc.probe(b.b, b.n)); /* a fault is not how a client starts */
    /* A request: the connection's bind happened before the capture. */
    buf rq = {.n = 0}, stub = {.n = 0};
    zeros(&stub, 40);
    request_pdu(&rq, 17, 1, 39, &stub);
    CHECK(pw_dissector_dcerpc.probe(rq.b, rq.n));
    rq.b[3] = 0x02; /* a middle fragment is not a start */
    CHECK(!pw_dissector_dcerpc.probe(rq.b, rq.n));
    bind.b[0] = 4;
    CHECK(!pw_dissector_dcerpc.probe(bind.b, bind.n));
    CHECK_INT(pw_dissector_dcerpc.ports[0], 135);
    CHECK(pw_dissector_dcerpc.transports == PW_DT_TCP);
    CHECK_STR(pw_dissector_dcerpc.name, "dcerpc");
}

int main(void)
{
    flow.proto = 6;
    flow.server_port = 135;
    flow.client_port = 50000;
    test_bind_ntlm_to_epm();
    test_spnego_alter_context();
    test_nak_and_fault();
    test_epm();
    test_ept_lookup();
    test_framing();
    test_skip_large();
    test_big_endian();
    test_malformed();
    test_truncation();
    test_ctx_table_and_auth();
    test_limits_and_probe();
    CHECK_INT(contract_violations, 0);
    CHECK_DONE();
}
