/* wtap_file.c - reading capture files through libwiretap (see wtap_file.h). */
#include "wtap_file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cursor.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wireshark.h>
#include <wiretap/pcap-encap.h>
#include <wiretap/wtap.h>
#include <wsutil/buffer.h>
#include <wsutil/wslog.h>

struct pw_wtap {
    wtap *wth;
    wtap_rec rec;
    Buffer buf;
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* WTAP_ENCAP_ -> libpcap DLT.  libwiretap 4.0 exports only the other
 * direction (wtap_pcap_encap_to_wtap_encap), so the table is built from it
 * once: the first DLT that maps to an encapsulation wins (DLT_RAW's several
 * numbers all decode the same way). */
#define MAX_DLT 512
static int *g_to_dlt;
static int g_nencap;

/* wtap_init registers every file format once per process; the process keeps
 * it (wtap_cleanup at exit would race other readers and buys nothing). */
/* Wireshark's log goes nowhere: without ws_log_init it prints debug text
 * on stderr, and every failure we care about comes back as an error code. */
static void quiet(const char *domain, enum ws_log_level level, struct timespec ts,
                  const char *file, long line, const char *func, const char *fmt, va_list ap,
                  void *user)
{
    (void)domain, (void)level, (void)ts, (void)file, (void)line, (void)func, (void)fmt;
    (void)ap, (void)user;
}

static void init_once(void)
{
    ws_log_init_with_writer("portwitness", quiet, NULL);
    ws_log_set_level(LOG_LEVEL_CRITICAL);
    wtap_init(FALSE);
    g_nencap = wtap_get_num_encap_types();
    g_to_dlt = malloc(sizeof *g_to_dlt * (size_t)(g_nencap > 0 ? g_nencap : 1));
    if (!g_to_dlt) {
        g_nencap = 0;
        return;
    }
    for (int i = 0; i < g_nencap; i++)
        g_to_dlt[i] = -1;
    for (int dlt = 0; dlt < MAX_DLT; dlt++) {
        int encap = wtap_pcap_encap_to_wtap_encap(dlt);
        if (encap > 0 && encap < g_nencap && g_to_dlt[encap] < 0)
            g_to_dlt[encap] = dlt;
    }
}

static int encap_to_dlt(int encap)
{
    return encap > 0 && encap < g_nencap ? g_to_dlt[encap] : -1;
}

static void describe(char *err, size_t errlen, int code, gchar *info)
{
    snprintf(err, errlen, "%s%s%s", wtap_strerror(code), info ? ": " : "", info ? info : "");
    g_free(info);
}

/* Whether the file begins with the magic number of a binary capture format
 * (pcap, pcapng, Network Monitor, snoop), whose libwiretap readers return
 * errors rather than end the process.  A text-format reader may accept a
 * file that is text only from its second byte (a fuzzer found one), and a
 * gzip file may hold anything: only these magics are spared the child. */
static bool binary_capture(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    uint8_t b[8];
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    pw_cursor c = pw_cur(b, n);
    uint32_t magic = pw_be32(&c);
    if (!pw_cur_ok(&c))
        return false;
    static const uint32_t magics[] = {
        0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, /* pcap, both byte orders, us and ns */
        0xa1b2cd34, 0x34cdb2a1,                         /* Kuznetzov's modified pcap */
        0x0a0d0d0a,                                     /* pcapng section header */
        0x52545353, 0x474d4255,                         /* Network Monitor 1 "RTSS", 2 "GMBU" */
    };
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
        if (magic == magics[i])
            return true;
    return n == 8 && !memcmp(b, "snoop\0\0\0", 8);
}

/* Some of libwiretap's text-format readers end the whole process (exit())
 * on input they cannot parse: a file of "***" lines does it, in capinfos
 * too.  So a file that is not one of the binary formats above is first
 * opened and read to its end in a child process; only when that child
 * finishes normally does this process read it.  Such files are rare (what
 * libpcap refuses is mostly pcapng with mixed interfaces), so reading them
 * twice costs little.  true when the child could not even be made: the
 * file is then read here as before. */
static bool survives_reading(const char *path)
{
    if (binary_capture(path))
        return true;
    fflush(NULL); /* the child's exit() must not write our buffered output again */
    pid_t pid = fork();
    if (pid < 0)
        return true;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) { /* the reader that exits prints first: not into the report */
            dup2(null, 1);
            dup2(null, 2);
        }
        int code = 0;
        gchar *info = NULL;
        wtap *wth = wtap_open_offline(path, WTAP_TYPE_AUTO, &code, &info, FALSE);
        if (wth) {
            wtap_rec rec;
            Buffer buf;
            gint64 off;
            wtap_rec_init(&rec);
            ws_buffer_init(&buf, 65536);
            while (wtap_read(wth, &rec, &buf, &code, &info, &off))
                wtap_rec_reset(&rec);
        }
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return true;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

pw_wtap *pw_wtap_open(const char *path, char *err, size_t errlen)
{
    pthread_once(&g_once, init_once);
    if (!survives_reading(path)) {
        snprintf(err, errlen, "libwiretap could not parse it");
        return NULL;
    }
    pw_wtap *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int code = 0;
    gchar *info = NULL;
    w->wth = wtap_open_offline(path, WTAP_TYPE_AUTO, &code, &info, FALSE);
    if (!w->wth) {
        describe(err, errlen, code, info);
        free(w);
        return NULL;
    }
    wtap_rec_init(&w->rec);
    ws_buffer_init(&w->buf, 65536);
    return w;
}

int pw_wtap_next(pw_wtap *w, pw_wtap_rec *out, char *err, size_t errlen)
{
    int code = 0;
    gchar *info = NULL;
    gint64 off;
    wtap_rec_reset(&w->rec);
    if (!wtap_read(w->wth, &w->rec, &w->buf, &code, &info, &off)) {
        if (code == 0)
            return 0;
        describe(err, errlen, code, info);
        return -1;
    }
    g_free(info);
    const wtap_rec *r = &w->rec;
    out->ts = (r->presence_flags & WTAP_HAS_TS)
                  ? (pw_usec)r->ts.secs * PW_USEC_PER_SEC + (pw_usec)(r->ts.nsecs / 1000)
                  : 0;
    out->packet = r->rec_type == REC_TYPE_PACKET;
    if (out->packet) {
        const wtap_packet_header *h = &r->rec_header.packet_header;
        out->caplen = h->caplen;
        out->len = h->len;
        out->dlt = encap_to_dlt(h->pkt_encap);
        out->data = ws_buffer_start_ptr(&w->buf);
    } else {
        out->caplen = out->len = 0;
        out->dlt = -1;
        out->data = NULL;
    }
    return 1;
}

int pw_wtap_file_dlt(pw_wtap *w)
{
    int encap = wtap_file_encap(w->wth);
    return encap == WTAP_ENCAP_PER_PACKET ? -1 : encap_to_dlt(encap);
}

const char *pw_wtap_format(pw_wtap *w)
{
    const char *name = wtap_file_type_subtype_name(wtap_file_type_subtype(w->wth));
    return name ? name : "?";
}

long long pw_wtap_offset(pw_wtap *w)
{
    return (long long)wtap_read_so_far(w->wth);
}

void pw_wtap_close(pw_wtap *w)
{
    if (!w)
        return;
    wtap_close(w->wth);
    wtap_rec_cleanup(&w->rec);
    ws_buffer_free(&w->buf);
    free(w);
}
