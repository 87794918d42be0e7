/* ldap.c - LDAP bind exchanges over TCP (RFC 4511 4.2-4.3, MS-ADTS 5.1.1.1
 * "sicily" binds), for the NTLMSSP messages they carry.
 *
 * The stream is a sequence of LDAPMessage BER elements: 0x30, a definite
 * length (short form or long form of up to 4 bytes), the messageID INTEGER
 * and the protocolOp, an APPLICATION-tagged element.  Only bind requests
 * ([APPLICATION 0], 0x60) and bind responses ([APPLICATION 1], 0x61) are
 * read in full; every other message is skipped as it streams past, its body
 * never buffered.
 *
 * NTLMSSP sits in a primitive element of the bind:
 *   - SASL (authentication [3]): GSS-SPNEGO or NTLM credentials (a raw
 *     NTLMSSP message or an SPNEGO token), and serverSaslCreds [7] in the
 *     response;
 *   - sicily: sicilyNegotiate [10] / sicilyResponse [11] in the request, and
 *     the CHALLENGE in the response's matchedDN.
 * So every primitive element of the bind (one level of constructed nesting
 * followed) is searched for the signature and the message parsed within the
 * bounds of that element.
 *
 * After a SASL or sicily bind completes (a final bind response), what
 * follows may be SASL-wrapped, so the stream is done; bytes that are not an
 * LDAPMessage after a SASL bind (its answer missed) end it quietly too.
 * LDAPS (636) and StartTLS are out of scope: TLS bytes end the stream
 * quietly. */
#include <string.h>

#include "dissector.h"
#include "ntlmssp.h"
#include "pdu_loop.h"

#define LDAP_MAX_MSGS 64
#define LDAP_MAX_BYTES (64u * 1024u)
/* Longest element accepted as LDAP at all. */
#define LDAP_MAX_ELEM (1024u * 1024u)
/* Longest bind message read in full (NTLM binds are a few hundred bytes,
 * Kerberos ones a few KiB). */
#define LDAP_MAX_BIND (64u * 1024u)
/* BER header: tag + 0x84 + 4 length bytes. */
#define LDAP_HDR_MAX 6

enum { LDAP_SEQUENCE = 0x30, LDAP_BIND_REQUEST = 0x60, LDAP_BIND_RESPONSE = 0x61 };
/* BindRequest authentication choices. */
enum {
    LDAP_AUTH_SIMPLE = 0x80,
    LDAP_AUTH_SASL = 0xa3,
    LDAP_AUTH_SICILY_DISCOVERY = 0x89,
    LDAP_AUTH_SICILY_NEGOTIATE = 0x8a,
    LDAP_AUTH_SICILY_RESPONSE = 0x8b,
};
enum { LDAP_SASL_BIND_IN_PROGRESS = 14 };

typedef struct ldap_state {
    pw_pdu_state loop;
    uint32_t msgs;
    uint32_t bytes;
    uint8_t auth;     /* authentication tag of the last bind request (0 = none seen) */
    bool sasl;        /* a SASL / sicily bind was seen: SASL-wrapped data may follow */
    bool app_sent;
} ldap_state;

typedef enum ber_status { BER_OK, BER_SHORT, BER_BAD } ber_status;

/* Reads one BER identifier (low-tag-number form only, as LDAP uses) and a
 * definite length.  BER_SHORT when the header is not all there. */
static ber_status ber_hdr(pw_cursor *c, uint8_t *tag, uint32_t *len)
{
    if (!pw_cur_has(c, 2))
        return BER_SHORT;
    *tag = pw_u8(c);
    if ((*tag & 0x1f) == 0x1f)
        return BER_BAD;
    uint8_t l = pw_u8(c);
    if (l < 0x80) {
        *len = l;
        return BER_OK;
    }
    size_t n = l & 0x7f;
    if (n == 0 || n > 4)
        return BER_BAD; /* indefinite length (forbidden in LDAP) or absurd */
    if (!pw_cur_has(c, n))
        return BER_SHORT;
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | pw_u8(c);
    *len = v;
    return BER_OK;
}

/* Searches the primitive elements of `c` (following constructed ones up to
 * `depth` levels) for an NTLMSSP message and parses the first one found.
 * Returns true when one was found (an event was emitted). */
static bool find_ntlmssp(const pw_dctx *ctx, pw_cursor c, int depth)
{
    while (pw_cur_left(&c) > 0) {
        uint8_t tag = 0;
        uint32_t len = 0;
        if (ber_hdr(&c, &tag, &len) != BER_OK) {
            pw_emit_malformed(ctx, "ldap: bad element in bind");
            return false;
        }
        pw_cursor v = pw_sub(&c, len);
        if (!pw_cur_ok(&v)) {
            pw_emit_malformed(ctx, "ldap: truncated element in bind");
            return false;
        }
        if (tag & 0x20) {
            if (depth > 0 && find_ntlmssp(ctx, v, depth - 1))
                return true;
            continue;
        }
        pw_cursor msg;
        if (pw_ntlmssp_find(&v, &msg)) {
            pw_ntlmssp_parse_cur(ctx, msg);
            return true;
        }
    }
    return false;
}

/* One bind request or response (the protocolOp's contents).  Returns true
 * when it ends a SASL / sicily bind exchange. */
static bool bind_op(const pw_dctx *ctx, ldap_state *st, uint8_t op, pw_cursor body)
{
    pw_cursor c = body;
    uint8_t tag = 0;
    uint32_t len = 0;
    if (op == LDAP_BIND_REQUEST) {
        /* version INTEGER, name LDAPDN, authentication CHOICE */
        for (int i = 0; i < 2; i++) {
            if (ber_hdr(&c, &tag, &len) != BER_OK || !pw_cur_has(&c, len) ||
                tag != (i == 0 ? 0x02 : 0x04)) {
                pw_emit_malformed(ctx, "ldap: bad BindRequest");
                return false;
            }
            pw_skip(&c, len);
        }
        pw_cursor peek = c;
        if (ber_hdr(&peek, &tag, &len) != BER_OK) {
            pw_emit_malformed(ctx, "ldap: bad BindRequest authentication");
            return false;
        }
        st->auth = tag;
        if (tag != LDAP_AUTH_SIMPLE) {
            st->sasl = true;
            find_ntlmssp(ctx, c, 1);
        }
        return false;
    }
    /* BindResponse: resultCode ENUMERATED, matchedDN, diagnosticMessage,
     * referral [3] OPTIONAL, serverSaslCreds [7] OPTIONAL */
    if (ber_hdr(&c, &tag, &len) != BER_OK || tag != 0x0a || len < 1 || len > 4 || !pw_cur_has(&c, len)) {
        pw_emit_malformed(ctx, "ldap: bad BindResponse");
        return false;
    }
    uint32_t result = 0;
    for (uint32_t i = 0; i < len; i++)
        result = result << 8 | pw_u8(&c);
    /* serverSaslCreds present: a SASL bind even if its request was missed */
    bool creds = false;
    for (pw_cursor e = c; pw_cur_left(&e) > 0;) {
        if (ber_hdr(&e, &tag, &len) != BER_OK)
            break;
        pw_skip(&e, len);
        creds |= tag == 0x87 && pw_cur_ok(&e);
    }
    if (creds)
        st->sasl = true;
    find_ntlmssp(ctx, c, 1);
    switch (st->auth) {
    case LDAP_AUTH_SASL: return result != LDAP_SASL_BIND_IN_PROGRESS;
    case LDAP_AUTH_SICILY_RESPONSE: return true;
    case 0: return creds && result != LDAP_SASL_BIND_IN_PROGRESS;
    default: return false; /* simple bind, sicily discovery / negotiate: more may follow */
    }
}

/* Reads the LDAPMessage header at c: its length (*total, header included)
 * and the protocolOp's identifier, which must lie inside the message.
 * BER_SHORT when more bytes are needed to tell. */
static ber_status message_header(pw_cursor h, size_t *total, uint8_t *op)
{
    size_t start = pw_cur_pos(&h);
    uint8_t tag = 0;
    uint32_t mlen = 0, idlen = 0;
    ber_status s = ber_hdr(&h, &tag, &mlen);
    if (s != BER_OK)
        return s;
    if (mlen > LDAP_MAX_ELEM)
        return BER_BAD;
    *total = pw_cur_pos(&h) - start + (size_t)mlen;
    pw_cursor m = h;
    s = ber_hdr(&m, &tag, &idlen);
    if (s == BER_OK && (tag != 0x02 || idlen < 1 || idlen > 4))
        s = BER_BAD;
    if (s == BER_OK) {
        if (!pw_cur_has(&m, idlen + 1))
            s = BER_SHORT;
        else {
            pw_skip(&m, idlen);
            *op = pw_peek_u8(&m, 0);
        }
    }
    if (s == BER_SHORT && pw_cur_left(&h) >= mlen)
        return BER_BAD; /* the whole message is there and still short */
    if (s == BER_OK && (pw_cur_pos(&m) - pw_cur_pos(&h)) + 1 > mlen)
        return BER_BAD;
    if (s == BER_OK && (*op & 0xc0) != 0x40)
        return BER_BAD; /* protocolOp is an APPLICATION tag */
    return s;
}

/* Frames one LDAPMessage; bind requests and responses are read whole. */
static pw_pdu_step ldap_frame(const pw_dctx *ctx, void *state, const pw_cursor *c, pw_pdu *pdu)
{
    ldap_state *st = state;
    uint8_t first = pw_peek_u8(c, 0);
    if (first != LDAP_SEQUENCE) {
        /* TLS after StartTLS (or LDAPS on an LDAP port), or SASL-wrapped
         * messages (a 4-byte length, then a GSS / NTLM wrap token) after
         * a SASL bind whose answer we missed: not ours. */
        if (first != 0x16 && first != 0x15 && first != 0x17 && !st->sasl)
            pw_emit_malformed(ctx, "ldap: not an LDAPMessage");
        return PW_PDU_STOP;
    }
    uint8_t op = 0;
    ber_status s = message_header(*c, &pdu->len, &op);
    if (s == BER_SHORT) {
        if (!pw_cur_has(c, LDAP_HDR_MAX * 3))
            return PW_PDU_WAIT;
        s = BER_BAD;
    }
    if (s == BER_BAD) {
        pw_emit_malformed(ctx, "ldap: bad LDAPMessage header");
        return PW_PDU_STOP;
    }
    if (!st->app_sent) {
        pw_emit_app(ctx, "ldap");
        st->app_sent = true;
    }
    pdu->read = op == LDAP_BIND_REQUEST || op == LDAP_BIND_RESPONSE;
    return PW_PDU_NEXT;
}

/* A whole bind message (framed by ldap_frame).  Returns true when it ends a
 * SASL / sicily bind exchange. */
static bool bind_message(const pw_dctx *ctx, ldap_state *st, pw_cursor m)
{
    uint8_t tag = 0;
    uint32_t mlen = 0, idlen = 0, oplen = 0;
    ber_hdr(&m, &tag, &mlen); /* LDAPMessage */
    ber_hdr(&m, &tag, &idlen);
    pw_skip(&m, idlen);       /* messageID */
    uint8_t op = pw_peek_u8(&m, 0);
    ber_status so = ber_hdr(&m, &tag, &oplen);
    pw_cursor body = pw_sub(&m, oplen);
    if (so != BER_OK || !pw_cur_ok(&body)) {
        pw_emit_malformed(ctx, "ldap: truncated bind");
        return false;
    }
    return bind_op(ctx, st, op, body);
}

static pw_pdu_step ldap_message(const pw_dctx *ctx, void *state, const pw_pdu *pdu, pw_cursor m)
{
    ldap_state *st = state;
    bool finished = pdu->read && bind_message(ctx, st, m);
    st->msgs++;
    st->bytes += (uint32_t)(pdu->len < LDAP_MAX_BYTES ? pdu->len : LDAP_MAX_BYTES);
    if (finished || st->msgs >= LDAP_MAX_MSGS || st->bytes >= LDAP_MAX_BYTES)
        return PW_PDU_END;
    return PW_PDU_NEXT;
}

static const pw_pdu_ops ldap_ops = {
    .frame = ldap_frame,
    .handle = ldap_message,
    .max_len = LDAP_MAX_BIND,
};

static size_t ldap_stream(const pw_dctx *ctx, void *state, const uint8_t *data, size_t len, bool *done)
{
    ldap_state *st = state;
    return pw_pdu_stream(&ldap_ops, &st->loop, ctx, st, data, len, done);
}

/* Another port: an LDAP bind request (messageID, then [APPLICATION 0] with
 * version 2 or 3). */
static bool ldap_probe(const uint8_t *data, size_t len)
{
    pw_cursor c = pw_cur(data, len);
    uint8_t tag = 0;
    uint32_t l = 0;
    if (ber_hdr(&c, &tag, &l) != BER_OK || tag != LDAP_SEQUENCE || l > LDAP_MAX_BIND)
        return false;
    if (ber_hdr(&c, &tag, &l) != BER_OK || tag != 0x02 || l < 1 || l > 4)
        return false;
    pw_skip(&c, l);
    if (ber_hdr(&c, &tag, &l) != BER_OK || tag != LDAP_BIND_REQUEST)
        return false;
    uint8_t t = pw_u8(&c), vl = pw_u8(&c), v = pw_u8(&c);
    return pw_cur_ok(&c) && t == 0x02 && vl == 1 && (v == 2 || v == 3);
}

const pw_dissector pw_dissector_ldap = {
    .name = "ldap",
    .transports = PW_DT_TCP,
    .ports = {389, 3268},
    .probe = ldap_probe,
    .state_size = sizeof(ldap_state),
    .stream = ldap_stream,
};
