/* messages.c - the one table of user-facing English.
 *
 * Deciding code (analysis/) records what it concluded as a message code and
 * its parameters; this file says it in words, the same for every writer.
 * Messages that name a frame say which input it is in.  Texts that were
 * bounded when they were built keep those bounds (role reasons 320 bytes,
 * the profile's "why" 512...), so the words never depend on the writer. */
#include "messages.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analysis/policy_internal.h"

/* ---- the growing string ----------------------------------------------------- */

void pw_sb_printf(pw_sbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int w = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
        va_end(ap);
        if (w < 0)
            return;
        if (b->s && (size_t)w < room) {
            b->len += (size_t)w;
            return;
        }
        size_t ncap = b->cap ? b->cap * 2 : 256;
        while (ncap < b->len + (size_t)w + 1)
            ncap *= 2;
        char *ns = realloc(b->s, ncap);
        if (!ns)
            return;
        b->s = ns;
        b->cap = ncap;
    }
}

const char *pw_sb_str(const pw_sbuf *b)
{
    return b->s ? b->s : "";
}

void pw_sb_free(pw_sbuf *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

typedef void (*renderer)(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs);

static const char *ip_str(const pw_addr *a, char *buf)
{
    return pw_addr_str(a, buf, PW_ADDR_STRLEN);
}

/* ---- profiles --------------------------------------------------------------- */

static void profile_selected(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs)
{
    (void)m, (void)srcs;
    pw_sb_printf(b, "selected with --profile");
}

static const char *via_word(pw_name_via v)
{
    return v == PW_VIA_CONNECT ? "HTTP CONNECT" : v == PW_VIA_SNI ? "TLS SNI" : "DNS answer";
}

/* One detect hit, appended at off in a bounded buffer; returns the new offset. */
static int detect_hit(char *why, size_t size, int off, const pw_res_detect_hit *h, const pw_sources *srcs)
{
    const char *lead = off ? "; " : "traffic seen: ";
    unsigned long long n = (unsigned long long)h->n, frame = (unsigned long long)h->frame;
    const char *file = pw_source_name(srcs, h->source);
    switch (h->kind) {
    case PW_DETECT_SEEN:
        return off + snprintf(why + off, size - (size_t)off, "%s%llu attempt%s to %s/%u (first: %s frame %llu)",
                              lead, n, n == 1 ? "" : "s", pw_proto_str(h->proto), h->port, file, frame);
    case PW_DETECT_NTLM_RPC:
        return off + snprintf(why + off, size - (size_t)off,
                              "%s%llu DCE/RPC bind%s to tcp/135 with NTLMSSP (NTLM over RPC; first: %s frame %llu)",
                              lead, n, n == 1 ? "" : "s", file, frame);
    default:
        return off + snprintf(why + off, size - (size_t)off, "%s%llu connection%s for %s (first: %s %s frame %llu)",
                              lead, n, n == 1 ? "" : "s", h->pattern, via_word(h->first_via), file, frame);
    }
}

static void profile_traffic(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs)
{
    const pw_res_profile *p = m->ref;
    char why[512] = "";
    int off = 0;
    for (int i = 0; i < p->n_hits; i++)
        if (off < (int)sizeof why - 1)
            off = detect_hit(why, sizeof why, off, &p->hits[i], srcs);
    pw_sb_printf(b, "%s", why);
}

/* ---- roles ------------------------------------------------------------------ */

#define WHY_MAX 320

static void role_option(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs)
{
    (void)srcs;
    pw_sb_printf(b, "%s", m->s[0]);
}

static void role_addresses(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs)
{
    (void)srcs;
    char why[WHY_MAX];
    snprintf(why, sizeof why, "roles.%.60s.addresses in %.200s", m->s[0], m->s[1]);
    pw_sb_printf(b, "%s", why);
}

static void role_answers(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs)
{
    const pw_cond *c = m->ref;
    char why[WHY_MAX];
    int off = snprintf(why, sizeof why, "answers");
    for (int j = 0; j < c->n_ports && off < (int)sizeof why; j++)
        off += snprintf(why + off, sizeof why - (size_t)off, "%s %s/%u", j ? " and" : "",
                        pw_proto_str(c->ports[j].proto), c->ports[j].port);
    if (off < (int)sizeof why)
        snprintf(why + off, sizeof why - (size_t)off, " (e.g. %s frame %llu)", pw_source_name(srcs, m->source),
                 (unsigned long long)m->n[0]);
    pw_sb_printf(b, "%s", why);
}

static void role_connects(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs)
{
    char why[WHY_MAX], ip[PW_ADDR_STRLEN];
    snprintf(why, sizeof why, "connects to %s/%u on %s (%s frame %llu)", pw_proto_str((uint8_t)m->n[0]),
             (unsigned)m->n[1], ip_str(&m->a, ip), pw_source_name(srcs, m->source), (unsigned long long)m->n[2]);
    pw_sb_printf(b, "%s", why);
}

static void role_name(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs)
{
    static const char *const verb[] = {"sends HTTP CONNECT for", "sends TLS ClientHello for",
                                       "connects to the DNS answer for"};
    char why[WHY_MAX];
    snprintf(why, sizeof why, "%s %s (%s frame %llu)", verb[m->kind == PW_VIA_CONNECT ? 0 : m->kind == PW_VIA_SNI ? 1 : 2],
             m->s[0], pw_source_name(srcs, m->source), (unsigned long long)m->n[0]);
    pw_sb_printf(b, "%s", why);
}

static void role_proxy(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs)
{
    char why[WHY_MAX], ip[PW_ADDR_STRLEN];
    snprintf(why, sizeof why, "receives HTTP CONNECT on tcp/%u from %s for %s (%s frame %llu)", (unsigned)m->n[0],
             ip_str(&m->a, ip), m->s[0], pw_source_name(srcs, m->source), (unsigned long long)m->n[1]);
    pw_sb_printf(b, "%s", why);
}

static void role_by_rule(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs)
{
    (void)srcs;
    char why[WHY_MAX];
    snprintf(why, sizeof why, "%s of %s/%s traffic matching rule %s (no --role binds %s; a host may hold several roles)",
             m->kind ? "server" : "client", pw_proto_str((uint8_t)m->n[0]), m->s[2], m->s[1], m->s[0]);
    pw_sb_printf(b, "%s", why);
}

/* ---- rules ------------------------------------------------------------------ */

static void rule_proof(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs)
{
    (void)srcs;
    const pw_res_rule *r = m->ref;
    const char *proto = pw_proto_str(r->proto);
    char buf[1024];
    if (r->prove)
        snprintf(buf, sizeof buf, "%s", r->prove);
    else if (r->n_hosts)
        snprintf(buf, sizeof buf, "no TLS ClientHello, proxy CONNECT or DNS answer for %s on %s/%s from a %s was seen; "
                 "capture on the %s (or its proxy) while it starts and connects",
                 r->hosts[0], proto, r->ports, r->from, r->from);
    else if (r->dynamic)
        snprintf(buf, sizeof buf, "no connection to a port handed out by the endpoint mapper was seen from a %s to a %s; "
                 "capture an endpoint mapper exchange on tcp/135 (e.g. a WMI/DCOM call) and the connection "
                 "to the %s port it returns", r->from, r->to, r->dynamic == 2 ? r->ports : "dynamic");
    else
        snprintf(buf, sizeof buf, "no %s/%s connection attempt from a %s to a %s was seen; capture while a %s "
                 "connects to a %s on %s/%s", proto, r->ports, r->from, r->to, r->from, r->to, proto, r->ports);
    pw_sb_printf(b, "%s", buf);
}

static void rule_tls_inspection(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs)
{
    char msg[1400], ip[PW_ADDR_STRLEN];
    snprintf(msg, sizeof msg,
             "TLS inspection in the path: the certificate for %s seen by %s (%s frame %llu) "
             "was issued by \"%s\", not by the expected public CA chain; the inspection "
             "device must support mutual inspection for the sensor to work",
             m->s[0], ip_str(&m->a, ip), pw_source_name(srcs, m->source), (unsigned long long)m->n[0], m->s[1]);
    pw_sb_printf(b, "%s", msg);
}

static void rule_folded(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs)
{
    (void)srcs;
    char msg[400];
    snprintf(msg, sizeof msg,
             "%llu attempts of client/server pairs beyond the tracking limit (%zu pairs) were counted "
             "per server or per port: the verdict and counts include them, the server and client lists "
             "name only the first host of each",
             (unsigned long long)m->n[0], (size_t)m->n[1]);
    pw_sb_printf(b, "%s", msg);
}

static void rule_announced_unused(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs)
{
    char msg[600], ip[PW_ADDR_STRLEN], cl[PW_ADDR_STRLEN];
    snprintf(msg, sizeof msg,
             "the SQL Server Browser on %s announced instance %s on TCP %llu to %s (%s frame %llu), "
             "and the capture holds no attempt from that client to that port",
             ip_str(&m->a, ip), m->s[0] && m->s[0][0] ? m->s[0] : "?", (unsigned long long)m->n[0],
             ip_str(&m->a2, cl), pw_source_name(srcs, m->source), (unsigned long long)m->n[1]);
    pw_sb_printf(b, "%s", msg);
}

static void cloud_tls_inspection(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs)
{
    (void)m, (void)srcs;
    pw_sb_printf(b, "a TLS inspection device re-signs the Azure ATP certificate; "
                    "SSL inspection of sensor traffic must support mutual inspection");
}

/* ---- NNR -------------------------------------------------------------------- */

static const char *rcode_name(uint32_t rc)
{
    static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
    return rc < 6 ? names[rc] : "rcode";
}

static const char *resolved_detail(int method)
{
    return method == PW_NNR_NTLM_RPC  ? "NTLMSSP CHALLENGE names the computer"
         : method == PW_NNR_NETBIOS   ? "node status name table"
         : method == PW_NNR_RDP       ? "RDP server certificate"
                                      : "PTR answer";
}

/* A try that ended in transport: the reason, who sent the ICMP error, how
 * many tries, which DNS server. */
static void transport_detail(pw_sbuf *b, int method, const pw_res_nnr_try *t)
{
    char ip[PW_ADDR_STRLEN];
    pw_sb_printf(b, "%s", pw_reason_name(t->reason));
    if (t->has_icmp_from)
        pw_sb_printf(b, " from %s", ip_str(&t->icmp_from, ip));
    if (t->outcome == PW_OUT_UNANSWERED)
        pw_sb_printf(b, " after %u %s", t->retries + 1, t->retries ? "tries" : "try");
    if (method == PW_NNR_REVERSE_DNS)
        pw_sb_printf(b, " (dns server %s)", ip_str(&t->server, ip));
}

static void nnr_detail_of(pw_sbuf *b, int method, const pw_res_nnr_try *t)
{
    char ip[PW_ADDR_STRLEN];
    switch (t->result) {
    case PW_NNR_R_RESOLVED: pw_sb_printf(b, "%s", resolved_detail(method)); break;
    case PW_NNR_R_BIND_NAK: pw_sb_printf(b, "bind_nak (reason %u)", t->code); break;
    case PW_NNR_R_NBNS_NEGATIVE: pw_sb_printf(b, "nbns negative response rcode %u", t->code); break;
    case PW_NNR_R_RDP_NEG_FAILURE: pw_sb_printf(b, "rdp negotiation failure code %u", t->code); break;
    case PW_NNR_R_TLS13_HIDDEN: pw_sb_printf(b, "tls1.3 certificate hidden"); break;
    case PW_NNR_R_NXDOMAIN:
    case PW_NNR_R_SERVFAIL:
    case PW_NNR_R_DNS_REFUSED:
    case PW_NNR_R_DNS_ERROR:
    case PW_NNR_R_NO_PTR:
        pw_sb_printf(b, "dns %s (rcode %u)%s from %s", rcode_name(t->code), t->code,
                     t->result == PW_NNR_R_NO_PTR ? " without a PTR answer" : "", ip_str(&t->server, ip));
        break;
    case PW_NNR_R_NO_CHALLENGE:
        pw_sb_printf(b, "%s", t->code == 1 ? "NTLMSSP CHALLENGE without a computer name"
                                           : "no NTLMSSP CHALLENGE in the answer");
        break;
    case PW_NNR_R_NO_NAME: pw_sb_printf(b, "answer without a node status name"); break;
    case PW_NNR_R_NO_CERTIFICATE:
        pw_sb_printf(b, "%s", t->code == 1   ? "standard RDP security selected (no TLS)"
                              : t->code == 2 ? "certificate without a name"
                                             : "no server certificate seen");
        break;
    default: transport_detail(b, method, t); break;
    }
}

static void nnr_detail(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs)
{
    (void)srcs;
    nnr_detail_of(b, m->kind, m->ref);
}

static void nnr_alert(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs)
{
    (void)srcs;
    const pw_res_nnr_alert *al = m->ref;
    char ip[PW_ADDR_STRLEN];
    pw_sb_printf(b,
                 "Low success rate of %s name resolution from sensor %s: %u of %u targets "
                 "resolved (%.0f%% failed)",
                 pw_nnr_method_title(al->method), ip_str(&al->sensor, ip), al->resolved, al->attempted,
                 al->fail_share * 100.0);
}

/* Cause hints for the remediation, once per cause present. */
static const char *cause_hint(int method, int result)
{
    switch (result) {
    case PW_NNR_R_REFUSED:
        return method == PW_NNR_NETBIOS
                   ? "Refused: the target itself rejected UDP 137 (NetBIOS over TCP/IP disabled, or its host firewall rejects it)."
                   : method == PW_NNR_REVERSE_DNS
                         ? "Refused: the DNS server rejected the connection on port 53."
                         : "Refused: the target reset the connection (nothing listens on the port, or its host firewall rejects it).";
    case PW_NNR_R_BLOCKED:
        return "Blocked: a firewall or router ACL answered with an ICMP error instead of forwarding the traffic; allow the port from the sensor on that device.";
    case PW_NNR_R_NO_RESPONSE:
        return "No response: the traffic was dropped silently (a firewall that drops rather than rejects) or the target is offline.";
    case PW_NNR_R_INDETERMINATE:
        return "Indeterminate: the capture does not show the return path (one-sided span or capture ended); capture on the sensor itself to decide.";
    case PW_NNR_R_BIND_NAK:
        return "bind_nak: the target's RPC endpoint mapper rejected the NTLM-authenticated bind (check RPC and NTLM restrictions on the target).";
    case PW_NNR_R_NO_CHALLENGE:
        return "No NTLM CHALLENGE came back: the target accepted the connection but did not offer NTLM authentication on the endpoint mapper (NTLM may be restricted).";
    case PW_NNR_R_NBNS_NEGATIVE:
        return "Negative NBNS response: the target answered but refused to return its name table.";
    case PW_NNR_R_NO_NAME:
        return "The NBNS answer carried no computer name.";
    case PW_NNR_R_RDP_NEG_FAILURE:
        return "RDP negotiation failure: the target refused the security protocol the sensor asked for (check the RDP security layer setting; TLS must be allowed).";
    case PW_NNR_R_TLS13_HIDDEN:
        return "TLS 1.3: the certificate is encrypted, so the capture cannot show the name; this is not a firewall problem and the sensor may still have resolved it.";
    case PW_NNR_R_NO_CERTIFICATE:
        return "No certificate: the target did not use TLS (standard RDP security) or the certificate was not in the capture.";
    case PW_NNR_R_NXDOMAIN:
        return "NXDOMAIN: the DNS server has no PTR record: create the reverse lookup zone (in-addr.arpa / ip6.arpa) and let hosts register their PTR records.";
    case PW_NNR_R_SERVFAIL:
        return "SERVFAIL: the DNS server could not resolve the reverse zone (broken delegation or forwarder).";
    case PW_NNR_R_DNS_REFUSED:
        return "REFUSED: the DNS server refuses reverse lookups from the sensor: allow queries (and recursion) from it.";
    case PW_NNR_R_DNS_ERROR:
        return "The DNS server answered with an error code.";
    case PW_NNR_R_NO_PTR:
        return "The DNS server answered without a PTR record.";
    default:
        return NULL;
    }
}

/* What the method needs open, from the sensor to whom. */
static void remediation_ports(pw_sbuf *b, const pw_res_nnr_alert *al, const char *sensor)
{
    char ip[PW_ADDR_STRLEN];
    if (al->method != PW_NNR_REVERSE_DNS) {
        const char *port = al->method == PW_NNR_NETBIOS    ? "UDP port 137"
                           : al->method == PW_NNR_NTLM_RPC ? "TCP port 135"
                                                           : "TCP port 3389";
        pw_sb_printf(b,
                     "%s name resolution uses %s. Check that %s is open for inbound communication "
                     "from sensor %s on the target machines (their host firewalls) and check all "
                     "network configurations (such as firewalls and router ACLs between the sensor "
                     "and the targets) that could prevent communication to %s.",
                     pw_nnr_method_title(al->method), port, port, sensor, port);
        return;
    }
    pw_sb_printf(b,
                 "Reverse DNS sends PTR queries to the DNS servers on UDP/TCP port 53 (outbound "
                 "from the sensor). Check that sensor %s can reach the DNS server%s", sensor,
                 al->n_dns_servers > 1 ? "s" : "");
    for (int k = 0; k < al->n_dns_servers; k++)
        pw_sb_printf(b, "%s%s", k == 0 ? " (" : ", ", ip_str(&al->dns_servers[k], ip));
    pw_sb_printf(b, "%s and that reverse lookup is enabled (reverse lookup zones with PTR records for the addresses below).",
                 al->n_dns_servers ? ")" : "");
}

/* The failed targets named, with what happened to each. */
static void remediation_targets(pw_sbuf *b, const pw_res_nnr_alert *al)
{
    char ip[PW_ADDR_STRLEN];
    pw_sb_printf(b, " Failed targets (%u of %u):", al->failed, al->attempted);
    for (size_t i = 0; i < al->n_listed; i++) {
        const pw_res_nnr_failed *f = &al->listed[i];
        pw_sbuf d = {0};
        nnr_detail_of(&d, al->method, f->t);
        pw_sb_printf(b, "%s %s", i ? "," : "", ip_str(&f->target, ip));
        if (f->known_name)
            pw_sb_printf(b, " [%s]", f->known_name);
        if (f->t->outcome == PW_OUT_ANSWERED) /* the detail names the application result */
            pw_sb_printf(b, " (%s)", pw_sb_str(&d));
        else
            pw_sb_printf(b, " (%s: %s)", pw_nnr_result_name(f->t->result), pw_sb_str(&d));
        pw_sb_free(&d);
    }
    if (al->failed > al->n_listed)
        pw_sb_printf(b, " and %u more", al->failed - (unsigned)al->n_listed);
    pw_sb_printf(b, ".");
}

static void nnr_remediation(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs)
{
    (void)srcs;
    const pw_res_nnr_alert *al = m->ref;
    char sensor[PW_ADDR_STRLEN], ip[PW_ADDR_STRLEN];
    remediation_ports(b, al, ip_str(&al->sensor, sensor));
    remediation_targets(b, al);
    for (int r = 0; r < PW_NNR_R_COUNT; r++) {
        const char *h = al->causes[r] ? cause_hint(al->method, r) : NULL;
        if (!h)
            continue;
        pw_sb_printf(b, " %s", h);
        if (r == PW_NNR_R_BLOCKED && al->n_blockers) {
            pw_sb_printf(b, " ICMP errors came from");
            for (int k = 0; k < al->n_blockers; k++)
                pw_sb_printf(b, "%s %s", k ? "," : "", ip_str(&al->blockers[k], ip));
            pw_sb_printf(b, ".");
        }
    }
}

/* ---- the table -------------------------------------------------------------- */

static const renderer table[PW_MSG_COUNT] = {
    [PW_MSG_PROFILE_SELECTED] = profile_selected,
    [PW_MSG_PROFILE_TRAFFIC] = profile_traffic,
    [PW_MSG_ROLE_OPTION] = role_option,
    [PW_MSG_ROLE_ADDRESSES] = role_addresses,
    [PW_MSG_ROLE_ANSWERS] = role_answers,
    [PW_MSG_ROLE_CONNECTS] = role_connects,
    [PW_MSG_ROLE_NAME] = role_name,
    [PW_MSG_ROLE_PROXY] = role_proxy,
    [PW_MSG_ROLE_BY_RULE] = role_by_rule,
    [PW_MSG_RULE_PROOF] = rule_proof,
    [PW_MSG_RULE_TLS_INSPECTION] = rule_tls_inspection,
    [PW_MSG_RULE_FOLDED] = rule_folded,
    [PW_MSG_RULE_ANNOUNCED_UNUSED] = rule_announced_unused,
    [PW_MSG_CLOUD_TLS_INSPECTION] = cloud_tls_inspection,
    [PW_MSG_NNR_DETAIL] = nnr_detail,
    [PW_MSG_NNR_ALERT] = nnr_alert,
    [PW_MSG_NNR_REMEDIATION] = nnr_remediation,
};

void pw_msg_render(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs)
{
    if (m && (unsigned)m->id < PW_MSG_COUNT && table[m->id])
        table[m->id](b, m, srcs);
}

char *pw_msg_text(const pw_msg *m, const pw_sources *srcs)
{
    pw_sbuf b = {0};
    pw_msg_render(&b, m, srcs);
    char *s = strdup(pw_sb_str(&b));
    pw_sb_free(&b);
    return s;
}

/* ---- fixes ------------------------------------------------------------------ */

void pw_fix_cause_render(pw_sbuf *b, const pw_res_fix *f)
{
    char ip[PW_ADDR_STRLEN], dev[PW_ADDR_STRLEN];
    pw_addr_str(&f->server, ip, sizeof ip);
    switch (f->cause) {
    case PW_FIX_PATH_REFUSED:
        if (f->has_path_device)
            pw_addr_str(&f->path_device, dev, sizeof dev);
        pw_sb_printf(b,
                     "A device in the path (%s) refused these connections, not %s itself: the host firewall on %s "
                     "is not the one to change. Allow the flows below on that network device.",
                     f->has_path_device ? dev : "a third address", ip, ip);
        break;
    case PW_FIX_HOST_REFUSED:
        pw_sb_printf(b,
                     "%s itself refused (reset or ICMP error from the server): either its firewall rejects these "
                     "clients or no service listens on the port. Check the service is running, then allow the "
                     "clients in its host firewall.",
                     ip);
        break;
    default:
        pw_sb_printf(b,
                     "No answer reached the clients: the connections were dropped silently, by the host firewall "
                     "on %s or by a network firewall on the way. Allow them on both.",
                     ip);
        break;
    }
}

const char *pw_msg_h2_tls(void)
{
    return "gRPC over TLS: calls not visible (HTTP/2 chosen by ALPN h2 inside TLS; the port answers, "
           "what the calls returned is encrypted)";
}
