/* smb.c - SMB1 / SMB2 over the NetBIOS session service (RFC 1002 4.3,
 * MS-SMB2 2.1 direct TCP, MS-SMB 2.2.4.53 / MS-SMB2 2.2.5-6).
 *
 * What carries NTLMSSP matters here: the security blob of SESSION_SETUP
 * requests and responses, a SPNEGO token in which the NTLMSSP message is
 * located and handed to the NTLMSSP decoder; and DCE/RPC over named pipes,
 * followed by smb_pipe.c (tree connects, creates, reads, writes and
 * transceives of pipes are read whole).  Other SMB messages are framed and
 * skipped as they stream past (their bodies are never buffered). */
#include <string.h>

#include "dissector.h"
#include "ntlmssp.h"
#include "pdu_loop.h"
#include "smb_pipe.h"

#define NBSS_HDR_LEN 4
#define SMB2_HDR_LEN 64
#define SMB1_HDR_LEN 32
/* Followed this far (RPC over a pipe comes after the session setup, the
 * tree connect and the create); skipped message bodies cost nothing here,
 * but every segment costs reassembly. */
#define SMB_MAX_MSGS 1024
#define SMB_MAX_BYTES (1024u * 1024u)
/* A connection with no IPC$ tree and no pipe by then is file sharing (or
 * its session setup is long past): it is left there. */
#define SMB_PLAIN_MSGS 64
#define SMB_PLAIN_BYTES (64u * 1024u)
/* Longest message we wait for in full (session setups are a few KiB, pipe
 * reads and writes a DCE/RPC fragment). */
#define SMB_MAX_SETUP 0xffffu

enum { NBSS_MESSAGE = 0x00 };
enum { SMB2_SESSION_SETUP = 0x0001, SMB1_SESSION_SETUP_ANDX = 0x73 };
enum { SMB2_FLAGS_SERVER_TO_REDIR = 0x00000001u, SMB2_FLAGS_ASYNC_COMMAND = 0x00000002u };
#define STATUS_MORE_PROCESSING_REQUIRED 0xc0000016u

typedef struct smb_state {
    pw_pdu_state loop;
    uint32_t msgs;
    uint32_t bytes;
    bool app_sent;
    pw_smb_pipes pipes;
} smb_state;

/* Parses the security blob for NTLMSSP. */
static void sec_blob(const pw_dctx *ctx, pw_cursor blob)
{
    pw_cursor msg;
    if (pw_cur_ok(&blob) && pw_ntlmssp_find(&blob, &msg))
        pw_ntlmssp_parse_cur(ctx, msg);
}

/* SESSION_SETUP request or response: the security blob. */
static void smb2_session_setup(const pw_dctx *ctx, const pw_smb_hdr *h, pw_cursor hdr)
{
    pw_cursor b = pw_at(&hdr, SMB2_HDR_LEN, hdr.len - SMB2_HDR_LEN);
    uint16_t bss = pw_le16(&b);
    uint16_t off = 0, len = 0;
    if (h->resp) {
        pw_skip(&b, 2); /* SessionFlags */
        off = pw_le16(&b);
        len = pw_le16(&b);
    } else {
        pw_skip(&b, 1 + 1 + 4 + 4); /* Flags, SecurityMode, Capabilities, Channel */
        off = pw_le16(&b);
        len = pw_le16(&b);
    }
    /* An error response carries the 9-byte error body instead. */
    if (h->resp && h->status != 0 && h->status != STATUS_MORE_PROCESSING_REQUIRED)
        return;
    if (!pw_cur_ok(&b) || bss != (h->resp ? 9 : 25)) {
        pw_emit_malformed(ctx, "smb: truncated SESSION_SETUP");
    } else if (len) {
        pw_cursor blob = pw_at(&hdr, off, len);
        if (!pw_cur_ok(&blob))
            pw_emit_malformed(ctx, "smb: SESSION_SETUP blob out of range");
        else
            sec_blob(ctx, blob);
    }
}

/* One SMB2 message (the NetBIOS payload, possibly a compound chain). */
static void smb2(const pw_dctx *ctx, smb_state *st, pw_cursor m)
{
    size_t start = 0;
    for (int guard = 0; guard < 16; guard++) {
        pw_cursor c = pw_at(&m, start, m.len - start);
        pw_smb_hdr h = {0};
        pw_skip(&c, 4); /* \xFESMB */
        uint16_t ss = pw_le16(&c);
        pw_skip(&c, 2); /* CreditCharge */
        h.status = pw_le32(&c);
        h.cmd = pw_le16(&c);
        pw_skip(&c, 2); /* Credits */
        uint32_t flags = pw_le32(&c);
        uint32_t next = pw_le32(&c);
        h.mid = pw_le64(&c);
        pw_skip(&c, 4); /* Reserved, or the first half of an AsyncId */
        h.tree = pw_le32(&c);
        pw_skip(&c, SMB2_HDR_LEN - 40);
        if (!pw_cur_ok(&c) || ss != SMB2_HDR_LEN) {
            pw_emit_malformed(ctx, "smb: truncated SMB2 header");
            return;
        }
        h.resp = flags & SMB2_FLAGS_SERVER_TO_REDIR;
        if (flags & SMB2_FLAGS_ASYNC_COMMAND)
            h.tree = 0;
        /* The header-relative view: offsets count from the SMB2 header. */
        pw_cursor hdr = pw_at(&m, start, next ? (size_t)next : m.len - start);
        if (!pw_cur_ok(&hdr)) {
            pw_emit_malformed(ctx, "smb: bad SMB2 NextCommand");
            return;
        }
        if (h.cmd == SMB2_SESSION_SETUP)
            smb2_session_setup(ctx, &h, hdr);
        else
            pw_smb2_pipe_cmd(ctx, &st->pipes, &h, hdr);
        if (!next)
            break;
        if (next < SMB2_HDR_LEN || next > m.len - start) {
            pw_emit_malformed(ctx, "smb: bad SMB2 NextCommand");
            break;
        }
        start += next;
    }
}

/* SESSION_SETUP_ANDX: the security blob. */
static void smb1_session_setup(const pw_dctx *ctx, pw_cursor m)
{
    uint8_t wc = pw_u8(&m);
    pw_cursor words = pw_sub(&m, (size_t)wc * 2);
    uint16_t bc = pw_le16(&m);
    pw_cursor bytes = pw_sub(&m, bc);
    if (!pw_cur_ok(&m)) {
        /* An error response may have wc == 0 and bc == 0 (present) - anything else is short. */
        pw_emit_malformed(ctx, "smb: truncated SESSION_SETUP_ANDX");
        return;
    }
    /* Extended security is told by the word count (as Wireshark does):
     * 12 words for a request, 4 for a response; FLAGS2_EXTENDED_SECURITY is
     * not always set by the clients that use it. */
    uint16_t bloblen = 0;
    if (wc == 12) {
        pw_skip(&words, 4 + 2 + 2 + 2 + 4); /* AndX, MaxBufferSize, MaxMpxCount, VcNumber, SessionKey */
        bloblen = pw_le16(&words);
    } else if (wc == 4) {
        pw_skip(&words, 4 + 2); /* AndX, Action */
        bloblen = pw_le16(&words);
    }
    if (bloblen) {
        pw_cursor blob = pw_sub(&bytes, bloblen);
        if (!pw_cur_ok(&words) || !pw_cur_ok(&blob))
            pw_emit_malformed(ctx, "smb: SESSION_SETUP_ANDX blob out of range");
        else
            sec_blob(ctx, blob);
    }
}

/* One SMB1 message. */
static void smb1(const pw_dctx *ctx, smb_state *st, pw_cursor m)
{
    pw_cursor c = m;
    pw_smb_hdr h = {0};
    pw_skip(&c, 4); /* \xFFSMB */
    h.cmd = pw_u8(&c);
    h.status = pw_le32(&c);
    h.resp = pw_u8(&c) & 0x80;
    h.unicode = pw_le16(&c) & 0x8000;
    pw_skip(&c, 12); /* PIDHigh, SecurityFeatures, Reserved */
    h.tree = pw_le16(&c);
    pw_skip(&c, 4); /* PIDLow, UID */
    h.mid = pw_le16(&c);
    if (!pw_cur_ok(&c)) {
        pw_emit_malformed(ctx, "smb: truncated SMB1 header");
        return;
    }
    if (h.cmd == SMB1_SESSION_SETUP_ANDX)
        smb1_session_setup(ctx, pw_rest(&c));
    else
        pw_smb1_pipe_cmd(ctx, &st->pipes, &h, m);
}

/* Frames one NetBIOS session packet (type, 24-bit length).  SMB session
 * setups and the messages that follow pipes are read whole; every other
 * message is passed over. */
static pw_pdu_step smb_frame(const pw_dctx *ctx, void *state, const pw_cursor *c, pw_pdu *pdu)
{
    smb_state *st = state;
    uint32_t mlen = 0;
    if (!pw_peek_be24(c, 1, &mlen))
        return PW_PDU_WAIT;
    uint8_t type = pw_peek_u8(c, 0);
    pdu->len = NBSS_HDR_LEN + (size_t)mlen;
    if (type != NBSS_MESSAGE) {
        /* Session request / response / keepalive: RFC 1002 types only. */
        if (type != 0x81 && type != 0x82 && type != 0x83 && type != 0x84 && type != 0x85) {
            pw_emit_malformed(ctx, "smb: bad NetBIOS session message type");
            return PW_PDU_STOP;
        }
        return PW_PDU_NEXT;
    }
    /* The header (and the start of the body) to decide. */
    size_t head = mlen < PW_SMB_PEEK ? mlen : PW_SMB_PEEK;
    if (!pw_cur_has(c, NBSS_HDR_LEN + head))
        return PW_PDU_WAIT;
    uint8_t p0 = pw_peek_u8(c, 4), p1 = pw_peek_u8(c, 5), p2 = pw_peek_u8(c, 6), p3 = pw_peek_u8(c, 7);
    bool is2 = p0 == 0xfe && p1 == 'S' && p2 == 'M' && p3 == 'B';
    bool is1 = p0 == 0xff && p1 == 'S' && p2 == 'M' && p3 == 'B';
    bool enc = (p0 == 0xfd || p0 == 0xfc) && p1 == 'S' && p2 == 'M' && p3 == 'B';
    if (!is1 && !is2 && !enc) {
        pw_emit_malformed(ctx, "smb: not an SMB message");
        return PW_PDU_STOP;
    }
    if (!st->app_sent) {
        pw_emit_app(ctx, "smb");
        st->app_sent = true;
    }
    pw_cursor msg = pw_at(c, pw_cur_pos(c) + NBSS_HDR_LEN, head);
    if (is2 && mlen >= 16)
        pdu->read = (pw_peek_u8(&msg, 12) == SMB2_SESSION_SETUP && pw_peek_u8(&msg, 13) == 0) ||
                    pw_smb2_pipe_wants(&st->pipes, &msg);
    else if (is1 && mlen >= 5)
        pdu->read = pw_peek_u8(&msg, 4) == SMB1_SESSION_SETUP_ANDX || pw_smb1_pipe_wants(&st->pipes, &msg);
    return PW_PDU_NEXT;
}

static pw_pdu_step smb_message(const pw_dctx *ctx, void *state, const pw_pdu *pdu, pw_cursor m)
{
    smb_state *st = state;
    if (pw_u8(&m) != NBSS_MESSAGE)
        return PW_PDU_NEXT; /* session service packets are framed, not counted */
    if (pdu->read) {
        pw_skip(&m, NBSS_HDR_LEN - 1);
        if (pw_peek_u8(&m, 0) == 0xfe)
            smb2(ctx, st, pw_rest(&m));
        else
            smb1(ctx, st, pw_rest(&m));
    }
    st->msgs++;
    st->bytes += (uint32_t)pdu->len;
    if (st->msgs >= SMB_MAX_MSGS || st->bytes >= SMB_MAX_BYTES)
        return PW_PDU_DONE;
    if ((st->msgs >= SMB_PLAIN_MSGS || st->bytes >= SMB_PLAIN_BYTES) && !pw_smb_pipes_any(&st->pipes))
        return PW_PDU_DONE;
    return PW_PDU_NEXT;
}

static const pw_pdu_ops smb_ops = {
    .frame = smb_frame,
    .handle = smb_message,
    .max_len = NBSS_HDR_LEN + SMB_MAX_SETUP,
};

static size_t smb_stream(const pw_dctx *ctx, void *state, const uint8_t *data, size_t len, bool *done)
{
    smb_state *st = state;
    return pw_pdu_stream(&smb_ops, &st->loop, ctx, st, data, len, done);
}

static void smb_stream_free(void *state)
{
    smb_state *st = state;
    pw_smb_pipes_free(&st->pipes);
}
static bool smb_probe(const uint8_t *data, size_t len)
{
    pw_cursor c = pw_cur(data, len);
    uint8_t type = pw_u8(&c);
    pw_skip(&c, 3);
    uint8_t p0 = pw_u8(&c), p1 = pw_u8(&c), p2 = pw_u8(&c), p3 = pw_u8(&c);
    return pw_cur_ok(&c) && type == NBSS_MESSAGE && (p0 == 0xfe || p0 == 0xff) && p1 == 'S' && p2 == 'M' &&
           p3 == 'B';
}

const pw_dissector pw_dissector_smb = {
    .name = "smb",
    .transports = PW_DT_TCP,
    .ports = {445, 139},
    .probe = smb_probe,
    .state_size = sizeof(smb_state),
    .stream = smb_stream,
    .stream_free = smb_stream_free,
};
