/* tds.c - SQL Server TDS login (MS-TDS 2.2.3 packet header, 2.2.6.4 LOGIN7,
 * 2.2.6.5 PRELOGIN, 2.2.6.8 SSPI, 2.2.7 tokens): the PRELOGIN exchange, the
 * NTLMSSP messages of integrated-security logins, the TLS handshake that
 * PRELOGIN packets carry when encryption is negotiated, and the server's
 * answer to the login (LOGINACK or ERROR, then DONE).
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
 * PRELOGIN (0x12) from the client is an option list; the server answers
 * with a tabular result (0x04) holding its own list.  Unless either side
 * said ENCRYPT_NOT_SUP, a TLS handshake follows (even OFF/OFF encrypts the
 * LOGIN7), its records carried as the payload of PRELOGIN packets in both
 * directions; they are unwrapped into an embedded pw_tls_state (as rdp.c
 * embeds one) so the server certificate comes out as PW_EV_TLS events.  Once
 * the server's first flight is over the login travels inside TLS: PW_TDS_ENCRYPTED
 * says so and the stream is done.  TDS 8.0 (TLS from the first byte) ends
 * the stream at once.  Otherwise the stream is done once the server answers
 * the login (LOGINACK or ERROR, up to its DONE) or after 64 KiB. */
#include <string.h>

#include <stdlib.h>

#include "dissector.h"
#include "ntlmssp.h"
#include "pdu_loop.h"
#include "tls.h"

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
    TDS_TOK_DONE = 0xfd,
    TDS_TOK_DONEPROC = 0xfe,
    TDS_TOK_DONEINPROC = 0xff,
};
/* PRELOGIN option tokens (MS-TDS 2.2.6.5). */
enum {
    PL_VERSION = 0, PL_ENCRYPTION = 1, PL_INSTOPT = 2, PL_THREADID = 3, PL_MARS = 4, PL_TRACEID = 5,
    PL_FEDAUTHREQUIRED = 6, PL_TERMINATOR = 0xff
};
/* Unwrapped TLS bytes kept per direction: at most one record waits for the
 * rest of itself (a record may span PRELOGIN packets). */
#define TDS_TLS_CARRY (PW_TLS_RECORD_MAX + 5u)

typedef struct tds_state {
    pw_pdu_state loop;
    bool cont[2];      /* the next packet continues a message (previous one lacked EOM) */
    uint32_t pkts;
    uint32_t bytes;
    bool prelogin_pending; /* client PRELOGIN sent, server answer not yet seen */
    bool login_sent;       /* LOGIN7 (or a TDS 5.0 login) seen */
    bool tds5;             /* the login was a TDS 5.0 (Sybase) one: single-byte strings */
    bool app_sent;
    bool in_tls;           /* PRELOGIN packets carry a TLS handshake */
    pw_tls_state tls;
    uint8_t *carry[2];     /* unwrapped TLS bytes not yet consumed (TDS_TLS_CARRY each, on demand) */
    uint32_t carry_len[2];
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

/* One PRELOGIN option's value into the event; false when it is too short
 * for its type. */
static bool prelogin_option(pw_ev_tds *t, uint8_t tok, pw_cursor v)
{
    switch (tok) {
    case PL_VERSION:
        t->version = pw_be32(&v);
        t->subbuild = pw_be16(&v);
        t->has_version = pw_cur_ok(&v);
        break;
    case PL_ENCRYPTION:
        t->encryption = pw_u8(&v);
        t->has_encryption = pw_cur_ok(&v);
        break;
    case PL_INSTOPT:
        /* a NUL-terminated MBCS name; the server answers 0 (match) or 1 */
        pw_oem_to_utf8(v, t->instance, sizeof t->instance);
        t->has_instance = true;
        return true;
    case PL_THREADID:
        if (!pw_cur_left(&v))
            return true; /* the server sends it empty */
        t->thread_id = pw_be32(&v);
        t->has_thread_id = pw_cur_ok(&v);
        break;
    case PL_MARS:
        t->mars = pw_u8(&v);
        t->has_mars = pw_cur_ok(&v);
        break;
    case PL_TRACEID:
        pw_skip(&v, 36); /* connection id GUID, activity id GUID + sequence */
        t->has_trace_id = pw_cur_ok(&v);
        break;
    case PL_FEDAUTHREQUIRED:
        t->fedauth_required = pw_u8(&v);
        t->has_fedauth_required = pw_cur_ok(&v);
        break;
    default:
        return true; /* NONCEOPT and later options: not needed */
    }
    return pw_cur_ok(&v);
}

/* A PRELOGIN option list (token, offset BE16, length BE16 ..., 0xFF; the
 * offsets count from the start of the list) into *t; false when malformed. */
static bool prelogin_parse(pw_cursor p, pw_ev_tds *t)
{
    pw_cursor c = p;
    for (int i = 0; i < 64; i++) {
        uint8_t tok = pw_u8(&c);
        if (!pw_cur_ok(&c))
            return false;
        if (tok == PL_TERMINATOR)
            return true;
        uint16_t off = pw_be16(&c), len = pw_be16(&c);
        pw_cursor v = pw_at(&p, off, len);
        if (!pw_cur_ok(&c) || !pw_cur_ok(&v) || !prelogin_option(t, tok, v))
            return false;
    }
    return false;
}

/* Parses a PRELOGIN option list and emits it; malformed lists emit only
 * PW_EV_MALFORMED. */
static void prelogin(const pw_dctx *ctx, pw_cursor p)
{
    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_TDS);
    ev.u.tds.kind = PW_TDS_PRELOGIN;
    if (!prelogin_parse(p, &ev.u.tds)) {
        pw_emit_malformed(ctx, ctx->dir ? "tds: bad PRELOGIN response" : "tds: bad PRELOGIN");
        return;
    }
    pw_emit(ctx, &ev);
}

/* ---- the server's answer to the login ---- */

/* B_VARCHAR (length in characters, one byte) or US_VARCHAR (two bytes):
 * UCS-2 for TDS 7+, single-byte for TDS 5.0. */
static void varchar(pw_cursor *c, bool us, bool tds5, char *dst, size_t cap)
{
    size_t chars = us ? pw_le16(c) : pw_u8(c);
    pw_cursor s = pw_sub(c, tds5 ? chars : chars * 2);
    if (!pw_cur_ok(c)) {
        dst[0] = '\0';
        return;
    }
    if (tds5)
        pw_oem_to_utf8(s, dst, cap);
    else
        pw_utf16le_to_utf8(s, dst, cap);
}

/* LOGINACK (2.2.7.14): Interface, TDSVersion, ProgName, ProgVersion.  In
 * TDS 5.0 the same layout with a status byte first and a one-byte name. */
static bool loginack(const pw_dctx *ctx, const tds_state *st, pw_cursor v)
{
    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_TDS);
    pw_ev_tds *t = &ev.u.tds;
    t->kind = PW_TDS_LOGINACK;
    t->tds5 = st->tds5;
    t->interface = pw_u8(&v);
    t->tds_version = pw_be32(&v);
    varchar(&v, false, st->tds5, t->prog_name, sizeof t->prog_name);
    pw_copy(&v, t->prog_version, 4);
    if (!pw_cur_ok(&v))
        return false;
    pw_emit(ctx, &ev);
    return true;
}

/* ERROR (2.2.7.10): Number, State, Class, MsgText, ServerName, ProcName,
 * LineNumber (LONG since TDS 7.2, USHORT before). */
static bool error_token(const pw_dctx *ctx, pw_cursor v)
{
    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_TDS);
    pw_ev_tds *t = &ev.u.tds;
    t->kind = PW_TDS_ERROR;
    t->number = pw_le32(&v);
    t->state = pw_u8(&v);
    t->severity = pw_u8(&v);
    varchar(&v, true, false, t->message, sizeof t->message);
    varchar(&v, false, false, t->server_name, sizeof t->server_name);
    varchar(&v, false, false, t->proc_name, sizeof t->proc_name);
    t->line = pw_cur_left(&v) >= 4 ? pw_le32(&v) : pw_le16(&v);
    if (!pw_cur_ok(&v))
        return false;
    pw_emit(ctx, &ev);
    return true;
}

/* DONE / DONEPROC / DONEINPROC: Status, CurCmd, DoneRowCount (8 bytes since
 * TDS 7.2, 4 before: the answer to a login ends with it). */
static bool done_token(const pw_dctx *ctx, pw_cursor *c)
{
    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_TDS);
    ev.u.tds.kind = PW_TDS_DONE;
    ev.u.tds.done_status = pw_le16(c);
    pw_skip(c, 2);
    pw_skip(c, pw_cur_left(c) >= 8 ? 8 : 4);
    if (!pw_cur_ok(c))
        return false;
    pw_emit(ctx, &ev);
    return true;
}

/* A tabular result: walks the token stream through SSPI, LOGINACK, ERROR
 * and the DONE that ends the answer (emitting each) and stops at a token it
 * does not frame (rows...).  Returns true when the login was answered
 * (LOGINACK / ERROR). */
static bool tabular(const pw_dctx *ctx, const tds_state *st, pw_cursor c, bool whole)
{
    bool answered = false;
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
        case TDS_TOK_DONE:
        case TDS_TOK_DONEPROC:
        case TDS_TOK_DONEINPROC:
            if (answered && !done_token(ctx, &c))
                goto short_;
            return answered;
        default:
            return answered; /* rows, ...: nothing more of interest */
        }
        pw_cursor v = pw_sub(&c, len);
        if (!pw_cur_ok(&c))
            goto short_;
        if (tok == TDS_TOK_SSPI) {
            sspi_blob(ctx, v);
        } else if (tok == TDS_TOK_LOGINACK) {
            if (!loginack(ctx, st, v))
                pw_emit_malformed(ctx, "tds: bad LOGINACK token");
            answered = true;
        } else if (tok == TDS_TOK_ERROR) {
            if (!error_token(ctx, v))
                pw_emit_malformed(ctx, "tds: bad ERROR token");
            answered = true;
        }
    }
    return answered;
short_:
    if (whole)
        pw_emit_malformed(ctx, "tds: truncated token");
    return answered;
}

/* ---- TLS inside PRELOGIN packets ---- */

/* The login is now encrypted: say so once. */
static void emit_encrypted(const pw_dctx *ctx)
{
    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_TDS);
    ev.u.tds.kind = PW_TDS_ENCRYPTED;
    pw_emit(ctx, &ev);
}

/* Hands a PRELOGIN payload of TLS records to the embedded TLS state; a
 * record may span packets, so what it leaves waits in carry[dir].  Returns
 * END once the handshake is as far as a passive observer follows it. */
static pw_pdu_step tls_payload(const pw_dctx *ctx, tds_state *st, pw_cursor p)
{
    int dir = ctx->dir ? 1 : 0;
    if (!st->carry[dir]) {
        st->carry[dir] = malloc(TDS_TLS_CARRY);
        if (!st->carry[dir]) {
            pw_emit_malformed(ctx, "tds: out of memory");
            return PW_PDU_END;
        }
    }
    bool done = false;
    while (pw_cur_left(&p) && !done) {
        size_t room = TDS_TLS_CARRY - st->carry_len[dir], n = pw_cur_left(&p);
        if (n > room)
            n = room;
        pw_copy(&p, st->carry[dir] + st->carry_len[dir], n);
        st->carry_len[dir] += (uint32_t)n;
        size_t used = pw_tls_stream(ctx, &st->tls, st->carry[dir], st->carry_len[dir], &done);
        if (used > st->carry_len[dir])
            used = st->carry_len[dir];
        memmove(st->carry[dir], st->carry[dir] + used, st->carry_len[dir] - used);
        st->carry_len[dir] -= (uint32_t)used;
        if (!done && st->carry_len[dir] == TDS_TLS_CARRY)
            done = true; /* cannot happen with a valid record: tls.c bounds them */
    }
    if (!done)
        return PW_PDU_NEXT;
    if (st->tls.server_done)
        emit_encrypted(ctx);
    return PW_PDU_END;
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
        else if (st->in_tls && st->tls.server_done)
            emit_encrypted(ctx);
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
                                   type == TDS_PRE_TDS7_LOGIN || (type == TDS_TABULAR && dir == 1));
    /* TLS records span packets: every packet of the handshake is read */
    if (st->in_tls && (type == TDS_PRELOGIN || type == TDS_TABULAR))
        pdu->read = true;
    return PW_PDU_NEXT;
}

/* The payload of a packet read whole.  Returns END when TLS takes over
 * or ends, DONE when the server answered the login. */
static pw_pdu_step tds_payload(const pw_dctx *ctx, tds_state *st, uint8_t type, bool whole, pw_cursor p)
{
    int dir = ctx->dir ? 1 : 0;
    if (st->in_tls || ((type == TDS_PRELOGIN || (type == TDS_TABULAR && dir == 1)) && prelogin_is_tls(&p))) {
        /* encryption negotiated: the handshake rides in PRELOGIN packets */
        st->in_tls = true;
        st->tls.no_app = true;
        st->prelogin_pending = false;
        return tls_payload(ctx, st, p);
    }
    switch (type) {
    case TDS_PRELOGIN:
        if (dir == 0) {
            prelogin(ctx, p);
            /* (the answer normally comes as a tabular result) */
            st->prelogin_pending = true;
        } else {
            prelogin(ctx, p);
        }
        break;
    case TDS_PRE_TDS7_LOGIN:
        if (dir == 0) {
            st->login_sent = true;
            st->tds5 = true;
        }
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
            prelogin(ctx, p);
            break;
        }
        if (tabular(ctx, st, p, whole) && st->login_sent)
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
        if (step == PW_PDU_END)
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

static void tds_free(void *state)
{
    tds_state *st = state;
    pw_tls_free(&st->tls);
    for (int i = 0; i < 2; i++) {
        free(st->carry[i]);
        st->carry[i] = NULL;
    }
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
    .stream_free = tds_free,
};
