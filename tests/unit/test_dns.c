/* test_dns.c - the DNS dissector on hand-built RFC 1035 messages. */
#include "../../dissectors/dissector.h"
#include "check.h"
#include "event_tail.h"

#include <stdlib.h>

/* ---- event recorder ---- */
#define MAX_EV 64
static pw_event evs[MAX_EV];
static int n_ev, n_app, n_dns, n_mal;
static void rec(void *arg, const pw_event *ev)
{
    (void)arg;
    CHECK_EVENT_TAIL(ev);
    if (ev->type == PW_EV_APP)
        n_app++;
    if (ev->type == PW_EV_DNS)
        n_dns++;
    if (ev->type == PW_EV_MALFORMED)
        n_mal++;
    if (n_ev < MAX_EV)
        evs[n_ev] = *ev;
    n_ev++;
}
static void reset(void) { n_ev = n_app = n_dns = n_mal = 0; }
static pw_flow flow;
static pw_dctx mkctx(int dir)
{
    pw_dctx ctx = {.flow = &flow, .dir = dir, .frame = 7, .ts = 5, .emit = rec};
    return ctx;
}
static void run(const uint8_t *data, size_t len)
{
    reset();
    pw_dctx ctx = mkctx(0);
    pw_dissector_dns.datagram(&ctx, data, len);
}
/* The k-th DNS event. */
static const pw_ev_dns *dns_ev(int k)
{
    for (int i = 0; i < n_ev && i < MAX_EV; i++)
        if (evs[i].type == PW_EV_DNS && k-- == 0)
            return &evs[i].u.dns;
    return NULL;
}
static const char *addr_s(const pw_addr *a)
{
    static char buf[PW_ADDR_STRLEN];
    return pw_addr_str(a, buf, sizeof buf);
}

/* ---- message builder ---- */
typedef struct { uint8_t b[2048]; size_t n; } pkt;
static void u8(pkt *p, unsigned v) { p->b[p->n++] = (uint8_t)v; }
static void u16(pkt *p, unsigned v) { u8(p, v >> 8); u8(p, v & 0xff); }
static void u32(pkt *p, uint32_t v) { u16(p, v >> 16); u16(p, v & 0xffff); }
static void hdr(pkt *p, unsigned id, unsigned flags, unsigned qd, unsigned an)
{
    p->n = 0;
    u16(p, id); u16(p, flags); u16(p, qd); u16(p, an); u16(p, 0); u16(p, 0);
}
/* Dotted labels; end with 0 (ptr == 0) or a compression pointer. */
static void labels(pkt *p, const char *dotted, unsigned ptr)
{
    while (*dotted) {
        const char *dot = strchr(dotted, '.');
        size_t l = dot ? (size_t)(dot - dotted) : strlen(dotted);
        u8(p, (unsigned)l);
        memcpy(p->b + p->n, dotted, l);
        p->n += l;
        dotted += l + (dot ? 1 : 0);
    }
    if (ptr)
        u16(p, 0xc000 | ptr);
    else
        u8(p, 0);
}
static void question(pkt *p, const char *name, unsigned qtype)
{
    labels(p, name, 0);
    u16(p, qtype); u16(p, 1);
}
/* RR header with owner name given as a pointer; returns rdlength offset. */
static size_t rr(pkt *p, unsigned owner_ptr, unsigned type, uint32_t ttl)
{
    u16(p, 0xc000 | owner_ptr);
    u16(p, type); u16(p, 1); u32(p, ttl);
    size_t at = p->n;
    u16(p, 0);
    return at;
}
static void rr_end(pkt *p, size_t at)
{
    size_t len = p->n - at - 2;
    p->b[at] = (uint8_t)(len >> 8);
    p->b[at + 1] = (uint8_t)len;
}

static void build_ptr_response(pkt *p)
{
    hdr(p, 0xbeef, 0x8180, 1, 1);
    question(p, "3.2.1.10.in-addr.arpa", 12);
    size_t at = rr(p, 12, 12, 3600);
    labels(p, "host1.corp.example", 0);
    rr_end(p, at);
}

static void test_ptr_v4(void)
{
    pkt p;
    hdr(&p, 0xbeef, 0x0100, 1, 0);
    question(&p, "3.2.1.10.in-addr.arpa", 12);
    run(p.b, p.n);
    CHECK_INT(n_ev, 2);
    CHECK_INT(evs[0].type, PW_EV_APP);
    CHECK_STR(evs[0].u.app, "dns");
    const pw_ev_dns *d = dns_ev(0);
    CHECK(d != NULL);
    if (!d)
        return;
    CHECK_INT(d->txid, 0xbeef);
    CHECK(!d->response);
    CHECK_INT(d->opcode, 0);
    CHECK_INT(d->qdcount, 1);
    CHECK_INT(d->ancount, 0);
    CHECK_STR(d->qname, "3.2.1.10.in-addr.arpa");
    CHECK_INT(d->qtype, 12);
    CHECK_INT(d->qclass, 1);
    CHECK(d->reverse);
    CHECK_INT(d->reverse_addr.family, 4);
    CHECK_STR(addr_s(&d->reverse_addr), "10.1.2.3");
    CHECK_INT(d->n_answers, 0);
    CHECK_INT(evs[1].frame, 7);

    build_ptr_response(&p);
    run(p.b, p.n);
    CHECK_INT(n_app, 1);
    CHECK_INT(n_mal, 0);
    d = dns_ev(0);
    CHECK(d != NULL);
    if (!d)
        return;
    CHECK(d->response);
    CHECK_INT(d->rcode, 0);
    CHECK(d->reverse);
    CHECK_STR(addr_s(&d->reverse_addr), "10.1.2.3");
    CHECK_INT(d->n_answers, 1);
    CHECK_INT(d->answers[0].type, 12);
    CHECK_INT(d->answers[0].ttl, 3600);
    CHECK_STR(d->answers[0].target, "host1.corp.example");

    /* Upper case suffix is still a reverse name; qname keeps its case. */
    hdr(&p, 1, 0x0100, 1, 0);
    question(&p, "3.2.1.10.IN-ADDR.ARPA", 12);
    run(p.b, p.n);
    d = dns_ev(0);
    CHECK(d && d->reverse && strcmp(d->qname, "3.2.1.10.IN-ADDR.ARPA") == 0);
    CHECK(d && strcmp(addr_s(&d->reverse_addr), "10.1.2.3") == 0);
    hdr(&p, 1, 0x0100, 1, 0);
    question(&p, "0.0.0.0.in-addr.arpa", 12);
    run(p.b, p.n);
    d = dns_ev(0);
    CHECK(d && d->reverse && strcmp(addr_s(&d->reverse_addr), "0.0.0.0") == 0);
    hdr(&p, 1, 0x0100, 1, 0);
    question(&p, "255.255.255.255.in-addr.arpa", 12);
    run(p.b, p.n);
    d = dns_ev(0);
    CHECK(d && d->reverse && strcmp(addr_s(&d->reverse_addr), "255.255.255.255") == 0);
}

static void test_ptr_v6(void)
{
    /* 2001:db8::1 */
    const char *name = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
    pkt p;
    hdr(&p, 0x6666, 0x0100, 1, 0);
    question(&p, name, 12);
    run(p.b, p.n);
    const pw_ev_dns *d = dns_ev(0);
    CHECK(d != NULL);
    if (!d)
        return;
    CHECK_STR(d->qname, name);
    CHECK(d->reverse);
    CHECK_INT(d->reverse_addr.family, 6);
    CHECK_STR(addr_s(&d->reverse_addr), "2001:db8::1");

    /* Response with an upper-case name and hex digits. */
    const char *up = "F.E.D.C.B.A.9.8.7.6.5.4.3.2.1.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.IP6.ARPA";
    hdr(&p, 0x6667, 0x8180, 1, 1);
    question(&p, up, 12);
    size_t at = rr(&p, 12, 12, 60);
    labels(&p, "v6host.example", 0);
    rr_end(&p, at);
    run(p.b, p.n);
    d = dns_ev(0);
    CHECK(d && d->reverse);
    CHECK(d && strcmp(addr_s(&d->reverse_addr), "2001:db8::123:4567:89ab:cdef") == 0);
    CHECK(d && d->n_answers == 1 && strcmp(d->answers[0].target, "v6host.example") == 0);
}

static void test_bad_reverse(void)
{
    static const char *bad[] = {
        "1.2.3.4.5.in-addr.arpa", /* 5 labels */
        "256.1.1.10.in-addr.arpa",
        "a.1.1.10.in-addr.arpa",
        "1.1.10.in-addr.arpa",    /* 3 labels */
        "01.1.1.10.in-addr.arpa", /* leading zero */
        "1.-1.1.10.in-addr.arpa",
        "1234.1.1.10.in-addr.arpa",
        "in-addr.arpa",
        "3.2.1.10.in-addr.arpa.example",
        "3.2.1.10.inaddr.arpa",
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",   /* 31 */
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", /* 33 */
        "g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
        "10.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
        "ip6.arpa",
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pkt p;
        hdr(&p, 1, 0x0100, 1, 0);
        question(&p, bad[i], 12);
        run(p.b, p.n);
        const pw_ev_dns *d = dns_ev(0);
        if (!d || d->reverse || d->reverse_addr.family != 0 || strcmp(d->qname, bad[i]) != 0 || n_mal) {
            fprintf(stderr, "bad reverse name accepted or mangled: %s\n", bad[i]);
            ok = 0;
        }
    }
    CHECK(ok);
}

static void test_rcodes(void)
{
    static const struct { unsigned flags, rcode; } cases[] = {
        {0x8183, 3}, {0x8185, 5}, {0x8182, 2}, {0x8180, 0},
    };
    for (size_t i = 0; i < 4; i++) {
        pkt p;
        hdr(&p, 0x4242, cases[i].flags, 1, 0);
        question(&p, "3.2.1.10.in-addr.arpa", 12);
        run(p.b, p.n);
        const pw_ev_dns *d = dns_ev(0);
        CHECK(d != NULL);
        CHECK(d && d->response && d->rcode == cases[i].rcode && d->n_answers == 0 && d->reverse);
        CHECK_INT(n_mal, 0);
    }
}

static void build_forward(pkt *p)
{
    /* www.Example.com A -> CNAME web.example.com (target compressed),
     * A 93.184.216.34, AAAA 2606:2800:220:1::1, and an MX skipped. */
    hdr(p, 0x1234, 0x8180, 1, 4);
    question(p, "www.Example.com", 1); /* name at 12; "Example.com" at 16 */
    size_t at = rr(p, 12, 5, 300);
    size_t cname_target = p->n;
    labels(p, "web", 16);
    rr_end(p, at);
    at = rr(p, (unsigned)cname_target, 15, 300); /* MX: skipped */
    u16(p, 10);
    labels(p, "mail", 16);
    rr_end(p, at);
    at = rr(p, (unsigned)cname_target, 1, 60);
    u8(p, 93); u8(p, 184); u8(p, 216); u8(p, 34);
    rr_end(p, at);
    at = rr(p, (unsigned)cname_target, 28, 61);
    static const uint8_t v6[16] = {0x26, 0x06, 0x28, 0x00, 0x02, 0x20, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
    for (int i = 0; i < 16; i++)
        u8(p, v6[i]);
    rr_end(p, at);
}

static void test_forward(void)
{
    pkt p;
    build_forward(&p);
    run(p.b, p.n);
    CHECK_INT(n_mal, 0);
    const pw_ev_dns *d = dns_ev(0);
    CHECK(d != NULL);
    if (!d)
        return;
    CHECK_STR(d->qname, "www.Example.com");
    CHECK_INT(d->qtype, 1);
    CHECK(!d->reverse);
    CHECK_INT(d->ancount, 4);
    CHECK_INT(d->n_answers, 3);
    CHECK_INT(d->answers[0].type, 5);
    CHECK_STR(d->answers[0].target, "web.Example.com");
    CHECK_INT(d->answers[0].ttl, 300);
    CHECK_INT(d->answers[1].type, 1);
    CHECK_STR(addr_s(&d->answers[1].addr), "93.184.216.34");
    CHECK_INT(d->answers[1].ttl, 60);
    CHECK_INT(d->answers[2].type, 28);
    CHECK_STR(addr_s(&d->answers[2].addr), "2606:2800:220:1::1");
    CHECK_STR(d->answers[2].target, "");

    /* More than PW_DNS_MAX_ANSWERS A records: the first 8 are kept. */
    hdr(&p, 9, 0x8180, 1, 12);
    question(&p, "many.example", 1);
    for (int i = 0; i < 12; i++) {
        size_t at = rr(&p, 12, 1, 1);
        u8(&p, 10); u8(&p, 0); u8(&p, 0); u8(&p, (unsigned)i);
        rr_end(&p, at);
    }
    run(p.b, p.n);
    d = dns_ev(0);
    CHECK(d && d->n_answers == PW_DNS_MAX_ANSWERS);
    CHECK(d && strcmp(addr_s(&d->answers[7].addr), "10.0.0.7") == 0);
    CHECK_INT(n_mal, 0);

    /* Non-printable label bytes become '?'. */
    hdr(&p, 10, 0x0100, 1, 0);
    u8(&p, 3); u8(&p, 'a'); u8(&p, 0xff); u8(&p, 0x01); u8(&p, 1); u8(&p, '.'); u8(&p, 0);
    u16(&p, 1); u16(&p, 1);
    run(p.b, p.n);
    d = dns_ev(0);
    CHECK(d && strcmp(d->qname, "a??..") == 0);

    /* Root name, and no question at all. */
    hdr(&p, 11, 0x0100, 1, 0);
    u8(&p, 0); u16(&p, 2); u16(&p, 1);
    run(p.b, p.n);
    d = dns_ev(0);
    CHECK(d && d->qname[0] == 0 && d->qtype == 2);
    hdr(&p, 12, 0x8180, 0, 0);
    run(p.b, p.n);
    d = dns_ev(0);
    CHECK(d && d->qdcount == 0 && d->qname[0] == 0 && n_mal == 0);

    /* Other opcodes (here 4, NOTIFY) keep their answers. */
    hdr(&p, 14, 0xa000, 1, 1);
    question(&p, "zone.example", 1);
    size_t at = rr(&p, 12, 1, 5);
    u8(&p, 10); u8(&p, 0); u8(&p, 0); u8(&p, 2);
    rr_end(&p, at);
    run(p.b, p.n);
    d = dns_ev(0);
    CHECK(d && d->opcode == 4 && d->n_answers == 1 && strcmp(addr_s(&d->answers[0].addr), "10.0.0.2") == 0);

    /* UPDATE (opcode 5): the prerequisite section is not reported as answers. */
    hdr(&p, 13, 0x2800, 1, 1);
    question(&p, "zone.example", 6);
    at = rr(&p, 12, 1, 0);
    u8(&p, 10); u8(&p, 0); u8(&p, 0); u8(&p, 1);
    rr_end(&p, at);
    run(p.b, p.n);
    d = dns_ev(0);
    CHECK(d && d->opcode == 5 && d->n_answers == 0 && n_mal == 0);
}

static void test_compression_abuse(void)
{
    pkt p;
    /* Question name pointing at itself. */
    hdr(&p, 1, 0x0100, 1, 0);
    u16(&p, 0xc00c); u16(&p, 1); u16(&p, 1);
    run(p.b, p.n);
    CHECK_INT(n_mal, 1);
    CHECK_INT(n_app, 0);
    CHECK_INT(n_dns, 0);
    CHECK_STR(evs[0].u.malformed, "dns: bad question");

    /* A label then a pointer back to that label: a loop. */
    hdr(&p, 2, 0x0100, 1, 0);
    labels(&p, "a", 12);
    u16(&p, 1); u16(&p, 1);
    run(p.b, p.n);
    CHECK_INT(n_mal, 1);
    CHECK_INT(n_dns, 0);

    /* Forward pointer in the question. */
    hdr(&p, 3, 0x0100, 1, 0);
    u16(&p, 0xc000 | 18); u16(&p, 1); u16(&p, 1);
    labels(&p, "x", 0);
    run(p.b, p.n);
    CHECK_INT(n_mal, 1);
    CHECK_INT(n_dns, 0);

    /* A forward pointer in the second question: the first is reported. */
    hdr(&p, 3, 0x0100, 2, 0);
    question(&p, "codemonkey.net", 1);
    u16(&p, 0xc000 | (unsigned)(p.n + 6)); u16(&p, 1); u16(&p, 1);
    labels(&p, "x", 0);
    run(p.b, p.n);
    CHECK_INT(n_mal, 1);
    CHECK_INT(n_app, 1);
    CHECK(dns_ev(0) && strcmp(dns_ev(0)->qname, "codemonkey.net") == 0);

    /* Pointer past the end. */
    hdr(&p, 4, 0x0100, 1, 0);
    u16(&p, 0xffff); u16(&p, 1); u16(&p, 1);
    run(p.b, p.n);
    CHECK_INT(n_mal, 1);

    /* Answer whose CNAME target is a forward pointer (into the next RR):
     * the answer is dropped, the A after it kept, and it is reported. */
    hdr(&p, 5, 0x8180, 1, 2);
    question(&p, "fwd.example", 1);
    size_t at = rr(&p, 12, 5, 1);
    size_t here = p.n;
    u16(&p, 0xc000 | (unsigned)(here + 2 + 2));
    rr_end(&p, at);
    at = rr(&p, 12, 1, 1);
    u8(&p, 1); u8(&p, 2); u8(&p, 3); u8(&p, 4);
    rr_end(&p, at);
    run(p.b, p.n);
    const pw_ev_dns *d = dns_ev(0);
    CHECK(d && d->n_answers == 1 && d->answers[0].type == 1);
    CHECK(d && strcmp(addr_s(&d->answers[0].addr), "1.2.3.4") == 0);
    CHECK_INT(n_mal, 1);
    CHECK_INT(n_app, 1);

    /* Answer owner name pointing at itself: the answer section stops. */
    hdr(&p, 6, 0x8180, 1, 1);
    question(&p, "loop.example", 1);
    here = p.n;
    u16(&p, 0xc000 | (unsigned)here); u16(&p, 1); u16(&p, 1); u32(&p, 1); u16(&p, 4);
    u32(&p, 0x01020304);
    run(p.b, p.n);
    d = dns_ev(0);
    CHECK(d && d->n_answers == 0 && strcmp(d->qname, "loop.example") == 0);
    CHECK_INT(n_mal, 1);

    /* Chains of backward pointers, hidden in a TXT record's RDATA, then
     * followed by a CNAME target: 30 jumps are fine, 40 exceed the limit. */
    for (int depth = 30; depth <= 40; depth += 10) {
        hdr(&p, 7, 0x8180, 1, 2);
        question(&p, "z", 1); /* "z" at 12 */
        at = rr(&p, 12, 16, 1);
        size_t prev = 12;
        for (int i = 0; i < depth; i++) {
            size_t cur = p.n;
            u8(&p, 1); u8(&p, 'a'); u16(&p, 0xc000 | (unsigned)prev);
            prev = cur;
        }
        rr_end(&p, at);
        at = rr(&p, 12, 5, 1);
        u16(&p, 0xc000 | (unsigned)prev);
        rr_end(&p, at);
        run(p.b, p.n);
        d = dns_ev(0);
        if (depth == 30) {
            CHECK_INT(n_mal, 0);
            CHECK(d && d->n_answers == 1 && strlen(d->answers[0].target) == 61);
        } else {
            CHECK_INT(n_mal, 1);
            CHECK(d && d->n_answers == 0);
        }
    }

    /* A name longer than 255 bytes (5 labels of 63). */
    hdr(&p, 8, 0x0100, 1, 0);
    for (int i = 0; i < 5; i++) {
        u8(&p, 63);
        memset(p.b + p.n, 'a', 63);
        p.n += 63;
    }
    u8(&p, 0); u16(&p, 1); u16(&p, 1);
    run(p.b, p.n);
    CHECK_INT(n_mal, 1);
    CHECK_INT(n_dns, 0);
    /* 4 labels of 63: 257 bytes, still too long; 3 of 63 + 1 of 61 = 255 is fine. */
    hdr(&p, 9, 0x0100, 1, 0);
    for (int i = 0; i < 4; i++) {
        unsigned l = i == 3 ? 61 : 63;
        u8(&p, l);
        memset(p.b + p.n, 'b', l);
        p.n += l;
    }
    u8(&p, 0); u16(&p, 1); u16(&p, 1);
    run(p.b, p.n);
    d = dns_ev(0);
    CHECK(d && strlen(d->qname) == 253 && n_mal == 0);
    /* Extended label type 0x40. */
    hdr(&p, 10, 0x0100, 1, 0);
    u8(&p, 0x41); u8(&p, 'x'); u8(&p, 0); u16(&p, 1); u16(&p, 1);
    run(p.b, p.n);
    CHECK_INT(n_mal, 1);
    CHECK_INT(n_dns, 0);
}

static void test_truncation(void)
{
    pkt p;
    build_forward(&p);
    size_t q_end = 12 + 17 + 4; /* header + www.Example.com + type/class */
    int ok = 1;
    for (size_t cut = 0; cut < p.n && ok; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, p.b, cut);
        run(copy, cut);
        free(copy);
        if (n_mal != 1 || n_app != n_dns || (cut < q_end) != (n_dns == 0))
            ok = 0;
        const pw_ev_dns *d = dns_ev(0);
        if (d && d->n_answers >= 3)
            ok = 0;
        if (!ok)
            fprintf(stderr, "cut %zu: mal %d app %d dns %d\n", cut, n_mal, n_app, n_dns);
    }
    CHECK(ok);
    build_ptr_response(&p);
    ok = 1;
    for (size_t cut = 0; cut < p.n && ok; cut++) {
        run(p.b, cut);
        if (n_mal != 1 || n_app != n_dns || n_dns > 1)
            ok = 0;
    }
    CHECK(ok);
}

static void test_tcp(void)
{
    pkt q, r;
    hdr(&q, 0xbeef, 0x0100, 1, 0);
    question(&q, "3.2.1.10.in-addr.arpa", 12);
    build_ptr_response(&r);
    uint8_t st[64];
    CHECK(pw_dissector_dns.state_size <= sizeof st);
    memset(st, 0, sizeof st);
    if (pw_dissector_dns.stream_init)
        pw_dissector_dns.stream_init(st);

    /* Query split across two calls. */
    uint8_t buf[4096];
    size_t n = 0;
    buf[n++] = (uint8_t)(q.n >> 8);
    buf[n++] = (uint8_t)q.n;
    memcpy(buf + n, q.b, q.n);
    n += q.n;
    bool done = false;
    pw_dctx c0 = mkctx(0), c1 = mkctx(1);
    reset();
    size_t used = pw_dissector_dns.stream(&c0, st, buf, 1, &done);
    CHECK_INT(used, 0);
    used = pw_dissector_dns.stream(&c0, st, buf, 10, &done);
    CHECK_INT(used, 0);
    CHECK_INT(n_ev, 0);
    used = pw_dissector_dns.stream(&c0, st, buf, n, &done);
    CHECK_INT(used, n);
    CHECK_INT(n_dns, 1);
    CHECK(!done);
    const pw_ev_dns *d = dns_ev(0);
    CHECK(d && d->reverse && !d->response && strcmp(d->qname, "3.2.1.10.in-addr.arpa") == 0);
    CHECK_INT(evs[0].dir, 0);

    /* Response: not done (the client may ask again on this connection). */
    n = 0;
    buf[n++] = (uint8_t)(r.n >> 8);
    buf[n++] = (uint8_t)r.n;
    memcpy(buf + n, r.b, r.n);
    n += r.n;
    reset();
    used = pw_dissector_dns.stream(&c1, st, buf, n - 3, &done);
    CHECK_INT(used, 0);
    used = pw_dissector_dns.stream(&c1, st, buf, n, &done);
    CHECK_INT(used, n);
    CHECK(!done);
    d = dns_ev(0);
    CHECK(d && d->response && d->n_answers == 1 && strcmp(d->answers[0].target, "host1.corp.example") == 0);
    CHECK_INT(evs[0].dir, 1);
    /* ... and a second query on the same connection is still seen. */
    n = 0;
    buf[n++] = (uint8_t)(q.n >> 8);
    buf[n++] = (uint8_t)q.n;
    memcpy(buf + n, q.b, q.n);
    n += q.n;
    reset();
    used = pw_dissector_dns.stream(&c0, st, buf, n, &done);
    CHECK_INT(used, n);
    CHECK_INT(n_dns, 1);

    /* Two queries and half a third in one call: two consumed. */
    memset(st, 0, sizeof st);
    done = false;
    n = 0;
    for (int k = 0; k < 3; k++) {
        buf[n++] = (uint8_t)(q.n >> 8);
        buf[n++] = (uint8_t)q.n;
        memcpy(buf + n, q.b, q.n);
        n += q.n;
    }
    reset();
    used = pw_dissector_dns.stream(&c0, st, buf, n - 5, &done);
    CHECK_INT(used, 2 * (q.n + 2));
    CHECK_INT(n_dns, 2);
    CHECK_INT(n_app, 2);
    CHECK(!done);

    /* Pipelined: 20 queries then 20 responses are all seen; done after 16
     * messages each way.  One direction alone stops after 64. */
    memset(st, 0, sizeof st);
    done = false;
    reset();
    for (int k = 0; k < 20 && !done; k++)
        pw_dissector_dns.stream(&c0, st, buf, q.n + 2, &done);
    CHECK(!done);
    CHECK_INT(n_dns, 20);
    uint8_t rbuf[512];
    rbuf[0] = (uint8_t)(r.n >> 8);
    rbuf[1] = (uint8_t)r.n;
    memcpy(rbuf + 2, r.b, r.n);
    for (int k = 0; k < 20 && !done; k++)
        pw_dissector_dns.stream(&c1, st, rbuf, r.n + 2, &done);
    CHECK(done);
    CHECK_INT(n_dns, 36);
    memset(st, 0, sizeof st);
    done = false;
    reset();
    for (int k = 0; k < 100 && !done; k++)
        pw_dissector_dns.stream(&c0, st, buf, q.n + 2, &done);
    CHECK(done);
    CHECK_INT(n_dns, 64);
    reset();
    CHECK_INT(pw_dissector_dns.stream(&c0, st, buf, q.n + 2, &done), 0); /* nothing after done */
    CHECK_INT(n_ev, 0);

    /* A malformed message in the stream is consumed and reported. */
    memset(st, 0, sizeof st);
    done = false;
    n = 0;
    buf[n++] = 0; buf[n++] = 14;
    memcpy(buf + n, q.b, 14);
    n += 14;
    reset();
    used = pw_dissector_dns.stream(&c0, st, buf, n, &done);
    CHECK_INT(used, n);
    CHECK_INT(n_mal, 1);
    CHECK_INT(n_dns, 0);
    CHECK(!done);

    /* Not DNS framing: a length too short for a header. */
    memset(st, 0, sizeof st);
    done = false;
    reset();
    buf[0] = 0; buf[1] = 3;
    used = pw_dissector_dns.stream(&c0, st, buf, 8, &done);
    CHECK_INT(used, 8);
    CHECK(done);
    CHECK_INT(n_mal, 1);
}

static void test_registry(void)
{
    CHECK(pw_dissector_for_port(17, 53) == &pw_dissector_dns);
    CHECK(pw_dissector_for_port(6, 53) == &pw_dissector_dns);
    CHECK(pw_dissector_for_port(17, 5355) == &pw_dissector_dns);
    CHECK(pw_dissector_by_name("dns") == &pw_dissector_dns);
}

int main(void)
{
    uint8_t c[4] = {10, 0, 0, 1}, s[4] = {10, 0, 0, 53};
    pw_addr_v4(&flow.client, c);
    pw_addr_v4(&flow.server, s);
    flow.proto = 17;
    flow.client_port = 40000;
    flow.server_port = 53;
    test_ptr_v4();
    test_ptr_v6();
    test_bad_reverse();
    test_rcodes();
    test_forward();
    test_compression_abuse();
    test_truncation();
    test_tcp();
    test_registry();
    CHECK_DONE();
}
