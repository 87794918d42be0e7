/* grpc.c - gRPC calls on HTTP/2 streams: the request's :method, :path,
 * :authority and content-type, the response's :status and the final
 * grpc-status / grpc-message, from the trailers or from a Trailers-Only
 * response (one HEADERS with END_STREAM carrying both :status and
 * grpc-status).  See grpc.h for how http2.c drives it. */
#include "grpc.h"

#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED",
};

const char *pw_grpc_status_name(int status)
{
    if (status < 0 || status >= (int)(sizeof status_names / sizeof *status_names))
        return NULL;
    return status_names[status];
}

/* ---- strings ---- */

/* Copies a header value as printable ASCII ('?' for anything else). */
static void copy_text(pw_cursor *c, char *dst, size_t cap)
{
    size_t o = 0;
    while (pw_cur_left(c) > 0 && o + 1 < cap) {
        uint8_t b = pw_u8(c);
        dst[o++] = (b >= 0x20 && b < 0x7f) ? (char)b : '?';
    }
    dst[o] = '\0';
}

/* Length of the valid UTF-8 sequence starting at s[0] (n bytes there), or 0. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
    uint8_t b = s[0];
    size_t k = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3
             : (b & 0xF8) == 0xF0 ? 4 : 0;
    if (k == 0 || k > n || (k == 2 && b < 0xC2) || (k == 4 && b > 0xF4))
        return 0;
    for (size_t j = 1; j < k; j++)
        if ((s[j] & 0xC0) != 0x80)
            return 0;
    /* overlong three-byte forms, UTF-16 surrogates, beyond U+10FFFF */
    if (k == 3 && ((b == 0xE0 && s[1] < 0xA0) || (b == 0xED && s[1] >= 0xA0)))
        return 0;
    if (k == 4 && ((b == 0xF0 && s[1] < 0x90) || (b == 0xF4 && s[1] >= 0x90)))
        return 0;
    return k;
}

static int hex_digit(uint8_t b)
{
    if (b >= '0' && b <= '9')
        return b - '0';
    if (b >= 'a' && b <= 'f')
        return b - 'a' + 10;
    if (b >= 'A' && b <= 'F')
        return b - 'A' + 10;
    return -1;
}

size_t pw_grpc_percent_decode(const uint8_t *src, size_t len, char *dst, size_t cap)
{
    /* Decode first (into bytes), then keep whole UTF-8 characters only: a
     * character may have been split over several escapes. */
    uint8_t raw[PW_NAME_MAX * 4];
    size_t n = 0;
    pw_cursor c = pw_cur(src, len);
    while (pw_cur_left(&c) > 0 && n < sizeof raw) {
        uint8_t b = pw_u8(&c);
        int hi = hex_digit(pw_peek_u8(&c, 0)), lo = hex_digit(pw_peek_u8(&c, 1));
        if (b == '%' && pw_cur_has(&c, 2) && hi >= 0 && lo >= 0) {
            pw_skip(&c, 2);
            b = (uint8_t)(hi << 4 | lo);
        }
        raw[n++] = b;
    }
    size_t o = 0, i = 0;
    if (cap == 0)
        return 0;
    while (i < n) {
        size_t k = utf8_len(raw + i, n - i);
        if (k == 0 || (k == 1 && (raw[i] < 0x20 || raw[i] == 0x7f))) {
            if (o + 1 >= cap)
                break;
            dst[o++] = '?';
            i += k ? k : 1;
            continue;
        }
        if (o + k >= cap)
            break;
        memcpy(dst + o, raw + i, k);
        o += k;
        i += k;
    }
    dst[o] = '\0';
    return o;
}

/* ---- a call ---- */

void pw_grpc_call_start(pw_grpc_call *call, uint32_t stream_id, uint32_t age)
{
    memset(call, 0, sizeof *call);
    call->used = true;
    call->age = age;
    call->ev.stream_id = stream_id;
    call->ev.grpc_status = -1;
    call->ev.reset_dir = -1;
}

void pw_grpc_block_begin(pw_grpc_call *call, int dir)
{
    if (dir == 0)
        call->block = call->request_done ? PW_GRPC_BLOCK_CLIENT_TRAILERS : PW_GRPC_BLOCK_REQUEST;
    else
        call->block = call->response_started ? PW_GRPC_BLOCK_TRAILERS : PW_GRPC_BLOCK_RESPONSE;
    call->block_has_status = false;
}

static bool name_is(const uint8_t *name, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(name, want, len) == 0;
}

/* A decimal number of at most 5 digits, or -1. */
static long small_number(pw_cursor *c)
{
    long v = 0;
    size_t digits = 0;
    while (pw_cur_left(c) > 0) {
        uint8_t b = pw_u8(c);
        if (b < '0' || b > '9' || ++digits > 5)
            return -1;
        v = v * 10 + (b - '0');
    }
    return digits ? v : -1;
}

static void request_header(pw_ev_grpc *g, const uint8_t *name, size_t nlen, pw_cursor *v)
{
    if (name_is(name, nlen, ":method"))
        copy_text(v, g->method, sizeof g->method);
    else if (name_is(name, nlen, ":path"))
        copy_text(v, g->path, sizeof g->path);
    else if (name_is(name, nlen, ":authority"))
        copy_text(v, g->authority, sizeof g->authority);
    else if (name_is(name, nlen, "host") && !g->authority[0])
        copy_text(v, g->authority, sizeof g->authority); /* RFC 9113 8.3.1: Host may stand in */
    else if (name_is(name, nlen, "content-type")) {
        copy_text(v, g->content_type, sizeof g->content_type);
        /* "application/grpc", "application/grpc+proto", "application/grpc-web"... */
        g->is_grpc = strncmp(g->content_type, "application/grpc", 16) == 0;
    }
}

static void status_header(pw_grpc_call *call, const uint8_t *name, size_t nlen, pw_cursor *v)
{
    pw_ev_grpc *g = &call->ev;
    if (name_is(name, nlen, "grpc-status")) {
        long s = small_number(v);
        g->grpc_status = (int16_t)(s >= 0 && s <= 32767 ? s : -1);
        call->block_has_status = true;
    } else if (name_is(name, nlen, "grpc-message")) {
        size_t n = pw_cur_left(v);
        const uint8_t *p = pw_cur_view(v, n);
        pw_grpc_percent_decode(p, n, g->grpc_message, sizeof g->grpc_message);
    }
}

void pw_grpc_header(pw_grpc_call *call, const uint8_t *name, size_t name_len,
                    const uint8_t *value, size_t value_len)
{
    pw_cursor v = pw_cur(value, value_len);
    switch (call->block) {
    case PW_GRPC_BLOCK_REQUEST:
        request_header(&call->ev, name, name_len, &v);
        break;
    case PW_GRPC_BLOCK_RESPONSE:
        if (name_is(name, name_len, ":status")) {
            long s = small_number(&v);
            call->ev.http_status = (uint16_t)(s >= 0 && s <= 999 ? s : 0);
        } else {
            status_header(call, name, name_len, &v);
        }
        break;
    case PW_GRPC_BLOCK_TRAILERS:
        status_header(call, name, name_len, &v);
        break;
    default:
        break; /* request trailers carry nothing we report */
    }
}

bool pw_grpc_block_end(pw_grpc_call *call, const pw_dctx *ctx, bool end_stream)
{
    pw_ev_grpc *g = &call->ev;
    switch (call->block) {
    case PW_GRPC_BLOCK_REQUEST:
        call->request_done = true;
        g->request_frame = ctx->frame;
        g->request_ts = ctx->ts;
        break;
    case PW_GRPC_BLOCK_RESPONSE:
        /* 1xx is informational: the real response headers are still to come. */
        if (g->http_status >= 100 && g->http_status < 200 && !end_stream)
            break;
        call->response_started = true;
        g->response_frame = ctx->frame;
        if (end_stream && call->block_has_status) {
            g->trailers_only = true;
            g->trailer_frame = ctx->frame;
        }
        break;
    case PW_GRPC_BLOCK_TRAILERS:
        g->trailer_frame = ctx->frame;
        break;
    default:
        break;
    }
    call->block = 0;
    return ctx->dir == 1 && end_stream;
}

bool pw_grpc_data(pw_grpc_call *call, int dir, bool end_stream)
{
    if (dir == 1)
        call->ev.response_data = true;
    return dir == 1 && end_stream;
}

void pw_grpc_emit(const pw_dctx *ctx, pw_grpc_call *call, uint8_t end)
{
    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_GRPC);
    ev.u.grpc = call->ev;
    pw_ev_grpc *g = &ev.u.grpc;
    g->end = end;
    g->end_ts = ctx->ts;
    const char *name = pw_grpc_status_name(g->grpc_status);
    if (name)
        strcpy(g->grpc_status_name, name);
    else if (g->grpc_status >= 0)
        snprintf(g->grpc_status_name, sizeof g->grpc_status_name, "CODE_%d", g->grpc_status);
    pw_emit(ctx, &ev);
    memset(call, 0, sizeof *call);
}
