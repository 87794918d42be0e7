/* test_http2.c - HTTP/2 frames, HPACK header blocks and gRPC calls on
 * bytes built here: a tiny HPACK encoder (static-table indexed fields,
 * literals with and without incremental indexing, no Huffman) and frame
 * writer, fed through the stream harness like capture does. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS 256
#include "../../dissectors/dissector.h"
#include "../../dissectors/grpc.h"
#include "../../dissectors/http2.h"
#include "check.h"
#include "stream_harness.h"

/* ---- bytes ---- */

typedef struct buf {
    uint8_t b[200000];
    size_t n;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    memcpy(b->b + b->n, p, n);
    b->n += n;
}
static void put8(buf *b, uint8_t v) { b->b[b->n++] = v; }
static void put32(buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 4);
}

static const char PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum { DATA = 0, HEADERS = 1, PRIORITY = 2, RST = 3, SETTINGS = 4, PUSH = 5, PING = 6,
       GOAWAY = 7, WINUP = 8, CONT = 9 };
enum { END_STREAM = 1, ACK = 1, END_HEADERS = 4, PADDED = 8, PRIO = 0x20 };

static void frame(buf *b, uint8_t type, uint8_t flags, uint32_t stream, const void *p, size_t n)
{
    put8(b, (uint8_t)(n >> 16));
    put8(b, (uint8_t)(n >> 8));
    put8(b, (uint8_t)n);
    put8(b, type);
    put8(b, flags);
    put32(b, stream);
    if (n)
        put(b, p, n);
}

/* HPACK integer with an n-bit prefix (RFC 7541 5.1). */
static void hp_int(buf *b, uint8_t first, int nbits, size_t v)
{
    size_t max = (1u << nbits) - 1;
    if (v < max) {
        put8(b, (uint8_t)(first | v));
        return;
    }
    put8(b, (uint8_t)(first | max));
    v -= max;
    while (v >= 128) {
        put8(b, (uint8_t)(v % 128 + 128));
        v /= 128;
    }
    put8(b, (uint8_t)v);
}
static void hp_str(buf *b, const char *s)
{
    hp_int(b, 0, 7, strlen(s));
    put(b, s, strlen(s));
}
static void hp_indexed(buf *b, size_t idx) { hp_int(b, 0x80, 7, idx); }
/* literal with incremental indexing, name from the table (idx) or new (idx 0) */
static void hp_inc(buf *b, size_t idx, const char *name, const char *value)
{
    hp_int(b, 0x40, 6, idx);
    if (!idx)
        hp_str(b, name);
    hp_str(b, value);
}
/* literal without indexing */
static void hp_noidx(buf *b, size_t idx, const char *name, const char *value)
{
    hp_int(b, 0x00, 4, idx);
    if (!idx)
        hp_str(b, name);
    hp_str(b, value);
}

/* Static table indexes used below (RFC 7541 appendix A). */
enum { S_AUTHORITY = 1, S_METHOD_POST = 3, S_PATH = 4, S_SCHEME_HTTP = 6, S_STATUS_200 = 8,
       S_CONTENT_TYPE = 31 };

#define AUTH "em01.corp.example:3741"
#define PATH_REGISTER "/netwrix.agent.v1.AgentService/Register"
#define PATH_HEARTBEAT "/netwrix.agent.v1.AgentService/Heartbeat"

/* First request of a connection: every non-static field is added to the
 * client's dynamic table (path 65, authority 64, content-type 63, te 62). */
static void request_block_first(buf *h)
{
    hp_indexed(h, S_METHOD_POST);
    hp_indexed(h, S_SCHEME_HTTP);
    hp_inc(h, S_PATH, NULL, PATH_REGISTER);
    hp_inc(h, S_AUTHORITY, NULL, AUTH);
    hp_inc(h, S_CONTENT_TYPE, NULL, "application/grpc");
    hp_inc(h, 0, "te", "trailers");
}

/* Second request: the new path goes in first (62) and shifts the others:
 * te 63, content-type 64, authority 65. */
static void request_block_second(buf *h)
{
    hp_indexed(h, S_METHOD_POST);
    hp_indexed(h, S_SCHEME_HTTP);
    hp_inc(h, S_PATH, NULL, PATH_HEARTBEAT);
    hp_indexed(h, 65);
    hp_indexed(h, 64);
    hp_indexed(h, 63);
}

static void settings(buf *b, bool ack)
{
    uint8_t p[18] = {0, 1, 0, 0, 0x10, 0,        /* HEADER_TABLE_SIZE 4096 */
                     0, 3, 0, 0, 0, 100,         /* MAX_CONCURRENT_STREAMS 100 */
                     0, 4, 0, 0x40, 0, 0};       /* INITIAL_WINDOW_SIZE 4194304 */
    frame(b, SETTINGS, ack ? ACK : 0, 0, p, ack ? 0 : sizeof p);
}

/* A gRPC message: compressed flag, 4-byte length, bytes. */
static void grpc_data(buf *b, uint32_t stream, uint8_t flags, size_t n)
{
    uint8_t m[64] = {0, 0, 0, 0, (uint8_t)n};
    for (size_t i = 0; i < n; i++)
        m[5 + i] = (uint8_t)(0x41 + i);
    frame(b, DATA, flags, stream, m, 5 + n);
}

/* ---- event lookups ---- */

static const pw_event *http2_kind(const sink *s, int kind, int n)
{
    for (int i = 0; i < s->n; i++)
        if (s->ev[i].type == PW_EV_HTTP2 && s->ev[i].u.http2.kind == kind && n-- == 0)
            return &s->ev[i];
    return NULL;
}

static const pw_ev_grpc *call_on(const sink *s, uint32_t stream)
{
    for (int i = 0; i < s->n; i++)
        if (s->ev[i].type == PW_EV_GRPC && s->ev[i].u.grpc.stream_id == stream)
            return &s->ev[i].u.grpc;
    return NULL;
}

static bool has_app(const sink *s, const char *app)
{
    for (int i = 0; i < s->n; i++)
        if (s->ev[i].type == PW_EV_APP && strcmp(s->ev[i].u.app, app) == 0)
            return true;
    return false;
}

/* The connection's end as capture would report it (stream_end). */
static void feeder_end(feeder *f)
{
    pw_dctx ctx = {.flow = &f->flow, .dir = 0, .frame = ++f->frame, .emit = on_event,
                   .emit_arg = &f->sink};
    if (f->d->stream_end)
        f->d->stream_end(&ctx, f->state);
}

/* ---- the two-call conversation of the scenarios ---- */

typedef struct convo {
    buf c, s;          /* client and server bytes */
    size_t c_cut[8], s_cut[8]; /* where each message ends, for feeding in turns */
} convo;

static convo cv;

static void build_two_calls(void)
{
    static buf h;
    memset(&cv, 0, sizeof cv);
    put(&cv.c, PREFACE, 24);
    settings(&cv.c, false);
    settings(&cv.s, false);
    settings(&cv.s, true);
    settings(&cv.c, true);
    /* call 1 */
    h.n = 0;
    request_block_first(&h);
    frame(&cv.c, HEADERS, END_HEADERS, 1, h.b, h.n);
    grpc_data(&cv.c, 1, END_STREAM, 10);
    cv.c_cut[0] = cv.c.n;
    h.n = 0;
    hp_indexed(&h, S_STATUS_200);
    hp_inc(&h, S_CONTENT_TYPE, NULL, "application/grpc");
    frame(&cv.s, HEADERS, END_HEADERS, 1, h.b, h.n);
    grpc_data(&cv.s, 1, 0, 12);
    h.n = 0;
    hp_noidx(&h, 0, "grpc-status", "0");
    frame(&cv.s, HEADERS, END_HEADERS | END_STREAM, 1, h.b, h.n);
    cv.s_cut[0] = cv.s.n;
    /* call 2: headers from the dynamic table, fails UNAVAILABLE */
    h.n = 0;
    request_block_second(&h);
    frame(&cv.c, HEADERS, END_HEADERS, 3, h.b, h.n);
    grpc_data(&cv.c, 3, END_STREAM, 3);
    cv.c_cut[1] = cv.c.n;
    h.n = 0;
    hp_indexed(&h, S_STATUS_200);
    hp_indexed(&h, 62); /* content-type: application/grpc, from the server's table */
    frame(&cv.s, HEADERS, END_HEADERS, 3, h.b, h.n);
    h.n = 0;
    hp_noidx(&h, 0, "grpc-status", "14");
    hp_noidx(&h, 0, "grpc-message", "Enterprise%20Manager%20unreachable%3A%20%E2%82%AC%0A");
    frame(&cv.s, HEADERS, END_HEADERS | END_STREAM, 3, h.b, h.n);
    cv.s_cut[1] = cv.s.n;
}

/* Feeds the conversation in turns (request, response, request, response). */
static feeder *run_two_calls(size_t step)
{
    feeder *f = feeder_new(&pw_dissector_http2, 3741);
    feed_steps(f, 0, cv.c.b, cv.c_cut[0], step);
    feed_steps(f, 1, cv.s.b, cv.s_cut[0], step);
    feed_steps(f, 0, cv.c.b + cv.c_cut[0], cv.c_cut[1] - cv.c_cut[0], step);
    feed_steps(f, 1, cv.s.b + cv.s_cut[0], cv.s_cut[1] - cv.s_cut[0], step);
    return f;
}

static void check_two_calls(feeder *f)
{
    CHECK_INT(f->sink.malformed, 0);
    CHECK(!f->done);
    CHECK(has_app(&f->sink, "http2"));
    CHECK(has_app(&f->sink, "grpc"));
    CHECK(http2_kind(&f->sink, PW_HTTP2_PREFACE, 0) != NULL);
    CHECK_INT(count(&f->sink, PW_EV_GRPC), 2);
    const pw_ev_grpc *a = call_on(&f->sink, 1), *b = call_on(&f->sink, 3);
    CHECK(a && b);
    if (!a || !b)
        return;
    CHECK_INT(a->end, PW_GRPC_END_COMPLETE);
    CHECK_STR(a->method, "POST");
    CHECK_STR(a->path, PATH_REGISTER);
    CHECK_STR(a->authority, AUTH);
    CHECK_STR(a->content_type, "application/grpc");
    CHECK(a->is_grpc);
    CHECK_INT(a->http_status, 200);
    CHECK_INT(a->grpc_status, 0);
    CHECK_STR(a->grpc_status_name, "OK");
    CHECK_STR(a->grpc_message, "");
    CHECK(!a->trailers_only);
    CHECK(a->response_data);
    CHECK(!a->reset);
    CHECK_INT(a->reset_dir, -1);
    CHECK(!a->goaway);
    CHECK(a->request_frame > 0 && a->response_frame > a->request_frame);
    CHECK(a->trailer_frame >= a->response_frame);
    /* the second call's request is entirely dynamic-table references */
    CHECK_INT(b->end, PW_GRPC_END_COMPLETE);
    CHECK_STR(b->method, "POST");
    CHECK_STR(b->path, PATH_HEARTBEAT);
    CHECK_STR(b->authority, AUTH);
    CHECK(b->is_grpc);
    CHECK_INT(b->http_status, 200);
    CHECK_INT(b->grpc_status, 14);
    CHECK_STR(b->grpc_status_name, "UNAVAILABLE");
    CHECK_STR(b->grpc_message, "Enterprise Manager unreachable: \xE2\x82\xAC?");
    CHECK(!b->trailers_only);
    CHECK(!b->response_data);
    CHECK(b->request_frame > a->trailer_frame);
}

static void test_two_calls(void)
{
    build_two_calls();
    feeder *f = run_two_calls(100000);
    check_two_calls(f);
    const pw_event *s = http2_kind(&f->sink, PW_HTTP2_SETTINGS, 0);
    CHECK(s != NULL);
    if (s) {
        CHECK_INT(s->dir, 0);
        CHECK(!s->u.http2.ack);
        CHECK_INT(s->u.http2.n_settings, 3);
        CHECK(s->u.http2.has_header_table_size);
        CHECK_INT(s->u.http2.header_table_size, 4096);
        CHECK_INT(s->u.http2.max_concurrent_streams, 100);
        CHECK_INT(s->u.http2.initial_window_size, 4194304);
        CHECK(!s->u.http2.has_max_frame_size);
    }
    const pw_event *ack = http2_kind(&f->sink, PW_HTTP2_SETTINGS, 1);
    CHECK(ack && ack->u.http2.ack && ack->u.http2.n_settings == 0);
    /* the end of the connection reports its totals and nothing is open */
    feeder_end(f);
    const pw_event *end = http2_kind(&f->sink, PW_HTTP2_END, 0);
    CHECK(end != NULL);
    if (end) {
        CHECK_INT(end->u.http2.streams_seen, 2);
        CHECK_INT(end->u.http2.streams_dropped, 0);
        CHECK_INT(end->u.http2.frames[0], 6);
        CHECK_INT(end->u.http2.frames[1], 7);
    }
    CHECK_INT(count(&f->sink, PW_EV_GRPC), 2);
    feeder_end(f); /* once only */
    CHECK_INT(count(&f->sink, PW_EV_HTTP2), 6);
    feeder_free(f);
}

/* One byte at a time: every frame header, literal and HPACK integer is
 * split across segments. */
static void test_one_byte_at_a_time(void)
{
    build_two_calls();
    feeder *f = run_two_calls(1);
    check_two_calls(f);
    feeder_free(f);
    f = run_two_calls(7);
    check_two_calls(f);
    feeder_free(f);
}

/* Cut after every offset of each direction: no crash, nothing invented. */
static void test_truncation(void)
{
    build_two_calls();
    int bad = 0;
    for (int dir = 0; dir < 2; dir++) {
        const buf *whole = dir ? &cv.s : &cv.c;
        for (size_t k = 0; k < whole->n; k++) {
            feeder *f = feeder_new(&pw_dissector_http2, 3741);
            feed(f, 0, cv.c.b, dir == 0 ? k : cv.c.n);
            feed(f, 1, cv.s.b, dir == 1 ? k : cv.s.n);
            feeder_end(f);
            for (int i = 0; i < f->sink.n; i++) {
                const pw_event *e = &f->sink.ev[i];
                if (e->type == PW_EV_MALFORMED)
                    bad++; /* a clean cut is never malformed */
                if (e->type != PW_EV_GRPC)
                    continue;
                const pw_ev_grpc *g = &e->u.grpc;
                bool one = g->stream_id == 1, three = g->stream_id == 3;
                if (!one && !three)
                    bad++;
                if (g->end == PW_GRPC_END_COMPLETE && g->grpc_status != (one ? 0 : 14))
                    bad++;
                if (g->end != PW_GRPC_END_COMPLETE && g->end != PW_GRPC_END_CUT)
                    bad++;
                if (g->path[0] && strcmp(g->path, one ? PATH_REGISTER : PATH_HEARTBEAT) != 0)
                    bad++;
            }
            feeder_free(f);
        }
    }
    CHECK_INT(bad, 0);
    /* client stream cut inside call 2's request: call 1 complete, call 2 never seen */
    feeder *f = feeder_new(&pw_dissector_http2, 3741);
    feed(f, 0, cv.c.b, cv.c_cut[0] + 12);
    feed(f, 1, cv.s.b, cv.s.n);
    feeder_end(f);
    CHECK_INT(count(&f->sink, PW_EV_GRPC), 1);
    CHECK(call_on(&f->sink, 1) && call_on(&f->sink, 1)->end == PW_GRPC_END_COMPLETE);
    feeder_free(f);
    /* server cut before call 1's trailers: call 1 is reported cut with its :status */
    f = feeder_new(&pw_dissector_http2, 3741);
    feed(f, 0, cv.c.b, cv.c_cut[0]);
    feed(f, 1, cv.s.b, cv.s_cut[0] - 5);
    CHECK_INT(count(&f->sink, PW_EV_GRPC), 0);
    feeder_end(f);
    const pw_ev_grpc *g = call_on(&f->sink, 1);
    CHECK(g != NULL);
    if (g) {
        CHECK_INT(g->end, PW_GRPC_END_CUT);
        CHECK_INT(g->http_status, 200);
        CHECK_INT(g->grpc_status, -1);
        CHECK_STR(g->grpc_status_name, "");
        CHECK(g->response_data);
    }
    feeder_free(f);
}

/* Starts a connection: preface, both SETTINGS. */
static feeder *open_conn(void)
{
    static buf b;
    feeder *f = feeder_new(&pw_dissector_http2, 3740);
    b.n = 0;
    put(&b, PREFACE, 24);
    settings(&b, false);
    feed(f, 0, b.b, b.n);
    b.n = 0;
    settings(&b, false);
    feed(f, 1, b.b, b.n);
    return f;
}

static void send_request(feeder *f, uint32_t stream, const char *path)
{
    static buf h, b;
    h.n = b.n = 0;
    hp_indexed(&h, S_METHOD_POST);
    hp_noidx(&h, S_PATH, NULL, path);
    hp_noidx(&h, S_AUTHORITY, NULL, "em01:3740");
    hp_noidx(&h, S_CONTENT_TYPE, NULL, "application/grpc+proto");
    frame(&b, HEADERS, END_HEADERS, stream, h.b, h.n);
    feed(f, 0, b.b, b.n);
}

static void test_trailers_only(void)
{
    static buf h, b;
    feeder *f = open_conn();
    send_request(f, 1, "/netwrix.agent.v1.PolicyService/GetPolicy");
    h.n = b.n = 0;
    hp_indexed(&h, S_STATUS_200);
    hp_noidx(&h, S_CONTENT_TYPE, NULL, "application/grpc");
    hp_noidx(&h, 0, "grpc-status", "12");
    hp_noidx(&h, 0, "grpc-message", "unknown%20method%20GetPolicy");
    frame(&b, HEADERS, END_HEADERS | END_STREAM, 1, h.b, h.n);
    feed(f, 1, b.b, b.n);
    const pw_ev_grpc *g = call_on(&f->sink, 1);
    CHECK(g != NULL);
    if (g) {
        CHECK_INT(g->end, PW_GRPC_END_COMPLETE);
        CHECK(g->trailers_only);
        CHECK(g->is_grpc);
        CHECK_STR(g->content_type, "application/grpc+proto");
        CHECK_STR(g->authority, "em01:3740");
        CHECK_INT(g->http_status, 200);
        CHECK_INT(g->grpc_status, 12);
        CHECK_STR(g->grpc_status_name, "UNIMPLEMENTED");
        CHECK_STR(g->grpc_message, "unknown method GetPolicy");
        CHECK_INT(g->trailer_frame, g->response_frame);
        CHECK(g->response_frame > g->request_frame);
        CHECK(!g->response_data);
    }
    /* a plain HTTP error with END_STREAM and no grpc-status is no Trailers-Only */
    send_request(f, 3, "/x.Y/Z");
    h.n = b.n = 0;
    hp_indexed(&h, 13); /* :status 404 */
    frame(&b, HEADERS, END_HEADERS | END_STREAM, 3, h.b, h.n);
    feed(f, 1, b.b, b.n);
    g = call_on(&f->sink, 3);
    CHECK(g && !g->trailers_only && g->http_status == 404 && g->grpc_status == -1);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);
}

static void test_rst_stream(void)
{
    static buf b;
    feeder *f = open_conn();
    send_request(f, 1, "/netwrix.agent.v1.AgentService/Upload");
    b.n = 0;
    uint8_t code[4] = {0, 0, 0, 7}; /* REFUSED_STREAM */
    frame(&b, RST, 0, 1, code, 4);
    feed(f, 1, b.b, b.n);
    const pw_event *r = http2_kind(&f->sink, PW_HTTP2_RST_STREAM, 0);
    CHECK(r != NULL);
    if (r) {
        CHECK_INT(r->u.http2.stream_id, 1);
        CHECK_INT(r->u.http2.error_code, 7);
        CHECK_STR(r->u.http2.error_name, "REFUSED_STREAM");
        CHECK_INT(r->dir, 1);
    }
    const pw_ev_grpc *g = call_on(&f->sink, 1);
    CHECK(g != NULL);
    if (g) {
        CHECK_INT(g->end, PW_GRPC_END_RESET);
        CHECK(g->reset);
        CHECK_INT(g->reset_code, 7);
        CHECK_STR(g->reset_name, "REFUSED_STREAM");
        CHECK_INT(g->reset_dir, 1);
        CHECK_INT(g->http_status, 0);
        CHECK_STR(g->path, "/netwrix.agent.v1.AgentService/Upload");
    }
    /* the client cancels a call; an unknown error code is named by number */
    send_request(f, 3, "/netwrix.agent.v1.AgentService/Watch");
    b.n = 0;
    uint8_t cancel[4] = {0, 0, 0, 8};
    frame(&b, RST, 0, 3, cancel, 4);
    uint8_t odd[4] = {0, 0, 0, 0x42};
    frame(&b, RST, 0, 99, odd, 4); /* a stream never seen: only the connection fact */
    feed(f, 0, b.b, b.n);
    g = call_on(&f->sink, 3);
    CHECK(g && g->reset_dir == 0 && g->reset_code == 8 && strcmp(g->reset_name, "CANCEL") == 0);
    r = http2_kind(&f->sink, PW_HTTP2_RST_STREAM, 2);
    CHECK(r && strcmp(r->u.http2.error_name, "0x42") == 0);
    /* malformed RST_STREAM: wrong length, stream 0 */
    b.n = 0;
    frame(&b, RST, 0, 5, code, 3);
    frame(&b, RST, 0, 0, code, 4);
    feed(f, 1, b.b, b.n);
    CHECK_INT(f->sink.malformed, 2);
    CHECK(!f->done);
    feeder_free(f);
}

static void test_goaway(void)
{
    static buf b;
    feeder *f = open_conn();
    send_request(f, 1, "/netwrix.agent.v1.AgentService/Register");
    send_request(f, 3, "/netwrix.agent.v1.AgentService/Heartbeat");
    b.n = 0;
    uint8_t ga[8 + 13] = {0, 0, 0, 1, 0, 0, 0, 0};
    memcpy(ga + 8, "shutting down", 13);
    frame(&b, GOAWAY, 0, 0, ga, sizeof ga);
    feed(f, 1, b.b, b.n);
    const pw_event *e = http2_kind(&f->sink, PW_HTTP2_GOAWAY, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(e->u.http2.last_stream_id, 1);
        CHECK_INT(e->u.http2.error_code, 0);
        CHECK_STR(e->u.http2.error_name, "NO_ERROR");
        CHECK_STR(e->u.http2.detail, "shutting down");
    }
    const pw_ev_grpc *g = call_on(&f->sink, 3);
    CHECK(g && g->end == PW_GRPC_END_GOAWAY && g->goaway && g->reset_dir == -1);
    CHECK(call_on(&f->sink, 1) == NULL); /* stream 1 is still being processed */
    static buf h;
    h.n = b.n = 0;
    hp_indexed(&h, S_STATUS_200);
    hp_noidx(&h, 0, "grpc-status", "0");
    frame(&b, HEADERS, END_HEADERS | END_STREAM, 1, h.b, h.n);
    feed(f, 1, b.b, b.n);
    g = call_on(&f->sink, 1);
    CHECK(g && g->end == PW_GRPC_END_COMPLETE && g->goaway && g->grpc_status == 0);
    /* short GOAWAY */
    b.n = 0;
    frame(&b, GOAWAY, 0, 0, ga, 7);
    feed(f, 1, b.b, b.n);
    CHECK_INT(f->sink.malformed, 1);
    feeder_free(f);
}

/* PRIORITY, PING, WINDOW_UPDATE, padding and the PRIORITY flag. */
static void test_frame_types(void)
{
    static buf b, h;
    feeder *f = open_conn();
    b.n = 0;
    uint8_t prio[5] = {0, 0, 0, 0, 15}, ping[8] = {1, 2, 3, 4, 5, 6, 7, 8}, wu[4] = {0, 1, 0, 0};
    frame(&b, PRIORITY, 0, 1, prio, 5);
    frame(&b, PING, 0, 0, ping, 8);
    frame(&b, WINUP, 0, 0, wu, 4);
    frame(&b, 0xfa, 0, 0, ping, 8); /* unknown extension frame: ignored */
    /* HEADERS with PADDED and PRIORITY: pad length, dependency + weight, block, padding */
    h.n = 0;
    put8(&h, 6);
    put(&h, "\x80\x00\x00\x00\x20", 5);
    hp_indexed(&h, S_METHOD_POST);
    hp_noidx(&h, S_PATH, NULL, "/padded.Service/Call");
    hp_noidx(&h, S_CONTENT_TYPE, NULL, "application/grpc");
    put(&h, "\0\0\0\0\0\0", 6);
    frame(&b, HEADERS, END_HEADERS | PADDED | PRIO, 1, h.b, h.n);
    /* padded DATA */
    uint8_t d[12] = {3, 0, 0, 0, 0, 1, 'x', 0, 0, 0};
    frame(&b, DATA, PADDED | END_STREAM, 1, d, 10);
    feed(f, 0, b.b, b.n);
    b.n = 0;
    frame(&b, PING, ACK, 0, ping, 8);
    h.n = 0;
    put8(&h, 3);
    hp_indexed(&h, S_STATUS_200);
    put(&h, "\0\0\0", 3);
    frame(&b, HEADERS, END_HEADERS | PADDED, 1, h.b, h.n);
    frame(&b, DATA, PADDED, 1, d, 10);
    h.n = 0;
    hp_noidx(&h, 0, "grpc-status", "0");
    frame(&b, HEADERS, END_HEADERS | END_STREAM, 1, h.b, h.n);
    feed(f, 1, b.b, b.n);
    CHECK_INT(f->sink.malformed, 0);
    const pw_ev_grpc *g = call_on(&f->sink, 1);
    CHECK(g && strcmp(g->path, "/padded.Service/Call") == 0 && g->http_status == 200 &&
          g->grpc_status == 0 && g->response_data && g->end == PW_GRPC_END_COMPLETE);
    /* wrong fixed lengths are malformed but the connection is still followed */
    b.n = 0;
    frame(&b, PRIORITY, 0, 3, prio, 4);
    frame(&b, PING, 0, 0, ping, 7);
    frame(&b, WINUP, 0, 0, wu, 3);
    frame(&b, SETTINGS, 0, 0, prio, 5);
    frame(&b, SETTINGS, ACK, 0, ping, 6);
    frame(&b, SETTINGS, 0, 1, ping, 6);
    feed(f, 0, b.b, b.n);
    CHECK_INT(f->sink.malformed, 6);
    CHECK(!f->done);
    send_request(f, 3, "/still.Followed/Yes");
    feeder_end(f);
    g = call_on(&f->sink, 3);
    CHECK(g && g->end == PW_GRPC_END_CUT && strcmp(g->path, "/still.Followed/Yes") == 0);
    feeder_free(f);
}

/* A header block over HEADERS + CONTINUATION + CONTINUATION, split inside
 * a literal; and a 1xx interim response before the real one. */
static void test_continuation(void)
{
    static buf h, b;
    feeder *f = open_conn();
    h.n = b.n = 0;
    hp_indexed(&h, S_METHOD_POST);
    hp_noidx(&h, S_PATH, NULL, "/netwrix.agent.v1.EventService/Publish");
    hp_noidx(&h, S_AUTHORITY, NULL, "em01.corp.example");
    hp_noidx(&h, S_CONTENT_TYPE, NULL, "application/grpc");
    frame(&b, HEADERS, 0, 1, h.b, 10);
    frame(&b, CONT, 0, 1, h.b + 10, 20);
    frame(&b, CONT, END_HEADERS, 1, h.b + 30, h.n - 30);
    feed_steps(f, 0, b.b, b.n, 3);
    h.n = b.n = 0;
    hp_noidx(&h, 0, ":status", "100");
    frame(&b, HEADERS, END_HEADERS, 1, h.b, h.n);
    h.n = 0;
    hp_indexed(&h, S_STATUS_200);
    hp_noidx(&h, 0, "grpc-status", "5");
    frame(&b, HEADERS, END_HEADERS | END_STREAM, 1, h.b, h.n);
    feed(f, 1, b.b, b.n);
    const pw_ev_grpc *g = call_on(&f->sink, 1);
    CHECK(g != NULL);
    if (g) {
        CHECK_STR(g->path, "/netwrix.agent.v1.EventService/Publish");
        CHECK_STR(g->authority, "em01.corp.example");
        CHECK_INT(g->http_status, 200);
        CHECK_INT(g->grpc_status, 5);
        CHECK_STR(g->grpc_status_name, "NOT_FOUND");
        CHECK(g->trailers_only);
    }
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* a frame between HEADERS and its CONTINUATION breaks the block */
    f = open_conn();
    h.n = b.n = 0;
    hp_indexed(&h, S_METHOD_POST);
    hp_noidx(&h, S_PATH, NULL, "/a.B/C");
    frame(&b, HEADERS, 0, 1, h.b, 4);
    frame(&b, DATA, 0, 1, "x", 1);
    frame(&b, CONT, END_HEADERS, 1, h.b + 4, h.n - 4);
    feed(f, 0, b.b, b.n);
    const pw_event *e = http2_kind(&f->sink, PW_HTTP2_HPACK_BROKEN, 0);
    CHECK(e && strcmp(e->u.http2.detail, "http2: header block interrupted") == 0 &&
          e->u.http2.stream_id == 1);
    g = call_on(&f->sink, 1);
    CHECK(g && g->end == PW_GRPC_END_ABANDONED);
    CHECK_INT(f->sink.malformed, 1);
    CHECK(f->done);
    feeder_free(f);

    /* CONTINUATION with no block open */
    f = open_conn();
    b.n = 0;
    frame(&b, CONT, END_HEADERS, 1, h.b, 2);
    feed(f, 0, b.b, b.n);
    e = http2_kind(&f->sink, PW_HTTP2_HPACK_BROKEN, 0);
    CHECK(e && strcmp(e->u.http2.detail, "http2: CONTINUATION without HEADERS") == 0);
    CHECK(f->done);
    feeder_free(f);
}

/* Hostile lengths and broken HPACK. */
static void test_hostile(void)
{
    static buf h, b;
    /* a frame larger than SETTINGS_MAX_FRAME_SIZE (16384 by default) */
    feeder *f = open_conn();
    b.n = 0;
    frame(&b, DATA, 0, 1, NULL, 0);
    b.b[0] = 0x01; /* length 0x010000 */
    feed(f, 1, b.b, b.n);
    CHECK_INT(f->sink.malformed, 1);
    CHECK(f->done);
    feeder_free(f);

    /* an endless CONTINUATION chain: over 64 KiB the block is given up */
    f = open_conn();
    send_request(f, 1, "/before.The/Chain");
    h.n = b.n = 0;
    hp_indexed(&h, S_STATUS_200);
    hp_int(&h, 0x00, 4, 0);
    hp_str(&h, "x-pad");
    hp_int(&h, 0, 7, 60000); /* a value announced at 60000 bytes */
    frame(&b, HEADERS, 0, 1, h.b, h.n);
    static uint8_t filler[4000];
    memset(filler, 'a', sizeof filler);
    for (int i = 0; i < 30; i++)
        frame(&b, CONT, 0, 1, filler, sizeof filler);
    feed_steps(f, 1, b.b, b.n, 1500);
    const pw_event *e = http2_kind(&f->sink, PW_HTTP2_HPACK_BROKEN, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.http2.detail, "http2: header block over 64 KiB");
        CHECK_INT(e->dir, 1);
    }
    const pw_ev_grpc *g = call_on(&f->sink, 1);
    CHECK(g && g->end == PW_GRPC_END_ABANDONED && strcmp(g->path, "/before.The/Chain") == 0);
    CHECK(f->done);
    feeder_free(f);

    /* a single HEADERS frame over 16 KiB once the peer allows large frames */
    f = feeder_new(&pw_dissector_http2, 3740);
    b.n = 0;
    put(&b, PREFACE, 24);
    uint8_t big[6] = {0, 5, 0, 0x10, 0, 0}; /* MAX_FRAME_SIZE 1048576 for the server */
    frame(&b, SETTINGS, 0, 0, big, 6);
    feed(f, 0, b.b, b.n);
    b.n = 0;
    frame(&b, HEADERS, END_HEADERS, 1, NULL, 0);
    b.b[0] = 0x00, b.b[1] = 0x40, b.b[2] = 0x01; /* 16385 bytes, not sent: refused at the header */
    feed(f, 1, b.b, b.n);
    e = http2_kind(&f->sink, PW_HTTP2_HPACK_BROKEN, 0);
    CHECK(e && strcmp(e->u.http2.detail, "http2: header frame over 16 KiB") == 0);
    feeder_free(f);

    /* a 1 MB DATA frame the client allowed is passed over as it streams */
    f = feeder_new(&pw_dissector_http2, 3740);
    b.n = 0;
    put(&b, PREFACE, 24);
    frame(&b, SETTINGS, 0, 0, big, 6);
    feed(f, 0, b.b, b.n);
    send_request(f, 1, "/big.Data/Download");
    b.n = 0;
    h.n = 0;
    hp_indexed(&h, S_STATUS_200);
    frame(&b, HEADERS, END_HEADERS, 1, h.b, h.n);
    frame(&b, DATA, 0, 1, NULL, 0);
    b.b[b.n - 9] = 0x10; /* 1048576 bytes follow */
    feed(f, 1, b.b, b.n);
    memset(filler, 0, sizeof filler);
    for (int i = 0; i < 1048576 / 4000; i++)
        feed(f, 1, filler, 4000);
    b.n = 0;
    h.n = 0;
    hp_noidx(&h, 0, "grpc-status", "0");
    frame(&b, HEADERS, END_HEADERS | END_STREAM, 1, h.b, h.n);
    /* the rest of the DATA payload and the trailers in one segment */
    static buf tail;
    tail.n = 0;
    static uint8_t zeros[1048576 % 4000];
    put(&tail, zeros, sizeof zeros);
    put(&tail, b.b, b.n);
    feed(f, 1, tail.b, tail.n);
    g = call_on(&f->sink, 1);
    CHECK(g && g->end == PW_GRPC_END_COMPLETE && g->grpc_status == 0 && g->response_data);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* an HPACK index beyond both tables */
    f = open_conn();
    h.n = b.n = 0;
    hp_indexed(&h, 200);
    frame(&b, HEADERS, END_HEADERS, 1, h.b, h.n);
    feed(f, 0, b.b, b.n);
    e = http2_kind(&f->sink, PW_HTTP2_HPACK_BROKEN, 0);
    CHECK(e && strcmp(e->u.http2.detail, "http2: HPACK decoding error") == 0);
    g = call_on(&f->sink, 1);
    CHECK(g && g->end == PW_GRPC_END_ABANDONED);
    CHECK(f->done);
    feeder_free(f);

    /* a dynamic table size update beyond what SETTINGS allowed */
    f = open_conn();
    h.n = b.n = 0;
    hp_int(&h, 0x20, 5, 1 << 20);
    hp_indexed(&h, S_METHOD_POST);
    frame(&b, HEADERS, END_HEADERS, 1, h.b, h.n);
    feed(f, 0, b.b, b.n);
    CHECK(http2_kind(&f->sink, PW_HTTP2_HPACK_BROKEN, 0) != NULL);
    feeder_free(f);

    /* ...but within a HEADER_TABLE_SIZE the server granted it is fine */
    f = open_conn();
    b.n = 0;
    uint8_t hts[6] = {0, 1, 0, 0, 0x80, 0}; /* server: HEADER_TABLE_SIZE 32768 */
    frame(&b, SETTINGS, 0, 0, hts, 6);
    feed(f, 1, b.b, b.n);
    h.n = b.n = 0;
    hp_int(&h, 0x20, 5, 32768);
    hp_indexed(&h, S_METHOD_POST);
    hp_noidx(&h, S_PATH, NULL, "/table.Size/Ok");
    frame(&b, HEADERS, END_HEADERS, 1, h.b, h.n);
    feed(f, 0, b.b, b.n);
    feeder_end(f);
    g = call_on(&f->sink, 1);
    CHECK(g && strcmp(g->path, "/table.Size/Ok") == 0 && g->end == PW_GRPC_END_CUT);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* padding longer than the frame */
    f = open_conn();
    b.n = 0;
    uint8_t pad[4] = {9, 0x82, 0x84, 0x86};
    frame(&b, HEADERS, END_HEADERS | PADDED, 1, pad, 4);
    feed(f, 0, b.b, b.n);
    e = http2_kind(&f->sink, PW_HTTP2_HPACK_BROKEN, 0);
    CHECK(e && strcmp(e->u.http2.detail, "http2: HEADERS padding exceeds the frame") == 0);
    feeder_free(f);

    /* SETTINGS_MAX_FRAME_SIZE below the minimum is malformed and ignored */
    f = open_conn();
    b.n = 0;
    uint8_t small[6] = {0, 5, 0, 0, 0x10, 0};
    frame(&b, SETTINGS, 0, 0, small, 6);
    feed(f, 1, b.b, b.n);
    CHECK_INT(f->sink.malformed, 1);
    send_request(f, 1, "/still.Sixteen/K");
    CHECK(!f->done);
    feeder_free(f);
}

/* More streams than the table holds: the oldest are reported evicted. */
static void test_eviction(void)
{
    feeder *f = open_conn();
    char path[64];
    for (uint32_t i = 0; i < PW_HTTP2_MAX_STREAMS + 8; i++) {
        snprintf(path, sizeof path, "/many.Streams/Call%u", i);
        send_request(f, 1 + 2 * i, path);
    }
    int evicted = 0;
    for (int i = 0; i < f->sink.n; i++)
        if (f->sink.ev[i].type == PW_EV_GRPC) {
            evicted += f->sink.ev[i].u.grpc.end == PW_GRPC_END_EVICTED;
        }
    CHECK_INT(evicted, 8);
    const pw_ev_grpc *g = call_on(&f->sink, 1);
    CHECK(g && g->end == PW_GRPC_END_EVICTED && strcmp(g->path, "/many.Streams/Call0") == 0);
    CHECK(call_on(&f->sink, 17) == NULL); /* the 9th is still followed */
    feeder_end(f);
    const pw_event *e = http2_kind(&f->sink, PW_HTTP2_END, 0);
    CHECK(e && e->u.http2.streams_seen == PW_HTTP2_MAX_STREAMS + 8 &&
          e->u.http2.streams_dropped == 8);
    CHECK_INT(count(&f->sink, PW_EV_GRPC), PW_HTTP2_MAX_STREAMS + 8);
    g = call_on(&f->sink, 17);
    CHECK(g && g->end == PW_GRPC_END_CUT);
    feeder_free(f);
}

static void test_not_http2(void)
{
    CHECK(pw_dissector_http2.probe((const uint8_t *)PREFACE, 24));
    CHECK(pw_dissector_http2.probe((const uint8_t *)"PRI * HT", 8));
    CHECK(!pw_dissector_http2.probe((const uint8_t *)"PRI", 3));
    CHECK(!pw_dissector_http2.probe((const uint8_t *)"GET / HTTP/1.1\r\n", 16));
    CHECK(!pw_dissector_http2.probe((const uint8_t *)"PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n", 24));
    CHECK(pw_dissector_probe(6, (const uint8_t *)PREFACE, 24) == &pw_dissector_http2);
    CHECK(pw_dissector_by_name("http2") == &pw_dissector_http2);
    CHECK(pw_dissector_for_port(6, 3741) == NULL); /* never by port */
    feeder *f = feeder_new(&pw_dissector_http2, 3741);
    feed(f, 0, (const uint8_t *)"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n", 24);
    CHECK_INT(f->sink.malformed, 1);
    CHECK(f->done);
    CHECK(!has_app(&f->sink, "http2"));
    feeder_end(f);
    CHECK_INT(f->sink.n, 1); /* no END for a connection that never was HTTP/2 */
    feeder_free(f);
    /* the preface split over segments */
    f = feeder_new(&pw_dissector_http2, 3741);
    feed(f, 0, (const uint8_t *)PREFACE, 10);
    CHECK_INT(f->sink.n, 0);
    feed(f, 0, (const uint8_t *)PREFACE + 10, 14);
    const pw_event *app = find(&f->sink, PW_EV_APP, 0, 0);
    CHECK(app && strcmp(app->u.app, "http2") == 0 && app->frame == 2);
    feeder_free(f);
}

static void test_names(void)
{
    CHECK_STR(pw_grpc_status_name(0), "OK");
    CHECK_STR(pw_grpc_status_name(4), "DEADLINE_EXCEEDED");
    CHECK_STR(pw_grpc_status_name(14), "UNAVAILABLE");
    CHECK_STR(pw_grpc_status_name(16), "UNAUTHENTICATED");
    CHECK(pw_grpc_status_name(17) == NULL && pw_grpc_status_name(-1) == NULL);
    CHECK_STR(pw_http2_error_name(0), "NO_ERROR");
    CHECK_STR(pw_http2_error_name(11), "ENHANCE_YOUR_CALM");
    CHECK_STR(pw_http2_error_name(13), "HTTP_1_1_REQUIRED");
    CHECK(pw_http2_error_name(14) == NULL);
}

static void pd(const char *in, const char *want, size_t cap)
{
    char out[300];
    pw_grpc_percent_decode((const uint8_t *)in, strlen(in), out, cap);
    CHECK_STR(out, want);
}

static void test_percent_decoding(void)
{
    pd("a%20b", "a b", 300);
    pd("%E2%82%AC10", "\xE2\x82\xAC" "10", 300);     /* a character over three escapes */
    pd("%e2%82%ac", "\xE2\x82\xAC", 300);            /* lower-case hex */
    pd("100%", "100%", 300);                         /* invalid escapes stay literal */
    pd("%4", "%4", 300);
    pd("%zz%2", "%zz%2", 300);
    pd("line%0Abreak", "line?break", 300);          /* control characters */
    pd("%FF%C3", "??", 300);                         /* invalid UTF-8 */
    pd("ab%E2%82%AC", "ab", 5);                      /* never splits a character */
    pd("abcdef", "abc", 4);
    char out[8] = "x";
    CHECK_INT(pw_grpc_percent_decode(NULL, 0, out, sizeof out), 0);
    CHECK_STR(out, "");
}

/* PUSH_PROMISE: its header block is no call of the client's, but it feeds
 * the server's dynamic table, which the response then uses. */
static void test_push_promise(void)
{
    static buf h, b;
    feeder *f = open_conn();
    send_request(f, 1, "/index.html");
    b.n = h.n = 0;
    put32(&h, 2); /* promised stream */
    hp_indexed(&h, 2);
    hp_inc(&h, S_PATH, NULL, "/style.css"); /* server table: 62 */
    static buf padded; /* pad length 2, promised stream + block, 2 bytes of padding */
    padded.n = 0;
    put8(&padded, 2);
    put(&padded, h.b, h.n);
    put(&padded, "\0\0", 2);
    frame(&b, PUSH, END_HEADERS | PADDED, 1, padded.b, padded.n);
    h.n = 0;
    hp_indexed(&h, S_STATUS_200);
    hp_inc(&h, 0, "link", "</style.css>; rel=preload"); /* 62, path now 63 */
    hp_indexed(&h, 63);                                   /* a path in a response: decoded, ignored */
    frame(&b, HEADERS, END_HEADERS, 1, h.b, h.n);
    h.n = 0;
    hp_indexed(&h, 13);
    frame(&b, HEADERS, END_HEADERS | END_STREAM, 2, h.b, h.n); /* the pushed response */
    h.n = 0;
    hp_indexed(&h, 62);
    hp_noidx(&h, 0, "grpc-status", "0");
    frame(&b, HEADERS, END_HEADERS | END_STREAM, 1, h.b, h.n);
    feed(f, 1, b.b, b.n);
    CHECK_INT(f->sink.malformed, 0);
    CHECK_INT(count(&f->sink, PW_EV_GRPC), 1);
    const pw_ev_grpc *g = call_on(&f->sink, 1);
    CHECK(g && g->http_status == 200 && g->grpc_status == 0 && strcmp(g->path, "/index.html") == 0);
    CHECK(call_on(&f->sink, 2) == NULL);
    /* an index beyond the table proves it was kept: 64 does not exist yet */
    b.n = h.n = 0;
    send_request(f, 3, "/next");
    hp_indexed(&h, 64);
    frame(&b, HEADERS, END_HEADERS, 3, h.b, h.n);
    feed(f, 1, b.b, b.n);
    CHECK(http2_kind(&f->sink, PW_HTTP2_HPACK_BROKEN, 0) != NULL);
    feeder_free(f);
}

/* HTTP/2 on an HTTP port goes through the http dissector: prior knowledge
 * (with the server's SETTINGS arriving first) and Upgrade: h2c. */
static void test_via_http(void)
{
    static buf b, h;
    feeder *f = feeder_new(&pw_dissector_http, 80);
    b.n = 0;
    settings(&b, false);
    feed(f, 1, b.b, b.n); /* the server's preface before the client's */
    CHECK_INT(f->sink.n, 0);
    CHECK(!f->done);
    b.n = h.n = 0;
    put(&b, PREFACE, 24);
    settings(&b, false);
    hp_indexed(&h, 2);  /* :method GET */
    hp_indexed(&h, 6);  /* :scheme http */
    hp_indexed(&h, 5);  /* :path /index.html */
    hp_noidx(&h, S_AUTHORITY, NULL, "www.example.org");
    frame(&b, HEADERS, END_HEADERS | END_STREAM, 1, h.b, h.n);
    feed(f, 0, b.b, b.n);
    b.n = h.n = 0;
    settings(&b, true);
    hp_indexed(&h, 13); /* :status 404 */
    frame(&b, HEADERS, END_HEADERS | END_STREAM, 1, h.b, h.n);
    feed(f, 1, b.b, b.n);
    const pw_ev_grpc *g = call_on(&f->sink, 1);
    CHECK(g && strcmp(g->method, "GET") == 0 && strcmp(g->path, "/index.html") == 0 &&
          strcmp(g->authority, "www.example.org") == 0 && g->http_status == 404 && !g->is_grpc);
    CHECK(has_app(&f->sink, "http2") && !has_app(&f->sink, "http"));
    CHECK_INT(count(&f->sink, PW_EV_HTTP2), 4); /* preface, 3 SETTINGS */
    CHECK_INT(f->sink.malformed, 0);
    feeder_end(f);
    CHECK(http2_kind(&f->sink, PW_HTTP2_END, 0) != NULL);
    feeder_free(f);

    /* Upgrade: h2c, answered 101; the server's HTTP/2 follows the 101 in the same segment */
    static const char up_req[] = "GET /robots.txt HTTP/1.1\r\nHost: www.example.org\r\n"
                                 "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                                 "HTTP2-Settings: AAMAAABkAARAAAAA\r\n\r\n";
    static const char up_resp[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                                  "Upgrade: h2c\r\n\r\n";
    f = feeder_new(&pw_dissector_http, 80);
    feed(f, 0, (const uint8_t *)up_req, sizeof up_req - 1);
    b.n = h.n = 0;
    put(&b, up_resp, sizeof up_resp - 1);
    settings(&b, false);
    hp_indexed(&h, S_STATUS_200);
    hp_noidx(&h, S_CONTENT_TYPE, NULL, "text/plain");
    frame(&b, HEADERS, END_HEADERS, 1, h.b, h.n);
    frame(&b, DATA, END_STREAM, 1, "User-agent: *\n", 14);
    feed_steps(f, 1, b.b, b.n, 50);
    g = call_on(&f->sink, 1);
    CHECK(g && strcmp(g->method, "GET") == 0 && strcmp(g->path, "/robots.txt") == 0 &&
          strcmp(g->authority, "www.example.org") == 0 && g->http_status == 200 &&
          g->end == PW_GRPC_END_COMPLETE && g->request_frame == 1 && g->response_data);
    b.n = h.n = 0;
    put(&b, PREFACE, 24);
    settings(&b, false);
    hp_indexed(&h, 2);
    hp_noidx(&h, S_PATH, NULL, "/humans.txt");
    frame(&b, HEADERS, END_HEADERS | END_STREAM, 3, h.b, h.n);
    feed(f, 0, b.b, b.n);
    b.n = h.n = 0;
    hp_indexed(&h, 13);
    frame(&b, HEADERS, END_HEADERS | END_STREAM, 3, h.b, h.n);
    feed(f, 1, b.b, b.n);
    g = call_on(&f->sink, 3);
    CHECK(g && strcmp(g->path, "/humans.txt") == 0 && g->http_status == 404);
    CHECK(has_app(&f->sink, "http") && has_app(&f->sink, "http2"));
    CHECK_INT(f->sink.malformed, 0);
    CHECK(!f->done);
    feeder_free(f);

    /* an upgrading POST with a body: the preface follows the body */
    static const char up_post[] = "POST /netwrix.agent.v1.AgentService/Register HTTP/1.1\r\n"
                                  "Host: em01:80\r\nContent-Length: 5\r\nUpgrade: h2c\r\n"
                                  "Connection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: \r\n\r\nhello";
    f = feeder_new(&pw_dissector_http, 80);
    b.n = 0;
    put(&b, up_post, sizeof up_post - 1);
    put(&b, PREFACE, 24);
    settings(&b, false);
    feed_steps(f, 0, b.b, b.n, 9);
    b.n = h.n = 0;
    put(&b, up_resp, sizeof up_resp - 1);
    settings(&b, false);
    hp_indexed(&h, S_STATUS_200);
    hp_noidx(&h, 0, "grpc-status", "7");
    frame(&b, HEADERS, END_HEADERS | END_STREAM, 1, h.b, h.n);
    feed(f, 1, b.b, b.n);
    g = call_on(&f->sink, 1);
    CHECK(g && strcmp(g->method, "POST") == 0 &&
          strcmp(g->path, "/netwrix.agent.v1.AgentService/Register") == 0 &&
          strcmp(g->authority, "em01:80") == 0 && g->grpc_status == 7 && g->trailers_only);
    CHECK(http2_kind(&f->sink, PW_HTTP2_PREFACE, 0) == NULL); /* held until after the 101 */
    b.n = 0;
    settings(&b, true);
    feed(f, 0, b.b, b.n);
    CHECK(http2_kind(&f->sink, PW_HTTP2_PREFACE, 0) != NULL);
    CHECK(http2_kind(&f->sink, PW_HTTP2_SETTINGS, 2) != NULL && http2_kind(&f->sink, PW_HTTP2_SETTINGS, 2)->u.http2.ack);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* an upgrade the server declines: plain HTTP/1.1, nothing of HTTP/2 */
    f = feeder_new(&pw_dissector_http, 80);
    feed(f, 0, (const uint8_t *)up_req, sizeof up_req - 1);
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    feed(f, 1, (const uint8_t *)ok, sizeof ok - 1);
    CHECK_INT(count(&f->sink, PW_EV_HTTP2) + count(&f->sink, PW_EV_GRPC), 0);
    CHECK(find(&f->sink, PW_EV_HTTP, PW_HTTP_RESPONSE, 0) != NULL);
    CHECK_INT(f->sink.malformed, 0);
    feeder_end(f);
    CHECK_INT(count(&f->sink, PW_EV_HTTP2) + count(&f->sink, PW_EV_GRPC), 0);
    feeder_free(f);
}

int main(void)
{
    test_two_calls();
    test_one_byte_at_a_time();
    test_truncation();
    test_trailers_only();
    test_rst_stream();
    test_goaway();
    test_frame_types();
    test_continuation();
    test_hostile();
    test_eviction();
    test_not_http2();
    test_names();
    test_percent_decoding();
    test_via_http();
    test_push_promise();
    CHECK_DONE();
}
