/* capture_int.h - private: the per-record path shared by file and live
 * capture, exposed for the fuzz harness (fuzz/fuzz_decode.c). */
#ifndef PW_CAPTURE_INT_H
#define PW_CAPTURE_INT_H

#include <pcap/pcap.h>
#include <time.h>

#include "capture.h"
#include "decode.h"
#include "handshake_gate.h"
#include "tcp6.h"

/* libnids stream table size (nids_params.n_tcp_streams) when opts->tcp_streams
 * is 0.  libnids preallocates 8 bytes of hash table per slot plus a pool of
 * 3/4 as many struct tcp_stream (288 bytes each on x86-64): about 14 MB,
 * i.e. 49,152 concurrent TCP connections before the oldest is evicted. */
#define PW_DEFAULT_TCP_STREAMS 65536

/* Keys libnids' stream hash (nids_hash.c) once, before its first stream. */
void pw_nids_hash_seed(void);
/* That hash, replacing libnids' own (its prototype in libnids' hash.h). */
unsigned int mkhash(unsigned int src, unsigned short sport, unsigned int dest, unsigned short dport);

typedef struct pw_cap {
    const char *path;
    uint32_t source;
    int dlt;
    const pw_capture_opts *opts;
    const pw_capture_cb *cb;
    pw_input_info *info;
    uint64_t frame;
    pw_decoder dec;
    pw_tcp6_table tcp6;
    pw_gate gate;
    pcap_t *dead;
    bool nids_on;
    unsigned warned[PW_DERR_COUNT];
    uint64_t nomem_frame;     /* first frame where reassembly state could not be allocated */
    time_t progress_sec;
    bool progress_shown;
} pw_cap;

/* Starts libnids (nids_init) and the IPv6 shim; false on failure. */
bool pw_cap_begin(pw_cap *cap, const char *path, uint32_t source, int dlt,
                  const pw_capture_opts *opts, const pw_capture_cb *cb, pw_input_info *info);
/* One record; matched = false when the BPF rejected it (counted, not decoded). */
void pw_cap_record(pw_cap *cap, pw_usec ts, uint32_t caplen, uint32_t wirelen,
                   const uint8_t *data, bool matched);
/* Starts a new output file: frames count from 1 again and carry source. */
void pw_cap_new_file(pw_cap *cap, uint32_t source);
/* Input counters back to zero, path set; the link type name of a DLT. */
void pw_cap_info_reset(pw_input_info *info, const char *path);
void pw_cap_set_linktype(pw_input_info *info, int dlt);
pw_usec pw_cap_ts(const struct pcap_pkthdr *h);
/* Flushes and closes every stream (nids_exit), frees fragments; reports
 * reassembly state dropped for want of memory in info->error. */
void pw_cap_end(pw_cap *cap);

#endif
