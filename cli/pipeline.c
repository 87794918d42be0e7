/* pipeline.c - the glue between the three layers; see pipeline.h. */
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "../dissectors/classify.h"
#include "../common/log.h"
#include "handoff.h"
#include "../dissectors/dissector.h"

/* Bytes a server may send before its client speaks and still have the
 * connection probed on the client's first bytes. */
#define SERVER_FIRST_MAX 4096
/* Times a dissector is restarted on a flow caught mid-stream whose bytes it
 * could not make sense of (it began inside a message), each time at the
 * next segment, before the flow is given up. */
#define MIDSTREAM_RESYNCS 8

/* Per TCP stream: the flow as dissectors see it and the chosen dissector. */
typedef struct stream_ctx {
    pw_flow flow;
    const pw_dissector *d;
    void *state;
    bool probed;
    bool server_spoke;              /* mid-stream: the server side sent payload */
    bool synced;                    /* mid-stream: the dissector reported a message */
    bool garbled;                   /* mid-stream: ... or found its bytes malformed */
    uint8_t resyncs;
    uint64_t first_frame;           /* mid-stream: the frame that opened it */
    pw_usec first_ts;
    uint64_t last_frame;            /* of the last bytes delivered, for stream_end */
    pw_usec last_ts;
    struct stream_ctx *prev, *next; /* the pipeline's list of open streams */
} stream_ctx;

/* Hands the analysis to its thread, or takes it back (after the thread has
 * done everything handed to it).  Order is all the analysis depends on, so
 * the result does not depend on when this happens. */
static void set_handing_off(pw_pipeline *p, bool on)
{
    if (on == p->handing_off)
        return;
    if (on && !p->handoff && !(p->handoff = pw_handoff_start(p->analysis)))
        return; /* no thread: everything stays on this one */
    if (!on)
        pw_handoff_sync(p->handoff);
    p->handing_off = on;
    p->switches++;
}

/* Auto mode.  Copying a packet to the other core costs about as much as the
 * analysis of a packet of an ongoing connection, and much less than that of
 * a connection's first packet (a record made, later removed, with every
 * module's tables).  So the analysis moves to its own thread while
 * connections start often (short flows, scans, floods: 1 packet in 6 or
 * more begins one), and comes back when they start less often than 1 in 10.
 * Measured (bench/): a mix of public captures starts one in 9 to 16 packets
 * and runs a third slower with the thread; 500,000 short flows (one in 3.6)
 * and a SYN flood (every packet) run a quarter faster.  Counted on the
 * packets themselves: a client's SYN, or a UDP datagram that is no response. */
static void auto_mode(pw_pipeline *p, const pw_pkt *pkt)
{
    bool starts = pkt->proto == PW_IPPROTO_TCP ? (pkt->tcp_flags & (PW_TH_SYN | PW_TH_ACK)) == PW_TH_SYN
                                               : pkt->proto == PW_IPPROTO_UDP && pkt->dgram_kind != PW_DGRAM_RESPONSE;
    p->window_starts += starts;
    if (++p->window_packets < (p->windows ? PW_AUTO_WINDOW : PW_AUTO_FIRST_WINDOW))
        return;
    p->windows++;
    bool was = p->handing_off;
    if (p->window_starts * 6 >= p->window_packets)
        set_handing_off(p, true);
    else if (p->window_starts * 10 < p->window_packets)
        set_handing_off(p, false);
    if (was != p->handing_off)
        pw_debug("frame %llu: %llu connection starts in %llu packets: analysis %s", (unsigned long long)pkt->frame,
                 (unsigned long long)p->window_starts, (unsigned long long)p->window_packets,
                 p->handing_off ? "on its own thread" : "back on the reading thread");
    p->window_packets = p->window_starts = 0;
}

/* To the analysis: through the analysis thread's ring while it takes them. */
static void analysis_packet(pw_pipeline *p, const pw_pkt *pkt)
{
    if (p->threads == PW_THREADS_AUTO)
        auto_mode(p, pkt);
    if (p->handing_off)
        pw_handoff_packet(p->handoff, pkt);
    else
        pw_analysis_packet(p->analysis, pkt);
}

static void analysis_event(pw_pipeline *p, const pw_event *ev)
{
    if (p->handing_off)
        pw_handoff_event(p->handoff, ev);
    else
        pw_analysis_event(p->analysis, ev);
}

static void emit_event(void *arg, const pw_event *ev)
{
    pw_pipeline *p = arg;
    /* A flow caught mid-stream starts at an arbitrary byte: a dissector that
     * cannot make sense of its first bytes says nothing about the traffic
     * (it is restarted at the next segment); its first message syncs it. */
    stream_ctx *cur = p->current;
    if (cur && cur->flow.midstream && !cur->synced) {
        if (ev->type == PW_EV_MALFORMED) {
            cur->garbled = true;
            p->midstream_unsynced++;
            return;
        }
        cur->synced = true;
    }
    analysis_event(p, ev);
}

static void on_packet(void *arg, const pw_pkt *pkt)
{
    pw_pipeline *p = arg;
    if (pkt->proto != PW_IPPROTO_UDP) {
        analysis_packet(p, pkt);
        return;
    }
    /* Analysis reads no payload, so whether this datagram is a response by
     * its protocol (never an attempt) travels on a copy of the view. */
    pw_pkt view = *pkt;
    view.dgram_kind = (uint8_t)pw_datagram_kind(pkt->sport, pkt->dport, pkt->payload, pkt->payload_len);
    analysis_packet(p, &view);
    if (pkt->payload_len == 0)
        return;

    /* The server is the side whose port selects a dissector. */
    const pw_dissector *d = pw_dissector_for_port(PW_IPPROTO_UDP, pkt->dport);
    int dir = PW_DIR_TO_SERVER;
    if (!d) {
        d = pw_dissector_for_port(PW_IPPROTO_UDP, pkt->sport);
        dir = PW_DIR_TO_CLIENT;
    }
    if (!d || !d->datagram)
        return;
    pw_flow flow;
    memset(&flow, 0, sizeof flow);
    flow.source = pkt->source;
    flow.proto = PW_IPPROTO_UDP;
    if (dir == PW_DIR_TO_SERVER) {
        flow.client = pkt->src, flow.client_port = pkt->sport;
        flow.server = pkt->dst, flow.server_port = pkt->dport;
    } else {
        flow.client = pkt->dst, flow.client_port = pkt->dport;
        flow.server = pkt->src, flow.server_port = pkt->sport;
    }
    pw_dctx ctx = {.flow = &flow, .dir = dir, .frame = pkt->frame, .ts = pkt->ts,
                   .emit = emit_event, .emit_arg = p, .cache = p->cache};
    d->datagram(&ctx, pkt->payload, pkt->payload_len);
    p->udp_dissected++;
}

/* Which way a packet of a flow caught mid-stream goes: toward the port a
 * dissector is registered on, else toward the port whose dissector's probe
 * claims these bytes as a client's, else toward a well-known port from an
 * ephemeral one, else toward the lower port. */
static int midstream_dir(void *arg, const pw_pkt *pkt)
{
    (void)arg;
    if (pw_dissector_for_port(PW_IPPROTO_TCP, pkt->dport))
        return PW_DIR_TO_SERVER;
    if (pw_dissector_for_port(PW_IPPROTO_TCP, pkt->sport))
        return PW_DIR_TO_CLIENT;
    if (pw_dissector_probe(PW_IPPROTO_TCP, pkt->payload, pkt->payload_len))
        return PW_DIR_TO_SERVER;
    if ((pkt->dport < 1024) != (pkt->sport < 1024))
        return pkt->dport < 1024 ? PW_DIR_TO_SERVER : PW_DIR_TO_CLIENT;
    return pkt->dport <= pkt->sport ? PW_DIR_TO_SERVER : PW_DIR_TO_CLIENT;
}

static void *on_stream_open(void *arg, const pw_stream_info *si, const pw_pkt *pkt)
{
    pw_pipeline *p = arg;
    stream_ctx *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->flow.source = si->source;
    s->flow.proto = PW_IPPROTO_TCP;
    s->flow.client = si->client;
    s->flow.client_port = si->client_port;
    s->flow.server = si->server;
    s->flow.server_port = si->server_port;
    s->flow.midstream = si->midstream;
    s->first_frame = pkt ? pkt->frame : 0;
    s->first_ts = pkt ? pkt->ts : 0;
    s->d = pw_dissector_for_port(PW_IPPROTO_TCP, si->server_port);
    s->next = p->open_streams;
    if (s->next)
        ((stream_ctx *)s->next)->prev = s;
    p->open_streams = s;
    return s;
}

static bool start_dissector(stream_ctx *s)
{
    if (s->d->state_size) {
        s->state = calloc(1, s->d->state_size);
        if (!s->state)
            return false;
    }
    if (s->d->stream_init)
        s->d->stream_init(s->state);
    return true;
}

/* The server side of a flow caught mid-stream sent payload: its port answers.
 * Told before the dissector sees those bytes, so that what they hold is
 * learned on an answered connection. */
static void midstream_answered(pw_pipeline *p, stream_ctx *s, const pw_pkt *pkt)
{
    s->server_spoke = true;
    p->midstream_answered++;
    pw_attempt m;
    memset(&m, 0, sizeof m);
    m.source = s->flow.source;
    m.proto = PW_IPPROTO_TCP;
    m.vlan = pkt->vlan;
    m.client = s->flow.client;
    m.server = s->flow.server;
    m.client_port = s->flow.client_port;
    m.port = s->flow.server_port;
    m.ts = s->first_ts;
    m.frame_request = s->first_frame;
    m.frame_reply = pkt->frame;
    m.reply_ts = pkt->ts;
    if (p->handing_off)
        pw_handoff_midstream(p->handoff, &m);
    else
        pw_analysis_midstream(p->analysis, &m);
}

/* Bytes nobody dissects: a mid-stream flow is still followed until its
 * server speaks (that makes it an attempt), then dropped. */
static size_t undissected(pw_pipeline *p, stream_ctx *s, size_t len, bool *stop)
{
    if (!s->flow.midstream || s->server_spoke) {
        *stop = true;
        p->streams_ignored++;
    }
    return len;
}

/* A mid-stream flow's dissector found nothing it could read (the capture
 * began inside a message): these bytes are dropped and the dissector starts
 * afresh at the next segment, a few times. */
static size_t resync(pw_pipeline *p, stream_ctx *s, size_t len, bool *stop)
{
    s->garbled = false;
    if (s->resyncs++ >= MIDSTREAM_RESYNCS)
        return undissected(p, s, len, stop);
    if (s->d->stream_free)
        s->d->stream_free(s->state);
    if (s->d->state_size)
        memset(s->state, 0, s->d->state_size);
    if (s->d->stream_init)
        s->d->stream_init(s->state);
    return len;
}

static size_t on_stream_data(void *arg, void *user, int dir, const uint8_t *data, size_t len,
                             const pw_pkt *pkt, bool *stop)
{
    pw_pipeline *p = arg;
    stream_ctx *s = user;
    s->last_frame = pkt->frame;
    s->last_ts = pkt->ts;
    if (s->flow.midstream && dir == PW_DIR_TO_CLIENT && !s->server_spoke)
        midstream_answered(p, s, pkt);
    if (!s->probed) {
        if (!s->d) {
            if (dir != PW_DIR_TO_SERVER) {
                /* The server spoke first (an h2c server's SETTINGS, a banner):
                 * keep its bytes until the client's first bytes can be
                 * probed, unless it goes on at length (a banner protocol). */
                if (len <= SERVER_FIRST_MAX)
                    return 0;
                return undissected(p, s, len, stop);
            }
            s->d = pw_dissector_probe(PW_IPPROTO_TCP, data, len);
        }
        s->probed = true;
        if (!s->d || !s->d->stream || !start_dissector(s)) {
            s->d = NULL;
            return undissected(p, s, len, stop);
        }
        p->streams_dissected++;
    }
    if (!s->d)
        return undissected(p, s, len, stop);
    pw_dctx ctx = {.flow = &s->flow, .dir = dir, .frame = pkt->frame, .ts = pkt->ts,
                   .emit = emit_event, .emit_arg = p, .cache = p->cache};
    bool done = false;
    p->current = s;
    size_t used = s->d->stream(&ctx, s->state, data, len, &done);
    p->current = NULL;
    if (s->flow.midstream && !s->synced && (done || s->garbled))
        return resync(p, s, len, stop);
    if (done)
        *stop = true;
    return used > len ? len : used;
}

/* The stream ended: the dissector reports what is still open (calls cut
 * by the end of the capture), then its state goes. */
static void free_stream(pw_pipeline *p, stream_ctx *s)
{
    if (s->d && s->state && s->d->stream_end) {
        pw_dctx ctx = {.flow = &s->flow, .dir = PW_DIR_TO_SERVER, .frame = s->last_frame,
                       .ts = s->last_ts, .emit = emit_event, .emit_arg = p, .cache = p->cache};
        p->current = s;
        s->d->stream_end(&ctx, s->state);
        p->current = NULL;
    }
    if (s->d && s->state && s->d->stream_free)
        s->d->stream_free(s->state);
    free(s->state);
    free(s);
}

static void on_stream_close(void *arg, void *user, int how)
{
    (void)how;
    pw_pipeline *p = arg;
    stream_ctx *s = user;
    if (!s)
        return;
    if (s->prev)
        s->prev->next = s->next;
    else
        p->open_streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    free_stream(p, s);
}

uint64_t pw_pipeline_end_input(pw_pipeline *p)
{
    uint64_t n = 0;
    stream_ctx *s = p->open_streams;
    while (s) {
        stream_ctx *next = s->next;
        free_stream(p, s);
        s = next;
        n++;
    }
    p->open_streams = NULL;
    p->streams_unclosed += n;
    return n;
}

void pw_pipeline_sync(pw_pipeline *p)
{
    if (p->threads == PW_THREADS_TWO)
        set_handing_off(p, true);
    pw_handoff_sync(p->handoff);
}

void pw_pipeline_stop_thread(pw_pipeline *p)
{
    pw_handoff_stop(p->handoff);
    p->handoff = NULL;
    p->handing_off = false;
}

void pw_pipeline_callbacks(pw_pipeline *p, pw_capture_cb *cb)
{
    memset(cb, 0, sizeof *cb);
    cb->arg = p;
    cb->packet = on_packet;
    cb->stream_open = on_stream_open;
    cb->stream_data = on_stream_data;
    cb->stream_close = on_stream_close;
    cb->midstream_dir = midstream_dir;
}
