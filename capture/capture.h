/* capture.h - reading captures and handing decoded packets and TCP stream
 * bytes onwards.
 *
 * capture/ knows libpcap, link layers, IPv4/IPv6, transport headers and
 * libnids.  It interprets no application byte and knows nothing of
 * dissectors or analysis: it calls the callbacks in pw_capture_cb, which
 * cli/pipeline.c wires to dissectors/ and analysis/.
 *
 * Order guarantee per frame: packet() is called first, then (for TCP) any
 * stream_open/stream_data/stream_close the frame causes. */
#ifndef PW_CAPTURE_H
#define PW_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"

/* A TCP connection whose handshake was seen (libnids for IPv4, the small
 * in-order shim for IPv6), or one first seen mid-stream (the shim, either
 * family; midstream set, client and server as cb->midstream_dir decided).
 * dir 0 = client->server, 1 = server->client. */
typedef struct pw_stream_info {
    uint32_t source;
    pw_addr client, server;
    uint16_t client_port, server_port;
    bool midstream;
} pw_stream_info;

enum { PW_DIR_TO_SERVER = 0, PW_DIR_TO_CLIENT = 1 };
enum { PW_STREAM_CLOSED = 1, PW_STREAM_RESET = 2, PW_STREAM_TIMED_OUT = 3, PW_STREAM_EXITING = 4 };

typedef struct pw_capture_cb {
    void *arg;
    /* Every decoded IP packet (also fragments' reassembled datagram). */
    void (*packet)(void *arg, const pw_pkt *pkt);
    /* A new TCP stream; return a per-stream pointer to receive its bytes,
     * or NULL to ignore it (capture then stops collecting it). */
    void *(*stream_open)(void *arg, const pw_stream_info *si, const pw_pkt *pkt);
    /* In-order bytes of one direction.  Return how many were consumed; the
     * rest are offered again, with more, on the next call (like
     * nids_discard).  Set *stop to stop collecting this stream entirely.
     * pkt is the frame that delivered the bytes (frame number, time). */
    size_t (*stream_data)(void *arg, void *user, int dir, const uint8_t *data, size_t len,
                          const pw_pkt *pkt, bool *stop);
    /* The stream ended (how = PW_STREAM_*); free user. */
    void (*stream_close)(void *arg, void *user, int how);
    /* A TCP packet with payload on a flow no reassembler follows (its
     * handshake was not captured): which way it goes, PW_DIR_TO_SERVER or
     * PW_DIR_TO_CLIENT, or -1 to leave the flow alone.  Called once per such
     * flow; then the flow is delivered in order from the first segment seen
     * on each side (stream_open with si->midstream).  NULL: mid-stream flows
     * are not followed. */
    int (*midstream_dir)(void *arg, const pw_pkt *pkt);
} pw_capture_cb;

typedef struct pw_capture_opts {
    const char *bpf;        /* trailing BPF expression, or NULL */
    int tcp_streams;        /* libnids stream table size; 0 = default */
    bool progress;          /* progress line on stderr (only used when it is a TTY) */
    int snaplen;            /* live capture snaplen (-s); 0 = 262144 */
    /* live capture, in libpcap's and tcpdump's terms (capture/live.h) */
    int buffer_kib;         /* -B: kernel capture buffer in KiB; 0 = 65536 KiB (64 MiB) */
    bool no_promisc;        /* -p: do not put the interface in promiscuous mode */
    bool immediate;         /* --immediate: deliver each packet at once.  Off by default:
                               libpcap then uses TPACKET_V3 blocks; immediate mode makes it use
                               TPACKET_V2, whose ring holds buffer/snaplen packets only */
    const char *write_path; /* -w: also write the packets analysed to this pcap file */
    uint64_t rotate_bytes;  /* -C: start a new -w file beyond this many bytes; 0 = never */
    int rotate_secs;        /* -G: start a new -w file every this many seconds (packet time) */
    int rotate_count;       /* -W: with -C, reuse this many file names; with -G only, stop after */
} pw_capture_opts;

/* Decode error classes, counted per input and reported under "errors". */
enum pw_decode_err {
    PW_DERR_TRUNCATED = 0,  /* snaplen cut a header */
    PW_DERR_ZERO_LENGTH,    /* empty record */
    PW_DERR_BAD_LENGTH,     /* impossible IP/transport lengths */
    PW_DERR_BAD_HEADER,     /* bad version / header length */
    PW_DERR_UNSUPPORTED,    /* not IP, or an ethertype/link we do not decode */
    PW_DERR_FRAGMENT,       /* fragment dropped (overlap, overflow, timeout) */
    PW_DERR_TUNNEL,         /* a valid tunnel header whose inner packet cannot be read,
                               or tunnels nested beyond the bound */
    PW_DERR_WLAN_PROTECTED, /* an encrypted 802.11 data frame (its payload is opaque) */
    PW_DERR_COUNT
};
extern const char *const pw_decode_err_names[PW_DERR_COUNT];

typedef struct pw_input_info {
    char path[1024];        /* as given ("-" for stdin) or the interface name */
    char linktype[32];      /* libpcap DLT name, e.g. "EN10MB" */
    bool live;
    uint64_t packets;       /* records read (frames) */
    uint64_t bytes;         /* captured bytes */
    uint64_t decoded;       /* frames that yielded an IP packet */
    uint64_t errors[PW_DERR_COUNT];
    pw_usec first_ts, last_ts;
    char error[512];        /* fatal read error ("truncated at byte 1234"), "" if none */
    uint64_t tcp_streams;   /* streams reassembled */
    uint64_t non_ip;        /* frames that are not IP (ARP, LLDP, STP...): normal, not errors */
    /* live only: libpcap's pcap_stats summed over the interfaces */
    uint64_t pcap_received; /* ps_recv: packets the filter accepted */
    uint64_t pcap_dropped;  /* ps_drop: dropped for lack of buffer space (kernel or libpcap) */
    uint64_t pcap_ifdropped;/* ps_ifdrop: dropped by the interface or its driver */
    uint64_t midstream_streams; /* TCP flows first seen mid-stream and followed (also in tcp_streams) */
    uint64_t shim_evicted;  /* shim streams dropped, oldest first, at the stream cap */
    uint64_t shim_buffer_full; /* shim streams stopped because the total buffer budget was used */
    uint64_t syn_gate_replaced; /* client SYNs held for libnids pushed out before a SYN-ACK came
                                   (handshake_gate.h): unanswered, or answered too late to be followed */
    uint64_t handshakes_forgotten; /* answered handshakes held for libnids pushed out before their
                                      connection sent anything else: followed mid-stream if it does */
} pw_input_info;

/* Reads one capture file (or "-" for stdin) to the end.  source is the id
 * stamped on every packet.  Returns 0 when the whole file was read, 1 when
 * it could not be opened or stopped early (info->error says why; packets
 * read before the error have been delivered). */
int pw_capture_file(const char *path, uint32_t source, const pw_capture_opts *opts,
                    const pw_capture_cb *cb, pw_input_info *info);

/* Live capture: capture/live.h. */

/* Async-signal-safe request to stop the current loop. */
void pw_capture_stop(void);
/* True once pw_capture_stop() was called. */
bool pw_capture_stopping(void);

#endif
