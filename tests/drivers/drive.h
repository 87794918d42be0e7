/* drive.h - the capture -> dissector glue the test drivers share: reads a
 * capture through capture/ (libpcap, libnids reassembly) as portwitness
 * does, hands UDP datagrams to the dissector of their port (the server is the
 * side on the dissector's port, as cli/pipeline.c decides) and each TCP
 * stream to the dissector the registry picks (server port, else the probe on
 * the client's first bytes; a server that speaks first waits for its
 * client), and reports the end of every connection (stream_end).
 *
 * A driver defines `static void on_event(void *arg, const pw_event *ev)`
 * (it prints what its script test compares with tshark), includes this
 * header, and calls drive_capture() from main(). */
#ifndef PW_TEST_DRIVE_H
#define PW_TEST_DRIVE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../capture/capture.h"
#include "../../dissectors/dissector.h"

static void on_event(void *arg, const pw_event *ev);

typedef struct stream {
    pw_flow flow;
    const pw_dissector *d;
    void *state;
    bool probed, done;
    uint64_t last_frame;
    pw_usec last_ts;
    struct stream *prev, *next; /* open streams: capture does not close them at the end */
} stream;

static stream *open_streams;

/* A UDP datagram: the side on a dissector's port is the server. */
static void on_packet(void *arg, const pw_pkt *pkt)
{
    (void)arg;
    if (pkt->proto != 17 || pkt->payload_len == 0)
        return;
    const pw_dissector *d = pw_dissector_for_port(17, pkt->dport);
    int dir = 0;
    if (!d) {
        d = pw_dissector_for_port(17, pkt->sport);
        dir = 1;
    }
    if (!d || !d->datagram)
        return;
    pw_flow flow;
    memset(&flow, 0, sizeof flow);
    flow.source = pkt->source;
    flow.proto = 17;
    flow.client = dir ? pkt->dst : pkt->src;
    flow.server = dir ? pkt->src : pkt->dst;
    flow.client_port = dir ? pkt->dport : pkt->sport;
    flow.server_port = dir ? pkt->sport : pkt->dport;
    pw_dctx ctx = {.flow = &flow, .dir = dir, .frame = pkt->frame, .ts = pkt->ts, .emit = on_event};
    d->datagram(&ctx, pkt->payload, pkt->payload_len);
}

static void *on_open(void *arg, const pw_stream_info *si, const pw_pkt *pkt)
{
    (void)arg, (void)pkt;
    stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->flow.source = si->source;
    s->flow.proto = 6;
    s->flow.client = si->client;
    s->flow.server = si->server;
    s->flow.client_port = si->client_port;
    s->flow.server_port = si->server_port;
    s->d = pw_dissector_for_port(6, si->server_port);
    s->next = open_streams;
    if (s->next)
        s->next->prev = s;
    open_streams = s;
    return s;
}

static bool start(stream *s)
{
    if (!s->d || !s->d->stream)
        return false;
    s->state = calloc(1, s->d->state_size ? s->d->state_size : 1);
    if (!s->state)
        return false;
    if (s->d->stream_init)
        s->d->stream_init(s->state);
    return true;
}

static size_t on_data(void *arg, void *user, int dir, const uint8_t *data, size_t len,
                      const pw_pkt *pkt, bool *stop)
{
    (void)arg;
    stream *s = user;
    s->last_frame = pkt->frame;
    s->last_ts = pkt->ts;
    if (!s->probed) {
        if (!s->d && dir != 0)
            return 0; /* wait for the client's first bytes */
        if (!s->d)
            s->d = pw_dissector_probe(6, data, len);
        s->probed = true;
        if (!start(s)) {
            s->d = NULL;
            *stop = true;
            return len;
        }
    }
    if (!s->d || s->done)
        return len;
    pw_dctx ctx = {.flow = &s->flow, .dir = dir, .frame = pkt->frame, .ts = pkt->ts,
                   .emit = on_event, .emit_arg = NULL};
    bool done = false;
    size_t used = s->d->stream(&ctx, s->state, data, len, &done);
    if (done)
        s->done = true;
    return used > len ? len : used;
}

static void on_close(void *arg, void *user, int how)
{
    (void)arg, (void)how;
    stream *s = user;
    if (!s)
        return;
    if (s->prev)
        s->prev->next = s->next;
    else
        open_streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (s->d && s->state) {
        pw_dctx ctx = {.flow = &s->flow, .dir = 0, .frame = s->last_frame, .ts = s->last_ts,
                       .emit = on_event, .emit_arg = NULL};
        if (s->d->stream_end)
            s->d->stream_end(&ctx, s->state);
        if (s->d->stream_free)
            s->d->stream_free(s->state);
    }
    free(s->state);
    free(s);
}

/* Reads path to the end (UDP datagrams too when udp); the exit status for main(). */
static int drive_capture(const char *path, bool udp, const char *name)
{
    pw_dissectors_init();
    pw_capture_cb cb = {.arg = NULL, .packet = udp ? on_packet : NULL, .stream_open = on_open,
                        .stream_data = on_data, .stream_close = on_close};
    pw_capture_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.tcp_streams = 4096;
    static pw_input_info info;
    int rc = pw_capture_file(path, 0, &opts, &cb, &info);
    while (open_streams) /* the capture ended with these open */
        on_close(NULL, open_streams, PW_STREAM_EXITING);
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", name, info.error);
    return rc;
}

/* A driver's main(): one argument, the capture. */
static int drive_main(int argc, char **argv, bool udp, const char *name)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CAPTURE\n", argv[0]);
        return 2;
    }
    return drive_capture(argv[1], udp, name);
}

#endif
