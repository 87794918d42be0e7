/* test_smb.c - SMB1/SMB2 session setup over NetBIOS session framing: the
 * NTLMSSP messages inside SPNEGO security blobs, on hand-built bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/dissector.h"
#include "check.h"

#define NTLM_BUF_SIZE 8192
#include "ntlm_build.h"

#define FEED_DISSECTOR pw_dissector_smb
#define FEED_PEND 200000
#define FEED_STOP_WHEN_DONE 0
#define FEED_FIRST_FRAME 1
#define FEED_FRAME_STEP 0
#include "feed_harness.h"

/* This test's names in the shared NTLMSSP builders. */
static void ntlm_challenge(buf *b, const char *nb, const char *dns)
{
    ntlm_challenge_in(b, "FILES", "files.example", nb, dns);
}
static void ntlm_authenticate(buf *b) { ntlm_authenticate_as(b, "FILES", "bob", "WKS9"); }

/* SPNEGO: negTokenInit (with the SPNEGO OID) for the first leg, negTokenResp after. */
static void spnego(buf *out, const buf *tok, bool init)
{
    out->n = 0;
    size_t L = tok->n;
    if (init) {
        static const uint8_t mech[] = {0xa0, 0x0e, 0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04,
                                       0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};
        size_t inner = sizeof mech + 4 + 4 + L;
        put8(out, 0x60), put8(out, 0x82), put16be(out, (uint16_t)(8 + 4 + 4 + inner));
        put8(out, 0x06), put8(out, 0x06), putn(out, "\x2b\x06\x01\x05\x05\x02", 6);
        put8(out, 0xa0), put8(out, 0x82), put16be(out, (uint16_t)(4 + inner));
        put8(out, 0x30), put8(out, 0x82), put16be(out, (uint16_t)inner);
        putn(out, mech, sizeof mech);
    } else {
        put8(out, 0xa1), put8(out, 0x82), put16be(out, (uint16_t)(L + 12));
        put8(out, 0x30), put8(out, 0x82), put16be(out, (uint16_t)(L + 8));
    }
    put8(out, 0xa2), put8(out, 0x82), put16be(out, (uint16_t)(L + 4));
    put8(out, 0x04), put8(out, 0x82), put16be(out, (uint16_t)L);
    putn(out, tok->b, tok->n);
}

/* NetBIOS session message around an SMB message. */
static void nbss(buf *out, const buf *msg)
{
    put8(out, 0), put8(out, (uint8_t)(msg->n >> 16)), put16be(out, (uint16_t)msg->n);
    putn(out, msg->b, msg->n);
}

static void smb2_hdr(buf *m, uint16_t cmd, bool resp, uint32_t status, uint64_t mid)
{
    putn(m, "\xfeSMB", 4), put16(m, 64), put16(m, 1), put32(m, status);
    put16(m, cmd), put16(m, 1), put32(m, resp ? 1 : 0), put32(m, 0);
    put64(m, mid), put32(m, 0xfeff), put32(m, 0), put64(m, 0x0000100000000011ull);
    zeros(m, 16);
}

static void smb2_setup(buf *out, bool resp, uint32_t status, const buf *blob)
{
    buf m = {.n = 0};
    smb2_hdr(&m, 1, resp, status, 2);
    if (resp) {
        put16(&m, 9), put16(&m, 0), put16(&m, 72), put16(&m, (uint16_t)(blob ? blob->n : 0));
    } else {
        put16(&m, 25), put8(&m, 0), put8(&m, 1), put32(&m, 1), put32(&m, 0);
        put16(&m, 88), put16(&m, (uint16_t)(blob ? blob->n : 0)), put64(&m, 0);
    }
    if (blob)
        putn(&m, blob->b, blob->n);
    nbss(out, &m);
}

static void smb1_setup(buf *out, bool resp, uint32_t status, const buf *blob)
{
    buf m = {.n = 0};
    putn(&m, "\xffSMB", 4), put8(&m, 0x73), put32(&m, status);
    put8(&m, resp ? 0x98 : 0x18), put16(&m, 0xc807);
    zeros(&m, 12), put16(&m, 0), put16(&m, 0xfeff), put16(&m, 0x0800), put16(&m, 2);
    if (resp) {
        put8(&m, 4), put8(&m, 0xff), put8(&m, 0), put16(&m, 0), put16(&m, 0), put16(&m, (uint16_t)blob->n);
    } else {
        put8(&m, 12), put8(&m, 0xff), put8(&m, 0), put16(&m, 0), put16(&m, 16644), put16(&m, 50), put16(&m, 0),
            put32(&m, 0), put16(&m, (uint16_t)blob->n), put32(&m, 0), put32(&m, 0x8000e3fc);
    }
    put16(&m, (uint16_t)(blob->n + 6));
    putn(&m, blob->b, blob->n);
    putn(&m, "U\0n\0x\0", 6); /* native OS */
    nbss(out, &m);
}

#define STATUS_MORE 0xc0000016u

static void test_smb2(void)
{
    feeder *f = feeder_new();
    buf m = {.n = 0}, neg = {.n = 0}, tok, sp, out;
    /* NEGOTIATE request: framed, recognised, nothing else. */
    smb2_hdr(&m, 0, false, 0, 0);
    put16(&m, 36), put16(&m, 1), zeros(&m, 32), put16(&m, 0x0311);
    nbss(&neg, &m);
    feedb(f, 0, &neg);
    CHECK_INT(count(PW_EV_APP), 1);
    CHECK_STR(NTH(PW_EV_APP, 0)->u.app, "smb");
    CHECK_INT(count(PW_EV_NTLMSSP), 0);

    ntlm_negotiate(&tok);
    spnego(&sp, &tok, true);
    out.n = 0;
    smb2_setup(&out, false, 0, &sp);
    feedb(f, 0, &out);
    CHECK_INT(count(PW_EV_APP), 1);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    CHECK_INT(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.msg_type, 1);

    ntlm_challenge(&tok, "FS01", "fs01.files.example");
    spnego(&sp, &tok, false);
    out.n = 0;
    smb2_setup(&out, true, STATUS_MORE, &sp);
    nev = 0;
    feedb(f, 1, &out);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    const pw_ev_ntlmssp *n = &NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp;
    CHECK_INT(n->msg_type, PW_NTLM_CHALLENGE);
    CHECK_STR(n->target_name, "FILES");
    CHECK_STR(n->nb_computer, "FS01");
    CHECK_STR(n->nb_domain, "FILES");
    CHECK_STR(n->dns_computer, "fs01.files.example");
    CHECK_STR(n->dns_domain, "files.example");
    CHECK_INT(NTH(PW_EV_NTLMSSP, 0)->dir, 1);
    CHECK(!f->done);

    ntlm_authenticate(&tok);
    spnego(&sp, &tok, false);
    out.n = 0;
    smb2_setup(&out, false, 0, &sp);
    nev = 0;
    feedb(f, 0, &out);
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.user, "bob");
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.domain, "FILES");
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.workstation, "WKS9");
    CHECK(!f->done);

    /* Final success response (no blob): nothing to report, and the stream
     * is still followed (named pipes come after the session setup). */
    out.n = 0;
    smb2_setup(&out, true, 0, NULL);
    nev = 0;
    feedb(f, 1, &out);
    CHECK_INT(nev, 0);
    CHECK(!f->done);
    feeder_free(f);
}

static void test_smb2_framing(void)
{
    /* Keepalive, a challenge split in three, and a large READ response skipped. */
    feeder *f = feeder_new();
    buf tok, sp, out = {.n = 0};
    put8(&out, 0x85), put8(&out, 0), put16be(&out, 0);
    ntlm_challenge(&tok, "FS02", "fs02.files.example");
    spnego(&sp, &tok, false);
    smb2_setup(&out, true, STATUS_MORE, &sp);
    size_t a = 3, b = out.n / 2;
    feed(f, 1, out.b, a);
    feed(f, 1, out.b + a, b - a);
    CHECK_INT(count(PW_EV_NTLMSSP), 0);
    feed(f, 1, out.b + b, out.n - b);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.nb_computer, "FS02");
    CHECK_INT(f->plen[1], 0);

    /* 40 KB message declared; fed in pieces, never buffered. */
    static uint8_t big[40004];
    memset(big, 0, sizeof big);
    big[1] = (uint8_t)(40000 >> 16), big[2] = (uint8_t)(40000 >> 8), big[3] = (uint8_t)40000;
    memcpy(big + 4, "\xfeSMB", 4);
    big[8] = 64;
    big[16] = 8; /* READ */
    feed(f, 1, big, 5000);
    CHECK_INT(f->plen[1], 0);
    feed(f, 1, big + 5000, sizeof big - 5000);
    CHECK_INT(f->plen[1], 0);
    /* Two session setups in one call afterwards. */
    buf two = {.n = 0};
    ntlm_challenge(&tok, "FS03", "fs03.files.example");
    spnego(&sp, &tok, false);
    smb2_setup(&two, true, STATUS_MORE, &sp);
    smb2_setup(&two, true, STATUS_MORE, &sp);
    nev = 0;
    feedb(f, 1, &two);
    CHECK_INT(count(PW_EV_NTLMSSP), 2);
    CHECK_STR(NTH(PW_EV_NTLMSSP, 1)->u.ntlmssp.nb_computer, "FS03");
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    CHECK(!f->done);
    /* Past 1 MiB the flow is done. */
    for (int i = 0; i < 30 && !f->done; i++)
        feed(f, 1, big, sizeof big);
    CHECK(f->done);
    feeder_free(f);
}

static void test_smb1(void)
{
    feeder *f = feeder_new();
    buf tok, sp, out = {.n = 0};
    /* Port 139: session request first. */
    put8(&out, 0x81), put8(&out, 0), put16be(&out, 68), zeros(&out, 68);
    ntlm_negotiate(&tok);
    spnego(&sp, &tok, true);
    smb1_setup(&out, false, 0, &sp);
    feedb(f, 0, &out);
    CHECK_INT(count(PW_EV_APP), 1);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    CHECK_INT(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.msg_type, 1);

    out.n = 0;
    put8(&out, 0x82), put8(&out, 0), put16be(&out, 0);
    ntlm_challenge(&tok, "OLDSRV", "oldsrv.files.example");
    smb1_setup(&out, true, STATUS_MORE, &tok); /* raw NTLMSSP blob, no SPNEGO */
    nev = 0;
    feedb(f, 1, &out);
    CHECK_INT(count(PW_EV_NTLMSSP), 1);
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.nb_computer, "OLDSRV");
    CHECK_STR(NTH(PW_EV_NTLMSSP, 0)->u.ntlmssp.dns_computer, "oldsrv.files.example");
    CHECK_INT(count(PW_EV_MALFORMED), 0);

    /* Blob length beyond the byte count: malformed, no event. */
    out.n = 0;
    smb1_setup(&out, true, STATUS_MORE, &tok);
    set16(&out, 4 + 32 + 1 + 6, (uint16_t)(tok.n + 50));
    nev = 0;
    feedb(f, 1, &out);
    CHECK_INT(count(PW_EV_NTLMSSP), 0);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    feeder_free(f);
}

static void test_malformed_and_truncation(void)
{
    feeder *f = feeder_new();
    const char *junk = "SSH-2.0-OpenSSH_9.6\r\n";
    feed(f, 0, (const uint8_t *)junk, strlen(junk));
    CHECK(f->done);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    feeder_free(f);

    /* Security buffer offset outside the message. */
    buf tok, sp, out = {.n = 0};
    ntlm_challenge(&tok, "FS01", "fs01.files.example");
    spnego(&sp, &tok, false);
    smb2_setup(&out, true, STATUS_MORE, &sp);
    set16(&out, 4 + 64 + 4, 3000);
    f = feeder_new();
    feedb(f, 1, &out);
    CHECK_INT(count(PW_EV_NTLMSSP), 0);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    feeder_free(f);

    /* Every prefix, and every prefix declared complete. */
    out.n = 0;
    smb2_setup(&out, true, STATUS_MORE, &sp);
    int early = 0;
    for (size_t len = 0; len < out.n; len++) {
        f = feeder_new();
        feed(f, 1, out.b, len);
        early += count(PW_EV_NTLMSSP);
        feeder_free(f);
        buf cut = out;
        cut.n = len;
        if (len >= 4) {
            size_t ml = len - 4;
            cut.b[1] = (uint8_t)(ml >> 16), cut.b[2] = (uint8_t)(ml >> 8), cut.b[3] = (uint8_t)ml;
        }
        f = feeder_new();
        feedb(f, 1, &cut);
        feeder_free(f);
    }
    CHECK_INT(early, 0);

    /* Same for SMB1. */
    buf o1 = {.n = 0};
    smb1_setup(&o1, true, STATUS_MORE, &sp);
    for (size_t len = 4; len < o1.n; len++) {
        buf cut = o1;
        cut.n = len;
        size_t ml = len - 4;
        cut.b[1] = (uint8_t)(ml >> 16), cut.b[2] = (uint8_t)(ml >> 8), cut.b[3] = (uint8_t)ml;
        f = feeder_new();
        feedb(f, 1, &cut);
        CHECK_INT(f->plen[1], 0);
        feeder_free(f);
    }

    /* Probe and descriptor. */
    CHECK(pw_dissector_smb.probe(out.b, out.n));
    CHECK(!pw_dissector_smb.probe(out.b, 7));
    CHECK(!pw_dissector_smb.probe((const uint8_t *)junk, strlen(junk)));
    CHECK_INT(pw_dissector_smb.ports[0], 445);
    CHECK_INT(pw_dissector_smb.ports[1], 139);
    CHECK_STR(pw_dissector_smb.name, "smb");
}

/* The server's TREE_CONNECT answer for tree 5, an IPC$ (pipe) share. */
static void ipc_tree_connect(buf *out)
{
    buf m = {.n = 0};
    putn(&m, "\xfeSMB", 4), put16(&m, 64), put16(&m, 1), put32(&m, 0);
    put16(&m, 3), put16(&m, 1), put32(&m, 1), put32(&m, 0);
    put64(&m, 3), put32(&m, 0xfeff), put32(&m, 5), put64(&m, 0x0000100000000011ull);
    zeros(&m, 16);
    put16(&m, 16), put8(&m, 2), put8(&m, 0), put32(&m, 0), put32(&m, 0), put32(&m, 0);
    nbss(out, &m);
}

/* How many CREATE answers a connection is followed for, after an IPC$ tree
 * connect or without one. */
static int followed_for(bool ipc)
{
    feeder *f = feeder_new();
    buf m = {.n = 0}, out = {.n = 0}, tree = {.n = 0};
    if (ipc) {
        ipc_tree_connect(&tree);
        feedb(f, 1, &tree);
    }
    smb2_hdr(&m, 5, true, 0, 9); /* CREATE responses */
    zeros(&m, 100);
    nbss(&out, &m);
    int calls = 0;
    while (!f->done && calls < 2000) {
        feedb(f, 1, &out);
        calls++;
    }
    feeder_free(f);
    return calls;
}

static void test_limit(void)
{
    CHECK_INT(followed_for(false), 64);       /* file sharing: left after the setup's reach */
    CHECK_INT(followed_for(true), 1024 - 1); /* RPC may follow: 1024 messages in all */
}

int main(void)
{
    flow.proto = 6;
    flow.server_port = 445;
    test_smb2();
    test_smb2_framing();
    test_smb1();
    test_malformed_and_truncation();
    test_limit();
    CHECK_INT(contract_violations, 0);
    CHECK_DONE();
}
