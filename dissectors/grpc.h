/* grpc.h - gRPC's view of one HTTP/2 request stream (the gRPC over HTTP/2
 * protocol, doc/PROTOCOL-HTTP2.md of grpc/grpc), fed by http2.c.
 *
 * http2.c owns the framing and the HPACK decoding; for every header block of
 * a stream it calls pw_grpc_block_begin(), pw_grpc_header() per decoded
 * field and pw_grpc_block_end(), marks DATA with pw_grpc_data(), and when
 * the stream is over (the server's END_STREAM, RST_STREAM, GOAWAY, the end
 * of the capture) sends the call with pw_grpc_emit().  A call is a plain
 * value: no allocation, embeddable in http2's per-connection stream table. */
#ifndef PW_GRPC_H
#define PW_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"

/* What the header block being decoded is, for the call it belongs to. */
typedef enum pw_grpc_block {
    PW_GRPC_BLOCK_REQUEST = 1,  /* the client's first header block */
    PW_GRPC_BLOCK_CLIENT_TRAILERS,
    PW_GRPC_BLOCK_RESPONSE,     /* the server's first (or a 1xx) header block */
    PW_GRPC_BLOCK_TRAILERS      /* the server's header block after the response headers */
} pw_grpc_block;

typedef struct pw_grpc_call {
    pw_ev_grpc ev;         /* the event being filled in */
    uint32_t age;          /* creation order in the connection, for eviction */
    bool used;             /* slot holds a call */
    bool request_done;     /* the request header block ended */
    bool response_started; /* a final (non-1xx) response header block ended */
    bool block_has_status; /* the block being decoded carried grpc-status */
    uint8_t block;         /* pw_grpc_block of the block being decoded */
} pw_grpc_call;

/* Empties a slot and starts a call on stream_id. */
void pw_grpc_call_start(pw_grpc_call *call, uint32_t stream_id, uint32_t age);
/* A header block of direction dir (0 client, 1 server) begins. */
void pw_grpc_block_begin(pw_grpc_call *call, int dir);
/* One decoded header field of the block being decoded (not packet bytes:
 * nghttp2's output, still read through a cursor). */
void pw_grpc_header(pw_grpc_call *call, const uint8_t *name, size_t name_len,
                    const uint8_t *value, size_t value_len);
/* The block ended in ctx->frame; end_stream is the HEADERS frame's
 * END_STREAM flag.  Returns true when this block finished the call (the
 * server's END_STREAM). */
bool pw_grpc_block_end(pw_grpc_call *call, const pw_dctx *ctx, bool end_stream);
/* A DATA frame of direction dir; returns true when it finished the call. */
bool pw_grpc_data(pw_grpc_call *call, int dir, bool end_stream);
/* Sends the call as a PW_EV_GRPC event ending with `end` (PW_GRPC_END_*)
 * and frees the slot. */
void pw_grpc_emit(const pw_dctx *ctx, pw_grpc_call *call, uint8_t end);

/* "OK", "CANCELLED" ... "UNAUTHENTICATED" for 0..16, NULL otherwise. */
const char *pw_grpc_status_name(int status);
/* Percent-decodes a grpc-message value (the spec's percent-encoding of
 * bytes outside 0x20-0x7E and '%') into dst as UTF-8, '?' for invalid
 * sequences and control characters; an invalid escape is kept literally.
 * Always NUL-terminates (cap > 0); returns the length written. */
size_t pw_grpc_percent_decode(const uint8_t *src, size_t len, char *dst, size_t cap);

#endif
