/* fuzz_nbns.c - libFuzzer harness for the NBNS dissector (datagram entry).
 * The sink reads every field of every event, and traps when a string is not
 * NUL-terminated inside its field or holds a byte outside printable ASCII. */
#include "../dissectors/dissector.h"
#include "stream_driver.h"

#include <stdint.h>
#include <string.h>

static void sink(void *arg, const pw_event *ev)
{
    fuzz_check_event_size(ev);
    volatile uint64_t *acc = arg;
    uint64_t h = ev->type + ev->frame + (uint64_t)ev->dir + ev->source;
    switch (ev->type) {
    case PW_EV_APP:
    case PW_EV_MALFORMED:
        fuzz_check_app_or_malformed(ev, "netbios");
        break;
    case PW_EV_NBNS: {
        const pw_ev_nbns *n = &ev->u.nbns;
        h += n->txid + n->response + n->opcode + n->rcode + n->qtype + n->qsuffix;
        fuzz_check_printable(n->qname, sizeof n->qname);
        if (n->n_addrs > PW_NBNS_MAX_ADDRS || n->n_names > PW_NBNS_MAX_NAMES)
            __builtin_trap();
        for (int i = 0; i < n->n_addrs; i++) {
            if (n->addrs[i].family != 4)
                __builtin_trap();
            h += n->addrs[i].b[0] + n->addrs[i].b[3];
        }
        for (int i = 0; i < n->n_names; i++) {
            fuzz_check_printable(n->names[i].name, sizeof n->names[i].name);
            h += n->names[i].suffix + n->names[i].group + n->names[i].flags;
        }
        h += n->has_mac;
        for (int i = 0; i < 6; i++)
            h += n->mac[i];
        break;
    }
    default:
        __builtin_trap(); /* NBNS emits nothing else */
    }
    *acc += h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    volatile uint64_t acc = 0;
    pw_flow flow;
    memset(&flow, 0, sizeof flow);
    flow.proto = 17;
    flow.client_port = 137;
    flow.server_port = 137;
    pw_dctx ctx = {.flow = &flow, .dir = 0, .frame = 1, .ts = 0, .emit = sink, .emit_arg = (void *)&acc};
    pw_dissector_nbns.datagram(&ctx, data, size);
    return 0;
}
