/* hosts.c - IP -> host names learned passively, with where each came from.
 *
 * Sources (pw_name_source):
 *   netbios   NBNS node status response: the unique names with suffix 0x00
 *             (workstation) or 0x20 (server) of the responder's name table;
 *             positive name query response: the queried name (suffix 0x00 or
 *             0x20 only: a <1C>/<1B> answer names a domain, not a computer)
 *             -> each address in the answer.
 *   ntlm      NTLMSSP CHALLENGE: its sender (the flow's server) ->
 *             NetBIOS computer name and DNS computer name (AV pairs).
 *   tls_cert  TLS Certificate message: its sender -> subject CN and the
 *             subjectAltName dNSNames.
 *   ptr       reverse DNS response (NOERROR): the address being resolved ->
 *             each PTR target.
 *   dns       forward DNS response (NOERROR): the question name -> each A /
 *             AAAA address.
 *
 * A name is kept once per (IP, source), compared case-insensitively; the
 * first frame it was seen in is kept.  At most PW_HOSTS_MAX_NAMES names per
 * IP and PW_HOSTS_MAX_IPS addresses are kept (memory stays bounded on
 * captures full of DNS); what does not fit is counted, not kept.
 *
 * conflict: the IP carries more than one computer name.  Computer names come
 * from netbios, ntlm and ptr (first labels compared case-insensitively, so
 * "DC1" and "dc1.corp.local" agree).  A certificate legitimately lists many
 * names, so tls_cert names only conflict when the other sources named the IP
 * and none of the certificate's first labels matches that name.  Forward DNS
 * names never count (CDNs and aliases put many names on one address). */
#include "hosts.h"
#include "../common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "../common/table.h"

#include "nnr_util.h"


typedef struct host_name {
    char *name;
    uint8_t src;     /* pw_name_source */
    uint32_t source; /* input index */
    uint64_t frame;
    bool midstream;  /* learned on a connection first seen mid-stream */
} host_name;

typedef struct host {
    pw_addr ip;
    char *target;  /* in targets: "host:port" of a CONNECT target known by name */
    uint8_t n, cap;
    host_name *names;
    UT_hash_handle hh;
} host;

struct pw_hosts {
    host *map;
    host *targets; /* names seen through a proxy for targets given by host name */
    size_t count;
    uint64_t dropped_names, dropped_ips;
};

static const char *const source_names[PW_NAME_SOURCE_COUNT] = {
    "netbios", "ntlm", "tls_cert", "ptr", "dns", "ssrp",
};

const char *pw_name_source_str(pw_name_source s)
{
    return (unsigned)s < PW_NAME_SOURCE_COUNT ? source_names[s] : "?";
}

pw_hosts *pw_hosts_new(void)
{
    return pw_xcalloc(1, sizeof(pw_hosts));
}

static host *find_host(const pw_hosts *h, const pw_addr *ip)
{
    host *e = NULL;
    HASH_FIND(hh, h->map, ip, sizeof *ip, e);
    return e;
}

void pw_hosts_add(pw_hosts *h, const pw_addr *ip, const char *name, pw_name_source src,
                  uint32_t source, uint64_t frame)
{
    pw_hosts_add_seen(h, ip, name, src, source, frame, false);
}

/* A new host entry, counted against PW_HOSTS_MAX_IPS; NULL at the cap. */
static host *new_host(pw_hosts *h)
{
    if (h->count >= PW_HOSTS_MAX_IPS) {
        h->dropped_ips++;
        return NULL;
    }
    host *e = pw_xcalloc(1, sizeof *e);
    h->count++;
    return e;
}

/* Adds name (an owned copy) to e unless it has it already. */
static void add_name(pw_hosts *h, host *e, char *copy, pw_name_source src, uint32_t source,
                     uint64_t frame, bool midstream)
{
    for (int i = 0; i < e->n; i++)
        if (e->names[i].src == src && strcasecmp(e->names[i].name, copy) == 0) {
            free(copy);
            return;
        }
    if (e->n >= PW_HOSTS_MAX_NAMES) {
        h->dropped_names++;
        free(copy);
        return;
    }
    if (e->n == e->cap) {
        uint8_t ncap = e->cap ? (uint8_t)(e->cap * 2) : 2;
        if (ncap > PW_HOSTS_MAX_NAMES)
            ncap = PW_HOSTS_MAX_NAMES;
        host_name *nn = pw_xrealloc(e->names, ncap, sizeof *nn);
        e->names = nn;
        e->cap = ncap;
    }
    e->names[e->n++] = (host_name){copy, (uint8_t)src, source, frame, midstream};
}

void pw_hosts_add_seen(pw_hosts *h, const pw_addr *ip, const char *name, pw_name_source src,
                       uint32_t source, uint64_t frame, bool midstream)
{
    if (!h || !ip || !name || (ip->family != 4 && ip->family != 6) ||
        (unsigned)src >= PW_NAME_SOURCE_COUNT)
        return;
    char *copy = pw_nu_name_dup(name);
    if (!copy)
        return;
    host *e = find_host(h, ip);
    if (!e) {
        e = new_host(h);
        if (!e) {
            free(copy);
            return;
        }
        e->ip = *ip;
        HASH_ADD(hh, h->map, ip, sizeof e->ip, e);
    }
    add_name(h, e, copy, src, source, frame, midstream);
}

void pw_hosts_add_target(pw_hosts *h, const char *target, const char *name, pw_name_source src,
                         uint32_t source, uint64_t frame, bool midstream)
{
    if (!h || !target || !target[0] || !name || (unsigned)src >= PW_NAME_SOURCE_COUNT)
        return;
    char *copy = pw_nu_name_dup(name);
    if (!copy)
        return;
    host *e = NULL;
    HASH_FIND(hh, h->targets, target, strlen(target), e);
    if (!e) {
        e = new_host(h);
        if (e)
            e->target = pw_xstrdup(target);
        if (!e) {
            free(copy);
            return;
        }
        HASH_ADD_KEYPTR(hh, h->targets, e->target, strlen(e->target), e);
    }
    add_name(h, e, copy, src, source, frame, midstream);
}

static void on_nbns(pw_hosts *h, const pw_event *ev)
{
    const pw_ev_nbns *m = &ev->u.nbns;
    if (!m->response || m->rcode != 0 || m->opcode != 0)
        return;
    if (m->n_names > 0) {
        /* Node status: the name table of the responder. */
        const pw_addr *who = pw_nu_sender(ev);
        int n = m->n_names < PW_NBNS_MAX_NAMES ? m->n_names : PW_NBNS_MAX_NAMES;
        for (int i = 0; i < n; i++) {
            if (m->names[i].group)
                continue;
            if (m->names[i].suffix != 0x00 && m->names[i].suffix != 0x20)
                continue;
            pw_hosts_add(h, who, m->names[i].name, PW_NAME_NETBIOS, ev->source, ev->frame);
        }
        return;
    }
    if (m->n_addrs > 0 && m->qtype != PW_NBNS_QTYPE_NBSTAT &&
        (m->qsuffix == 0x00 || m->qsuffix == 0x20) && m->qname[0] && strcmp(m->qname, "*") != 0) {
        int n = m->n_addrs < PW_NBNS_MAX_ADDRS ? m->n_addrs : PW_NBNS_MAX_ADDRS;
        for (int i = 0; i < n; i++)
            pw_hosts_add(h, &m->addrs[i], m->qname, PW_NAME_NETBIOS, ev->source, ev->frame);
    }
}

/* A SQL Server Browser answer names the server that sent it: every instance
 * record carries the ServerName (one per record; usually the same). */
static void on_ssrp(pw_hosts *h, const pw_event *ev)
{
    const pw_ev_ssrp *m = &ev->u.ssrp;
    if (m->kind != PW_SSRP_RESPONSE)
        return;
    int n = m->n_instances < PW_SSRP_MAX_INSTANCES ? m->n_instances : PW_SSRP_MAX_INSTANCES;
    for (int i = 0; i < n; i++)
        if (m->instances[i].server_name[0])
            pw_hosts_add(h, pw_nu_sender(ev), m->instances[i].server_name, PW_NAME_SSRP, ev->source,
                         ev->frame);
}

static void on_dns(pw_hosts *h, const pw_event *ev)
{
    const pw_ev_dns *m = &ev->u.dns;
    if (!m->response || m->rcode != 0)
        return;
    int n = m->n_answers < PW_DNS_MAX_ANSWERS ? m->n_answers : PW_DNS_MAX_ANSWERS;
    for (int i = 0; i < n; i++) {
        uint16_t t = m->answers[i].type;
        if (t == 12 && m->reverse)
            pw_hosts_add(h, &m->reverse_addr, m->answers[i].target, PW_NAME_PTR, ev->source,
                         ev->frame);
        else if ((t == 1 || t == 28) && m->qname[0] && !m->reverse)
            pw_hosts_add(h, &m->answers[i].addr, m->qname, PW_NAME_DNS, ev->source, ev->frame);
    }
}

/* A server certificate names its sender, or through a proxy (TLS inside an
 * HTTP CONNECT tunnel) the CONNECT target: by its address when the target is
 * an address literal, else under the target's "host:port" (hosts are keyed
 * by address; a name-only target has none the capture shows, and recording
 * the names on the proxy's address would invent a name conflict there). */
static void on_certificate(pw_hosts *h, const pw_event *ev)
{
    const pw_ev_tls *t = &ev->u.tls;
    const pw_addr *who = pw_nu_sender(ev);
    pw_addr lit;
    int prefix = 0;
    char target[PW_NAME_MAX + 8] = "";
    if (t->tunnel_host[0]) {
        if (pw_addr_parse_cidr(t->tunnel_host, &lit, &prefix) && !strchr(t->tunnel_host, '/') &&
            prefix == (lit.family == 4 ? 32 : 128))
            who = &lit;
        else
            snprintf(target, sizeof target, "%s:%u", t->tunnel_host, (unsigned)t->tunnel_port);
    }
    int n = t->n_san < PW_TLS_MAX_SAN ? t->n_san : PW_TLS_MAX_SAN;
    for (int i = -1; i < n; i++) {
        const char *name = i < 0 ? t->subject_cn : t->san[i];
        if (target[0])
            pw_hosts_add_target(h, target, name, PW_NAME_TLS_CERT, ev->source, ev->frame, ev->flow.midstream);
        else
            pw_hosts_add_seen(h, who, name, PW_NAME_TLS_CERT, ev->source, ev->frame, ev->flow.midstream);
    }
}

void pw_hosts_event(pw_hosts *h, const pw_event *ev)
{
    if (!h || !ev)
        return;
    switch (ev->type) {
    case PW_EV_NBNS:
        on_nbns(h, ev);
        break;
    case PW_EV_DNS:
        on_dns(h, ev);
        break;
    case PW_EV_NTLMSSP:
        if (ev->u.ntlmssp.msg_type == PW_NTLM_CHALLENGE) {
            const pw_addr *who = pw_nu_sender(ev);
            bool mid = ev->flow.midstream;
            pw_hosts_add_seen(h, who, ev->u.ntlmssp.nb_computer, PW_NAME_NTLM, ev->source, ev->frame, mid);
            pw_hosts_add_seen(h, who, ev->u.ntlmssp.dns_computer, PW_NAME_NTLM, ev->source, ev->frame, mid);
        }
        break;
    case PW_EV_TLS:
        if (ev->u.tls.kind == PW_TLS_CERTIFICATE)
            on_certificate(h, ev);
        break;
    case PW_EV_SSRP:
        on_ssrp(h, ev);
        break;
    default:
        break;
    }
}

static int source_pref(uint8_t src)
{
    /* lower is better: netbios, ntlm, tls_cert, ptr, dns (enum order); the
     * Browser's ServerName is the NetBIOS name the server gives itself */
    return src == PW_NAME_SSRP ? PW_NAME_NETBIOS : src;
}

const char *pw_hosts_best_name(const pw_hosts *h, const pw_addr *ip)
{
    if (!h || !ip)
        return NULL;
    const host *e = find_host(h, ip);
    if (!e || e->n == 0)
        return NULL;
    const host_name *best = &e->names[0];
    for (int i = 1; i < e->n; i++)
        if (source_pref(e->names[i].src) < source_pref(best->src))
            best = &e->names[i];
    return best->name;
}

static bool is_wildcard(const char *name)
{
    return name[0] == '*';
}

static bool host_conflict(const host *e)
{
    /* Distinct first labels among the computer-name sources. */
    const char *labels[PW_HOSTS_MAX_NAMES];
    int nl = 0;
    bool have_cert = false;
    for (int i = 0; i < e->n; i++) {
        const host_name *hn = &e->names[i];
        if (hn->src == PW_NAME_TLS_CERT) {
            have_cert = true;
            continue;
        }
        if (hn->src != PW_NAME_NETBIOS && hn->src != PW_NAME_NTLM && hn->src != PW_NAME_PTR &&
            hn->src != PW_NAME_SSRP)
            continue;
        if (is_wildcard(hn->name))
            continue;
        bool seen = false;
        for (int k = 0; k < nl && !seen; k++)
            seen = pw_nu_same_label(labels[k], hn->name);
        if (!seen)
            labels[nl++] = hn->name;
    }
    if (nl > 1)
        return true;
    if (nl == 0 || !have_cert)
        return false;
    for (int i = 0; i < e->n; i++)
        if (e->names[i].src == PW_NAME_TLS_CERT && !is_wildcard(e->names[i].name) &&
            pw_nu_same_label(e->names[i].name, labels[0]))
            return false;
    /* only wildcard certificate names: no evidence either way */
    for (int i = 0; i < e->n; i++)
        if (e->names[i].src == PW_NAME_TLS_CERT && !is_wildcard(e->names[i].name))
            return true;
    return false;
}

bool pw_hosts_conflict(const pw_hosts *h, const pw_addr *ip)
{
    if (!h || !ip)
        return false;
    const host *e = find_host(h, ip);
    return e ? host_conflict(e) : false;
}

/* Addresses first, in order; then name-only targets by name. */
static int cmp_host_ptr(const void *a, const void *b)
{
    const host *x = *(const host *const *)a, *y = *(const host *const *)b;
    if (!x->target != !y->target)
        return x->target ? 1 : -1;
    return x->target ? strcmp(x->target, y->target) : pw_addr_cmp(&x->ip, &y->ip);
}

void pw_hosts_result(const pw_hosts *h, pw_result *r)
{
    size_t n = h ? HASH_COUNT(h->map) + HASH_COUNT(h->targets) : 0;
    r->hosts = pw_result_alloc(n, sizeof *r->hosts);
    r->n_hosts = n;
    if (n == 0)
        return;
    const host **v = pw_result_alloc(n, sizeof *v);
    size_t k = 0;
    for (const host *e = h->map; e; e = e->hh.next)
        v[k++] = e;
    for (const host *e = h->targets; e; e = e->hh.next)
        v[k++] = e;
    qsort(v, n, sizeof *v, cmp_host_ptr);
    for (size_t i = 0; i < n; i++) {
        const host *e = v[i];
        pw_res_host *o = &r->hosts[i];
        o->ip = e->ip;
        o->target = e->target;
        o->conflict = host_conflict(e);
        o->names = pw_result_alloc(e->n, sizeof *o->names);
        o->n_names = e->n;
        for (int j = 0; j < e->n; j++)
            o->names[j] = (pw_res_name){e->names[j].name, (pw_name_source)e->names[j].src,
                                        e->names[j].frame, e->names[j].source, e->names[j].midstream};
    }
    free(v);
}

static void free_host(host *e)
{
    for (int i = 0; i < e->n; i++)
        free(e->names[i].name);
    free(e->names);
    free(e->target);
    free(e);
}

void pw_hosts_free(pw_hosts *h)
{
    if (!h)
        return;
    host *e, *tmp;
    HASH_ITER(hh, h->map, e, tmp) {
        HASH_DEL(h->map, e);
        free_host(e);
    }
    HASH_ITER(hh, h->targets, e, tmp) {
        HASH_DEL(h->targets, e);
        free_host(e);
    }
    free(h);
}

void pw_hosts_caps(const pw_hosts *h, uint64_t *ips, uint64_t *dropped_ips, uint64_t *dropped_names)
{
    *ips = h->count;
    *dropped_ips = h->dropped_ips;
    *dropped_names = h->dropped_names;
}
