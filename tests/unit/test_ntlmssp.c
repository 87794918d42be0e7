/* test_ntlmssp.c - NTLMSSP decoding on hand-built messages (MS-NLMP 2.2.1). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../dissectors/dissector.h"
#include "../../dissectors/ntlmssp.h"
#include "check.h"

#define NTLM_BUF_SIZE 4096
#include "ntlm_build.h"

static void sig(buf *b, uint32_t type) { putn(b, "NTLMSSP\0", 8), put32(b, type); }

#define TS_VALUE 0x01d9a3b2c4d5e6f7ull

/* CHALLENGE with Unicode target name and every AV pair. */
static void build_challenge(buf *b, uint32_t flags, const char *nb)
{
    b->n = 0;
    sig(b, 2);
    size_t tn = b->n;
    put64(b, 0);                 /* TargetNameFields */
    put32(b, flags);
    put64(b, 0x1122334455667788ull); /* ServerChallenge */
    put64(b, 0);                 /* Reserved */
    size_t ti = b->n;
    put64(b, 0);                 /* TargetInfoFields */
    put64(b, 0x0f0000000a003fabull); /* Version */
    size_t off = b->n;
    size_t len = (flags & 1) ? put_utf16(b, "CORP") : (putn(b, "CORP", 4), 4);
    secbuf(b, tn, len, off);
    size_t tio = b->n;
    static const struct { uint16_t id; const char *v; } av[] = {
        {2, "CORP"}, {1, NULL}, {4, "corp.example.com"}, {3, "srv01.corp.example.com"},
        {5, "example.com"}, {9, "cifs/srv01"},
    };
    for (size_t i = 0; i < sizeof av / sizeof av[0]; i++) {
        put16(b, av[i].id);
        size_t at = b->n;
        put16(b, 0);
        set16(b, at, (uint16_t)put_utf16(b, av[i].v ? av[i].v : nb));
    }
    put16(b, 7), put16(b, 8), put64(b, TS_VALUE);
    put16(b, 0), put16(b, 0); /* MsvAvEOL */
    secbuf(b, ti, b->n - tio, tio);
}

static void build_negotiate(buf *b)
{
    b->n = 0;
    sig(b, 1);
    put32(b, 0xe2088297 | 0x3000); /* OEM domain + workstation supplied */
    size_t d = b->n;
    put64(b, 0), put64(b, 0);
    put64(b, 0x0f00000004612800ull); /* Version */
    secbuf(b, d, 4, b->n);
    putn(b, "CORP", 4);
    secbuf(b, d + 8, 5, b->n);
    putn(b, "WKS07", 5);
}

static void build_authenticate(buf *b, uint32_t flags)
{
    b->n = 0;
    sig(b, 3);
    size_t f = b->n;
    for (int i = 0; i < 6; i++)
        put64(b, 0);
    put32(b, flags);
    put64(b, 0); /* Version */
    putn(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16); /* MIC */
    size_t o = b->n;
    for (int i = 0; i < 24; i++) put8(b, 0xaa); /* LM response */
    secbuf(b, f, 24, o);
    o = b->n;
    for (int i = 0; i < 24; i++) put8(b, 0xbb); /* NT response */
    secbuf(b, f + 8, 24, o);
    bool uni = flags & 1;
    o = b->n;
    secbuf(b, f + 16, uni ? put_utf16(b, "CORP") : (putn(b, "CORP", 4), 4), o);
    o = b->n;
    secbuf(b, f + 24, uni ? put_utf16(b, "J\xc3\xbcrgen") : (putn(b, "alice", 5), 5), o);
    o = b->n;
    secbuf(b, f + 32, uni ? put_utf16(b, "WKS07") : (putn(b, "WKS07", 5), 5), o);
    secbuf(b, f + 40, 0, b->n);
}

/* ---- event capture ---- */
static pw_event evs[16];
static int nev, nmal;
static void sink(void *arg, const pw_event *ev)
{
    (void)arg;
    if (ev->type == PW_EV_MALFORMED)
        nmal++;
    if (nev < 16)
        evs[nev] = *ev;
    nev++;
}
static pw_flow flow;
static pw_dctx ctx = {&flow, 1, 7, 0, sink, NULL, NULL};
static void reset(void) { nev = nmal = 0; }

static bool valid_str(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    return n < max;
}

static void test_strings(void)
{
    char out[64];
    buf b = {.n = 0};
    put_utf16(&b, "A\xc3\x84\xe2\x82\xac\xf0\x9f\x98\x80z"); /* AÄ€😀z */
    pw_utf16le_to_utf8(pw_cur(b.b, b.n), out, sizeof out);
    CHECK_STR(out, "A\xc3\x84\xe2\x82\xac\xf0\x9f\x98\x80z");

    /* Unpaired surrogates and an odd trailing byte. */
    b.n = 0;
    put16(&b, 0xd800), put16(&b, 'x'), put16(&b, 0xdc00), put16(&b, 'y'), put8(&b, 'Q');
    pw_utf16le_to_utf8(pw_cur(b.b, b.n), out, sizeof out);
    CHECK_STR(out, "?x?y");
    /* High surrogate at the very end. */
    b.n = 0;
    put16(&b, 'a'), put16(&b, 0xdbff);
    pw_utf16le_to_utf8(pw_cur(b.b, b.n), out, sizeof out);
    CHECK_STR(out, "a?");

    /* Bounded: never cut a character. */
    b.n = 0;
    put_utf16(&b, "\xc3\x84\xc3\x84\xc3\x84");
    char small[4];
    pw_utf16le_to_utf8(pw_cur(b.b, b.n), small, sizeof small);
    CHECK_STR(small, "\xc3\x84");
    char one[1];
    pw_utf16le_to_utf8(pw_cur(b.b, b.n), one, sizeof one);
    CHECK_STR(one, "");

    /* NUL ends, control characters become '?'. */
    b.n = 0;
    put16(&b, 'o'), put16(&b, 0x07), put16(&b, 'k'), put16(&b, 0), put16(&b, 'X');
    pw_utf16le_to_utf8(pw_cur(b.b, b.n), out, sizeof out);
    CHECK_STR(out, "o?k");

    /* OEM. */
    const uint8_t oem[] = {'W', 'K', 0xe9, 'S', 0x01, 0, 'Z'};
    pw_oem_to_utf8(pw_cur(oem, sizeof oem), out, sizeof out);
    CHECK_STR(out, "WK?S?");
    pw_oem_to_utf8(pw_cur(oem, 2), small, 2);
    CHECK_STR(small, "W");
}

static void test_negotiate(void)
{
    buf b;
    build_negotiate(&b);
    reset();
    CHECK(pw_ntlmssp_parse(&ctx, b.b, b.n));
    CHECK_INT(nev, 1);
    CHECK_INT(nmal, 0);
    CHECK_INT(evs[0].type, PW_EV_NTLMSSP);
    CHECK_INT(evs[0].frame, 7);
    CHECK_INT(evs[0].dir, 1);
    CHECK_INT(evs[0].u.ntlmssp.msg_type, PW_NTLM_NEGOTIATE);
    CHECK_INT(evs[0].u.ntlmssp.flags, 0xe2088297u | 0x3000u);
    CHECK_STR(evs[0].u.ntlmssp.domain, "CORP");
    CHECK_STR(evs[0].u.ntlmssp.workstation, "WKS07");
    CHECK_STR(evs[0].u.ntlmssp.nb_computer, "");

    /* A minimal 16-byte NEGOTIATE (no domain / workstation fields). */
    reset();
    CHECK(pw_ntlmssp_parse(&ctx, b.b, 16));
    CHECK_INT(nev, 1);
    CHECK_INT(nmal, 0);
    CHECK_STR(evs[0].u.ntlmssp.domain, "");
}

static void check_challenge_fields(const pw_ev_ntlmssp *n, const char *nb)
{
    CHECK_INT(n->msg_type, PW_NTLM_CHALLENGE);
    CHECK_STR(n->target_name, "CORP");
    CHECK_STR(n->nb_computer, nb);
    CHECK_STR(n->nb_domain, "CORP");
    CHECK_STR(n->dns_computer, "srv01.corp.example.com");
    CHECK_STR(n->dns_domain, "corp.example.com");
    CHECK_STR(n->dns_tree, "example.com");
    CHECK(n->has_timestamp);
    CHECK(n->timestamp == TS_VALUE);
}

static void test_challenge(void)
{
    buf b;
    build_challenge(&b, 0xe28a8215, "SRV\xc3\x84\xf0\x9f\x98\x80");
    reset();
    CHECK(pw_ntlmssp_parse(&ctx, b.b, b.n));
    CHECK_INT(nev, 1);
    CHECK_INT(nmal, 0);
    CHECK_INT(evs[0].u.ntlmssp.flags, 0xe28a8215u);
    check_challenge_fields(&evs[0].u.ntlmssp, "SRV\xc3\x84\xf0\x9f\x98\x80");

    /* decode() directly, and an OEM target name. */
    pw_ev_ntlmssp n;
    build_challenge(&b, 0xe28a8216, "SRV01");
    CHECK_INT(pw_ntlmssp_decode(pw_cur(b.b, b.n), &n), PW_NTLMSSP_OK);
    check_challenge_fields(&n, "SRV01");

    /* Target info offset out of range: event with what is there + malformed. */
    build_challenge(&b, 0xe28a8215, "SRV01");
    set32(&b, 44, 4000);
    reset();
    CHECK(pw_ntlmssp_parse(&ctx, b.b, b.n));
    CHECK_INT(nev, 2);
    CHECK_INT(nmal, 1);
    CHECK_STR(evs[0].u.ntlmssp.target_name, "CORP");
    CHECK_STR(evs[0].u.ntlmssp.nb_computer, "");

    /* Target info cut short by the end of the token (a snapped capture):
     * the pairs that are whole are still decoded. */
    build_challenge(&b, 0xe28a8215, "SRV01");
    pw_ev_ntlmssp m;
    /* nb_domain (2) + nb_computer (1) pairs end 4+8 + 4+10 bytes into target info. */
    size_t tio = b.b[44] | b.b[45] << 8;
    CHECK_INT(pw_ntlmssp_decode(pw_cur(b.b, tio + 26 + 3), &m), PW_NTLMSSP_TRUNCATED);
    CHECK_STR(m.nb_domain, "CORP");
    CHECK_STR(m.nb_computer, "SRV01");
    CHECK_STR(m.dns_domain, "");
}

static void test_authenticate(void)
{
    buf b;
    build_authenticate(&b, 0xe2888215);
    reset();
    CHECK(pw_ntlmssp_parse(&ctx, b.b, b.n));
    CHECK_INT(nev, 1);
    CHECK_INT(nmal, 0);
    CHECK_INT(evs[0].u.ntlmssp.msg_type, PW_NTLM_AUTHENTICATE);
    CHECK_STR(evs[0].u.ntlmssp.domain, "CORP");
    CHECK_STR(evs[0].u.ntlmssp.user, "J\xc3\xbcrgen");
    CHECK_STR(evs[0].u.ntlmssp.workstation, "WKS07");

    build_authenticate(&b, 0xe2888206); /* OEM */
    reset();
    CHECK(pw_ntlmssp_parse(&ctx, b.b, b.n));
    CHECK_STR(evs[0].u.ntlmssp.user, "alice");
    CHECK_STR(evs[0].u.ntlmssp.domain, "CORP");
}

static void test_not_ntlmssp(void)
{
    const uint8_t junk[] = "NTLMSSX\0\x02\0\0\0 and more bytes here";
    reset();
    CHECK(!pw_ntlmssp_parse(&ctx, junk, sizeof junk));
    CHECK(!pw_ntlmssp_parse(&ctx, NULL, 0));
    CHECK_INT(nev, 0);
    /* Unknown message type: malformed, no event. */
    buf b = {.n = 0};
    sig(&b, 9);
    put32(&b, 0);
    reset();
    CHECK(!pw_ntlmssp_parse(&ctx, b.b, b.n));
    CHECK_INT(nev, 1);
    CHECK_INT(nmal, 1);
}

static void test_find(void)
{
    buf chal, blob = {.n = 0};
    build_challenge(&chal, 0xe28a8215, "SRV01");
    /* A SPNEGO negTokenResp-ish prefix containing a near miss. */
    const uint8_t pre[] = {0xa1, 0x82, 0x01, 0x00, 'N', 'T', 'L', 'M', 0x30, 0x82, 0x00, 0xf0, 0xa2, 0x82, 0x00, 0xe0, 0x04, 0x82, 0x00, 0xd0};
    putn(&blob, pre, sizeof pre);
    putn(&blob, chal.b, chal.n);
    putn(&blob, "\xa3\x12mechListMIC......", 20);
    pw_cursor c = pw_cur(blob.b, blob.n), msg;
    CHECK(pw_ntlmssp_find(&c, &msg));
    CHECK_INT(pw_cur_pos(&c), 0);
    CHECK_INT(msg.len, blob.n - sizeof pre);
    reset();
    CHECK(pw_ntlmssp_parse_cur(&ctx, msg));
    CHECK_INT(nev, 1);
    check_challenge_fields(&evs[0].u.ntlmssp, "SRV01");
    reset();
    CHECK(pw_ntlmssp_parse_blob(&ctx, blob.b, blob.n));
    CHECK_INT(nev, 1);
    CHECK_STR(evs[0].u.ntlmssp.nb_computer, "SRV01");

    /* From a cursor already advanced; signature split at the end: not found. */
    pw_cursor c2 = pw_cur(blob.b, blob.n);
    pw_skip(&c2, 4);
    CHECK(pw_ntlmssp_find(&c2, &msg));
    CHECK(!pw_ntlmssp_find(&(pw_cursor){blob.b, sizeof pre + 7, 0, false}, &msg));
    CHECK(!pw_ntlmssp_parse_blob(&ctx, pre, sizeof pre));
}

/* Every prefix of every message: no crash, bounded strings, and the full
 * message is the only length that decodes cleanly for CHALLENGE. */
static void test_truncation(void)
{
    buf msgs[3];
    build_negotiate(&msgs[0]);
    build_challenge(&msgs[1], 0xe28a8215, "SRV\xc3\x84");
    build_authenticate(&msgs[2], 0xe2888215);
    int bad = 0, clean_chal = 0;
    for (int m = 0; m < 3; m++) {
        for (size_t len = 0; len <= msgs[m].n; len++) {
            pw_ev_ntlmssp n;
            pw_ntlmssp_status s = pw_ntlmssp_decode(pw_cur(msgs[m].b, len), &n);
            if (len < 8 && s != PW_NTLMSSP_NOT_NTLMSSP)
                bad++;
            if (len >= 8 && len < 12 && s != PW_NTLMSSP_BAD_HEADER)
                bad++;
            if (!valid_str(n.target_name, sizeof n.target_name) || !valid_str(n.nb_computer, sizeof n.nb_computer) ||
                !valid_str(n.dns_computer, sizeof n.dns_computer) || !valid_str(n.user, sizeof n.user) ||
                !valid_str(n.workstation, sizeof n.workstation))
                bad++;
            if (m == 1 && s == PW_NTLMSSP_OK)
                clean_chal++;
            reset();
            pw_ntlmssp_parse(&ctx, msgs[m].b, len);
        }
    }
    CHECK_INT(bad, 0);
    CHECK_INT(clean_chal, 1);
}

int main(void)
{
    test_strings();
    test_negotiate();
    test_challenge();
    test_authenticate();
    test_not_ntlmssp();
    test_find();
    test_truncation();
    CHECK_DONE();
}
