/* fuzz_dns.c - libFuzzer harness for the DNS dissector: the input as one
 * datagram, then as a TCP stream cut into chunks (sizes and directions from
 * the input itself), replaying unconsumed bytes as the capture layer does.
 * The sink reads every event field and traps on unterminated strings, bytes
 * outside printable ASCII, or counts beyond their arrays. */
#include "../dissectors/dissector.h"
#include "stream_driver.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void sink(void *arg, const pw_event *ev)
{
    fuzz_check_event_size(ev);
    volatile uint64_t *acc = arg;
    uint64_t h = ev->type + ev->frame + (uint64_t)ev->dir + ev->source;
    switch (ev->type) {
    case PW_EV_APP:
    case PW_EV_MALFORMED:
        fuzz_check_app_or_malformed(ev, "dns");
        break;
    case PW_EV_DNS: {
        const pw_ev_dns *d = &ev->u.dns;
        h += d->txid + d->response + d->opcode + d->rcode + d->qdcount + d->ancount;
        h += d->qtype + d->qclass + d->reverse;
        fuzz_check_printable(d->qname, sizeof d->qname);
        if (d->reverse && d->reverse_addr.family != 4 && d->reverse_addr.family != 6)
            __builtin_trap();
        if (!d->reverse && d->reverse_addr.family != 0)
            __builtin_trap();
        for (int i = 0; i < 16; i++)
            h += d->reverse_addr.b[i];
        if (d->n_answers > PW_DNS_MAX_ANSWERS)
            __builtin_trap();
        for (int i = 0; i < d->n_answers; i++) {
            h += d->answers[i].type + d->answers[i].ttl + d->answers[i].addr.family;
            for (int k = 0; k < 16; k++)
                h += d->answers[i].addr.b[k];
            fuzz_check_printable(d->answers[i].target, sizeof d->answers[i].target);
            if ((d->answers[i].type == 1 || d->answers[i].type == 28) != (d->answers[i].addr.family != 0))
                __builtin_trap();
        }
        break;
    }
    default:
        __builtin_trap();
    }
    *acc += h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    volatile uint64_t acc = 0;
    pw_flow flow;
    memset(&flow, 0, sizeof flow);
    flow.proto = 17;
    flow.client_port = 40000;
    flow.server_port = 53;
    pw_dctx ctx = {.flow = &flow, .dir = 1, .frame = 1, .emit = sink, .emit_arg = (void *)&acc};
    pw_dissector_dns.datagram(&ctx, data, size);

    /* TCP: the first byte seeds chunk sizes and directions. */
    if (size < 1)
        return 0;
    flow.proto = 6;
    uint8_t seed = data[0];
    data++;
    size--;
    void *state = calloc(1, pw_dissector_dns.state_size ? pw_dissector_dns.state_size : 1);
    if (pw_dissector_dns.stream_init)
        pw_dissector_dns.stream_init(state);
    /* Pending bytes per direction, in exact-size heap copies so ASan sees
     * any read past what was handed over. */
    uint8_t *pend[2] = {NULL, NULL};
    size_t plen[2] = {0, 0};
    bool done = false;
    size_t off = 0;
    unsigned step = 0;
    while (off < size && !done) {
        size_t chunk = 1 + ((seed + step * 37u) % 97u);
        if (chunk > size - off)
            chunk = size - off;
        int dir = ((seed >> (step % 8)) & 1);
        step++;
        uint8_t *buf = malloc(plen[dir] + chunk);
        if (plen[dir])
            memcpy(buf, pend[dir], plen[dir]);
        memcpy(buf + plen[dir], data + off, chunk);
        size_t len = plen[dir] + chunk;
        off += chunk;
        ctx.dir = dir;
        ctx.frame = step;
        size_t used = pw_dissector_dns.stream(&ctx, state, buf, len, &done);
        if (used > len)
            __builtin_trap();
        free(pend[dir]);
        plen[dir] = len - used;
        pend[dir] = plen[dir] ? malloc(plen[dir]) : NULL;
        if (plen[dir])
            memcpy(pend[dir], buf + used, plen[dir]);
        free(buf);
    }
    free(pend[0]);
    free(pend[1]);
    if (pw_dissector_dns.stream_free)
        pw_dissector_dns.stream_free(state);
    free(state);
    return 0;
}
