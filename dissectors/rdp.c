/* rdp.c - RDP connection setup (MS-RDPBCGR 2.2.1.1 / 2.2.1.2): TPKT (RFC
 * 1006) + X.224 Connection Request (cookie, RDP_NEG_REQ) and Connection
 * Confirm (RDP_NEG_RSP / RDP_NEG_FAILURE), then the TLS handshake that
 * follows when the server selected an SSL-based security protocol; that
 * handshake is parsed by an embedded pw_tls_state, so its events come from
 * the RDP flow. */
#include <string.h>

#include "dissector.h"
#include "tls.h"

enum { X224_CR = 0xE0, X224_CC = 0xD0 };
enum { NEG_REQ = 0x01, NEG_RSP = 0x02, NEG_FAILURE = 0x03 };
enum {
    PROTO_RDP = 0, PROTO_SSL = 1, PROTO_HYBRID = 2, PROTO_RDSTLS = 4, PROTO_HYBRID_EX = 8,
    PROTO_RDSAAD = 0x10
};
#define TPKT_MAX 4096u /* X.224 CR/CC are tiny; anything larger is not what we parse */

typedef struct rdp_state {
    pw_tls_state tls;
    bool x224_done[2]; /* CR seen (dir 0) / CC seen (dir 1) */
    bool in_tls[2];    /* this direction now carries TLS */
    bool tls_selected; /* the confirm selected an SSL-based protocol */
    bool confirmed;    /* a confirm was seen */
    bool app;
    bool dead;
} rdp_state;

static const char cookie_prefix[] = "Cookie: mstshash=";

/* Reads the "Cookie: ...\r\n" / routing token line; copies a mstshash value. */
static void read_cookie(pw_cursor *c, char *dst, size_t cap)
{
    size_t n = sizeof cookie_prefix - 1;
    bool mstshash = true;
    for (size_t i = 0; i < n; i++)
        if (pw_peek_u8(c, i) != (uint8_t)cookie_prefix[i])
            mstshash = false;
    /* Find the CRLF that ends the line. */
    size_t left = pw_cur_left(c), end = 0;
    bool found = false;
    for (size_t i = 0; i + 1 < left; i++) {
        if (pw_peek_u8(c, i) == '\r' && pw_peek_u8(c, i + 1) == '\n') {
            end = i;
            found = true;
            break;
        }
    }
    if (!found) {
        pw_cur_fail(c);
        return;
    }
    if (mstshash) {
        pw_skip(c, n);
        size_t o = 0;
        for (size_t i = n; i < end; i++) {
            uint8_t b = pw_u8(c);
            if (o + 1 < cap)
                dst[o++] = (b >= 0x20 && b < 0x7f) ? (char)b : '?';
        }
        dst[o] = '\0';
    } else {
        pw_skip(c, end);
    }
    pw_skip(c, 2);
}

static bool starts_with_cookie(const pw_cursor *c)
{
    static const char k[] = "Cookie:";
    for (size_t i = 0; i < sizeof k - 1; i++)
        if (pw_peek_u8(c, i) != (uint8_t)k[i])
            return false;
    return true;
}

/* One TPKT-framed X.224 TPDU; returns false when it is not one. */
static bool x224(const pw_dctx *ctx, rdp_state *st, pw_cursor *tpdu)
{
    uint8_t li = pw_u8(tpdu);
    uint8_t code = pw_u8(tpdu) & 0xF0;
    pw_skip(tpdu, 2); /* dst-ref */
    pw_skip(tpdu, 2); /* src-ref */
    pw_skip(tpdu, 1); /* class */
    if (!pw_cur_ok(tpdu) || li < 6)
        return false;
    bool want_cr = ctx->dir == 0;
    if ((want_cr && code != X224_CR) || (!want_cr && code != X224_CC))
        return false;
    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_RDP);
    pw_ev_rdp *r = &ev.u.rdp;
    r->kind = want_cr ? PW_RDP_CONNECTION_REQUEST : PW_RDP_CONNECTION_CONFIRM;
    if (want_cr && starts_with_cookie(tpdu)) {
        read_cookie(tpdu, r->cookie, sizeof r->cookie);
        if (!pw_cur_ok(tpdu)) {
            pw_emit_malformed(ctx, "rdp: unterminated cookie");
            return true;
        }
    }
    if (pw_cur_has(tpdu, 8)) {
        uint8_t type = pw_u8(tpdu);
        pw_skip(tpdu, 1); /* flags */
        uint16_t nlen = pw_le16(tpdu);
        uint32_t val = pw_le32(tpdu);
        if (nlen != 8 || (want_cr && type != NEG_REQ) ||
            (!want_cr && type != NEG_RSP && type != NEG_FAILURE)) {
            pw_emit_malformed(ctx, "rdp: bad negotiation structure");
            return true;
        }
        r->has_neg = true;
        if (type == NEG_REQ)
            r->requested_protocols = val;
        else if (type == NEG_RSP)
            r->selected_protocol = val;
        else {
            r->failure = true;
            r->failure_code = val;
        }
    }
    if (!st->app) {
        pw_emit_app(ctx, "rdp");
        st->app = true;
    }
    pw_emit(ctx, &ev);
    if (!want_cr) {
        st->confirmed = true;
        uint32_t p = r->selected_protocol;
        st->tls_selected = r->has_neg && !r->failure &&
                           (p == PROTO_SSL || p == PROTO_HYBRID || p == PROTO_RDSTLS ||
                            p == PROTO_HYBRID_EX || p == PROTO_RDSAAD);
    }
    return true;
}

static size_t rdp_stream(const pw_dctx *ctx, void *state, const uint8_t *data, size_t len,
                         bool *done)
{
    rdp_state *st = state;
    int dir = ctx->dir ? 1 : 0;
    if (st->dead) {
        *done = true;
        return len;
    }
    if (st->in_tls[dir]) {
        size_t n = pw_tls_stream(ctx, &st->tls, data, len, done);
        if (*done)
            st->dead = true;
        return n;
    }
    pw_cursor c = pw_cur(data, len);
    if (st->x224_done[dir]) {
        /* What follows our X.224 message: TLS, or (standard RDP security) MCS. */
        if (!pw_cur_has(&c, 3))
            return 0;
        if (pw_tls_looks_like(data, len, dir == 0) && (dir == 0 || st->tls_selected)) {
            st->in_tls[dir] = true;
            st->tls.no_app = true;
            size_t n = pw_tls_stream(ctx, &st->tls, data, len, done);
            if (*done)
                st->dead = true;
            return n;
        }
        if (st->confirmed && !st->tls_selected) {
            st->dead = true;
            *done = true;
        }
        return len; /* not of interest */
    }
    if (!pw_cur_has(&c, 4))
        return 0;
    uint8_t ver = pw_u8(&c);
    pw_skip(&c, 1);
    uint16_t tlen = pw_be16(&c);
    if (ver != 3 || tlen < 11 || tlen > TPKT_MAX) {
        pw_emit_malformed(ctx, "rdp: not a TPKT X.224 connection message");
        st->dead = true;
        *done = true;
        return len;
    }
    if (!pw_cur_has(&c, (size_t)tlen - 4))
        return 0; /* wait for the whole TPKT */
    pw_cursor tpdu = pw_sub(&c, (size_t)tlen - 4);
    if (!x224(ctx, st, &tpdu)) {
        pw_emit_malformed(ctx, dir == 0 ? "rdp: expected X.224 connection request"
                                        : "rdp: expected X.224 connection confirm");
        st->dead = true;
        *done = true;
        return len;
    }
    st->x224_done[dir] = true;
    if (dir == 1 && !st->tls_selected) {
        /* Standard RDP security or a negotiation failure: nothing more to learn. */
        st->dead = true;
        *done = true;
        return len;
    }
    /* Bytes after the X.224 message in the same segment (a TLS hello). */
    size_t used = pw_cur_pos(&c), left = pw_cur_left(&c);
    if (left) {
        const uint8_t *rest = pw_cur_view(&c, left);
        bool d2 = false;
        size_t more = rdp_stream(ctx, state, rest, left, &d2);
        if (d2)
            *done = true;
        return used + more;
    }
    return used;
}

static void rdp_free(void *state)
{
    rdp_state *st = state;
    pw_tls_free(&st->tls);
}

const pw_dissector pw_dissector_rdp = {
    .name = "rdp",
    .transports = PW_DT_TCP,
    .ports = {3389},
    .state_size = sizeof(rdp_state),
    .stream = rdp_stream,
    .stream_free = rdp_free,
};
