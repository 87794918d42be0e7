/* test_tls.c - the TLS first-flight dissector on bytes built here, with
 * certificates generated for this test (test_certs.h). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/cert_cache.h"
#include "../../dissectors/dissector.h"
#include "../../dissectors/tls.h"
#include "check.h"

#include "test_certs.h"
#include "tls_build.h"
#include "stream_harness.h"

static void test_client_hello_split(void)
{
    static buf hs, rec;
    hs.n = rec.n = 0;
    client_hello(&hs, "contoso-corpsensorapi.atp.azure.com", "h2", true);
    records(&rec, 22, hs.b, hs.n, 16384);
    feeder *f = feeder_new(&pw_dissector_tls, 443);
    /* Three stream() calls: inside the record header, inside the SNI, the rest. */
    feed(f, 0, rec.b, 3);
    CHECK_INT(f->sink.n, 0);
    CHECK_INT(f->plen[0], 3);
    feed(f, 0, rec.b + 3, 60);
    CHECK_INT(f->sink.n, 0);
    feed(f, 0, rec.b + 63, rec.n - 63);
    CHECK_INT(f->plen[0], 0);
    CHECK(!f->done);
    const pw_event *app = find(&f->sink, PW_EV_APP, 0, 0);
    CHECK(app != NULL);
    if (app)
        CHECK_STR(app->u.app, "tls");
    const pw_event *e = find(&f->sink, PW_EV_TLS, PW_TLS_CLIENT_HELLO, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(e->u.tls.version, 0x0304);
        CHECK_STR(e->u.tls.sni, "contoso-corpsensorapi.atp.azure.com");
        CHECK_STR(e->u.tls.alpn, "h2");
        CHECK_INT(e->dir, 0);
        CHECK_INT(e->frame, 3);
    }
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* Without supported_versions the legacy version is the highest offered. */
    hs.n = rec.n = 0;
    client_hello(&hs, NULL, NULL, false);
    records(&rec, 22, hs.b, hs.n, 16384);
    f = feeder_new(&pw_dissector_tls, 443);
    feed(f, 0, rec.b, rec.n);
    e = find(&f->sink, PW_EV_TLS, PW_TLS_CLIENT_HELLO, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(e->u.tls.version, 0x0303);
        CHECK_STR(e->u.tls.sni, "");
        CHECK_STR(e->u.tls.alpn, "");
    }
    feeder_free(f);
}

/* ServerHello (TLS 1.2) + Certificate split over two records + ServerHelloDone. */
static size_t server_flight_12(buf *rec, const uint8_t *c1, size_t n1, const uint8_t *c2, size_t n2)
{
    static buf hs;
    hs.n = 0;
    server_hello(&hs, 0xc02f, "http/1.1", false);
    size_t cert_start = hs.n;
    certificate_msg(&hs, c1, n1, c2, n2);
    size_t cert_end = hs.n;
    server_hello_done(&hs);
    rec->n = 0;
    records(rec, 22, hs.b, cert_start, 16384);
    /* The Certificate message spans two records; the second also holds ServerHelloDone. */
    size_t half = (cert_end - cert_start) / 2;
    records(rec, 22, hs.b + cert_start, half, 16384);
    records(rec, 22, hs.b + cert_start + half, hs.n - cert_start - half, 16384);
    return hs.n;
}

static void check_leaf(const pw_event *e)
{
    CHECK(e != NULL);
    if (!e)
        return;
    CHECK_INT(e->dir, 1);
    CHECK_STR(e->u.tls.subject_cn, "dc01.contoso.local");
    CHECK_STR(e->u.tls.subject, "CN=dc01.contoso.local,O=Contoso");
    CHECK_STR(e->u.tls.issuer, "CN=Contoso Test Root CA,O=Contoso Test,C=US");
    CHECK_STR(e->u.tls.issuer_cn, "Contoso Test Root CA");
    CHECK(!e->u.tls.self_signed);
    CHECK_INT(e->u.tls.n_san, 3);
    CHECK_STR(e->u.tls.san[0], "dc01.contoso.local");
    CHECK_STR(e->u.tls.san[1], "dc01");
    CHECK_STR(e->u.tls.san[2], "ldap.contoso.local");
    CHECK_INT(e->u.tls.chain_len, 2);
    CHECK_INT(e->u.tls.version, 0x0303);
}

static void test_server_tls12(void)
{
    static buf ch, chr, rec;
    ch.n = chr.n = 0;
    client_hello(&ch, "dc01.contoso.local", NULL, false);
    records(&chr, 22, ch.b, ch.n, 16384);
    server_flight_12(&rec, leaf_der, sizeof leaf_der, ca_der, sizeof ca_der);

    feeder *f = feeder_new(&pw_dissector_tls, 636);
    feed(f, 0, chr.b, chr.n);
    /* Segments of 100 bytes: records and the certificate cross them. */
    feed_steps(f, 1, rec.b, rec.n, 100);
    const pw_event *sh = find(&f->sink, PW_EV_TLS, PW_TLS_SERVER_HELLO, 0);
    CHECK(sh != NULL);
    if (sh) {
        CHECK_INT(sh->u.tls.version, 0x0303);
        CHECK_INT(sh->u.tls.cipher, 0xc02f);
        CHECK_STR(sh->u.tls.alpn, "http/1.1");
    }
    check_leaf(find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0));
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_CERT_HIDDEN, 0) == NULL);
    CHECK(f->done);
    CHECK_INT(f->sink.malformed, 0);
    CHECK_INT(count(&f->sink, PW_EV_APP), 1);
    feeder_free(f);

    /* The same flight one byte at a time gives the same certificate. */
    f = feeder_new(&pw_dissector_tls, 636);
    feed_steps(f, 0, chr.b, chr.n, 1);
    feed_steps(f, 1, rec.b, rec.n, 1);
    check_leaf(find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0));
    CHECK(f->done);
    feeder_free(f);

    /* A self-signed certificate. */
    server_flight_12(&rec, ss_der, sizeof ss_der, NULL, 0);
    f = feeder_new(&pw_dissector_tls, 3389);
    feed(f, 1, rec.b, rec.n);
    const pw_event *e = find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.tls.subject_cn, "WS042.contoso.local");
        CHECK_STR(e->u.tls.issuer_cn, "WS042.contoso.local");
        CHECK(e->u.tls.self_signed);
        CHECK_INT(e->u.tls.n_san, 1);
        CHECK_STR(e->u.tls.san[0], "WS042.contoso.local");
        CHECK_INT(e->u.tls.chain_len, 1);
    }
    CHECK(f->done);
    feeder_free(f);
}

static void test_server_tls13(void)
{
    static buf hs, rec;
    hs.n = rec.n = 0;
    server_hello(&hs, 0x1301, NULL, true);
    records(&rec, 22, hs.b, hs.n, 16384);
    /* middlebox-compat CCS and an encrypted flight follow */
    put8(&rec, 20); put16(&rec, 0x0303); put16(&rec, 1); put8(&rec, 1);
    put8(&rec, 23); put16(&rec, 0x0303); put16(&rec, 4); put16(&rec, 0xdead); put16(&rec, 0xbeef);
    feeder *f = feeder_new(&pw_dissector_tls, 443);
    feed(f, 1, rec.b, rec.n);
    const pw_event *sh = find(&f->sink, PW_EV_TLS, PW_TLS_SERVER_HELLO, 0);
    CHECK(sh != NULL);
    if (sh) {
        CHECK_INT(sh->u.tls.version, 0x0304);
        CHECK_INT(sh->u.tls.cipher, 0x1301);
    }
    const pw_event *h = find(&f->sink, PW_EV_TLS, PW_TLS_CERT_HIDDEN, 0);
    CHECK(h != NULL);
    if (h)
        CHECK_INT(h->u.tls.version, 0x0304);
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0) == NULL);
    CHECK(f->done);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);
}

static void test_hello_retry(void)
{
    static const uint8_t hrr[32] = {
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
        0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
    };
    static buf hs, rec;
    hs.n = rec.n = 0;
    server_hello(&hs, 0x1301, NULL, true);
    memcpy(hs.b + 6, hrr, 32);
    records(&rec, 22, hs.b, hs.n, 16384);
    feeder *f = feeder_new(&pw_dissector_tls, 443);
    feed(f, 1, rec.b, rec.n);
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_SERVER_HELLO, 0) == NULL);
    CHECK(!f->done);
    /* the client answers with CCS + a second ClientHello */
    rec.n = hs.n = 0;
    put8(&rec, 20); put16(&rec, 0x0303); put16(&rec, 1); put8(&rec, 1);
    client_hello(&hs, "again.example", NULL, true);
    records(&rec, 22, hs.b, hs.n, 16384);
    feed(f, 0, rec.b, rec.n);
    const pw_event *e = find(&f->sink, PW_EV_TLS, PW_TLS_CLIENT_HELLO, 0);
    CHECK(e != NULL);
    if (e)
        CHECK_STR(e->u.tls.sni, "again.example");
    rec.n = hs.n = 0;
    server_hello(&hs, 0x1302, NULL, true);
    records(&rec, 22, hs.b, hs.n, 16384);
    feed(f, 1, rec.b, rec.n);
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_SERVER_HELLO, 0) != NULL);
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_CERT_HIDDEN, 0) != NULL);
    CHECK(f->done);
    feeder_free(f);
}

static void test_alert(void)
{
    static const uint8_t alert[] = {21, 3, 3, 0, 2, 2, 40};
    feeder *f = feeder_new(&pw_dissector_tls, 443);
    feed(f, 1, alert, sizeof alert);
    const pw_event *e = find(&f->sink, PW_EV_TLS, PW_TLS_ALERT, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(e->u.tls.alert_level, 2);
        CHECK_INT(e->u.tls.alert_desc, 40);
        CHECK_INT(e->dir, 1);
    }
    CHECK(f->done);
    feeder_free(f);

    /* An encrypted alert (length != 2) is not reported. */
    static const uint8_t enc[] = {21, 3, 3, 0, 4, 1, 2, 3, 4};
    f = feeder_new(&pw_dissector_tls, 443);
    feed(f, 1, enc, sizeof enc);
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_ALERT, 0) == NULL);
    feeder_free(f);
}

static void test_not_tls(void)
{
    static const uint8_t junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    feeder *f = feeder_new(&pw_dissector_tls, 443);
    feed(f, 0, junk, sizeof junk - 1);
    CHECK_INT(f->sink.malformed, 1);
    CHECK(f->done);
    CHECK_INT(count(&f->sink, PW_EV_TLS), 0);
    feeder_free(f);

    /* probe */
    static buf hs, rec;
    hs.n = rec.n = 0;
    client_hello(&hs, "x", NULL, false);
    records(&rec, 22, hs.b, hs.n, 16384);
    CHECK(pw_dissector_tls.probe(rec.b, rec.n));
    CHECK(!pw_dissector_tls.probe(junk, sizeof junk - 1));
    CHECK(pw_dissector_by_name("tls") == &pw_dissector_tls);
    CHECK(pw_dissector_for_port(6, 443) == &pw_dissector_tls);

    /* a bad certificate is malformed, not a crash */
    static buf bad;
    bad.n = 0;
    uint8_t garbage[64];
    memset(garbage, 0x30, sizeof garbage);
    server_flight_12(&bad, garbage, sizeof garbage, NULL, 0);
    f = feeder_new(&pw_dissector_tls, 443);
    feed(f, 1, bad.b, bad.n);
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0) == NULL);
    CHECK(f->sink.malformed >= 1);
    feeder_free(f);
}

/* Every prefix of both flights, and every single-byte corruption: no crash. */
static void test_truncation(void)
{
    static buf ch, chr, rec;
    ch.n = chr.n = 0;
    client_hello(&ch, "dc01.contoso.local", "h2", true);
    records(&chr, 22, ch.b, ch.n, 16384);
    server_flight_12(&rec, leaf_der, sizeof leaf_der, ca_der, sizeof ca_der);
    int certs = 0;
    for (size_t cut = 0; cut <= rec.n; cut++) {
        feeder *f = feeder_new(&pw_dissector_tls, 443);
        feed(f, 0, chr.b, cut < chr.n ? cut : chr.n);
        feed(f, 1, rec.b, cut);
        certs += find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0) != NULL;
        feeder_free(f);
    }
    /* the certificate appears once the second Certificate record is whole */
    CHECK(certs > 0 && certs < (int)rec.n);
    /* a record whose handshake message claims more than it holds */
    static buf hs, r2;
    for (size_t cut = 0; cut < ch.n; cut++) {
        hs.n = r2.n = 0;
        putn(&hs, ch.b, cut);
        records(&r2, 22, hs.b, hs.n, 16384);
        feeder *f = feeder_new(&pw_dissector_tls, 443);
        feed(f, 0, r2.b, r2.n);
        CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_CLIENT_HELLO, 0) == NULL);
        feeder_free(f);
    }
    static buf mut;
    for (size_t i = 0; i < rec.n; i++) {
        mut = rec;
        mut.b[i] ^= 0xff;
        feeder *f = feeder_new(&pw_dissector_tls, 443);
        feed_steps(f, 1, mut.b, mut.n, 333);
        feeder_free(f);
    }
    CHECK(1);
}

/* One server flight through a new flow (client port `cport`) with `cache`;
 * returns the flow's CERTIFICATE event (copied to *out) or false. */
static bool cert_flow(pw_dissect_cache *cache, uint16_t cport, const uint8_t *c1, size_t n1,
                      const uint8_t *c2, size_t n2, pw_event *out, int *malformed)
{
    static buf rec;
    server_flight_12(&rec, c1, n1, c2, n2);
    feeder *f = feeder_new(&pw_dissector_tls, 636);
    f->cache = cache;
    f->flow.client_port = cport;
    feed_steps(f, 1, rec.b, rec.n, 700);
    const pw_event *e = find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0);
    if (e && out)
        *out = *e;
    if (malformed)
        *malformed = f->sink.malformed;
    bool ok = e != NULL;
    feeder_free(f);
    return ok;
}

static pw_cert_cache_stats cstats(const pw_dissect_cache *c)
{
    pw_cert_cache_stats st;
    pw_cert_cache_get_stats(c->cert, &st);
    return st;
}

/* The same certificate in two flows is parsed once and reported identically
 * (and identically to a run without a cache). */
static void test_cert_cache_hit(void)
{
    pw_dissect_cache *cache = pw_dissect_cache_new(0);
    CHECK(cache != NULL && cache->cert != NULL);
    if (!cache || !cache->cert)
        return;
    CHECK_INT(cstats(cache).capacity, PW_CERT_CACHE_ENTRIES);
    static pw_event none, first, second;
    CHECK(cert_flow(NULL, 50001, leaf_der, sizeof leaf_der, ca_der, sizeof ca_der, &none, NULL));
    CHECK(cert_flow(cache, 50002, leaf_der, sizeof leaf_der, ca_der, sizeof ca_der, &first, NULL));
    pw_cert_cache_stats st = cstats(cache);
    CHECK_INT(st.misses, 1);
    CHECK_INT(st.hits, 0);
    CHECK_INT(st.entries, 1);
    CHECK(cert_flow(cache, 50003, leaf_der, sizeof leaf_der, ca_der, sizeof ca_der, &second, NULL));
    st = cstats(cache);
    CHECK_INT(st.misses, 1);
    CHECK_INT(st.hits, 1);
    CHECK_INT(st.entries, 1);
    check_leaf(&first);
    check_leaf(&second);
    CHECK(memcmp(&none.u.tls, &first.u.tls, sizeof none.u.tls) == 0);
    CHECK(memcmp(&first.u.tls, &second.u.tls, sizeof first.u.tls) == 0);
    CHECK_INT(second.flow.client_port, 50003);

    /* Only the first certificate is looked up; a different chain length
     * around the same leaf still hits and reports its own chain_len. */
    static pw_event alone;
    CHECK(cert_flow(cache, 50004, leaf_der, sizeof leaf_der, NULL, 0, &alone, NULL));
    CHECK_INT(cstats(cache).hits, 2);
    CHECK_INT(alone.u.tls.chain_len, 1);
    CHECK_STR(alone.u.tls.subject_cn, "dc01.contoso.local");

    /* A different certificate is a miss with its own fields. */
    static pw_event ss;
    CHECK(cert_flow(cache, 50005, ss_der, sizeof ss_der, NULL, 0, &ss, NULL));
    st = cstats(cache);
    CHECK_INT(st.misses, 2);
    CHECK_INT(st.entries, 2);
    CHECK_STR(ss.u.tls.subject_cn, "WS042.contoso.local");
    CHECK(ss.u.tls.self_signed);

    /* An unparsable certificate is remembered as such: malformed both times. */
    uint8_t garbage[64];
    memset(garbage, 0x30, sizeof garbage);
    int mal1 = 0, mal2 = 0;
    CHECK(!cert_flow(cache, 50006, garbage, sizeof garbage, NULL, 0, NULL, &mal1));
    CHECK(!cert_flow(cache, 50007, garbage, sizeof garbage, NULL, 0, NULL, &mal2));
    CHECK_INT(mal1, 1);
    CHECK_INT(mal2, 1);
    st = cstats(cache);
    CHECK_INT(st.misses, 3);
    CHECK_INT(st.hits, 3);
    CHECK_INT(st.evictions, 0);
    pw_dissect_cache_free(cache);
    pw_dissect_cache_free(NULL);
}

/* The cache never holds more than its bound; CLOCK spares a recently hit entry. */
static void test_cert_cache_evict(void)
{
    pw_dissect_cache *cache = pw_dissect_cache_new(2);
    CHECK(cache != NULL);
    if (!cache)
        return;
    static pw_event e;
    CHECK(cert_flow(cache, 1, leaf_der, sizeof leaf_der, NULL, 0, &e, NULL)); /* miss */
    CHECK(cert_flow(cache, 2, ca_der, sizeof ca_der, NULL, 0, &e, NULL));     /* miss */
    CHECK(cert_flow(cache, 3, leaf_der, sizeof leaf_der, NULL, 0, &e, NULL)); /* hit */
    pw_cert_cache_stats st = cstats(cache);
    CHECK_INT(st.misses, 2);
    CHECK_INT(st.hits, 1);
    CHECK_INT(st.entries, 2);
    CHECK_INT(st.capacity, 2);
    /* Full: the self-signed one evicts the CA (the leaf was used since). */
    CHECK(cert_flow(cache, 4, ss_der, sizeof ss_der, NULL, 0, &e, NULL));
    st = cstats(cache);
    CHECK_INT(st.misses, 3);
    CHECK_INT(st.evictions, 1);
    CHECK_INT(st.entries, 2);
    CHECK(cert_flow(cache, 5, leaf_der, sizeof leaf_der, NULL, 0, &e, NULL));
    CHECK_INT(cstats(cache).hits, 2);
    CHECK_STR(e.u.tls.subject_cn, "dc01.contoso.local");
    CHECK(cert_flow(cache, 6, ss_der, sizeof ss_der, NULL, 0, &e, NULL));
    CHECK_INT(cstats(cache).hits, 3);
    CHECK_STR(e.u.tls.subject_cn, "WS042.contoso.local");
    /* The CA was evicted: parsed again, still right. */
    CHECK(cert_flow(cache, 7, ca_der, sizeof ca_der, NULL, 0, &e, NULL));
    st = cstats(cache);
    CHECK_INT(st.misses, 4);
    CHECK_INT(st.evictions, 2);
    CHECK_INT(st.entries, 2);
    CHECK_STR(e.u.tls.subject_cn, "Contoso Test Root CA");
    CHECK_STR(e.u.tls.subject, "CN=Contoso Test Root CA,O=Contoso Test,C=US");
    CHECK(e.u.tls.self_signed);
    CHECK_INT(e.u.tls.n_san, 0);
    pw_dissect_cache_free(cache);

    /* Direct use: keys are whole DER strings (same length, same hash
     * bucket or not, one different byte is a different key); many keys
     * through a small cache keep it at its bound. */
    pw_cert_cache *cc = pw_cert_cache_new(4);
    CHECK(cc != NULL);
    if (!cc)
        return;
    static uint8_t key[300];
    pw_cert_fields f;
    memset(&f, 0, sizeof f);
    f.ok = true;
    for (int i = 0; i < 100; i++) {
        memset(key, 0x55, sizeof key);
        key[sizeof key - 1] = (uint8_t)i;
        CHECK(pw_cert_cache_get(cc, key, sizeof key) == NULL);
        snprintf(f.subject_cn, sizeof f.subject_cn, "key%d", i);
        pw_cert_cache_put(cc, key, sizeof key, &f);
        const pw_cert_fields *got = pw_cert_cache_get(cc, key, sizeof key);
        CHECK(got != NULL);
        if (got)
            CHECK_STR(got->subject_cn, f.subject_cn);
    }
    pw_cert_cache_stats st2;
    pw_cert_cache_get_stats(cc, &st2);
    CHECK_INT(st2.entries, 4);
    CHECK_INT(st2.evictions, 96);
    CHECK_INT(st2.misses, 100);
    CHECK_INT(st2.hits, 100);
    /* the most recent key is still there, an old one is not */
    CHECK(pw_cert_cache_get(cc, key, sizeof key) != NULL);
    key[sizeof key - 1] = 0;
    CHECK(pw_cert_cache_get(cc, key, sizeof key) == NULL);
    /* a shorter prefix of a cached key is another key */
    key[sizeof key - 1] = 99;
    CHECK(pw_cert_cache_get(cc, key, sizeof key - 1) == NULL);
    /* oversized certificates are never cached */
    static uint8_t big[PW_CERT_CACHE_DER_MAX + 1];
    pw_cert_cache_put(cc, big, sizeof big, &f);
    CHECK(pw_cert_cache_get(cc, big, sizeof big) == NULL);
    pw_cert_cache_get_stats(cc, &st2);
    CHECK_INT(st2.uncacheable, 1);
    CHECK_INT(st2.entries, 4);
    pw_cert_cache_free(cc);
}

int main(void)
{
    test_client_hello_split();
    test_server_tls12();
    test_server_tls13();
    test_hello_retry();
    test_alert();
    test_not_tls();
    test_truncation();
    test_cert_cache_hit();
    test_cert_cache_evict();
    CHECK_DONE();
}
