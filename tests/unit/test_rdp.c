/* test_rdp.c - RDP X.224 negotiation and the TLS handshake that follows,
 * on bytes built here with certificates generated for this test. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/dissector.h"
#include "check.h"

#include "test_certs.h"
#include "tls_build.h"
#include "stream_harness.h"

/* TPKT + X.224 Connection Request with a cookie and RDP_NEG_REQ. */
static void rdp_cr(buf *b, const char *cookie, bool neg, uint32_t requested)
{
    put8(b, 3);
    put8(b, 0);
    size_t m = open_(b, 2);
    size_t li = b->n;
    put8(b, 0);    /* LI, patched below */
    put8(b, 0xE0); /* CR */
    put16(b, 0);
    put16(b, 0);
    put8(b, 0);
    if (cookie) {
        puts_(b, "Cookie: mstshash=");
        puts_(b, cookie);
        puts_(b, "\r\n");
    }
    if (neg) {
        put8(b, 1);
        put8(b, 0);
        put8(b, 8);
        put8(b, 0);
        put8(b, requested & 0xff);
        put8(b, (requested >> 8) & 0xff);
        put8(b, (requested >> 16) & 0xff);
        put8(b, requested >> 24);
    }
    close_(b, m, 2);
    b->b[m + 1] = (uint8_t)(b->b[m + 1] + 4); /* TPKT length counts its own header */
    b->b[li] = (uint8_t)(b->n - li - 1);
}

/* Connection Confirm with RDP_NEG_RSP (type 2) or RDP_NEG_FAILURE (type 3). */
static void rdp_cc(buf *b, int type, uint32_t value)
{
    put8(b, 3);
    put8(b, 0);
    size_t m = open_(b, 2);
    size_t li = b->n;
    put8(b, 0);
    put8(b, 0xD0);
    put16(b, 0);
    put16(b, 0x1234);
    put8(b, 0);
    if (type) {
        put8(b, (unsigned)type);
        put8(b, 0x1f);
        put8(b, 8);
        put8(b, 0);
        put8(b, value & 0xff);
        put8(b, (value >> 8) & 0xff);
        put8(b, (value >> 16) & 0xff);
        put8(b, value >> 24);
    }
    close_(b, m, 2);
    b->b[m + 1] = (uint8_t)(b->b[m + 1] + 4); /* TPKT length counts its own header */
    b->b[li] = (uint8_t)(b->n - li - 1);
}

static void test_rdp_ssl(void)
{
    static buf cr, cc, ch, chr, hs, srv;
    cr.n = cc.n = ch.n = chr.n = hs.n = srv.n = 0;
    rdp_cr(&cr, "alice", true, 0x0000000b);
    rdp_cc(&cc, 2, 1); /* PROTOCOL_SSL */
    client_hello(&ch, NULL, NULL, false);
    records(&chr, 22, ch.b, ch.n, 16384);
    server_hello(&hs, 0xc030, NULL, false);
    certificate_msg(&hs, ss_der, sizeof ss_der, NULL, 0);
    server_hello_done(&hs);
    records(&srv, 22, hs.b, hs.n, 300); /* the certificate crosses records */

    feeder *f = feeder_new(&pw_dissector_rdp, 3389);
    feed_steps(f, 0, cr.b, cr.n, 7);
    const pw_event *e = find(&f->sink, PW_EV_RDP, PW_RDP_CONNECTION_REQUEST, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.rdp.cookie, "alice");
        CHECK(e->u.rdp.has_neg);
        CHECK_INT(e->u.rdp.requested_protocols, 0x0b);
        CHECK_INT(e->dir, 0);
    }
    const pw_event *app = find(&f->sink, PW_EV_APP, 0, 0);
    CHECK(app != NULL);
    if (app)
        CHECK_STR(app->u.app, "rdp");
    feed(f, 1, cc.b, cc.n);
    e = find(&f->sink, PW_EV_RDP, PW_RDP_CONNECTION_CONFIRM, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK(e->u.rdp.has_neg);
        CHECK(!e->u.rdp.failure);
        CHECK_INT(e->u.rdp.selected_protocol, 1);
        CHECK_INT(e->dir, 1);
    }
    CHECK(!f->done);
    feed_steps(f, 0, chr.b, chr.n, 50);
    feed_steps(f, 1, srv.b, srv.n, 120);
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_CLIENT_HELLO, 0) != NULL);
    e = find(&f->sink, PW_EV_TLS, PW_TLS_SERVER_HELLO, 0);
    CHECK(e != NULL);
    if (e)
        CHECK_INT(e->u.tls.cipher, 0xc030);
    e = find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.tls.subject_cn, "WS042.contoso.local");
        CHECK(e->u.tls.self_signed);
        CHECK_INT(e->u.tls.n_san, 1);
        CHECK_STR(e->u.tls.san[0], "WS042.contoso.local");
        CHECK_INT(e->flow.server_port, 3389);
        CHECK_INT(e->dir, 1);
    }
    /* the only app is rdp: the embedded TLS does not relabel the flow */
    CHECK_INT(count(&f->sink, PW_EV_APP), 1);
    CHECK(f->done);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);
}

/* CR without cookie, CC with HYBRID and the ServerHello in the same segment. */
static void test_rdp_hybrid_same_segment(void)
{
    static buf cr, srv, hs;
    cr.n = srv.n = hs.n = 0;
    rdp_cr(&cr, NULL, true, 3);
    rdp_cc(&srv, 2, 2);
    server_hello(&hs, 0x1302, NULL, true);
    records(&srv, 22, hs.b, hs.n, 16384);
    feeder *f = feeder_new(&pw_dissector_rdp, 3389);
    feed(f, 0, cr.b, cr.n);
    const pw_event *e = find(&f->sink, PW_EV_RDP, PW_RDP_CONNECTION_REQUEST, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.rdp.cookie, "");
        CHECK_INT(e->u.rdp.requested_protocols, 3);
    }
    feed(f, 1, srv.b, srv.n);
    e = find(&f->sink, PW_EV_RDP, PW_RDP_CONNECTION_CONFIRM, 0);
    CHECK(e != NULL);
    if (e)
        CHECK_INT(e->u.rdp.selected_protocol, 2);
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_CERT_HIDDEN, 0) != NULL);
    CHECK(f->done);
    feeder_free(f);
}

static void test_rdp_failure_and_standard(void)
{
    static buf cr, cc;
    cr.n = cc.n = 0;
    rdp_cr(&cr, "bob", true, 3);
    rdp_cc(&cc, 3, 5); /* HYBRID_REQUIRED_BY_SERVER */
    feeder *f = feeder_new(&pw_dissector_rdp, 3389);
    feed(f, 0, cr.b, cr.n);
    feed(f, 1, cc.b, cc.n);
    const pw_event *e = find(&f->sink, PW_EV_RDP, PW_RDP_CONNECTION_CONFIRM, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK(e->u.rdp.has_neg);
        CHECK(e->u.rdp.failure);
        CHECK_INT(e->u.rdp.failure_code, 5);
    }
    CHECK(f->done);
    feeder_free(f);

    /* standard RDP security: a confirm without negotiation data */
    cr.n = cc.n = 0;
    rdp_cr(&cr, "carol", false, 0);
    rdp_cc(&cc, 0, 0);
    f = feeder_new(&pw_dissector_rdp, 3389);
    feed(f, 0, cr.b, cr.n);
    e = find(&f->sink, PW_EV_RDP, PW_RDP_CONNECTION_REQUEST, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.rdp.cookie, "carol");
        CHECK(!e->u.rdp.has_neg);
    }
    feed(f, 1, cc.b, cc.n);
    e = find(&f->sink, PW_EV_RDP, PW_RDP_CONNECTION_CONFIRM, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK(!e->u.rdp.has_neg);
        CHECK_INT(e->u.rdp.selected_protocol, 0);
    }
    CHECK(f->done);
    feeder_free(f);

    /* RDP_NEG_RSP selecting standard security (0) */
    cr.n = cc.n = 0;
    rdp_cr(&cr, "dave", true, 0);
    rdp_cc(&cc, 2, 0);
    f = feeder_new(&pw_dissector_rdp, 3389);
    feed(f, 0, cr.b, cr.n);
    feed(f, 1, cc.b, cc.n);
    e = find(&f->sink, PW_EV_RDP, PW_RDP_CONNECTION_CONFIRM, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK(e->u.rdp.has_neg);
        CHECK_INT(e->u.rdp.selected_protocol, 0);
    }
    CHECK(f->done);
    feeder_free(f);
}

static void test_rdp_malformed(void)
{
    static const uint8_t junk[] = {0x16, 0x03, 0x01, 0x00, 0x10, 1, 2, 3};
    feeder *f = feeder_new(&pw_dissector_rdp, 3389);
    feed(f, 0, junk, sizeof junk);
    CHECK_INT(f->sink.malformed, 1);
    CHECK(f->done);
    feeder_free(f);

    /* unterminated cookie */
    static buf cr;
    cr.n = 0;
    rdp_cr(&cr, "eve", false, 0);
    cr.n -= 2;
    cr.b[3] = (uint8_t)cr.n;
    cr.b[4] = (uint8_t)(cr.n - 5);
    f = feeder_new(&pw_dissector_rdp, 3389);
    feed(f, 0, cr.b, cr.n);
    CHECK_INT(f->sink.malformed, 1);
    feeder_free(f);

    /* every prefix and every corrupted byte of a full exchange */
    static buf all[2], hs;
    all[0].n = all[1].n = hs.n = 0;
    rdp_cr(&all[0], "alice", true, 1);
    rdp_cc(&all[1], 2, 1);
    client_hello(&hs, "x", NULL, false);
    records(&all[0], 22, hs.b, hs.n, 16384);
    hs.n = 0;
    server_hello(&hs, 0xc030, NULL, false);
    certificate_msg(&hs, leaf_der, sizeof leaf_der, ca_der, sizeof ca_der);
    server_hello_done(&hs);
    records(&all[1], 22, hs.b, hs.n, 200);
    for (size_t cut = 0; cut <= all[1].n; cut++) {
        f = feeder_new(&pw_dissector_rdp, 3389);
        feed(f, 0, all[0].b, cut < all[0].n ? cut : all[0].n);
        feed(f, 1, all[1].b, cut);
        feeder_free(f);
    }
    static buf mut;
    for (size_t i = 0; i < all[1].n; i++) {
        mut = all[1];
        mut.b[i] ^= 0x5a;
        f = feeder_new(&pw_dissector_rdp, 3389);
        feed(f, 0, all[0].b, all[0].n);
        feed_steps(f, 1, mut.b, mut.n, 97);
        feeder_free(f);
    }
    CHECK(pw_dissector_for_port(6, 3389) == &pw_dissector_rdp);
}

int main(void)
{
    test_rdp_ssl();
    test_rdp_hybrid_same_segment();
    test_rdp_failure_and_standard();
    test_rdp_malformed();
    CHECK_DONE();
}
