/* pipeline.c - the glue between the three layers; see pipeline.h. */
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "../dissectors/classify.h"
#include "../dissectors/dissector.h"

/* Bytes a server may send before its client speaks and still have the
 * connection probed on the client's first bytes. */
#define SERVER_FIRST_MAX 4096

/* Per TCP stream: the flow as dissectors see it and the chosen dissector. */
typedef struct stream_ctx {
    pw_flow flow;
    const pw_dissector *d;
    void *state;
    bool probed;
    uint64_t last_frame;            /* of the last bytes delivered, for stream_end */
    pw_usec last_ts;
    struct stream_ctx *prev, *next; /* the pipeline's list of open streams */
} stream_ctx;

static void emit_event(void *arg, const pw_event *ev)
{
    pw_pipeline *p = arg;
    pw_analysis_event(p->analysis, ev);
}

static void on_packet(void *arg, const pw_pkt *pkt)
{
    pw_pipeline *p = arg;
    if (pkt->proto != PW_IPPROTO_UDP) {
        pw_analysis_packet(p->analysis, pkt);
        return;
    }
    /* Analysis reads no payload, so whether this datagram is a response by
     * its protocol (never an attempt) travels on a copy of the view. */
    pw_pkt view = *pkt;
    view.dgram_kind = (uint8_t)pw_datagram_kind(pkt->sport, pkt->dport, pkt->payload, pkt->payload_len);
    pw_analysis_packet(p->analysis, &view);
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

static void *on_stream_open(void *arg, const pw_stream_info *si, const pw_pkt *pkt)
{
    (void)pkt;
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

static size_t on_stream_data(void *arg, void *user, int dir, const uint8_t *data, size_t len,
                             const pw_pkt *pkt, bool *stop)
{
    pw_pipeline *p = arg;
    stream_ctx *s = user;
    s->last_frame = pkt->frame;
    s->last_ts = pkt->ts;
    if (!s->probed) {
        if (!s->d) {
            if (dir != PW_DIR_TO_SERVER) {
                /* The server spoke first (an h2c server's SETTINGS, a banner):
                 * keep its bytes until the client's first bytes can be
                 * probed, unless it goes on at length (a banner protocol). */
                if (len <= SERVER_FIRST_MAX)
                    return 0;
                *stop = true;
                p->streams_ignored++;
                return len;
            }
            s->d = pw_dissector_probe(PW_IPPROTO_TCP, data, len);
        }
        s->probed = true;
        if (!s->d || !s->d->stream || !start_dissector(s)) {
            s->d = NULL;
            *stop = true;
            p->streams_ignored++;
            return len;
        }
        p->streams_dissected++;
    }
    if (!s->d)
        return len;
    pw_dctx ctx = {.flow = &s->flow, .dir = dir, .frame = pkt->frame, .ts = pkt->ts,
                   .emit = emit_event, .emit_arg = p, .cache = p->cache};
    bool done = false;
    size_t used = s->d->stream(&ctx, s->state, data, len, &done);
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
        s->d->stream_end(&ctx, s->state);
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

void pw_pipeline_callbacks(pw_pipeline *p, pw_capture_cb *cb)
{
    memset(cb, 0, sizeof *cb);
    cb->arg = p;
    cb->packet = on_packet;
    cb->stream_open = on_stream_open;
    cb->stream_data = on_stream_data;
    cb->stream_close = on_stream_close;
}
