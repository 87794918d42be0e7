/* tls.h - the TLS first-flight parser as an embeddable state.
 *
 * The "tls" dissector wraps it directly; RDP (after an X.224 confirm that
 * selects TLS) and HTTP (after a CONNECT answered 2xx) embed a pw_tls_state
 * in their own per-flow state and hand it the bytes that follow their own
 * phase, so the TLS events come from their flow.
 *
 * Usage: pw_tls_init(&st) (a zeroed state is also valid), then for every
 * chunk of one direction pw_tls_stream(), which follows the dissector
 * contract (returns the bytes consumed; unconsumed bytes must be passed
 * again with more), and finally pw_tls_free(&st) to release the
 * per-direction handshake buffers it may have allocated. */
#ifndef PW_TLS_H
#define PW_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"

/* Handshake messages larger than this are skipped (and counted as malformed). */
#define PW_TLS_HS_MAX 65536u
/* Largest record accepted (2^14 + 2048, the TLSCiphertext limit). */
#define PW_TLS_RECORD_MAX 18432u

typedef struct pw_tls_dir {
    uint8_t *hs;        /* handshake reassembly buffer, malloc'd on demand */
    uint32_t hs_len;    /* bytes held in hs */
    uint32_t hs_cap;    /* bytes allocated */
    uint32_t skip_left; /* body bytes of an oversized message still to skip */
    bool records;       /* a valid record was seen in this direction */
    bool ccs;           /* ChangeCipherSpec seen: later handshake records are encrypted (<= 1.2) */
    bool hello;         /* ClientHello (dir 0) / ServerHello (dir 1) seen */
} pw_tls_dir;

typedef struct pw_tls_state {
    pw_tls_dir d[2];       /* 0 client->server, 1 server->client */
    uint16_t version;      /* negotiated version from the ServerHello, 0 until seen */
    bool tls13;            /* TLS 1.3 negotiated (the certificate is encrypted) */
    bool server_done;      /* the server's first flight is over */
    bool cert_seen;        /* CERTIFICATE or CERT_HIDDEN emitted */
    bool app_emitted;      /* PW_EV_APP "tls" emitted */
    bool no_app;           /* set by embedders: never emit PW_EV_APP "tls" */
    bool dead;             /* not TLS or malformed: ignore the rest */
    bool finished;         /* both first flights are over */
} pw_tls_state;

void pw_tls_init(pw_tls_state *st);
/* Parses records of direction ctx->dir.  Sets *done (never clears it) when
 * both first flights are over or the stream is not TLS. */
size_t pw_tls_stream(const pw_dctx *ctx, pw_tls_state *st, const uint8_t *data, size_t len,
                     bool *done);
void pw_tls_free(pw_tls_state *st);

/* True when the bytes start like a TLS handshake record (type 0x16, version
 * 0x03 0x00-0x04); with at least 6 bytes also requires a ClientHello (type 1)
 * when client_hello is set. */
bool pw_tls_looks_like(const uint8_t *data, size_t len, bool client_hello);

#endif
