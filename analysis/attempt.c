/* attempt.c - names and small helpers for pw_attempt. */
#include "attempt.h"

#include <stdio.h>
#include <string.h>

static const char *const outcome_names[PW_OUT_COUNT] = {
    "pending", "answered", "refused", "blocked", "unanswered", "indeterminate",
};

static const char *const reason_names[PW_R_COUNT] = {
    "none",
    "syn-ack",
    "inferred",
    "rst",
    "icmp-port-unreachable",
    "icmp-admin-prohibited",
    "icmp-host-unreachable",
    "icmp-net-unreachable",
    "icmp-other",
    "timeout",
    "udp-reply",
    "one-sided",
    "capture-ended",
    "retransmitted",
    "midstream",
};

const char *pw_outcome_name(pw_outcome o)
{
    return (unsigned)o < PW_OUT_COUNT ? outcome_names[o] : "?";
}

const char *pw_reason_name(pw_reason r)
{
    return (unsigned)r < PW_R_COUNT ? reason_names[r] : "?";
}

pw_outcome pw_outcome_parse(const char *name)
{
    for (int i = 1; i < PW_OUT_COUNT; i++)
        if (strcmp(name, outcome_names[i]) == 0)
            return (pw_outcome)i;
    return PW_OUT_PENDING;
}

int pw_outcome_rank(pw_outcome o)
{
    switch (o) {
    case PW_OUT_ANSWERED: return 5;
    case PW_OUT_REFUSED: return 4;
    case PW_OUT_BLOCKED: return 3;
    case PW_OUT_UNANSWERED: return 2;
    case PW_OUT_INDETERMINATE: return 1;
    default: return 0;
    }
}

double pw_attempt_rtt_ms(const pw_attempt *a)
{
    if (!a->reply_ts || a->outcome != PW_OUT_ANSWERED)
        return -1.0;
    return (double)(a->reply_ts - a->last_request_ts) / 1000.0;
}

const char *pw_responder_name(int responder)
{
    switch (responder) {
    case PW_RESPONDER_HOST: return "host";
    case PW_RESPONDER_PATH: return "path";
    case PW_RESPONDER_UNKNOWN: return "unknown";
    default: return NULL;
    }
}

/* "TTL 63" or "TTLs 62-64". */
static void host_ttls(const pw_attempt *a, char *buf, size_t len)
{
    if (a->host_ttl_min == a->host_ttl_max)
        snprintf(buf, len, "TTL %u", a->host_ttl_min);
    else
        snprintf(buf, len, "TTLs %u-%u", a->host_ttl_min, a->host_ttl_max);
}

const char *pw_responder_sentence(const pw_attempt *a, char *buf, size_t len)
{
    char srv[PW_ADDR_STRLEN], from[PW_ADDR_STRLEN], ttls[24];
    if (len)
        buf[0] = '\0';
    if (a->responder == PW_RESPONDER_NONE || !len)
        return buf;
    const char *what = a->has_icmp_from ? "ICMP error" : "RST";
    pw_addr_str(&a->server, srv, sizeof srv);
    host_ttls(a, ttls, sizeof ttls);
    if (a->has_icmp_from && !pw_addr_eq(&a->icmp_from, &a->server)) {
        snprintf(buf, len, "ICMP error sent by %s, not by %s: a device in the path",
                 pw_addr_str(&a->icmp_from, from, sizeof from), srv);
    } else if (a->responder == PW_RESPONDER_UNKNOWN) {
        snprintf(buf, len, "%s with TTL %u; the capture holds no packet of %s's own to compare with: "
                 "sender unknown", what, a->resp_ttl, srv);
    } else if (a->responder == PW_RESPONDER_PATH) {
        snprintf(buf, len, "%s with TTL %u while %s's own packets arrive with %s: sent by a device in "
                 "the path, not by the host", what, a->resp_ttl, srv, ttls);
    } else {
        snprintf(buf, len, "%s with TTL %u, as %s's own packets arrive (%s): sent by the host itself",
                 what, a->resp_ttl, srv, ttls);
    }
    return buf;
}

void pw_responder_save(const pw_attempt *a, pw_responder_ev *r)
{
    *r = (pw_responder_ev){.responder = a->responder, .resp_ttl = a->resp_ttl,
                           .host_ttl_min = a->host_ttl_min, .host_ttl_max = a->host_ttl_max,
                           .resp_has_ip_id = a->resp_has_ip_id, .host_has_ip_id = a->host_has_ip_id,
                           .has_icmp_from = a->has_icmp_from, .resp_ip_id = a->resp_ip_id,
                           .resp_win = a->resp_win, .host_ip_id = a->host_ip_id,
                           .host_packets = a->host_packets, .host_frame = a->host_frame,
                           .icmp_from = a->icmp_from};
}

void pw_responder_load(const pw_responder_ev *r, const pw_addr *server, pw_attempt *a)
{
    memset(a, 0, sizeof *a);
    a->server = *server;
    a->responder = r->responder;
    a->resp_ttl = r->resp_ttl;
    a->host_ttl_min = r->host_ttl_min;
    a->host_ttl_max = r->host_ttl_max;
    a->resp_has_ip_id = r->resp_has_ip_id;
    a->host_has_ip_id = r->host_has_ip_id;
    a->has_icmp_from = r->has_icmp_from;
    a->resp_ip_id = r->resp_ip_id;
    a->resp_win = r->resp_win;
    a->host_ip_id = r->host_ip_id;
    a->host_packets = r->host_packets;
    a->host_frame = r->host_frame;
    a->icmp_from = r->icmp_from;
}
