/* dissector.h - the dissector contract and registry.
 *
 * One protocol per file (nbns.c, dns.c, dcerpc.c, smb.c, ldap.c, tds.c,
 * rdp.c, tls.c, http.c, http2.c, grpc.c, ssrp.c, starttls.c; ntlmssp.c is the decoder the NTLM
 * carriers share), in the spirit of nDPI's protocols/ files: each file exports
 * `const pw_dissector pw_dissector_<name>` (starttls.c four: smtp, imap, pop3
 * and ftp share its line reader) and registry.c lists them.
 * A dissector is pure: bytes in, pw_events out through pw_emit(); it reads
 * bytes only through common/cursor.h, keeps only per-flow framing state in
 * the state block its caller (cli/pipeline.c) allocates for it, and has no
 * globals. */
#ifndef PW_DISSECTOR_H
#define PW_DISSECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/cursor.h"
#include "events.h"

typedef void (*pw_emit_fn)(void *arg, const pw_event *ev);

/* Per-call context: which flow, which direction, which frame. */
typedef struct pw_dctx {
    const pw_flow *flow;
    int dir;          /* 0 client->server, 1 server->client */
    uint64_t frame;
    pw_usec ts;
    pw_emit_fn emit;
    void *emit_arg;
    /* Optional per-run caches owned by the caller (cert_cache.h), may be
     * NULL.  Last, so initialisers that omit it leave it NULL. */
    struct pw_dissect_cache *cache;
} pw_dctx;

/* Starts an event of `type` with the context's header fields filled and the
 * payload zeroed. */
void pw_event_init(pw_event *ev, const pw_dctx *ctx, pw_event_type type);
/* Sends an event to the sink. */
static inline void pw_emit(const pw_dctx *ctx, const pw_event *ev) { ctx->emit(ctx->emit_arg, ev); }
/* Convenience: PW_EV_APP and PW_EV_MALFORMED. */
void pw_emit_app(const pw_dctx *ctx, const char *app);
void pw_emit_malformed(const pw_dctx *ctx, const char *what);

enum { PW_DT_UDP = 1, PW_DT_TCP = 2 };
#define PW_DISSECTOR_MAX_PORTS 8

typedef struct pw_dissector {
    const char *name;      /* file / protocol name: "nbns" */
    uint8_t transports;    /* PW_DT_UDP | PW_DT_TCP */
    uint16_t ports[PW_DISSECTOR_MAX_PORTS]; /* server ports that select it; 0-terminated */
    /* Optional heuristic for flows on other ports: looks at the first bytes
     * the client sent (dir 0) and returns true to claim the flow. */
    bool (*probe)(const uint8_t *data, size_t len);
    /* UDP: one datagram. */
    void (*datagram)(const pw_dctx *ctx, const uint8_t *data, size_t len);
    /* TCP: per-stream state of state_size bytes, allocated zeroed by the
     * caller, then stream_init (optional).  stream() gets the unconsumed
     * bytes of one direction and returns how many it consumed; unconsumed
     * bytes come back with more next time (so a dissector frames messages
     * across segments without buffering itself; pdu_loop.h does it for
     * length-prefixed protocols).  Set *done when the stream holds nothing
     * more of interest: capture then stops collecting it (first flights only). */
    size_t state_size;
    void (*stream_init)(void *state);
    size_t (*stream)(const pw_dctx *ctx, void *state, const uint8_t *data, size_t len, bool *done);
    void (*stream_free)(void *state); /* optional: release what stream() allocated */
    /* Optional: the connection ended (FIN/RST, or the input ended with it
     * open), called once before stream_free with ctx->frame the last frame of
     * the connection; lets a dissector report what was still in flight (an
     * HTTP/2 call cut by the end of the capture).  Also called when stream()
     * had set *done: the dissector keeps track of what it already reported. */
    void (*stream_end)(const pw_dctx *ctx, void *state);
} pw_dissector;

/* Registry (registry.c). */
void pw_dissectors_init(void);
/* The dissector for a server port, or NULL. */
const pw_dissector *pw_dissector_for_port(uint8_t proto, uint16_t port);
/* The first dissector whose probe claims these client bytes, or NULL. */
const pw_dissector *pw_dissector_probe(uint8_t proto, const uint8_t *data, size_t len);
/* Look one up by name ("tls"), or NULL. */
const pw_dissector *pw_dissector_by_name(const char *name);

/* Dissectors; defined one per file. */
extern const pw_dissector pw_dissector_nbns;
extern const pw_dissector pw_dissector_dns;
extern const pw_dissector pw_dissector_dcerpc;
extern const pw_dissector pw_dissector_rdp;
extern const pw_dissector pw_dissector_tls;
extern const pw_dissector pw_dissector_http;
extern const pw_dissector pw_dissector_smb;
extern const pw_dissector pw_dissector_ldap;
extern const pw_dissector pw_dissector_tds;
extern const pw_dissector pw_dissector_http2;
extern const pw_dissector pw_dissector_ssrp;
extern const pw_dissector pw_dissector_smtp;
extern const pw_dissector pw_dissector_imap;
extern const pw_dissector pw_dissector_pop3;
extern const pw_dissector pw_dissector_ftp;

#endif
