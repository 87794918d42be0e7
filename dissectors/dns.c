/* dns.c - DNS (RFC 1035) over UDP and TCP port 53, and LLMNR (RFC 4795,
 * same wire format) on 5355.
 *
 * Emits, per message: PW_EV_APP "dns" and one PW_EV_DNS (header, the first
 * question, A/AAAA/PTR/CNAME answers, and for in-addr.arpa / ip6.arpa
 * questions the address being resolved).  A message whose header or
 * question section is broken yields only PW_EV_MALFORMED; a message whose
 * answer section is cut short yields the event with the answers read so far
 * and PW_EV_MALFORMED.  Authority and additional sections are not read.
 * Over TCP, messages carry a 2-byte length prefix (RFC 1035 4.2.2). */
#include "dissector.h"
#include "dns_name.h"

#include <string.h>

enum { DNS_A = 1, DNS_CNAME = 5, DNS_PTR = 12, DNS_AAAA = 28 };
enum { DNS_OP_UPDATE = 5 };

static int lc(int ch) { return (ch >= 'A' && ch <= 'Z') ? ch + 32 : ch; }

/* Label i (0-based) of a wire name equals s, ASCII case-insensitively. */
static bool label_is(const uint8_t *wire, size_t wlen, size_t idx, const char *s)
{
    size_t i = 0;
    for (size_t n = 0; i < wlen && wire[i] != 0; n++) {
        size_t len = wire[i];
        if (n == idx) {
            if (strlen(s) != len || i + 1 + len > wlen)
                return false;
            for (size_t k = 0; k < len; k++)
                if (lc(wire[i + 1 + k]) != s[k])
                    return false;
            return true;
        }
        i += 1 + len;
    }
    return false;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = lc(ch);
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* in-addr.arpa: exactly 4 decimal labels 0..255 (no leading zeros), reversed.
 * ip6.arpa: exactly 32 single hex-digit labels, reversed nibbles. */
static bool reverse_addr(const uint8_t *wire, size_t wlen, pw_addr *out)
{
    size_t n = pw_dnsn_labels(wire, wlen);
    if (n == 6 && label_is(wire, wlen, 4, "in-addr") && label_is(wire, wlen, 5, "arpa")) {
        uint8_t b[4];
        size_t i = 0;
        for (int k = 0; k < 4; k++) {
            size_t len = wire[i];
            if (len < 1 || len > 3 || (len > 1 && wire[i + 1] == '0'))
                return false;
            unsigned v = 0;
            for (size_t j = 0; j < len; j++) {
                uint8_t ch = wire[i + 1 + j];
                if (ch < '0' || ch > '9')
                    return false;
                v = v * 10 + (unsigned)(ch - '0');
            }
            if (v > 255)
                return false;
            b[3 - k] = (uint8_t)v;
            i += 1 + len;
        }
        pw_addr_v4(out, b);
        return true;
    }
    if (n == 34 && label_is(wire, wlen, 32, "ip6") && label_is(wire, wlen, 33, "arpa")) {
        uint8_t b[16] = {0};
        size_t i = 0;
        for (int k = 0; k < 32; k++) {
            if (wire[i] != 1)
                return false;
            int v = hexval(wire[i + 1]);
            if (v < 0)
                return false;
            int nib = 31 - k; /* first label is the lowest nibble */
            b[nib / 2] |= (uint8_t)(nib % 2 ? v : v << 4);
            i += 2;
        }
        pw_addr_v6(out, b);
        return true;
    }
    return false;
}

/* Parses one DNS message (m covers exactly the message, no TCP length
 * prefix) and emits its events.  Returns 1 for a response, 0 for a query,
 * -1 when the header or question section was malformed. */
static int dns_message(const pw_dctx *ctx, pw_cursor m)
{
    pw_event ev;
    uint8_t wire[PW_DNSN_WIRE_MAX];

    uint16_t txid = pw_be16(&m);
    uint16_t flags = pw_be16(&m);
    uint16_t qd = pw_be16(&m), an = pw_be16(&m);
    pw_skip(&m, 4); /* nscount, arcount */
    if (!pw_cur_ok(&m)) {
        pw_emit_malformed(ctx, "dns: truncated header");
        return -1;
    }

    pw_event_init(&ev, ctx, PW_EV_DNS);
    pw_ev_dns *d = &ev.u.dns;
    d->txid = txid;
    d->response = (flags & 0x8000) != 0;
    d->opcode = (uint8_t)((flags >> 11) & 0x0f);
    d->rcode = (uint8_t)(flags & 0x0f);
    d->qdcount = qd;
    d->ancount = an;

    /* Questions: the first is reported, the rest skipped.  A broken first
     * question means this is not a DNS message we can use; a broken later
     * one ends parsing after the event is emitted. */
    const char *bad = NULL;
    for (uint32_t i = 0; i < qd; i++) {
        size_t wlen = pw_dnsn_read(&m, wire);
        uint16_t qtype = pw_be16(&m), qclass = pw_be16(&m);
        if (!pw_cur_ok(&m)) {
            if (i == 0) {
                pw_emit_malformed(ctx, "dns: bad question");
                return -1;
            }
            bad = "dns: bad question";
            break;
        }
        if (i == 0) {
            pw_dnsn_dotted(wire, wlen, d->qname, sizeof d->qname);
            d->qtype = qtype;
            d->qclass = qclass;
            d->reverse = reverse_addr(wire, wlen, &d->reverse_addr);
        }
    }

    pw_emit_app(ctx, "dns");

    bool questions_ok = bad == NULL;
    for (uint32_t i = 0; i < an && questions_ok; i++) {
        pw_dnsn_read(&m, wire);
        uint16_t type = pw_be16(&m);
        pw_skip(&m, 2); /* class */
        uint32_t ttl = pw_be32(&m);
        uint16_t rdlen = pw_be16(&m);
        size_t rd_start = pw_cur_pos(&m);
        pw_cursor rd = pw_sub(&m, rdlen);
        if (!pw_cur_ok(&m)) {
            bad = "dns: truncated or bad answer";
            break;
        }
        /* UPDATE (opcode 5) reuses the section for prerequisites, which
         * are not answers; rdlength 0 is an empty record (skipped).  Past
         * PW_DNS_MAX_ANSWERS we still walk the section to check it. */
        if (d->opcode == DNS_OP_UPDATE || rdlen == 0 || d->n_answers >= PW_DNS_MAX_ANSWERS)
            continue;
        if (type == DNS_A && rdlen == 4) {
            uint8_t b[4];
            pw_copy(&rd, b, 4);
            pw_addr_v4(&d->answers[d->n_answers].addr, b);
        } else if (type == DNS_AAAA && rdlen == 16) {
            uint8_t b[16];
            pw_copy(&rd, b, 16);
            pw_addr_v6(&d->answers[d->n_answers].addr, b);
        } else if (type == DNS_PTR || type == DNS_CNAME) {
            /* The target may point anywhere earlier in the message, but
             * its in-place bytes must lie inside RDATA. */
            pw_cursor t = pw_at(&m, 0, rd_start + rdlen);
            pw_skip(&t, rd_start);
            size_t tlen = pw_dnsn_read(&t, wire);
            if (!pw_cur_ok(&t)) {
                bad = "dns: bad answer name";
                continue;
            }
            pw_dnsn_dotted(wire, tlen, d->answers[d->n_answers].target,
                           sizeof d->answers[0].target);
        } else if (type == DNS_A || type == DNS_AAAA) {
            bad = "dns: bad address length";
            continue;
        } else {
            continue; /* other types: skipped by rdlength */
        }
        d->answers[d->n_answers].type = type;
        d->answers[d->n_answers].ttl = ttl;
        d->n_answers++;
    }
    pw_emit(ctx, &ev);
    if (bad)
        pw_emit_malformed(ctx, bad);
    return d->response ? 1 : 0;
}

static void dns_datagram(const pw_dctx *ctx, const uint8_t *data, size_t len)
{
    dns_message(ctx, pw_cur(data, len));
}

/* TCP: messages framed by a 2-byte length.  Clients reuse a connection for
 * sequential or pipelined queries (q1 r1 q2 r2 ..., or q1..qn then r1..rn),
 * so an answered query is not the end; we stop collecting once each
 * direction has carried DNS_TCP_MAX_MSGS messages or one direction four
 * times that (which bounds zone transfers), or at framing that cannot be
 * DNS. */
#define DNS_TCP_MAX_MSGS 16
typedef struct dns_tcp {
    uint32_t msgs[2]; /* per direction */
} dns_tcp;

static size_t dns_stream(const pw_dctx *ctx, void *state, const uint8_t *data, size_t len, bool *done)
{
    dns_tcp *st = state;
    pw_cursor c = pw_cur(data, len);
    size_t consumed = 0;

    while (!*done && pw_cur_has(&c, 2)) {
        uint16_t mlen = (uint16_t)(pw_peek_u8(&c, 0) << 8 | pw_peek_u8(&c, 1));
        if (mlen < 12) {
            /* Not DNS framing (or a zero-length message): give up. */
            pw_emit_malformed(ctx, "dns: bad tcp length");
            *done = true;
            return len;
        }
        if (!pw_cur_has(&c, 2 + (size_t)mlen))
            break; /* wait for the rest */
        pw_skip(&c, 2);
        dns_message(ctx, pw_sub(&c, mlen));
        uint32_t *mine = &st->msgs[ctx->dir ? 1 : 0], other = st->msgs[ctx->dir ? 0 : 1];
        (*mine)++;
        consumed = pw_cur_pos(&c);
        if ((*mine >= DNS_TCP_MAX_MSGS && other >= DNS_TCP_MAX_MSGS) || *mine >= 4 * DNS_TCP_MAX_MSGS)
            *done = true;
    }
    return consumed;
}

const pw_dissector pw_dissector_dns = {
    .name = "dns",
    .transports = PW_DT_UDP | PW_DT_TCP,
    .ports = {53, 5355, 0},
    .datagram = dns_datagram,
    .state_size = sizeof(dns_tcp),
    .stream = dns_stream,
};
