/* live.h - capturing from one or more interfaces until stopped, as tcpdump
 * does: open (needs capture rights), then run (after the caller may have
 * dropped privileges), with the packets analysed optionally written to a
 * rotated set of pcap files (-w with -C/-G/-W).
 *
 * Frame numbers: with -w, every written file numbers its frames from 1
 * (the frame counter restarts per file) and each file gets its own source
 * index from the new_file hook, so "source, frame" of any evidence opens
 * in Wireshark.  Without -w, frames count from the start of the capture. */
#ifndef PW_LIVE_H
#define PW_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"

#define PW_LIVE_MAX_IFACES 16

typedef struct pw_live pw_live;

/* libpcap's drop counters (pcap_stats), summed over the interfaces. */
typedef struct pw_live_drops {
    uint64_t received, dropped, ifdropped;
} pw_live_drops;

typedef struct pw_live_hooks {
    void *arg;
    /* Called whenever the loop wakes (at least every 100 ms of wall time,
     * between packets, never inside a callback of pw_capture_cb). */
    void (*tick)(void *arg, pw_live *lv);
    /* A new -w file was opened; returns the source index its packets carry. */
    uint32_t (*new_file)(void *arg, const char *path);
} pw_live_hooks;

/* Opens and activates every interface with opts (snaplen, buffer,
 * promiscuous and immediate mode, the BPF).  NULL with err set; a missing
 * capture right is named (CAP_NET_RAW / CAP_NET_ADMIN). */
pw_live *pw_live_open(const char *const *ifaces, int n, const pw_capture_opts *opts, char *err,
                      size_t errlen);
/* Captures until pw_capture_stop(); source is the index for packets when
 * nothing is written.  Returns 0, or 1 with info->error set. */
int pw_live_run(pw_live *lv, uint32_t source, const pw_capture_cb *cb, const pw_live_hooks *hooks,
                pw_input_info *info);
/* The drop counters now (cheap: one getsockopt per interface). */
void pw_live_drops_get(pw_live *lv, pw_live_drops *d);
/* Flushes the -w file, so what was written so far opens in Wireshark. */
void pw_live_flush(pw_live *lv);
/* The -w file being written ("" if none). */
const char *pw_live_file(const pw_live *lv);
void pw_live_close(pw_live *lv);

#endif
