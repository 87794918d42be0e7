/* apps.c - application results per connection (see apps.h). */
#include "apps.h"
#include "../common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool pw_app_code_add(pw_app_code *codes, uint8_t *n, const char *code, uint32_t count)
{
    for (uint8_t i = 0; i < *n; i++)
        if (!strcmp(codes[i].code, code)) {
            codes[i].n += count;
            return true;
        }
    if (*n >= PW_APP_CODES)
        return false;
    snprintf(codes[*n].code, sizeof codes[*n].code, "%s", code);
    codes[*n].n = count;
    (*n)++;
    return true;
}

/* The verdict of one HTTP/2 request stream: 1 ok, -1 failed (code set), 0
 * no final answer.  A gRPC call is judged by its grpc-status, as gRPC
 * clients do (HTTP 200 with UNAVAILABLE is a failed call). */
static int grpc_result(const pw_ev_grpc *g, char *code, size_t len)
{
    if (g->grpc_status > 0) {
        snprintf(code, len, "%s", g->grpc_status_name);
        return -1;
    }
    if (g->grpc_status == 0)
        return 1;
    if (g->end == PW_GRPC_END_RESET) {
        snprintf(code, len, "RST_STREAM:%s", g->reset_name);
        return -1;
    }
    if (g->end == PW_GRPC_END_GOAWAY) {
        snprintf(code, len, "GOAWAY");
        return -1;
    }
    if (g->http_status >= 400) {
        snprintf(code, len, "HTTP:%u", (unsigned)g->http_status);
        return -1;
    }
    if (g->end != PW_GRPC_END_COMPLETE)
        return 0; /* cut, evicted, abandoned: no answer to judge */
    if (g->is_grpc) {
        snprintf(code, len, "NO_GRPC_STATUS");
        return -1;
    }
    return g->http_status >= 200 ? 1 : 0;
}

/* 1 ok, -1 failed (code set), 0 not a result. */
static int event_result(const pw_event *ev, char *code, size_t len)
{
    switch (ev->type) {
    case PW_EV_GRPC:
        return grpc_result(&ev->u.grpc, code, len);
    case PW_EV_HTTP2:
        /* a connection-level error: the server gave up on the client */
        if (ev->u.http2.kind == PW_HTTP2_GOAWAY && ev->u.http2.error_code != 0) {
            snprintf(code, len, "GOAWAY:%s", ev->u.http2.error_name);
            return -1;
        }
        return 0;
    case PW_EV_TDS:
        if (ev->u.tds.kind == PW_TDS_LOGINACK)
            return 1;
        /* class 11 and above is an error; the login answer carries no other */
        if (ev->u.tds.kind == PW_TDS_ERROR && ev->u.tds.severity > 10) {
            snprintf(code, len, "%u", (unsigned)ev->u.tds.number);
            return -1;
        }
        return 0;
    default:
        return 0;
    }
}

/* The attempt's summary: counts and the first failure code. */
static void summarise(pw_conn *c)
{
    const pw_app_slot *s = c->app;
    c->a.app_ok = s->ok > UINT16_MAX ? UINT16_MAX : (uint16_t)s->ok;
    c->a.app_failed = s->failed > UINT16_MAX ? UINT16_MAX : (uint16_t)s->failed;
    if (s->n_codes)
        snprintf(c->a.app_failure, sizeof c->a.app_failure, "%s", s->codes[0].code);
}

/* HTTP/2 negotiated inside TLS (gRPC over TLS): the calls are encrypted,
 * so none is reported and none is invented. */
static bool h2_over_tls(const pw_event *ev)
{
    return ev->type == PW_EV_TLS && ev->u.tls.kind == PW_TLS_SERVER_HELLO && ev->dir == 1 &&
           !strcmp(ev->u.tls.alpn, "h2");
}

void pw_apps_event(pw_conn *c, const pw_event *ev)
{
    char code[40] = "";
    int res;
    if (c && ev && h2_over_tls(ev)) {
        if (!c->app)
            c->app = pw_xcalloc(1, sizeof *c->app);
        c->app->h2_tls = true;
        return;
    }
    if (!c || !ev || (res = event_result(ev, code, sizeof code)) == 0)
        return;
    if (!c->app)
        c->app = pw_xcalloc(1, sizeof *c->app);
    if (res > 0)
        c->app->ok++;
    else {
        c->app->failed++;
        pw_app_code_add(c->app->codes, &c->app->n_codes, code, 1);
    }
    summarise(c);
}

void pw_apps_conn_removed(pw_conn *c)
{
    pw_apps_free(c->app);
    c->app = NULL;
}

void pw_apps_free(pw_app_slot *s)
{
    free(s);
}
