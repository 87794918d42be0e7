/* capture.c - reading captures (files, stdin, live) and feeding libnids and
 * the IPv6 shim (see capture.h).
 *
 * Per record: count it (frame numbers count every record, as Wireshark
 * does), apply the BPF with pcap_offline_filter, decode (decode.c), call
 * cb->packet, then feed IPv4 TCP to libnids / IPv6 TCP to the shim so that
 * the stream callbacks a frame causes come after its packet callback.
 *
 * Files libpcap refuses (pcapng with interfaces of different link types or
 * snapshot lengths, gzip, Network Monitor and other formats) are read with
 * libwiretap (wtap_file.c); each record then carries its own link type. */
#include "capture.h"
#include "capture_int.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nids.h>
#include <pcap/pcap.h>

#include "pcapfile.h"

#include "../common/log.h"
#include "wtap_file.h"

#define WARN_PER_CLASS 3
#define NIDS_LOG_MAX 20
#define MAX_UNCONSUMED (256 * 1024)

/* Set by pw_capture_stop() (e.g. from a SIGINT handler) and never cleared:
 * once the user asked to stop, every later read stops too. */
static volatile sig_atomic_t g_stop;

void pw_capture_stop(void)
{
    g_stop = 1;
}

bool pw_capture_stopping(void)
{
    return g_stop != 0;
}

/* ---- libnids glue (libnids is one global instance) ---- */

static struct {
    pw_cap *cap;        /* the capture being fed */
    const pw_pkt *cur;  /* the packet being fed */
    bool claimed;       /* libnids called back for the packet being fed: it follows that flow */
    bool replaying;     /* feeding a handshake the gate completed: its stream was counted then */
    unsigned logged;
} g_nids;

/* libnids' timer for streams closed without a last ACK (tcp_workarounds):
 * nids_pcap_handler() runs it first for every packet.  Not in nids.h, but
 * exported by libnids.so; the gate runs it for the packets it keeps, so a
 * stream times out at the same packet as when libnids saw them all. */
struct tcp_timeout;
extern struct tcp_timeout *nids_tcp_timeouts;
void tcp_check_timeouts(struct timeval *now);

static void nids_log(int type, int err, struct ip *iph, void *data)
{
    (void)iph;
    (void)data;
    if (!g_nids.cap || g_nids.logged >= NIDS_LOG_MAX)
        return;
    g_nids.logged++;
    const char *what = (err >= 0 && err <= NIDS_WARN_TCP_BADFLAGS && nids_warnings[err])
                           ? nids_warnings[err]
                           : "warning";
    pw_debug("%s: frame %llu: libnids (%d): %s%s", g_nids.cap->path,
             (unsigned long long)g_nids.cap->frame, type, what,
             g_nids.logged == NIDS_LOG_MAX ? " (further libnids messages suppressed)" : "");
}

static void nids_nomem(char *where)
{
    pw_error("libnids: out of memory (%s)", where ? where : "?");
    exit(1);
}

static void close_user(void **param, int how)
{
    void *u = *param;
    *param = NULL;
    if (u && g_nids.cap && g_nids.cap->cb->stream_close)
        g_nids.cap->cb->stream_close(g_nids.cap->cb->arg, u, how);
}

static void nids_tcp(struct tcp_stream *a, void **param)
{
    pw_cap *cap = g_nids.cap;
    if (!cap)
        return;
    const pw_pkt *cur = g_nids.cur; /* (a timeout may call back for another stream) */
    if (cur && ((a->addr.source == cur->sport && a->addr.dest == cur->dport) ||
                (a->addr.source == cur->dport && a->addr.dest == cur->sport)))
        g_nids.claimed = true;
    const pw_capture_cb *cb = cap->cb;
    switch (a->nids_state) {
    case NIDS_JUST_EST: {
        pw_stream_info si;
        memset(&si, 0, sizeof si);
        uint8_t b[4];
        si.source = cap->source;
        memcpy(b, &a->addr.saddr, 4);
        pw_addr_v4(&si.client, b);
        memcpy(b, &a->addr.daddr, 4);
        pw_addr_v4(&si.server, b);
        si.client_port = a->addr.source;
        si.server_port = a->addr.dest;
        void *u = cb->stream_open ? cb->stream_open(cb->arg, &si, g_nids.cur) : NULL;
        if (u) {
            a->client.collect++;
            a->server.collect++;
            *param = u;
            if (!g_nids.replaying)
                cap->info->tcp_streams++;
        } else if (g_nids.cur) {
            pw_tcp6_ignore(&cap->tcp6, g_nids.cur); /* libnids forgets it too */
        }
        return;
    }
    case NIDS_DATA: {
        void *u = *param;
        if (!u)
            return;
        struct half_stream *h;
        int dir;
        if (a->server.count_new) {
            h = &a->server; /* the server receives client->server bytes */
            dir = PW_DIR_TO_SERVER;
        } else if (a->client.count_new) {
            h = &a->client;
            dir = PW_DIR_TO_CLIENT;
        } else {
            return;
        }
        size_t n = (size_t)(h->count - h->offset);
        bool stop = false;
        size_t used = n;
        if (cb->stream_data) {
            pw_cursor hc = pw_cur((const uint8_t *)h->data, n);
            const uint8_t *p = pw_cur_view(&hc, n);
            used = cb->stream_data(cb->arg, u, dir, p, n, g_nids.cur, &stop);
        }
        if (used > n)
            used = n;
        nids_discard(a, (int)used);
        if (n - used > MAX_UNCONSUMED)
            stop = true;
        if (stop) {
            a->client.collect = 0;
            a->server.collect = 0;
            close_user(param, PW_STREAM_CLOSED);
            /* libnids now forgets the stream: its later segments must not
             * look like a connection caught mid-stream */
            if (g_nids.cur)
                pw_tcp6_ignore(&cap->tcp6, g_nids.cur);
        }
        return;
    }
    case NIDS_CLOSE:
        close_user(param, PW_STREAM_CLOSED);
        return;
    case NIDS_RESET:
        close_user(param, PW_STREAM_RESET);
        return;
    case NIDS_TIMED_OUT:
        close_user(param, PW_STREAM_TIMED_OUT);
        return;
    case NIDS_EXITING:
    default:
        close_user(param, PW_STREAM_EXITING);
        return;
    }
}

static bool nids_start(pw_cap *cap)
{
    cap->dead = pcap_open_dead(DLT_RAW, 65535);
    if (!cap->dead)
        return false;
    nids_params.pcap_desc = cap->dead;
    nids_params.filename = NULL;
    nids_params.device = NULL;
    nids_params.pcap_filter = NULL;
    nids_params.n_tcp_streams = cap->opts && cap->opts->tcp_streams > 0
                                    ? cap->opts->tcp_streams
                                    : PW_DEFAULT_TCP_STREAMS;
    nids_params.scan_num_hosts = 0;
    nids_params.syslog = nids_log;
    nids_params.syslog_level = 0;
    nids_params.no_mem = nids_nomem;
    nids_params.tcp_workarounds = 1;
    nids_params.multiproc = 0;
    nids_params.one_loop_less = 0;
    g_nids.cap = cap;
    g_nids.cur = NULL;
    g_nids.logged = 0;
    pw_nids_hash_seed();
    if (!nids_init()) {
        snprintf(cap->info->error, sizeof cap->info->error, "%s: libnids: %s", cap->path,
                 nids_errbuf);
        g_nids.cap = NULL;
        pcap_close(cap->dead);
        cap->dead = NULL;
        return false;
    }
    static struct nids_chksum_ctl nocheck = {0, 0, NIDS_DONT_CHKSUM, 0};
    nids_register_chksum_ctl(&nocheck, 1);
    nids_register_tcp(nids_tcp);
    cap->nids_on = true;
    return true;
}

static void nids_stop(pw_cap *cap)
{
    if (cap->nids_on) {
        g_nids.cur = NULL;
        nids_exit(); /* NIDS_EXITING for every open stream */
        /* the next nids_init() forgets registered callbacks without freeing them */
        nids_unregister_tcp(nids_tcp);
        cap->nids_on = false;
    }
    if (cap->dead) {
        pcap_close(cap->dead);
        cap->dead = NULL;
    }
    nids_params.pcap_desc = NULL;
    if (g_nids.cap == cap)
        g_nids.cap = NULL;
}

/* Whether libnids has a stream of pkt's 4-tuple, in either orientation. */
static bool nids_has_stream(const pw_pkt *pkt)
{
    struct tuple4 t;
    memset(&t, 0, sizeof t);
    memcpy(&t.saddr, pkt->src.b, 4);
    memcpy(&t.daddr, pkt->dst.b, 4);
    t.source = pkt->sport;
    t.dest = pkt->dport;
    if (nids_find_tcp_stream(&t))
        return true;
    struct tuple4 r = {.source = t.dest, .dest = t.source, .saddr = t.daddr, .daddr = t.saddr};
    return nids_find_tcp_stream(&r) != NULL;
}

/* Whether libnids follows pkt's connection (in either orientation): only
 * flows it does not know go to the shim as mid-stream candidates. */
static bool nids_knows(const pw_pkt *pkt)
{
    return nids_has_stream(pkt) ||
           (g_nids.cap && pw_gate_holds(&g_nids.cap->gate, pkt)); /* libnids' once it carries something */
}

static struct timeval nids_time(pw_usec ts)
{
    struct timeval tv;
    tv.tv_sec = (time_t)(ts / PW_USEC_PER_SEC);
    tv.tv_usec = (suseconds_t)(ts % PW_USEC_PER_SEC);
    if (tv.tv_usec < 0) {
        tv.tv_sec--;
        tv.tv_usec += PW_USEC_PER_SEC;
    }
    return tv;
}

/* Bare IPv4 to libnids (through the DLT_RAW descriptor); cur is the packet
 * being read, for the callbacks. */
static void nids_feed(pw_cap *cap, const uint8_t *ip, uint32_t len, pw_usec ts, const pw_pkt *cur)
{
    struct pcap_pkthdr h;
    h.ts = nids_time(ts);
    h.caplen = h.len = len;
    g_nids.cur = cur;
    g_nids.cap = cap;
    nids_pcap_handler(NULL, &h, (u_char *)(uintptr_t)ip);
    g_nids.cur = NULL;
}

/* What libnids does first with every packet, for one the gate keeps. */
static void nids_tick(pw_cap *cap, pw_usec ts, const pw_pkt *cur)
{
    if (!nids_tcp_timeouts)
        return;
    struct timeval tv = nids_time(ts);
    g_nids.cur = cur;
    g_nids.cap = cap;
    tcp_check_timeouts(&tv);
    g_nids.cur = NULL;
}

/* An IPv4 TCP segment to libnids, through the gate (handshake_gate.h): a
 * handshake waits there until its connection sends something else. */
static void to_nids(pw_cap *cap, const pw_pkt *pkt, pw_usec ts)
{
    pw_gate_release rel = {0};
    /* A SYN of a 4-tuple libnids still has a stream of (a port reused
     * before the old connection was seen to end) goes to that stream, which
     * ignores it: libnids makes no new stream, so the gate may not either. */
    bool syn = (pkt->tcp_flags & (PW_TH_SYN | PW_TH_ACK | PW_TH_RST | PW_TH_FIN)) == PW_TH_SYN;
    pw_gate_verdict v = syn && nids_has_stream(pkt)
                            ? PW_GATE_PASS
                            : pw_gate_offer(&cap->gate, pkt, cap->dec.ip4, cap->dec.ip4_len, ts, &rel);
    switch (v) {
    case PW_GATE_ESTABLISHED:
        cap->info->tcp_streams++; /* as libnids' callback would on this ACK */
        nids_tick(cap, ts, pkt);
        return;
    case PW_GATE_HELD:
        nids_tick(cap, ts, pkt);
        return;
    case PW_GATE_PASS:
        break;
    }
    /* What the held packets make libnids do (open the stream) is this
     * packet's doing: the callbacks get it, after packet() saw it. */
    g_nids.replaying = rel.n == 3; /* the gate counted the stream at its ACK */
    for (int i = 0; i < rel.n; i++)
        nids_feed(cap, rel.pkt[i]->ip, rel.pkt[i]->len, rel.pkt[i]->ts, pkt);
    g_nids.replaying = false;
    nids_feed(cap, cap->dec.ip4, cap->dec.ip4_len, ts, pkt);
}

/* ---- the per-record path, shared by files, live capture and the fuzzer ---- */

bool pw_cap_begin(pw_cap *cap, const char *path, uint32_t source, int dlt,
                  const pw_capture_opts *opts, const pw_capture_cb *cb, pw_input_info *info)
{
    memset(cap, 0, sizeof *cap);
    cap->path = path;
    cap->source = source;
    cap->dlt = dlt;
    cap->opts = opts;
    cap->cb = cb;
    cap->info = info;
    pw_decoder_init(&cap->dec);
    pw_tcp6_init(&cap->tcp6, cb, source);
    return nids_start(cap);
}

void pw_cap_new_file(pw_cap *cap, uint32_t source)
{
    cap->source = source;
    cap->tcp6.source = source;
    cap->frame = 0;
}

/* The out-of-memory policy (HACKING.md): reassembly state that cannot be
 * allocated drops its datagram or stream, reading goes on, and the input
 * ends with an error naming the first frame affected. */
static void report_nomem(pw_cap *cap)
{
    if (!cap->nomem_frame || cap->info->error[0])
        return;
    snprintf(cap->info->error, sizeof cap->info->error,
             "%s: out of memory from frame %llu on (%llu IP fragment reassemblies and %llu IPv6 TCP "
             "streams dropped)",
             cap->path, (unsigned long long)cap->nomem_frame, (unsigned long long)cap->dec.frag.nomem,
             (unsigned long long)cap->tcp6.nomem);
}

void pw_cap_end(pw_cap *cap)
{
    pw_decoder_free(&cap->dec);
    cap->info->errors[PW_DERR_FRAGMENT] += pw_decoder_take_frag_errors(&cap->dec);
    nids_stop(cap);
    pw_tcp6_exit(&cap->tcp6);
    cap->info->tcp_streams += cap->tcp6.opened;
    cap->info->midstream_streams += cap->tcp6.midstream;
    cap->info->shim_evicted += cap->tcp6.evicted;
    cap->info->shim_buffer_full += cap->tcp6.buffer_full;
    cap->info->syn_gate_replaced += cap->gate.replaced;
    cap->info->handshakes_forgotten += cap->gate.forgotten;
    pw_gate_free(&cap->gate);
    cap->tcp6.opened = cap->tcp6.midstream = cap->tcp6.evicted = cap->tcp6.buffer_full = 0;
    report_nomem(cap);
}

/* One record: decode, the packet callback, TCP reassembly. */
static void record(pw_cap *cap, pw_usec ts, uint32_t caplen, uint32_t wirelen, const uint8_t *data,
                   bool matched)
{
    pw_input_info *info = cap->info;
    cap->frame++;
    info->packets++;
    info->bytes += caplen;
    if (info->packets == 1)
        info->first_ts = ts;
    info->last_ts = ts;
    if (!matched)
        return;
    if (wirelen < caplen)
        wirelen = caplen;
    pw_pkt pkt;
    int r = pw_decode(&cap->dec, cap->dlt, data, caplen, wirelen, ts, &pkt);
    if (cap->dec.frag_errors)
        info->errors[PW_DERR_FRAGMENT] += pw_decoder_take_frag_errors(&cap->dec);
    int e = r == PW_DEC_ERROR ? cap->dec.err : cap->dec.soft_err;
    if (e >= 0 && (r == PW_DEC_ERROR || r == PW_DEC_PKT)) {
        if (e >= PW_DERR_COUNT)
            e = PW_DERR_BAD_HEADER;
        info->errors[e]++;
        if (cap->warned[e] < WARN_PER_CLASS) {
            cap->warned[e]++;
            pw_warn("%s: frame %llu: %s%s", cap->path, (unsigned long long)cap->frame,
                    cap->dec.why ? cap->dec.why : pw_decode_err_names[e],
                    cap->warned[e] == WARN_PER_CLASS ? " (further such errors only counted)" : "");
        }
    }
    switch (r) {
    case PW_DEC_PKT:
        break;
    case PW_DEC_HELD:
        info->decoded++;
        return;
    case PW_DEC_NONIP:
        info->non_ip++;
        return;
    default:
        return;
    }

    pkt.source = cap->source;
    pkt.frame = cap->frame;
    info->decoded++;
    if (cap->cb->packet)
        cap->cb->packet(cap->cb->arg, &pkt);
    if (pkt.proto != PW_IPPROTO_TCP)
        return;
    if (pkt.src.family == 4) {
        g_nids.claimed = false;
        if (cap->nids_on && cap->dec.ip4 && !pw_tcp6_owns(&cap->tcp6, &pkt))
            to_nids(cap, &pkt, ts);
        /* What libnids does not follow may be a connection caught mid-stream
         * (payload), or the end of one the shim follows (FIN/RST).  A segment
         * libnids just delivered (or closed) is its own. */
        bool ends = (pkt.tcp_flags & (PW_TH_FIN | PW_TH_RST)) && cap->tcp6.count;
        if ((pkt.payload_len || ends) && !g_nids.claimed)
            pw_tcp6_packet(&cap->tcp6, &pkt, false, cap->nids_on ? nids_knows : NULL);
    } else {
        pw_tcp6_packet(&cap->tcp6, &pkt, true, NULL);
    }
}

void pw_cap_record(pw_cap *cap, pw_usec ts, uint32_t caplen, uint32_t wirelen,
                   const uint8_t *data, bool matched)
{
    record(cap, ts, caplen, wirelen, data, matched);
    if (!cap->nomem_frame && (cap->dec.frag.nomem || cap->tcp6.nomem))
        cap->nomem_frame = cap->frame;
}

pw_usec pw_cap_ts(const struct pcap_pkthdr *h)
{
    return (pw_usec)h->ts.tv_sec * PW_USEC_PER_SEC + (pw_usec)h->ts.tv_usec;
}

/* ---- files: a reader thread ----
 *
 * A reader thread runs the libpcap loop (pcap_next_ex, and the BPF via
 * pcap_offline_filter) and copies each record into large batches; the
 * calling thread takes the batches in order and runs pw_cap_record on every
 * record, so decode, libnids and all callbacks stay on the calling thread,
 * in file order.  Frame numbers count every record (a record the BPF
 * rejected is still in the batch, header only).  The reader stops at the
 * end of the input or at the first read error; the error's text and byte
 * offset travel with the last batch and are reported after the records read
 * before it.  If the thread cannot be started the same batches are filled
 * on the calling thread.
 *
 * The ring starts NBATCH_START batches deep.  Where the records are large
 * and cheap to analyse (bulk data of flows nobody dissects), the reader's
 * two copies of each byte take longer than the analysis; a few such
 * stretches in a row leave the calling thread waiting, and each time that
 * happened STARVED_GROW times the ring grows by NBATCH_START batches, up to
 * NBATCH_MAX (8 MiB: the real-mix bench waited 450 times, 6 % of its run,
 * at 2 MiB, and once at 8 MiB).  A run whose analysis is the slower side
 * never waits and keeps the 2 MiB. */

#define BATCH_BYTES (256 * 1024)
#define NBATCH_START 8
#define NBATCH_MAX 32
#define STARVED_GROW 16
/* libpcap reads a file record by record with fread: with stdio's default
 * buffer (one page) that is a read() system call every few records. */
#define IOBUF_BYTES ((size_t)1 << 20)

typedef struct rec_hdr {
    pw_usec ts;
    uint32_t caplen, len;
    uint32_t stored;  /* data bytes that follow, 0 when the BPF rejected the record */
    uint32_t matched; /* the BPF accepted it (or there is none) */
    int32_t dlt;      /* this record's link type */
    uint32_t pad_;
} rec_hdr;            /* then the data, padded to a multiple of 8 */

/* A record as a source hands it over (its bytes belong to the source until
 * its next read). */
typedef struct src_rec {
    pw_usec ts;
    uint32_t caplen, len;
    int dlt;
    const uint8_t *data;
    bool matched;
} src_rec;

/* The trailing BPF compiled once per link type met in a wiretap-read file. */
#define MAX_FILTER_DLTS 16
typedef struct dlt_filter {
    int dlt;
    bool ok; /* compiled; false: the expression does not apply to this link type */
    struct bpf_program prog;
} dlt_filter;

enum { END_NONE = 0, END_EOF, END_ERROR, END_NOMEM };

typedef struct batch {
    uint8_t *buf;     /* allocated once per file (grown only for a record larger than it) */
    size_t cap, used;
    long pos;         /* file position after the batch (progress line), -1 if unknown */
    int end;          /* END_*: set on the last batch of the input */
    bool switched;    /* the reader moved to libwiretap during this batch */
} batch;

typedef struct reader {
    pcap_t *p;                      /* NULL when the file is read with libwiretap only */
    int dlt;                        /* libpcap's link type for the whole file */
    const struct bpf_program *prog; /* NULL: every record matches */
    bool want_pos;
    uint64_t counted; /* classic pcap: file header, then 16 + caplen per record */
    uint64_t npcap;   /* records libpcap returned */
    /* libwiretap: the file (from the start, or after libpcap refused it midway) */
    const char *path; /* NULL for stdin, which cannot be reopened */
    pw_wtap *w;
    const char *bpf;  /* the expression, compiled per link type into filters */
    dlt_filter filters[MAX_FILTER_DLTS];
    int nfilters;
    char linktype[32]; /* set when switching to libwiretap midway */
    /* a record read but not yet copied (it did not fit in the last batch);
     * the source's pointers stay valid until its next read */
    src_rec pend;
    bool pending;
    /* END_ERROR details, written before the last batch is published */
    unsigned long long err_off;
    char err_msg[PCAP_ERRBUF_SIZE];
    batch b[NBATCH_MAX];
    /* ring of `depth` batches: b[rd] .. b[rd + nfull - 1] are full (the
     * consumer owns b[rd] while it works on it); the reader fills b[wr].
     * The indexes move and the depth changes only under mu, the depth only
     * while the ring is empty (rd == wr then, whatever the reader is doing). */
    pthread_mutex_t mu;
    pthread_cond_t full_cv, free_cv;
    unsigned nfull, rd, wr, depth;
    unsigned taken;   /* batches the consumer has taken (up to 2) */
    unsigned starved; /* times since the last growth it found the ring empty */
    bool quit;
    bool reader_waiting; /* the reader found the ring full and sleeps */
    bool threaded;
    pthread_t thread;
    char *iobuf; /* the file's stdio buffer (see IOBUF_BYTES) */
    /* classic pcap read without libpcap until a record it must judge */
    pw_pcapfile fast;
    bool fast_on;
} reader;

static size_t rec_size(uint32_t stored)
{
    return sizeof(rec_hdr) + (((size_t)stored + 7) & ~(size_t)7);
}

/* 1 = copied, 0 = does not fit (the batch has records), -1 = out of memory */
static int put_rec(batch *b, const src_rec *h)
{
    uint32_t stored = h->matched ? h->caplen : 0;
    size_t need = rec_size(stored);
    if (b->cap - b->used < need) {
        if (b->used)
            return 0;
        /* a record larger than an empty batch: grow this batch once */
        size_t ncap = (need + BATCH_BYTES - 1) / BATCH_BYTES * BATCH_BYTES;
        uint8_t *nb = realloc(b->buf, ncap);
        if (!nb)
            return -1;
        b->buf = nb;
        b->cap = ncap;
    }
    rec_hdr *rh = (rec_hdr *)(void *)(b->buf + b->used);
    rh->ts = h->ts;
    rh->caplen = h->caplen;
    rh->len = h->len;
    rh->stored = stored;
    rh->matched = h->matched;
    rh->dlt = h->dlt;
    rh->pad_ = 0;
    if (stored)
        memcpy(rh + 1, h->data, stored);
    b->used += need;
    return 1;
}

/* The compiled filter for a link type (wiretap records carry their own);
 * NULL when the expression cannot apply to it (such records never match). */
static const struct bpf_program *filter_for(reader *r, int dlt)
{
    for (int i = 0; i < r->nfilters; i++)
        if (r->filters[i].dlt == dlt)
            return r->filters[i].ok ? &r->filters[i].prog : NULL;
    if (r->nfilters == MAX_FILTER_DLTS)
        return NULL;
    dlt_filter *f = &r->filters[r->nfilters++];
    f->dlt = dlt;
    f->ok = false;
    pcap_t *dead = pcap_open_dead(dlt, 262144);
    if (dead) {
        f->ok = pcap_compile(dead, &f->prog, r->bpf, 1, PCAP_NETMASK_UNKNOWN) == 0;
        pcap_close(dead);
    }
    return f->ok ? &f->prog : NULL;
}

static void free_filters(reader *r)
{
    for (int i = 0; i < r->nfilters; i++)
        if (r->filters[i].ok)
            pcap_freecode(&r->filters[i].prog);
    r->nfilters = 0;
}

/* The next wiretap record into r->pend: 1, 0 at the end, -1 on error. */
static int next_wtap(reader *r)
{
    pw_wtap_rec wr;
    int rc = pw_wtap_next(r->w, &wr, r->err_msg, sizeof r->err_msg);
    if (rc <= 0) {
        if (rc < 0)
            r->err_off = (unsigned long long)pw_wtap_offset(r->w);
        return rc;
    }
    src_rec *h = &r->pend;
    h->ts = wr.ts;
    h->caplen = wr.caplen;
    h->len = wr.len;
    h->dlt = wr.dlt;
    h->data = wr.data;
    if (!wr.packet || wr.dlt < 0) {
        h->matched = wr.packet; /* a packet of a link type with no DLT: counted as unsupported */
    } else if (!r->bpf) {
        h->matched = true;
    } else {
        const struct bpf_program *prog = filter_for(r, wr.dlt);
        struct pcap_pkthdr ph;
        memset(&ph, 0, sizeof ph);
        ph.caplen = wr.caplen;
        ph.len = wr.len;
        h->matched = prog && pcap_offline_filter(prog, &ph, wr.data) != 0;
    }
    r->pending = true;
    return 1;
}

/* libpcap refused the rest of a pcapng file (an interface with another link
 * type or snapshot length): reopen it with libwiretap and skip the packets
 * libpcap already returned, so nothing is delivered twice and frame numbers
 * continue.  (Non-packet records before that point, which libpcap does not
 * return, are then not counted.)  false when that is not possible. */
static bool switch_to_wtap(reader *r, batch *b)
{
    const char *msg = pcap_geterr(r->p);
    if (!r->path || !strstr(msg, "different from"))
        return false;
    char err[PCAP_ERRBUF_SIZE];
    pw_wtap *w = pw_wtap_open(r->path, err, sizeof err);
    if (!w)
        return false;
    for (uint64_t skipped = 0; skipped < r->npcap;) {
        pw_wtap_rec wr;
        if (pw_wtap_next(w, &wr, err, sizeof err) <= 0) {
            pw_wtap_close(w); /* wiretap sees fewer packets: keep libpcap's error */
            return false;
        }
        skipped += wr.packet;
    }
    r->w = w;
    /* libpcap stopped because the interfaces differ: the link type is per record */
    snprintf(r->linktype, sizeof r->linktype, "PER_PACKET");
    b->switched = true;
    return true;
}

/* The next libpcap record into r->pend: 1, 0 at the end, -1 on error. */
static int next_pcap(reader *r, batch *b)
{
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc = pcap_next_ex(r->p, &h, &data);
    if (rc == 1) {
        r->counted += 16 + (uint64_t)h->caplen;
        r->npcap++;
        src_rec *s = &r->pend;
        s->ts = pw_cap_ts(h);
        s->caplen = h->caplen;
        s->len = h->len;
        s->dlt = r->dlt;
        s->data = data;
        s->matched = !r->prog || pcap_offline_filter(r->prog, h, data) != 0;
        r->pending = true;
        return 1;
    }
    if (rc == PCAP_ERROR_BREAK)
        return 0; /* end of file */
    if (switch_to_wtap(r, b))
        return next_wtap(r);
    /* PCAP_ERROR: truncated or corrupt record */
    /* classic pcap: where the broken record starts (counted exactly);
     * pcapng (block sizes vary): where libpcap stopped reading */
    long pos = pcap_major_version(r->p) == 2 ? -1 : ftell(pcap_file(r->p));
    r->err_off = pos >= 0 ? (unsigned long long)pos : (unsigned long long)r->counted;
    snprintf(r->err_msg, sizeof r->err_msg, "%s", pcap_geterr(r->p));
    return -1;
}

/* The next record of a classic pcap read directly (pcapfile.h), into
 * r->pend; at a record libpcap must judge, libpcap reads on from there. */
static int next_fast(reader *r, batch *b)
{
    src_rec *s = &r->pend;
    int rc = pw_pcapfile_next(&r->fast, &s->ts, &s->caplen, &s->len, &s->data);
    if (rc < 0) {
        r->fast_on = false;
        if (fseeko(pcap_file(r->p), (off_t)pw_pcapfile_offset(&r->fast), SEEK_SET) != 0) {
            r->err_off = (unsigned long long)pw_pcapfile_offset(&r->fast);
            snprintf(r->err_msg, sizeof r->err_msg, "cannot seek: %s", strerror(errno));
            return -1;
        }
        return next_pcap(r, b);
    }
    if (rc == 0)
        return 0;
    r->counted += 16 + (uint64_t)s->caplen;
    r->npcap++;
    s->dlt = r->dlt;
    s->matched = true;
    if (r->prog) {
        struct pcap_pkthdr h;
        memset(&h, 0, sizeof h);
        h.caplen = s->caplen;
        h.len = s->len;
        s->matched = pcap_offline_filter(r->prog, &h, s->data) != 0;
    }
    r->pending = true;
    return 1;
}

/* Fills b with records until it is full or the input ends (b->end). */
static void fill(reader *r, batch *b)
{
    b->used = 0;
    b->end = END_NONE;
    b->pos = -1;
    b->switched = false;
    if (!b->buf) {
        b->buf = malloc(BATCH_BYTES);
        if (!b->buf) {
            b->end = END_NOMEM;
            return;
        }
        b->cap = BATCH_BYTES;
    }
    for (;;) {
        if (r->pending) {
            int k = put_rec(b, &r->pend);
            if (k == 0)
                break; /* batch full: the record starts the next one */
            r->pending = false;
            if (k < 0) {
                b->end = END_NOMEM;
                return;
            }
        }
        int rc = r->w ? next_wtap(r) : r->fast_on ? next_fast(r, b) : next_pcap(r, b);
        if (rc == 1)
            continue;
        b->end = rc == 0 ? END_EOF : END_ERROR;
        break;
    }
    if (r->want_pos)
        b->pos = r->w ? (long)pw_wtap_offset(r->w)
                 : r->fast_on ? (long)pw_pcapfile_offset(&r->fast) : ftell(pcap_file(r->p));
}

static void *reader_main(void *arg)
{
    reader *r = arg;
    for (;;) {
        /* A full ring: sleep until half of it is free, so that a consumer
         * slower than the disk wakes this thread once per half ring, not
         * at every batch. */
        pthread_mutex_lock(&r->mu);
        if (r->nfull >= r->depth) {
            r->reader_waiting = true;
            while (r->nfull > r->depth / 2 && !r->quit)
                pthread_cond_wait(&r->free_cv, &r->mu);
            r->reader_waiting = false;
        }
        bool quit = r->quit;
        unsigned w = r->wr;
        pthread_mutex_unlock(&r->mu);
        if (quit)
            break;
        batch *b = &r->b[w];
        fill(r, b);
        pthread_mutex_lock(&r->mu);
        r->wr = (w + 1) % r->depth;
        r->nfull++;
        pthread_cond_signal(&r->full_cv);
        pthread_mutex_unlock(&r->mu);
        if (b->end)
            break;
    }
    return NULL;
}

static bool reader_start(reader *r)
{
    if (pthread_mutex_init(&r->mu, NULL) != 0)
        return false;
    if (pthread_cond_init(&r->full_cv, NULL) != 0) {
        pthread_mutex_destroy(&r->mu);
        return false;
    }
    if (pthread_cond_init(&r->free_cv, NULL) != 0) {
        pthread_cond_destroy(&r->full_cv);
        pthread_mutex_destroy(&r->mu);
        return false;
    }
    /* signals (SIGINT -> pw_capture_stop) stay with the calling thread */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    int e = pthread_create(&t, NULL, reader_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        pthread_cond_destroy(&r->free_cv);
        pthread_cond_destroy(&r->full_cv);
        pthread_mutex_destroy(&r->mu);
        return false;
    }
    r->thread = t;
    r->threaded = true;
    return true;
}

/* The next batch in file order (its records are the consumer's until release). */
static batch *take_batch(reader *r)
{
    if (!r->threaded) {
        fill(r, &r->b[0]);
        return &r->b[0];
    }
    pthread_mutex_lock(&r->mu);
    if (r->nfull == 0 && r->taken > 1 && ++r->starved == STARVED_GROW && r->depth < NBATCH_MAX) {
        r->depth += NBATCH_START;
        r->starved = 0;
        pw_debug("reading ahead %u batches of %u KiB (analysis waited for the reader)", r->depth,
                 BATCH_BYTES >> 10);
    }
    while (r->nfull == 0)
        pthread_cond_wait(&r->full_cv, &r->mu);
    if (r->taken < 2)
        r->taken++;
    pthread_mutex_unlock(&r->mu);
    return &r->b[r->rd];
}

static void release_batch(reader *r)
{
    if (!r->threaded)
        return;
    pthread_mutex_lock(&r->mu);
    r->nfull--;
    r->rd = (r->rd + 1) % r->depth;
    if (r->reader_waiting && r->nfull <= r->depth / 2)
        pthread_cond_signal(&r->free_cv);
    pthread_mutex_unlock(&r->mu);
}

/* Stops and joins the reader (wherever it is) and frees the batches. */
static void reader_finish(reader *r)
{
    if (r->threaded) {
        pthread_mutex_lock(&r->mu);
        r->quit = true;
        pthread_cond_signal(&r->free_cv);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL);
        pthread_cond_destroy(&r->free_cv);
        pthread_cond_destroy(&r->full_cv);
        pthread_mutex_destroy(&r->mu);
        r->threaded = false;
    }
    for (int i = 0; i < NBATCH_MAX; i++) {
        free(r->b[i].buf);
        r->b[i].buf = NULL;
    }
}

/* ---- files ---- */

static void progress(pw_cap *cap, long pos, off_t size, bool final)
{
    if (final) {
        fputs("\r\033[K", stderr);
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec == cap->progress_sec)
        return;
    cap->progress_sec = now.tv_sec;
    cap->progress_shown = true;
    if (size > 0 && pos >= 0)
        fprintf(stderr, "\r%s: %llu packets (%d%%)", cap->path,
                (unsigned long long)cap->info->packets, (int)(100.0 * (double)pos / (double)size));
    else
        fprintf(stderr, "\r%s: %llu packets", cap->path, (unsigned long long)cap->info->packets);
}

void pw_cap_info_reset(pw_input_info *info, const char *path)
{
    memset(info, 0, sizeof *info);
    snprintf(info->path, sizeof info->path, "%s", path);
}

void pw_cap_set_linktype(pw_input_info *info, int dlt)
{
    const char *name = pcap_datalink_val_to_name(dlt);
    if (name)
        snprintf(info->linktype, sizeof info->linktype, "%s", name);
    else
        snprintf(info->linktype, sizeof info->linktype, "DLT_%d", dlt);
}

/* Opens path with libpcap, or with libwiretap when libpcap refuses it
 * (gzip, Network Monitor, ...).  Fills rd->p or rd->w, rd->dlt and the
 * input's link type; false with info->error set. */
static bool open_input(reader *rd, const char *path, FILE *fp, bool is_stdin, off_t size,
                       pw_input_info *info)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    rd->p = pcap_fopen_offline(fp, errbuf);
    if (rd->p) {
        rd->dlt = pcap_datalink(rd->p);
        pw_cap_set_linktype(info, rd->dlt);
        if (!pw_decode_dlt_supported(rd->dlt)) {
            snprintf(info->error, sizeof info->error, "%s: unsupported link type %s (DLT %d)",
                     path, info->linktype, rd->dlt);
            return false;
        }
        return true;
    }
    if (!is_stdin)
        fclose(fp);
    /* an empty file is no capture, although wiretap's ERF heuristic takes it */
    char werr[PCAP_ERRBUF_SIZE] = "";
    snprintf(werr, sizeof werr, "%s", is_stdin ? "stdin cannot be reopened" : "empty file");
    rd->w = is_stdin || size == 0 ? NULL : pw_wtap_open(path, werr, sizeof werr);
    if (!rd->w) {
        snprintf(info->error, sizeof info->error, "%s: not a capture file (%.160s; wiretap: %.160s)", path,
                 errbuf, werr);
        return false;
    }
    rd->dlt = pw_wtap_file_dlt(rd->w);
    if (rd->dlt >= 0)
        pw_cap_set_linktype(info, rd->dlt);
    else
        snprintf(info->linktype, sizeof info->linktype, "PER_PACKET");
    pw_debug("%s: read with libwiretap (%s)", path, pw_wtap_format(rd->w));
    return true;
}

static void close_input(reader *rd)
{
    free_filters(rd);
    if (rd->w)
        pw_wtap_close(rd->w);
    rd->w = NULL;
    if (rd->p)
        pcap_close(rd->p); /* closes the FILE (also stdin) */
    rd->p = NULL;
    free(rd->iobuf); /* the FILE using it is closed */
    rd->iobuf = NULL;
    if (rd->fast_on || rd->fast.buf)
        pw_pcapfile_close(&rd->fast);
    rd->fast_on = false;
}

/* Compiles the trailing filter: against the libpcap handle, or (wiretap)
 * once for the file's link type to report a bad expression up front; the
 * per-record link types compile lazily (filter_for). */
static bool compile_filter(reader *rd, struct bpf_program *prog, const char *bpf, const char *path,
                           pw_input_info *info)
{
    if (rd->p) {
        if (pcap_compile(rd->p, prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            snprintf(info->error, sizeof info->error, "%s: bad filter \"%s\": %s", path, bpf,
                     pcap_geterr(rd->p));
            return false;
        }
        rd->prog = prog;
        return true;
    }
    pcap_t *dead = pcap_open_dead(rd->dlt >= 0 ? rd->dlt : DLT_EN10MB, 262144);
    bool ok = dead && pcap_compile(dead, prog, bpf, 1, PCAP_NETMASK_UNKNOWN) == 0;
    if (!ok)
        snprintf(info->error, sizeof info->error, "%s: bad filter \"%s\": %s", path, bpf,
                 dead ? pcap_geterr(dead) : "cannot compile");
    else
        pcap_freecode(prog);
    if (dead)
        pcap_close(dead);
    return ok;
}

int pw_capture_file(const char *path, uint32_t source, const pw_capture_opts *opts,
                    const pw_capture_cb *cb, pw_input_info *info)
{
    pw_cap_info_reset(info, path);
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *fp = is_stdin ? stdin : fopen(path, "rb");
    if (!fp) {
        snprintf(info->error, sizeof info->error, "%s: cannot open: %s", path, strerror(errno));
        return 1;
    }
    off_t size = -1;
    struct stat st;
    if (!is_stdin && fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode))
        size = st.st_size;
    reader *rd = calloc(1, sizeof *rd);
    if (!rd) {
        if (!is_stdin)
            fclose(fp);
        snprintf(info->error, sizeof info->error, "%s: out of memory", path);
        return 1;
    }
    rd->path = is_stdin ? NULL : path;
    if (!is_stdin && (rd->iobuf = malloc(IOBUF_BYTES)) != NULL)
        setvbuf(fp, rd->iobuf, _IOFBF, IOBUF_BYTES);
    struct bpf_program prog;
    const char *bpf = opts && opts->bpf && *opts->bpf ? opts->bpf : NULL;
    rd->bpf = bpf;
    pw_cap *cap = NULL;
    if (!open_input(rd, path, fp, is_stdin, size, info) ||
        (bpf && !compile_filter(rd, &prog, bpf, path, info))) {
        close_input(rd);
        free(rd);
        return 1;
    }
    cap = malloc(sizeof *cap);
    if (!cap || !pw_cap_begin(cap, path, source, rd->dlt, opts, cb, info)) {
        if (cap && !info->error[0])
            snprintf(info->error, sizeof info->error, "%s: cannot start TCP reassembly", path);
        else if (!info->error[0])
            snprintf(info->error, sizeof info->error, "%s: out of memory", path);
        free(cap);
        if (rd->prog)
            pcap_freecode(&prog);
        close_input(rd);
        free(rd);
        return 1;
    }
    bool show = opts && opts->progress && isatty(2);
    rd->want_pos = show && size > 0;
    rd->fast_on = rd->p && !is_stdin && pw_pcapfile_open(&rd->fast, fileno(fp), rd->dlt);
    rd->counted = 24;
    rd->depth = NBATCH_START;
    reader_start(rd); /* when it cannot start, take_batch reads on this thread */
    int rc = 0;
    for (bool more = true; more;) {
        batch *b = take_batch(rd);
        if (b->switched) /* the rest of the file is read with libwiretap */
            snprintf(info->linktype, sizeof info->linktype, "%s", rd->linktype);
        size_t off = 0;
        while (off < b->used) {
            const rec_hdr *rh = (const rec_hdr *)(const void *)(b->buf + off);
            off += rec_size(rh->stored);
            /* the reader thread wrote the next record on the other core:
             * its header and first bytes start coming over now */
            if (off < b->used) {
                __builtin_prefetch(b->buf + off);
                __builtin_prefetch(b->buf + off + 64);
                __builtin_prefetch(b->buf + off + 128);
                if (off + 2048 < b->used) /* and what follows it, a little further on */
                    for (int k = 0; k < 4; k++)
                        __builtin_prefetch(b->buf + off + 1024 + 64 * k);
            }
            cap->dlt = rh->dlt;
            pw_cap_record(cap, rh->ts, rh->caplen, rh->len, (const uint8_t *)(rh + 1),
                          rh->matched != 0);
            if (show && (cap->frame & 0xffff) == 0)
                progress(cap, b->pos, size, false);
            if (g_stop) { /* interrupted: report what was read */
                snprintf(info->error, sizeof info->error, "%s: interrupted after frame %llu", path,
                         (unsigned long long)cap->frame);
                rc = 1;
                more = false;
                break;
            }
        }
        if (more && b->end != END_NONE) {
            more = false;
            if (b->end == END_ERROR) {
                const char *msg = rd->err_msg;
                snprintf(info->error, sizeof info->error,
                         "%s: %s at byte %llu, after frame %llu (%s)", path,
                         strstr(msg, "truncated") || strstr(msg, "cut short") ? "truncated record"
                                                                              : "unreadable record",
                         rd->err_off, (unsigned long long)cap->frame, msg);
                rc = 1;
            } else if (b->end == END_NOMEM) {
                snprintf(info->error, sizeof info->error, "%s: out of memory after frame %llu",
                         path, (unsigned long long)cap->frame);
                rc = 1;
            }
        }
        release_batch(rd);
    }
    reader_finish(rd);
    if (cap->progress_shown)
        progress(cap, -1, size, true);
    pw_cap_end(cap);
    free(cap);
    if (info->error[0])
        rc = 1; /* also reassembly state dropped for want of memory */
    if (rd->prog)
        pcap_freecode(&prog);
    close_input(rd);
    free(rd);
    return rc;
}
