/* sqlevents.c - a test-only driver: reads captures through capture/ (libpcap,
 * libnids reassembly) as portwitness does, hands each UDP datagram to the
 * dissector of its port (the server is the side on the dissector's port,
 * as cli/pipeline.c decides) and each TCP stream to the dissector the
 * registry picks (server port, else the probe on the client's first bytes),
 * and prints the SQL Server facts as tab-separated lines for the script
 * tests to compare with tshark and with the scenario generator:
 *
 *   tds   <frame> <dir> <server_port> prelogin <encryption> <version hex>
 *   tds   <frame> <dir> <server_port> loginack <prog_name> <tds_version hex>
 *   tds   <frame> <dir> <server_port> error <number> <state> <class> <message> <server_name>
 *   tds   <frame> <dir> <server_port> done <status>
 *   tds   <frame> <dir> <server_port> encrypted
 *   ssrp  <frame> <dir> <kind> <instance> <dac_port> <n_instances>
 *   inst  <frame> <server_name> <instance> <version> <clustered> <tcp_port> <np>
 *   cert  <frame> <dir> <subject_cn> <san,san...>
 *   app   <frame> <name>
 *   malformed <frame> <text> */
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

static const char *ssrp_kind(uint8_t k)
{
    static const char *const names[] = {"?", "bcast_ex", "ucast_ex", "ucast_inst", "ucast_dac", "response",
                                        "dac_response"};
    return k < sizeof names / sizeof *names ? names[k] : "?";
}

static void on_event(void *arg, const pw_event *ev)
{
    (void)arg;
    unsigned long long fr = (unsigned long long)ev->frame;
    if (ev->type == PW_EV_TDS) {
        const pw_ev_tds *t = &ev->u.tds;
        printf("tds\t%llu\t%d\t%u\t", fr, ev->dir, ev->flow.server_port);
        switch (t->kind) {
        case PW_TDS_PRELOGIN:
            printf("prelogin\t%d\t0x%08x\n", t->has_encryption ? t->encryption : -1, t->version);
            break;
        case PW_TDS_LOGINACK:
            printf("loginack\t%s\t0x%08x\n", t->prog_name, t->tds_version);
            break;
        case PW_TDS_ERROR:
            printf("error\t%u\t%u\t%u\t%s\t%s\n", t->number, t->state, t->severity, t->message,
                   t->server_name);
            break;
        case PW_TDS_DONE:
            printf("done\t%u\n", t->done_status);
            break;
        default:
            printf("encrypted\n");
            break;
        }
    } else if (ev->type == PW_EV_SSRP) {
        const pw_ev_ssrp *s = &ev->u.ssrp;
        printf("ssrp\t%llu\t%d\t%s\t%s\t%u\t%u\n", fr, ev->dir, ssrp_kind(s->kind), s->instance,
               s->dac_port, s->n_instances);
        for (int i = 0; i < s->n_instances; i++) {
            const pw_ssrp_instance *in = &s->instances[i];
            printf("inst\t%llu\t%s\t%s\t%s\t%d\t%u\t%s\n", fr, in->server_name, in->instance,
                   in->version, in->is_clustered, in->tcp_port, in->np);
        }
    } else if (ev->type == PW_EV_TLS && ev->u.tls.kind == PW_TLS_CERTIFICATE) {
        printf("cert\t%llu\t%d\t%s\t", fr, ev->dir, ev->u.tls.subject_cn);
        for (int i = 0; i < ev->u.tls.n_san; i++)
            printf("%s%s", i ? "," : "", ev->u.tls.san[i]);
        printf("\n");
    } else if (ev->type == PW_EV_APP) {
        printf("app\t%llu\t%s\n", fr, ev->u.app);
    } else if (ev->type == PW_EV_MALFORMED) {
        printf("malformed\t%llu\t%s\n", fr, ev->u.malformed);
    }
}

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

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CAPTURE\n", argv[0]);
        return 2;
    }
    pw_dissectors_init();
    pw_capture_cb cb = {.arg = NULL, .packet = on_packet, .stream_open = on_open,
                        .stream_data = on_data, .stream_close = on_close};
    pw_capture_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.tcp_streams = 4096;
    static pw_input_info info;
    int rc = pw_capture_file(argv[1], 0, &opts, &cb, &info);
    while (open_streams) /* the capture ended with these open */
        on_close(NULL, open_streams, PW_STREAM_EXITING);
    if (rc != 0)
        fprintf(stderr, "sqlevents: %s\n", info.error);
    return rc;
}
