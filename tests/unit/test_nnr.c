/* test_nnr.c - NNR per sensor, target and method from hand-built events and
 * attempts: results, best-try selection, event/attempt order, sensors
 * (option and inferred), rates, alerts and the "nnr" JSON. */
#include <stdlib.h>
#include <string.h>

#include "../../analysis/nnr.h"
#include "../../report/report.h"
#include "check.h"
#include "conn_shim.h"

/* Connection records the events and attempts land on (conn_shim.h). */
static conn_shim shim;

static void nnr_removed(void *arg, pw_conn *c)
{
    pw_nnr_conn_removed(arg, c);
}

static void bind_shim(pw_nnr *n)
{
    if (shim.arg != n)
        shim_init(&shim, nnr_removed, n), shim.attempts_linger = true;
}

static void feed(pw_nnr *n, const pw_event *ev)
{
    bind_shim(n);
    pw_nnr_event(n, shim_event(&shim, ev), ev);
}

/* The "nnr" object of the report: every connection removed (as at the end
 * of an input), decided into a result, rendered by report/json.c. */
static json_t *nnr_json(pw_nnr *n, const pw_hosts *h, const pw_sources *srcs)
{
    if (n && shim.arg == n)
        shim_flush(&shim);
    pw_result r;
    pw_result_init(&r, srcs);
    pw_nnr_result(n, h, &r);
    json_t *j = pw_json_nnr(&r);
    pw_result_free(&r);
    return j;
}

#define S "10.0.0.5"
#define T1 "10.0.1.1"
#define T2 "10.0.1.2"
#define T3 "10.0.1.3"
#define T4 "10.0.1.4"
#define DNS1 "10.0.0.53"
#define ROUTER "10.0.0.1"

static pw_addr A(const char *s)
{
    pw_addr a;
    int pfx;
    memset(&a, 0, sizeof a);
    if (!pw_addr_parse_cidr(s, &a, &pfx))
        fprintf(stderr, "bad address %s\n", s);
    return a;
}

static pw_event ev_make(pw_event_type type, uint64_t frame, uint8_t proto, const char *client,
                        uint16_t cport, const char *server, uint16_t sport, int dir)
{
    pw_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.frame = frame;
    ev.flow.proto = proto;
    ev.flow.client = A(client);
    ev.flow.server = A(server);
    ev.flow.client_port = cport;
    ev.flow.server_port = sport;
    ev.dir = dir;
    return ev;
}

static pw_attempt att(uint8_t proto, const char *client, uint16_t cport, const char *server,
                      uint16_t port, pw_outcome o, pw_reason r, uint64_t freq, uint64_t frep)
{
    pw_attempt a;
    memset(&a, 0, sizeof a);
    a.proto = proto;
    a.client = A(client);
    a.server = A(server);
    a.client_port = cport;
    a.port = port;
    a.outcome = o;
    a.reason = r;
    a.frame_request = freq;
    a.frame_reply = frep;
    return a;
}

/* ---- event builders -------------------------------------------------------- */

static void rpc_bind(pw_nnr *n, uint64_t f, const char *c, uint16_t cp, const char *t, uint8_t auth)
{
    pw_event ev = ev_make(PW_EV_DCERPC, f, 6, c, cp, t, 135, 0);
    ev.u.dcerpc.ptype = PW_DCERPC_BIND;
    ev.u.dcerpc.iface_is_epm = true;
    ev.u.dcerpc.auth_type = auth;
    feed(n, &ev);
    if (auth == PW_AUTHN_WINNT) {
        pw_event ne = ev_make(PW_EV_NTLMSSP, f, 6, c, cp, t, 135, 0);
        ne.u.ntlmssp.msg_type = PW_NTLM_NEGOTIATE;
        feed(n, &ne);
    }
}

static void rpc_reply(pw_nnr *n, uint64_t f, const char *c, uint16_t cp, const char *t,
                      uint8_t ptype, uint16_t reason, const char *nb, const char *dnsname)
{
    pw_event ev = ev_make(PW_EV_DCERPC, f, 6, c, cp, t, 135, 1);
    ev.u.dcerpc.ptype = ptype;
    ev.u.dcerpc.reject_reason = reason;
    feed(n, &ev);
    if (nb || dnsname) {
        pw_event ne = ev_make(PW_EV_NTLMSSP, f, 6, c, cp, t, 135, 1);
        ne.u.ntlmssp.msg_type = PW_NTLM_CHALLENGE;
        if (nb)
            strcpy(ne.u.ntlmssp.nb_computer, nb);
        if (dnsname)
            strcpy(ne.u.ntlmssp.dns_computer, dnsname);
        feed(n, &ne);
    }
}

static void nbstat_query(pw_nnr *n, uint64_t f, const char *c, uint16_t cp, const char *t, uint16_t qtype)
{
    pw_event ev = ev_make(PW_EV_NBNS, f, 17, c, cp, t, 137, 0);
    ev.u.nbns.txid = (uint16_t)cp;
    ev.u.nbns.qtype = qtype;
    strcpy(ev.u.nbns.qname, "*");
    feed(n, &ev);
}

static void nbstat_reply(pw_nnr *n, uint64_t f, const char *c, uint16_t cp, const char *t,
                         uint8_t rcode, const char *name)
{
    pw_event ev = ev_make(PW_EV_NBNS, f, 17, c, cp, t, 137, 1);
    ev.u.nbns.response = true;
    ev.u.nbns.rcode = rcode;
    ev.u.nbns.qtype = PW_NBNS_QTYPE_NBSTAT;
    if (name) {
        ev.u.nbns.n_names = 3;
        strcpy(ev.u.nbns.names[0].name, "CORP");
        ev.u.nbns.names[0].suffix = 0x00;
        ev.u.nbns.names[0].group = true;
        strcpy(ev.u.nbns.names[1].name, name);
        ev.u.nbns.names[1].suffix = 0x20;
        strcpy(ev.u.nbns.names[2].name, name);
        ev.u.nbns.names[2].suffix = 0x00;
    }
    feed(n, &ev);
}

static void rdp_cr(pw_nnr *n, uint64_t f, const char *c, uint16_t cp, const char *t)
{
    pw_event ev = ev_make(PW_EV_RDP, f, 6, c, cp, t, 3389, 0);
    ev.u.rdp.kind = PW_RDP_CONNECTION_REQUEST;
    strcpy(ev.u.rdp.cookie, "sensor");
    ev.u.rdp.has_neg = true;
    ev.u.rdp.requested_protocols = 1;
    feed(n, &ev);
}

static void rdp_cc(pw_nnr *n, uint64_t f, const char *c, uint16_t cp, const char *t, bool failure,
                   uint32_t code)
{
    pw_event ev = ev_make(PW_EV_RDP, f, 6, c, cp, t, 3389, 1);
    ev.u.rdp.kind = PW_RDP_CONNECTION_CONFIRM;
    ev.u.rdp.has_neg = true;
    ev.u.rdp.selected_protocol = 1;
    ev.u.rdp.failure = failure;
    ev.u.rdp.failure_code = code;
    feed(n, &ev);
}

static void tls_ev(pw_nnr *n, uint64_t f, const char *c, uint16_t cp, const char *t, uint8_t kind,
                   const char *cn)
{
    pw_event ev = ev_make(PW_EV_TLS, f, 6, c, cp, t, 3389, kind == PW_TLS_CLIENT_HELLO ? 0 : 1);
    ev.u.tls.kind = kind;
    if (kind == PW_TLS_SERVER_HELLO)
        ev.u.tls.version = 0x0303;
    if (cn)
        strcpy(ev.u.tls.subject_cn, cn);
    feed(n, &ev);
}

static void ptr_query(pw_nnr *n, uint64_t f, uint8_t proto, const char *c, uint16_t cp,
                      const char *dns, const char *target)
{
    pw_event ev = ev_make(PW_EV_DNS, f, proto, c, cp, dns, 53, 0);
    ev.u.dns.txid = (uint16_t)(cp ^ 0x5a5a);
    ev.u.dns.qtype = 12;
    ev.u.dns.qdcount = 1;
    strcpy(ev.u.dns.qname, "x.in-addr.arpa");
    ev.u.dns.reverse = true;
    ev.u.dns.reverse_addr = A(target);
    feed(n, &ev);
}

static void ptr_reply(pw_nnr *n, uint64_t f, uint8_t proto, const char *c, uint16_t cp,
                      const char *dns, const char *target, uint8_t rcode, const char *name)
{
    pw_event ev = ev_make(PW_EV_DNS, f, proto, c, cp, dns, 53, 1);
    ev.u.dns.txid = (uint16_t)(cp ^ 0x5a5a);
    ev.u.dns.response = true;
    ev.u.dns.rcode = rcode;
    ev.u.dns.qtype = 12;
    ev.u.dns.qdcount = 1;
    strcpy(ev.u.dns.qname, "x.in-addr.arpa");
    ev.u.dns.reverse = true;
    ev.u.dns.reverse_addr = A(target);
    if (name) {
        ev.u.dns.n_answers = 1;
        ev.u.dns.answers[0].type = 12;
        strcpy(ev.u.dns.answers[0].target, name);
    }
    feed(n, &ev);
}

static void attempt(pw_nnr *n, pw_attempt a)
{
    bind_shim(n);
    shim_attempt(&shim, &a);
}

/* ---- JSON helpers ---------------------------------------------------------- */

static json_t *sensor_of(json_t *nnr, const char *ip)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(nnr, "sensors"), i, v) {
        if (strcmp(json_string_value(json_object_get(v, "sensor")), ip) == 0)
            return v;
    }
    return NULL;
}

static json_t *target_of(json_t *nnr, const char *sensor, const char *ip)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(nnr, "targets"), i, v) {
        if (strcmp(json_string_value(json_object_get(v, "sensor")), sensor) == 0 &&
            strcmp(json_string_value(json_object_get(v, "target")), ip) == 0)
            return v;
    }
    return NULL;
}

static const char *mfield(json_t *nnr, const char *sensor, const char *ip, const char *method,
                          const char *field)
{
    json_t *t = target_of(nnr, sensor, ip);
    json_t *m = t ? json_object_get(json_object_get(t, "methods"), method) : NULL;
    json_t *f = m ? json_object_get(m, field) : NULL;
    if (!f)
        return "(absent)";
    return json_is_null(f) ? "(null)" : json_string_value(f);
}

static long long frame_at(json_t *nnr, const char *sensor, const char *ip, const char *method, size_t i)
{
    json_t *t = target_of(nnr, sensor, ip);
    json_t *m = t ? json_object_get(json_object_get(t, "methods"), method) : NULL;
    json_t *fr = m ? json_array_get(json_object_get(m, "frames"), i) : NULL;
    return fr ? json_integer_value(fr) : -1;
}

static long long stat_of(json_t *sensor, const char *method, const char *field)
{
    json_t *m = json_object_get(json_object_get(sensor, "methods"), method);
    json_t *v = m ? json_object_get(m, field) : NULL;
    return v ? json_integer_value(v) : -1;
}

static double rate_of(json_t *sensor, const char *method)
{
    json_t *m = method ? json_object_get(json_object_get(sensor, "methods"), method) : sensor;
    json_t *v = m ? json_object_get(m, "rate") : NULL;
    return v && json_is_number(v) ? json_number_value(v) : -1.0;
}

static json_t *alert_of(json_t *sensor, const char *method)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(sensor, "alerts"), i, v) {
        if (strcmp(json_string_value(json_object_get(v, "method")), method) == 0)
            return v;
    }
    return NULL;
}

#define CHECK_NEAR(got, want) CHECK((got) > (want) - 1e-9 && (got) < (want) + 1e-9)

/* The main scenario: sensor S resolving T1..T4 with every method. */
static void feed_main(pw_nnr *n)
{
    /* ---- ntlm_rpc ---- */
    /* T1: bind + NTLMSSP, bind_ack + CHALLENGE; events before the attempt */
    rpc_bind(n, 4, S, 50001, T1, PW_AUTHN_WINNT);
    rpc_reply(n, 5, S, 50001, T1, PW_DCERPC_BIND_ACK, 0, "T1NAME", "t1name.corp.local");
    attempt(n, att(6, S, 50001, T1, 135, PW_OUT_ANSWERED, PW_R_SYN_ACK, 1, 2));
    /* T2: RST */
    attempt(n, att(6, S, 50002, T2, 135, PW_OUT_REFUSED, PW_R_RST, 10, 11));
    /* T3: the attempt retires first (answered), then bind_nak reason 2 */
    attempt(n, att(6, S, 50003, T3, 135, PW_OUT_ANSWERED, PW_R_SYN_ACK, 20, 21));
    rpc_bind(n, 23, S, 50003, T3, PW_AUTHN_WINNT);
    rpc_reply(n, 24, S, 50003, T3, PW_DCERPC_BIND_NAK, 2, NULL, NULL);
    /* T4: blocked by the router */
    pw_attempt b = att(6, S, 50004, T4, 135, PW_OUT_BLOCKED, PW_R_ICMP_ADMIN_PROHIBITED, 30, 31);
    b.has_icmp_from = true;
    b.icmp_from = A(ROUTER);
    attempt(n, b);
    /* T4 again: a Kerberos bind is ordinary RPC, not an NNR try */
    rpc_bind(n, 33, S, 50005, T4, PW_AUTHN_KERBEROS);
    rpc_reply(n, 34, S, 50005, T4, PW_DCERPC_BIND_ACK, 0, NULL, NULL);
    attempt(n, att(6, S, 50005, T4, 135, PW_OUT_ANSWERED, PW_R_SYN_ACK, 32, 35));

    /* ---- netbios ---- */
    /* T1: the attempt retires on the reply before the reply is dissected */
    nbstat_query(n, 40, S, 60001, T1, PW_NBNS_QTYPE_NBSTAT);
    attempt(n, att(17, S, 60001, T1, 137, PW_OUT_ANSWERED, PW_R_UDP_REPLY, 40, 41));
    nbstat_reply(n, 41, S, 60001, T1, 0, "T1NAME");
    /* T2: negative response rcode 3 */
    nbstat_query(n, 42, S, 60002, T2, PW_NBNS_QTYPE_NBSTAT);
    nbstat_reply(n, 43, S, 60002, T2, 3, NULL);
    attempt(n, att(17, S, 60002, T2, 137, PW_OUT_ANSWERED, PW_R_UDP_REPLY, 42, 43));
    /* T3: unanswered after 2 retries */
    nbstat_query(n, 44, S, 60003, T3, PW_NBNS_QTYPE_NBSTAT);
    pw_attempt u = att(17, S, 60003, T3, 137, PW_OUT_UNANSWERED, PW_R_TIMEOUT, 44, 0);
    u.retries = 2;
    attempt(n, u);
    /* T4: first unanswered, then resolved (best wins) */
    nbstat_query(n, 50, S, 60004, T4, PW_NBNS_QTYPE_NBSTAT);
    attempt(n, att(17, S, 60004, T4, 137, PW_OUT_UNANSWERED, PW_R_TIMEOUT, 50, 0));
    nbstat_query(n, 52, S, 60005, T4, PW_NBNS_QTYPE_NBSTAT);
    nbstat_reply(n, 53, S, 60005, T4, 0, "T4NAME");
    attempt(n, att(17, S, 60005, T4, 137, PW_OUT_ANSWERED, PW_R_UDP_REPLY, 52, 53));
    /* a name query (not NBSTAT) to T4 is not an NNR try */
    nbstat_query(n, 54, S, 60006, T4, PW_NBNS_QTYPE_NB);
    attempt(n, att(17, S, 60006, T4, 137, PW_OUT_UNANSWERED, PW_R_TIMEOUT, 54, 0));

    /* ---- rdp ---- */
    rdp_cr(n, 60, S, 61001, T1);
    rdp_cc(n, 61, S, 61001, T1, false, 0);
    tls_ev(n, 62, S, 61001, T1, PW_TLS_CLIENT_HELLO, NULL);
    tls_ev(n, 63, S, 61001, T1, PW_TLS_SERVER_HELLO, NULL);
    tls_ev(n, 63, S, 61001, T1, PW_TLS_CERTIFICATE, "t1name.corp.local");
    attempt(n, att(6, S, 61001, T1, 3389, PW_OUT_ANSWERED, PW_R_SYN_ACK, 58, 59));
    rdp_cr(n, 66, S, 61002, T2);
    rdp_cc(n, 67, S, 61002, T2, true, 5);
    attempt(n, att(6, S, 61002, T2, 3389, PW_OUT_ANSWERED, PW_R_SYN_ACK, 64, 65));
    rdp_cr(n, 70, S, 61003, T3);
    rdp_cc(n, 71, S, 61003, T3, false, 0);
    tls_ev(n, 72, S, 61003, T3, PW_TLS_CLIENT_HELLO, NULL);
    tls_ev(n, 73, S, 61003, T3, PW_TLS_CERT_HIDDEN, NULL);
    attempt(n, att(6, S, 61003, T3, 3389, PW_OUT_ANSWERED, PW_R_SYN_ACK, 68, 69));

    /* ---- reverse_dns ---- */
    ptr_query(n, 80, 17, S, 62001, DNS1, T1);
    ptr_reply(n, 81, 17, S, 62001, DNS1, T1, 0, "t1name.corp.local.");
    attempt(n, att(17, S, 62001, DNS1, 53, PW_OUT_ANSWERED, PW_R_UDP_REPLY, 80, 81));
    ptr_query(n, 82, 17, S, 62002, DNS1, T2);
    ptr_reply(n, 83, 17, S, 62002, DNS1, T2, 3, NULL);
    attempt(n, att(17, S, 62002, DNS1, 53, PW_OUT_ANSWERED, PW_R_UDP_REPLY, 82, 83));
    /* T3 over TCP: REFUSED */
    ptr_query(n, 86, 6, S, 62003, DNS1, T3);
    ptr_reply(n, 87, 6, S, 62003, DNS1, T3, 5, NULL);
    attempt(n, att(6, S, 62003, DNS1, 53, PW_OUT_ANSWERED, PW_R_SYN_ACK, 84, 85));
    /* T4: no answer */
    ptr_query(n, 88, 17, S, 62004, DNS1, T4);
    attempt(n, att(17, S, 62004, DNS1, 53, PW_OUT_UNANSWERED, PW_R_TIMEOUT, 88, 0));
    /* a forward lookup flow: not NNR */
    attempt(n, att(17, S, 62005, DNS1, 53, PW_OUT_ANSWERED, PW_R_UDP_REPLY, 90, 91));

    /* ---- a workstation with two PTR lookups: not a sensor when inferred ---- */
    ptr_query(n, 100, 17, "10.0.0.99", 40000, DNS1, T1);
    ptr_query(n, 101, 17, "10.0.0.99", 40001, DNS1, T2);
}

int main(void)
{
    pw_config cfg;
    pw_config_defaults(&cfg);
    const char *paths[] = {"main.pcap"};
    pw_sources srcs = {paths, 1};

    /* ===== inferred sensor, default threshold ===== */
    pw_nnr *n = pw_nnr_new(&cfg);
    feed_main(n);
    pw_hosts *h = pw_hosts_new();
    pw_addr t2 = A(T2);
    pw_hosts_add(h, &t2, "T2KNOWN", PW_NAME_DNS, 0, 1);
    json_t *j = nnr_json(n, h, &srcs);
    char *dump = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
    CHECK(dump != NULL);
    if (getenv("NNR_DUMP"))
        puts(dump);
    free(dump);

    CHECK_INT(json_array_size(json_object_get(j, "sensors")), 1);
    json_t *s = sensor_of(j, S);
    CHECK(s != NULL);
    CHECK(sensor_of(j, "10.0.0.99") == NULL);
    CHECK_STR(json_string_value(json_object_get(s, "found_by")), "inferred");
    CHECK_INT(json_integer_value(json_object_get(s, "targets")), 4);
    CHECK_INT(json_integer_value(json_object_get(s, "resolved")), 2); /* T1, T4 */
    CHECK_NEAR(rate_of(s, NULL), 0.5);
    CHECK_INT(json_array_size(json_object_get(j, "targets")), 4);

    /* ntlm_rpc */
    CHECK_STR(mfield(j, S, T1, "ntlm_rpc", "outcome"), "answered");
    CHECK_STR(mfield(j, S, T1, "ntlm_rpc", "result"), "resolved");
    CHECK_STR(mfield(j, S, T1, "ntlm_rpc", "name"), "T1NAME");
    CHECK_STR(mfield(j, S, T1, "ntlm_rpc", "file"), "main.pcap");
    CHECK_INT(frame_at(j, S, T1, "ntlm_rpc", 0), 1);
    CHECK_INT(frame_at(j, S, T1, "ntlm_rpc", 1), 2);
    CHECK_INT(frame_at(j, S, T1, "ntlm_rpc", 2), 5);
    CHECK_STR(mfield(j, S, T2, "ntlm_rpc", "outcome"), "refused");
    CHECK_STR(mfield(j, S, T2, "ntlm_rpc", "result"), "refused");
    CHECK_STR(mfield(j, S, T2, "ntlm_rpc", "name"), "(null)");
    CHECK_STR(mfield(j, S, T2, "ntlm_rpc", "detail"), "rst");
    CHECK_STR(mfield(j, S, T3, "ntlm_rpc", "outcome"), "answered");
    CHECK_STR(mfield(j, S, T3, "ntlm_rpc", "result"), "bind_nak");
    CHECK_STR(mfield(j, S, T3, "ntlm_rpc", "detail"), "bind_nak (reason 2)");
    CHECK_INT(frame_at(j, S, T3, "ntlm_rpc", 2), 24);
    CHECK_STR(mfield(j, S, T4, "ntlm_rpc", "outcome"), "blocked");
    CHECK_STR(mfield(j, S, T4, "ntlm_rpc", "result"), "blocked");
    CHECK_STR(mfield(j, S, T4, "ntlm_rpc", "detail"), "icmp-admin-prohibited from 10.0.0.1");
    CHECK_INT(frame_at(j, S, T4, "ntlm_rpc", 0), 30);
    CHECK_INT(frame_at(j, S, T4, "ntlm_rpc", 1), 31);
    CHECK_INT(stat_of(s, "ntlm_rpc", "attempted"), 4);
    CHECK_INT(stat_of(s, "ntlm_rpc", "resolved"), 1);
    CHECK_INT(stat_of(s, "ntlm_rpc", "answered"), 2);
    CHECK_INT(stat_of(s, "ntlm_rpc", "refused"), 1);
    CHECK_INT(stat_of(s, "ntlm_rpc", "blocked"), 1);
    CHECK_INT(stat_of(s, "ntlm_rpc", "unanswered"), 0);
    CHECK_INT(stat_of(s, "ntlm_rpc", "indeterminate"), 0);
    CHECK_INT(stat_of(s, "ntlm_rpc", "app_failed"), 1);
    CHECK_NEAR(rate_of(s, "ntlm_rpc"), 0.25);

    /* netbios */
    CHECK_STR(mfield(j, S, T1, "netbios", "result"), "resolved");
    CHECK_STR(mfield(j, S, T1, "netbios", "name"), "T1NAME");
    CHECK_STR(mfield(j, S, T2, "netbios", "result"), "nbns_negative");
    CHECK_STR(mfield(j, S, T2, "netbios", "outcome"), "answered");
    CHECK_STR(mfield(j, S, T2, "netbios", "detail"), "nbns negative response rcode 3");
    CHECK_STR(mfield(j, S, T3, "netbios", "outcome"), "unanswered");
    CHECK_STR(mfield(j, S, T3, "netbios", "result"), "no_response");
    CHECK_STR(mfield(j, S, T3, "netbios", "detail"), "timeout after 3 tries");
    CHECK_STR(mfield(j, S, T4, "netbios", "result"), "resolved");
    CHECK_STR(mfield(j, S, T4, "netbios", "name"), "T4NAME");
    CHECK_INT(frame_at(j, S, T4, "netbios", 0), 52);
    CHECK_INT(stat_of(s, "netbios", "attempted"), 4);
    CHECK_INT(stat_of(s, "netbios", "resolved"), 2);
    CHECK_INT(stat_of(s, "netbios", "answered"), 3);
    CHECK_INT(stat_of(s, "netbios", "unanswered"), 1);
    CHECK_INT(stat_of(s, "netbios", "app_failed"), 1);

    /* rdp */
    CHECK_STR(mfield(j, S, T1, "rdp", "result"), "resolved");
    CHECK_STR(mfield(j, S, T1, "rdp", "name"), "t1name.corp.local");
    CHECK_STR(mfield(j, S, T2, "rdp", "result"), "rdp_neg_failure");
    CHECK_STR(mfield(j, S, T2, "rdp", "detail"), "rdp negotiation failure code 5");
    CHECK_STR(mfield(j, S, T3, "rdp", "result"), "tls13_cert_hidden");
    CHECK_STR(mfield(j, S, T3, "rdp", "detail"), "tls1.3 certificate hidden");
    CHECK_STR(mfield(j, S, T4, "rdp", "result"), "(absent)");
    CHECK_INT(stat_of(s, "rdp", "attempted"), 3);
    CHECK_INT(stat_of(s, "rdp", "resolved"), 1);
    CHECK_INT(stat_of(s, "rdp", "app_failed"), 2);
    CHECK_NEAR(rate_of(s, "rdp"), 1.0 / 3.0);

    /* reverse_dns */
    CHECK_STR(mfield(j, S, T1, "reverse_dns", "result"), "resolved");
    CHECK_STR(mfield(j, S, T1, "reverse_dns", "name"), "t1name.corp.local");
    CHECK_STR(mfield(j, S, T1, "reverse_dns", "server"), DNS1);
    CHECK_STR(mfield(j, S, T2, "reverse_dns", "result"), "nxdomain");
    CHECK_STR(mfield(j, S, T2, "reverse_dns", "detail"), "dns NXDOMAIN (rcode 3) from 10.0.0.53");
    CHECK_STR(mfield(j, S, T3, "reverse_dns", "result"), "dns_refused");
    CHECK_STR(mfield(j, S, T3, "reverse_dns", "outcome"), "answered");
    CHECK_STR(mfield(j, S, T4, "reverse_dns", "outcome"), "unanswered");
    CHECK_STR(mfield(j, S, T4, "reverse_dns", "result"), "no_response");
    CHECK_INT(frame_at(j, S, T4, "reverse_dns", 0), 88);
    CHECK_INT(stat_of(s, "reverse_dns", "attempted"), 4);
    CHECK_INT(stat_of(s, "reverse_dns", "resolved"), 1);
    CHECK_INT(stat_of(s, "reverse_dns", "app_failed"), 2);
    CHECK_INT(stat_of(s, "reverse_dns", "unanswered"), 1);

    /* target names: ntlm_rpc first */
    CHECK_STR(json_string_value(json_object_get(target_of(j, S, T1), "name")), "T1NAME");
    CHECK_STR(json_string_value(json_object_get(target_of(j, S, T4), "name")), "T4NAME");
    CHECK(json_is_null(json_object_get(target_of(j, S, T2), "name")));
    /* targets sorted */
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(j, "targets"), 0), "target")), T1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(j, "targets"), 3), "target")), T4);

    CHECK_INT(json_array_size(json_object_get(s, "alerts")), 0);
    /* idempotent */
    json_t *j2 = nnr_json(n, h, &srcs);
    CHECK(json_equal(j, j2));
    json_decref(j2);
    json_decref(j);
    pw_nnr_free(n);

    /* ===== threshold 0.5: alerts where more than half failed ===== */
    cfg.nnr_alert_threshold = 0.5;
    n = pw_nnr_new(&cfg);
    feed_main(n);
    j = nnr_json(n, h, &srcs);
    s = sensor_of(j, S);
    CHECK_INT(json_array_size(json_object_get(s, "alerts")), 3); /* ntlm_rpc, rdp, reverse_dns */
    CHECK(alert_of(s, "netbios") == NULL);                        /* exactly 50% */
    json_t *al = alert_of(s, "ntlm_rpc");
    CHECK(al != NULL);
    CHECK_STR(json_string_value(json_object_get(al, "message")),
              "Low success rate of NTLM over RPC name resolution from sensor 10.0.0.5: 1 of 4 "
              "targets resolved (75% failed)");
    CHECK_NEAR(json_number_value(json_object_get(al, "rate")), 0.25);
    const char *rem = json_string_value(json_object_get(al, "remediation"));
    CHECK(rem && strstr(rem, "TCP port 135"));
    CHECK(rem && strstr(rem, "inbound communication from sensor 10.0.0.5"));
    CHECK(rem && strstr(rem, "Failed targets (3 of 4): 10.0.1.2 [T2KNOWN] (refused: rst)"));
    CHECK(rem && strstr(rem, "10.0.1.4 (blocked: icmp-admin-prohibited from 10.0.0.1)"));
    CHECK(rem && strstr(rem, "ICMP errors came from 10.0.0.1."));
    CHECK(rem && strstr(rem, "bind_nak"));
    CHECK(rem && !strstr(rem, "10.0.1.1"));
    json_t *exs = json_object_get(al, "examples");
    CHECK_INT(json_array_size(exs), 7); /* T2 10,11; T3 20,21,24; T4 30,31 */
    CHECK_INT(json_integer_value(json_array_get(exs, 0)), 10);
    CHECK_INT(json_integer_value(json_array_get(exs, 6)), 31);
    json_t *evd = json_object_get(al, "evidence");
    CHECK_INT(json_array_size(evd), 7);
    CHECK_STR(json_string_value(json_object_get(json_array_get(evd, 0), "file")), "main.pcap");
    CHECK_INT(json_integer_value(json_object_get(json_array_get(evd, 0), "frame")), 10);
    CHECK_STR(json_string_value(json_object_get(json_array_get(evd, 0), "target")), T2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(evd, 0), "result")), "refused");
    al = alert_of(s, "reverse_dns");
    rem = al ? json_string_value(json_object_get(al, "remediation")) : NULL;
    CHECK(rem && strstr(rem, "can reach the DNS server (10.0.0.53) and that reverse lookup is enabled"));
    CHECK(rem && strstr(rem, "NXDOMAIN"));
    al = alert_of(s, "rdp");
    CHECK_STR(json_string_value(json_object_get(al, "message")),
              "Low success rate of RDP (TLS) name resolution from sensor 10.0.0.5: 1 of 3 targets "
              "resolved (67% failed)");
    json_decref(j);
    pw_nnr_free(n);

    /* ===== sensors given as options ===== */
    pw_config_defaults(&cfg);
    pw_addr_parse_cidr(S, &cfg.sensors[0].net, &cfg.sensors[0].prefix);
    pw_addr_parse_cidr("10.0.0.77", &cfg.sensors[1].net, &cfg.sensors[1].prefix);
    pw_addr_parse_cidr("10.0.0.96/30", &cfg.sensors[2].net, &cfg.sensors[2].prefix);
    cfg.n_sensors = 3;
    n = pw_nnr_new(&cfg);
    feed_main(n);
    /* 10.0.0.98 (in the /30) tries one target: listed; 10.0.0.99 too */
    nbstat_query(n, 110, "10.0.0.98", 1137, T1, PW_NBNS_QTYPE_NBSTAT);
    attempt(n, att(17, "10.0.0.98", 1137, T1, 137, PW_OUT_UNANSWERED, PW_R_TIMEOUT, 110, 0));
    /* a host outside the sensors is ignored */
    nbstat_query(n, 111, "10.0.0.200", 1137, T1, PW_NBNS_QTYPE_NBSTAT);
    attempt(n, att(17, "10.0.0.200", 1137, T1, 137, PW_OUT_UNANSWERED, PW_R_TIMEOUT, 111, 0));
    j = nnr_json(n, h, &srcs);
    CHECK_INT(json_array_size(json_object_get(j, "sensors")), 4);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(j, "sensors"), 0), "sensor")), S);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(j, "sensors"), 1), "sensor")), "10.0.0.77");
    s = sensor_of(j, S);
    CHECK_STR(json_string_value(json_object_get(s, "found_by")), "option");
    CHECK_INT(json_integer_value(json_object_get(s, "targets")), 4);
    json_t *s77 = sensor_of(j, "10.0.0.77");
    CHECK(s77 != NULL);
    CHECK_INT(json_integer_value(json_object_get(s77, "targets")), 0);
    CHECK(json_is_null(json_object_get(s77, "rate")));
    CHECK_INT(stat_of(s77, "netbios", "attempted"), 0);
    CHECK_INT(json_array_size(json_object_get(s77, "alerts")), 0);
    json_t *s98 = sensor_of(j, "10.0.0.98");
    CHECK(s98 != NULL);
    CHECK_STR(json_string_value(json_object_get(s98, "found_by")), "option");
    /* 100% NetBIOS failure from .98: an alert */
    al = alert_of(s98, "netbios");
    CHECK(al != NULL);
    CHECK_STR(json_string_value(json_object_get(al, "message")),
              "Low success rate of NetBIOS name resolution from sensor 10.0.0.98: 0 of 1 targets "
              "resolved (100% failed)");
    rem = json_string_value(json_object_get(al, "remediation"));
    CHECK(rem && strstr(rem, "UDP port 137"));
    CHECK(rem && strstr(rem, "No response"));
    json_t *s99 = sensor_of(j, "10.0.0.99");
    CHECK(s99 != NULL);
    CHECK_INT(stat_of(s99, "reverse_dns", "attempted"), 2);
    CHECK_INT(stat_of(s99, "reverse_dns", "indeterminate"), 2); /* no attempt retired */
    CHECK(sensor_of(j, "10.0.0.200") == NULL);
    CHECK(target_of(j, "10.0.0.200", T1) == NULL);
    json_decref(j);
    pw_nnr_free(n);

    /* ===== a name query response whose query is not in the capture (both
     * ports 137): the core sees a "request" from the responder; not a try ===== */
    pw_config_defaults(&cfg);
    pw_addr_parse_cidr("10.0.0.50", &cfg.sensors[0].net, &cfg.sensors[0].prefix);
    cfg.n_sensors = 1;
    n = pw_nnr_new(&cfg);
    {
        pw_event ev = ev_make(PW_EV_NBNS, 537, 17, "10.0.0.50", 49153, "10.0.0.1", 137, 0);
        ev.u.nbns.response = true;
        ev.u.nbns.qtype = PW_NBNS_QTYPE_NB;
        strcpy(ev.u.nbns.qname, "WORKSTATION");
        ev.u.nbns.n_addrs = 1;
        ev.u.nbns.addrs[0] = A("10.0.0.200");
        feed(n, &ev);
        attempt(n, att(17, "10.0.0.50", 49153, "10.0.0.1", 137, PW_OUT_INDETERMINATE, PW_R_ONE_SIDED, 537, 0));
        /* while a real NBSTAT from 10.0.0.50 port 137 still counts */
        nbstat_query(n, 600, "10.0.0.50", 137, "10.0.0.2", PW_NBNS_QTYPE_NBSTAT);
        nbstat_reply(n, 601, "10.0.0.50", 137, "10.0.0.2", 0, "TWO");
        attempt(n, att(17, "10.0.0.50", 137, "10.0.0.2", 137, PW_OUT_ANSWERED, PW_R_UDP_REPLY, 600, 601));
    }
    j = nnr_json(n, NULL, &srcs);
    s = sensor_of(j, "10.0.0.50");
    CHECK_INT(stat_of(s, "netbios", "attempted"), 1);
    CHECK_INT(stat_of(s, "netbios", "resolved"), 1);
    CHECK(target_of(j, "10.0.0.50", "10.0.0.1") == NULL);
    CHECK_STR(mfield(j, "10.0.0.50", "10.0.0.2", "netbios", "name"), "TWO");
    json_decref(j);
    pw_nnr_free(n);

    /* ===== empty ===== */
    pw_config_defaults(&cfg);
    n = pw_nnr_new(&cfg);
    j = nnr_json(n, NULL, NULL);
    CHECK_INT(json_array_size(json_object_get(j, "sensors")), 0);
    CHECK_INT(json_array_size(json_object_get(j, "targets")), 0);
    json_decref(j);
    pw_nnr_free(n);
    pw_nnr_free(NULL);

    /* ===== many targets stay bounded: PW_NNR_MAX_PAIRS summaries, the rest counted as dropped ===== */
    n = pw_nnr_new(&cfg);
    for (int i = 0; i < 70000; i++) {
        char t[32];
        snprintf(t, sizeof t, "10.%d.%d.%d", 100 + i / 40000, (i / 200) % 200, i % 200 + 1);
        nbstat_query(n, (uint64_t)i + 1, S, 20000, t, PW_NBNS_QTYPE_NBSTAT);
    }
    j = nnr_json(n, NULL, NULL);
    s = sensor_of(j, S);
    CHECK_INT(stat_of(s, "netbios", "attempted"), 65536);
    CHECK_INT(stat_of(s, "netbios", "indeterminate"), 65536);
    uint64_t kept, cap, dropped;
    pw_nnr_caps(n, &kept, &cap, &dropped);
    CHECK_INT(kept, 65536);
    CHECK_INT(cap, 65536);
    CHECK_INT(dropped, 70000 - 65536);
    json_decref(j);
    pw_nnr_free(n);

    pw_hosts_free(h);
    CHECK_DONE();
}
