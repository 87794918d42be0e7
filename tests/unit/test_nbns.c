/* test_nbns.c - the NBNS dissector on hand-built RFC 1002 packets. */
#include "../../dissectors/dissector.h"
#include "check.h"
#include "event_tail.h"

#include <stdlib.h>

/* ---- event recorder ---- */
#define MAX_EV 16
static pw_event evs[MAX_EV];
static int n_ev, n_app, n_nbns, n_mal;
static void rec(void *arg, const pw_event *ev)
{
    (void)arg;
    CHECK_EVENT_TAIL(ev);
    if (ev->type == PW_EV_APP)
        n_app++;
    if (ev->type == PW_EV_NBNS)
        n_nbns++;
    if (ev->type == PW_EV_MALFORMED)
        n_mal++;
    if (n_ev < MAX_EV)
        evs[n_ev] = *ev;
    n_ev++;
}
static pw_flow flow;
static void run(const uint8_t *data, size_t len)
{
    n_ev = n_app = n_nbns = n_mal = 0;
    pw_dctx ctx = {.flow = &flow, .dir = 1, .frame = 42, .ts = 1000, .emit = rec};
    pw_dissector_nbns.datagram(&ctx, data, len);
}
static const pw_ev_nbns *nbns_ev(void)
{
    for (int i = 0; i < n_ev && i < MAX_EV; i++)
        if (evs[i].type == PW_EV_NBNS)
            return &evs[i].u.nbns;
    return NULL;
}
static const char *malformed_what(void)
{
    for (int i = 0; i < n_ev && i < MAX_EV; i++)
        if (evs[i].type == PW_EV_MALFORMED)
            return evs[i].u.malformed;
    return "";
}

/* ---- packet builder ---- */
typedef struct { uint8_t b[1024]; size_t n; } pkt;
static void u8(pkt *p, unsigned v) { p->b[p->n++] = (uint8_t)v; }
static void u16(pkt *p, unsigned v) { u8(p, v >> 8); u8(p, v & 0xff); }
static void u32(pkt *p, uint32_t v) { u16(p, v >> 16); u16(p, v & 0xffff); }
static void bytes(pkt *p, const void *d, size_t n) { memcpy(p->b + p->n, d, n); p->n += n; }
static void hdr(pkt *p, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
    p->n = 0;
    u16(p, id); u16(p, flags); u16(p, qd); u16(p, an); u16(p, ns); u16(p, ar);
}
/* First-level encoding of a 16-byte raw name (RFC 1001 14.1), optional scope. */
static void nbname_raw(pkt *p, const uint8_t raw[16], const char *scope)
{
    u8(p, 32);
    for (int i = 0; i < 16; i++) {
        u8(p, 'A' + (raw[i] >> 4));
        u8(p, 'A' + (raw[i] & 15));
    }
    while (scope && *scope) {
        const char *dot = strchr(scope, '.');
        size_t l = dot ? (size_t)(dot - scope) : strlen(scope);
        u8(p, (unsigned)l);
        bytes(p, scope, l);
        scope += l + (dot ? 1 : 0);
    }
    u8(p, 0);
}
static void nbname(pkt *p, const char *name, uint8_t suffix)
{
    uint8_t raw[16];
    memset(raw, ' ', 15);
    memcpy(raw, name, strlen(name));
    raw[15] = suffix;
    nbname_raw(p, raw, NULL);
}
static void wildcard(pkt *p)
{
    uint8_t raw[16] = {'*'};
    nbname_raw(p, raw, NULL);
}
static void table_entry(pkt *p, const char *name, uint8_t suffix, unsigned flags)
{
    uint8_t raw[15];
    memset(raw, ' ', 15);
    memcpy(raw, name, strlen(name));
    bytes(p, raw, 15);
    u8(p, suffix);
    u16(p, flags);
}

/* Node status response: WS01 / CORP name table, MAC 00:15:5d:01:02:03. */
static void build_nbstat_response(pkt *p)
{
    hdr(p, 0x1337, 0x8400, 0, 1, 0, 0);
    wildcard(p);
    u16(p, 0x21); u16(p, 1); u32(p, 0);
    size_t rdlen_at = p->n;
    u16(p, 0);
    size_t rd_start = p->n;
    u8(p, 5);
    table_entry(p, "WS01", 0x00, 0x0400);
    table_entry(p, "CORP", 0x00, 0x8400);
    table_entry(p, "CORP", 0x1c, 0x8400);
    table_entry(p, "WS01", 0x20, 0x0400);
    table_entry(p, "CORP", 0x1e, 0x8400);
    static const uint8_t mac[6] = {0x00, 0x15, 0x5d, 0x01, 0x02, 0x03};
    bytes(p, mac, 6);
    for (int i = 0; i < 40; i++)
        u8(p, 0); /* rest of the statistics */
    size_t rdlen = p->n - rd_start;
    p->b[rdlen_at] = (uint8_t)(rdlen >> 8);
    p->b[rdlen_at + 1] = (uint8_t)rdlen;
}

static void build_positive_nb(pkt *p)
{
    hdr(p, 0x0101, 0x8500, 0, 1, 0, 0);
    nbname(p, "FILESRV", 0x20);
    u16(p, 0x20); u16(p, 1); u32(p, 300000);
    u16(p, 12);
    u16(p, 0x0000); u8(p, 10); u8(p, 0); u8(p, 0); u8(p, 5);
    u16(p, 0x6000); u8(p, 192); u8(p, 168); u8(p, 1); u8(p, 5);
}

static void test_nbstat_request(void)
{
    pkt p;
    hdr(&p, 0x1337, 0x0000, 1, 0, 0, 0);
    wildcard(&p);
    u16(&p, 0x21); u16(&p, 1);
    run(p.b, p.n);
    CHECK_INT(n_ev, 2);
    CHECK_INT(evs[0].type, PW_EV_APP);
    CHECK_STR(evs[0].u.app, "netbios");
    const pw_ev_nbns *n = nbns_ev();
    CHECK(n != NULL);
    if (!n)
        return;
    CHECK_INT(n->txid, 0x1337);
    CHECK(!n->response);
    CHECK_INT(n->opcode, 0);
    CHECK_INT(n->rcode, 0);
    CHECK_INT(n->qtype, PW_NBNS_QTYPE_NBSTAT);
    CHECK_STR(n->qname, "*");
    CHECK_INT(n->qsuffix, 0);
    CHECK_INT(n->n_names, 0);
    CHECK_INT(n->n_addrs, 0);
    CHECK(!n->has_mac);
    CHECK_INT(evs[1].frame, 42);
    CHECK_INT(evs[1].dir, 1);
    CHECK_INT(evs[1].ts, 1000);
}

static void test_nbstat_response(void)
{
    pkt p;
    build_nbstat_response(&p);
    run(p.b, p.n);
    CHECK_INT(n_app, 1);
    CHECK_INT(n_nbns, 1);
    CHECK_INT(n_mal, 0);
    const pw_ev_nbns *n = nbns_ev();
    CHECK(n != NULL);
    if (!n)
        return;
    CHECK(n->response);
    CHECK_INT(n->txid, 0x1337);
    CHECK_INT(n->rcode, 0);
    CHECK_INT(n->qtype, PW_NBNS_QTYPE_NBSTAT);
    CHECK_STR(n->qname, "*");
    CHECK_INT(n->n_names, 5);
    CHECK_STR(n->names[0].name, "WS01");
    CHECK_INT(n->names[0].suffix, 0x00);
    CHECK(!n->names[0].group);
    CHECK_INT(n->names[0].flags, 0x0400);
    CHECK_STR(n->names[1].name, "CORP");
    CHECK_INT(n->names[1].suffix, 0x00);
    CHECK(n->names[1].group);
    CHECK_STR(n->names[2].name, "CORP");
    CHECK_INT(n->names[2].suffix, 0x1c);
    CHECK(n->names[2].group);
    CHECK_INT(n->names[2].flags, 0x8400);
    CHECK_STR(n->names[3].name, "WS01");
    CHECK_INT(n->names[3].suffix, 0x20);
    CHECK(!n->names[3].group);
    CHECK_INT(n->names[4].suffix, 0x1e);
    CHECK(n->has_mac);
    static const uint8_t mac[6] = {0x00, 0x15, 0x5d, 0x01, 0x02, 0x03};
    CHECK(memcmp(n->mac, mac, 6) == 0);
    CHECK_INT(n->n_addrs, 0);
}

static void test_positive_nb(void)
{
    pkt p;
    build_positive_nb(&p);
    run(p.b, p.n);
    CHECK_INT(n_app, 1);
    CHECK_INT(n_mal, 0);
    const pw_ev_nbns *n = nbns_ev();
    CHECK(n != NULL);
    if (!n)
        return;
    CHECK(n->response);
    CHECK_INT(n->txid, 0x0101);
    CHECK_INT(n->qtype, PW_NBNS_QTYPE_NB);
    CHECK_STR(n->qname, "FILESRV");
    CHECK_INT(n->qsuffix, 0x20);
    CHECK_INT(n->n_addrs, 2);
    char buf[PW_ADDR_STRLEN];
    CHECK_STR(pw_addr_str(&n->addrs[0], buf, sizeof buf), "10.0.0.5");
    CHECK_STR(pw_addr_str(&n->addrs[1], buf, sizeof buf), "192.168.1.5");
    CHECK_INT(n->n_names, 0);
}

static void test_negative(void)
{
    pkt p;
    /* Windows form: ANCOUNT 1, NB record with no RDATA. */
    hdr(&p, 0x0202, 0x8583, 0, 1, 0, 0);
    nbname(&p, "NOSUCH", 0x00);
    u16(&p, 0x20); u16(&p, 1); u32(&p, 0); u16(&p, 0);
    run(p.b, p.n);
    CHECK_INT(n_app, 1);
    CHECK_INT(n_nbns, 1);
    CHECK_INT(n_mal, 0);
    const pw_ev_nbns *n = nbns_ev();
    CHECK(n && n->response && n->rcode == 3 && n->n_addrs == 0);
    CHECK(n && strcmp(n->qname, "NOSUCH") == 0 && n->qsuffix == 0 && n->qtype == 0x20);

    /* RFC 1002 4.2.14 diagram: ANCOUNT 0, NULL record follows anyway. */
    hdr(&p, 0x0203, 0x8583, 0, 0, 0, 0);
    nbname(&p, "GONE", 0x20);
    u16(&p, 0x0a); u16(&p, 1); u32(&p, 0); u16(&p, 0);
    run(p.b, p.n);
    n = nbns_ev();
    CHECK_INT(n_mal, 0);
    CHECK(n && n->rcode == 3 && strcmp(n->qname, "GONE") == 0 && n->qsuffix == 0x20);
    CHECK(n && n->qtype == 0x0a);

    /* Negative node status response (rcode 3): no table even with data. */
    hdr(&p, 0x0204, 0x8403, 0, 1, 0, 0);
    wildcard(&p);
    u16(&p, 0x21); u16(&p, 1); u32(&p, 0); u16(&p, 0);
    run(p.b, p.n);
    n = nbns_ev();
    CHECK(n && n->rcode == 3 && n->qtype == 0x21 && n->n_names == 0 && !n->has_mac);
}

static void test_names(void)
{
    pkt p;
    /* __MSBROWSE__ with control bytes; scope labels skipped. */
    static const uint8_t raw[16] = {1, 2, '_', '_', 'M', 'S', 'B', 'R', 'O', 'W', 'S', 'E', '_', '_', 2, 1};
    hdr(&p, 7, 0x0110, 1, 0, 0, 0);
    nbname_raw(&p, raw, "corp.example");
    u16(&p, 0x20); u16(&p, 1);
    run(p.b, p.n);
    const pw_ev_nbns *n = nbns_ev();
    CHECK(n != NULL);
    CHECK(n && strcmp(n->qname, "??__MSBROWSE__?") == 0);
    CHECK(n && n->qsuffix == 0x01 && n->qtype == 0x20 && !n->response);

    /* Full 15-character name, and one with an inner space. */
    hdr(&p, 8, 0x0100, 1, 0, 0, 0);
    nbname(&p, "ABCDEFGHIJKLMNO", 0x1b);
    u16(&p, 0x20); u16(&p, 1);
    run(p.b, p.n);
    n = nbns_ev();
    CHECK(n && strcmp(n->qname, "ABCDEFGHIJKLMNO") == 0 && n->qsuffix == 0x1b);
    hdr(&p, 9, 0x0100, 1, 0, 0, 0);
    nbname(&p, "MARTIN ROSENAU", 0x03);
    u16(&p, 0x20); u16(&p, 1);
    run(p.b, p.n);
    n = nbns_ev();
    CHECK(n && strcmp(n->qname, "MARTIN ROSENAU") == 0);

    /* Star followed by non-zero bytes is a name, not the wildcard. */
    hdr(&p, 10, 0x0100, 1, 0, 0, 0);
    nbname(&p, "*SMBSERVER", 0x20);
    u16(&p, 0x20); u16(&p, 1);
    run(p.b, p.n);
    n = nbns_ev();
    CHECK(n && strcmp(n->qname, "*SMBSERVER") == 0 && n->qsuffix == 0x20);

    /* Bad encodings: letter outside A..P, label not 32 long. */
    hdr(&p, 11, 0x0100, 1, 0, 0, 0);
    nbname(&p, "HOST", 0x00);
    p.b[12 + 5] = 'Z';
    u16(&p, 0x20); u16(&p, 1);
    run(p.b, p.n);
    CHECK_INT(n_mal, 1);
    CHECK_INT(n_app, 0);
    CHECK_INT(n_nbns, 0);
    CHECK_STR(malformed_what(), "nbns: bad question");
    hdr(&p, 12, 0x0100, 1, 0, 0, 0);
    u8(&p, 4); bytes(&p, "HOST", 4); u8(&p, 0);
    u16(&p, 0x20); u16(&p, 1);
    run(p.b, p.n);
    CHECK_INT(n_mal, 1);
    CHECK_INT(n_nbns, 0);
    /* A compression loop in the name. */
    hdr(&p, 13, 0x0100, 1, 0, 0, 0);
    u16(&p, 0xc00c); u16(&p, 0x20); u16(&p, 1);
    run(p.b, p.n);
    CHECK_INT(n_mal, 1);
    CHECK_INT(n_nbns, 0);
    /* Absurd counts. */
    hdr(&p, 14, 0x0100, 5, 0, 0, 0);
    run(p.b, p.n);
    CHECK_INT(n_mal, 1);
    CHECK_INT(n_app, 0);
}

static void test_registration_wack(void)
{
    pkt p;
    /* Registration request: question + additional RR whose name is a
     * compression pointer to the question. */
    hdr(&p, 0x0004, 0x2910, 1, 0, 0, 1);
    nbname(&p, "MDJR98", 0x03);
    u16(&p, 0x20); u16(&p, 1);
    u16(&p, 0xc00c); u16(&p, 0x20); u16(&p, 1); u32(&p, 300000); u16(&p, 6);
    u16(&p, 0); u8(&p, 192); u8(&p, 168); u8(&p, 239); u8(&p, 129);
    run(p.b, p.n);
    CHECK_INT(n_mal, 0);
    CHECK_INT(n_app, 1);
    const pw_ev_nbns *n = nbns_ev();
    CHECK(n && n->opcode == 5 && !n->response && strcmp(n->qname, "MDJR98") == 0);
    CHECK(n && n->qsuffix == 0x03 && n->n_addrs == 0);
    /* Release response, answer name a full name. */
    hdr(&p, 0x0005, 0xb400, 0, 1, 0, 0);
    nbname(&p, "MDJR98", 0x00);
    u16(&p, 0x20); u16(&p, 1); u32(&p, 0); u16(&p, 6);
    u16(&p, 0); u8(&p, 192); u8(&p, 168); u8(&p, 239); u8(&p, 129);
    run(p.b, p.n);
    n = nbns_ev();
    CHECK(n && n->opcode == 6 && n->response && n->rcode == 0);
    /* WACK: opcode 7, 2-byte RDATA; no addresses. */
    hdr(&p, 0x0006, 0xbc00, 0, 1, 0, 0);
    nbname(&p, "MDJR98", 0x20);
    u16(&p, 0x20); u16(&p, 1); u32(&p, 2); u16(&p, 2); u16(&p, 0x2910);
    run(p.b, p.n);
    n = nbns_ev();
    CHECK_INT(n_mal, 0);
    CHECK(n && n->opcode == 7 && n->response && n->n_addrs == 0 && n->qsuffix == 0x20);
    /* Refresh (opcode 8 / 9). */
    hdr(&p, 0x0007, 0x4000, 1, 0, 0, 1);
    nbname(&p, "WS01", 0x00);
    u16(&p, 0x20); u16(&p, 1);
    u16(&p, 0xc00c); u16(&p, 0x20); u16(&p, 1); u32(&p, 300000); u16(&p, 6);
    u16(&p, 0); u8(&p, 10); u8(&p, 0); u8(&p, 0); u8(&p, 9);
    run(p.b, p.n);
    n = nbns_ev();
    CHECK(n && n->opcode == 8 && strcmp(n->qname, "WS01") == 0);
}

/* Every prefix of a valid message: never a crash; either only a malformed
 * event (broken before the name was known) or app + event + malformed. */
static void truncate_all(const pkt *full, size_t name_end)
{
    int ok = 1;
    for (size_t cut = 0; cut < full->n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1); /* exact size: ASan sees overreads */
        memcpy(copy, full->b, cut);
        run(copy, cut);
        free(copy);
        if (n_mal != 1 || n_app != n_nbns || n_app > 1)
            ok = 0;
        if (cut < name_end && n_nbns != 0)
            ok = 0;
        if (cut >= name_end && n_nbns != 1)
            ok = 0;
        if (!ok) {
            fprintf(stderr, "truncation at %zu: mal %d app %d nbns %d\n", cut, n_mal, n_app, n_nbns);
            break;
        }
    }
    CHECK(ok);
}

static void test_truncation(void)
{
    pkt p;
    build_nbstat_response(&p);
    /* header 12 + name 34 + type/class/ttl/rdlength 10 */
    truncate_all(&p, 56);
    /* A cut inside the table keeps the complete entries. */
    run(p.b, 56 + 1 + 18 * 2 + 5);
    const pw_ev_nbns *n = nbns_ev();
    CHECK_INT(n_mal, 1);
    CHECK(n && n->n_names == 2 && !n->has_mac && strcmp(n->names[1].name, "CORP") == 0);
    build_positive_nb(&p);
    truncate_all(&p, 56);
    run(p.b, p.n - 1);
    n = nbns_ev();
    CHECK(n && n->n_addrs == 1);
    pkt q;
    hdr(&q, 0x1337, 0x0000, 1, 0, 0, 0);
    wildcard(&q);
    u16(&q, 0x21); u16(&q, 1);
    truncate_all(&q, q.n);
}

static void test_registry(void)
{
    CHECK(pw_dissector_for_port(17, 137) == &pw_dissector_nbns);
    CHECK(pw_dissector_for_port(6, 137) != &pw_dissector_nbns);
    CHECK(pw_dissector_by_name("nbns") == &pw_dissector_nbns);
    CHECK(pw_dissector_nbns.stream == NULL);
}

int main(void)
{
    uint8_t c[4] = {10, 0, 0, 1}, s[4] = {10, 0, 0, 2};
    pw_addr_v4(&flow.client, c);
    pw_addr_v4(&flow.server, s);
    flow.proto = 17;
    flow.client_port = 137;
    flow.server_port = 137;
    test_nbstat_request();
    test_nbstat_response();
    test_positive_nb();
    test_negative();
    test_names();
    test_registration_wack();
    test_truncation();
    test_registry();
    CHECK_DONE();
}
