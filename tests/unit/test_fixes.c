/* test_fixes.c - the fix generator (analysis/fixes.c) on hand-built results
 * of each profile's failure shapes, and the commands the writers render from
 * them (report/fix.c):
 *   mdi-nnr NTLM over RPC refused by the targets themselves (rst) -> inbound
 *     135 on each target from the sensor;
 *   the same blocked by a device in the path (ICMP from a third address) ->
 *     no host firewall command, the device named;
 *   netwrix RPC dynamic range unanswered -> LocalPort RPC, the rule's range
 *     for the network firewall, the port seen;
 *   a partial rule whose failing server the evidence does not name -> the
 *     rule's failing clients and ports;
 *   mdi-sensor cloud flow -> outbound on the sensor;
 *   pass / unobserved / indeterminate rules -> no fix;
 *   hostile profile text cannot break out of quotes or comments. */
#include <stdlib.h>
#include <string.h>

#include "../../analysis/fixes.h"
#include "../../report/fix.h"
#include "../../report/report.h"
#include "check.h"

static pw_addr A(const char *s)
{
    pw_addr a;
    int pfx;
    memset(&a, 0, sizeof a);
    if (!pw_addr_parse_cidr(s, &a, &pfx))
        fprintf(stderr, "bad address %s\n", s);
    return a;
}

static bool addr_is(const pw_addr *a, const char *s)
{
    pw_addr b = A(s);
    return pw_addr_eq(a, &b);
}

static const char *const paths[] = {"s.pcap"};
static const pw_sources srcs = {paths, 1};

static pw_res_rule rule(const char *profile, const char *id, uint8_t proto, const char *ports, pw_verdict v)
{
    pw_res_rule x;
    memset(&x, 0, sizeof x);
    x.profile = profile;
    x.id = id;
    x.table = "";
    x.description = "d";
    x.from = "sensor";
    x.to = "any-host";
    x.ports = ports;
    x.remediation = "open it";
    x.proto = proto;
    x.required = true;
    x.verdict = v;
    return x;
}

static pw_res_evidence ev(uint64_t frame, const char *client, const char *server, uint16_t port, pw_outcome o,
                          const char *reason)
{
    return (pw_res_evidence){.source = 0, .frame = frame, .client = A(client), .server = A(server), .proto = 6,
                             .port = port, .outcome = o, .reason = reason};
}

static char *sb_take(void (*fn)(pw_sbuf *, const pw_res_fix *), const pw_res_fix *f)
{
    pw_sbuf b = {0};
    fn(&b, f);
    char *s = strdup(pw_sb_str(&b));
    pw_sb_free(&b);
    return s;
}

static char *render_fix(const pw_result *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    pw_report_write(out, PW_FMT_FIX, r);
    fclose(out);
    return buf;
}

/* mdi-nnr 135 refused by two targets (rst), answered by a third; a 137 rule
 * blocked by the router 10.0.0.254; an unobserved and a passing rule. */
static void test_nnr_shapes(void)
{
    pw_result r;
    pw_result_init(&r, &srcs);
    pw_res_rule rules[4] = {rule("mdi-nnr", "nnr-ntlm-rpc", 6, "135", PW_VERDICT_PARTIAL),
                            rule("mdi-nnr", "nnr-netbios", 17, "137", PW_VERDICT_FAIL),
                            rule("mdi-nnr", "nnr-rdp", 6, "3389", PW_VERDICT_UNOBSERVED),
                            rule("mdi-nnr", "nnr-dns", 17, "53", PW_VERDICT_PASS)};
    pw_res_evidence e0[3] = {ev(12, "10.0.0.5", "10.0.1.12", 135, PW_OUT_REFUSED, "rst"),
                             ev(10, "10.0.0.5", "10.0.1.11", 135, PW_OUT_REFUSED, "rst"),
                             ev(14, "10.0.0.5", "10.0.1.13", 135, PW_OUT_ANSWERED, "syn-ack")};
    pw_res_evidence e1[2] = {ev(20, "10.0.0.5", "10.0.1.11", 137, PW_OUT_BLOCKED, "icmp-admin-prohibited"),
                             ev(22, "10.0.0.6", "10.0.1.11", 137, PW_OUT_UNANSWERED, "timeout")};
    e1[0].proto = e1[1].proto = 17;
    e1[0].path_refused = true;
    e1[0].path_device = A("10.0.0.254");
    rules[0].evidence = e0;
    rules[0].n_evidence = 3;
    rules[1].evidence = e1;
    rules[1].n_evidence = 2;
    r.rules = rules;
    r.n_rules = 4;
    pw_fixes_result(&r);

    CHECK_INT(r.n_fixes, 3);
    const pw_res_fix *f = &r.fixes[0];
    CHECK(f->rule == &rules[0]);
    CHECK(addr_is(&f->server, "10.0.1.11"));  /* sorted by server */
    CHECK(addr_is(&r.fixes[1].server, "10.0.1.12"));
    CHECK_INT(f->cause, PW_FIX_HOST_REFUSED);
    CHECK_INT(f->dir, PW_FIX_INBOUND);
    CHECK_INT(f->n_ports, 1);
    CHECK_INT(f->ports[0].lo, 135);
    CHECK_INT(f->n_clients, 1);
    CHECK(addr_is(&f->clients[0], "10.0.0.5"));
    CHECK_INT(f->frame, 10);
    CHECK_INT(f->failed, 1);
    char *ps = sb_take(pw_fix_powershell, f), *ns = sb_take(pw_fix_netsh, f);
    CHECK_STR(ps, "New-NetFirewallRule -DisplayName 'portwitness mdi-nnr nnr-ntlm-rpc from clients to 10.0.1.11' "
                  "-Group 'portwitness mdi-nnr' -Direction Inbound -Action Allow -Protocol TCP -LocalPort 135 "
                  "-RemoteAddress '10.0.0.5'");
    CHECK_STR(ns, "netsh advfirewall firewall add rule name=\"portwitness mdi-nnr nnr-ntlm-rpc from clients to "
                  "10.0.1.11\" dir=in action=allow protocol=TCP localport=135 remoteip=10.0.0.5");
    free(ps);
    free(ns);

    /* netbios: blocked by the router for one client, silent for the other:
     * the path device wins, named, and no host command is written */
    const pw_res_fix *g = &r.fixes[2];
    CHECK(g->rule == &rules[1]);
    CHECK_INT(g->cause, PW_FIX_PATH_REFUSED);
    CHECK(g->has_path_device && addr_is(&g->path_device, "10.0.0.254"));
    CHECK_INT(g->proto, 17);
    CHECK_INT(g->n_clients, 2);
    CHECK_INT(g->failed, 2);
    char *script = render_fix(&r);
    CHECK(strstr(script, "if (Test-PwHost '10.0.1.11') {\n    New-NetFirewallRule -DisplayName 'portwitness mdi-nnr "
                         "nnr-ntlm-rpc from clients to 10.0.1.11'") != NULL);
    CHECK(strstr(script, "-WhatIf:(-not $Apply)") != NULL);
    CHECK(strstr(script, "param([switch]$Apply)") != NULL);
    CHECK(strstr(script, "nnr-netbios from clients to 10.0.1.11' -Group") == NULL); /* no host command */
    CHECK(strstr(script, "A device in the path (10.0.0.254)") != NULL);
    CHECK(strstr(script, "#   10.0.0.6        -> 10.0.1.11       udp/137  (mdi-nnr nnr-netbios)") != NULL);
    free(script);

    /* JSON: the same fixes, with cause and host_firewall */
    json_t *j = pw_json_fixes(&r);
    CHECK_INT(json_array_size(j), 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(j, 2), "cause")), "path-refused");
    CHECK(json_is_false(json_object_get(json_array_get(j, 2), "host_firewall")));
    CHECK_STR(json_string_value(json_object_get(json_array_get(j, 2), "path_device")), "10.0.0.254");
    CHECK_STR(json_string_value(json_object_get(json_array_get(j, 0), "rule")), "nnr-ntlm-rpc");
    json_decref(j);
    free(r.fixes);
}

/* netwrix: the port the endpoint mapper handed out (49700) unanswered; a
 * partial rule with a failing server no evidence entry names. */
static void test_netwrix_shapes(void)
{
    pw_result r;
    pw_result_init(&r, &srcs);
    pw_res_rule rules[2] = {rule("netwrix-threat-prevention", "em-agents-dcom", 6, "1024-65535", PW_VERDICT_FAIL),
                            rule("netwrix-threat-prevention", "nas", 6, "10000,10001", PW_VERDICT_PARTIAL)};
    rules[0].dynamic = 2;
    pw_res_evidence e0[1] = {ev(45, "10.20.0.2", "10.20.1.11", 49700, PW_OUT_UNANSWERED, "timeout")};
    rules[0].evidence = e0;
    rules[0].n_evidence = 1;
    pw_res_side servers[2] = {{A("10.20.2.1"), false, PW_VERDICT_PASS, 2}, {A("10.20.2.2"), false, PW_VERDICT_FAIL, 1}};
    pw_res_side clients[2] = {{A("10.20.0.9"), false, PW_VERDICT_PASS, 2}, {A("10.20.0.8"), false, PW_VERDICT_PARTIAL, 2}};
    rules[1].servers = servers;
    rules[1].n_servers = 2;
    rules[1].clients = clients;
    rules[1].n_clients = 2;
    r.rules = rules;
    r.n_rules = 2;
    pw_fixes_result(&r);

    CHECK_INT(r.n_fixes, 2);
    const pw_res_fix *f = &r.fixes[0];
    CHECK(f->rpc_dynamic);
    CHECK_INT(f->cause, PW_FIX_SILENT);
    CHECK_INT(f->rpc_range.lo, 1024);
    CHECK_INT(f->rpc_range.hi, 65535);
    CHECK_INT(f->ports[0].lo, 49700);
    pw_sbuf b = {0};
    pw_fix_ports(&b, f, PW_PORTS_WINDOWS);
    CHECK_STR(pw_sb_str(&b), "RPC");
    pw_sb_free(&b);
    pw_fix_ports(&b, f, PW_PORTS_NETWORK);
    CHECK_STR(pw_sb_str(&b), "1024-65535");
    pw_sb_free(&b);
    pw_fix_ports(&b, f, PW_PORTS_SEEN);
    CHECK_STR(pw_sb_str(&b), "49700");
    pw_sb_free(&b);

    const pw_res_fix *g = &r.fixes[1];
    CHECK(addr_is(&g->server, "10.20.2.2"));
    CHECK(g->clients_from_rule);
    CHECK_INT(g->failed, 0);
    CHECK_INT(g->n_clients, 1); /* only the client that failed */
    CHECK(addr_is(&g->clients[0], "10.20.0.8"));
    CHECK_INT(g->n_ports, 2);
    CHECK_INT(g->ports[0].lo, 10000);
    CHECK_INT(g->ports[1].lo, 10001);
    char *ps = sb_take(pw_fix_powershell, g);
    CHECK(strstr(ps, "-LocalPort 10000,10001 -RemoteAddress '10.20.0.8'") != NULL);
    free(ps);
    free(r.fixes);
}

/* mdi-sensor: the sensor's cloud connection failed: outbound on the sensor
 * to the server it tried; hostile text stays inside its quotes. */
static void test_cloud_and_hostile(void)
{
    pw_result r;
    pw_result_init(&r, &srcs);
    pw_res_rule rules[1] = {rule("my 'evil'\nprofile\"", "id`$(x)", 6, "443", PW_VERDICT_FAIL)};
    pw_res_evidence e0[1] = {ev(5, "10.0.0.5", "20.1.2.3", 443, PW_OUT_UNANSWERED, "timeout")};
    e0[0].cloud = true;
    e0[0].host = "x.atp.azure.com";
    rules[0].evidence = e0;
    rules[0].n_evidence = 1;
    r.rules = rules;
    r.n_rules = 1;
    pw_fixes_result(&r);
    CHECK_INT(r.n_fixes, 1);
    CHECK_INT(r.fixes[0].dir, PW_FIX_OUTBOUND);
    char *ps = sb_take(pw_fix_powershell, &r.fixes[0]);
    CHECK_STR(ps, "New-NetFirewallRule -DisplayName 'portwitness my evil profile id$(x) to 20.1.2.3' -Group "
                  "'portwitness my ''evil'' profile' -Direction Outbound -Action Allow -Protocol TCP -RemotePort 443 "
                  "-RemoteAddress '20.1.2.3'");
    free(ps);
    char *script = render_fix(&r);
    CHECK(strstr(script, "if (Test-PwHost @('10.0.0.5')) {") != NULL);
    CHECK(strstr(script, "\nprofile") == NULL); /* the newline did not end a comment */
    free(script);
    free(r.fixes);
}

static void test_nothing_to_fix(void)
{
    pw_result r;
    pw_result_init(&r, &srcs);
    pw_res_rule rules[2] = {rule("p", "a", 6, "1", PW_VERDICT_INDETERMINATE), rule("p", "b", 6, "2", PW_VERDICT_PASS)};
    pw_res_evidence e0[1] = {ev(5, "10.0.0.5", "10.0.0.6", 1, PW_OUT_INDETERMINATE, "one-sided")};
    rules[0].evidence = e0;
    rules[0].n_evidence = 1;
    r.rules = rules;
    r.n_rules = 2;
    pw_fixes_result(&r);
    CHECK_INT(r.n_fixes, 0);
    char *script = render_fix(&r);
    CHECK(strstr(script, "nothing to fix") != NULL);
    CHECK(strstr(script, "New-NetFirewallRule -") == NULL);
    free(script);
    free(r.fixes);
}

int main(void)
{
    test_nnr_shapes();
    test_netwrix_shapes();
    test_cloud_and_hostile();
    test_nothing_to_fix();
    CHECK_DONE();
}
