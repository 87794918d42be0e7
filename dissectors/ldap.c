/* ldap.c - LDAP bind exchanges over TCP (RFC 4511 4.2-4.3, MS-ADTS 5.1.1.1
 * "sicily" binds), for the NTLMSSP messages they carry, and the StartTLS
 * operation, for the TLS handshake that follows it.
 *
 * The stream is a sequence of LDAPMessage BER elements: 0x30, a definite
 * length (short form or long form of up to 4 bytes), the messageID INTEGER
 * and the protocolOp, an APPLICATION-tagged element.  Only bind requests
 * ([APPLICATION 0], 0x60), bind responses ([APPLICATION 1], 0x61) and
 * extended requests and responses ([APPLICATION 23] / [24]) are read in
 * full; every other message is skipped as it streams past, its body never
 * buffered.
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
 *
 * StartTLS (RFC 4511 4.14, RFC 4513 3): an ExtendedRequest ([APPLICATION
 * 23]) named 1.3.6.1.4.1.1466.20037 answered by the ExtendedResponse
 * ([APPLICATION 24]) of the same messageID with resultCode success turns
 * both directions into TLS from the byte after that response; the
 * handshake goes to an embedded pw_tls_state, so the server certificate
 * and its names come from this flow as they do on 636 (the flow stays
 * "ldap").  TLS bytes seen otherwise (LDAPS on an LDAP port, a StartTLS
 * answer missed) end the stream quietly. */
#include <string.h>

#include "dissector.h"
#include "ntlmssp.h"
#include "pdu_loop.h"
#include "tls.h"

#define LDAP_MAX_MSGS 64
#define LDAP_MAX_BYTES (64u * 1024u)
/* Longest element accepted as LDAP at all. */
#define LDAP_MAX_ELEM (1024u * 1024u)
/* Longest bind message read in full (NTLM binds are a few hundred bytes,
 * Kerberos ones a few KiB). */
#define LDAP_MAX_BIND (64u * 1024u)
/* Client bytes held while its ClientHello waits for the StartTLS answer. */
#define LDAP_HELD_MAX (16u * 1024u)
/* BER header: tag + 0x84 + 4 length bytes. */
#define LDAP_HDR_MAX 6

enum {
    LDAP_SEQUENCE = 0x30,
    LDAP_BIND_REQUEST = 0x60,
    LDAP_BIND_RESPONSE = 0x61,
    LDAP_EXTENDED_REQUEST = 0x77,
    LDAP_EXTENDED_RESPONSE = 0x78,
};
/* ExtendedRequest requestName [0] LDAPOID */
enum { LDAP_REQUEST_NAME = 0x80 };
static const char starttls_oid[] = "1.3.6.1.4.1.1466.20037";
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
    pw_tls_state tls;     /* the handshake after StartTLS */
    pw_pdu_state loop;
    uint32_t starttls_id; /* messageID of the StartTLS request awaiting its answer */
    bool starttls_asked;
    bool in_tls;          /* StartTLS succeeded: both directions carry TLS */
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
    pdu->read = op == LDAP_BIND_REQUEST || op == LDAP_BIND_RESPONSE || op == LDAP_EXTENDED_REQUEST ||
                op == LDAP_EXTENDED_RESPONSE;
    return PW_PDU_NEXT;
}

/* Splits a whole LDAPMessage (framed by ldap_frame) into its messageID,
 * the protocolOp's tag and the protocolOp's contents; false when its
 * elements run past it. */
static bool message_parts(pw_cursor m, uint32_t *id, uint8_t *op, pw_cursor *body)
{
    uint8_t tag = 0;
    uint32_t mlen = 0, idlen = 0, oplen = 0;
    ber_hdr(&m, &tag, &mlen); /* LDAPMessage */
    ber_hdr(&m, &tag, &idlen);
    *id = 0;
    for (uint32_t i = 0; i < idlen && i < 4; i++) /* message_header() checked 1..4 bytes */
        *id = *id << 8 | pw_u8(&m);
    *op = pw_peek_u8(&m, 0);
    ber_status so = ber_hdr(&m, &tag, &oplen);
    *body = pw_sub(&m, oplen);
    return so == BER_OK && pw_cur_ok(body);
}

/* True when an ExtendedRequest's contents name the StartTLS operation. */
static bool starttls_request(pw_cursor body)
{
    uint8_t tag = 0;
    uint32_t len = 0;
    if (ber_hdr(&body, &tag, &len) != BER_OK || tag != LDAP_REQUEST_NAME ||
        len != sizeof starttls_oid - 1 || !pw_cur_has(&body, len))
        return false;
    for (uint32_t i = 0; i < len; i++)
        if (pw_u8(&body) != (uint8_t)starttls_oid[i])
            return false;
    return true;
}

/* An ExtendedResponse's resultCode, or -1 when it has none. */
static long extended_result(const pw_dctx *ctx, pw_cursor body)
{
    uint8_t tag = 0;
    uint32_t len = 0;
    if (ber_hdr(&body, &tag, &len) != BER_OK || tag != 0x0a || len < 1 || len > 4 ||
        !pw_cur_has(&body, len)) {
        pw_emit_malformed(ctx, "ldap: bad ExtendedResponse");
        return -1;
    }
    uint32_t result = 0;
    for (uint32_t i = 0; i < len; i++)
        result = result << 8 | pw_u8(&body);
    return (long)result;
}

/* An extended operation: the StartTLS request pauses the client's side (its
 * next bytes wait for the answer) and a successful answer turns the stream
 * to TLS; both return PW_PDU_DONE, which ldap_stream() reads as a pause. */
static pw_pdu_step extended_op(const pw_dctx *ctx, ldap_state *st, uint32_t id, uint8_t op,
                               pw_cursor body)
{
    if (op == LDAP_EXTENDED_REQUEST) {
        if (!starttls_request(body))
            return PW_PDU_NEXT;
        st->starttls_asked = true;
        st->starttls_id = id;
        return PW_PDU_DONE;
    }
    if (!st->starttls_asked || id != st->starttls_id)
        return PW_PDU_NEXT;
    st->starttls_asked = false;
    if (extended_result(ctx, body) != 0)
        return PW_PDU_NEXT; /* refused: the session goes on in clear */
    st->in_tls = true;
    st->tls.no_app = true; /* the flow stays "ldap" */
    return PW_PDU_DONE;
}

static pw_pdu_step ldap_message(const pw_dctx *ctx, void *state, const pw_pdu *pdu, pw_cursor m)
{
    ldap_state *st = state;
    bool finished = false;
    pw_pdu_step step = PW_PDU_NEXT;
    uint32_t id = 0;
    uint8_t op = 0;
    pw_cursor body;
    if (pdu->read && !message_parts(m, &id, &op, &body))
        pw_emit_malformed(ctx, "ldap: truncated message");
    else if (pdu->read && (op == LDAP_BIND_REQUEST || op == LDAP_BIND_RESPONSE))
        finished = bind_op(ctx, st, op, body);
    else if (pdu->read)
        step = extended_op(ctx, st, id, op, body);
    st->msgs++;
    st->bytes += (uint32_t)(pdu->len < LDAP_MAX_BYTES ? pdu->len : LDAP_MAX_BYTES);
    if (step == PW_PDU_DONE)
        return step;
    if (finished || st->msgs >= LDAP_MAX_MSGS || st->bytes >= LDAP_MAX_BYTES)
        return PW_PDU_END;
    return PW_PDU_NEXT;
}

static const pw_pdu_ops ldap_ops = {
    .frame = ldap_frame,
    .handle = ldap_message,
    .max_len = LDAP_MAX_BIND,
};

static size_t to_tls(const pw_dctx *ctx, ldap_state *st, const uint8_t *data, size_t len, bool *done)
{
    size_t n = pw_tls_stream(ctx, &st->tls, data, len, done);
    if (*done)
        st->loop.ended = true;
    return n;
}

static size_t ldap_stream(const pw_dctx *ctx, void *state, const uint8_t *data, size_t len, bool *done)
{
    ldap_state *st = state;
    if (st->in_tls && !st->loop.ended)
        return to_tls(ctx, st, data, len, done);
    /* The client's ClientHello before the StartTLS answer was seen: held
     * until it comes (the client waits for it). */
    if (st->starttls_asked && ctx->dir == 0 && len <= LDAP_HELD_MAX && pw_tls_looks_like(data, len, true))
        return 0;
    bool paused = false;
    size_t used = pw_pdu_stream(&ldap_ops, &st->loop, ctx, st, data, len, &paused);
    if (paused && !st->loop.ended && (st->in_tls || st->starttls_asked)) {
        /* DONE from extended_op(): a pause, not the end */
        pw_cursor c = pw_cur(data, len);
        pw_skip(&c, used);
        size_t left = pw_cur_left(&c);
        if (st->in_tls && left) /* the server's first TLS bytes in the same segment */
            used += to_tls(ctx, st, pw_cur_view(&c, left), left, done);
        return used;
    }
    if (paused)
        *done = true;
    return used;
}

static void ldap_free(void *state)
{
    ldap_state *st = state;
    pw_tls_free(&st->tls);
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
    .stream_free = ldap_free,
};
