/* test_http.c - HTTP request/response heads, proxy CONNECT and the TLS
 * handshake inside the tunnel, on bytes built here with certificates
 * generated for this test. */
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

static const char connect_req[] =
    "CONNECT contoso-corpsensorapi.atp.azure.com:443 HTTP/1.1\r\n"
    "Host: contoso-corpsensorapi.atp.azure.com:443\r\n"
    "User-Agent: Azure Advanced Threat Protection Sensor\r\n"
    "Proxy-Connection: Keep-Alive\r\n\r\n";

static void test_connect_tunnel(void)
{
    static buf ch, chr, srv, hs;
    ch.n = chr.n = srv.n = hs.n = 0;
    client_hello(&ch, "contoso-corpsensorapi.atp.azure.com", "http/1.1", true);
    records(&chr, 22, ch.b, ch.n, 16384);
    puts_(&srv, "HTTP/1.1 200 Connection established\r\n\r\n");
    server_hello(&hs, 0xc02f, NULL, false);
    certificate_msg(&hs, leaf_der, sizeof leaf_der, ca_der, sizeof ca_der);
    server_hello_done(&hs);
    records(&srv, 22, hs.b, hs.n, 16384);

    feeder *f = feeder_new(&pw_dissector_http, 3128);
    /* the request head arrives in two pieces */
    feed(f, 0, (const uint8_t *)connect_req, 40);
    CHECK_INT(f->sink.n, 0);
    feed(f, 0, (const uint8_t *)connect_req + 40, sizeof connect_req - 1 - 40);
    const pw_event *e = find(&f->sink, PW_EV_HTTP, PW_HTTP_REQUEST, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.http.method, "CONNECT");
        CHECK_STR(e->u.http.host, "contoso-corpsensorapi.atp.azure.com");
        CHECK_INT(e->u.http.port, 443);
        CHECK_INT(e->dir, 0);
    }
    const pw_event *app = find(&f->sink, PW_EV_APP, 0, 0);
    CHECK(app != NULL);
    if (app)
        CHECK_STR(app->u.app, "http");
    /* 200 and the ServerHello may share a segment; the client's hello is first */
    feed_steps(f, 0, chr.b, chr.n, 64);
    e = find(&f->sink, PW_EV_TLS, PW_TLS_CLIENT_HELLO, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.tls.sni, "contoso-corpsensorapi.atp.azure.com");
        CHECK_INT(e->u.tls.version, 0x0304);
        CHECK_INT(e->flow.server_port, 3128);
        /* the handshake is with the CONNECT target, not the proxy */
        CHECK_STR(e->u.tls.tunnel_host, "contoso-corpsensorapi.atp.azure.com");
        CHECK_INT(e->u.tls.tunnel_port, 443);
    }
    feed_steps(f, 1, srv.b, srv.n, 200);
    e = find(&f->sink, PW_EV_HTTP, PW_HTTP_RESPONSE, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(e->u.http.status, 200);
        CHECK_STR(e->u.http.reason, "Connection established");
        CHECK_INT(e->dir, 1);
    }
    e = find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.tls.subject_cn, "dc01.contoso.local");
        CHECK_STR(e->u.tls.issuer_cn, "Contoso Test Root CA");
        CHECK_INT(e->u.tls.chain_len, 2);
        CHECK_STR(e->u.tls.tunnel_host, "contoso-corpsensorapi.atp.azure.com");
        CHECK_INT(e->u.tls.tunnel_port, 443);
    }
    CHECK_INT(count(&f->sink, PW_EV_APP), 1);
    CHECK_INT(f->sink.malformed, 0);
    CHECK(f->done);
    feeder_free(f);
}

static void test_connect_denied(void)
{
    /* 407 with a body, then a retry with credentials answered 403 */
    static const char r407[] =
        "HTTP/1.1 407 Proxy Authentication Required\r\n"
        "Proxy-Authenticate: Negotiate\r\nContent-Length: 5\r\n\r\nhello";
    static const char r403[] = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    feeder *f = feeder_new(&pw_dissector_http, 8080);
    feed(f, 0, (const uint8_t *)connect_req, sizeof connect_req - 1);
    feed(f, 1, (const uint8_t *)r407, 50);
    feed(f, 1, (const uint8_t *)r407 + 50, sizeof r407 - 1 - 50);
    const pw_event *e = find(&f->sink, PW_EV_HTTP, PW_HTTP_RESPONSE, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(e->u.http.status, 407);
        CHECK_STR(e->u.http.reason, "Proxy Authentication Required");
    }
    CHECK(!f->done);
    feed(f, 0, (const uint8_t *)connect_req, sizeof connect_req - 1);
    CHECK(find(&f->sink, PW_EV_HTTP, PW_HTTP_REQUEST, 1) != NULL);
    feed(f, 1, (const uint8_t *)r403, sizeof r403 - 1);
    e = find(&f->sink, PW_EV_HTTP, PW_HTTP_RESPONSE, 1);
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(e->u.http.status, 403);
        CHECK_STR(e->u.http.reason, "Forbidden");
    }
    CHECK(f->done);
    CHECK_INT(count(&f->sink, PW_EV_TLS), 0);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* a bracketed IPv6 authority */
    static const char v6[] = "CONNECT [2001:db8::1]:8443 HTTP/1.1\r\n\r\n";
    f = feeder_new(&pw_dissector_http, 3128);
    feed(f, 0, (const uint8_t *)v6, sizeof v6 - 1);
    e = find(&f->sink, PW_EV_HTTP, PW_HTTP_REQUEST, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.http.host, "2001:db8::1");
        CHECK_INT(e->u.http.port, 8443);
    }
    feeder_free(f);
}

static void test_get(void)
{
    static const char get[] = "GET /index.html HTTP/1.1\r\nhost:  www.contoso.com:8000 \r\nAccept: */*\r\n\r\n";
    static const char ok[] = "HTTP/1.0 301 Moved Permanently\r\nLocation: /x\r\n\r\n";
    feeder *f = feeder_new(&pw_dissector_http, 8000);
    feed_steps(f, 0, (const uint8_t *)get, sizeof get - 1, 5);
    const pw_event *e = find(&f->sink, PW_EV_HTTP, PW_HTTP_REQUEST, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.http.method, "GET");
        CHECK_STR(e->u.http.host, "www.contoso.com");
        CHECK_INT(e->u.http.port, 8000);
    }
    CHECK(!f->done);
    feed(f, 1, (const uint8_t *)ok, sizeof ok - 1);
    e = find(&f->sink, PW_EV_HTTP, PW_HTTP_RESPONSE, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(e->u.http.status, 301);
        CHECK_STR(e->u.http.reason, "Moved Permanently");
    }
    CHECK(f->done);
    feeder_free(f);

    /* a proxy GET with an absolute URI and no Host header */
    static const char abs[] = "GET http://crl.microsoft.com/pki/crl.crl HTTP/1.1\r\n\r\n";
    f = feeder_new(&pw_dissector_http, 3128);
    feed(f, 0, (const uint8_t *)abs, sizeof abs - 1);
    e = find(&f->sink, PW_EV_HTTP, PW_HTTP_REQUEST, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.http.host, "crl.microsoft.com");
        CHECK_INT(e->u.http.port, 80);
    }
    feeder_free(f);

    CHECK(pw_dissector_http.probe((const uint8_t *)"CONNECT a:443 HTTP/1.1\r\n", 24));
    CHECK(pw_dissector_http.probe((const uint8_t *)get, sizeof get - 1));
    CHECK(!pw_dissector_http.probe((const uint8_t *)"GETX / HTTP/1.1", 15));
    CHECK(!pw_dissector_http.probe((const uint8_t *)"\x16\x03\x01", 3));
    CHECK(pw_dissector_for_port(6, 3128) == &pw_dissector_http);
}

static void test_http_malformed(void)
{
    /* not HTTP */
    static const uint8_t junk[] = "SSH-2.0-OpenSSH_9.6\r\n";
    feeder *f = feeder_new(&pw_dissector_http, 8080);
    feed(f, 0, junk, sizeof junk - 1);
    CHECK_INT(f->sink.malformed, 1);
    CHECK(f->done);
    feeder_free(f);

    /* a head that never ends gives up after 8 KiB */
    static buf big;
    big.n = 0;
    puts_(&big, "GET / HTTP/1.1\r\n");
    while (big.n < 9000)
        puts_(&big, "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    f = feeder_new(&pw_dissector_http, 8080);
    feed_steps(f, 0, big.b, big.n, 1000);
    CHECK_INT(f->sink.malformed, 1);
    CHECK(f->done);
    CHECK(find(&f->sink, PW_EV_HTTP, PW_HTTP_REQUEST, 0) == NULL);
    feeder_free(f);

    /* a bad status line */
    static const char bad[] = "HTTP/1.1 2x0 OK\r\n\r\n";
    f = feeder_new(&pw_dissector_http, 8080);
    feed(f, 1, (const uint8_t *)bad, sizeof bad - 1);
    CHECK_INT(f->sink.malformed, 1);
    feeder_free(f);

    /* every prefix and every corruption of a tunnel exchange */
    static buf c2s, s2c, hs;
    c2s.n = s2c.n = hs.n = 0;
    puts_(&c2s, connect_req);
    client_hello(&hs, "contoso-corpsensorapi.atp.azure.com", NULL, true);
    records(&c2s, 22, hs.b, hs.n, 16384);
    hs.n = 0;
    puts_(&s2c, "HTTP/1.1 200 OK\r\n\r\n");
    server_hello(&hs, 0xc02f, NULL, false);
    certificate_msg(&hs, ss_der, sizeof ss_der, NULL, 0);
    server_hello_done(&hs);
    records(&s2c, 22, hs.b, hs.n, 16384);
    int snis = 0;
    for (size_t cut = 0; cut <= c2s.n; cut++) {
        f = feeder_new(&pw_dissector_http, 3128);
        feed(f, 0, c2s.b, cut);
        feed(f, 1, s2c.b, cut < s2c.n ? cut : s2c.n);
        snis += find(&f->sink, PW_EV_TLS, PW_TLS_CLIENT_HELLO, 0) != NULL;
        feeder_free(f);
    }
    CHECK_INT(snis, 1);
    static buf mut;
    for (size_t i = 0; i < c2s.n; i++) {
        mut = c2s;
        mut.b[i] ^= 0x21;
        f = feeder_new(&pw_dissector_http, 3128);
        feed_steps(f, 0, mut.b, mut.n, 77);
        feed_steps(f, 1, s2c.b, s2c.n, 77);
        feeder_free(f);
    }
    for (size_t i = 0; i < s2c.n; i++) {
        mut = s2c;
        mut.b[i] ^= 0x21;
        f = feeder_new(&pw_dissector_http, 3128);
        feed(f, 0, c2s.b, c2s.n);
        feed_steps(f, 1, mut.b, mut.n, 77);
        feeder_free(f);
    }
    CHECK(1);
}

static void test_bare_tls_and_probe(void)
{
    /* TLS spoken directly on an HTTP port */
    static buf ch, srv, hs;
    ch.n = srv.n = hs.n = 0;
    client_hello(&hs, "portal.contoso.com", NULL, false);
    records(&ch, 22, hs.b, hs.n, 16384);
    hs.n = 0;
    server_hello(&hs, 0xc02f, NULL, false);
    certificate_msg(&hs, ss_der, sizeof ss_der, NULL, 0);
    server_hello_done(&hs);
    records(&srv, 22, hs.b, hs.n, 16384);
    feeder *f = feeder_new(&pw_dissector_http, 8080);
    feed(f, 0, ch.b, 4); /* too short to tell: waits */
    CHECK_INT(f->sink.n, 0);
    feed(f, 0, ch.b + 4, ch.n - 4);
    const pw_event *e = find(&f->sink, PW_EV_TLS, PW_TLS_CLIENT_HELLO, 0);
    CHECK(e != NULL);
    if (e)
        CHECK_STR(e->u.tls.sni, "portal.contoso.com");
    const pw_event *app = find(&f->sink, PW_EV_APP, 0, 0);
    CHECK(app != NULL);
    if (app)
        CHECK_STR(app->u.app, "tls");
    feed(f, 1, srv.b, srv.n);
    e = find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.tls.subject_cn, "WS042.contoso.local");
        CHECK_STR(e->u.tls.tunnel_host, ""); /* no proxy: the flow's server is the owner */
        CHECK_INT(e->u.tls.tunnel_port, 0);
    }
    CHECK(f->done);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* SIP shares method names: the probe wants an HTTP version */
    static const char sip[] = "OPTIONS sip:probe@edge.test SIP/2.0\r\nVia: x\r\n";
    CHECK(!pw_dissector_http.probe((const uint8_t *)sip, sizeof sip - 1));
    static const char opt[] = "OPTIONS * HTTP/1.1\r\n";
    CHECK(pw_dissector_http.probe((const uint8_t *)opt, sizeof opt - 1));

    /* RPC over HTTP methods carry an underscore */
    static const char rpc[] = "RPC_IN_DATA /rpc/rpcproxy.dll?mail.contoso.com:6001 HTTP/1.1\r\n"
                              "Host: mail.contoso.com\r\n\r\n";
    f = feeder_new(&pw_dissector_http, 80);
    feed_steps(f, 0, (const uint8_t *)rpc, sizeof rpc - 1, 16);
    e = find(&f->sink, PW_EV_HTTP, PW_HTTP_REQUEST, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.http.method, "RPC_IN_DATA");
        CHECK_STR(e->u.http.host, "mail.contoso.com");
    }
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);
}

/* ---- NTLM / Negotiate HTTP authentication ---- */
static void le16(buf *b, unsigned v) { put8(b, v & 0xff); put8(b, (v >> 8) & 0xff); }
static void le32(buf *b, uint32_t v) { le16(b, v & 0xffff); le16(b, v >> 16); }
static void setle16(buf *b, size_t at, unsigned v) { b->b[at] = (uint8_t)v; b->b[at + 1] = (uint8_t)(v >> 8); }
static void setle32(buf *b, size_t at, uint32_t v) { setle16(b, at, v & 0xffff); setle16(b, at + 2, v >> 16); }
static size_t utf16(buf *b, const char *s)
{
    size_t start = b->n;
    for (; *s; s++)
        le16(b, (uint8_t)*s);
    return b->n - start;
}
static void secbuf(buf *b, size_t at, size_t len, size_t off)
{
    setle16(b, at, (unsigned)len), setle16(b, at + 2, (unsigned)len), setle32(b, at + 4, (uint32_t)off);
}
static void ntlm_negotiate(buf *b)
{
    b->n = 0;
    putn(b, "NTLMSSP\0", 8), le32(b, 1), le32(b, 0xa2088207);
    for (int i = 0; i < 16; i++)
        put8(b, 0);
}
static void ntlm_challenge(buf *b, const char *nb, const char *dns)
{
    b->n = 0;
    putn(b, "NTLMSSP\0", 8), le32(b, 2);
    for (int i = 0; i < 8; i++)
        put8(b, 0);
    le32(b, 0xa2898205);
    for (int i = 0; i < 32; i++)
        put8(b, (uint8_t)i);
    size_t o = b->n;
    secbuf(b, 12, utf16(b, "WEB"), o);
    size_t tio = b->n;
    struct { unsigned id; const char *v; } av[] = {{2, "WEB"}, {1, nb}, {4, "web.example"}, {3, dns}};
    for (size_t i = 0; i < 4; i++) {
        le16(b, av[i].id);
        size_t at = b->n;
        le16(b, 0);
        setle16(b, at, (unsigned)utf16(b, av[i].v));
    }
    le32(b, 0);
    secbuf(b, 40, b->n - tio, tio);
}
/* AUTHENTICATE with a long NTLMv2 response, so its header line is long. */
static void ntlm_authenticate(buf *b)
{
    b->n = 0;
    putn(b, "NTLMSSP\0", 8), le32(b, 3);
    for (int i = 0; i < 48; i++)
        put8(b, 0);
    le32(b, 0xa2888205);
    size_t o = b->n;
    secbuf(b, 28, utf16(b, "WEB"), o);
    o = b->n;
    secbuf(b, 36, utf16(b, "carol"), o);
    o = b->n;
    secbuf(b, 44, utf16(b, "LAPTOP5"), o);
    o = b->n;
    for (int i = 0; i < 900; i++)
        put8(b, (uint8_t)(i * 7));
    secbuf(b, 20, 900, o);
    secbuf(b, 12, 0, b->n), secbuf(b, 52, 0, b->n);
}
/* SPNEGO negTokenResp around a token (short-form lengths). */
static void spnego_resp(buf *out, const buf *tok)
{
    out->n = 0;
    size_t L = tok->n;
    put8(out, 0xa1), put8(out, 0x81), put8(out, (uint8_t)(L + 20 + 3 + 3 + 3));
    put8(out, 0x30), put8(out, 0x81), put8(out, (uint8_t)(L + 20 + 3));
    putn(out, "\xa0\x03\x0a\x01\x01", 5);
    putn(out, "\xa1\x0c\x06\x0a\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a", 14);
    put8(out, 0xa2), put8(out, 0x81), put8(out, (uint8_t)(L + 3));
    put8(out, 0x04), put8(out, 0x81), put8(out, (uint8_t)L);
    putn(out, tok->b, tok->n);
}
static void b64(buf *out, const buf *in, bool pad)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 2 < in->n; i += 3) {
        uint32_t v = (uint32_t)in->b[i] << 16 | (uint32_t)in->b[i + 1] << 8 | in->b[i + 2];
        for (int k = 3; k >= 0; k--)
            put8(out, (uint8_t)tab[(v >> (6 * k)) & 63]);
    }
    if (in->n - i == 1) {
        uint32_t v = (uint32_t)in->b[i] << 16;
        put8(out, (uint8_t)tab[v >> 18]), put8(out, (uint8_t)tab[(v >> 12) & 63]);
        if (pad)
            puts_(out, "==");
    } else if (in->n - i == 2) {
        uint32_t v = (uint32_t)in->b[i] << 16 | (uint32_t)in->b[i + 1] << 8;
        put8(out, (uint8_t)tab[v >> 18]), put8(out, (uint8_t)tab[(v >> 12) & 63]);
        put8(out, (uint8_t)tab[(v >> 6) & 63]);
        if (pad)
            puts_(out, "=");
    }
}
/* "<name>: <scheme> <base64 token>\r\n" */
static void auth_line(buf *out, const char *name, const char *scheme, const buf *tok)
{
    puts_(out, name);
    puts_(out, ": ");
    puts_(out, scheme);
    if (tok) {
        puts_(out, " ");
        b64(out, tok, tok->n % 3 != 1);
    }
    puts_(out, "\r\n");
}
static const pw_event *nth_ntlm(const sink *s, int k)
{
    return find(s, PW_EV_NTLMSSP, 0, k);
}

static void test_http_ntlm(void)
{
    static buf req, resp, tok, sp;
    /* NEGOTIATE -> 401 with CHALLENGE -> AUTHENTICATE -> 200 */
    feeder *f = feeder_new(&pw_dissector_http, 80);
    req.n = 0;
    puts_(&req, "GET /sites/hr HTTP/1.1\r\nHost: intranet.web.example\r\nConnection: Keep-Alive\r\n");
    ntlm_negotiate(&tok);
    auth_line(&req, "Authorization", "NTLM", &tok);
    puts_(&req, "\r\n");
    feed(f, 0, req.b, req.n);
    CHECK_INT(count(&f->sink, PW_EV_NTLMSSP), 1);
    const pw_event *e = nth_ntlm(&f->sink, 0);
    if (e) {
        CHECK_INT(e->u.ntlmssp.msg_type, 1);
        CHECK_INT(e->dir, 0);
    }
    /* the app and the request event come first */
    CHECK_INT(f->sink.ev[0].type, PW_EV_APP);
    CHECK_INT(f->sink.ev[1].type, PW_EV_HTTP);
    resp.n = 0;
    puts_(&resp, "HTTP/1.1 401 Unauthorized\r\nServer: Microsoft-IIS/10.0\r\n");
    ntlm_challenge(&tok, "WEB01", "web01.web.example");
    auth_line(&resp, "WWW-Authenticate", "NTLM", &tok);
    puts_(&resp, "Content-Length: 10\r\n\r\n0123456789");
    feed_steps(f, 1, resp.b, resp.n, 33);
    CHECK_INT(count(&f->sink, PW_EV_NTLMSSP), 2);
    e = nth_ntlm(&f->sink, 1);
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(e->u.ntlmssp.msg_type, 2);
        CHECK_STR(e->u.ntlmssp.nb_computer, "WEB01");
        CHECK_STR(e->u.ntlmssp.dns_computer, "web01.web.example");
        CHECK_STR(e->u.ntlmssp.nb_domain, "WEB");
        CHECK_INT(e->dir, 1);
    }
    CHECK(!f->done);
    req.n = 0;
    puts_(&req, "GET /sites/hr HTTP/1.1\r\nHost: intranet.web.example\r\n");
    ntlm_authenticate(&tok);
    auth_line(&req, "Authorization", "NTLM", &tok);
    CHECK(req.n > 1300); /* longer than a header line buffer */
    puts_(&req, "\r\n");
    feed_steps(f, 0, req.b, req.n, 100);
    CHECK_INT(count(&f->sink, PW_EV_NTLMSSP), 3);
    e = nth_ntlm(&f->sink, 2);
    if (e) {
        CHECK_INT(e->u.ntlmssp.msg_type, 3);
        CHECK_STR(e->u.ntlmssp.user, "carol");
        CHECK_STR(e->u.ntlmssp.workstation, "LAPTOP5");
    }
    CHECK(!f->done);
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    feed(f, 1, (const uint8_t *)ok, sizeof ok - 1);
    CHECK(f->done);
    CHECK_INT(count(&f->sink, PW_EV_HTTP), 4);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* a first 401 offering Negotiate and NTLM without tokens, then a
     * Negotiate exchange whose CHALLENGE is wrapped in SPNEGO */
    f = feeder_new(&pw_dissector_http, 80);
    static const char get[] = "GET / HTTP/1.1\r\nHost: portal\r\n\r\n";
    static const char r401[] = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\n"
                               "WWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n";
    feed(f, 0, (const uint8_t *)get, sizeof get - 1);
    feed(f, 1, (const uint8_t *)r401, sizeof r401 - 1);
    CHECK(!f->done);
    CHECK_INT(count(&f->sink, PW_EV_NTLMSSP), 0);
    req.n = 0;
    puts_(&req, "GET / HTTP/1.1\r\nHost: portal\r\n");
    ntlm_negotiate(&tok);
    auth_line(&req, "authorization", "Negotiate", &tok);
    puts_(&req, "\r\n");
    feed(f, 0, req.b, req.n);
    resp.n = 0;
    puts_(&resp, "HTTP/1.1 401 Unauthorized\r\n");
    ntlm_challenge(&tok, "PORTAL", "portal.web.example");
    spnego_resp(&sp, &tok);
    auth_line(&resp, "WWW-Authenticate", "Negotiate", &sp);
    puts_(&resp, "Content-Length: 0\r\n\r\n");
    feed(f, 1, resp.b, resp.n);
    CHECK_INT(count(&f->sink, PW_EV_NTLMSSP), 2);
    e = nth_ntlm(&f->sink, 1);
    if (e)
        CHECK_STR(e->u.ntlmssp.nb_computer, "PORTAL");
    CHECK(!f->done);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* a proxy: 407 with a Proxy-Authenticate list "Negotiate, NTLM <token>" */
    f = feeder_new(&pw_dissector_http, 8080);
    static const char pget[] = "GET http://www.contoso.com/ HTTP/1.1\r\nHost: www.contoso.com\r\n\r\n";
    feed(f, 0, (const uint8_t *)pget, sizeof pget - 1);
    ntlm_challenge(&tok, "PROXY1", "proxy1.web.example");
    resp.n = 0;
    puts_(&resp, "HTTP/1.1 407 Proxy Authentication Required\r\n"
                 "Proxy-Authenticate: Basic realm=\"a, NTLM b\", Negotiate, NTLM ");
    b64(&resp, &tok, true);
    puts_(&resp, "\r\nContent-Length: 0\r\n\r\n");
    feed(f, 1, resp.b, resp.n);
    CHECK_INT(count(&f->sink, PW_EV_NTLMSSP), 1);
    e = nth_ntlm(&f->sink, 0);
    if (e)
        CHECK_STR(e->u.ntlmssp.dns_computer, "proxy1.web.example");
    CHECK(!f->done);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* unpadded base64 also decodes */
    f = feeder_new(&pw_dissector_http, 80);
    ntlm_challenge(&tok, "WEB02", "web02.web.example");
    tok.b[tok.n++] = 0; /* make the length not a multiple of 3 */
    if (tok.n % 3 == 0)
        tok.b[tok.n++] = 0;
    resp.n = 0;
    puts_(&resp, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM ");
    b64(&resp, &tok, false);
    puts_(&resp, "\r\nContent-Length: 0\r\n\r\n");
    feed(f, 1, resp.b, resp.n);
    CHECK_INT(count(&f->sink, PW_EV_NTLMSSP), 1);
    e = nth_ntlm(&f->sink, 0);
    if (e)
        CHECK_STR(e->u.ntlmssp.nb_computer, "WEB02");
    feeder_free(f);

    /* bad base64: malformed, no NTLMSSP; Basic only: plain HTTP, done */
    f = feeder_new(&pw_dissector_http, 80);
    feed(f, 0, (const uint8_t *)get, sizeof get - 1);
    static const char bad[] = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM TlRMTVNT=UAAC\r\n"
                              "Content-Length: 0\r\n\r\n";
    feed(f, 1, (const uint8_t *)bad, sizeof bad - 1);
    CHECK_INT(count(&f->sink, PW_EV_NTLMSSP), 0);
    CHECK_INT(f->sink.malformed, 1);
    feeder_free(f);
    f = feeder_new(&pw_dissector_http, 80);
    feed(f, 0, (const uint8_t *)get, sizeof get - 1);
    static const char basic[] = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\n"
                                "Content-Length: 0\r\n\r\n";
    feed(f, 1, (const uint8_t *)basic, sizeof basic - 1);
    CHECK(f->done);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* a challenge without a Content-Length: its body runs to the close */
    f = feeder_new(&pw_dissector_http, 80);
    feed(f, 0, (const uint8_t *)get, sizeof get - 1);
    static const char nolen[] = "HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\n\r\n<html>denied</html>";
    feed(f, 1, (const uint8_t *)nolen, sizeof nolen - 1);
    CHECK(f->done);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* the auth loop is bounded */
    f = feeder_new(&pw_dissector_http, 80);
    for (int i = 0; i < 20 && !f->done; i++) {
        feed(f, 0, (const uint8_t *)get, sizeof get - 1);
        feed(f, 1, (const uint8_t *)r401, sizeof r401 - 1);
    }
    CHECK(f->done);
    feeder_free(f);

    /* every prefix and every corruption of the challenge response */
    static buf mut;
    resp.n = 0;
    puts_(&resp, "HTTP/1.1 401 Unauthorized\r\n");
    ntlm_challenge(&tok, "WEB01", "web01.web.example");
    auth_line(&resp, "WWW-Authenticate", "NTLM", &tok);
    puts_(&resp, "Content-Length: 3\r\n\r\nabc");
    int challenges = 0;
    for (size_t cut = 0; cut <= resp.n; cut++) {
        f = feeder_new(&pw_dissector_http, 80);
        feed(f, 0, (const uint8_t *)get, sizeof get - 1);
        feed(f, 1, resp.b, cut);
        challenges += count(&f->sink, PW_EV_NTLMSSP);
        feeder_free(f);
    }
    CHECK_INT(challenges, 4); /* once the head is complete: "abc" trails it */
    for (size_t i = 0; i < resp.n; i++) {
        mut = resp;
        mut.b[i] ^= 0x20;
        f = feeder_new(&pw_dissector_http, 80);
        feed(f, 0, (const uint8_t *)get, sizeof get - 1);
        feed_steps(f, 1, mut.b, mut.n, 9);
        feeder_free(f);
    }
    CHECK(1);
}

int main(void)
{
    test_bare_tls_and_probe();
    test_connect_tunnel();
    test_connect_denied();
    test_get();
    test_http_malformed();
    test_http_ntlm();
    CHECK_DONE();
}
