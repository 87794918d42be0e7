/* fuzz_rdp.c - libFuzzer harness for the rdp dissector.
 *
 * The input is a sequence of chunks: a control byte (bit 0 = direction,
 * bits 1-7 = chunk length / 8 - 1) followed by up to 1024 bytes of that
 * direction's stream.  Like capture, the harness keeps what stream() left
 * unconsumed and hands it back with the next chunk of the same direction. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../dissectors/dissector.h"

static void check_str(const char *s, size_t cap)
{
    if (!memchr(s, '\0', cap))
        abort();
}

static void on_event(void *arg, const pw_event *ev)
{
    (void)arg;
    switch (ev->type) {
    case PW_EV_TLS:
        check_str(ev->u.tls.sni, sizeof ev->u.tls.sni);
        check_str(ev->u.tls.alpn, sizeof ev->u.tls.alpn);
        check_str(ev->u.tls.subject_cn, sizeof ev->u.tls.subject_cn);
        check_str(ev->u.tls.subject, sizeof ev->u.tls.subject);
        check_str(ev->u.tls.issuer, sizeof ev->u.tls.issuer);
        check_str(ev->u.tls.issuer_cn, sizeof ev->u.tls.issuer_cn);
        if (ev->u.tls.n_san > PW_TLS_MAX_SAN)
            abort();
        for (int i = 0; i < ev->u.tls.n_san; i++)
            check_str(ev->u.tls.san[i], sizeof ev->u.tls.san[i]);
        break;
    case PW_EV_RDP:
        check_str(ev->u.rdp.cookie, sizeof ev->u.rdp.cookie);
        break;
    case PW_EV_HTTP:
        check_str(ev->u.http.method, sizeof ev->u.http.method);
        check_str(ev->u.http.host, sizeof ev->u.http.host);
        check_str(ev->u.http.reason, sizeof ev->u.http.reason);
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const pw_dissector *d = &pw_dissector_rdp;
    if (d->probe)
        (void)d->probe(data, size);
    void *state = calloc(1, d->state_size);
    uint8_t *pend[2] = {malloc(size + 1), malloc(size + 1)};
    size_t plen[2] = {0, 0};
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
        int dir = ctl & 1;
        size_t n = ((size_t)(ctl >> 1) + 1) * 8;
        if (n > size - i)
            n = size - i;
        memcpy(pend[dir] + plen[dir], data + i, n);
        plen[dir] += n;
        i += n;
        pw_dctx ctx = {&flow, dir, ++frame, 0, on_event, NULL, NULL};
        size_t used = d->stream(&ctx, state, pend[dir], plen[dir], &done);
        if (used > plen[dir])
            abort();
        memmove(pend[dir], pend[dir] + used, plen[dir] - used);
        plen[dir] -= used;
    }
    if (d->stream_free)
        d->stream_free(state);
    free(state);
    free(pend[0]);
    free(pend[1]);
    return 0;
}
