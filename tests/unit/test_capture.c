/* test_capture.c - pw_capture_file end to end: pcap/pcapng files written
 * here from byte arrays, frame numbering with BPF, bad files, libnids
 * stream delivery (bad checksums), the IPv6 shim, stdin, several files. */
#include <dlfcn.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../capture/capture.h"
#include "../../capture/capture_int.h"
#include "../../common/log.h"
#include "check.h"

/* ---- frame builder ---- */
typedef struct {
    uint8_t b[4096];
    size_t n;
} buf;
static void u8(buf *f, unsigned v) { f->b[f->n++] = (uint8_t)v; }
static void be16(buf *f, unsigned v) { u8(f, v >> 8); u8(f, v & 0xff); }
static void be32(buf *f, uint32_t v) { be16(f, v >> 16); be16(f, v & 0xffff); }
static void bytes(buf *f, const void *p, size_t n) { memcpy(f->b + f->n, p, n); f->n += n; }
static void zeros(buf *f, size_t n) { memset(f->b + f->n, 0, n); f->n += n; }
static void put16at(buf *f, size_t at, unsigned v) { f->b[at] = (uint8_t)(v >> 8); f->b[at + 1] = (uint8_t)v; }

/* Ethernet + IPv4 (bad IP checksum) + TCP (bad checksum) */
static buf tcp4(unsigned src, unsigned dst, unsigned sp, unsigned dp, uint32_t seq, uint32_t ack,
                unsigned flags, const char *data)
{
    buf f = {.n = 0};
    zeros(&f, 12);
    be16(&f, 0x0800);
    size_t at = f.n;
    u8(&f, 0x45); u8(&f, 0); be16(&f, 0); be16(&f, 1); be16(&f, 0x4000); u8(&f, 64); u8(&f, 6);
    be16(&f, 0x1234);
    u8(&f, 10); u8(&f, 0); u8(&f, 0); u8(&f, src);
    u8(&f, 10); u8(&f, 0); u8(&f, 0); u8(&f, dst);
    be16(&f, sp); be16(&f, dp); be32(&f, seq); be32(&f, ack); u8(&f, 0x50); u8(&f, flags);
    be16(&f, 65535); be16(&f, 0x5555); be16(&f, 0);
    if (data)
        bytes(&f, data, strlen(data));
    put16at(&f, at + 2, (unsigned)(f.n - at));
    return f;
}

static buf udp4(unsigned src, unsigned dst, unsigned sp, unsigned dp)
{
    buf f = {.n = 0};
    zeros(&f, 12);
    be16(&f, 0x0800);
    u8(&f, 0x45); u8(&f, 0); be16(&f, 28); be16(&f, 1); be16(&f, 0); u8(&f, 64); u8(&f, 17);
    be16(&f, 0);
    u8(&f, 10); u8(&f, 0); u8(&f, 0); u8(&f, src);
    u8(&f, 10); u8(&f, 0); u8(&f, 0); u8(&f, dst);
    be16(&f, sp); be16(&f, dp); be16(&f, 8); be16(&f, 0);
    return f;
}

static buf arp(void)
{
    buf f = {.n = 0};
    zeros(&f, 12);
    be16(&f, 0x0806);
    zeros(&f, 28);
    return f;
}

static buf tcp6(unsigned src, unsigned dst, unsigned sp, unsigned dp, uint32_t seq, uint32_t ack,
                unsigned flags, const char *data)
{
    buf f = {.n = 0};
    zeros(&f, 12);
    be16(&f, 0x86DD);
    size_t at = f.n;
    be32(&f, 0x60000000); be16(&f, 0); u8(&f, 6); u8(&f, 64);
    be32(&f, 0x20010db8); zeros(&f, 11); u8(&f, src);
    be32(&f, 0x20010db8); zeros(&f, 11); u8(&f, dst);
    be16(&f, sp); be16(&f, dp); be32(&f, seq); be32(&f, ack); u8(&f, 0x50); u8(&f, flags);
    be16(&f, 65535); be16(&f, 0x5555); be16(&f, 0);
    if (data)
        bytes(&f, data, strlen(data));
    put16at(&f, at + 4, (unsigned)(f.n - at - 40));
    return f;
}

/* ---- pcap / pcapng writers ---- */
static char DIR_[256];
static char *tmp(const char *name)
{
    static char p[8][512];
    static int i;
    char *s = p[i++ & 7];
    snprintf(s, 512, "%s/%s", DIR_, name);
    return s;
}

static FILE *pcap_begin(const char *path, uint32_t dlt)
{
    FILE *f = fopen(path, "wb");
    uint32_t h[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, dlt};
    fwrite(h, sizeof h, 1, f);
    return f;
}
static void pcap_rec(FILE *f, uint32_t sec, uint32_t usec, const buf *b, uint32_t caplen)
{
    uint32_t h[4] = {sec, usec, caplen, (uint32_t)b->n};
    fwrite(h, sizeof h, 1, f);
    fwrite(b->b, 1, caplen, f);
}
static void pcap_add(FILE *f, uint32_t sec, const buf *b) { pcap_rec(f, sec, 0, b, (uint32_t)b->n); }

/* An Ethernet capture of frames s[0..n), one a second from second 10. */
static void pcap_write(const char *path, const buf *s, int n)
{
    FILE *f = pcap_begin(path, DLT_EN10MB);
    for (int i = 0; i < n; i++)
        pcap_add(f, 10 + (uint32_t)i, &s[i]);
    fclose(f);
}

static void ng_block(FILE *f, uint32_t type, const void *body, uint32_t len)
{
    uint32_t tot = 12 + ((len + 3) & ~3u);
    fwrite(&type, 4, 1, f);
    fwrite(&tot, 4, 1, f);
    fwrite(body, 1, len, f);
    static const uint8_t pad[4];
    fwrite(pad, 1, ((len + 3) & ~3u) - len, f);
    fwrite(&tot, 4, 1, f);
}
static FILE *ng_begin(const char *path, uint16_t dlt)
{
    FILE *f = fopen(path, "wb");
    uint8_t shb[16];
    uint32_t bom = 0x1a2b3c4d;
    uint16_t maj = 1, min = 0;
    int64_t seclen = -1;
    memcpy(shb, &bom, 4);
    memcpy(shb + 4, &maj, 2);
    memcpy(shb + 6, &min, 2);
    memcpy(shb + 8, &seclen, 8);
    ng_block(f, 0x0A0D0D0A, shb, 16);
    uint8_t idb[8] = {0};
    uint32_t snap = 65535;
    memcpy(idb, &dlt, 2);
    memcpy(idb + 4, &snap, 4);
    ng_block(f, 1, idb, 8);
    return f;
}
static void ng_add(FILE *f, uint64_t usec, const buf *b)
{
    uint8_t body[4096 + 20];
    uint32_t v[5] = {0, (uint32_t)(usec >> 32), (uint32_t)usec, (uint32_t)b->n, (uint32_t)b->n};
    memcpy(body, v, 20);
    memcpy(body + 20, b->b, b->n);
    ng_block(f, 6, body, (uint32_t)(20 + b->n));
}

/* ---- recording callbacks ---- */
typedef struct {
    int id;
    int closes;
    char data[2][512];
    size_t dlen[2];
    bool stop_at_first;
    unsigned need_newline; /* consume only complete lines */
} strm;

static struct {
    uint64_t frames[64];
    int nframes;
    uint8_t protos[64];
    char log[4096];
    strm s[8];
    int ns;
    bool refuse;
    bool stop_next;
    int lines_mode;
    uint64_t last_pkt_frame;
} R;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = strlen(R.log);
    vsnprintf(R.log + n, sizeof R.log - n, fmt, ap);
    va_end(ap);
}

static void on_packet(void *arg, const pw_pkt *p)
{
    (void)arg;
    if (R.nframes < 64) {
        R.protos[R.nframes] = p->proto;
        R.frames[R.nframes++] = p->frame;
    }
    R.last_pkt_frame = p->frame;
}

static void *on_open(void *arg, const pw_stream_info *si, const pw_pkt *p)
{
    (void)arg;
    char c[64], s[64];
    logf_("open %s:%u>%s:%u f%llu|", pw_addr_str(&si->client, c, sizeof c), si->client_port,
          pw_addr_str(&si->server, s, sizeof s), si->server_port, (unsigned long long)p->frame);
    if (R.last_pkt_frame != p->frame)
        logf_("ORDER|");
    if (R.refuse || R.ns >= 8)
        return NULL;
    strm *m = &R.s[R.ns];
    memset(m, 0, sizeof *m);
    m->id = ++R.ns;
    m->stop_at_first = R.stop_next;
    m->need_newline = (unsigned)R.lines_mode;
    return m;
}

static size_t on_data(void *arg, void *user, int dir, const uint8_t *d, size_t n, const pw_pkt *p,
                      bool *stop)
{
    (void)arg;
    strm *m = user;
    logf_("data%d d%d f%llu %.*s|", m->id, dir, (unsigned long long)p->frame, (int)n,
          (const char *)d);
    if (R.last_pkt_frame != p->frame)
        logf_("ORDER|");
    if (m->stop_at_first) {
        *stop = true;
        return 0;
    }
    size_t used = n;
    if (m->need_newline) {
        used = 0;
        for (size_t i = 0; i < n; i++)
            if (d[i] == '\n')
                used = i + 1;
    }
    if (m->dlen[dir] + used < sizeof m->data[dir]) {
        memcpy(m->data[dir] + m->dlen[dir], d, used);
        m->dlen[dir] += used;
    }
    return used;
}

static void on_close(void *arg, void *user, int how)
{
    (void)arg;
    strm *m = user;
    m->closes++;
    logf_("close%d %d|", m->id, how);
}

static const pw_capture_cb CB = {NULL, on_packet, on_open, on_data, on_close, NULL};

static void reset(void) { memset(&R, 0, sizeof R); }

static int run(const char *path, const char *bpf, pw_input_info *info)
{
    pw_capture_opts o = {.bpf = bpf, .tcp_streams = 1024};
    return pw_capture_file(path, 3, &o, &CB, info);
}

/* Mid-stream flows: port 445 is the server, other flows are left alone. */
static int on_midstream(void *arg, const pw_pkt *p)
{
    (void)arg;
    logf_("dir? f%llu|", (unsigned long long)p->frame);
    if (p->dport == 445)
        return PW_DIR_TO_SERVER;
    return p->sport == 445 ? PW_DIR_TO_CLIENT : -1;
}

static const pw_capture_cb CB_MID = {NULL, on_packet, on_open, on_data, on_close, on_midstream};

static int run_mid(const char *path, pw_input_info *info)
{
    pw_capture_opts o = {.tcp_streams = 1024};
    return pw_capture_file(path, 3, &o, &CB_MID, info);
}

/* ---- tests ---- */

static void test_bpf_numbering(void)
{
    const char *p = tmp("bpf.pcap");
    FILE *f = pcap_begin(p, DLT_EN10MB);
    buf a = udp4(1, 2, 1000, 53), b = tcp4(1, 2, 1000, 80, 1, 0, PW_TH_SYN, NULL), c = arp();
    pcap_add(f, 100, &a); /* 1 udp */
    pcap_add(f, 101, &b); /* 2 tcp */
    pcap_add(f, 102, &c); /* 3 arp */
    pcap_add(f, 103, &a); /* 4 udp */
    pcap_add(f, 104, &b); /* 5 tcp */
    fclose(f);
    pw_input_info info;
    reset();
    CHECK_INT(run(p, "tcp", &info), 0);
    CHECK_INT(R.nframes, 2);
    CHECK_INT(R.frames[0], 2);
    CHECK_INT(R.frames[1], 5);
    CHECK_INT(info.packets, 5);
    CHECK_INT(info.decoded, 2);
    CHECK_INT(info.first_ts, 100 * PW_USEC_PER_SEC);
    CHECK_INT(info.last_ts, 104 * PW_USEC_PER_SEC);
    CHECK_STR(info.linktype, "EN10MB");
    CHECK_STR(info.error, "");
    reset();
    CHECK_INT(run(p, NULL, &info), 0);
    CHECK_INT(R.nframes, 4);
    CHECK_INT(R.frames[2], 4);
    CHECK_INT(info.non_ip, 1);
    CHECK_INT(info.decoded, 4);
    CHECK_INT(info.errors[PW_DERR_UNSUPPORTED], 0);
    reset();
    CHECK_INT(run(p, "port 53", &info), 0);
    CHECK_INT(R.nframes, 2);
    CHECK_INT(R.frames[0], 1);
    CHECK_INT(R.frames[1], 4);
    reset();
    CHECK_INT(run(p, "this is not bpf", &info), 1);
    CHECK(strstr(info.error, "bpf.pcap") != NULL);
}

static void test_bad_files(void)
{
    pw_input_info info;
    /* truncated in the middle of the third record */
    const char *p = tmp("trunc.pcap");
    FILE *f = pcap_begin(p, DLT_EN10MB);
    buf a = udp4(1, 2, 1000, 53);
    pcap_add(f, 1, &a);
    pcap_add(f, 2, &a);
    uint32_t h[4] = {3, 0, (uint32_t)a.n, (uint32_t)a.n};
    fwrite(h, sizeof h, 1, f);
    fwrite(a.b, 1, 10, f);
    fclose(f);
    reset();
    CHECK_INT(run(p, NULL, &info), 1);
    CHECK_INT(R.nframes, 2);
    CHECK_INT(info.packets, 2);
    CHECK(strstr(info.error, p) != NULL);
    CHECK(strstr(info.error, "after frame 2") != NULL);
    char want[64];
    snprintf(want, sizeof want, "truncated record at byte %zu,", 24 + 2 * (16 + a.n)); /* where record 3 starts */
    CHECK(strstr(info.error, want) != NULL);
    if (!strstr(info.error, want))
        fprintf(stderr, "  error was: %s\n", info.error);

    /* truncated pcapng: the offset is where libpcap stopped */
    p = tmp("trunc.pcapng");
    f = ng_begin(p, DLT_EN10MB);
    ng_add(f, 1000000, &a);
    ng_add(f, 2000000, &a);
    long good = ftell(f);
    ng_add(f, 3000000, &a);
    fclose(f);
    if (truncate(p, good + 20) != 0)
        perror("truncate");
    reset();
    CHECK_INT(run(p, NULL, &info), 1);
    CHECK_INT(R.nframes, 2);
    CHECK(strstr(info.error, "trunc.pcapng: truncated record at byte ") != NULL);
    CHECK(strstr(info.error, "after frame 2") != NULL);

    /* not a capture */
    p = tmp("text.pcap");
    f = fopen(p, "w");
    fputs("this is not a capture file at all, just some text\n", f);
    fclose(f);
    reset();
    CHECK_INT(run(p, NULL, &info), 1);
    CHECK(strstr(info.error, p) == info.error);
    CHECK(strstr(info.error, "not a capture file (") != NULL);
    CHECK_INT(R.nframes, 0);

    /* a libwiretap text reader ends the process on some input: found by
     * fuzz_capture_file, text but for one byte */
    p = tmp("exits.txt");
    f = fopen(p, "wb");
    fwrite("***\n\xdd*", 1, 6, f);
    fclose(f);
    reset();
    CHECK_INT(run(p, NULL, &info), 1);
    CHECK(strstr(info.error, "exits.txt") != NULL);
    CHECK_INT(R.nframes, 0);

    /* missing file */
    CHECK_INT(run(tmp("missing.pcap"), NULL, &info), 1);
    CHECK(strstr(info.error, "missing.pcap") != NULL);

    /* unsupported link type: DLT_ARCNET */
    p = tmp("arcnet.pcap");
    f = pcap_begin(p, DLT_ARCNET);
    pcap_add(f, 1, &a);
    fclose(f);
    CHECK_INT(run(p, NULL, &info), 1);
    CHECK(strstr(info.error, "arcnet.pcap") != NULL);
    CHECK(strstr(info.error, "ARCNET") != NULL);

    /* zero-length, snaplen-cut and impossible records are counted, not fatal */
    p = tmp("odd.pcap");
    f = pcap_begin(p, DLT_EN10MB);
    buf z = {.n = 0};
    pcap_add(f, 1, &z);                       /* 1 zero length */
    buf t = tcp4(1, 2, 5, 6, 1, 0, PW_TH_ACK, "payload");
    pcap_rec(f, 2, 0, &t, 20);                /* 2 IP header cut */
    pcap_rec(f, 3, 0, &t, (uint32_t)t.n - 3); /* 3 payload cut: decoded, truncated */
    buf bad = tcp4(1, 2, 5, 6, 1, 0, PW_TH_ACK, NULL);
    put16at(&bad, 16, 1500);
    pcap_add(f, 4, &bad);                     /* 4 IP length beyond frame: counted, delivered */
    pcap_add(f, 5, &a);                       /* 5 fine */
    fclose(f);
    reset();
    CHECK_INT(run(p, NULL, &info), 0);
    CHECK_INT(info.packets, 5);
    CHECK_INT(info.errors[PW_DERR_ZERO_LENGTH], 1);
    CHECK_INT(info.errors[PW_DERR_TRUNCATED], 1);
    CHECK_INT(info.errors[PW_DERR_BAD_LENGTH], 1);
    CHECK_INT(R.nframes, 3); /* frame 4 is delivered (headers intact) but counted */
    CHECK_INT(R.frames[0], 3);
    CHECK_INT(R.frames[1], 4);
    CHECK_INT(R.frames[2], 5);
    CHECK_INT(info.decoded, 3);
}

static void write_session(FILE *f, bool ng, unsigned cport, uint32_t *t)
{
    /* client 10.0.0.1:cport -> server 10.0.0.2:80, bad checksums everywhere */
    buf p[9];
    p[0] = tcp4(1, 2, cport, 80, 1000, 0, PW_TH_SYN, NULL);
    p[1] = tcp4(2, 1, 80, cport, 5000, 1001, PW_TH_SYN | PW_TH_ACK, NULL);
    p[2] = tcp4(1, 2, cport, 80, 1001, 5001, PW_TH_ACK, NULL);
    p[3] = tcp4(1, 2, cport, 80, 1001, 5001, PW_TH_ACK | PW_TH_PSH, "HEL");
    p[4] = tcp4(1, 2, cport, 80, 1004, 5001, PW_TH_ACK | PW_TH_PSH, "LO\nab");
    p[5] = tcp4(2, 1, 80, cport, 5001, 1009, PW_TH_ACK | PW_TH_PSH, "OK\n");
    p[6] = tcp4(1, 2, cport, 80, 1009, 5004, PW_TH_ACK | PW_TH_FIN, NULL);
    p[7] = tcp4(2, 1, 80, cport, 5004, 1010, PW_TH_ACK | PW_TH_FIN, NULL);
    p[8] = tcp4(1, 2, cport, 80, 1010, 5005, PW_TH_ACK, NULL);
    for (int i = 0; i < 9; i++) {
        if (ng)
            ng_add(f, (uint64_t)(*t)++ * 1000000, &p[i]);
        else
            pcap_add(f, (*t)++, &p[i]);
    }
}

static void test_nids_streams(void)
{
    pw_input_info info;
    const char *p = tmp("tcp.pcap");
    FILE *f = pcap_begin(p, DLT_EN10MB);
    uint32_t t = 1000;
    write_session(f, false, 40000, &t);
    fclose(f);
    reset();
    R.lines_mode = 1;
    CHECK_INT(run(p, NULL, &info), 0);
    CHECK_INT(R.nframes, 9);
    CHECK_INT(info.tcp_streams, 1);
    CHECK_INT(R.ns, 1);
    CHECK_STR(R.s[0].data[0], "HELLO\n");
    CHECK_STR(R.s[0].data[1], "OK\n");
    CHECK_INT(R.s[0].closes, 1);
    CHECK(strstr(R.log, "ORDER") == NULL);
    /* open on the first segment after the handshake (the handshake gate held
     * the three before it), HEL offered, then HELLO\nab again */
    CHECK(strstr(R.log, "open 10.0.0.1:40000>10.0.0.2:80 f4|") != NULL);
    CHECK(strstr(R.log, "data1 d0 f4 HEL|data1 d0 f5 HELLO\nab|data1 d1 f6 OK\n|") != NULL);
    CHECK(strstr(R.log, "close1 1|") != NULL);
    if (!strstr(R.log, "data1 d0 f4 HEL|"))
        fprintf(stderr, "  log: %s\n", R.log);

    /* stop: the first data callback stops the stream; close comes once, no more data */
    reset();
    R.stop_next = true;
    CHECK_INT(run(p, NULL, &info), 0);
    CHECK_STR(R.log, "open 10.0.0.1:40000>10.0.0.2:80 f4|data1 d0 f4 HEL|close1 1|");
    CHECK_INT(R.s[0].closes, 1);

    /* refused by stream_open: no data, no close */
    reset();
    R.refuse = true;
    CHECK_INT(run(p, NULL, &info), 0);
    CHECK_STR(R.log, "open 10.0.0.1:40000>10.0.0.2:80 f4|");

    /* a stream left open at the end of the file is closed with EXITING; RST closes with RESET */
    p = tmp("open.pcapng");
    f = ng_begin(p, DLT_EN10MB);
    buf s1 = tcp4(1, 2, 40001, 443, 1, 0, PW_TH_SYN, NULL);
    buf s2 = tcp4(2, 1, 443, 40001, 9, 2, PW_TH_SYN | PW_TH_ACK, NULL);
    buf s3 = tcp4(1, 2, 40001, 443, 2, 10, PW_TH_ACK, "x");
    buf r1 = tcp4(1, 3, 40002, 22, 1, 0, PW_TH_SYN, NULL);
    buf r2 = tcp4(3, 1, 22, 40002, 7, 2, PW_TH_SYN | PW_TH_ACK, NULL);
    buf r3 = tcp4(1, 3, 40002, 22, 2, 8, PW_TH_ACK, NULL);
    buf r4 = tcp4(3, 1, 22, 40002, 8, 2, PW_TH_RST | PW_TH_ACK, NULL);
    ng_add(f, 1000000, &s1);
    ng_add(f, 1000100, &s2);
    ng_add(f, 1000200, &s3);
    ng_add(f, 1000300, &r1);
    ng_add(f, 1000400, &r2);
    ng_add(f, 1000500, &r3);
    ng_add(f, 1000600, &r4);
    fclose(f);
    reset();
    CHECK_INT(run(p, NULL, &info), 0);
    CHECK_INT(info.packets, 7);
    CHECK_INT(info.tcp_streams, 2);
    CHECK_INT(info.first_ts, 1000000);
    CHECK(strstr(R.log, "data1 d0 f3 x|") != NULL);
    CHECK(strstr(R.log, "close2 2|") != NULL);
    CHECK(strstr(R.log, "close1 4|") != NULL);
    CHECK_INT(R.s[0].closes, 1);
    CHECK_INT(R.s[1].closes, 1);
}

static void test_ipv6_shim(void)
{
    pw_input_info info;
    const char *p = tmp("v6.pcap");
    buf s[9];
    s[0] = tcp6(1, 2, 50000, 445, 100, 0, PW_TH_SYN, NULL);
    s[1] = tcp6(2, 1, 445, 50000, 900, 101, PW_TH_SYN | PW_TH_ACK, NULL);
    s[2] = tcp6(1, 2, 50000, 445, 101, 901, PW_TH_ACK | PW_TH_PSH, "NEG");
    s[3] = tcp6(1, 2, 50000, 445, 101, 901, PW_TH_ACK | PW_TH_PSH, "NEGO\n"); /* overlapping retransmit */
    s[4] = tcp6(2, 1, 445, 50000, 901, 106, PW_TH_ACK | PW_TH_PSH, "RESP\n");
    s[5] = tcp6(1, 2, 50000, 445, 200, 906, PW_TH_ACK, "GAP\n");       /* beyond a gap: dropped */
    s[6] = tcp6(1, 2, 50000, 445, 106, 906, PW_TH_ACK | PW_TH_FIN, NULL);
    s[7] = tcp6(2, 1, 445, 50000, 906, 107, PW_TH_ACK | PW_TH_FIN, NULL);
    s[8] = tcp6(1, 2, 50001, 445, 1, 0, PW_TH_SYN, NULL); /* never answered: no stream */
    pcap_write(p, s, 9);
    reset();
    R.lines_mode = 1;
    CHECK_INT(run(p, NULL, &info), 0);
    CHECK_INT(R.nframes, 9);
    CHECK_INT(info.tcp_streams, 1);
    CHECK_STR(R.log, "open 2001:db8::1:50000>2001:db8::2:445 f2|data1 d0 f3 NEG|data1 d0 f4 NEGO\n|"
                     "data1 d1 f5 RESP\n|close1 1|");
    CHECK_STR(R.s[0].data[0], "NEGO\n");
    CHECK_STR(R.s[0].data[1], "RESP\n");
    CHECK_INT(R.s[0].closes, 1);

    /* stop, and EXITING at the end */
    reset();
    R.stop_next = true;
    CHECK_INT(run(p, NULL, &info), 0);
    CHECK_STR(R.log, "open 2001:db8::1:50000>2001:db8::2:445 f2|data1 d0 f3 NEG|close1 1|");
    p = tmp("v6open.pcap");
    pcap_write(p, s, 3);
    reset();
    CHECK_INT(run(p, NULL, &info), 0);
    CHECK_STR(R.log, "open 2001:db8::1:50000>2001:db8::2:445 f2|data1 d0 f3 NEG|close1 4|");
}

/* Connections whose handshake is not in the capture: followed from the first
 * segment seen on each side, the direction as the callback says. */
/* The handshake gate (capture/handshake_gate.h): a handshake that never
 * carries anything is counted as a stream but never reaches stream_open;
 * one pushed out of the gate by many newer ones before its first byte is
 * counted as forgotten, and its data is then followed mid-stream. */
static void handshake3(FILE *f, uint32_t *t, unsigned c, unsigned cport)
{
    buf h0 = tcp4(c, 2, cport, 445, 100, 0, PW_TH_SYN, NULL);
    buf h1 = tcp4(2, c, 445, cport, 900, 101, PW_TH_SYN | PW_TH_ACK, NULL);
    buf h2 = tcp4(c, 2, cport, 445, 101, 901, PW_TH_ACK, NULL);
    pcap_add(f, (*t)++, &h0);
    pcap_add(f, (*t)++, &h1);
    pcap_add(f, (*t)++, &h2);
}

static void test_handshake_gate(void)
{
    pw_input_info info;
    const char *p = tmp("gate1.pcap");
    FILE *f = pcap_begin(p, DLT_EN10MB);
    uint32_t t = 100;
    handshake3(f, &t, 1, 40020);
    fclose(f);
    reset();
    CHECK_INT(run_mid(p, &info), 0);
    CHECK_INT(info.tcp_streams, 1);
    CHECK_INT(info.handshakes_forgotten, 0);
    CHECK_INT(R.ns, 0);
    CHECK_STR(R.log, "");

    enum { MANY = 40000 };
    p = tmp("gate2.pcap");
    f = pcap_begin(p, DLT_EN10MB);
    t = 100;
    handshake3(f, &t, 1, 40021);
    for (unsigned i = 0; i < MANY; i++)
        handshake3(f, &t, 3 + i / 50000, 1024 + i % 50000);
    buf d0 = tcp4(1, 2, 40021, 445, 101, 901, PW_TH_ACK | PW_TH_PSH, "BIND\n");
    buf d1 = tcp4(2, 1, 445, 40021, 901, 106, PW_TH_ACK | PW_TH_PSH, "ACK1\n");
    pcap_add(f, t++, &d0);
    pcap_add(f, t++, &d1);
    fclose(f);
    reset();
    R.lines_mode = 1;
    CHECK_INT(run_mid(p, &info), 0);
    CHECK(info.handshakes_forgotten >= MANY + 1 - PW_GATE_SLOTS && info.handshakes_forgotten <= MANY);
    CHECK_INT(info.midstream_streams, 1);
    CHECK_INT(info.tcp_streams, MANY + 2); /* every handshake, and the one followed mid-stream again */
    CHECK_INT(R.ns, 1);
    CHECK_STR(R.s[0].data[0], "BIND\n");
    CHECK_STR(R.s[0].data[1], "ACK1\n");
}

static void test_midstream(void)
{
    pw_input_info info;
    const char *p = tmp("mid4.pcap");
    buf s[8];
    s[0] = tcp4(1, 2, 40010, 445, 5000, 7000, PW_TH_ACK, NULL);         /* no payload: nothing */
    s[1] = tcp4(1, 2, 40010, 445, 5000, 7000, PW_TH_ACK | PW_TH_PSH, "BIND\n");
    s[2] = tcp4(2, 1, 445, 40010, 7000, 5005, PW_TH_ACK | PW_TH_PSH, "ACK1\n");
    s[3] = tcp4(1, 2, 40010, 445, 5002, 7005, PW_TH_ACK | PW_TH_PSH, "ND\nMORE\n"); /* overlap */
    s[4] = tcp4(2, 1, 445, 40010, 7100, 5010, PW_TH_ACK, "LOST\n");     /* beyond a gap */
    s[5] = tcp4(1, 3, 1234, 5678, 1, 1, PW_TH_ACK, "x");              /* left alone */
    s[6] = tcp4(1, 3, 1234, 5678, 2, 1, PW_TH_ACK, "y");              /* asked once */
    s[7] = tcp4(1, 2, 40010, 445, 5010, 7005, PW_TH_RST, NULL);
    pcap_write(p, s, 8);
    reset();
    R.lines_mode = 1;
    CHECK_INT(run_mid(p, &info), 0);
    CHECK_INT(info.tcp_streams, 1);
    CHECK_INT(info.midstream_streams, 1);
    CHECK_STR(R.log, "dir? f2|open 10.0.0.1:40010>10.0.0.2:445 f2|data1 d0 f2 BIND\n|"
                     "data1 d1 f3 ACK1\n|data1 d0 f4 MORE\n|dir? f6|dir? f7|close1 2|");
    CHECK_STR(R.s[0].data[0], "BIND\nMORE\n");
    CHECK_STR(R.s[0].data[1], "ACK1\n");
    /* without the callback nothing is followed */
    reset();
    CHECK_INT(run(p, NULL, &info), 0);
    CHECK_INT(info.tcp_streams, 0);
    CHECK_STR(R.log, "");

    /* IPv6, the server speaking first: it is the server by the callback;
     * a stopped stream stays stopped (no second open) */
    p = tmp("mid6.pcap");
    s[0] = tcp6(2, 1, 445, 50002, 300, 100, PW_TH_ACK | PW_TH_PSH, "HI\n");
    s[1] = tcp6(1, 2, 50002, 445, 100, 303, PW_TH_ACK | PW_TH_PSH, "YO\n");
    s[2] = tcp6(2, 1, 445, 50002, 303, 103, PW_TH_ACK | PW_TH_PSH, "AGAIN\n");
    pcap_write(p, s, 3);
    reset();
    R.stop_next = true;
    CHECK_INT(run_mid(p, &info), 0);
    CHECK_INT(info.midstream_streams, 1);
    CHECK_STR(R.log, "dir? f1|open 2001:db8::1:50002>2001:db8::2:445 f1|data1 d1 f1 HI\n|close1 1|");

    /* the shim's last-found entry goes with its stream: the same 4-tuple
     * after a RST is a new mid-stream flow, not the freed one */
    p = tmp("mid_again.pcap");
    s[0] = tcp4(1, 2, 40020, 445, 100, 900, PW_TH_ACK | PW_TH_PSH, "ONE\n");
    s[1] = tcp4(1, 2, 40020, 445, 104, 900, PW_TH_ACK | PW_TH_PSH, "TWO\n");
    s[2] = tcp4(2, 1, 445, 40020, 900, 108, PW_TH_RST, NULL);
    s[3] = tcp4(1, 2, 40020, 445, 5000, 9000, PW_TH_ACK | PW_TH_PSH, "NEW\n");
    pcap_write(p, s, 4);
    reset();
    R.lines_mode = 1;
    CHECK_INT(run_mid(p, &info), 0);
    CHECK_INT(info.midstream_streams, 2);
    CHECK_STR(R.log, "dir? f1|open 10.0.0.1:40020>10.0.0.2:445 f1|data1 d0 f1 ONE\n|data1 d0 f2 TWO\n|"
                     "close1 2|dir? f4|open 10.0.0.1:40020>10.0.0.2:445 f4|data2 d0 f4 NEW\n|close2 4|");

    /* a connection libnids follows from its handshake is not a mid-stream one */
    p = tmp("mid_nids.pcap");
    FILE *f = pcap_begin(p, DLT_EN10MB);
    uint32_t t = 1000;
    write_session(f, false, 40000, &t);
    fclose(f);
    reset();
    R.lines_mode = 1;
    CHECK_INT(run_mid(p, &info), 0);
    CHECK_INT(info.tcp_streams, 1);
    CHECK_INT(info.midstream_streams, 0);
    CHECK(strstr(R.log, "dir?") == NULL);
    CHECK_STR(R.s[0].data[0], "HELLO\n");
}

static void test_two_files_and_stdin(void)
{
    /* the same session in two files: libnids state must be reset between them */
    const char *p1 = tmp("s1.pcap"), *p2 = tmp("s2.pcapng");
    FILE *f = pcap_begin(p1, DLT_EN10MB);
    uint32_t t = 50;
    write_session(f, false, 41000, &t);
    buf half = tcp4(1, 2, 41001, 80, 1, 0, PW_TH_SYN, NULL);
    pcap_add(f, t++, &half);
    fclose(f);
    f = ng_begin(p2, DLT_EN10MB);
    t = 50;
    write_session(f, true, 41000, &t);
    fclose(f);
    pw_input_info i1, i2;
    reset();
    R.lines_mode = 1;
    CHECK_INT(run(p1, NULL, &i1), 0);
    CHECK_INT(run(p2, NULL, &i2), 0);
    CHECK_INT(i1.tcp_streams, 1);
    CHECK_INT(i2.tcp_streams, 1);
    CHECK_INT(i1.packets, 10);
    CHECK_INT(i2.packets, 9);
    CHECK_INT(R.ns, 2);
    CHECK_STR(R.s[1].data[0], "HELLO\n");
    CHECK_STR(R.s[1].data[1], "OK\n");
    CHECK_INT(R.s[0].closes, 1);
    CHECK_INT(R.s[1].closes, 1);

    /* stdin */
    if (freopen(p1, "rb", stdin)) {
        pw_input_info is;
        reset();
        CHECK_INT(run("-", NULL, &is), 0);
        CHECK_STR(is.path, "-");
        CHECK_INT(is.packets, 10);
        CHECK_INT(is.tcp_streams, 1);
        CHECK_INT(R.nframes, 10);
    }
}

/* ---- a file of many batches: every record, in order, with its frame number ---- */
/* Record f (1-based): Ethernet + IPv4 + UDP f&0xffff -> 7 (every third frame)
 * or 9, time f.f, payload plen(f) bytes ((f * 7 + i) & 0xff); records in
 * huge[] are padded with a trailer to 262144 captured bytes (larger than one
 * reader batch). */
#define BIG_SNAP 262144u
static uint8_t big_frame[BIG_SNAP];
static uint32_t plen(uint64_t f) { return (uint32_t)((f * 37) % 1400); }
static bool is_huge(uint64_t f) { return f == 1 || f == 4000 || f == 4001 || f == 12345; }

static uint32_t make_big(uint64_t f)
{
    buf e = {.n = 0};
    uint32_t l = plen(f);
    zeros(&e, 12);
    be16(&e, 0x0800);
    u8(&e, 0x45); u8(&e, 0); be16(&e, 28 + l); be16(&e, 1); be16(&e, 0); u8(&e, 64); u8(&e, 17);
    be16(&e, 0);
    u8(&e, 10); u8(&e, 0); u8(&e, 0); u8(&e, 1);
    u8(&e, 10); u8(&e, 0); u8(&e, 0); u8(&e, 2);
    be16(&e, (unsigned)(f & 0xffff)); be16(&e, f % 3 == 0 ? 7 : 9); be16(&e, 8 + l); be16(&e, 0);
    for (uint32_t i = 0; i < l; i++)
        u8(&e, (unsigned)((f * 7 + i) & 0xff));
    memcpy(big_frame, e.b, e.n);
    uint32_t n = (uint32_t)e.n;
    if (is_huge(f)) {
        memset(big_frame + n, 0xee, BIG_SNAP - n);
        n = BIG_SNAP;
    }
    return n;
}

/* Writes n records (and, if cut, 10 bytes of record n + 1); returns the
 * offset where record n + 1 starts. */
static uint64_t write_big(const char *path, uint64_t n, bool cut)
{
    FILE *f = fopen(path, "wb");
    uint32_t h[6] = {0xa1b2c3d4, 0x00040002, 0, 0, BIG_SNAP, DLT_EN10MB};
    fwrite(h, sizeof h, 1, f);
    uint64_t off = 24;
    for (uint64_t i = 1; i <= n + (cut ? 1 : 0); i++) {
        uint32_t len = make_big(i);
        uint32_t rh[4] = {(uint32_t)i, (uint32_t)(i % 1000000), len, len};
        fwrite(rh, sizeof rh, 1, f);
        if (i > n) {
            fwrite(big_frame, 1, 10, f);
            break;
        }
        fwrite(big_frame, 1, len, f);
        off += 16 + len;
    }
    fclose(f);
    return off;
}

static struct {
    uint64_t want;  /* next expected frame */
    uint64_t step;  /* 1, or 3 with the "udp dst port 7" filter */
    uint64_t got, bad, huge;
    uint64_t stop_at; /* call pw_capture_stop() at this frame (0: never) */
} BIG;

static void big_packet(void *arg, const pw_pkt *p)
{
    (void)arg;
    uint64_t f = BIG.want;
    BIG.want += BIG.step;
    BIG.got++;
    bool ok = p->frame == f && p->source == 3 && p->proto == PW_IPPROTO_UDP &&
              p->sport == (f & 0xffff) && p->dport == (f % 3 == 0 ? 7 : 9) &&
              p->ts == (pw_usec)f * PW_USEC_PER_SEC + (pw_usec)(f % 1000000) &&
              p->payload_len == plen(f);
    for (uint32_t i = 0; ok && i < p->payload_len; i++)
        ok = p->payload[i] == (uint8_t)((f * 7 + i) & 0xff);
    if (ok && is_huge(f))
        BIG.huge++;
    if (BIG.stop_at && p->frame == BIG.stop_at)
        pw_capture_stop();
    if (!ok && BIG.bad++ < 3)
        fprintf(stderr, "  big: frame %llu (want %llu) wrong\n", (unsigned long long)p->frame,
                (unsigned long long)f);
}

static void test_many_batches(void)
{
    static const pw_capture_cb bcb = {NULL, big_packet, NULL, NULL, NULL, NULL};
    const uint64_t n = 30000;
    const char *p = tmp("big.pcap");
    uint64_t size = write_big(p, n, false);
    CHECK(size > 16u * 1024 * 1024); /* many reader batches */
    pw_capture_opts o = {.tcp_streams = 1024};
    pw_input_info info;
    memset(&BIG, 0, sizeof BIG);
    BIG.want = 1;
    BIG.step = 1;
    CHECK_INT(pw_capture_file(p, 3, &o, &bcb, &info), 0);
    CHECK_STR(info.error, "");
    CHECK_INT(BIG.got, n);
    CHECK_INT(BIG.bad, 0);
    CHECK_INT(BIG.huge, 4);
    CHECK_INT(info.packets, n);
    CHECK_INT(info.decoded, n);
    CHECK_INT(info.bytes, size - 24 - 16 * n);
    CHECK_INT(info.first_ts, 1 * PW_USEC_PER_SEC + 1);
    CHECK_INT(info.last_ts, (pw_usec)n * PW_USEC_PER_SEC + (pw_usec)(n % 1000000));

    /* BPF: frame numbers still count every record */
    o.bpf = "udp dst port 7";
    memset(&BIG, 0, sizeof BIG);
    BIG.want = 3;
    BIG.step = 3;
    CHECK_INT(pw_capture_file(p, 3, &o, &bcb, &info), 0);
    CHECK_INT(BIG.got, n / 3);
    CHECK_INT(BIG.bad, 0);
    CHECK_INT(BIG.huge, 1); /* 12345 */
    CHECK_INT(info.packets, n);
    CHECK_INT(info.decoded, n / 3);
    CHECK_INT(info.bytes, size - 24 - 16 * n);

    /* truncated after many batches: every record before it, then the same error */
    const uint64_t m = 15000;
    p = tmp("bigcut.pcap");
    uint64_t at = write_big(p, m, true);
    o.bpf = NULL;
    memset(&BIG, 0, sizeof BIG);
    BIG.want = 1;
    BIG.step = 1;
    CHECK_INT(pw_capture_file(p, 3, &o, &bcb, &info), 1);
    CHECK_INT(BIG.got, m);
    CHECK_INT(BIG.bad, 0);
    CHECK_INT(info.packets, m);
    char want[700];
    snprintf(want, sizeof want, "%s: truncated record at byte %llu, after frame %llu (", p,
             (unsigned long long)at, (unsigned long long)m);
    CHECK(strncmp(info.error, want, strlen(want)) == 0);
    if (strncmp(info.error, want, strlen(want)) != 0)
        fprintf(stderr, "  error was: %s\n  want prefix: %s\n", info.error, want);

    /* the same file on stdin (no file position): same text and offset */
    if (freopen(p, "rb", stdin)) {
        memset(&BIG, 0, sizeof BIG);
        BIG.want = 1;
        BIG.step = 1;
        CHECK_INT(pw_capture_file("-", 3, &o, &bcb, &info), 1);
        CHECK_INT(BIG.got, m);
        CHECK_INT(BIG.bad, 0);
        snprintf(want, sizeof want, "-: truncated record at byte %llu, after frame %llu (",
                 (unsigned long long)at, (unsigned long long)m);
        CHECK(strncmp(info.error, want, strlen(want)) == 0);
        if (strncmp(info.error, want, strlen(want)) != 0)
            fprintf(stderr, "  error was: %s\n  want prefix: %s\n", info.error, want);
    }

    /* pw_capture_stop() mid-file (the reader is ahead): stops right after that
     * frame.  It is never cleared, so this must be the last capture here. */
    p = tmp("big.pcap");
    memset(&BIG, 0, sizeof BIG);
    BIG.want = 1;
    BIG.step = 1;
    BIG.stop_at = 5000;
    CHECK_INT(pw_capture_file(p, 3, &o, &bcb, &info), 1);
    CHECK_INT(BIG.got, 5000);
    CHECK_INT(BIG.bad, 0);
    CHECK_INT(info.packets, 5000);
    snprintf(want, sizeof want, "%s: interrupted after frame 5000", p);
    CHECK_STR(info.error, want);
}

/* ---- files libpcap refuses: read through libwiretap ---- */

/* An Ethernet frame's IP packet alone (for a raw-IP interface). */
static buf strip_ether(const buf *e)
{
    buf r = {.n = 0};
    bytes(&r, e->b + 14, e->n - 14);
    return r;
}

static void ng_idb(FILE *f, uint16_t dlt, uint32_t snap)
{
    uint8_t idb[8] = {0};
    memcpy(idb, &dlt, 2);
    memcpy(idb + 4, &snap, 4);
    ng_block(f, 1, idb, 8);
}

static void ng_add_if(FILE *f, uint32_t ifc, uint64_t usec, const buf *b)
{
    uint8_t body[4096 + 20];
    uint32_t v[5] = {ifc, (uint32_t)(usec >> 32), (uint32_t)usec, (uint32_t)b->n, (uint32_t)b->n};
    memcpy(body, v, 20);
    memcpy(body + 20, b->b, b->n);
    ng_block(f, 6, body, (uint32_t)(20 + b->n));
}

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

/* Writes data as a gzip member of stored (uncompressed) deflate blocks. */
static void gzip_file(const char *path, const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    static const uint8_t hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    fwrite(hdr, 1, sizeof hdr, f);
    size_t off = 0;
    do {
        size_t k = n - off > 65535 ? 65535 : n - off;
        uint8_t bh[5] = {off + k == n, (uint8_t)k, (uint8_t)(k >> 8), (uint8_t)~k,
                         (uint8_t)(~k >> 8)};
        fwrite(bh, 1, 5, f);
        fwrite(data + off, 1, k, f);
        off += k;
    } while (off < n);
    uint32_t t[2] = {crc32_of(data, n), (uint32_t)n};
    fwrite(t, 4, 2, f);
    fclose(f);
}

static void test_wiretap(void)
{
    pw_input_info info;
    buf u = udp4(1, 2, 1000, 53), s = tcp4(1, 2, 1000, 80, 1, 0, PW_TH_SYN, NULL), a = arp();
    buf sa = tcp4(2, 1, 80, 1000, 9, 2, PW_TH_SYN | PW_TH_ACK, NULL);
    buf sa_raw = strip_ether(&sa);

    /* pcapng whose second interface (raw IP, another snaplen) appears after three
     * packets: libpcap reads those, then refuses; the rest comes from libwiretap,
     * nothing twice, and a systemd journal record counts as a frame as in Wireshark */
    const char *p = tmp("mixed.pcapng");
    FILE *f = ng_begin(p, DLT_EN10MB);
    ng_add(f, 100000000, &u);                       /* 1 */
    ng_add(f, 101000000, &s);                       /* 2 */
    ng_add(f, 102000000, &a);                       /* 3 */
    ng_idb(f, 101, 200);
    ng_add_if(f, 1, 103000000, &sa_raw);            /* 4: raw IP */
    static const char journal[] = "__REALTIME_TIMESTAMP=104000000\nMESSAGE=x\n";
    ng_block(f, 9, journal, sizeof journal - 1);    /* 5: not a packet */
    ng_add_if(f, 0, 105000000, &u);                 /* 6 */
    fclose(f);
    reset();
    CHECK_INT(run(p, NULL, &info), 0);
    CHECK_STR(info.error, "");
    CHECK_INT(info.packets, 6);
    CHECK_INT(R.nframes, 4);
    CHECK_INT(R.frames[0], 1);
    CHECK_INT(R.frames[1], 2);
    CHECK_INT(R.frames[2], 4);
    CHECK_INT(R.frames[3], 6);
    CHECK_INT(R.protos[2], 6);
    CHECK_INT(R.protos[3], 17);
    CHECK_INT(info.non_ip, 1);
    CHECK_STR(info.linktype, "PER_PACKET");
    CHECK_INT(info.last_ts, 105 * PW_USEC_PER_SEC);
    /* the filter is compiled per link type: TCP on Ethernet and on raw IP */
    reset();
    CHECK_INT(run(p, "tcp", &info), 0);
    CHECK_INT(info.packets, 6);
    CHECK_INT(R.nframes, 2);
    CHECK_INT(R.frames[0], 2);
    CHECK_INT(R.frames[1], 4);
    reset();
    CHECK_INT(run(p, "udp", &info), 0);
    CHECK_INT(R.nframes, 2);
    CHECK_INT(R.frames[0], 1);
    CHECK_INT(R.frames[1], 6);

    /* the same, with both interfaces up front: libwiretap from the first record */
    p = tmp("mixed2.pcapng");
    f = ng_begin(p, DLT_EN10MB);
    ng_idb(f, 101, 200);
    ng_add_if(f, 1, 103000000, &sa_raw);            /* 1 */
    ng_block(f, 9, journal, sizeof journal - 1);    /* 2 */
    ng_add(f, 105000000, &s);                       /* 3 */
    fclose(f);
    reset();
    CHECK_INT(run(p, NULL, &info), 0);
    CHECK_INT(info.packets, 3);
    CHECK_INT(R.nframes, 2);
    CHECK_INT(R.frames[0], 1);
    CHECK_INT(R.frames[1], 3);

    /* gzip-compressed pcap: libpcap cannot, libwiretap can */
    const char *plain = tmp("plain.pcap");
    f = pcap_begin(plain, DLT_EN10MB);
    pcap_add(f, 100, &u);
    pcap_add(f, 101, &s);
    pcap_add(f, 102, &a);
    pcap_add(f, 103, &u);
    fclose(f);
    static uint8_t raw[8192];
    f = fopen(plain, "rb");
    size_t n = fread(raw, 1, sizeof raw, f);
    fclose(f);
    p = tmp("plain.pcap.gz");
    gzip_file(p, raw, n);
    reset();
    CHECK_INT(run(p, NULL, &info), 0);
    CHECK_STR(info.error, "");
    CHECK_STR(info.linktype, "EN10MB");
    CHECK_INT(info.packets, 4);
    CHECK_INT(R.nframes, 3);
    CHECK_INT(R.frames[2], 4);
    reset();
    CHECK_INT(run(p, "tcp", &info), 0);
    CHECK_INT(R.nframes, 1);
    CHECK_INT(R.frames[0], 2);
    reset();
    CHECK_INT(run(p, "tcp and", &info), 1);
    CHECK(strstr(info.error, "bad filter") != NULL);
    /* cut short: the records before the cut are delivered, the error names the file */
    gzip_file(p, raw, n - 10);
    reset();
    CHECK_INT(run(p, NULL, &info), 1);
    CHECK(strstr(info.error, "plain.pcap.gz") != NULL);
    CHECK_INT(R.nframes, 2);
}

/* libnids' stream hash, replaced by ours (capture/nids_hash.c): what libnids
 * looks up is ours, the values stay below 2^24 (libnids keeps them in an
 * int and takes them modulo its table size) and spread over the buckets. */
static void test_nids_hash(void)
{
    CHECK(dlsym(RTLD_DEFAULT, "mkhash") == (void *)mkhash);
    pw_nids_hash_seed();
    enum { BUCKETS = 1021, N = 200000 };
    static unsigned load[BUCKETS];
    unsigned over = 0, most = 0;
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        unsigned h = mkhash((unsigned)x, (unsigned short)(x >> 32), (unsigned)(x >> 17) & 0xffff00u,
                            (unsigned short)(i & 0xff));
        over += h >= (1u << 24);
        if (++load[h % BUCKETS] > most)
            most = load[h % BUCKETS];
    }
    CHECK_INT(over, 0);
    CHECK(most < 2 * N / BUCKETS); /* about N / BUCKETS each */
    /* the two orientations of a connection are looked up separately */
    CHECK(mkhash(0x0a000001, 40000, 0x0a000002, 443) != mkhash(0x0a000002, 443, 0x0a000001, 40000));
}

int main(void)
{
    pw_log_level = PW_LOG_ERROR;
    snprintf(DIR_, sizeof DIR_, "/tmp/pw_test_capture.XXXXXX");
    if (!mkdtemp(DIR_)) {
        perror("mkdtemp");
        return 1;
    }
    test_nids_hash();
    test_bpf_numbering();
    test_bad_files();
    test_nids_streams();
    test_ipv6_shim();
    test_midstream();
    test_handshake_gate();
    test_two_files_and_stdin();
    test_wiretap();
    test_many_batches(); /* last: ends with pw_capture_stop() */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", DIR_);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", DIR_);
    CHECK_DONE();
}
