/* h2calls.c - a test-only driver (the capture -> dissector glue is drive.h's)
 * that prints the HTTP/2 and gRPC events of a capture's TCP streams as
 * tab-separated lines for the script tests to compare with tshark:
 *
 *   call  <client_port> <server_port> <stream> <end> <method> <path> <authority> <content_type>
 *         <http_status> <grpc_status> <grpc_status_name> <grpc_message> <trailers_only>
 *         <reset_name> <goaway> <request_frame> <response_frame> <trailer_frame>
 *   h2    <client_port> <server_port> <kind> <frame> <stream> <last_stream> <error_name> <detail>
 *   malformed <frame> <text>
 */
#include "drive.h"

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

int main(int argc, char **argv)
{
    return drive_main(argc, argv, false, "h2calls");
}
