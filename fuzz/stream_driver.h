/* stream_driver.h - the shared driver of the libFuzzer stream harnesses.
 *
 * fuzz_stream() cuts the input into chunks, each a control byte naming a
 * direction and a length, followed by that many bytes of that direction's
 * stream.  Like capture, it keeps what stream() left unconsumed and hands it
 * back with the next chunk of the same direction, and aborts if stream()
 * claims to have consumed more than it was given.  fuzz_sink() touches every
 * string field of every event and aborts when one is not NUL-terminated
 * inside its field or a count is beyond its array. */
#ifndef PW_FUZZ_STREAM_DRIVER_H
#define PW_FUZZ_STREAM_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../dissectors/dissector.h"

/* How a control byte encodes a chunk (both kept so existing corpora still
 * mean what they meant). */
typedef enum fuzz_chunking {
    /* bit 0 = direction, bits 1-7 = chunk length / 8 - 1 (8..1024 bytes) */
    FUZZ_CHUNK_DIR_LOW_LEN_X8,
    /* bit 7 = direction, bits 0-6 = chunk length (0..127 bytes) */
    FUZZ_CHUNK_DIR_HIGH_LEN_7,
} fuzz_chunking;

/* Aborts unless s is NUL-terminated within its cap bytes; returns its length. */
static inline size_t fuzz_check_str(const char *s, size_t cap)
{
    const char *end = memchr(s, '\0', cap);
    if (!end)
        abort();
    return (size_t)(end - s);
}

#define FUZZ_STR(field) fuzz_check_str((field), sizeof(field))

/* Aborts when ev holds something past pw_event_size(): the analysis thread
 * is handed no more than that (cli/handoff.c), and pw_event_init zeroed the
 * rest of the member. */
static inline void fuzz_check_event_size(const pw_event *ev)
{
    const unsigned char *b = (const unsigned char *)ev;
    for (size_t i = pw_event_size(ev); i < pw_event_type_size(ev->type); i++)
        if (b[i])
            abort();
}

static inline void fuzz_sink(void *arg, const pw_event *ev)
{
    size_t *n = arg;
    fuzz_check_event_size(ev);
    switch (ev->type) {
    case PW_EV_APP: *n += FUZZ_STR(ev->u.app); break;
    case PW_EV_MALFORMED: *n += FUZZ_STR(ev->u.malformed); break;
    case PW_EV_TLS:
        *n += FUZZ_STR(ev->u.tls.sni) + FUZZ_STR(ev->u.tls.alpn) + FUZZ_STR(ev->u.tls.subject_cn) +
              FUZZ_STR(ev->u.tls.subject) + FUZZ_STR(ev->u.tls.issuer) + FUZZ_STR(ev->u.tls.issuer_cn);
        if (ev->u.tls.n_san > PW_TLS_MAX_SAN)
            abort();
        for (int i = 0; i < ev->u.tls.n_san; i++)
            *n += FUZZ_STR(ev->u.tls.san[i]);
        break;
    case PW_EV_RDP: *n += FUZZ_STR(ev->u.rdp.cookie); break;
    case PW_EV_HTTP:
        *n += FUZZ_STR(ev->u.http.method) + FUZZ_STR(ev->u.http.host) + FUZZ_STR(ev->u.http.reason);
        break;
    case PW_EV_HTTP2:
        *n += FUZZ_STR(ev->u.http2.error_name) + FUZZ_STR(ev->u.http2.detail);
        break;
    case PW_EV_GRPC:
        *n += FUZZ_STR(ev->u.grpc.method) + FUZZ_STR(ev->u.grpc.path) + FUZZ_STR(ev->u.grpc.authority) +
              FUZZ_STR(ev->u.grpc.content_type) + FUZZ_STR(ev->u.grpc.grpc_status_name) +
              FUZZ_STR(ev->u.grpc.grpc_message) + FUZZ_STR(ev->u.grpc.reset_name);
        if (ev->u.grpc.end < PW_GRPC_END_COMPLETE || ev->u.grpc.end > PW_GRPC_END_ABANDONED)
            abort();
        break;
    case PW_EV_TDS:
        *n += FUZZ_STR(ev->u.tds.instance) + FUZZ_STR(ev->u.tds.prog_name) + FUZZ_STR(ev->u.tds.message) +
              FUZZ_STR(ev->u.tds.server_name) + FUZZ_STR(ev->u.tds.proc_name);
        if (ev->u.tds.kind < PW_TDS_PRELOGIN || ev->u.tds.kind > PW_TDS_ENCRYPTED)
            abort();
        break;
    case PW_EV_DCERPC: *n += FUZZ_STR(ev->u.dcerpc.iface) + FUZZ_STR(ev->u.dcerpc.sec_addr); break;
    case PW_EV_EPM_PORT: *n += FUZZ_STR(ev->u.epm.iface) + ev->u.epm.port; break;
    case PW_EV_NTLMSSP:
        *n += FUZZ_STR(ev->u.ntlmssp.target_name) + FUZZ_STR(ev->u.ntlmssp.nb_computer) +
              FUZZ_STR(ev->u.ntlmssp.nb_domain) + FUZZ_STR(ev->u.ntlmssp.dns_computer) +
              FUZZ_STR(ev->u.ntlmssp.dns_domain) + FUZZ_STR(ev->u.ntlmssp.dns_tree) +
              FUZZ_STR(ev->u.ntlmssp.user) + FUZZ_STR(ev->u.ntlmssp.domain) +
              FUZZ_STR(ev->u.ntlmssp.workstation);
        break;
    default: break;
    }
}

/* For the datagram harnesses (fuzz_dns.c, fuzz_nbns.c): traps unless s is
 * NUL-terminated within cap bytes and printable ASCII before the NUL. */
static inline void fuzz_check_printable(const char *s, size_t cap)
{
    const char *end = memchr(s, 0, cap);
    if (!end)
        __builtin_trap();
    for (const char *p = s; p < end; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            __builtin_trap();
}

/* PW_EV_APP (which must name `app`) and PW_EV_MALFORMED, checked as above. */
static inline void fuzz_check_app_or_malformed(const pw_event *ev, const char *app)
{
    if (ev->type == PW_EV_APP) {
        fuzz_check_printable(ev->u.app, sizeof ev->u.app);
        if (strcmp(ev->u.app, app) != 0)
            __builtin_trap();
    } else if (ev->type == PW_EV_MALFORMED) {
        fuzz_check_printable(ev->u.malformed, sizeof ev->u.malformed);
    }
}

/* Runs one input through d's probe and stream entry points. */
static inline int fuzz_stream(const pw_dissector *d, fuzz_chunking chunking, const uint8_t *data, size_t size)
{
    if (d->probe)
        (void)d->probe(data, size);
    void *state = calloc(1, d->state_size ? d->state_size : 1);
    uint8_t *pend[2] = {malloc(size + 1), malloc(size + 1)};
    size_t plen[2] = {0, 0}, sunk = 0;
    pw_flow flow;
    memset(&flow, 0, sizeof flow);
    flow.proto = 6;
    flow.client_port = 50000;
    flow.server_port = d->ports[0];
    if (d->stream_init)
        d->stream_init(state);
    bool done = false;
    size_t i = 0;
    uint64_t frame = 0;
    while (i < size && !done) {
        uint8_t ctl = data[i++];
        int dir;
        size_t n;
        if (chunking == FUZZ_CHUNK_DIR_LOW_LEN_X8) {
            dir = ctl & 1;
            n = ((size_t)(ctl >> 1) + 1) * 8;
        } else {
            dir = ctl >> 7;
            n = ctl & 0x7f;
        }
        if (n > size - i)
            n = size - i;
        memcpy(pend[dir] + plen[dir], data + i, n);
        plen[dir] += n;
        i += n;
        pw_dctx ctx = {.flow = &flow, .dir = dir, .frame = ++frame, .emit = fuzz_sink, .emit_arg = &sunk};
        size_t used = d->stream(&ctx, state, pend[dir], plen[dir], &done);
        if (used > plen[dir])
            abort(); /* contract: never consume more than given */
        memmove(pend[dir], pend[dir] + used, plen[dir] - used);
        plen[dir] -= used;
    }
    if (d->stream_end) {
        pw_dctx ctx = {.flow = &flow, .dir = 0, .frame = ++frame, .emit = fuzz_sink, .emit_arg = &sunk};
        d->stream_end(&ctx, state);
    }
    if (d->stream_free)
        d->stream_free(state);
    free(state);
    free(pend[0]);
    free(pend[1]);
    return 0;
}

#endif
