/* fuzz_decode.c - libFuzzer harness for the whole decode path: link ->
 * IP -> transport, tunnels, IPv4/IPv6 defragmentation, libnids feeding and
 * the IPv6 TCP shim, with consuming stream callbacks.  Link types include
 * PPP/HDLC, 802.11 (plain, radiotap, Prism, AVS) and NFLOG.
 *
 * Input: byte 0 picks the link type; then records, each
 *   [len hi][len lo][flags] then len bytes
 * flags bit 0: pretend snaplen cut the record (wire length larger),
 * bits 1-7: time step in seconds (so fragments and streams time out). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>

#include "../capture/capture_int.h"
#include "../common/log.h"

/* every link type pw_decode_dlt_supported() accepts (UDP tunnels, GRE, PBB
 * and the rest are reached through them) */
static const int dlts[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2,  12,  14,  101, DLT_IPV4,
                           DLT_IPV6,   DLT_NULL,      108,             9,   50,  104, 105,
                           119,        127,           163,             239};

static int token;
static unsigned opened, closed;

static void on_packet(void *arg, const pw_pkt *p)
{
    (void)arg;
    /* touch the payload the way a dissector would */
    volatile uint8_t x = 0;
    for (uint32_t i = 0; i < p->payload_len; i += 64)
        x ^= p->payload[i];
    (void)x;
}

static void *on_open(void *arg, const pw_stream_info *si, const pw_pkt *p)
{
    (void)arg;
    (void)p;
    if (si->client_port % 7 == 0)
        return NULL;
    opened++;
    return &token;
}

static size_t on_data(void *arg, void *user, int dir, const uint8_t *d, size_t n,
                      const pw_pkt *p, bool *stop)
{
    (void)arg;
    (void)user;
    (void)p;
    volatile uint8_t x = 0;
    for (size_t i = 0; i < n; i++)
        x ^= d[i];
    (void)x;
    if (n && d[0] == 'S')
        *stop = true;
    return dir ? n : n / 2; /* leave some bytes unconsumed to exercise re-offering */
}

static void on_close(void *arg, void *user, int how)
{
    (void)arg;
    (void)user;
    (void)how;
    closed++;
}

/* Mid-stream flows: one side by the ports' parity, some left alone. */
static int on_midstream(void *arg, const pw_pkt *pkt)
{
    (void)arg;
    if ((pkt->sport ^ pkt->dport) % 7 == 0)
        return -1;
    return (pkt->dport & 1) ? PW_DIR_TO_SERVER : PW_DIR_TO_CLIENT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    pw_log_level = PW_LOG_QUIET;
    static const pw_capture_cb cb = {NULL, on_packet, on_open, on_data, on_close, on_midstream};
    static const pw_capture_opts opts = {.tcp_streams = 64};
    pw_input_info info;
    memset(&info, 0, sizeof info);
    static pw_cap cap;
    int dlt = dlts[data[0] % (sizeof dlts / sizeof dlts[0])];
    if (!pw_decode_dlt_supported(dlt))
        abort(); /* the list above and decode.c disagree */
    if (!pw_cap_begin(&cap, "fuzz", 0, dlt, &opts, &cb, &info))
        abort();
    opened = closed = 0;
    pw_usec ts = 1000000;
    size_t off = 1;
    while (off + 3 <= size) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        uint8_t flags = data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        /* copy so ASan sees the exact record bounds */
        uint8_t *rec = malloc(len ? len : 1);
        memcpy(rec, data + off, len);
        ts += (pw_usec)(flags >> 1) * PW_USEC_PER_SEC;
        uint32_t wire = (uint32_t)len + ((flags & 1) ? 100 : 0);
        pw_cap_record(&cap, ts, (uint32_t)len, wire, rec, true);
        free(rec);
        off += len;
    }
    pw_cap_end(&cap);
    if (opened != closed)
        abort(); /* every opened stream must be closed exactly once */
    return 0;
}
