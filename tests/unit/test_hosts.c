/* test_hosts.c - the host name table: which events give which names for
 * which IP, dedupe, caps, conflicts, best name and the "hosts" JSON. */
#include <stdlib.h>
#include <string.h>

#include "../../analysis/hosts.h"
#include "../../report/report.h"
#include "check.h"

/* The "hosts" array of the report: decided into a result, rendered by report/json.c. */
static json_t *hosts_json(const pw_hosts *h, const pw_sources *srcs)
{
    pw_result r;
    pw_result_init(&r, srcs);
    pw_hosts_result(h, &r);
    json_t *j = pw_json_hosts(&r);
    pw_result_free(&r);
    return j;
}

static pw_addr A(const char *s)
{
    pw_addr a;
    int pfx;
    memset(&a, 0, sizeof a);
    if (!pw_addr_parse_cidr(s, &a, &pfx))
        fprintf(stderr, "bad address %s\n", s);
    return a;
}

static pw_event *ev_new(pw_event_type type, uint64_t frame, uint8_t proto, const char *client,
                        uint16_t cport, const char *server, uint16_t sport, int dir)
{
    pw_event *ev = calloc(1, sizeof *ev);
    ev->type = type;
    ev->source = 0;
    ev->frame = frame;
    ev->flow.proto = proto;
    ev->flow.client = A(client);
    ev->flow.server = A(server);
    ev->flow.client_port = cport;
    ev->flow.server_port = sport;
    ev->dir = dir;
    return ev;
}

static json_t *host_entry(json_t *arr, const char *ip)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *s = json_string_value(json_object_get(v, "ip"));
        if (s && strcmp(s, ip) == 0)
            return v;
    }
    return NULL;
}

/* Number of names of entry with this name and source; frame of the last one in *frame. */
static int has_name(json_t *entry, const char *name, const char *source, long long *frame)
{
    int n = 0;
    size_t i;
    json_t *v;
    if (!entry)
        return 0;
    json_array_foreach(json_object_get(entry, "names"), i, v) {
        if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0 &&
            strcmp(json_string_value(json_object_get(v, "source")), source) == 0) {
            n++;
            if (frame)
                *frame = json_integer_value(json_object_get(v, "frame"));
        }
    }
    return n;
}

static size_t n_names(json_t *entry)
{
    return entry ? json_array_size(json_object_get(entry, "names")) : 0;
}

static int is_conflict(json_t *entry)
{
    return entry && json_is_true(json_object_get(entry, "conflict"));
}

/* The entry of a name-only CONNECT target ("host:port"), or NULL. */
static json_t *target_entry(json_t *arr, const char *target)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *t = json_string_value(json_object_get(v, "target"));
        if (t && strcmp(t, target) == 0 && json_is_null(json_object_get(v, "ip")))
            return v;
    }
    return NULL;
}

/* A certificate read inside an HTTP CONNECT tunnel belongs to the CONNECT
 * target: by its address when the target is an address literal, else under
 * "host:port"; the proxy (the flow's server) gets none of its names. */
static void test_proxied_certificates(void)
{
    pw_hosts *h = pw_hosts_new();
    pw_event *ev = ev_new(PW_EV_TLS, 8, 6, "10.40.0.5", 50000, "10.40.0.9", 3128, 1);
    ev->u.tls.kind = PW_TLS_CERTIFICATE;
    strcpy(ev->u.tls.subject_cn, "api.example.net");
    ev->u.tls.n_san = 1;
    strcpy(ev->u.tls.san[0], "*.example.net");
    strcpy(ev->u.tls.tunnel_host, "api.example.net");
    ev->u.tls.tunnel_port = 443;
    pw_hosts_event(h, ev);
    ev->frame = 20; /* the same target through the proxy again: no duplicate */
    pw_hosts_event(h, ev);
    strcpy(ev->u.tls.tunnel_host, "192.0.2.7");
    strcpy(ev->u.tls.subject_cn, "literal.example.net");
    ev->u.tls.n_san = 0;
    ev->frame = 30;
    pw_hosts_event(h, ev);
    strcpy(ev->u.tls.tunnel_host, "2001:db8::7");
    strcpy(ev->u.tls.subject_cn, "v6.example.net");
    ev->frame = 40;
    pw_hosts_event(h, ev);
    /* the proxy's own certificate (no tunnel) is the proxy's */
    ev->u.tls.tunnel_host[0] = '\0';
    strcpy(ev->u.tls.subject_cn, "proxy.corp.local");
    ev->frame = 50;
    pw_hosts_event(h, ev);
    free(ev);

    json_t *j = hosts_json(h, NULL);
    CHECK_INT(json_array_size(j), 4);
    json_t *t = target_entry(j, "api.example.net:443");
    CHECK(t != NULL);
    long long fr = 0;
    CHECK_INT(has_name(t, "api.example.net", "tls_cert", &fr), 1);
    CHECK_INT(fr, 8);
    CHECK_INT(has_name(t, "*.example.net", "tls_cert", NULL), 1);
    CHECK_INT(n_names(t), 2);
    CHECK(!is_conflict(t));
    CHECK_INT(has_name(host_entry(j, "192.0.2.7"), "literal.example.net", "tls_cert", &fr), 1);
    CHECK_INT(fr, 30);
    CHECK_INT(has_name(host_entry(j, "2001:db8::7"), "v6.example.net", "tls_cert", NULL), 1);
    json_t *proxy = host_entry(j, "10.40.0.9");
    CHECK_INT(n_names(proxy), 1);
    CHECK_INT(has_name(proxy, "proxy.corp.local", "tls_cert", NULL), 1);
    CHECK(!is_conflict(proxy)); /* no invented conflict on the proxy */
    /* the target entry comes after every address */
    CHECK(json_array_get(j, 3) == t);
    json_decref(j);
    pw_hosts_free(h);
}

int main(void)
{
    test_proxied_certificates();
    CHECK_STR(pw_name_source_str(PW_NAME_NETBIOS), "netbios");
    CHECK_STR(pw_name_source_str(PW_NAME_NTLM), "ntlm");
    CHECK_STR(pw_name_source_str(PW_NAME_TLS_CERT), "tls_cert");
    CHECK_STR(pw_name_source_str(PW_NAME_PTR), "ptr");
    CHECK_STR(pw_name_source_str(PW_NAME_DNS), "dns");
    CHECK_STR(pw_name_source_str(PW_NAME_SSRP), "ssrp");

    pw_hosts *h = pw_hosts_new();

    /* NBNS node status response from 10.0.0.7 (the server side of the flow). */
    pw_event *ev = ev_new(PW_EV_NBNS, 5, 17, "10.0.0.5", 50000, "10.0.0.7", 137, 1);
    ev->u.nbns.response = true;
    ev->u.nbns.qtype = PW_NBNS_QTYPE_NBSTAT;
    strcpy(ev->u.nbns.qname, "*");
    ev->u.nbns.n_names = 5;
    strcpy(ev->u.nbns.names[0].name, "WS1");
    ev->u.nbns.names[0].suffix = 0x00;
    strcpy(ev->u.nbns.names[1].name, "WORKGROUP");
    ev->u.nbns.names[1].suffix = 0x00;
    ev->u.nbns.names[1].group = true;
    strcpy(ev->u.nbns.names[2].name, "WS1");
    ev->u.nbns.names[2].suffix = 0x20;
    strcpy(ev->u.nbns.names[3].name, "ALICE");
    ev->u.nbns.names[3].suffix = 0x03;
    strcpy(ev->u.nbns.names[4].name, "__MSBROWSE__");
    ev->u.nbns.names[4].suffix = 0x01;
    ev->u.nbns.names[4].group = true;
    pw_hosts_event(h, ev);
    /* the same again later: keeps the first frame */
    ev->frame = 9;
    pw_hosts_event(h, ev);
    /* a negative node status response names nothing */
    ev->frame = 11;
    ev->u.nbns.rcode = 3;
    strcpy(ev->u.nbns.names[0].name, "NEGATIVE");
    ev->flow.server = A("10.0.0.70");
    pw_hosts_event(h, ev);
    free(ev);

    /* Positive name query response: FILESRV<20> at two addresses; CORP<1C> ignored. */
    ev = ev_new(PW_EV_NBNS, 20, 17, "10.0.0.5", 137, "10.0.0.2", 137, 1);
    ev->u.nbns.response = true;
    ev->u.nbns.qtype = PW_NBNS_QTYPE_NB;
    strcpy(ev->u.nbns.qname, "FILESRV");
    ev->u.nbns.qsuffix = 0x20;
    ev->u.nbns.n_addrs = 2;
    ev->u.nbns.addrs[0] = A("10.0.0.8");
    ev->u.nbns.addrs[1] = A("10.0.0.9");
    pw_hosts_event(h, ev);
    ev->frame = 21;
    strcpy(ev->u.nbns.qname, "CORP");
    ev->u.nbns.qsuffix = 0x1c;
    ev->u.nbns.addrs[0] = A("10.0.0.10");
    ev->u.nbns.n_addrs = 1;
    pw_hosts_event(h, ev);
    /* a query (not a response) names nothing */
    ev->frame = 22;
    ev->u.nbns.response = false;
    strcpy(ev->u.nbns.qname, "QUERYONLY");
    ev->u.nbns.qsuffix = 0x00;
    ev->u.nbns.addrs[0] = A("10.0.0.11");
    pw_hosts_event(h, ev);
    free(ev);

    /* NTLMSSP CHALLENGE from the RPC server 10.0.0.7: agrees with WS1. */
    ev = ev_new(PW_EV_NTLMSSP, 30, 6, "10.0.0.5", 50001, "10.0.0.7", 135, 1);
    ev->u.ntlmssp.msg_type = PW_NTLM_CHALLENGE;
    strcpy(ev->u.ntlmssp.nb_computer, "WS1");
    strcpy(ev->u.ntlmssp.dns_computer, "ws1.corp.local");
    strcpy(ev->u.ntlmssp.nb_domain, "CORP");
    pw_hosts_event(h, ev);
    /* NEGOTIATE / AUTHENTICATE name nothing */
    ev->frame = 31;
    ev->dir = 0;
    ev->u.ntlmssp.msg_type = PW_NTLM_AUTHENTICATE;
    strcpy(ev->u.ntlmssp.nb_computer, "CLIENTSIDE");
    pw_hosts_event(h, ev);
    free(ev);

    /* TLS certificate from 10.0.0.20:3389: CN and SANs, deduped case-insensitively. */
    ev = ev_new(PW_EV_TLS, 40, 6, "10.0.0.5", 50002, "10.0.0.20", 3389, 1);
    ev->u.tls.kind = PW_TLS_CERTIFICATE;
    strcpy(ev->u.tls.subject_cn, "rdp1.corp.local");
    ev->u.tls.n_san = 2;
    strcpy(ev->u.tls.san[0], "RDP1.corp.local");
    strcpy(ev->u.tls.san[1], "rdp1");
    pw_hosts_event(h, ev);
    /* a ClientHello names nothing */
    ev->frame = 41;
    ev->u.tls.kind = PW_TLS_CLIENT_HELLO;
    strcpy(ev->u.tls.sni, "sni.example");
    pw_hosts_event(h, ev);
    free(ev);

    /* PTR answer for 10.0.0.7 with another computer name: conflict. */
    ev = ev_new(PW_EV_DNS, 50, 17, "10.0.0.5", 53000, "10.0.0.53", 53, 1);
    ev->u.dns.response = true;
    ev->u.dns.qtype = 12;
    strcpy(ev->u.dns.qname, "7.0.0.10.in-addr.arpa");
    ev->u.dns.reverse = true;
    ev->u.dns.reverse_addr = A("10.0.0.7");
    ev->u.dns.n_answers = 1;
    ev->u.dns.answers[0].type = 12;
    strcpy(ev->u.dns.answers[0].target, "otherhost.corp.local.");
    pw_hosts_event(h, ev);
    /* NXDOMAIN for 10.0.0.30: nothing */
    ev->frame = 51;
    ev->u.dns.rcode = 3;
    ev->u.dns.reverse_addr = A("10.0.0.30");
    pw_hosts_event(h, ev);
    /* IPv6 PTR */
    ev->frame = 52;
    ev->u.dns.rcode = 0;
    ev->u.dns.reverse_addr = A("2001:db8::7");
    strcpy(ev->u.dns.answers[0].target, "v6host.corp.local");
    pw_hosts_event(h, ev);
    free(ev);

    /* Forward DNS: two names on one address (CDN): no conflict. */
    ev = ev_new(PW_EV_DNS, 60, 17, "10.0.0.5", 53001, "10.0.0.53", 53, 1);
    ev->u.dns.response = true;
    ev->u.dns.qtype = 1;
    strcpy(ev->u.dns.qname, "www.example.com");
    ev->u.dns.n_answers = 2;
    ev->u.dns.answers[0].type = 5;
    strcpy(ev->u.dns.answers[0].target, "cdn.example.net");
    ev->u.dns.answers[1].type = 1;
    ev->u.dns.answers[1].addr = A("93.184.216.34");
    pw_hosts_event(h, ev);
    ev->frame = 61;
    strcpy(ev->u.dns.qname, "static.example.org");
    pw_hosts_event(h, ev);
    free(ev);

    /* Direct adds: a certificate that agrees via a SAN, one that does not. */
    pw_addr hA = A("10.0.1.1"), hB = A("10.0.1.2"), hC = A("10.0.1.3"), hD = A("10.0.1.4");
    pw_hosts_add(h, &hA, "HOSTA", PW_NAME_NETBIOS, 1, 100);
    pw_hosts_add(h, &hA, "web.corp.local", PW_NAME_TLS_CERT, 1, 101);
    pw_hosts_add(h, &hA, "hosta.corp.local", PW_NAME_TLS_CERT, 1, 101);
    pw_hosts_add(h, &hB, "HOSTB", PW_NAME_NETBIOS, 1, 102);
    pw_hosts_add(h, &hB, "web.corp.local", PW_NAME_TLS_CERT, 1, 103);
    pw_hosts_add(h, &hC, "*.corp.local", PW_NAME_TLS_CERT, 1, 104);
    pw_hosts_add(h, &hC, "HOSTC", PW_NAME_PTR, 1, 105);
    /* a cap on names per address */
    char nm[32];
    for (int i = 0; i < 20; i++) {
        snprintf(nm, sizeof nm, "n%d.example", i);
        pw_hosts_add(h, &hD, nm, PW_NAME_DNS, 0, 200 + (uint64_t)i);
    }
    /* invalid UTF-8 and control characters are made safe; empty names skipped */
    pw_addr hE = A("10.0.1.5");
    pw_hosts_add(h, &hE, "bad\xff\x01name", PW_NAME_NTLM, 0, 300);
    pw_hosts_add(h, &hE, "", PW_NAME_NTLM, 0, 301);
    pw_addr unset;
    memset(&unset, 0, sizeof unset);
    pw_hosts_add(h, &unset, "nowhere", PW_NAME_DNS, 0, 302);

    /* best names */
    pw_addr w = A("10.0.0.7");
    CHECK_STR(pw_hosts_best_name(h, &w), "WS1");
    pw_addr www = A("93.184.216.34");
    CHECK_STR(pw_hosts_best_name(h, &www), "www.example.com");
    CHECK_STR(pw_hosts_best_name(h, &hC), "*.corp.local"); /* tls_cert before ptr */
    pw_addr none = A("10.9.9.9");
    CHECK(pw_hosts_best_name(h, &none) == NULL);
    CHECK(pw_hosts_conflict(h, &w));
    CHECK(!pw_hosts_conflict(h, &www));

    const char *paths[] = {"a.pcap", "b.pcap"};
    pw_sources srcs = {paths, 2};
    json_t *j = hosts_json(h, &srcs);
    CHECK(json_is_array(j));
    char *dump = json_dumps(j, JSON_SORT_KEYS);
    CHECK(dump != NULL);
    free(dump);

    /* sorted by IP: IPv4 before IPv6, numerically */
    size_t nh = json_array_size(j);
    CHECK_INT(nh, 11);
    CHECK_STR(json_string_value(json_object_get(json_array_get(j, 0), "ip")), "10.0.0.7");
    CHECK_STR(json_string_value(json_object_get(json_array_get(j, nh - 1), "ip")), "2001:db8::7");
    int sorted = 1;
    for (size_t i = 1; i + 1 < nh; i++) {
        pw_addr x = A(json_string_value(json_object_get(json_array_get(j, i - 1), "ip")));
        pw_addr y = A(json_string_value(json_object_get(json_array_get(j, i), "ip")));
        if (pw_addr_cmp(&x, &y) >= 0)
            sorted = 0;
    }
    CHECK(sorted);

    json_t *e7 = host_entry(j, "10.0.0.7");
    long long fr = 0;
    CHECK_INT(has_name(e7, "WS1", "netbios", &fr), 1);
    CHECK_INT(fr, 5);
    CHECK_INT(has_name(e7, "WS1", "ntlm", &fr), 1);
    CHECK_INT(fr, 30);
    CHECK_INT(has_name(e7, "ws1.corp.local", "ntlm", NULL), 1);
    CHECK_INT(has_name(e7, "otherhost.corp.local", "ptr", &fr), 1);
    CHECK_INT(fr, 50);
    CHECK_INT(has_name(e7, "ALICE", "netbios", NULL), 0);
    CHECK_INT(has_name(e7, "WORKGROUP", "netbios", NULL), 0);
    CHECK_INT(n_names(e7), 4);
    CHECK(is_conflict(e7));
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(e7, "names"), 0), "file")),
              "a.pcap");

    CHECK(host_entry(j, "10.0.0.70") == NULL); /* negative response */
    CHECK(host_entry(j, "10.0.0.5") == NULL);  /* the AUTHENTICATE sender */
    CHECK(host_entry(j, "10.0.0.11") == NULL); /* a query */
    CHECK(host_entry(j, "10.0.0.10") == NULL); /* <1C> */
    CHECK(host_entry(j, "10.0.0.30") == NULL); /* NXDOMAIN */
    CHECK_INT(has_name(host_entry(j, "10.0.0.8"), "FILESRV", "netbios", &fr), 1);
    CHECK_INT(fr, 20);
    CHECK_INT(has_name(host_entry(j, "10.0.0.9"), "FILESRV", "netbios", NULL), 1);

    json_t *e20 = host_entry(j, "10.0.0.20");
    CHECK_INT(has_name(e20, "rdp1.corp.local", "tls_cert", &fr), 1);
    CHECK_INT(fr, 40);
    CHECK_INT(has_name(e20, "rdp1", "tls_cert", NULL), 1);
    CHECK_INT(n_names(e20), 2);
    CHECK(!is_conflict(e20));

    json_t *ew = host_entry(j, "93.184.216.34");
    CHECK_INT(has_name(ew, "www.example.com", "dns", NULL), 1);
    CHECK_INT(has_name(ew, "static.example.org", "dns", NULL), 1);
    CHECK(!is_conflict(ew));

    CHECK_INT(has_name(host_entry(j, "2001:db8::7"), "v6host.corp.local", "ptr", NULL), 1);

    json_t *ea = host_entry(j, "10.0.1.1");
    CHECK(!is_conflict(ea)); /* the certificate's SAN agrees */
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(ea, "names"), 1), "file")),
              "b.pcap");
    CHECK(is_conflict(host_entry(j, "10.0.1.2")));  /* the certificate names another host */
    CHECK(!is_conflict(host_entry(j, "10.0.1.3"))); /* only a wildcard certificate */
    CHECK_INT(n_names(host_entry(j, "10.0.1.4")), 16);
    CHECK_INT(has_name(host_entry(j, "10.0.1.4"), "n0.example", "dns", NULL), 1);
    CHECK_INT(has_name(host_entry(j, "10.0.1.4"), "n19.example", "dns", NULL), 0);
    CHECK_INT(has_name(host_entry(j, "10.0.1.5"), "bad??name", "ntlm", NULL), 1);
    CHECK_INT(n_names(host_entry(j, "10.0.1.5")), 1);
    json_decref(j);

    /* empty table */
    pw_hosts *e = pw_hosts_new();
    json_t *je = hosts_json(e, NULL);
    CHECK(json_is_array(je) && json_array_size(je) == 0);
    json_decref(je);
    pw_hosts_free(e);
    pw_hosts_free(NULL);

    pw_hosts_free(h);
    CHECK_DONE();
}
