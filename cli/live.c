/* live.c - the long-running live mode (see live.h).
 *
 * Everything here happens between packets, on the capture thread, in the
 * tick the capture loop calls at least every 100 ms: signals only set
 * flags.  Interval timing is wall time (a report every N seconds of the
 * sensor's life); what the reports say is decided in packet time. */
#include "live.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../capture/live.h"
#include "../common/log.h"
#include "../report/report.h"
#include "privs.h"

#define DROP_CHECK_SEC 1.0

static volatile sig_atomic_t g_hup, g_usr1;

static void on_stop(int sig)
{
    (void)sig;
    pw_capture_stop();
}

static void on_hup(int sig)
{
    (void)sig;
    g_hup = 1;
}

static void on_usr1(int sig)
{
    (void)sig;
    g_usr1 = 1;
}

/* No SA_RESTART: a signal interrupts poll() so the loop sees it at once. */
static void install(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static double now_mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef struct live_run {
    const pw_options *o;
    pw_pipeline *pipe;
    pw_output *out;
    pw_input_info info;
    /* interval */
    double next_report, last_drop_check;
    time_t interval_start;
    uint64_t packets_at_start;
    pw_live_drops at_start, last;
    pw_changes *changes;   /* jsonl: the state of the previous summary */
    /* drops: attempts decided unanswered until this monotonic time are noted */
    double dropping_until;
    bool dropped_in_interval;
} live_run;

static uint32_t on_new_file(void *arg, const char *path)
{
    live_run *lr = arg;
    pw_info("writing %s", path);
    return pw_analysis_add_source(lr->pipe->analysis, path);
}

/* Reads the drop counters; an increase marks the capture as dropping for
 * one reply timeout (a SYN-ACK dropped now turns into "unanswered" that
 * much later). */
static void check_drops(live_run *lr, pw_live *lv, double now)
{
    pw_live_drops d;
    pw_live_drops_get(lv, &d);
    if (d.dropped + d.ifdropped > lr->last.dropped + lr->last.ifdropped) {
        double window = (double)(lr->o->cfg.tcp_timeout > lr->o->cfg.udp_timeout ? lr->o->cfg.tcp_timeout
                                                                                 : lr->o->cfg.udp_timeout);
        lr->dropping_until = now + window / 1e6 + DROP_CHECK_SEC;
        lr->dropped_in_interval = true;
    }
    lr->last = d;
    lr->info.pcap_received = d.received;
    lr->info.pcap_dropped = d.dropped;
    lr->info.pcap_ifdropped = d.ifdropped;
    pw_analysis_set_dropping(lr->pipe->analysis, now < lr->dropping_until);
    lr->last_drop_check = now;
}

/* "report.json" -> "report-20261129T121500Z.json" */
static void stamped_path(const char *path, time_t t, char *out, size_t n)
{
    char stamp[32];
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (!dot || dot == (slash ? slash + 1 : path))
        snprintf(out, n, "%s-%s", path, stamp);
    else
        snprintf(out, n, "%.*s-%s%s", (int)(dot - path), path, stamp, dot);
}

/* The interval object of a summary: wall-clock bounds, packets and drops in it. */
static json_t *interval_json(const live_run *lr, time_t end)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:b}", "start", (json_int_t)lr->interval_start, "end",
                     (json_int_t)end, "packets", (json_int_t)(lr->info.packets - lr->packets_at_start),
                     "received", (json_int_t)(lr->last.received - lr->at_start.received), "dropped",
                     (json_int_t)(lr->last.dropped - lr->at_start.dropped), "ifdropped",
                     (json_int_t)(lr->last.ifdropped - lr->at_start.ifdropped), "drops",
                     lr->dropped_in_interval);
}

/* A full report into -o PATH with the interval's end time in its name. */
static void write_stamped(live_run *lr, const pw_result *r, time_t end)
{
    char path[1200];
    stamped_path(lr->out->path, end, path, sizeof path);
    FILE *f = fopen(path, "w");
    if (!f) {
        pw_warn("%s: %s", path, strerror(errno));
        return;
    }
    pw_report_write(f, (pw_format)lr->o->format, r);
    if (fclose(f) != 0)
        pw_warn("%s: %s", path, strerror(errno));
}

typedef struct change_out {
    FILE *f;
    const pw_result *r;
} change_out;

static void emit_change(void *arg, const pw_change *ch)
{
    change_out *co = arg;
    pw_jsonl_change(co->f, co->r, ch);
}

/* The report of the interval that ends now. */
static void interval_report(live_run *lr, pw_live *lv)
{
    check_drops(lr, lv, now_mono());
    pw_live_flush(lv); /* evidence frames must be in the -w file already */
    time_t end = time(NULL);
    pw_result *r = pw_analysis_snapshot(lr->pipe->analysis, &lr->info);
    json_t *iv = interval_json(lr, end);
    if (lr->o->format == PW_FMT_JSONL) {
        change_out co = {lr->out->f, r};
        if (lr->changes)
            pw_changes_diff(lr->changes, r, emit_change, &co);
        pw_jsonl_interval(lr->out->f, r, iv);
    }
    else if (lr->out->path)
        write_stamped(lr, r, end);
    else {
        pw_report_write(lr->out->f, (pw_format)lr->o->format, r);
        fflush(lr->out->f);
    }
    json_decref(iv);
    pw_result_free(r);
    free(r);
    lr->interval_start = end;
    lr->packets_at_start = lr->info.packets;
    lr->at_start = lr->last;
    lr->dropped_in_interval = false;
}

/* SIGHUP: -o moved away by logrotate; continue in a new file of that name. */
static void reopen_output(live_run *lr)
{
    if (!lr->out->path)
        return;
    FILE *f = fopen(lr->out->path, "a");
    if (!f) {
        pw_warn("reopening %s: %s", lr->out->path, strerror(errno));
        return;
    }
    fclose(lr->out->f);
    lr->out->f = f;
    pw_info("reopened %s", lr->out->path);
}

static void on_tick(void *arg, pw_live *lv)
{
    live_run *lr = arg;
    double now = now_mono();
    if (now - lr->last_drop_check >= DROP_CHECK_SEC)
        check_drops(lr, lv, now);
    if (g_hup) {
        g_hup = 0;
        reopen_output(lr);
    }
    if (g_usr1 || (lr->o->interval > 0 && now >= lr->next_report)) {
        g_usr1 = 0;
        interval_report(lr, lv);
        if (lr->o->interval > 0)
            lr->next_report = now + lr->o->interval;
    }
    if (lr->o->format == PW_FMT_JSONL)
        fflush(lr->out->f); /* attempts stream as they are decided */
}

/* Opens the interfaces, drops privileges, captures until stopped. */
int pw_cli_live(const pw_options *o, pw_pipeline *pipe, const pw_capture_cb *cb, pw_output *out)
{
    char err[1024];
    install(SIGINT, on_stop);
    install(SIGTERM, on_stop);
    install(SIGHUP, on_hup);
    install(SIGUSR1, on_usr1);
    pw_live *lv = pw_live_open(o->ifaces, o->n_ifaces, &o->copts, err, sizeof err);
    if (!lv || (o->user && !pw_drop_privileges(o->user, err, sizeof err))) {
        fprintf(stderr, "portwitness: %s\n", err);
        pw_live_close(lv);
        return EXIT_INPUT;
    }
    static live_run lr;
    memset(&lr, 0, sizeof lr);
    lr = (live_run){.o = o, .pipe = pipe, .out = out, .interval_start = time(NULL)};
    for (int i = 0; i < o->n_ifaces; i++)
        snprintf(lr.info.path + strlen(lr.info.path), sizeof lr.info.path - strlen(lr.info.path), "%s%s",
                 i ? "," : "", o->ifaces[i]);
    lr.next_report = now_mono() + o->interval;
    lr.changes = o->format == PW_FMT_JSONL ? pw_changes_new() : NULL;
    uint32_t src = pw_analysis_begin_input(pipe->analysis, lr.info.path);
    pw_live_hooks hooks = {.arg = &lr, .tick = on_tick, .new_file = on_new_file};
    int rc = pw_live_run(lv, src, cb, &hooks, &lr.info);
    if (rc != 0)
        fprintf(stderr, "portwitness: %s\n", lr.info.error);
    pw_live_close(lv);
    pw_changes_free(lr.changes);
    pw_pipeline_end_input(pipe);
    pw_analysis_end_input(pipe->analysis, &lr.info);
    return rc == 0 ? EXIT_OK : EXIT_INPUT;
}
