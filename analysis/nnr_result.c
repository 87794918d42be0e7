/* nnr_result.c - the deciding half of NNR (intake: nnr.c).
 *
 * Rates per sensor and method count targets (not tries): attempted,
 * resolved, transport outcome of the best try, app_failed (answered but no
 * name), rate = resolved / attempted.  An alert is raised when attempted > 0
 * and the failure share (attempted - resolved) / attempted exceeds
 * cfg->nnr_alert_threshold (0.9 by default, Defender for Identity's).
 *
 * JSON beyond the schema (additions only): per target and method
 * "detail" (one human line: "bind_nak (reason 2)", "icmp-admin-prohibited from
 * 198.18.0.1", "timeout after 3 tries"...), "file" (the input its frames are
 * in) and, for reverse_dns, "server" (the DNS server asked); per alert
 * "evidence" ([{file, frame, target, result}], the frames of "examples" with
 * their file).  "rate" is null when nothing was attempted.  The frames of a
 * try: the request (first SYN / first datagram / the PTR query), the reply or
 * ICMP error, and the frame of the application answer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnr_internal.h"

static const char *const method_key[M_COUNT] = {"ntlm_rpc", "netbios", "rdp", "reverse_dns"};
static const char *const method_title[M_COUNT] = {"NTLM over RPC", "NetBIOS", "RDP (TLS)",
                                                  "reverse DNS"};
/* Which method's name the target entry shows first (Defender's order). */
static const int name_order[M_COUNT] = {M_NTLM_RPC, M_NETBIOS, M_RDP, M_RDNS};

static const char *const result_name[R_COUNT] = {
    "none", "resolved",
    "bind_nak", "nbns_negative", "rdp_neg_failure", "tls13_cert_hidden",
    "nxdomain", "servfail", "dns_refused", "dns_error",
    "no_challenge", "no_name", "no_certificate", "no_ptr",
    "refused", "blocked", "no_response", "indeterminate",
};

/* ---- report ------------------------------------------------------------- */

typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
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

static const char *sb_str(const sbuf *b)
{
    return b->s ? b->s : "";
}

static const char *rcode_name(uint32_t rc)
{
    switch (rc) {
    case 0: return "NOERROR";
    case 1: return "FORMERR";
    case 2: return "SERVFAIL";
    case 3: return "NXDOMAIN";
    case 4: return "NOTIMP";
    case 5: return "REFUSED";
    default: return "rcode";
    }
}

/* A one-line human explanation of a try. */
static void try_detail(sbuf *b, int method, const nnr_try *t)
{
    char ip[PW_ADDR_STRLEN];
    switch (t->result) {
    case R_RESOLVED:
        sb_printf(b, "%s", method == M_NTLM_RPC  ? "NTLMSSP CHALLENGE names the computer"
                           : method == M_NETBIOS ? "node status name table"
                           : method == M_RDP     ? "RDP server certificate"
                                                 : "PTR answer");
        break;
    case R_BIND_NAK: sb_printf(b, "bind_nak (reason %u)", t->code); break;
    case R_NBNS_NEGATIVE: sb_printf(b, "nbns negative response rcode %u", t->code); break;
    case R_RDP_NEG_FAILURE: sb_printf(b, "rdp negotiation failure code %u", t->code); break;
    case R_TLS13_HIDDEN: sb_printf(b, "tls1.3 certificate hidden"); break;
    case R_NXDOMAIN:
    case R_SERVFAIL:
    case R_DNS_REFUSED:
    case R_DNS_ERROR:
    case R_NO_PTR:
        sb_printf(b, "dns %s (rcode %u)%s from %s", rcode_name(t->code), t->code,
                  t->result == R_NO_PTR ? " without a PTR answer" : "",
                  pw_addr_str(&t->server, ip, sizeof ip));
        break;
    case R_NO_CHALLENGE:
        sb_printf(b, "%s", t->code == 1 ? "NTLMSSP CHALLENGE without a computer name"
                                        : "no NTLMSSP CHALLENGE in the answer");
        break;
    case R_NO_NAME: sb_printf(b, "answer without a node status name"); break;
    case R_NO_CERTIFICATE:
        sb_printf(b, "%s", t->code == 1   ? "standard RDP security selected (no TLS)"
                           : t->code == 2 ? "certificate without a name"
                                          : "no server certificate seen");
        break;
    default:
        sb_printf(b, "%s", pw_reason_name(t->reason));
        if (t->has_icmp_from)
            sb_printf(b, " from %s", pw_addr_str(&t->icmp_from, ip, sizeof ip));
        if (t->outcome == PW_OUT_UNANSWERED)
            sb_printf(b, " after %u %s", t->retries + 1, t->retries ? "tries" : "try");
        if (method == M_RDNS)
            sb_printf(b, " (dns server %s)", pw_addr_str(&t->server, ip, sizeof ip));
        break;
    }
}

static json_t *jstr_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *try_json(int method, const nnr_try *t, const pw_sources *srcs)
{
    json_t *frames = json_array();
    for (int i = 0; i < t->nframes; i++)
        json_array_append_new(frames, json_integer((json_int_t)t->frames[i]));
    sbuf d = {0};
    try_detail(&d, method, t);
    json_t *o = json_object();
    json_object_set_new(o, "outcome", json_string(pw_outcome_name(t->outcome)));
    json_object_set_new(o, "result", json_string(result_name[t->result]));
    json_object_set_new(o, "detail", json_string(sb_str(&d)));
    json_object_set_new(o, "name", jstr_or_null(t->name));
    json_object_set_new(o, "frames", frames);
    json_object_set_new(o, "file", json_string(pw_source_name(srcs, t->source)));
    if (method == M_RDNS) {
        char ip[PW_ADDR_STRLEN];
        json_object_set_new(o, "server", json_string(pw_addr_str(&t->server, ip, sizeof ip)));
    }
    free(d.s);
    return o;
}

static int cmp_pair(const void *a, const void *b)
{
    const nnr_pair *x = *(const nnr_pair *const *)a, *y = *(const nnr_pair *const *)b;
    int c = pw_addr_cmp(&x->k.sensor, &y->k.sensor);
    return c ? c : pw_addr_cmp(&x->k.target, &y->k.target);
}

static int cmp_addr(const void *a, const void *b)
{
    return pw_addr_cmp((const pw_addr *)a, (const pw_addr *)b);
}

typedef struct mstat {
    unsigned attempted, resolved, app_failed;
    unsigned out[PW_OUT_COUNT];
} mstat;

static json_t *rate_json(unsigned num, unsigned den)
{
    return den ? json_real((double)num / (double)den) : json_null();
}

/* Cause hints for the remediation, once per cause present. */
static const char *cause_hint(int method, uint8_t result)
{
    switch (result) {
    case R_REFUSED:
        return method == M_NETBIOS
                   ? "Refused: the target itself rejected UDP 137 (NetBIOS over TCP/IP disabled, or its host firewall rejects it)."
                   : method == M_RDNS
                         ? "Refused: the DNS server rejected the connection on port 53."
                         : "Refused: the target reset the connection (nothing listens on the port, or its host firewall rejects it).";
    case R_BLOCKED:
        return "Blocked: a firewall or router ACL answered with an ICMP error instead of forwarding the traffic; allow the port from the sensor on that device.";
    case R_NO_RESPONSE:
        return "No response: the traffic was dropped silently (a firewall that drops rather than rejects) or the target is offline.";
    case R_INDETERMINATE:
        return "Indeterminate: the capture does not show the return path (one-sided span or capture ended); capture on the sensor itself to decide.";
    case R_BIND_NAK:
        return "bind_nak: the target's RPC endpoint mapper rejected the NTLM-authenticated bind (check RPC and NTLM restrictions on the target).";
    case R_NO_CHALLENGE:
        return "No NTLM CHALLENGE came back: the target accepted the connection but did not offer NTLM authentication on the endpoint mapper (NTLM may be restricted).";
    case R_NBNS_NEGATIVE:
        return "Negative NBNS response: the target answered but refused to return its name table.";
    case R_NO_NAME:
        return "The NBNS answer carried no computer name.";
    case R_RDP_NEG_FAILURE:
        return "RDP negotiation failure: the target refused the security protocol the sensor asked for (check the RDP security layer setting; TLS must be allowed).";
    case R_TLS13_HIDDEN:
        return "TLS 1.3: the certificate is encrypted, so the capture cannot show the name; this is not a firewall problem and the sensor may still have resolved it.";
    case R_NO_CERTIFICATE:
        return "No certificate: the target did not use TLS (standard RDP security) or the certificate was not in the capture.";
    case R_NXDOMAIN:
        return "NXDOMAIN: the DNS server has no PTR record: create the reverse lookup zone (in-addr.arpa / ip6.arpa) and let hosts register their PTR records.";
    case R_SERVFAIL:
        return "SERVFAIL: the DNS server could not resolve the reverse zone (broken delegation or forwarder).";
    case R_DNS_REFUSED:
        return "REFUSED: the DNS server refuses reverse lookups from the sensor: allow queries (and recursion) from it.";
    case R_DNS_ERROR:
        return "The DNS server answered with an error code.";
    case R_NO_PTR:
        return "The DNS server answered without a PTR record.";
    default:
        return NULL;
    }
}

static void remediation(sbuf *b, const pw_nnr *n, int method, const char *sensor,
                        nnr_pair **pv, size_t first, size_t last, const mstat *st,
                        const pw_hosts *hosts)
{
    char ip[PW_ADDR_STRLEN];
    switch (method) {
    case M_NETBIOS:
    case M_NTLM_RPC:
    case M_RDP: {
        const char *port = method == M_NETBIOS ? "UDP port 137" : method == M_NTLM_RPC ? "TCP port 135" : "TCP port 3389";
        sb_printf(b,
                  "%s name resolution uses %s. Check that %s is open for inbound communication "
                  "from sensor %s on the target machines (their host firewalls) and check all "
                  "network configurations (such as firewalls and router ACLs between the sensor "
                  "and the targets) that could prevent communication to %s.",
                  method_title[method], port, port, sensor, port);
        break;
    }
    default: {
        /* the DNS servers the sensor used */
        pw_addr servers[8];
        int ns = 0;
        for (size_t i = first; i < last; i++) {
            const nnr_try *t = &pv[i]->m[M_RDNS].best;
            if (!pv[i]->m[M_RDNS].tried)
                continue;
            bool seen = false;
            for (int k = 0; k < ns && !seen; k++)
                seen = pw_addr_eq(&servers[k], &t->server);
            if (!seen && ns < 8)
                servers[ns++] = t->server;
        }
        sb_printf(b,
                  "Reverse DNS sends PTR queries to the DNS servers on UDP/TCP port 53 (outbound "
                  "from the sensor). Check that sensor %s can reach the DNS server%s", sensor,
                  ns > 1 ? "s" : "");
        qsort(servers, (size_t)ns, sizeof servers[0], cmp_addr);
        for (int k = 0; k < ns; k++)
            sb_printf(b, "%s%s", k == 0 ? " (" : ", ", pw_addr_str(&servers[k], ip, sizeof ip));
        sb_printf(b, "%s and that reverse lookup is enabled (reverse lookup zones with PTR records for the addresses below).",
                  ns ? ")" : "");
        break;
    }
    }
    unsigned failed = st->attempted - st->resolved;
    sb_printf(b, " Failed targets (%u of %u):", failed, st->attempted);
    int max = n->cfg.max_evidence > 0 ? n->cfg.max_evidence : 10;
    int listed = 0;
    bool causes[R_COUNT] = {false};
    pw_addr blockers[8];
    int nblk = 0;
    for (size_t i = first; i < last; i++) {
        const nnr_pair *p = pv[i];
        if (!p->m[method].tried)
            continue;
        const nnr_try *t = &p->m[method].best;
        if (t->result == R_RESOLVED)
            continue;
        causes[t->result] = true;
        if (t->has_icmp_from && t->outcome == PW_OUT_BLOCKED) {
            bool seen = false;
            for (int k = 0; k < nblk && !seen; k++)
                seen = pw_addr_eq(&blockers[k], &t->icmp_from);
            if (!seen && nblk < 8)
                blockers[nblk++] = t->icmp_from;
        }
        if (listed >= max)
            continue;
        sbuf d = {0};
        try_detail(&d, method, t);
        const char *known = pw_hosts_best_name(hosts, &p->k.target);
        sb_printf(b, "%s %s", listed ? "," : "", pw_addr_str(&p->k.target, ip, sizeof ip));
        if (known)
            sb_printf(b, " [%s]", known);
        if (t->outcome == PW_OUT_ANSWERED) /* the detail names the application result */
            sb_printf(b, " (%s)", sb_str(&d));
        else
            sb_printf(b, " (%s: %s)", result_name[t->result], sb_str(&d));
        free(d.s);
        listed++;
    }
    if (failed > (unsigned)listed)
        sb_printf(b, " and %u more", failed - (unsigned)listed);
    sb_printf(b, ".");
    for (int r = 0; r < R_COUNT; r++) {
        if (!causes[r])
            continue;
        const char *h = cause_hint(method, (uint8_t)r);
        if (!h)
            continue;
        sb_printf(b, " %s", h);
        if (r == R_BLOCKED && nblk) {
            qsort(blockers, (size_t)nblk, sizeof blockers[0], cmp_addr);
            sb_printf(b, " ICMP errors came from");
            for (int k = 0; k < nblk; k++)
                sb_printf(b, "%s %s", k ? "," : "", pw_addr_str(&blockers[k], ip, sizeof ip));
            sb_printf(b, ".");
        }
    }
}

static json_t *sensor_json(const pw_nnr *n, const pw_addr *sensor, bool option, nnr_pair **pv,
                           size_t first, size_t last, const pw_hosts *hosts,
                           const pw_sources *srcs)
{
    char sip[PW_ADDR_STRLEN];
    pw_addr_str(sensor, sip, sizeof sip);
    mstat st[M_COUNT];
    memset(st, 0, sizeof st);
    unsigned targets = 0, resolved = 0;
    for (size_t i = first; i < last; i++) {
        const nnr_pair *p = pv[i];
        bool any = false, res = false;
        for (int m = 0; m < M_COUNT; m++) {
            if (!p->m[m].tried)
                continue;
            any = true;
            const nnr_try *t = &p->m[m].best;
            st[m].attempted++;
            if ((unsigned)t->outcome < PW_OUT_COUNT)
                st[m].out[t->outcome]++;
            if (t->result == R_RESOLVED) {
                st[m].resolved++;
                res = true;
            } else if (t->outcome == PW_OUT_ANSWERED) {
                st[m].app_failed++;
            }
        }
        targets += any;
        resolved += res;
    }
    json_t *methods = json_object();
    json_t *alerts = json_array();
    for (int m = 0; m < M_COUNT; m++) {
        const mstat *s = &st[m];
        json_object_set_new(
            methods, method_key[m],
            json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o}", "attempted", s->attempted,
                      "resolved", s->resolved, "answered", s->out[PW_OUT_ANSWERED], "refused",
                      s->out[PW_OUT_REFUSED], "blocked", s->out[PW_OUT_BLOCKED], "unanswered",
                      s->out[PW_OUT_UNANSWERED], "indeterminate", s->out[PW_OUT_INDETERMINATE],
                      "app_failed", s->app_failed, "rate", rate_json(s->resolved, s->attempted)));
        if (s->attempted == 0)
            continue;
        unsigned failed = s->attempted - s->resolved;
        double fail_share = (double)failed / (double)s->attempted;
        if (!(fail_share > n->cfg.nnr_alert_threshold))
            continue;
        sbuf msg = {0}, rem = {0};
        sb_printf(&msg,
                  "Low success rate of %s name resolution from sensor %s: %u of %u targets "
                  "resolved (%.0f%% failed)",
                  method_title[m], sip, s->resolved, s->attempted, fail_share * 100.0);
        remediation(&rem, n, m, sip, pv, first, last, s, hosts);
        /* "examples": the frame numbers (as the schema has them);
         * "evidence": the same frames with their file, target and result. */
        json_t *examples = json_array(), *evidence = json_array();
        int max = n->cfg.max_evidence > 0 ? n->cfg.max_evidence : 10;
        int shown = 0;
        for (size_t i = first; i < last && shown < max; i++) {
            const nnr_pair *p = pv[i];
            if (!p->m[m].tried || p->m[m].best.result == R_RESOLVED)
                continue;
            const nnr_try *t = &p->m[m].best;
            char tip[PW_ADDR_STRLEN];
            for (int k = 0; k < t->nframes; k++) {
                json_array_append_new(examples, json_integer((json_int_t)t->frames[k]));
                json_array_append_new(
                    evidence,
                    json_pack("{s:s, s:I, s:s, s:s}", "file", pw_source_name(srcs, t->source),
                              "frame", (json_int_t)t->frames[k], "target",
                              pw_addr_str(&p->k.target, tip, sizeof tip), "result",
                              result_name[t->result]));
            }
            shown++;
        }
        json_array_append_new(alerts,
                              json_pack("{s:s, s:o, s:s, s:s, s:o, s:o}", "method", method_key[m],
                                        "rate", rate_json(s->resolved, s->attempted), "message",
                                        sb_str(&msg), "remediation", sb_str(&rem), "examples",
                                        examples, "evidence", evidence));
        free(msg.s);
        free(rem.s);
    }
    return json_pack("{s:s, s:s, s:i, s:i, s:o, s:o, s:o}", "sensor", sip, "found_by",
                     option ? "option" : "inferred", "targets", targets, "resolved", resolved,
                     "rate", rate_json(resolved, targets), "methods", methods, "alerts", alerts);
}

static json_t *target_json(const nnr_pair *p, const pw_sources *srcs)
{
    char sip[PW_ADDR_STRLEN], tip[PW_ADDR_STRLEN];
    const char *name = NULL;
    for (int i = 0; i < M_COUNT && !name; i++) {
        int m = name_order[i];
        if (p->m[m].tried && p->m[m].best.result == R_RESOLVED)
            name = p->m[m].best.name;
    }
    json_t *methods = json_object();
    for (int m = 0; m < M_COUNT; m++)
        if (p->m[m].tried)
            json_object_set_new(methods, method_key[m], try_json(m, &p->m[m].best, srcs));
    return json_pack("{s:s, s:s, s:o, s:o}", "sensor", pw_addr_str(&p->k.sensor, sip, sizeof sip),
                     "target", pw_addr_str(&p->k.target, tip, sizeof tip), "name",
                     jstr_or_null(name), "methods", methods);
}

json_t *pw_nnr_json(pw_nnr *n, const pw_hosts *hosts, const pw_sources *srcs)
{
    json_t *sensors = json_array(), *targets = json_array();
    json_t *root = json_pack("{s:o, s:o}", "sensors", sensors, "targets", targets);
    if (!n || !root)
        return root;

    size_t np = n->n_pairs;
    nnr_pair **pv = np ? malloc(np * sizeof *pv) : NULL;
    if (np && !pv)
        return root;
    size_t k = 0;
    for (nnr_pair *p = n->pairs; p; p = p->hh.next)
        pv[k++] = p;
    if (np)
        qsort(pv, np, sizeof *pv, cmp_pair);

    /* The sensors. */
    bool option = n->cfg.n_sensors > 0;
    size_t cap = np + PW_MAX_SENSORS + 1, ns = 0;
    pw_addr *sv = malloc(cap * sizeof *sv);
    if (!sv) {
        free(pv);
        return root;
    }
    if (option) {
        for (int i = 0; i < n->cfg.n_sensors && i < PW_MAX_SENSORS; i++) {
            const pw_cidr *c = &n->cfg.sensors[i];
            if ((c->net.family == 4 && c->prefix == 32) || (c->net.family == 6 && c->prefix == 128))
                sv[ns++] = c->net;
        }
    }
    for (size_t i = 0; i < np;) {
        size_t j = i;
        unsigned shaped_targets = 0;
        while (j < np && pw_addr_eq(&pv[j]->k.sensor, &pv[i]->k.sensor)) {
            bool shaped = false;
            for (int m = 0; m < M_COUNT; m++)
                shaped |= pv[j]->m[m].shaped;
            shaped_targets += shaped;
            j++;
        }
        if (option ? is_sensor_candidate(n, &pv[i]->k.sensor)
                   : shaped_targets >= PW_NNR_INFER_MIN_TARGETS)
            sv[ns++] = pv[i]->k.sensor;
        i = j;
    }
    qsort(sv, ns, sizeof *sv, cmp_addr);

    size_t pi = 0;
    for (size_t s = 0; s < ns; s++) {
        if (s > 0 && pw_addr_eq(&sv[s], &sv[s - 1]))
            continue;
        while (pi < np && pw_addr_cmp(&pv[pi]->k.sensor, &sv[s]) < 0)
            pi++;
        size_t last = pi;
        while (last < np && pw_addr_eq(&pv[last]->k.sensor, &sv[s]))
            last++;
        json_array_append_new(sensors, sensor_json(n, &sv[s], option, pv, pi, last, hosts, srcs));
        for (size_t i = pi; i < last; i++)
            json_array_append_new(targets, target_json(pv[i], srcs));
        pi = last;
    }
    free(sv);
    free(pv);
    return root;
}
