/* dcerpc.c - DCE/RPC connection-oriented PDUs (C706 ch. 12, MS-RPCE 2.2.2)
 * and the endpoint mapper's towers (C706 appendix L, MS-RPCE 2.2.1.1.x).
 *
 * Framing: every PDU starts with a 16-byte common header whose frag_length
 * (byte order per the data representation label) gives the PDU size.  PDUs
 * we decode in full (bind family, fault, auth3, endpoint mapper calls) are
 * waited for until complete; for other requests and responses only the first
 * 24 bytes are read and the rest is skipped as it streams past, so a bulk
 * RPC flow never has to be buffered. */
#include <stdio.h>
#include <string.h>

#include "dcerpc.h"
#include "ntlmssp.h"

#define RPC_HDR_LEN 16
#define RPC_REQ_HDR_LEN 24
#define RPC_MAX_CTX PW_RPC_MAX_CTX
#define RPC_MAX_CALLS PW_RPC_MAX_CALLS
#define RPC_MAX_PDUS 64
#define RPC_MAX_BYTES (64u * 1024u)
#define RPC_MAX_TOWERS 32
#define RPC_MAX_FLOORS 16

enum { PFC_FIRST_FRAG = 0x01, PFC_LAST_FRAG = 0x02, PFC_OBJECT_UUID = 0x80 };
enum { EPM_LOOKUP = 2, EPM_MAP = 3 };

static const char epm_uuid[] = "e1af8308-5d1f-11c9-91a4-08002b14a0fa";
static const char ndr64_uuid[] = "71710533-beba-4937-8319-b5dbef9ccc36";

typedef pw_rpc_ctx rpc_ctx;
typedef pw_rpc_call rpc_call;
typedef pw_dcerpc_state dcerpc_state;

/* ---- helpers ---- */

static uint16_t rd16(pw_cursor *c, bool le) { return le ? pw_le16(c) : pw_be16(c); }
static uint32_t rd32(pw_cursor *c, bool le) { return le ? pw_le32(c) : pw_be32(c); }

/* Reads a UUID (first three fields in the given byte order) as lower-case text. */
static void read_uuid(pw_cursor *c, bool le, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    uint32_t d1 = rd32(c, le);
    uint16_t d2 = rd16(c, le), d3 = rd16(c, le);
    b[0] = (uint8_t)(d1 >> 24), b[1] = (uint8_t)(d1 >> 16), b[2] = (uint8_t)(d1 >> 8), b[3] = (uint8_t)d1;
    b[4] = (uint8_t)(d2 >> 8), b[5] = (uint8_t)d2, b[6] = (uint8_t)(d3 >> 8), b[7] = (uint8_t)d3;
    pw_copy(c, b + 8, 8);
    if (!pw_cur_ok(c)) {
        out[0] = '\0';
        return;
    }
    size_t n = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[n++] = '-';
        out[n++] = hex[b[i] >> 4];
        out[n++] = hex[b[i] & 15];
    }
    out[n] = '\0';
}

/* NDR stub reading: byte order from the PDU, NDR (4-byte sizes and
 * pointers) or NDR64 (8-byte, 8-aligned).  Alignment counts from the start
 * of the stub, which the stub cursor's buffer begins with. */
typedef struct ndr {
    pw_cursor c;
    bool le, n64;
} ndr;

static void ndr_align(ndr *n, size_t a)
{
    size_t pad = (a - (pw_cur_pos(&n->c) & (a - 1))) & (a - 1);
    pw_skip(&n->c, pad);
}

static uint32_t ndr_u32(ndr *n)
{
    ndr_align(n, 4);
    return rd32(&n->c, n->le);
}

/* A size / offset / count, or a pointer referent id. */
static uint64_t ndr_size(ndr *n)
{
    if (!n->n64)
        return ndr_u32(n);
    ndr_align(n, 8);
    uint32_t a = rd32(&n->c, n->le), b = rd32(&n->c, n->le);
    return n->le ? ((uint64_t)b << 32 | a) : ((uint64_t)a << 32 | b);
}

static rpc_ctx *ctx_find(dcerpc_state *st, uint16_t id)
{
    for (int i = 0; i < RPC_MAX_CTX; i++)
        if (st->ctx[i].used && !st->ctx[i].pending && st->ctx[i].id == id)
            return &st->ctx[i];
    return NULL;
}

static void ctx_propose(dcerpc_state *st, uint16_t id, uint8_t seq, uint32_t call_id, const char *iface)
{
    rpc_ctx *slot = NULL;
    for (int i = 0; i < RPC_MAX_CTX && !slot; i++)
        if (st->ctx[i].used && st->ctx[i].pending && st->ctx[i].id == id)
            slot = &st->ctx[i];
    for (int i = 0; i < RPC_MAX_CTX && !slot; i++)
        if (!st->ctx[i].used)
            slot = &st->ctx[i];
    /* Full: reuse a proposal of an older bind that was never answered. */
    for (int i = 0; i < RPC_MAX_CTX && !slot; i++)
        if (st->ctx[i].pending && st->ctx[i].bind_call != call_id)
            slot = &st->ctx[i];
    if (!slot)
        return; /* table full: the first contexts are the ones that matter */
    slot->used = true;
    slot->pending = true;
    slot->id = id;
    slot->seq = seq;
    slot->bind_call = call_id;
    memcpy(slot->iface, iface, sizeof slot->iface);
    slot->is_epm = strcmp(iface, epm_uuid) == 0;
}

/* bind_ack / alter_context_resp result i for call_id: accept or drop the
 * i-th context proposed by that call. */
static void ctx_result(dcerpc_state *st, uint32_t call_id, unsigned idx, uint16_t result, bool ndr64)
{
    for (int i = 0; i < RPC_MAX_CTX; i++) {
        rpc_ctx *x = &st->ctx[i];
        if (!x->used || !x->pending || x->bind_call != call_id || x->seq != idx)
            continue;
        if (result == 0) {
            /* Replace an older context with the same id. */
            for (int j = 0; j < RPC_MAX_CTX; j++)
                if (j != i && st->ctx[j].used && !st->ctx[j].pending && st->ctx[j].id == x->id)
                    st->ctx[j].used = false;
            x->pending = false;
            x->ndr64 = ndr64;
        } else {
            x->used = false;
        }
        return;
    }
}

static rpc_call *call_find(dcerpc_state *st, uint32_t call_id)
{
    for (int i = 0; i < RPC_MAX_CALLS; i++)
        if (st->calls[i].used && st->calls[i].call_id == call_id)
            return &st->calls[i];
    return NULL;
}

static rpc_call *call_add(dcerpc_state *st, uint32_t call_id)
{
    rpc_call *c = call_find(st, call_id);
    if (!c) {
        c = &st->calls[st->call_next];
        st->call_next = (uint8_t)((st->call_next + 1) % RPC_MAX_CALLS);
    }
    memset(c, 0, sizeof *c);
    c->used = true;
    c->call_id = call_id;
    return c;
}

/* ---- endpoint mapper towers ---- */

typedef struct tower_info {
    char iface[37];
    uint8_t proto;
    bool has_port, has_addr;
    uint16_t port;
    uint8_t ip[4];
} tower_info;

/* Decodes a tower's octet string (always little-endian floors, ports and
 * addresses big-endian).  Returns false when malformed. */
static bool decode_tower(pw_cursor t, tower_info *ti)
{
    memset(ti, 0, sizeof *ti);
    uint16_t floors = pw_le16(&t);
    if (!pw_cur_ok(&t) || floors == 0 || floors > RPC_MAX_FLOORS)
        return false;
    for (uint16_t f = 0; f < floors; f++) {
        uint16_t lhs_len = pw_le16(&t);
        pw_cursor lhs = pw_sub(&t, lhs_len);
        uint16_t rhs_len = pw_le16(&t);
        pw_cursor rhs = pw_sub(&t, rhs_len);
        if (!pw_cur_ok(&t) || lhs_len == 0)
            return false;
        uint8_t proto = pw_u8(&lhs);
        switch (proto) {
        case 0x0d: /* UUID floor: interface (floor 1) or transfer syntax */
            if (f == 0 && lhs_len >= 19)
                read_uuid(&lhs, true, ti->iface);
            break;
        case 0x07: /* TCP port */
        case 0x08: /* UDP port */
            ti->proto = proto == 0x07 ? 6 : 17;
            ti->port = pw_be16(&rhs);
            ti->has_port = pw_cur_ok(&rhs);
            break;
        case 0x09: /* IPv4 address */
            ti->has_addr = pw_copy(&rhs, ti->ip, 4);
            break;
        default: break;
        }
    }
    return true;
}

/* A twr_t pointee: conformance, tower_length, octets. */
static bool read_twr(ndr *n, pw_cursor *octets)
{
    uint64_t max = ndr_size(n);
    uint32_t len = ndr_u32(n);
    if (!pw_cur_ok(&n->c) || len > max || len > 0xffff)
        return false;
    *octets = pw_sub(&n->c, len);
    return pw_cur_ok(&n->c);
}

static void emit_tower(const pw_dctx *ctx, const tower_info *ti, const rpc_call *call, const char *pipe)
{
    if (!ti->has_port)
        return;
    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_EPM_PORT);
    ev.u.epm.proto = ti->proto;
    ev.u.epm.port = ti->port;
    ev.u.epm.opnum = call->opnum;
    memcpy(ev.u.epm.pipe, pipe, sizeof ev.u.epm.pipe);
    if (ti->has_addr) {
        ev.u.epm.has_addr = true;
        pw_addr_v4(&ev.u.epm.addr, ti->ip);
    }
    memcpy(ev.u.epm.iface, ti->iface[0] ? ti->iface : call->req_iface, sizeof ev.u.epm.iface);
    pw_emit(ctx, &ev);
}

/* ept_map / ept_lookup response stub. */
static void epm_response(const pw_dctx *ctx, ndr n, const rpc_call *call, const char *pipe)
{
    bool ok = true;
    uint32_t towers = 0; /* non-null tower pointers */
    pw_skip(&n.c, 20);   /* entry_handle */
    ndr_u32(&n);         /* num_towers / num_ents */
    ndr_size(&n);        /* max_count */
    ndr_size(&n);        /* offset */
    uint64_t actual = ndr_size(&n);
    if (!pw_cur_ok(&n.c) || actual > 4096) {
        pw_emit_malformed(ctx, "dcerpc: truncated epm response");
        return;
    }
    for (uint64_t i = 0; i < actual && pw_cur_ok(&n.c); i++) {
        uint64_t ref;
        if (call->opnum == EPM_LOOKUP) {
            /* ept_entry_t: object, tower pointer, annotation (varying string) */
            ndr_align(&n, n.n64 ? 8 : 4);
            pw_skip(&n.c, 16);
            ref = ndr_size(&n);
            ndr_size(&n); /* annotation offset */
            uint64_t alen = ndr_size(&n);
            if (alen > 64)
                pw_cur_fail(&n.c);
            pw_skip(&n.c, (size_t)alen);
        } else {
            ref = ndr_size(&n);
        }
        if (ref && towers < RPC_MAX_TOWERS)
            towers++;
    }
    for (uint32_t i = 0; i < towers && pw_cur_ok(&n.c); i++) {
        pw_cursor oct;
        tower_info ti;
        if (!read_twr(&n, &oct) || !decode_tower(oct, &ti)) {
            ok = false;
            break;
        }
        emit_tower(ctx, &ti, call, pipe);
    }
    if (!ok || !pw_cur_ok(&n.c))
        pw_emit_malformed(ctx, "dcerpc: bad epm tower");
}

/* ept_map request stub: remember the interface of map_tower. */
static void epm_map_request(ndr n, rpc_call *call)
{
    uint64_t obj = ndr_size(&n);
    if (obj)
        pw_skip(&n.c, 16);
    uint64_t twr = ndr_size(&n);
    pw_cursor oct;
    tower_info ti;
    if (pw_cur_ok(&n.c) && twr && read_twr(&n, &oct) && decode_tower(oct, &ti))
        memcpy(call->req_iface, ti.iface, sizeof call->req_iface);
}

/* ---- PDUs ---- */

/* Is this PDU worth waiting for in full?  hdr covers at least 24 bytes or the
 * whole (shorter) PDU. */
static bool want_full(dcerpc_state *st, uint8_t ptype, uint8_t flags, uint16_t cont_id, uint16_t opnum,
                      uint32_t call_id)
{
    switch (ptype) {
    case PW_DCERPC_BIND: case PW_DCERPC_BIND_ACK: case PW_DCERPC_BIND_NAK:
    case PW_DCERPC_ALTER_CONTEXT: case PW_DCERPC_ALTER_CONTEXT_RESP: case PW_DCERPC_AUTH3:
    case PW_DCERPC_FAULT:
        return true;
    case PW_DCERPC_REQUEST: {
        rpc_ctx *x = ctx_find(st, cont_id);
        return x && x->is_epm && opnum == EPM_MAP && (flags & PFC_FIRST_FRAG);
    }
    case PW_DCERPC_RESPONSE: {
        rpc_call *c = call_find(st, call_id);
        return c && c->epm && (flags & (PFC_FIRST_FRAG | PFC_LAST_FRAG)) == (PFC_FIRST_FRAG | PFC_LAST_FRAG);
    }
    default:
        return false;
    }
}

/* The auth verifier's token: runs NTLMSSP on it. */
static void auth_token(const pw_dctx *ctx, uint8_t auth_type, pw_cursor tok)
{
    if (auth_type == PW_AUTHN_WINNT) {
        pw_ntlmssp_parse_cur(ctx, tok);
    } else if (auth_type == PW_AUTHN_SPNEGO) {
        pw_cursor msg;
        if (pw_ntlmssp_find(&tok, &msg))
            pw_ntlmssp_parse_cur(ctx, msg);
    }
}

/* Decodes one PDU.  p covers the whole PDU when full, else its first bytes;
 * then the event is stored in *hold (when given) instead of being sent. */
static void decode_pdu(const pw_dctx *ctx, dcerpc_state *st, pw_cursor p, bool full, pw_ev_dcerpc *hold, bool *held)
{
    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_DCERPC);
    pw_ev_dcerpc *e = &ev.u.dcerpc;
    memcpy(e->pipe, st->pipe, sizeof e->pipe);
    pw_u8(&p);            /* rpc_vers */
    pw_u8(&p);            /* rpc_vers_minor */
    e->ptype = pw_u8(&p);
    uint8_t flags = pw_u8(&p);
    uint8_t drep0 = pw_u8(&p);
    pw_skip(&p, 3);
    bool le = (drep0 & 0xf0) == 0x10;
    e->frag_len = rd16(&p, le);
    uint16_t auth_len = rd16(&p, le);
    e->call_id = rd32(&p, le);

    /* Body and auth verifier bounds (full PDUs only). */
    size_t body_end = e->frag_len;
    pw_cursor token = {NULL, 0, 0, true};
    bool has_token = false;
    if (full && auth_len) {
        if ((size_t)auth_len + 8 + RPC_HDR_LEN > e->frag_len) {
            pw_emit_malformed(ctx, "dcerpc: auth_length too large");
        } else {
            body_end = e->frag_len - auth_len - 8;
            pw_cursor tr = pw_at(&p, body_end, 8);
            e->auth_type = pw_u8(&tr);
            e->auth_level = pw_u8(&tr);
            token = pw_at(&p, e->frag_len - auth_len, auth_len);
            has_token = pw_cur_ok(&token);
        }
    }
    pw_cursor b = full ? pw_at(&p, RPC_HDR_LEN, body_end - RPC_HDR_LEN) : p;
    bool body_ok = true;

    switch (e->ptype) {
    case PW_DCERPC_BIND:
    case PW_DCERPC_ALTER_CONTEXT: {
        pw_skip(&b, 8); /* max_xmit_frag, max_recv_frag, assoc_group_id */
        uint8_t n = pw_u8(&b);
        pw_skip(&b, 3);
        for (unsigned i = 0; i < n && pw_cur_ok(&b); i++) {
            char iface[37];
            uint16_t id = rd16(&b, le);
            uint8_t nts = pw_u8(&b);
            pw_u8(&b);
            read_uuid(&b, le, iface);
            uint16_t ver = rd16(&b, le);
            rd16(&b, le); /* minor */
            pw_skip(&b, (size_t)nts * 20);
            if (!pw_cur_ok(&b))
                break;
            if (i == 0) {
                memcpy(e->iface, iface, sizeof e->iface);
                e->iface_ver = ver;
                e->iface_is_epm = strcmp(iface, epm_uuid) == 0;
            }
            ctx_propose(st, id, (uint8_t)i, e->call_id, iface);
        }
        body_ok = pw_cur_ok(&b);
        break;
    }
    case PW_DCERPC_BIND_ACK:
    case PW_DCERPC_ALTER_CONTEXT_RESP: {
        pw_skip(&b, 8);
        uint16_t alen = rd16(&b, le);
        pw_cursor sa = pw_sub(&b, alen);
        if (pw_cur_ok(&sa))
            pw_oem_to_utf8(sa, e->sec_addr, sizeof e->sec_addr);
        /* Pad to a 4-byte boundary from the start of the PDU. */
        pw_skip(&b, (4 - ((RPC_HDR_LEN + pw_cur_pos(&b)) & 3)) & 3);
        uint8_t n = pw_u8(&b);
        pw_skip(&b, 3);
        /* ack_result: 0 when any context was accepted (Windows clients
         * offer NDR and NDR64 and one of them is always rejected), else the
         * first result. */
        bool accepted = false;
        for (unsigned i = 0; i < n && pw_cur_ok(&b); i++) {
            uint16_t result = rd16(&b, le);
            rd16(&b, le); /* reason */
            char ts[37];
            read_uuid(&b, le, ts);
            pw_skip(&b, 4); /* transfer syntax version */
            if (!pw_cur_ok(&b))
                break;
            if (i == 0)
                e->ack_result = result;
            if (result == 0)
                accepted = true;
            ctx_result(st, e->call_id, i, result, strcmp(ts, ndr64_uuid) == 0);
        }
        if (accepted)
            e->ack_result = 0;
        body_ok = pw_cur_ok(&b);
        break;
    }
    case PW_DCERPC_BIND_NAK:
        e->reject_reason = rd16(&b, le);
        body_ok = pw_cur_ok(&b);
        break;
    case PW_DCERPC_REQUEST: {
        rd32(&b, le); /* alloc_hint */
        uint16_t cont = rd16(&b, le);
        e->opnum = rd16(&b, le);
        if (!pw_cur_ok(&b)) {
            body_ok = false;
            break;
        }
        rpc_ctx *x = ctx_find(st, cont);
        if (x && x->is_epm && (e->opnum == EPM_MAP || e->opnum == EPM_LOOKUP)) {
            rpc_call *c = call_add(st, e->call_id);
            c->epm = true;
            c->ndr64 = x->ndr64;
            c->opnum = e->opnum;
            if (full && e->opnum == EPM_MAP && (flags & PFC_FIRST_FRAG)) {
                if (flags & PFC_OBJECT_UUID)
                    pw_skip(&b, 16);
                if (pw_cur_ok(&b)) {
                    ndr n = {pw_rest(&b), le, c->ndr64};
                    epm_map_request(n, c);
                }
            }
        }
        break;
    }
    case PW_DCERPC_RESPONSE:
        pw_skip(&b, 8); /* alloc_hint, p_cont_id, cancel_count, reserved */
        body_ok = pw_cur_ok(&b);
        break;
    case PW_DCERPC_FAULT:
        pw_skip(&b, 8);
        e->status = rd32(&b, le);
        body_ok = pw_cur_ok(&b);
        break;
    case PW_DCERPC_AUTH3:
        break;
    default:
        return; /* cancel, orphaned, shutdown, connectionless types: framed only */
    }

    if (!pw_cur_ok(&p) || !body_ok) {
        pw_emit_malformed(ctx, "dcerpc: truncated PDU");
        return;
    }
    if (hold) {
        *hold = *e;
        *held = true;
        return;
    }
    pw_emit(ctx, &ev);

    if (has_token && (e->ptype == PW_DCERPC_BIND || e->ptype == PW_DCERPC_BIND_ACK ||
                      e->ptype == PW_DCERPC_ALTER_CONTEXT || e->ptype == PW_DCERPC_ALTER_CONTEXT_RESP ||
                      e->ptype == PW_DCERPC_AUTH3))
        auth_token(ctx, e->auth_type, token);

    if (e->ptype == PW_DCERPC_RESPONSE || e->ptype == PW_DCERPC_FAULT) {
        rpc_call *c = call_find(st, e->call_id);
        if (c && e->ptype == PW_DCERPC_RESPONSE && full && c->epm &&
            (flags & (PFC_FIRST_FRAG | PFC_LAST_FRAG)) == (PFC_FIRST_FRAG | PFC_LAST_FRAG)) {
            ndr n = {pw_at(&p, RPC_REQ_HDR_LEN, body_end > RPC_REQ_HDR_LEN ? body_end - RPC_REQ_HDR_LEN : 0),
                     le, c->ndr64};
            epm_response(ctx, n, c, st->pipe);
        }
        if (c && (flags & PFC_LAST_FRAG))
            c->used = false;
    }
}

/* Sends the event held back for a PDU streamed past in pieces, if any. */
static void emit_held(const pw_dctx *ctx, dcerpc_state *st, int dir)
{
    if (!st->held_on[dir])
        return;
    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_DCERPC);
    ev.u.dcerpc = st->held[dir];
    st->held_on[dir] = false;
    pw_emit(ctx, &ev);
}

/* The last byte of a PDU read in part has passed: its event, on this frame. */
static void dcerpc_passed(const pw_dctx *ctx, void *state)
{
    emit_held(ctx, state, ctx->dir ? 1 : 0);
}

/* Frames one PDU from its common header.  The bind family, faults and
 * endpoint mapper calls are read whole; of other PDUs the first 24 bytes
 * (the request / response header) are enough. */
static pw_pdu_step dcerpc_frame(const pw_dctx *ctx, void *state, const pw_cursor *c, pw_pdu *pdu)
{
    dcerpc_state *st = state;
    if (!pw_cur_has(c, RPC_HDR_LEN))
        return PW_PDU_WAIT;
    uint8_t vers = pw_peek_u8(c, 0), minor = pw_peek_u8(c, 1), ptype = pw_peek_u8(c, 2);
    uint8_t flags = pw_peek_u8(c, 3), drep0 = pw_peek_u8(c, 4);
    bool le = (drep0 & 0xf0) == 0x10;
    uint16_t frag = 0;
    if (le)
        pw_peek_le16(c, 8, &frag);
    else
        pw_peek_be16(c, 8, &frag);
    if (vers != 5 || minor > 1 || ptype > 19 || (drep0 & 0xe0) || frag < RPC_HDR_LEN) {
        pw_emit_malformed(ctx, "dcerpc: not a connection-oriented PDU");
        return PW_PDU_STOP;
    }
    if (!st->app_sent && !st->no_app) {
        pw_emit_app(ctx, "dcerpc");
        st->app_sent = true;
    }
    size_t head = frag < RPC_REQ_HDR_LEN ? frag : RPC_REQ_HDR_LEN;
    if (!pw_cur_has(c, head))
        return PW_PDU_WAIT;
    /* call_id, and a request's context id and opnum, within the PDU only */
    pw_cursor h = pw_at(c, pw_cur_pos(c), head);
    uint32_t call_id = 0;
    uint16_t cont = 0, opnum = 0;
    if (le) {
        pw_peek_le32(&h, 12, &call_id);
        pw_peek_le16(&h, 20, &cont);
        pw_peek_le16(&h, 22, &opnum);
    } else {
        pw_peek_be32(&h, 12, &call_id);
        pw_peek_be16(&h, 20, &cont);
        pw_peek_be16(&h, 22, &opnum);
    }
    pdu->len = frag;
    pdu->read = want_full(st, ptype, flags, cont, opnum, call_id);
    return PW_PDU_NEXT;
}

static pw_pdu_step dcerpc_pdu(const pw_dctx *ctx, void *state, const pw_pdu *pdu, pw_cursor m)
{
    dcerpc_state *st = state;
    int dir = ctx->dir ? 1 : 0;
    if (pdu->read || pw_cur_left(&m) == pdu->len) {
        /* Whole PDU at hand (also for ones we would not wait for): the
         * auth verifier's type and level are then reported too. */
        decode_pdu(ctx, st, m, true, NULL, NULL);
    } else {
        /* Its event waits for the PDU's last byte (dcerpc_passed). */
        st->held_on[dir] = false;
        size_t head = pdu->len < RPC_REQ_HDR_LEN ? pdu->len : RPC_REQ_HDR_LEN;
        decode_pdu(ctx, st, pw_at(&m, 0, head), false, &st->held[dir], &st->held_on[dir]);
    }
    st->pdus++;
    st->bytes += (uint32_t)pdu->len;
    if (st->pdus >= RPC_MAX_PDUS || st->bytes >= RPC_MAX_BYTES) {
        /* No more bytes will come: send the held event now. */
        emit_held(ctx, st, dir);
        return PW_PDU_DONE;
    }
    return PW_PDU_NEXT;
}

static const pw_pdu_ops dcerpc_ops = {
    .frame = dcerpc_frame,
    .handle = dcerpc_pdu,
    .passed = dcerpc_passed,
    .max_len = 0xffff, /* frag_length's range: every PDU fits */
};

void pw_dcerpc_init(pw_dcerpc_state *st, const char *pipe)
{
    memset(st, 0, sizeof *st);
    st->no_app = true;
    if (pipe)
        snprintf(st->pipe, sizeof st->pipe, "%s", pipe);
}

size_t pw_dcerpc_stream(const pw_dctx *ctx, pw_dcerpc_state *st, const uint8_t *data, size_t len, bool *done)
{
    return pw_pdu_stream(&dcerpc_ops, &st->loop, ctx, st, data, len, done);
}

static size_t dcerpc_stream(const pw_dctx *ctx, void *state, const uint8_t *data, size_t len, bool *done)
{
    return pw_dcerpc_stream(ctx, state, data, len, done);
}

/* A bind or alter_context from the client, on any port; or a request (a
 * connection whose bind was before the capture started). */
static bool dcerpc_probe(const uint8_t *data, size_t len)
{
    pw_cursor c = pw_cur(data, len);
    uint8_t vers = pw_u8(&c), minor = pw_u8(&c), ptype = pw_u8(&c), flags = pw_u8(&c);
    uint8_t drep0 = pw_u8(&c), drep1 = pw_u8(&c);
    pw_skip(&c, 2);
    bool le = (drep0 & 0xf0) == 0x10;
    uint16_t frag = rd16(&c, le), auth = rd16(&c, le);
    if (!pw_cur_ok(&c) || vers != 5 || minor > 1 || !(flags & PFC_FIRST_FRAG) || (drep0 & 0xe0) || drep1 > 3)
        return false;
    if (ptype == PW_DCERPC_BIND || ptype == PW_DCERPC_ALTER_CONTEXT)
        return frag >= 28 && frag <= 8192 && (size_t)auth + 28 <= frag;
    if (ptype == PW_DCERPC_REQUEST)
        return frag >= RPC_REQ_HDR_LEN && (size_t)auth + RPC_REQ_HDR_LEN <= frag;
    return false;
}

const pw_dissector pw_dissector_dcerpc = {
    .name = "dcerpc",
    .transports = PW_DT_TCP,
    .ports = {135},
    .probe = dcerpc_probe,
    .state_size = sizeof(dcerpc_state),
    .stream = dcerpc_stream,
};
