/* tds.c - SQL Server TDS login (MS-TDS 2.2.3 packet header, 2.2.6.4 LOGIN7,
 * 2.2.6.5 PRELOGIN, 2.2.6.8 SSPI, 2.2.7.22 SSPI token), for the NTLMSSP
 * messages of integrated-security logins.
 *
 * A TDS packet is an 8-byte header (type, status, length BE16 including the
 * header, SPID, packet id, window) and a payload; a message may span several
 * packets (the last one has status bit EOM).  Where NTLMSSP travels:
 *   - LOGIN7 (0x10, client): the SSPI field (ibSSPI / cbSSPI, offsets from
 *     the start of the LOGIN7 body), usually the NEGOTIATE;
 *   - a tabular result (0x04, server) with an SSPI token (0xED, length LE16),
 *     usually the CHALLENGE (some servers send it as an SSPI packet instead);
 *   - SSPI (0x11, client): the raw token, usually the AUTHENTICATE.
 * Only the first packet of a message is read (logins fit in one packet);
 * other packets are skipped as they stream past.
 *
 * When PRELOGIN negotiates encryption, the TLS handshake travels inside
 * PRELOGIN packets and the login inside TLS: nothing readable is left, so
 * the stream is done.  TDS 8.0 (TLS first) likewise.  The stream is done
 * once the server answers the login (LOGINACK or ERROR) or after 64 KiB. */
#include <string.h>

#include "dissector.h"
#include "ntlmssp.h"
#include "pdu_loop.h"

#define TDS_HDR_LEN 8
#define TDS_MAX_PKTS 64
#define TDS_MAX_BYTES (64u * 1024u)

enum {
    TDS_SQL_BATCH = 0x01,
    TDS_PRE_TDS7_LOGIN = 0x02,
    TDS_RPC = 0x03,
    TDS_TABULAR = 0x04,
    TDS_ATTENTION = 0x06,
    TDS_BULK = 0x07,
    TDS_FEDAUTH = 0x08,
    TDS_TRANSACTION = 0x0e,
    TDS_LOGIN7 = 0x10,
    TDS_SSPI = 0x11,
    TDS_PRELOGIN = 0x12,
};
enum { TDS_STATUS_EOM = 0x01 };
/* Token stream (MS-TDS 2.2.7). */
enum {
    TDS_TOK_ORDER = 0xa9,
    TDS_TOK_ERROR = 0xaa,
    TDS_TOK_INFO = 0xab,
    TDS_TOK_LOGINACK = 0xad,
    TDS_TOK_FEATUREEXTACK = 0xae,
    TDS_TOK_ENVCHANGE = 0xe3,
    TDS_TOK_SSPI = 0xed,
    TDS_TOK_FEDAUTHINFO = 0xee,
};

typedef struct tds_state {
    pw_pdu_state loop;
    bool cont[2];      /* the next packet continues a message (previous one lacked EOM) */
    uint32_t pkts;
    uint32_t bytes;
    bool prelogin_pending; /* client PRELOGIN sent, server answer not yet seen */
    bool login_sent;       /* LOGIN7 seen */
    bool app_sent;
} tds_state;

static bool known_type(uint8_t t)
{
    switch (t) {
    case TDS_SQL_BATCH: case TDS_PRE_TDS7_LOGIN: case TDS_RPC: case TDS_TABULAR: case TDS_ATTENTION:
    case TDS_BULK: case TDS_FEDAUTH: case TDS_TRANSACTION: case TDS_LOGIN7: case TDS_SSPI:
    case TDS_PRELOGIN:
        return true;
    default:
        return false;
    }
}

/* A TLS record header: handshake / alert / change cipher spec / application
 * data with a 3.x version. */
static bool tls_record(const pw_cursor *c)
{
    uint8_t t = pw_peek_u8(c, 0);
    return t >= 0x14 && t <= 0x17 && pw_peek_u8(c, 1) == 3 && pw_cur_has(c, 2);
}

static void sspi_blob(const pw_dctx *ctx, pw_cursor blob)
{
    pw_cursor msg;
    if (pw_cur_ok(&blob) && pw_ntlmssp_find(&blob, &msg))
        pw_ntlmssp_parse_cur(ctx, msg);
}

/* LOGIN7 body (first packet).  `whole`: the message ends in this packet. */
static void login7(const pw_dctx *ctx, pw_cursor body, bool whole)
{
    pw_cursor b = body;
    uint32_t length = pw_le32(&b);
    pw_skip(&b, 4 + 4 + 4 + 4 + 4 + 4 + 4 + 4); /* version ... ClientLCID */
    pw_skip(&b, 9 * 4);                          /* HostName ... Database */
    pw_skip(&b, 6);                              /* ClientID */
    uint16_t ib = pw_le16(&b);
    uint32_t cb = pw_le16(&b);
    if (!pw_cur_ok(&b) || length < 36) {
        if (whole)
            pw_emit_malformed(ctx, "tds: truncated LOGIN7");
        return;
    }
    if (cb == 0xffff) {
        /* cbSSPILong (TDS 7.2+) after AtchDBFile and ChangePassword. */
        pw_skip(&b, 4 + 4);
        cb = pw_le32(&b);
        if (!pw_cur_ok(&b)) {
            if (whole)
                pw_emit_malformed(ctx, "tds: truncated LOGIN7");
            return;
        }
    }
    if (!cb)
        return;
    pw_cursor blob = pw_at(&body, ib, cb);
    if (!pw_cur_ok(&blob)) {
        if (whole)
            pw_emit_malformed(ctx, "tds: LOGIN7 SSPI out of range");
        return;
    }
    sspi_blob(ctx, blob);
}

/* PRELOGIN payload: true when it is (the start of) a TLS handshake rather
 * than the option list. */
static bool prelogin_is_tls(const pw_cursor *payload)
{
    return tls_record(payload);
}

/* Validates a PRELOGIN option list (token, offset BE16, length BE16 ...,
 * 0xFF); returns false when malformed. */
static bool prelogin_ok(pw_cursor p)
{
    pw_cursor c = p;
    for (int i = 0; i < 64; i++) {
        uint8_t tok = pw_u8(&c);
        if (!pw_cur_ok(&c))
            return false;
        if (tok == 0xff)
            return true;
        uint16_t off = pw_be16(&c), len = pw_be16(&c);
        if (!pw_cur_ok(&c) || (size_t)off + len > p.len)
            return false;
    }
    return false;
}

/* A tabular result: walks the token stream up to an SSPI, LOGINACK or
 * ERROR token.  Returns true when the login was answered (LOGINACK / ERROR). */
static bool tabular(const pw_dctx *ctx, pw_cursor c, bool whole)
{
    for (int guard = 0; guard < 64 && pw_cur_left(&c) > 0; guard++) {
        uint8_t tok = pw_u8(&c);
        uint32_t len;
        switch (tok) {
        case TDS_TOK_SSPI:
        case TDS_TOK_ORDER:
        case TDS_TOK_ERROR:
        case TDS_TOK_INFO:
        case TDS_TOK_LOGINACK:
        case TDS_TOK_ENVCHANGE:
            len = pw_le16(&c);
            break;
        case TDS_TOK_FEDAUTHINFO:
            len = pw_le32(&c);
            break;
        case TDS_TOK_FEATUREEXTACK:
            /* FeatureId, FeatureAckDataLen LE32, data ... 0xFF */
            for (int k = 0; k < 32 && pw_cur_ok(&c); k++) {
                uint8_t id = pw_u8(&c);
                if (id == 0xff)
                    break;
                pw_skip(&c, pw_le32(&c));
            }
            if (!pw_cur_ok(&c))
                goto short_;
            continue;
        default:
            return false; /* DONE, rows, ...: nothing more of interest */
        }
        pw_cursor v = pw_sub(&c, len);
        if (!pw_cur_ok(&c))
            goto short_;
        if (tok == TDS_TOK_SSPI)
            sspi_blob(ctx, v);
        else if (tok == TDS_TOK_LOGINACK || tok == TDS_TOK_ERROR)
            return true;
    }
    return false;
short_:
    if (whole)
        pw_emit_malformed(ctx, "tds: truncated token");
    return false;
}

/* Frames one packet from its 8-byte header.  Only the first packet of a
 * message that may carry NTLMSSP (or a PRELOGIN) is read whole. */
static pw_pdu_step tds_frame(const pw_dctx *ctx, void *state, const pw_cursor *c, pw_pdu *pdu)
{
    tds_state *st = state;
    int dir = ctx->dir ? 1 : 0;
    uint8_t type = pw_peek_u8(c, 0);
    if (!known_type(type)) {
        if (!pw_cur_has(c, 2))
            return PW_PDU_WAIT;
        /* TLS: TDS 8.0 (TLS first) or the login encrypted after PRELOGIN. */
        if (!tls_record(c))
            pw_emit_malformed(ctx, "tds: not a TDS packet");
        return PW_PDU_STOP;
    }
    uint16_t plen = 0;
    if (!pw_cur_has(c, TDS_HDR_LEN) || !pw_peek_be16(c, 2, &plen))
        return PW_PDU_WAIT;
    if (plen < TDS_HDR_LEN) {
        pw_emit_malformed(ctx, "tds: bad packet length");
        return PW_PDU_STOP;
    }
    if (!st->app_sent && (type == TDS_PRELOGIN || type == TDS_LOGIN7 || type == TDS_PRE_TDS7_LOGIN)) {
        pw_emit_app(ctx, "tds");
        st->app_sent = true;
    }
    pdu->len = plen;
    pdu->read = !st->cont[dir] && (type == TDS_LOGIN7 || type == TDS_SSPI || type == TDS_PRELOGIN ||
                                   (type == TDS_TABULAR && dir == 1));
    return PW_PDU_NEXT;
}

/* The payload of a packet read whole.  Returns STOP when TLS takes over,
 * else whether the server answered the login. */
static pw_pdu_step tds_payload(const pw_dctx *ctx, tds_state *st, uint8_t type, bool whole, pw_cursor p)
{
    int dir = ctx->dir ? 1 : 0;
    switch (type) {
    case TDS_PRELOGIN:
        if (prelogin_is_tls(&p))
            return PW_PDU_STOP; /* encryption negotiated: TLS from here */
        if (!prelogin_ok(p))
            pw_emit_malformed(ctx, "tds: bad PRELOGIN");
        /* (the answer normally comes as a tabular result) */
        st->prelogin_pending = dir == 0;
        break;
    case TDS_LOGIN7:
        if (dir == 0) {
            st->login_sent = true;
            login7(ctx, p, whole);
        }
        break;
    case TDS_SSPI:
        sspi_blob(ctx, p);
        break;
    case TDS_TABULAR:
        if (st->prelogin_pending) {
            /* The server's PRELOGIN answer travels as a tabular result. */
            st->prelogin_pending = false;
            if (!prelogin_ok(p))
                pw_emit_malformed(ctx, "tds: bad PRELOGIN response");
            break;
        }
        if (tabular(ctx, p, whole) && st->login_sent)
            return PW_PDU_DONE;
        break;
    default:
        break;
    }
    return PW_PDU_NEXT;
}

static pw_pdu_step tds_packet(const pw_dctx *ctx, void *state, const pw_pdu *pdu, pw_cursor m)
{
    tds_state *st = state;
    int dir = ctx->dir ? 1 : 0;
    uint8_t type = pw_u8(&m);
    bool whole = pw_u8(&m) & TDS_STATUS_EOM;
    pw_pdu_step step = PW_PDU_NEXT;
    if (pdu->read) {
        pw_skip(&m, TDS_HDR_LEN - 2);
        step = tds_payload(ctx, st, type, whole, pw_rest(&m));
        if (step == PW_PDU_STOP)
            return step;
    }
    st->cont[dir] = !whole;
    st->pkts++;
    st->bytes += (uint32_t)pdu->len;
    /* The login answered, or enough read: nothing more of interest. */
    if (step == PW_PDU_DONE || st->pkts >= TDS_MAX_PKTS || st->bytes >= TDS_MAX_BYTES)
        return PW_PDU_END;
    return PW_PDU_NEXT;
}

static const pw_pdu_ops tds_ops = {
    .frame = tds_frame,
    .handle = tds_packet,
    .max_len = 0xffff, /* the length field's range: every packet fits */
};

static size_t tds_stream(const pw_dctx *ctx, void *state, const uint8_t *data, size_t len, bool *done)
{
    tds_state *st = state;
    return pw_pdu_stream(&tds_ops, &st->loop, ctx, st, data, len, done);
}

/* Another port: a PRELOGIN packet (EOM, plausible length, an option list
 * that starts with VERSION: token 0, offset, length 6). */
static bool tds_probe(const uint8_t *data, size_t len)
{
    pw_cursor c = pw_cur(data, len);
    uint8_t type = pw_u8(&c), status = pw_u8(&c);
    uint16_t plen = pw_be16(&c);
    pw_skip(&c, 4);
    uint8_t tok = pw_u8(&c);
    uint16_t off = pw_be16(&c), olen = pw_be16(&c);
    if (!pw_cur_ok(&c))
        return false;
    return type == TDS_PRELOGIN && status == TDS_STATUS_EOM && plen > TDS_HDR_LEN + 5 && plen <= 4096 &&
           tok == 0x00 && olen == 6 && (size_t)off + olen <= (size_t)plen - TDS_HDR_LEN;
}

const pw_dissector pw_dissector_tds = {
    .name = "tds",
    .transports = PW_DT_TCP,
    .ports = {1433},
    .probe = tds_probe,
    .state_size = sizeof(tds_state),
    .stream = tds_stream,
};
