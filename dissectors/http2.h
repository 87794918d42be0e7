/* http2.h - HTTP/2 cleartext (RFC 9113) as an embeddable state.
 *
 * The "http2" dissector wraps it for connections that start with the client
 * connection preface (prior knowledge, any port).  Usage: pw_http2_init()
 * (allocates the two HPACK inflaters), pw_http2_stream() per chunk of one
 * direction (the dissector contract: returns the bytes consumed, unconsumed
 * bytes come back with more), pw_http2_end() when the connection ends (the
 * calls still open are reported as cut), pw_http2_free().
 *
 * Bounds: a header block (HEADERS + CONTINUATION) is decoded as its frames
 * arrive and may not exceed PW_HTTP2_BLOCK_MAX bytes, nor one of its frames
 * PW_HTTP2_BLOCK_FRAME_MAX (the default SETTINGS_MAX_FRAME_SIZE); at most
 * PW_HTTP2_MAX_STREAMS request streams are followed at once (the oldest is
 * reported as evicted to make room); DATA is passed over as it streams by.
 * The only allocations are the HPACK inflaters and their dynamic tables
 * (nghttp2's, bounded by PW_HTTP2_TABLE_MAX). */
#ifndef PW_HTTP2_H
#define PW_HTTP2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"
#include "grpc.h"

#define PW_HTTP2_MAX_STREAMS 32
#define PW_HTTP2_BLOCK_MAX 65536u
/* A HEADERS / PUSH_PROMISE / CONTINUATION frame is waited for whole: at most this. */
#define PW_HTTP2_BLOCK_FRAME_MAX 16384u
/* Largest dynamic table a SETTINGS_HEADER_TABLE_SIZE may grant the decoder. */
#define PW_HTTP2_TABLE_MAX 65536u

struct nghttp2_hd_inflater;

typedef struct pw_http2_dir {
    struct nghttp2_hd_inflater *hpack; /* decodes this direction's header blocks */
    uint32_t max_frame_size; /* SETTINGS_MAX_FRAME_SIZE the peer granted this direction */
    uint32_t table_size;     /* dynamic table size the peer granted this direction's encoder */
    uint32_t table_applied;  /* the size the inflater was last told */
    uint32_t skip;           /* payload bytes of the current frame still to pass over */
    uint32_t block_stream;   /* stream whose header block awaits CONTINUATION, 0 when none */
    uint32_t block_bytes;    /* header block bytes decoded so far */
    bool block_end_stream;   /* the HEADERS frame that opened the block had END_STREAM */
    bool block_call;         /* the block belongs to a followed call */
    uint64_t frames;
} pw_http2_dir;

typedef struct pw_http2_state {
    pw_http2_dir d[2];       /* 0 client->server, 1 server->client */
    pw_grpc_call calls[PW_HTTP2_MAX_STREAMS];
    uint32_t next_age;
    uint32_t streams_seen, streams_dropped;
    bool preface;            /* the client connection preface was seen */
    bool grpc_app;           /* PW_EV_APP "grpc" emitted */
    bool goaway;             /* a GOAWAY was seen */
    bool dead;               /* not HTTP/2, or header decoding broke: ignore the rest */
    bool ended;              /* pw_http2_end() reported the connection */
} pw_http2_state;

/* Returns false when the HPACK inflaters cannot be allocated (the state is
 * then dead but still safe to stream and free). */
bool pw_http2_init(pw_http2_state *st);
size_t pw_http2_stream(const pw_dctx *ctx, pw_http2_state *st, const uint8_t *data, size_t len,
                       bool *done);
void pw_http2_end(const pw_dctx *ctx, pw_http2_state *st);
/* HTTP/1.1 "Upgrade: h2c" (RFC 7540 3.2): the request that asked for the
 * upgrade becomes stream 1, already sent by the client, whose response
 * comes in HTTP/2 after the 101.  Call before the first HTTP/2 bytes. */
void pw_http2_upgraded_request(const pw_dctx *ctx, pw_http2_state *st, const char *method,
                               const char *path, const char *authority);
void pw_http2_free(pw_http2_state *st);

/* True when the bytes are (a prefix of at least 4 bytes of) the client
 * connection preface "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n". */
bool pw_http2_looks_like(const uint8_t *data, size_t len);

/* "NO_ERROR" ... "HTTP_1_1_REQUIRED" for RFC 9113 error codes 0..13, NULL otherwise. */
const char *pw_http2_error_name(uint32_t code);

#endif
