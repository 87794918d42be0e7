/* live.c - live capture from interfaces (see live.h).
 *
 * Every interface is opened non-blocking and polled together, so several
 * -i share one decoder, one libnids instance and one frame counter (the
 * frames of the -w file).  They must therefore share a link type. */
#include "live.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

#include "../common/log.h"
#include "capture_int.h"

#define DEFAULT_SNAPLEN 262144
#define DEFAULT_BUFFER_KIB 65536
#define POLL_MS 100
#define DISPATCH_BATCH 1024
#define DRAIN_SEC 5
#define PCAP_RECORD_HEADER 16 /* bytes a pcap file spends per record before its data */

struct pw_live {
    const pw_capture_opts *opts;
    int n;
    pcap_t *h[PW_LIVE_MAX_IFACES];
    int dlt;
    /* -w */
    pcap_dumper_t *dump;
    char file[1024];
    uint64_t file_bytes;
    pw_usec file_start, period_start;
    unsigned files_in_period, files_total;
    const pw_live_hooks *hooks;
    bool write_failed, files_done;
    pw_cap cap;
};

/* Why activation failed, in terms the user can act on. */
static void activate_error(pcap_t *p, const char *iface, int ar, char *err, size_t errlen)
{
    if (ar == PCAP_ERROR_PERM_DENIED)
        snprintf(err, errlen,
                 "%s: no permission to capture (%s). Run as root, or give the binary the "
                 "capabilities CAP_NET_RAW and CAP_NET_ADMIN: "
                 "setcap cap_net_raw,cap_net_admin=eip /path/to/portwitness",
                 iface, pcap_geterr(p));
    else if (ar == PCAP_ERROR_PROMISC_PERM_DENIED)
        snprintf(err, errlen,
                 "%s: no permission for promiscuous mode (CAP_NET_ADMIN is missing); "
                 "add it, or capture without promiscuous mode (-p)", iface);
    else
        snprintf(err, errlen, "%s: cannot capture: %s (%s)", iface, pcap_statustostr(ar), pcap_geterr(p));
}

static bool set_filter(pcap_t *p, const char *iface, const char *bpf, char *err, size_t errlen)
{
    struct bpf_program prog;
    if (pcap_compile(p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0 || pcap_setfilter(p, &prog) != 0) {
        snprintf(err, errlen, "%s: bad filter \"%s\": %s", iface, bpf, pcap_geterr(p));
        return false;
    }
    pcap_freecode(&prog);
    return true;
}

/* One interface, activated with the options, filtered and non-blocking. */
static pcap_t *open_one(const char *iface, const pw_capture_opts *o, char *err, size_t errlen)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(iface, errbuf);
    if (!p) {
        snprintf(err, errlen, "%s: %s", iface, errbuf);
        return NULL;
    }
    pcap_set_snaplen(p, o->snaplen > 0 ? o->snaplen : DEFAULT_SNAPLEN);
    pcap_set_promisc(p, !o->no_promisc);
    pcap_set_immediate_mode(p, o->immediate);
    pcap_set_timeout(p, POLL_MS);
    pcap_set_buffer_size(p, (o->buffer_kib > 0 ? o->buffer_kib : DEFAULT_BUFFER_KIB) * 1024);
    int ar = pcap_activate(p);
    if (ar < 0) {
        activate_error(p, iface, ar, err, errlen);
        pcap_close(p);
        return NULL;
    }
    if (ar > 0)
        pw_warn("%s: %s", iface, pcap_statustostr(ar));
    if ((o->bpf && *o->bpf && !set_filter(p, iface, o->bpf, err, errlen)) ||
        pcap_setnonblock(p, 1, errbuf) != 0 || pcap_get_selectable_fd(p) < 0) {
        if (!*err)
            snprintf(err, errlen, "%s: cannot poll the capture: %s", iface, errbuf);
        pcap_close(p);
        return NULL;
    }
    return p;
}

/* All interfaces share a decoder: their link types must agree. */
static bool check_dlt(pw_live *lv, const char *iface, char *err, size_t errlen)
{
    int dlt = pcap_datalink(lv->h[lv->n]);
    if (!pw_decode_dlt_supported(dlt)) {
        snprintf(err, errlen, "%s: unsupported link type DLT %d", iface, dlt);
        return false;
    }
    if (lv->n && dlt != lv->dlt) {
        snprintf(err, errlen, "%s: link type DLT %d differs from the first interface's (DLT %d)", iface,
                 dlt, lv->dlt);
        return false;
    }
    lv->dlt = dlt;
    return true;
}

pw_live *pw_live_open(const char *const *ifaces, int n, const pw_capture_opts *opts, char *err,
                      size_t errlen)
{
    err[0] = '\0';
    pw_live *lv = calloc(1, sizeof *lv);
    if (!lv || n < 1 || n > PW_LIVE_MAX_IFACES) {
        snprintf(err, errlen, lv ? "from 1 to %d interfaces" : "out of memory", PW_LIVE_MAX_IFACES);
        free(lv);
        return NULL;
    }
    lv->opts = opts;
    for (int i = 0; i < n; i++) {
        lv->h[lv->n] = open_one(ifaces[i], opts, err, errlen);
        if (!lv->h[lv->n] || !check_dlt(lv, ifaces[i], err, errlen)) {
            lv->n += lv->h[lv->n] != NULL;
            pw_live_close(lv);
            return NULL;
        }
        lv->n++;
    }
    return lv;
}

/* ---- -w and its rotation (tcpdump's -C, -G, -W) ---- */

static int digits(unsigned v)
{
    int d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

/* The name of the next file: -G passes the path through strftime (UTC, at
 * the file's first packet); -C appends a number (none on the first file,
 * or 0..W-1 padded when -W limits the set), as tcpdump names them. */
static void next_name(const pw_live *lv, pw_usec ts, char *out, size_t n)
{
    const pw_capture_opts *o = lv->opts;
    char base[900];
    snprintf(base, sizeof base, "%s", o->write_path);
    if (o->rotate_secs > 0) {
        time_t t = (time_t)(ts / PW_USEC_PER_SEC);
        struct tm tm;
        gmtime_r(&t, &tm);
        if (strftime(base, sizeof base, o->write_path, &tm) == 0)
            snprintf(base, sizeof base, "%s", o->write_path);
    }
    unsigned k = lv->files_in_period;
    char num[16] = "";
    int w = 0;
    if (o->rotate_bytes && o->rotate_count > 0)
        w = snprintf(num, sizeof num, "%0*u", digits((unsigned)o->rotate_count - 1), k % (unsigned)o->rotate_count);
    else if (o->rotate_bytes && k > 0)
        w = snprintf(num, sizeof num, "%u", k);
    if (w < 0 || snprintf(out, n, "%s%s", base, num) >= (int)n)
        pw_warn("-w: file name too long, cut to %s", out);
}

static void close_file(pw_live *lv)
{
    if (lv->dump) {
        pcap_dump_close(lv->dump);
        lv->dump = NULL;
    }
}

/* Opens the next file at the packet of time ts; false (and the capture
 * stops) when it cannot be written. */
static bool open_file(pw_live *lv, pw_usec ts)
{
    close_file(lv);
    next_name(lv, ts, lv->file, sizeof lv->file);
    lv->dump = pcap_dump_open(lv->h[0], lv->file);
    if (!lv->dump) {
        snprintf(lv->cap.info->error, sizeof lv->cap.info->error, "%.300s: %.200s", lv->file, pcap_geterr(lv->h[0]));
        lv->write_failed = true;
        pw_capture_stop();
        return false;
    }
    lv->file_bytes = 24; /* the pcap file header */
    lv->file_start = ts;
    lv->files_total++;
    uint32_t src = lv->hooks && lv->hooks->new_file ? lv->hooks->new_file(lv->hooks->arg, lv->file)
                                                    : lv->cap.source;
    pw_cap_new_file(&lv->cap, src);
    return true;
}

/* Whether the record at ts of caplen bytes starts a new file, and which kind. */
static bool rotate_now(pw_live *lv, pw_usec ts, uint32_t caplen)
{
    const pw_capture_opts *o = lv->opts;
    if (!lv->dump)
        return true;
    if (o->rotate_secs > 0 && ts - lv->period_start >= (pw_usec)o->rotate_secs * PW_USEC_PER_SEC) {
        lv->period_start = ts;
        lv->files_in_period = 0;
        if (o->rotate_count > 0 && !o->rotate_bytes && lv->files_total >= (unsigned)o->rotate_count) {
            lv->files_done = true; /* -G with -W: stop after W files, as tcpdump does */
            pw_capture_stop();
            return false;
        }
        return true;
    }
    if (o->rotate_bytes && lv->file_bytes + PCAP_RECORD_HEADER + caplen > o->rotate_bytes &&
        lv->file_bytes > 24) {
        lv->files_in_period++;
        return true;
    }
    return false;
}

/* Writes a record; false when it is not to be analysed (writing failed or stopped). */
static bool write_record(pw_live *lv, const struct pcap_pkthdr *h, const u_char *data)
{
    pw_usec ts = pw_cap_ts(h);
    if (!lv->files_total)
        lv->period_start = ts;
    if (lv->write_failed || lv->files_done)
        return false;
    if (rotate_now(lv, ts, h->caplen) && !open_file(lv, ts))
        return false;
    if (lv->files_done)
        return false;
    pcap_dump((u_char *)lv->dump, h, data);
    lv->file_bytes += PCAP_RECORD_HEADER + h->caplen;
    return true;
}

/* ---- the loop ---- */

static void on_record(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    pw_live *lv = (pw_live *)(void *)user;
    if (lv->opts->write_path && !write_record(lv, h, data))
        return;
    pw_cap_record(&lv->cap, pw_cap_ts(h), h->caplen, h->len, data, true);
}

/* Reads what every interface has; false on a read error (info->error set). */
static bool dispatch_all(pw_live *lv, struct pollfd *fds)
{
    for (int i = 0; i < lv->n; i++) {
        if (!(fds[i].revents & (POLLIN | POLLERR | POLLHUP)))
            continue;
        int r;
        do
            r = pcap_dispatch(lv->h[i], DISPATCH_BATCH, on_record, (u_char *)(void *)lv);
        while (r == DISPATCH_BATCH && !pw_capture_stopping());
        if (r == PCAP_ERROR) {
            snprintf(lv->cap.info->error, sizeof lv->cap.info->error, "%s", pcap_geterr(lv->h[i]));
            return false;
        }
    }
    return true;
}

/* On stop, what the kernel ring still holds was captured before the stop:
 * read it too, including blocks the kernel retires within two poll
 * periods, for at most DRAIN_SEC, so the final report has every packet up
 * to the signal and none is lost silently. */
static void drain(pw_live *lv, struct pollfd *fds)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int idle = 0;
    while (idle < 2 && !lv->write_failed && !lv->files_done) {
        int got = 0;
        for (int i = 0; i < lv->n; i++) {
            int r;
            while ((r = pcap_dispatch(lv->h[i], DISPATCH_BATCH, on_record, (u_char *)(void *)lv)) > 0)
                got += r;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec >= DRAIN_SEC)
            break;
        idle = got ? 0 : idle + 1;
        if (!got)
            poll(fds, (nfds_t)lv->n, POLL_MS);
    }
}

int pw_live_run(pw_live *lv, uint32_t source, const pw_capture_cb *cb, const pw_live_hooks *hooks,
                pw_input_info *info)
{
    char path[sizeof info->path];
    snprintf(path, sizeof path, "%s", info->path);
    pw_cap_info_reset(info, path);
    info->live = true;
    pw_cap_set_linktype(info, lv->dlt);
    lv->hooks = hooks;
    if (!pw_cap_begin(&lv->cap, info->path, source, lv->dlt, lv->opts, cb, info)) {
        if (!info->error[0])
            snprintf(info->error, sizeof info->error, "%.400s: cannot start TCP reassembly", info->path);
        return 1;
    }
    struct pollfd fds[PW_LIVE_MAX_IFACES];
    for (int i = 0; i < lv->n; i++)
        fds[i] = (struct pollfd){.fd = pcap_get_selectable_fd(lv->h[i]), .events = POLLIN};
    bool ok = true;
    while (ok && !pw_capture_stopping()) {
        int pr = poll(fds, (nfds_t)lv->n, POLL_MS);
        if (pr < 0 && errno != EINTR) {
            snprintf(info->error, sizeof info->error, "poll: %s", strerror(errno));
            break;
        }
        ok = pr <= 0 || dispatch_all(lv, fds);
        if (hooks && hooks->tick)
            hooks->tick(hooks->arg, lv);
    }
    if (ok && !info->error[0])
        drain(lv, fds);
    pw_live_drops d;
    pw_live_drops_get(lv, &d);
    info->pcap_received = d.received;
    info->pcap_dropped = d.dropped;
    info->pcap_ifdropped = d.ifdropped;
    pw_cap_end(&lv->cap);
    close_file(lv);
    return info->error[0] ? 1 : 0;
}

void pw_live_drops_get(pw_live *lv, pw_live_drops *d)
{
    memset(d, 0, sizeof *d);
    for (int i = 0; i < lv->n; i++) {
        struct pcap_stat st;
        if (pcap_stats(lv->h[i], &st) == 0) {
            d->received += st.ps_recv;
            d->dropped += st.ps_drop;
            d->ifdropped += st.ps_ifdrop;
        }
    }
}

void pw_live_flush(pw_live *lv)
{
    if (lv->dump)
        pcap_dump_flush(lv->dump);
}

const char *pw_live_file(const pw_live *lv)
{
    return lv->dump ? lv->file : "";
}

void pw_live_close(pw_live *lv)
{
    if (!lv)
        return;
    close_file(lv);
    for (int i = 0; i < lv->n; i++)
        pcap_close(lv->h[i]);
    free(lv);
}
