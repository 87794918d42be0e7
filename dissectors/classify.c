/* classify.c - request or response by the protocol's own marker (see classify.h).
 *
 * Markers, each the protocol's own statement of direction:
 *   DNS (53), NBNS (137), mDNS (5353), LLMNR (5355): the QR bit, the top bit
 *     of the flags word after the 2-byte transaction id, in a header of at
 *     least 12 bytes (RFC 1035 4.1.1, RFC 1002 4.2.1.1, RFC 6762, RFC 4795).
 *   SSDP and any HTTP over UDP: a status line "HTTP/1.x NNN" is a response;
 *     a request line ending in "HTTP/1.x" (M-SEARCH, NOTIFY) is a request.
 *   SQL Server Resolution Protocol (1434, MS-SQLR 2.2): SVR_RESP is 0x05
 *     followed by a little-endian length equal to the bytes that follow;
 *     client messages are 0x02 (CLNT_BCAST_EX), 0x03 (CLNT_UCAST_EX),
 *     0x04 (CLNT_UCAST_INST) and 0x0F (CLNT_UCAST_DAC) sent to 1434. */
#include "classify.h"

#include <stdbool.h>
#include <string.h>

#include "../common/cursor.h"

#define DNS_HEADER_LEN 12
#define SSRP_PORT 1434
#define SSRP_SVR_RESP 0x05

static bool dns_family_port(uint16_t port)
{
    return port == 53 || port == 137 || port == 5353 || port == 5355;
}

static int dns_kind(pw_cursor c)
{
    if (!pw_cur_has(&c, DNS_HEADER_LEN))
        return PW_DGRAM_UNKNOWN;
    pw_skip(&c, 2); /* transaction id */
    uint16_t flags = pw_be16(&c);
    return (flags & 0x8000u) ? PW_DGRAM_RESPONSE : PW_DGRAM_REQUEST;
}

/* "HTTP/1." then a digit: the version both lines carry. */
static bool http_version_at(const pw_cursor *c, size_t at)
{
    static const char v[] = "HTTP/1.";
    for (size_t i = 0; i < sizeof v - 1; i++)
        if (!pw_cur_has(c, at + i + 1) || pw_peek_u8(c, at + i) != (uint8_t)v[i])
            return false;
    uint8_t d = pw_cur_has(c, at + sizeof v) ? pw_peek_u8(c, at + sizeof v - 1) : 0;
    return d >= '0' && d <= '9';
}

static bool is_digit_at(const pw_cursor *c, size_t at)
{
    if (!pw_cur_has(c, at + 1))
        return false;
    uint8_t d = pw_peek_u8(c, at);
    return d >= '0' && d <= '9';
}

/* Status line: "HTTP/1.x SP DDD". */
static bool http_status_line(const pw_cursor *c)
{
    return http_version_at(c, 0) && pw_cur_has(c, 12) && pw_peek_u8(c, 8) == ' ' &&
           is_digit_at(c, 9) && is_digit_at(c, 10) && is_digit_at(c, 11);
}

/* Request line: "METHOD SP target SP HTTP/1.x CR LF", the method in capitals
 * (M-SEARCH has a hyphen).  Only the first line is looked at. */
static bool http_request_line(const pw_cursor *c)
{
    size_t i = 0, left = pw_cur_left(c);
    while (i < left) {
        uint8_t b = pw_peek_u8(c, i);
        if (!((b >= 'A' && b <= 'Z') || b == '-'))
            break;
        i++;
    }
    if (i == 0 || i >= left || pw_peek_u8(c, i) != ' ')
        return false;
    size_t eol = i;
    while (eol < left && pw_peek_u8(c, eol) != '\r' && pw_peek_u8(c, eol) != '\n')
        eol++;
    if (eol == left || eol < i + 10) /* " * HTTP/1.x" at least */
        return false;
    return pw_peek_u8(c, eol - 9) == ' ' && http_version_at(c, eol - 8);
}

static int ssrp_kind(pw_cursor c, uint16_t sport, uint16_t dport)
{
    if (!pw_cur_has(&c, 1))
        return PW_DGRAM_UNKNOWN;
    uint8_t op = pw_u8(&c);
    if (sport == SSRP_PORT && op == SSRP_SVR_RESP) {
        uint16_t n = pw_le16(&c);
        if (pw_cur_ok(&c) && n == pw_cur_left(&c))
            return PW_DGRAM_RESPONSE;
    }
    if (dport == SSRP_PORT && (op == 0x02 || op == 0x03 || op == 0x04 || op == 0x0f))
        return PW_DGRAM_REQUEST;
    return PW_DGRAM_UNKNOWN;
}

int pw_datagram_kind(uint16_t sport, uint16_t dport, const uint8_t *data, size_t len)
{
    pw_cursor c = pw_cur(data, data ? len : 0);
    if (dns_family_port(sport) || dns_family_port(dport))
        return dns_kind(c);
    if (sport == SSRP_PORT || dport == SSRP_PORT)
        return ssrp_kind(c, sport, dport);
    if (http_status_line(&c))
        return PW_DGRAM_RESPONSE;
    if (http_request_line(&c))
        return PW_DGRAM_REQUEST;
    return PW_DGRAM_UNKNOWN;
}
