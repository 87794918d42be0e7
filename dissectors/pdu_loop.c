/* pdu_loop.c - the framing loop of the length-prefixed stream protocols. */
#include "pdu_loop.h"

#include "stream_skip.h"

/* Frames and hands over the PDU at c's position; WAIT when it must wait for
 * more bytes.  A PDU not read whole is consumed at once: what is at hand now,
 * the rest counted in *skip to be discarded as it arrives. */
static pw_pdu_step next_pdu(const pw_pdu_ops *ops, const pw_dctx *ctx, void *state, pw_cursor *c,
                            uint32_t *skip)
{
    pw_pdu pdu = {0, false};
    pw_pdu_step step = ops->frame(ctx, state, c, &pdu);
    if (step != PW_PDU_NEXT)
        return step;
    if (pdu.len == 0)
        return PW_PDU_STOP; /* a frame() bug; never loop on an empty PDU */
    if (pdu.len > ops->max_len)
        pdu.read = false;
    size_t left = pw_cur_left(c);
    if (pdu.read && left < pdu.len)
        return PW_PDU_WAIT;
    pw_cursor bytes = pw_at(c, pw_cur_pos(c), left < pdu.len ? left : pdu.len);
    pw_skip_message(c, left, pdu.len, skip);
    return ops->handle(ctx, state, &pdu, bytes);
}

size_t pw_pdu_stream(const pw_pdu_ops *ops, pw_pdu_state *ls, const pw_dctx *ctx, void *state,
                     const uint8_t *data, size_t len, bool *done)
{
    int dir = ctx->dir ? 1 : 0;
    pw_cursor c = pw_cur(data, len);
    if (ls->ended) {
        *done = true;
        return len;
    }
    for (;;) {
        if (ls->skip[dir]) {
            if (!pw_skip_pending(&c, &ls->skip[dir]))
                break;
            if (ops->passed)
                ops->passed(ctx, state);
        }
        if (pw_cur_left(&c) == 0)
            break;
        switch (next_pdu(ops, ctx, state, &c, &ls->skip[dir])) {
        case PW_PDU_NEXT:
            continue;
        case PW_PDU_WAIT:
            return pw_cur_pos(&c);
        case PW_PDU_END:
            ls->ended = true;
            /* fall through */
        case PW_PDU_DONE:
            *done = true;
            return pw_cur_pos(&c);
        case PW_PDU_STOP:
            ls->ended = true;
            *done = true;
            return len;
        }
    }
    return pw_cur_pos(&c);
}
