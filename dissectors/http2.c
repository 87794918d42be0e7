/* http2.c - HTTP/2 cleartext with prior knowledge (RFC 9113): the frames
 * of both directions, header blocks decoded with nghttp2's HPACK inflater,
 * and per request stream the gRPC view of it (grpc.c).
 *
 * Frames are framed across segments by the stream contract: a frame whose
 * needed bytes are not all at hand is left unconsumed.  Only header-block
 * frames are waited for whole (at most PW_HTTP2_BLOCK_MAX bytes); DATA is
 * passed over as it streams by, and of a control frame only the first
 * CONTROL_FRAME_MAX bytes are read.  HPACK is stateful per direction (the
 * dynamic table), so a header block that cannot be decoded loses the
 * context of every later block: the connection is then reported
 * (PW_HTTP2_HPACK_BROKEN) and no longer followed. */
#include "http2.h"

#include <stdio.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "../common/cursor.h"
#include "stream_skip.h"

enum {
    FT_DATA = 0, FT_HEADERS = 1, FT_PRIORITY = 2, FT_RST_STREAM = 3, FT_SETTINGS = 4,
    FT_PUSH_PROMISE = 5, FT_PING = 6, FT_GOAWAY = 7, FT_WINDOW_UPDATE = 8, FT_CONTINUATION = 9
};
enum { FL_END_STREAM = 0x1, FL_ACK = 0x1, FL_END_HEADERS = 0x4, FL_PADDED = 0x8, FL_PRIORITY = 0x20 };
enum {
    SET_HEADER_TABLE_SIZE = 1, SET_MAX_CONCURRENT_STREAMS = 3, SET_INITIAL_WINDOW_SIZE = 4,
    SET_MAX_FRAME_SIZE = 5, SET_MAX_HEADER_LIST_SIZE = 6
};

#define FRAME_HEADER_LEN 9
#define DEFAULT_MAX_FRAME 16384u
#define LARGEST_MAX_FRAME 16777215u
#define DEFAULT_TABLE 4096u
/* Control frames (SETTINGS, GOAWAY...) are read up to this; the rest is passed over. */
#define CONTROL_FRAME_MAX 4096u

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define PREFACE_LEN (sizeof preface - 1)

typedef struct frame {
    uint32_t len;
    uint8_t type, flags;
    uint32_t stream;
} frame;

static const char *const error_names[] = {
    "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
    "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
    "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
};

const char *pw_http2_error_name(uint32_t code)
{
    if (code >= sizeof error_names / sizeof *error_names)
        return NULL;
    return error_names[code];
}

static void error_name(char *dst, size_t cap, uint32_t code)
{
    const char *n = pw_http2_error_name(code);
    if (n)
        snprintf(dst, cap, "%s", n);
    else
        snprintf(dst, cap, "0x%x", code); /* rare: an unknown code */
}

bool pw_http2_looks_like(const uint8_t *data, size_t len)
{
    pw_cursor c = pw_cur(data, len);
    size_t n = pw_cur_left(&c) < PREFACE_LEN ? pw_cur_left(&c) : PREFACE_LEN;
    if (n < 4)
        return false;
    for (size_t i = 0; i < n; i++)
        if (pw_peek_u8(&c, i) != (uint8_t)preface[i])
            return false;
    return true;
}

/* ---- state ---- */

bool pw_http2_init(pw_http2_state *st)
{
    memset(st, 0, sizeof *st);
    for (int i = 0; i < 2; i++) {
        st->d[i].max_frame_size = DEFAULT_MAX_FRAME;
        st->d[i].table_size = DEFAULT_TABLE;
        st->d[i].table_applied = DEFAULT_TABLE;
        if (nghttp2_hd_inflate_new(&st->d[i].hpack) != 0) {
            st->d[i].hpack = NULL;
            st->dead = true;
        }
    }
    return !st->dead;
}

void pw_http2_free(pw_http2_state *st)
{
    for (int i = 0; i < 2; i++) {
        if (st->d[i].hpack)
            nghttp2_hd_inflate_del(st->d[i].hpack);
        st->d[i].hpack = NULL;
    }
}

/* ---- calls ---- */

static pw_grpc_call *find_call(pw_http2_state *st, uint32_t stream)
{
    for (int i = 0; i < PW_HTTP2_MAX_STREAMS; i++)
        if (st->calls[i].used && st->calls[i].ev.stream_id == stream)
            return &st->calls[i];
    return NULL;
}

static void finish(const pw_dctx *ctx, pw_http2_state *st, pw_grpc_call *call, uint8_t end)
{
    call->ev.goaway = st->goaway;
    pw_grpc_emit(ctx, call, end);
}

static void finish_all(const pw_dctx *ctx, pw_http2_state *st, uint8_t end)
{
    for (int i = 0; i < PW_HTTP2_MAX_STREAMS; i++)
        if (st->calls[i].used)
            finish(ctx, st, &st->calls[i], end);
}

/* A slot for a new request stream: a free one, else the oldest call is
 * reported as evicted (a bounded table; counted in streams_dropped). */
static pw_grpc_call *new_call(const pw_dctx *ctx, pw_http2_state *st, uint32_t stream)
{
    pw_grpc_call *slot = NULL;
    for (int i = 0; i < PW_HTTP2_MAX_STREAMS && !slot; i++)
        if (!st->calls[i].used)
            slot = &st->calls[i];
    if (!slot) {
        slot = &st->calls[0];
        for (int i = 1; i < PW_HTTP2_MAX_STREAMS; i++)
            if (st->calls[i].age < slot->age)
                slot = &st->calls[i];
        finish(ctx, st, slot, PW_GRPC_END_EVICTED);
        st->streams_dropped++;
    }
    pw_grpc_call_start(slot, stream, st->next_age++);
    st->streams_seen++;
    return slot;
}

/* ---- events ---- */

static void http2_event(pw_event *ev, const pw_dctx *ctx, uint8_t kind)
{
    pw_event_init(ev, ctx, PW_EV_HTTP2);
    ev->u.http2.kind = kind;
}

/* Stops following the connection: what is open is reported as abandoned. */
static void give_up(const pw_dctx *ctx, pw_http2_state *st, const char *why)
{
    pw_emit_malformed(ctx, why);
    finish_all(ctx, st, PW_GRPC_END_ABANDONED);
    st->dead = true;
}

/* A header block could not be decoded: HPACK's dynamic table of that
 * direction is now unknown, so no later block can be trusted. */
static void hpack_broken(const pw_dctx *ctx, pw_http2_state *st, uint32_t stream, const char *why)
{
    pw_event ev;
    http2_event(&ev, ctx, PW_HTTP2_HPACK_BROKEN);
    ev.u.http2.stream_id = stream;
    snprintf(ev.u.http2.detail, sizeof ev.u.http2.detail, "%s", why);
    pw_emit(ctx, &ev);
    give_up(ctx, st, why);
}

/* ---- header blocks ---- */

/* Feeds one fragment to the direction's inflater; final on END_HEADERS.
 * nghttp2 keeps a field split between fragments, so CONTINUATION frames are
 * decoded as they come without reassembling the block. */
static bool inflate_fragment(pw_http2_dir *d, pw_grpc_call *call, pw_cursor *frag, bool final)
{
    for (;;) {
        size_t left = pw_cur_left(frag);
        pw_cursor at = *frag; /* nghttp2 reads the bytes at hand; frag moves by what it used */
        const uint8_t *in = pw_cur_view(&at, left);
        nghttp2_nv nv;
        int flags = 0;
        ssize_t used = nghttp2_hd_inflate_hd2(d->hpack, &nv, &flags, in, left, final);
        if (used < 0 || (size_t)used > left)
            return false;
        pw_skip(frag, (size_t)used);
        if (flags & NGHTTP2_HD_INFLATE_EMIT) {
            if (call)
                pw_grpc_header(call, nv.name, nv.namelen, nv.value, nv.valuelen);
            continue;
        }
        if (flags & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(d->hpack);
            return true;
        }
        if (pw_cur_left(frag) == 0)
            return !final;
        if (used == 0)
            return false; /* no progress */
    }
}

static void block_done(const pw_dctx *ctx, pw_http2_state *st, pw_http2_dir *d)
{
    uint32_t stream = d->block_stream;
    d->block_stream = 0;
    pw_grpc_call *call = d->block_call ? find_call(st, stream) : NULL;
    if (!call)
        return;
    bool finished = pw_grpc_block_end(call, ctx, d->block_end_stream);
    if (ctx->dir == 0 && call->ev.is_grpc && !st->grpc_app) {
        pw_emit_app(ctx, "grpc");
        st->grpc_app = true;
    }
    if (finished)
        finish(ctx, st, call, PW_GRPC_END_COMPLETE);
}

static void block_fragment(const pw_dctx *ctx, pw_http2_state *st, pw_http2_dir *d,
                           pw_cursor *frag, bool end_headers)
{
    size_t n = pw_cur_left(frag);
    if (n > PW_HTTP2_BLOCK_MAX - d->block_bytes) {
        hpack_broken(ctx, st, d->block_stream, "http2: header block over 64 KiB");
        return;
    }
    d->block_bytes += (uint32_t)n;
    pw_grpc_call *call = d->block_call ? find_call(st, d->block_stream) : NULL;
    if (!inflate_fragment(d, call, frag, end_headers)) {
        hpack_broken(ctx, st, d->block_stream, "http2: HPACK decoding error");
        return;
    }
    if (end_headers)
        block_done(ctx, st, d);
}

/* Opens a header block on a stream (HEADERS, PUSH_PROMISE): applies a
 * dynamic table size the peer granted since the last block. */
static void block_open(pw_http2_dir *d, uint32_t stream, pw_grpc_call *call, bool end_stream)
{
    if (d->table_size != d->table_applied &&
        nghttp2_hd_inflate_change_table_size(d->hpack, d->table_size) == 0)
        d->table_applied = d->table_size;
    d->block_stream = stream;
    d->block_call = call != NULL;
    d->block_end_stream = end_stream;
    d->block_bytes = 0;
}

/* Strips the Pad Length byte and the padding; false when the padding
 * does not fit in the frame. */
static bool unpad(const frame *f, pw_cursor *p, pw_cursor *content, size_t fixed)
{
    uint8_t pad = (f->flags & FL_PADDED) ? pw_u8(p) : 0;
    pw_skip(p, fixed);
    if (!pw_cur_ok(p) || pad > pw_cur_left(p))
        return false;
    *content = pw_sub(p, pw_cur_left(p) - pad);
    return pw_cur_ok(content);
}

static void headers_frame(const pw_dctx *ctx, pw_http2_state *st, pw_http2_dir *d,
                          const frame *f, pw_cursor *p)
{
    pw_cursor frag;
    if (f->stream == 0) {
        hpack_broken(ctx, st, 0, "http2: HEADERS on stream 0");
        return;
    }
    if (!unpad(f, p, &frag, (f->flags & FL_PRIORITY) ? 5 : 0)) {
        hpack_broken(ctx, st, f->stream, "http2: HEADERS padding exceeds the frame");
        return;
    }
    pw_grpc_call *call = NULL;
    if (ctx->dir == 0 && (f->stream & 1)) {
        call = find_call(st, f->stream);
        if (!call)
            call = new_call(ctx, st, f->stream);
    } else if (ctx->dir == 1) {
        call = find_call(st, f->stream);
    }
    if (call)
        pw_grpc_block_begin(call, ctx->dir);
    block_open(d, f->stream, call, f->flags & FL_END_STREAM);
    block_fragment(ctx, st, d, &frag, f->flags & FL_END_HEADERS);
}

static void push_promise_frame(const pw_dctx *ctx, pw_http2_state *st, pw_http2_dir *d,
                               const frame *f, pw_cursor *p)
{
    /* The promised request is not a call of the client's, but its block
     * must be decoded to keep the dynamic table in step. */
    pw_cursor frag;
    if (!unpad(f, p, &frag, 4)) {
        hpack_broken(ctx, st, f->stream, "http2: PUSH_PROMISE padding exceeds the frame");
        return;
    }
    block_open(d, f->stream ? f->stream : 1, NULL, false);
    block_fragment(ctx, st, d, &frag, f->flags & FL_END_HEADERS);
}

static void continuation_frame(const pw_dctx *ctx, pw_http2_state *st, pw_http2_dir *d,
                               const frame *f, pw_cursor *p)
{
    if (!d->block_stream) {
        hpack_broken(ctx, st, f->stream, "http2: CONTINUATION without HEADERS");
        return;
    }
    pw_cursor frag = pw_rest(p);
    block_fragment(ctx, st, d, &frag, f->flags & FL_END_HEADERS);
}

/* ---- other frames ---- */

static void data_frame(const pw_dctx *ctx, pw_http2_state *st, const frame *f)
{
    if (f->stream == 0) {
        pw_emit_malformed(ctx, "http2: DATA on stream 0");
        return;
    }
    pw_grpc_call *call = find_call(st, f->stream);
    if (call && pw_grpc_data(call, ctx->dir, f->flags & FL_END_STREAM))
        finish(ctx, st, call, PW_GRPC_END_COMPLETE);
}

static void rst_stream_frame(const pw_dctx *ctx, pw_http2_state *st, const frame *f, pw_cursor *p)
{
    uint32_t code = pw_be32(p);
    if (f->len != 4 || f->stream == 0 || !pw_cur_ok(p)) {
        pw_emit_malformed(ctx, "http2: malformed RST_STREAM");
        return;
    }
    pw_event ev;
    http2_event(&ev, ctx, PW_HTTP2_RST_STREAM);
    ev.u.http2.stream_id = f->stream;
    ev.u.http2.error_code = code;
    error_name(ev.u.http2.error_name, sizeof ev.u.http2.error_name, code);
    pw_emit(ctx, &ev);
    pw_grpc_call *call = find_call(st, f->stream);
    if (!call)
        return;
    call->ev.reset = true;
    call->ev.reset_code = code;
    call->ev.reset_dir = (int8_t)ctx->dir;
    memcpy(call->ev.reset_name, ev.u.http2.error_name, sizeof call->ev.reset_name);
    finish(ctx, st, call, PW_GRPC_END_RESET);
}

/* A parameter the sender (direction dir) sets for what it receives: the
 * header table its decoder holds and the frame size it accepts apply to
 * the other direction. */
static void apply_setting(const pw_dctx *ctx, pw_http2_state *st, pw_ev_http2 *h, uint16_t id,
                          uint32_t v)
{
    pw_http2_dir *other = &st->d[1 - ctx->dir];
    switch (id) {
    case SET_HEADER_TABLE_SIZE:
        h->has_header_table_size = true, h->header_table_size = v;
        /* Only ever raised: the decoder must accept whatever the encoder
         * may still use until it sees the smaller value. */
        if (v > other->table_size)
            other->table_size = v < PW_HTTP2_TABLE_MAX ? v : PW_HTTP2_TABLE_MAX;
        break;
    case SET_MAX_CONCURRENT_STREAMS:
        h->has_max_concurrent_streams = true, h->max_concurrent_streams = v;
        break;
    case SET_INITIAL_WINDOW_SIZE:
        h->has_initial_window_size = true, h->initial_window_size = v;
        break;
    case SET_MAX_FRAME_SIZE:
        h->has_max_frame_size = true, h->max_frame_size = v;
        if (v >= DEFAULT_MAX_FRAME && v <= LARGEST_MAX_FRAME)
            other->max_frame_size = v;
        else
            pw_emit_malformed(ctx, "http2: SETTINGS_MAX_FRAME_SIZE out of range");
        break;
    case SET_MAX_HEADER_LIST_SIZE:
        h->has_max_header_list_size = true, h->max_header_list_size = v;
        break;
    default:
        break; /* ENABLE_PUSH and unknown parameters */
    }
}

static void settings_frame(const pw_dctx *ctx, pw_http2_state *st, const frame *f, pw_cursor *p)
{
    bool ack = f->flags & FL_ACK;
    if (f->stream != 0 || (ack && f->len != 0) || f->len % 6 != 0) {
        pw_emit_malformed(ctx, "http2: malformed SETTINGS");
        return;
    }
    pw_event ev;
    http2_event(&ev, ctx, PW_HTTP2_SETTINGS);
    pw_ev_http2 *h = &ev.u.http2;
    h->ack = ack;
    while (pw_cur_has(p, 6)) {
        uint16_t id = pw_be16(p);
        uint32_t v = pw_be32(p);
        if (h->n_settings < UINT8_MAX)
            h->n_settings++;
        apply_setting(ctx, st, h, id, v);
    }
    pw_emit(ctx, &ev);
}

static void goaway_frame(const pw_dctx *ctx, pw_http2_state *st, const frame *f, pw_cursor *p)
{
    uint32_t last = pw_be32(p) & 0x7fffffffu;
    uint32_t code = pw_be32(p);
    if (f->stream != 0 || f->len < 8 || !pw_cur_ok(p)) {
        pw_emit_malformed(ctx, "http2: malformed GOAWAY");
        return;
    }
    pw_event ev;
    http2_event(&ev, ctx, PW_HTTP2_GOAWAY);
    pw_ev_http2 *h = &ev.u.http2;
    h->last_stream_id = last;
    h->error_code = code;
    error_name(h->error_name, sizeof h->error_name, code);
    size_t o = 0; /* the debug data, as printable text */
    while (pw_cur_left(p) > 0 && o + 1 < sizeof h->detail) {
        uint8_t b = pw_u8(p);
        h->detail[o++] = (b >= 0x20 && b < 0x7f) ? (char)b : '?';
    }
    pw_emit(ctx, &ev);
    st->goaway = true;
    if (ctx->dir != 1)
        return; /* the client's GOAWAY concerns pushed streams only */
    /* The server never processed the client's streams above last_stream_id. */
    for (int i = 0; i < PW_HTTP2_MAX_STREAMS; i++)
        if (st->calls[i].used && st->calls[i].ev.stream_id > last)
            finish(ctx, st, &st->calls[i], PW_GRPC_END_GOAWAY);
}

static void fixed_length(const pw_dctx *ctx, const frame *f, uint32_t want, const char *what)
{
    if (f->len != want)
        pw_emit_malformed(ctx, what);
}

static void dispatch(const pw_dctx *ctx, pw_http2_state *st, pw_http2_dir *d, const frame *f,
                     pw_cursor *p)
{
    /* A header block is one unit: nothing may come between its frames. */
    if (d->block_stream && (f->type != FT_CONTINUATION || f->stream != d->block_stream)) {
        hpack_broken(ctx, st, d->block_stream, "http2: header block interrupted");
        return;
    }
    switch (f->type) {
    case FT_DATA: data_frame(ctx, st, f); break;
    case FT_HEADERS: headers_frame(ctx, st, d, f, p); break;
    case FT_PRIORITY: fixed_length(ctx, f, 5, "http2: PRIORITY length not 5"); break;
    case FT_RST_STREAM: rst_stream_frame(ctx, st, f, p); break;
    case FT_SETTINGS: settings_frame(ctx, st, f, p); break;
    case FT_PUSH_PROMISE: push_promise_frame(ctx, st, d, f, p); break;
    case FT_PING: fixed_length(ctx, f, 8, "http2: PING length not 8"); break;
    case FT_GOAWAY: goaway_frame(ctx, st, f, p); break;
    case FT_WINDOW_UPDATE: fixed_length(ctx, f, 4, "http2: WINDOW_UPDATE length not 4"); break;
    case FT_CONTINUATION: continuation_frame(ctx, st, d, f, p); break;
    default: break; /* extension frames are ignored (RFC 9113 5.5) */
    }
}

/* ---- framing ---- */

static bool is_block_frame(uint8_t type)
{
    return type == FT_HEADERS || type == FT_PUSH_PROMISE || type == FT_CONTINUATION;
}

/* Payload bytes that must be at hand before a frame is handled. */
static size_t payload_needed(const frame *f)
{
    if (f->type == FT_DATA)
        return 0; /* only its header matters */
    if (is_block_frame(f->type))
        return f->len;
    return f->len < CONTROL_FRAME_MAX ? f->len : CONTROL_FRAME_MAX;
}

/* Checks the client connection preface: 1 seen, 0 incomplete, -1 not HTTP/2. */
static int client_preface(const pw_dctx *ctx, pw_http2_state *st, pw_cursor *c)
{
    size_t n = pw_cur_left(c) < PREFACE_LEN ? pw_cur_left(c) : PREFACE_LEN;
    for (size_t i = 0; i < n; i++) {
        if (pw_peek_u8(c, i) != (uint8_t)preface[i]) {
            give_up(ctx, st, "http2: no client connection preface");
            return -1;
        }
    }
    if (n < PREFACE_LEN)
        return 0;
    pw_skip(c, PREFACE_LEN);
    st->preface = true;
    pw_emit_app(ctx, "http2");
    pw_event ev;
    http2_event(&ev, ctx, PW_HTTP2_PREFACE);
    pw_emit(ctx, &ev);
    return 1;
}

/* Handles the frames at hand; stops at one whose needed bytes are not all there. */
static void frames(const pw_dctx *ctx, pw_http2_state *st, pw_http2_dir *d, pw_cursor *c)
{
    while (!st->dead) {
        if (d->skip) {
            if (!pw_skip_pending(c, &d->skip))
                return;
            continue;
        }
        pw_cursor h = *c; /* look ahead; c moves only once the frame is handled */
        frame f;
        f.len = pw_be24(&h);
        f.type = pw_u8(&h);
        f.flags = pw_u8(&h);
        f.stream = pw_be32(&h) & 0x7fffffffu;
        if (!pw_cur_ok(&h))
            return;
        if (f.len > d->max_frame_size) {
            give_up(ctx, st, "http2: frame larger than SETTINGS_MAX_FRAME_SIZE");
            return;
        }
        if (is_block_frame(f.type) && f.len > PW_HTTP2_BLOCK_FRAME_MAX) {
            hpack_broken(ctx, st, f.stream, "http2: header frame over 16 KiB");
            return;
        }
        size_t need = payload_needed(&f);
        if (!pw_cur_has(&h, need))
            return;
        *c = h;
        d->frames++;
        pw_cursor payload = pw_sub(c, need);
        dispatch(ctx, st, d, &f, &payload);
        pw_skip_message(c, pw_cur_left(c), f.len - need, &d->skip);
    }
}

size_t pw_http2_stream(const pw_dctx *ctx, pw_http2_state *st, const uint8_t *data, size_t len,
                       bool *done)
{
    pw_cursor c = pw_cur(data, len);
    if (!st->dead && ctx->dir == 0 && !st->preface && client_preface(ctx, st, &c) == 0)
        return 0;
    if (!st->dead)
        frames(ctx, st, &st->d[ctx->dir ? 1 : 0], &c);
    if (st->dead) {
        *done = true;
        return len;
    }
    return pw_cur_pos(&c);
}

void pw_http2_end(const pw_dctx *ctx, pw_http2_state *st)
{
    if (st->ended)
        return;
    st->ended = true;
    if (!st->preface)
        return;
    finish_all(ctx, st, PW_GRPC_END_CUT);
    pw_event ev;
    http2_event(&ev, ctx, PW_HTTP2_END);
    ev.u.http2.streams_seen = st->streams_seen;
    ev.u.http2.streams_dropped = st->streams_dropped;
    ev.u.http2.frames[0] = st->d[0].frames;
    ev.u.http2.frames[1] = st->d[1].frames;
    pw_emit(ctx, &ev);
}

static void copy_printable(char *dst, size_t cap, const char *s)
{
    size_t o = 0;
    for (; s && *s && o + 1 < cap; s++)
        dst[o++] = ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f) ? *s : '?';
    dst[o] = '\0';
}

void pw_http2_upgraded_request(const pw_dctx *ctx, pw_http2_state *st, const char *method,
                               const char *path, const char *authority)
{
    if (st->dead || find_call(st, 1))
        return;
    pw_grpc_call *call = new_call(ctx, st, 1);
    pw_ev_grpc *g = &call->ev;
    copy_printable(g->method, sizeof g->method, method);
    copy_printable(g->path, sizeof g->path, path);
    copy_printable(g->authority, sizeof g->authority, authority);
    call->request_done = true;
    g->request_frame = ctx->frame;
    g->request_ts = ctx->ts;
}

/* ---- the dissector ---- */

static bool http2_probe(const uint8_t *data, size_t len) { return pw_http2_looks_like(data, len); }
static void http2_init(void *state) { (void)pw_http2_init(state); }
static void http2_free(void *state) { pw_http2_free(state); }
static void http2_end(const pw_dctx *ctx, void *state) { pw_http2_end(ctx, state); }

static size_t http2_stream(const pw_dctx *ctx, void *state, const uint8_t *data, size_t len,
                           bool *done)
{
    return pw_http2_stream(ctx, state, data, len, done);
}

const pw_dissector pw_dissector_http2 = {
    .name = "http2",
    .transports = PW_DT_TCP,
    .ports = {0}, /* prior knowledge on any port: chosen by the preface (probe) */
    .probe = http2_probe,
    .state_size = sizeof(pw_http2_state),
    .stream_init = http2_init,
    .stream = http2_stream,
    .stream_free = http2_free,
    .stream_end = http2_end,
};
