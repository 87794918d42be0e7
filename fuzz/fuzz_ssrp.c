/* fuzz_ssrp.c - libFuzzer harness for the SQL Server Browser (MS-SQLR)
 * dissector (datagram entry) and its SVR_RESP classifier.  The input is one
 * datagram, its first byte choosing the direction.  The sink reads every
 * field of every event, and traps when a string is not NUL-terminated inside
 * its field or holds a byte outside printable ASCII, when a count is beyond
 * its array, or when the classifier and the dissector disagree. */
#include "../dissectors/dissector.h"
#include "../dissectors/ssrp.h"
#include "stream_driver.h"

#include <stdint.h>
#include <string.h>

typedef struct acc {
    uint64_t h;
    int responses; /* PW_EV_SSRP of kind RESPONSE / DAC_RESPONSE */
    int malformed;
} acc;

static void sink(void *arg, const pw_event *ev)
{
    fuzz_check_event_size(ev);
    acc *a = arg;
    a->h += ev->type + ev->frame + (uint64_t)ev->dir;
    switch (ev->type) {
    case PW_EV_APP:
    case PW_EV_MALFORMED:
        a->malformed += ev->type == PW_EV_MALFORMED;
        fuzz_check_app_or_malformed(ev, "sql_browser");
        break;
    case PW_EV_SSRP: {
        const pw_ev_ssrp *s = &ev->u.ssrp;
        if (s->kind < PW_SSRP_BCAST_EX || s->kind > PW_SSRP_DAC_RESPONSE)
            __builtin_trap();
        if (s->n_instances > PW_SSRP_MAX_INSTANCES)
            __builtin_trap();
        if (s->kind == PW_SSRP_RESPONSE && s->n_instances == 0)
            __builtin_trap(); /* a response event always holds an instance */
        a->responses += s->kind == PW_SSRP_RESPONSE || s->kind == PW_SSRP_DAC_RESPONSE;
        fuzz_check_printable(s->instance, sizeof s->instance);
        a->h += s->opcode + s->dac_version + s->dac_port + s->resp_size + s->more_instances;
        for (int i = 0; i < s->n_instances; i++) {
            const pw_ssrp_instance *in = &s->instances[i];
            fuzz_check_printable(in->server_name, sizeof in->server_name);
            fuzz_check_printable(in->instance, sizeof in->instance);
            fuzz_check_printable(in->version, sizeof in->version);
            fuzz_check_printable(in->np, sizeof in->np);
            if (!in->server_name[0] && !in->instance[0])
                __builtin_trap();
            if ((in->tcp_port != 0) != ((in->protocols & PW_SSRP_PROTO_TCP) != 0))
                __builtin_trap();
            a->h += in->is_clustered + in->tcp_port + in->protocols + in->truncated;
        }
        break;
    }
    default:
        __builtin_trap(); /* SSRP emits nothing else */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    acc a = {0, 0, 0};
    pw_flow flow;
    memset(&flow, 0, sizeof flow);
    flow.proto = 17;
    flow.client_port = 53000;
    flow.server_port = 1434;
    pw_dctx ctx = {.flow = &flow, .dir = data[0] & 1, .frame = 1, .ts = 0, .emit = sink, .emit_arg = &a};
    pw_dissector_ssrp.datagram(&ctx, data + 1, size - 1);
    /* a datagram the classifier calls a response is one the dissector
     * reports, or counts as malformed (RESP_DATA without a complete record) */
    if (pw_ssrp_is_response(data + 1, size - 1) && a.responses == 0 && a.malformed == 0)
        __builtin_trap();
    volatile uint64_t sinkhole = a.h;
    (void)sinkhole;
    return 0;
}
