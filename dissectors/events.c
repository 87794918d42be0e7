/* events.c - how many bytes of an event carry it (see events.h). */
#include "events.h"

#include <string.h>

#define MEMBER_END(m) (offsetof(pw_event, u) + sizeof(((pw_event *)0)->u.m))
/* Where a list that ends a member stops after its first n entries. */
#define LIST_END(list, n) (offsetof(pw_event, u.list) + (size_t)(n) * sizeof(((pw_event *)0)->u.list[0]))

size_t pw_event_type_size(pw_event_type type)
{
    switch (type) {
    case PW_EV_APP: return MEMBER_END(app);
    case PW_EV_MALFORMED: return MEMBER_END(malformed);
    case PW_EV_NBNS: return MEMBER_END(nbns);
    case PW_EV_DNS: return MEMBER_END(dns);
    case PW_EV_DCERPC: return MEMBER_END(dcerpc);
    case PW_EV_EPM_PORT: return MEMBER_END(epm);
    case PW_EV_NTLMSSP: return MEMBER_END(ntlmssp);
    case PW_EV_RDP: return MEMBER_END(rdp);
    case PW_EV_TLS: return MEMBER_END(tls);
    case PW_EV_HTTP: return MEMBER_END(http);
    case PW_EV_HTTP2: return MEMBER_END(http2);
    case PW_EV_GRPC: return MEMBER_END(grpc);
    case PW_EV_SSRP: return MEMBER_END(ssrp);
    case PW_EV_TDS: return MEMBER_END(tds);
    case PW_EV_COUNT: break;
    }
    return sizeof(pw_event);
}

/* A count above its array's length (never made by a dissector) keeps the
 * whole member. */
static size_t list_end(size_t end, size_t whole)
{
    return end < whole ? end : whole;
}

size_t pw_event_size(const pw_event *ev)
{
    size_t whole = pw_event_type_size(ev->type);
    switch (ev->type) {
    case PW_EV_DNS:
        if (!ev->u.dns.n_answers) /* a query, or an answer without records: the name ends it */
            return offsetof(pw_event, u.dns.qname) + strnlen(ev->u.dns.qname, PW_NAME_MAX - 1) + 1;
        return list_end(LIST_END(dns.answers, ev->u.dns.n_answers), whole);
    case PW_EV_NBNS: return list_end(LIST_END(nbns.names, ev->u.nbns.n_names), whole);
    case PW_EV_TLS: return list_end(LIST_END(tls.san, ev->u.tls.n_san), whole);
    case PW_EV_SSRP: return list_end(LIST_END(ssrp.instances, ev->u.ssrp.n_instances), whole);
    default: return whole;
    }
}
