/* test_classify.c - dissectors/classify.c: request or response by the
 * protocol's own marker, on real message bytes; every truncation of each
 * message gives UNKNOWN (too short to tell) or the same answer, never
 * another one, and nothing reads past the end (ASan). */
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/classify.h"
#include "check.h"

#define REQ PW_DGRAM_REQUEST
#define RSP PW_DGRAM_RESPONSE
#define UNK PW_DGRAM_UNKNOWN

/* A DNS-format header: id, flags, 1 question, no records, then a root name. */
static size_t dns_msg(uint8_t *b, uint16_t flags)
{
    static const uint8_t q[] = {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
    memcpy(b, q, sizeof q);
    b[2] = (uint8_t)(flags >> 8);
    b[3] = (uint8_t)flags;
    return sizeof q;
}

/* Each prefix of the message on the heap (so ASan sees any overread):
 * UNKNOWN below `need` bytes, `want` from there on, when `stable` (a
 * request line is only known once its line ends). */
static void prefixes(uint16_t sp, uint16_t dp, const uint8_t *m, size_t n, size_t need, int want)
{
    for (size_t k = 0; k <= n; k++) {
        uint8_t *p = malloc(k ? k : 1);
        memcpy(p, m, k);
        int got = pw_datagram_kind(sp, dp, k ? p : NULL, k);
        if (k < need)
            CHECK_INT(got, UNK);
        else
            CHECK_INT(got, want);
        free(p);
    }
}

static void test_dns_family(void)
{
    uint8_t b[64];
    size_t n;
    /* DNS: query from an ephemeral port, answer back to it */
    n = dns_msg(b, 0x0100);
    CHECK_INT(pw_datagram_kind(53001, 53, b, n), REQ);
    prefixes(53001, 53, b, n, 12, REQ);
    n = dns_msg(b, 0x8180);
    CHECK_INT(pw_datagram_kind(53, 53001, b, n), RSP);
    prefixes(53, 53001, b, n, 12, RSP);
    /* NBNS name query response 137 -> 137 (RFC 1002: R bit = 0x8000) */
    n = dns_msg(b, 0x8500);
    CHECK_INT(pw_datagram_kind(137, 137, b, n), RSP);
    n = dns_msg(b, 0x0110); /* broadcast name query */
    CHECK_INT(pw_datagram_kind(137, 137, b, n), REQ);
    /* mDNS response 5353 -> 5353 and a legacy unicast answer to an ephemeral port */
    n = dns_msg(b, 0x8400);
    CHECK_INT(pw_datagram_kind(5353, 5353, b, n), RSP);
    CHECK_INT(pw_datagram_kind(5353, 49152, b, n), RSP);
    /* LLMNR response from 5355 to the querier's port */
    n = dns_msg(b, 0x8000);
    CHECK_INT(pw_datagram_kind(5355, 61000, b, n), RSP);
    prefixes(5355, 61000, b, n, 12, RSP);
    n = dns_msg(b, 0x0000);
    CHECK_INT(pw_datagram_kind(61000, 5355, b, n), REQ);
    /* an empty datagram tells nothing */
    CHECK_INT(pw_datagram_kind(53, 53001, NULL, 0), UNK);
}

static void test_http_udp(void)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nST: upnp:rootdevice\r\n\r\n";
    static const char search[] =
        "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n\r\n";
    static const char notify[] = "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n";
    CHECK_INT(pw_datagram_kind(1900, 50000, (const uint8_t *)ok, strlen(ok)), RSP);
    /* the status line is known from "HTTP/1.1 200" on */
    prefixes(1900, 50000, (const uint8_t *)ok, strlen(ok), 12, RSP);
    CHECK_INT(pw_datagram_kind(50000, 1900, (const uint8_t *)search, strlen(search)), REQ);
    /* the request line is known once it ends: "M-SEARCH * HTTP/1.1\r" is 20 bytes */
    prefixes(50000, 1900, (const uint8_t *)search, strlen(search), 20, REQ);
    CHECK_INT(pw_datagram_kind(1900, 1900, (const uint8_t *)notify, strlen(notify)), REQ);
    /* lookalikes */
    static const char bad1[] = "HTTP/2.0 200 OK\r\n";
    static const char bad2[] = "HTTP/1.1 2x0 OK\r\n";
    static const char bad3[] = "m-search * HTTP/1.1\r\n";
    static const char bad4[] = "M-SEARCH * HTTP/1.1"; /* no line end */
    CHECK_INT(pw_datagram_kind(1900, 50000, (const uint8_t *)bad1, strlen(bad1)), UNK);
    CHECK_INT(pw_datagram_kind(1900, 50000, (const uint8_t *)bad2, strlen(bad2)), UNK);
    CHECK_INT(pw_datagram_kind(50000, 1900, (const uint8_t *)bad3, strlen(bad3)), UNK);
    CHECK_INT(pw_datagram_kind(50000, 1900, (const uint8_t *)bad4, strlen(bad4)), UNK);
}

static void test_ssrp(void)
{
    /* SVR_RESP: 0x05, le16 length, then that many bytes */
    static const char body[] = "ServerName;SQL1;InstanceName;MSSQLSERVER;IsClustered;No;Version;15.0.2000.5;tcp;1433;;";
    uint8_t b[128];
    size_t n = strlen(body);
    b[0] = 0x05;
    b[1] = (uint8_t)n;
    b[2] = (uint8_t)(n >> 8);
    memcpy(b + 3, body, n);
    CHECK_INT(pw_datagram_kind(1434, 50123, b, n + 3), RSP);
    /* a prefix has a length that no longer matches: not a SVR_RESP */
    for (size_t k = 0; k < n + 3; k++) {
        uint8_t *p = malloc(k ? k : 1);
        memcpy(p, b, k);
        CHECK_INT(pw_datagram_kind(1434, 50123, k ? p : NULL, k), UNK);
        free(p);
    }
    /* one byte too many: not a SVR_RESP either */
    b[n + 3] = 0;
    CHECK_INT(pw_datagram_kind(1434, 50123, b, n + 4), UNK);
    /* from another port it is not the SQL Browser answering */
    CHECK_INT(pw_datagram_kind(50123, 1434, b, n + 3), UNK);
    /* client messages to 1434 */
    static const uint8_t bcast[] = {0x02};
    static const uint8_t ucast[] = {0x03};
    static const uint8_t inst[] = {0x04, 'S', 'Q', 'L', 'E', 'X', 'P', 'R', 'E', 'S', 'S', 0};
    static const uint8_t dac[] = {0x0f, 0x01, 'M', 'S', 0};
    CHECK_INT(pw_datagram_kind(50123, 1434, bcast, sizeof bcast), REQ);
    CHECK_INT(pw_datagram_kind(50123, 1434, ucast, sizeof ucast), REQ);
    CHECK_INT(pw_datagram_kind(50123, 1434, inst, sizeof inst), REQ);
    CHECK_INT(pw_datagram_kind(50123, 1434, dac, sizeof dac), REQ);
    CHECK_INT(pw_datagram_kind(1434, 50123, ucast, sizeof ucast), UNK);
}

static void test_other(void)
{
    static const uint8_t junk[] = {0x80, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b};
    CHECK_INT(pw_datagram_kind(40000, 40001, junk, sizeof junk), UNK);
    CHECK_INT(pw_datagram_kind(123, 123, junk, sizeof junk), UNK); /* NTP: no marker we read */
}

int main(void)
{
    test_dns_family();
    test_http_udp();
    test_ssrp();
    test_other();
    CHECK_DONE();
}
