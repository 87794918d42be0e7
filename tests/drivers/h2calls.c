/* h2calls.c - a test-only driver: reads captures through capture/ (libpcap,
 * libnids reassembly) exactly as portwitness does, hands each TCP stream to
 * the dissector the registry picks (server port, else the probe on the
 * client's first bytes), reports the end of every connection (stream_end),
 * and prints the HTTP/2 and gRPC events as tab-separated lines for the
 * script tests to compare with tshark:
 *
 *   call  <client_port> <server_port> <stream> <end> <method> <path> <authority> <content_type>
 *         <http_status> <grpc_status> <grpc_status_name> <grpc_message> <trailers_only>
 *         <reset_name> <goaway> <request_frame> <response_frame> <trailer_frame>
 *   h2    <client_port> <server_port> <kind> <frame> <stream> <last_stream> <error_name> <detail>
 *   malformed <frame> <text>
 *
 * Unlike cli/pipeline.c it does not give up on a stream whose server
 * speaks first: it keeps the server's bytes until the client has spoken
 * (an h2c server may send its SETTINGS before the client's preface). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../capture/capture.h"
#include "../../dissectors/dissector.h"

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

static const char *end_name(uint8_t end)
{
    static const char *const names[] = {"?", "complete", "reset", "goaway", "cut", "evicted", "abandoned"};
    return end < sizeof names / sizeof *names ? names[end] : "?";
}

static const char *h2_kind(uint8_t kind)
{
    static const char *const names[] = {"?", "preface", "settings", "goaway", "rst_stream", "hpack_broken", "end"};
    return kind < sizeof names / sizeof *names ? names[kind] : "?";
}

static void on_event(void *arg, const pw_event *ev)
{
    (void)arg;
    if (ev->type == PW_EV_GRPC) {
        const pw_ev_grpc *g = &ev->u.grpc;
        printf("call\t%u\t%u\t%u\t%s\t%s\t%s\t%s\t%s\t%u\t%d\t%s\t%s\t%d\t%s\t%d\t%llu\t%llu\t%llu\n",
               ev->flow.client_port, ev->flow.server_port, g->stream_id, end_name(g->end), g->method, g->path, g->authority,
               g->content_type, g->http_status, g->grpc_status, g->grpc_status_name, g->grpc_message,
               g->trailers_only, g->reset_name, g->goaway, (unsigned long long)g->request_frame,
               (unsigned long long)g->response_frame, (unsigned long long)g->trailer_frame);
    } else if (ev->type == PW_EV_HTTP2) {
        const pw_ev_http2 *h = &ev->u.http2;
        printf("h2\t%u\t%u\t%s\t%llu\t%u\t%u\t%s\t%s\n", ev->flow.client_port, ev->flow.server_port, h2_kind(h->kind),
               (unsigned long long)ev->frame, h->stream_id, h->last_stream_id, h->error_name, h->detail);
    } else if (ev->type == PW_EV_MALFORMED) {
        printf("malformed\t%llu\t%s\n", (unsigned long long)ev->frame, ev->u.malformed);
    }
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

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CAPTURE\n", argv[0]);
        return 2;
    }
    pw_dissectors_init();
    pw_capture_cb cb = {.arg = NULL, .packet = NULL, .stream_open = on_open,
                        .stream_data = on_data, .stream_close = on_close};
    pw_capture_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.tcp_streams = 4096;
    static pw_input_info info;
    int rc = pw_capture_file(argv[1], 0, &opts, &cb, &info);
    while (open_streams) /* the capture ended with these open */
        on_close(NULL, open_streams, PW_STREAM_EXITING);
    if (rc != 0)
        fprintf(stderr, "h2calls: %s\n", info.error);
    return rc;
}
