/* registry.c - the table of dissectors and port/heuristic selection. */
#include "dissector.h"

#include <string.h>

/* Order matters for probes: the first claim wins. */
static const pw_dissector *const all[] = {
    &pw_dissector_nbns, &pw_dissector_dns, &pw_dissector_dcerpc,
    &pw_dissector_rdp,  &pw_dissector_smb, &pw_dissector_ldap, &pw_dissector_tds,
    &pw_dissector_http2, &pw_dissector_http, &pw_dissector_tls, &pw_dissector_ssrp,
    &pw_dissector_smtp, &pw_dissector_imap, &pw_dissector_pop3, &pw_dissector_ftp,
    NULL,
};

/* Port maps built once: an array lookup on the hot path. */
static const pw_dissector *by_udp_port[65536];
static const pw_dissector *by_tcp_port[65536];
static bool ready;

void pw_dissectors_init(void)
{
    if (ready)
        return;
    for (size_t i = 0; all[i]; i++) {
        const pw_dissector *d = all[i];
        for (int p = 0; p < PW_DISSECTOR_MAX_PORTS && d->ports[p]; p++) {
            if ((d->transports & PW_DT_UDP) && !by_udp_port[d->ports[p]])
                by_udp_port[d->ports[p]] = d;
            if ((d->transports & PW_DT_TCP) && !by_tcp_port[d->ports[p]])
                by_tcp_port[d->ports[p]] = d;
        }
    }
    ready = true;
}

const pw_dissector *pw_dissector_for_port(uint8_t proto, uint16_t port)
{
    if (!ready)
        pw_dissectors_init();
    return proto == 17 ? by_udp_port[port] : proto == 6 ? by_tcp_port[port] : NULL;
}

const pw_dissector *pw_dissector_probe(uint8_t proto, const uint8_t *data, size_t len)
{
    uint8_t want = proto == 17 ? PW_DT_UDP : PW_DT_TCP;
    for (size_t i = 0; all[i]; i++)
        if ((all[i]->transports & want) && all[i]->probe && all[i]->probe(data, len))
            return all[i];
    return NULL;
}

const pw_dissector *pw_dissector_by_name(const char *name)
{
    for (size_t i = 0; all[i]; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

void pw_event_init(pw_event *ev, const pw_dctx *ctx, pw_event_type type)
{
    memset(ev, 0, pw_event_type_size(type)); /* not the other types' bytes */
    ev->type = type;
    ev->source = ctx->flow->source;
    ev->frame = ctx->frame;
    ev->ts = ctx->ts;
    ev->flow = *ctx->flow;
    ev->dir = ctx->dir;
}

void pw_emit_app(const pw_dctx *ctx, const char *app)
{
    pw_event ev;
    /* Only the header and the small app string: avoid zeroing the union. */
    memset(&ev, 0, offsetof(pw_event, u) + sizeof ev.u.app);
    ev.type = PW_EV_APP;
    ev.source = ctx->flow->source;
    ev.frame = ctx->frame;
    ev.ts = ctx->ts;
    ev.flow = *ctx->flow;
    ev.dir = ctx->dir;
    strncpy(ev.u.app, app, sizeof ev.u.app - 1);
    pw_emit(ctx, &ev);
}

void pw_emit_malformed(const pw_dctx *ctx, const char *what)
{
    pw_event ev;
    memset(&ev, 0, offsetof(pw_event, u) + sizeof ev.u.malformed);
    ev.type = PW_EV_MALFORMED;
    ev.source = ctx->flow->source;
    ev.frame = ctx->frame;
    ev.ts = ctx->ts;
    ev.flow = *ctx->flow;
    ev.dir = ctx->dir;
    strncpy(ev.u.malformed, what, sizeof ev.u.malformed - 1);
    pw_emit(ctx, &ev);
}
