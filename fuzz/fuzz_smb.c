/* fuzz_smb.c - libFuzzer harness for the SMB (NetBIOS session) stream dissector.
 *
 * The input is a script of segments: a control byte (bit 7 = direction,
 * bits 0-6 = length) followed by that many payload bytes.  Segments are fed
 * like the pipeline does: appended to the direction's unconsumed bytes and
 * handed to stream(), which returns how many it consumed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../dissectors/dissector.h"

static void sink(void *arg, const pw_event *ev)
{
    size_t *n = arg;
    /* Touch the strings: they must be NUL-terminated within their fields. */
    switch (ev->type) {
    case PW_EV_DCERPC: *n += strlen(ev->u.dcerpc.iface) + strlen(ev->u.dcerpc.sec_addr); break;
    case PW_EV_EPM_PORT: *n += strlen(ev->u.epm.iface) + ev->u.epm.port; break;
    case PW_EV_NTLMSSP:
        *n += strlen(ev->u.ntlmssp.target_name) + strlen(ev->u.ntlmssp.nb_computer) +
              strlen(ev->u.ntlmssp.nb_domain) + strlen(ev->u.ntlmssp.dns_computer) +
              strlen(ev->u.ntlmssp.dns_domain) + strlen(ev->u.ntlmssp.dns_tree) + strlen(ev->u.ntlmssp.user) +
              strlen(ev->u.ntlmssp.domain) + strlen(ev->u.ntlmssp.workstation);
        break;
    case PW_EV_MALFORMED: *n += strlen(ev->u.malformed); break;
    case PW_EV_APP: *n += strlen(ev->u.app); break;
    default: break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const pw_dissector *d = &pw_dissector_smb;
    if (d->probe)
        (void)d->probe(data, size);
    void *st = calloc(1, d->state_size ? d->state_size : 1);
    uint8_t *pend[2] = {malloc(size + 1), malloc(size + 1)};
    size_t plen[2] = {0, 0}, sunk = 0;
    pw_flow flow = {0};
    flow.proto = 6;
    flow.server_port = 445;
    size_t i = 0;
    uint64_t frame = 0;
    bool done = false;
    while (i < size && !done) {
        uint8_t c = data[i++];
        int dir = c >> 7;
        size_t n = c & 0x7f;
        if (n > size - i)
            n = size - i;
        memcpy(pend[dir] + plen[dir], data + i, n);
        plen[dir] += n;
        i += n;
        pw_dctx ctx = {&flow, dir, ++frame, 0, sink, &sunk, NULL};
        size_t used = d->stream(&ctx, st, pend[dir], plen[dir], &done);
        if (used > plen[dir])
            abort(); /* contract: never consume more than given */
        memmove(pend[dir], pend[dir] + used, plen[dir] - used);
        plen[dir] -= used;
    }
    free(pend[0]);
    free(pend[1]);
    free(st);
    return 0;
}
