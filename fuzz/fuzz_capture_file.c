/* fuzz_capture_file.c - libFuzzer harness for whole capture files: libpcap,
 * the switch to libwiretap when libpcap refuses a file (pcapng with mixed
 * interfaces, gzip, other formats) or gives up midway, per-record link types
 * and the per-link-type BPF.  The input is written to a file (wiretap reads
 * paths) and read with pw_capture_file, with a filter when byte 0 is odd.
 *
 * Invariants checked: frame numbers strictly increase by record, never
 * beyond the records counted, and every opened stream is closed once. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../capture/capture.h"
#include "../common/log.h"

static uint64_t last_frame;
static unsigned opened, closed;
static int token;

static void on_packet(void *arg, const pw_pkt *p)
{
    (void)arg;
    if (p->frame <= last_frame)
        abort(); /* frames go forward, one record at a time */
    last_frame = p->frame;
    volatile uint8_t x = 0;
    for (uint32_t i = 0; i < p->payload_len; i += 32)
        x ^= p->payload[i];
    (void)x;
}

static void *on_open(void *arg, const pw_stream_info *si, const pw_pkt *p)
{
    (void)arg, (void)si, (void)p;
    opened++;
    return &token;
}

static size_t on_data(void *arg, void *user, int dir, const uint8_t *d, size_t n,
                      const pw_pkt *p, bool *stop)
{
    (void)arg, (void)user, (void)dir, (void)p, (void)stop;
    volatile uint8_t x = 0;
    for (size_t i = 0; i < n; i++)
        x ^= d[i];
    (void)x;
    return n;
}

static void on_close(void *arg, void *user, int how)
{
    (void)arg, (void)user, (void)how;
    closed++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    pw_log_level = PW_LOG_QUIET;
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/fuzz_capture_file.%d", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    static const pw_capture_cb cb = {.packet = on_packet, .stream_open = on_open, .stream_data = on_data,
                                     .stream_close = on_close};
    pw_capture_opts opts = {.bpf = (data[0] & 1) ? "tcp or udp port 53" : NULL, .tcp_streams = 64};
    pw_input_info info;
    last_frame = 0;
    opened = closed = 0;
    pw_capture_file(path, 0, &opts, &cb, &info);
    if (last_frame > info.packets || opened != closed)
        abort();
    return 0;
}
