/* test_policy.c - port policies: built-in profiles load, rule verdicts from
 * constructed attempts and events (pass, fail, partial, unobserved,
 * indeterminate), the endpoint-mapper dynamic port, proxy CONNECT and TLS
 * checks for the sensor, role inference, --fail-on, YAML errors. */
#include <stdlib.h>
#include <string.h>

#include "../../analysis/analysis.h"
#include "../../analysis/policy.h"
#include "../../analysis/policy_internal.h"
#include "../../report/report.h"
#include "check.h"
#include "conn_shim.h"

static const char *const paths[] = {"cap.pcap"};
static const pw_sources srcs = {paths, 1};

/* Connection records the events and attempts land on (conn_shim.h). */
static conn_shim shim;

static void policy_removed(void *arg, pw_conn *c)
{
    pw_policy_mark m = pw_policy_conn_removed(arg, c);
    pw_policy_count(arg, &c->a, c->app, &m);
}

static void bind_shim(pw_policy *p)
{
    if (shim.arg != p)
        shim_init(&shim, policy_removed, p);
}

static void feed(pw_policy *p, const pw_event *e)
{
    bind_shim(p);
    pw_policy_event(p, shim_event(&shim, e), e);
}

/* Every connection is removed, as at the end of an input. */
static void settle(pw_policy *p)
{
    if (p && shim.arg == p)
        shim_flush(&shim);
}

/* {"profiles", "roles", "rules", "sensor_cloud"} of the report: decided into
 * a result, rendered by report/json.c. */
static json_t *policy_json(pw_policy *p, const pw_sources *sources)
{
    settle(p);
    pw_result r;
    pw_result_init(&r, sources);
    pw_policy_result(p, &r);
    json_t *j = pw_json_policy(&r);
    pw_result_free(&r);
    return j;
}

/* The --fail-on outcome of deciding p now: taken from the result, no writer runs. */
static bool decided_fail_on(pw_policy *p)
{
    settle(p);
    pw_result r;
    pw_result_init(&r, &srcs);
    pw_policy_result(p, &r);
    bool fail = r.fail_on_matched;
    CHECK_INT(r.exit_hint, fail ? 3 : 0);
    pw_result_free(&r);
    return fail;
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

static uint64_t frame_no = 1;

static void att(pw_policy *p, uint8_t proto, const char *c, uint16_t cport, const char *s, uint16_t port,
                pw_outcome o, pw_reason r, double t)
{
    pw_attempt a;
    memset(&a, 0, sizeof a);
    a.proto = proto;
    a.client = A(c);
    a.server = A(s);
    a.client_port = cport;
    a.port = port;
    a.outcome = o;
    a.reason = r;
    a.ts = (pw_usec)(t * 1e6);
    a.frame_request = frame_no++;
    if (o == PW_OUT_ANSWERED || o == PW_OUT_REFUSED)
        a.frame_reply = frame_no++;
    bind_shim(p);
    shim_attempt(&shim, &a);
}

static void ev_init(pw_event *e, pw_event_type type, const char *c, uint16_t cport, const char *s, uint16_t sport,
                    int dir, double t)
{
    memset(e, 0, sizeof *e);
    e->type = type;
    e->frame = frame_no++;
    e->ts = (pw_usec)(t * 1e6);
    e->flow.proto = 6;
    e->flow.client = A(c);
    e->flow.server = A(s);
    e->flow.client_port = cport;
    e->flow.server_port = sport;
    e->dir = dir;
}

static void epm(pw_policy *p, const char *c, uint16_t cport, const char *s, uint16_t port, double t)
{
    pw_event e;
    ev_init(&e, PW_EV_EPM_PORT, c, cport, s, 135, 1, t);
    e.u.epm.proto = 6;
    e.u.epm.has_addr = true;
    e.u.epm.addr = A("0.0.0.0");
    e.u.epm.port = port;
    e.u.epm.opnum = 3;
    feed(p, &e);
}

static void tls(pw_policy *p, const char *c, uint16_t cport, const char *s, uint16_t sport, int kind,
                const char *text, double t)
{
    pw_event e;
    ev_init(&e, PW_EV_TLS, c, cport, s, sport, kind == PW_TLS_CLIENT_HELLO ? 0 : 1, t);
    e.u.tls.kind = (uint8_t)kind;
    if (kind == PW_TLS_CLIENT_HELLO && text)
        snprintf(e.u.tls.sni, sizeof e.u.tls.sni, "%s", text);
    if (kind == PW_TLS_CERTIFICATE && text)
        snprintf(e.u.tls.issuer, sizeof e.u.tls.issuer, "%s", text);
    feed(p, &e);
}

static void http(pw_policy *p, const char *c, uint16_t cport, const char *s, uint16_t sport, const char *host,
                 uint16_t status, double t)
{
    pw_event e;
    ev_init(&e, PW_EV_HTTP, c, cport, s, sport, 0, t);
    e.u.http.kind = PW_HTTP_REQUEST;
    snprintf(e.u.http.method, sizeof e.u.http.method, "CONNECT");
    snprintf(e.u.http.host, sizeof e.u.http.host, "%s", host);
    e.u.http.port = 443;
    feed(p, &e);
    if (status) {
        ev_init(&e, PW_EV_HTTP, c, cport, s, sport, 1, t + 0.01);
        e.u.http.kind = PW_HTTP_RESPONSE;
        e.u.http.status = status;
        feed(p, &e);
    }
}

static json_t *rule(json_t *res, const char *id)
{
    json_t *rules = json_object_get(res, "rules"), *r;
    size_t i;
    json_array_foreach(rules, i, r)
        if (!strcmp(json_string_value(json_object_get(r, "id")), id))
            return r;
    return NULL;
}

static const char *verdict(json_t *res, const char *id)
{
    json_t *r = rule(res, id);
    return r ? json_string_value(json_object_get(r, "verdict")) : "(no such rule)";
}

static const char *server_verdict(json_t *res, const char *id, const char *ip)
{
    json_t *r = rule(res, id), *s;
    size_t i;
    json_array_foreach(json_object_get(r, "servers"), i, s)
        if (!strcmp(json_string_value(json_object_get(s, "ip")), ip))
            return json_string_value(json_object_get(s, "verdict"));
    return "(no such server)";
}

static const char *role_why(json_t *res, const char *role, const char *ip, int *inferred)
{
    json_t *x;
    size_t i;
    json_array_foreach(json_object_get(res, "roles"), i, x)
        if (!strcmp(json_string_value(json_object_get(x, "role")), role) &&
            !strcmp(json_string_value(json_object_get(x, "ip")), ip)) {
            *inferred = json_is_true(json_object_get(x, "inferred"));
            return json_string_value(json_object_get(x, "why"));
        }
    return NULL;
}

static pw_policy *mk(const char *profile, pw_config *cfg)
{
    pw_config_defaults(cfg);
    if (profile) {
        cfg->profiles[0] = profile;
        cfg->n_profiles = 1;
    }
    cfg->profile_dir = PW_PROFILE_DIR;
    char err[512] = "";
    pw_policy *p = pw_policy_new(cfg, err, sizeof err);
    if (!p)
        fprintf(stderr, "pw_policy_new: %s\n", err);
    return p;
}

static void test_profiles_load(void)
{
    const char *names[] = {"mdi-nnr", "mdi-sensor", "netwrix-threat-prevention"};
    const int rules[] = {5, 1, 50};
    for (int i = 0; i < 3; i++) {
        char path[1024], err[512] = "";
        snprintf(path, sizeof path, "%s/%s.yaml", PW_PROFILE_DIR, names[i]);
        pw_profile_def *d = pw_profile_load(path, err, sizeof err);
        CHECK(d != NULL);
        if (!d) {
            fprintf(stderr, "%s\n", err);
            continue;
        }
        CHECK_STR(d->name, names[i]);
        CHECK_INT(d->n_rules, rules[i]);
        for (int r = 0; r < d->n_rules; r++) {
            CHECK(d->rules[r].remediation && strlen(d->rules[r].remediation) > 20);
            CHECK(d->rules[r].description && strlen(d->rules[r].description) > 5);
        }
        pw_profile_free(d);
        pw_config cfg;
        pw_policy *p = mk(names[i], &cfg);
        CHECK(p != NULL);
        pw_policy_free(p);
    }
    /* optional rows of 001 are optional */
    char err[512];
    pw_profile_def *d = pw_profile_load(PW_PROFILE_DIR "/netwrix-threat-prevention.yaml", err, sizeof err);
    int optional = 0;
    for (int r = 0; d && r < d->n_rules; r++)
        optional += !d->rules[r].required;
    CHECK_INT(optional, 6); /* WMI 135 + DCOM range, NetApp 7-mode HTTP/HTTPS, cluster-mode HTTP/HTTPS */
    pw_profile_free(d);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK_INT(pw_policy_list_profiles(PW_PROFILE_DIR, f), 0);
    fclose(f);
    CHECK(strstr(buf, "mdi-nnr\t") == buf);
    CHECK(strstr(buf, "\nmdi-sensor\t") != NULL);
    CHECK(strstr(buf, "\nnetwrix-threat-prevention\t") != NULL);
    free(buf);

    pw_config cfg;
    pw_config_defaults(&cfg);
    cfg.profile_dir = PW_PROFILE_DIR;
    cfg.profiles[0] = "no-such-profile";
    cfg.n_profiles = 1;
    char e2[512] = "";
    CHECK(pw_policy_new(&cfg, e2, sizeof e2) == NULL);
    CHECK(strstr(e2, "unknown profile 'no-such-profile'") != NULL);
}

static void test_portspec(void)
{
    pw_portspec ps;
    CHECK(pw_portspec_parse("3741", &ps) && ps.n == 1 && pw_portspec_has(&ps, 3741) && !pw_portspec_has(&ps, 3740));
    CHECK(pw_portspec_parse("10000,10001", &ps) && ps.n == 2 && pw_portspec_has(&ps, 10001));
    CHECK(pw_portspec_parse("49152-65535", &ps) && pw_portspec_has(&ps, 65535) && !pw_portspec_has(&ps, 49151));
    CHECK(pw_portspec_parse("epm-dynamic", &ps) && ps.epm_dynamic);
    CHECK(!pw_portspec_parse("70000", &ps));
    CHECK(!pw_portspec_parse("5-3", &ps));
    CHECK(!pw_portspec_parse("abc", &ps));
    pw_pport pp;
    CHECK(pw_pport_parse("udp/137", &pp) && pp.proto == 17 && pp.port == 137);
    CHECK(!pw_pport_parse("icmp/1", &pp));
    CHECK(pw_name_match("*.atp.azure.com", "contoso-corpsensorapi.ATP.azure.com"));
    CHECK(pw_name_match("*.atp.azure.com", "triprd1wcusw1sensorapi.atp.azure.com"));
    CHECK(!pw_name_match("*.atp.azure.com", "atp.azure.com.evil.example"));
    CHECK_INT(pw_verdict_parse("partial"), PW_VERDICT_PARTIAL);
    CHECK_INT(pw_verdict_parse("nope"), -1);
    CHECK_STR(pw_verdict_name(PW_VERDICT_UNOBSERVED), "unobserved");
}

static void test_netwrix(void)
{
    pw_config cfg;
    pw_policy *p = mk("netwrix-threat-prevention", &cfg);
    if (!p) {
        CHECK(0);
        return;
    }
    const char *EM = "10.0.0.2", *DC = "10.0.0.3", *SQL = "10.0.0.5", *TM = "10.0.0.30";
    /* agents: .11 and .12 reach the EM, .13 is refused: partial by clients */
    att(p, 6, "10.0.0.11", 50001, EM, 3741, PW_OUT_ANSWERED, PW_R_SYN_ACK, 1);
    att(p, 6, "10.0.0.12", 50002, EM, 3741, PW_OUT_ANSWERED, PW_R_SYN_ACK, 1.1);
    att(p, 6, "10.0.0.13", 50003, EM, 3741, PW_OUT_REFUSED, PW_R_RST, 1.2);
    /* console refused on 3740 */
    att(p, 6, "10.0.0.20", 50010, EM, 3740, PW_OUT_REFUSED, PW_R_RST, 2);
    att(p, 6, "10.0.0.20", 50011, EM, 3740, PW_OUT_BLOCKED, PW_R_ICMP_ADMIN_PROHIBITED, 2.5);
    /* EM -> SQL answered */
    att(p, 6, EM, 50020, SQL, 1433, PW_OUT_ANSWERED, PW_R_SYN_ACK, 3);
    /* DC answers 88 and 389; the TM's LDAPS attempt is one-sided */
    att(p, 6, TM, 50030, DC, 88, PW_OUT_ANSWERED, PW_R_SYN_ACK, 4);
    att(p, 6, TM, 50031, DC, 389, PW_OUT_ANSWERED, PW_R_SYN_ACK, 4.1);
    att(p, 6, TM, 50032, DC, 636, PW_OUT_INDETERMINATE, PW_R_ONE_SIDED, 4.2);
    /* EM -> agent .11: 135 answered, EPM hands out 49667, which is blocked */
    epm(p, EM, 50040, "10.0.0.11", 49667, 5.0);
    att(p, 6, EM, 50040, "10.0.0.11", 135, PW_OUT_ANSWERED, PW_R_SYN_ACK, 4.9);
    att(p, 6, EM, 50041, "10.0.0.11", 49667, PW_OUT_UNANSWERED, PW_R_TIMEOUT, 5.1);
    /* an attempt to 49667 before the EPM response is not dynamic */
    att(p, 6, EM, 50039, "10.0.0.12", 49668, PW_OUT_UNANSWERED, PW_R_TIMEOUT, 4.0);
    epm(p, EM, 50042, "10.0.0.12", 49668, 6.0);
    /* TM -> DC dynamic port answered after EPM */
    epm(p, TM, 50050, DC, 49700, 7.0);
    att(p, 6, TM, 50050, DC, 135, PW_OUT_ANSWERED, PW_R_SYN_ACK, 6.9);
    att(p, 6, TM, 50051, DC, 49700, PW_OUT_ANSWERED, PW_R_SYN_ACK, 7.1);

    json_t *res = policy_json(p, &srcs);
    CHECK(res != NULL);
    json_t *rules = json_object_get(res, "rules");
    CHECK_INT(json_array_size(rules), 50);
    CHECK_STR(verdict(res, "agent-em"), "partial");
    CHECK_STR(verdict(res, "em-inbound-agent"), "partial");
    CHECK_STR(verdict(res, "console-em"), "fail");
    CHECK_STR(verdict(res, "remote-console-em"), "fail");
    CHECK_STR(verdict(res, "em-sql-tcp"), "pass");
    CHECK_STR(verdict(res, "em-sql-udp"), "unobserved");
    /* a host may hold several roles: with no threat manager bound, the EM's SQL
     * traffic is the traffic that reached the SQL server on the rule's port,
     * so the rule is judged on it (its from-role inferred by rule) */
    CHECK_STR(verdict(res, "tm-sql-tcp"), "pass");
    CHECK_STR(verdict(res, "tm-dc-kerberos"), "pass");
    CHECK_STR(verdict(res, "tm-dc-ldaps"), "indeterminate");
    CHECK_STR(verdict(res, "tm-dc-epm"), "pass");
    CHECK_STR(verdict(res, "tm-dc-rpc-dynamic"), "pass");
    CHECK_STR(verdict(res, "em-agents-rpc"), "pass");
    CHECK_STR(verdict(res, "em-agents-dcom"), "fail");
    CHECK_STR(verdict(res, "nasuni-agent-api"), "unobserved");
    CHECK_STR(verdict(res, "netapp7-agent-rpc-135"), "unobserved"); /* nas-device unbound */

    /* the dynamic-port rule's evidence says which EPM response handed the port out */
    json_t *dcom = rule(res, "em-agents-dcom");
    json_t *ev0 = json_array_get(json_object_get(dcom, "evidence"), 0);
    CHECK_INT(json_integer_value(json_object_get(ev0, "port")), 49667);
    CHECK_STR(json_string_value(json_object_get(ev0, "outcome")), "unanswered");
    CHECK_STR(json_string_value(json_object_get(ev0, "reason")), "timeout");
    CHECK(json_integer_value(json_object_get(ev0, "epm_frame")) > 0);
    CHECK_STR(json_string_value(json_object_get(ev0, "source")), "cap.pcap");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(dcom, "counts"), "attempts")), 1);
    CHECK_STR(json_string_value(json_object_get(dcom, "ports")), "1024-65535");
    CHECK(!json_is_true(json_object_get(dcom, "required")));

    /* partial lists which clients pass and fail */
    json_t *agent = rule(res, "agent-em");
    CHECK_INT(json_array_size(json_object_get(agent, "clients")), 3);
    CHECK_STR(server_verdict(res, "agent-em", EM), "partial");
    json_t *c0 = json_array_get(json_object_get(agent, "clients"), 2);
    CHECK_STR(json_string_value(json_object_get(c0, "ip")), "10.0.0.13");
    CHECK_STR(json_string_value(json_object_get(c0, "verdict")), "fail");
    json_t *cnt = json_object_get(agent, "counts");
    CHECK_INT(json_integer_value(json_object_get(cnt, "answered")), 2);
    CHECK_INT(json_integer_value(json_object_get(cnt, "refused")), 1);
    /* failures first in the evidence */
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(agent, "evidence"), 0), "outcome")),
              "refused");
    /* unobserved rules say what would prove them */
    CHECK(strstr(json_string_value(json_object_get(rule(res, "em-sql-udp"), "proof_needed")), "udp/1434") != NULL);

    /* order: required fail first, then required partial, ..., optional last */
    json_t *first = json_array_get(rules, 0);
    CHECK_STR(json_string_value(json_object_get(first, "verdict")), "fail");
    CHECK(json_is_true(json_object_get(first, "required")));
    bool seen_optional = false, order_ok = true;
    int last_group = 0;
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r) {
        bool req = json_is_true(json_object_get(r, "required"));
        const char *v = json_string_value(json_object_get(r, "verdict"));
        int g = !req ? 3 : !strcmp(v, "fail") ? 0 : !strcmp(v, "partial") ? 1 : 2;
        if (g < last_group)
            order_ok = false;
        last_group = g;
        seen_optional |= !req;
    }
    CHECK(order_ok && seen_optional);

    /* roles */
    int inf = 0;
    const char *why = role_why(res, "enterprise-manager", EM, &inf);
    CHECK(why && strstr(why, "answers tcp/3741"));
    CHECK(inf);
    why = role_why(res, "domain-controller", DC, &inf);
    CHECK(why && strstr(why, "tcp/88 and tcp/389"));
    why = role_why(res, "agent", "10.0.0.13", &inf);
    CHECK(why && strstr(why, "connects to tcp/3741"));
    json_t *servers = json_object_get(rule(res, "agent-em"), "servers");
    CHECK(json_is_true(json_object_get(json_array_get(servers, 0), "role_inferred")));
    json_t *prof = json_array_get(json_object_get(res, "profiles"), 0);
    CHECK_STR(json_string_value(json_object_get(prof, "name")), "netwrix-threat-prevention");
    CHECK_STR(json_string_value(json_object_get(prof, "why")), "selected with --profile");
    CHECK_STR(json_string_value(json_object_get(prof, "source")), "built-in");
    json_decref(res);
    CHECK(!decided_fail_on(p)); /* no --fail-on */
    pw_policy_free(p);
}

/* --fail-on and --role binding. */
static void test_fail_on_and_roles(void)
{
    pw_config cfg;
    pw_config_defaults(&cfg);
    cfg.profile_dir = PW_PROFILE_DIR;
    cfg.profiles[0] = "netwrix-threat-prevention";
    cfg.n_profiles = 1;
    snprintf(cfg.roles[0].role, sizeof cfg.roles[0].role, "nas-device");
    CHECK(pw_addr_parse_cidr("10.0.9.0/24", &cfg.roles[0].cidr.net, &cfg.roles[0].cidr.prefix));
    snprintf(cfg.roles[1].role, sizeof cfg.roles[1].role, "enterprise-manager");
    CHECK(pw_addr_parse_cidr("10.0.0.2", &cfg.roles[1].cidr.net, &cfg.roles[1].cidr.prefix));
    snprintf(cfg.roles[2].role, sizeof cfg.roles[2].role, "activity-agent-server");
    CHECK(pw_addr_parse_cidr("10.0.0.50", &cfg.roles[2].cidr.net, &cfg.roles[2].cidr.prefix));
    cfg.n_roles = 3;
    cfg.fail_on[PW_VERDICT_PARTIAL] = true;
    char err[512];
    pw_policy *p = pw_policy_new(&cfg, err, sizeof err);
    CHECK(p != NULL);
    if (!p)
        return;
    att(p, 6, "10.0.0.50", 50001, "10.0.9.7", 8443, PW_OUT_ANSWERED, PW_R_SYN_ACK, 1);
    att(p, 6, "10.0.9.7", 50002, "10.0.0.50", 5671, PW_OUT_BLOCKED, PW_R_ICMP_ADMIN_PROHIBITED, 2);
    /* 3741 to a host that is not the bound EM does not match */
    att(p, 6, "10.0.0.11", 50003, "10.0.0.99", 3741, PW_OUT_REFUSED, PW_R_RST, 3);
    att(p, 6, "10.0.0.11", 50004, "10.0.0.2", 3741, PW_OUT_ANSWERED, PW_R_SYN_ACK, 3);
    json_t *res = policy_json(p, &srcs);
    CHECK_STR(verdict(res, "nasuni-agent-api"), "pass");
    CHECK_STR(verdict(res, "nasuni-events"), "fail");
    CHECK_STR(verdict(res, "agent-em"), "pass");
    CHECK_STR(server_verdict(res, "nasuni-agent-api", "10.0.9.7"), "pass");
    json_t *s0 = json_array_get(json_object_get(rule(res, "nasuni-agent-api"), "servers"), 0);
    CHECK(!json_is_true(json_object_get(s0, "role_inferred")));
    int inf = 1;
    const char *why = role_why(res, "nas-device", "10.0.9.0/24", &inf);
    CHECK(why && !strcmp(why, "--role"));
    CHECK(!inf);
    /* fail-on partial: no required partial here -> no failure */
    CHECK(!decided_fail_on(p));
    json_decref(res);
    pw_policy_free(p);

    cfg.fail_on[PW_VERDICT_FAIL] = true;
    p = pw_policy_new(&cfg, err, sizeof err);
    att(p, 6, "10.0.9.7", 50002, "10.0.0.50", 5671, PW_OUT_BLOCKED, PW_R_ICMP_ADMIN_PROHIBITED, 2);
    {   /* nothing is decided before pw_policy_result */
        pw_result r0;
        pw_result_init(&r0, &srcs);
        CHECK(!r0.fail_on_matched && r0.n_rules == 0);
    }
    res = policy_json(p, &srcs);
    CHECK(decided_fail_on(p));
    json_decref(res);
    pw_policy_free(p);

    /* optional rules never trigger --fail-on */
    pw_config_defaults(&cfg);
    cfg.profile_dir = PW_PROFILE_DIR;
    cfg.profiles[0] = "netwrix-threat-prevention";
    cfg.n_profiles = 1;
    cfg.fail_on[PW_VERDICT_FAIL] = true;
    p = pw_policy_new(&cfg, err, sizeof err);
    att(p, 6, "10.0.0.11", 50001, "10.0.0.2", 3741, PW_OUT_ANSWERED, PW_R_SYN_ACK, 1);
    att(p, 6, "10.0.0.2", 50002, "10.0.0.11", 135, PW_OUT_REFUSED, PW_R_RST, 2);
    res = policy_json(p, &srcs);
    CHECK_STR(verdict(res, "em-agents-rpc"), "fail");
    CHECK(!decided_fail_on(p));
    json_decref(res);
    pw_policy_free(p);
}

static void test_nnr(void)
{
    pw_config cfg;
    pw_policy *p = mk("mdi-nnr", &cfg);
    if (!p) {
        CHECK(0);
        return;
    }
    const char *S = "10.1.0.5";
    att(p, 6, S, 40001, "10.1.0.10", 135, PW_OUT_ANSWERED, PW_R_SYN_ACK, 1);
    att(p, 6, S, 40002, "10.1.0.11", 135, PW_OUT_REFUSED, PW_R_RST, 1.5);
    att(p, 17, S, 137, "10.1.0.10", 137, PW_OUT_UNANSWERED, PW_R_TIMEOUT, 2);
    att(p, 17, S, 137, "10.1.0.11", 137, PW_OUT_BLOCKED, PW_R_ICMP_ADMIN_PROHIBITED, 2);
    att(p, 17, S, 53001, "10.1.0.1", 53, PW_OUT_ANSWERED, PW_R_UDP_REPLY, 3);
    json_t *res = policy_json(p, &srcs);
    CHECK_STR(verdict(res, "nnr-ntlm-rpc"), "partial");
    CHECK_STR(server_verdict(res, "nnr-ntlm-rpc", "10.1.0.10"), "pass");
    CHECK_STR(server_verdict(res, "nnr-ntlm-rpc", "10.1.0.11"), "fail");
    CHECK_STR(verdict(res, "nnr-netbios"), "fail");
    CHECK_STR(verdict(res, "nnr-rdp"), "unobserved");
    CHECK_STR(verdict(res, "nnr-dns"), "pass");
    CHECK_STR(verdict(res, "nnr-dns-tcp"), "unobserved");
    json_t *s0 = json_array_get(json_object_get(rule(res, "nnr-ntlm-rpc"), "servers"), 0);
    CHECK(!json_is_true(json_object_get(s0, "role_inferred"))); /* any-host needs no inference */
    int inf = 0;
    const char *why = role_why(res, "sensor", S, &inf);
    CHECK(why && strstr(why, "connects to"));
    CHECK(inf);
    why = role_why(res, "dns-server", "10.1.0.1", &inf);
    CHECK(why && strstr(why, "answers udp/53"));
    /* the first rules are the failing required ones */
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(res, "rules"), 0), "id")),
              "nnr-netbios");
    json_decref(res);
    pw_policy_free(p);
}

static void test_sensor_cloud(void)
{
    pw_config cfg;
    pw_policy *p = mk("mdi-sensor", &cfg);
    if (!p) {
        CHECK(0);
        return;
    }
    const char *CLOUD = "20.40.1.1", *PX = "10.2.0.9";
    /* S1 direct, genuine certificate */
    tls(p, "10.2.0.1", 49001, CLOUD, 443, PW_TLS_CLIENT_HELLO, "contoso-corpsensorapi.atp.azure.com", 1);
    tls(p, "10.2.0.1", 49001, CLOUD, 443, PW_TLS_SERVER_HELLO, NULL, 1.05);
    tls(p, "10.2.0.1", 49001, CLOUD, 443, PW_TLS_CERTIFICATE,
        "CN=Microsoft Azure TLS Issuing CA 01,O=Microsoft Corporation,C=US", 1.05);
    att(p, 6, "10.2.0.1", 49001, CLOUD, 443, PW_OUT_ANSWERED, PW_R_SYN_ACK, 0.99);
    /* S2 through the proxy, allowed */
    http(p, "10.2.0.2", 49002, PX, 8080, "triprd1wceuw1sensorapi.atp.azure.com", 200, 2);
    att(p, 6, "10.2.0.2", 49002, PX, 8080, PW_OUT_ANSWERED, PW_R_SYN_ACK, 1.99);
    /* S3 proxy denies, S4 proxy wants authentication */
    http(p, "10.2.0.3", 49003, PX, 8080, "triprd1wceuw1sensorapi.atp.azure.com", 403, 3);
    http(p, "10.2.0.4", 49004, PX, 8080, "triprd1wceuw1sensorapi.atp.azure.com", 407, 4);
    /* S5 direct through an inspection device */
    tls(p, "10.2.0.5", 49005, CLOUD, 443, PW_TLS_CLIENT_HELLO, "contoso-corpsensorapi.atp.azure.com", 5);
    tls(p, "10.2.0.5", 49005, CLOUD, 443, PW_TLS_SERVER_HELLO, NULL, 5.05);
    tls(p, "10.2.0.5", 49005, CLOUD, 443, PW_TLS_CERTIFICATE, "CN=Contoso Inspection CA,O=Contoso", 5.05);
    /* S6 handshake never completes */
    tls(p, "10.2.0.6", 49006, CLOUD, 443, PW_TLS_CLIENT_HELLO, "contoso-corpsensorapi.atp.azure.com", 6);
    att(p, 6, "10.2.0.6", 49006, CLOUD, 443, PW_OUT_ANSWERED, PW_R_SYN_ACK, 5.99);
    /* unrelated TLS is ignored */
    tls(p, "10.2.0.7", 49007, "1.1.1.1", 443, PW_TLS_CLIENT_HELLO, "www.example.com", 7);

    json_t *res = policy_json(p, &srcs);
    CHECK_STR(verdict(res, "sensor-cloud-443"), "partial");
    json_t *r = rule(res, "sensor-cloud-443");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r, "counts"), "clients")), 6);
    CHECK(json_array_size(json_object_get(r, "notes")) == 1);
    CHECK(strstr(json_string_value(json_array_get(json_object_get(r, "notes"), 0)), "mutual inspection") != NULL);
    CHECK_STR(server_verdict(res, "sensor-cloud-443", PX), "partial");
    json_t *sc = json_object_get(res, "sensor_cloud");
    CHECK_INT(json_array_size(sc), 6);
    const char *want_fail[] = {NULL, NULL, "proxy-denied", "proxy-auth-required", NULL, "tls-handshake-incomplete"};
    const bool want_reached[] = {true, true, false, false, true, false};
    for (size_t i = 0; i < 6 && i < json_array_size(sc); i++) {
        json_t *s = json_array_get(sc, i);
        char ip[32];
        snprintf(ip, sizeof ip, "10.2.0.%zu", i + 1);
        CHECK_STR(json_string_value(json_object_get(s, "sensor")), ip);
        CHECK_INT(json_is_true(json_object_get(s, "reached")), want_reached[i]);
        if (want_fail[i])
            CHECK_STR(json_string_value(json_object_get(s, "failure")), want_fail[i]);
        else
            CHECK(json_is_null(json_object_get(s, "failure")));
    }
    json_t *s2 = json_array_get(sc, 1);
    CHECK_STR(json_string_value(json_object_get(s2, "via")), "proxy");
    CHECK_STR(json_string_value(json_object_get(s2, "proxy")), "10.2.0.9:8080");
    CHECK_STR(json_string_value(json_object_get(json_array_get(sc, 0), "via")), "direct");
    CHECK(!json_is_true(json_object_get(json_object_get(json_array_get(sc, 0), "tls_inspection"), "detected")));
    json_t *ti = json_object_get(json_array_get(sc, 4), "tls_inspection");
    CHECK(json_is_true(json_object_get(ti, "detected")));
    CHECK_STR(json_string_value(json_array_get(json_object_get(ti, "issuers"), 0)), "CN=Contoso Inspection CA,O=Contoso");
    json_t *c3 = json_array_get(json_object_get(json_array_get(sc, 2), "connections"), 0);
    CHECK_INT(json_integer_value(json_object_get(c3, "status")), 403);
    CHECK_STR(json_string_value(json_object_get(c3, "outcome")), "blocked");
    int inf = 0;
    const char *why = role_why(res, "proxy", PX, &inf);
    CHECK(why && strstr(why, "receives HTTP CONNECT on tcp/8080"));
    why = role_why(res, "sensor", "10.2.0.1", &inf);
    CHECK(why && strstr(why, "TLS ClientHello for contoso-corpsensorapi.atp.azure.com"));
    CHECK(role_why(res, "sensor", "10.2.0.7", &inf) == NULL);
    json_decref(res);
    pw_policy_free(p);
}

static void dns_answer(pw_policy *p, const char *client, const char *qname, const char *addr, double t)
{
    pw_event e;
    ev_init(&e, PW_EV_DNS, client, 53001, "10.2.0.53", 53, 1, t);
    e.flow.proto = 17;
    e.u.dns.response = true;
    snprintf(e.u.dns.qname, sizeof e.u.dns.qname, "%s", qname);
    e.u.dns.qtype = 1;
    e.u.dns.n_answers = 1;
    e.u.dns.answers[0].type = 1;
    e.u.dns.answers[0].addr = A(addr);
    feed(p, &e);
}

/* 407 then 200 on one connection, a tunnel whose TLS never completes, a DNS-named
 * cloud address that never answers, and a sensor bound with --sensor. */
static void test_sensor_cloud_more(void)
{
    pw_config cfg;
    pw_config_defaults(&cfg);
    cfg.profile_dir = PW_PROFILE_DIR;
    cfg.profiles[0] = "mdi-sensor";
    cfg.n_profiles = 1;
    CHECK(pw_addr_parse_cidr("10.3.0.0/24", &cfg.sensors[0].net, &cfg.sensors[0].prefix));
    cfg.n_sensors = 1;
    char err[512];
    pw_policy *p = pw_policy_new(&cfg, err, sizeof err);
    CHECK(p != NULL);
    if (!p)
        return;
    const char *PX = "10.3.9.9";
    http(p, "10.3.0.1", 40001, PX, 3128, "contoso-corpsensorapi.atp.azure.com", 407, 1);
    http(p, "10.3.0.1", 40001, PX, 3128, "contoso-corpsensorapi.atp.azure.com", 200, 1.5);
    http(p, "10.3.0.2", 40002, PX, 3128, "contoso-corpsensorapi.atp.azure.com", 200, 2);
    tls(p, "10.3.0.2", 40002, PX, 3128, PW_TLS_CLIENT_HELLO, "contoso-corpsensorapi.atp.azure.com", 2.1);
    att(p, 6, "10.3.0.2", 40002, PX, 3128, PW_OUT_ANSWERED, PW_R_SYN_ACK, 1.9);
    dns_answer(p, "10.3.0.3", "triprd1wcuse1sensorapi.atp.azure.com", "20.50.0.1", 3);
    att(p, 6, "10.3.0.3", 40003, "20.50.0.1", 443, PW_OUT_UNANSWERED, PW_R_TIMEOUT, 3.1);
    att(p, 6, "10.3.0.3", 40004, "20.50.0.2", 443, PW_OUT_UNANSWERED, PW_R_TIMEOUT, 3.2); /* not named */
    /* a client outside the bound sensors is not a sensor */
    tls(p, "10.4.0.1", 40005, "20.50.0.1", 443, PW_TLS_CLIENT_HELLO, "contoso-corpsensorapi.atp.azure.com", 4);
    json_t *res = policy_json(p, &srcs);
    json_t *sc = json_object_get(res, "sensor_cloud");
    CHECK_INT(json_array_size(sc), 3);
    json_t *s1 = json_array_get(sc, 0), *s2 = json_array_get(sc, 1), *s3 = json_array_get(sc, 2);
    CHECK(json_is_true(json_object_get(s1, "reached")));
    CHECK_STR(json_string_value(json_object_get(s1, "proxy")), "10.3.9.9:3128");
    CHECK(!json_is_true(json_object_get(s1, "role_inferred")));
    CHECK(!json_is_true(json_object_get(s2, "reached")));
    CHECK_STR(json_string_value(json_object_get(s2, "failure")), "tls-handshake-incomplete");
    CHECK(!json_is_true(json_object_get(s3, "reached")));
    CHECK_STR(json_string_value(json_object_get(s3, "failure")), "unanswered");
    json_t *c3 = json_array_get(json_object_get(s3, "connections"), 0);
    CHECK_STR(json_string_value(json_object_get(c3, "host")), "triprd1wcuse1sensorapi.atp.azure.com");
    CHECK_STR(verdict(res, "sensor-cloud-443"), "partial");
    int inf = 1;
    const char *why = role_why(res, "sensor", "10.3.0.0/24", &inf);
    CHECK(why && !strcmp(why, "--sensor") && !inf);
    json_decref(res);
    pw_policy_free(p);
}

/* NTLM over RPC chooses mdi-nnr without --profile; 135 alone does not. */
static void test_auto_ntlm_rpc(void)
{
    pw_config cfg;
    pw_policy *p = mk(NULL, &cfg);
    if (!p) {
        CHECK(0);
        return;
    }
    att(p, 6, "10.1.0.5", 40001, "10.1.0.10", 135, PW_OUT_ANSWERED, PW_R_SYN_ACK, 1);
    json_t *res = policy_json(p, &srcs);
    CHECK_INT(json_array_size(json_object_get(res, "profiles")), 0);
    json_decref(res);
    pw_event e;
    ev_init(&e, PW_EV_DCERPC, "10.1.0.5", 40001, "10.1.0.10", 135, 0, 1.01);
    e.u.dcerpc.ptype = PW_DCERPC_BIND;
    e.u.dcerpc.auth_type = PW_AUTHN_WINNT;
    feed(p, &e);
    res = policy_json(p, &srcs); /* deciding twice is allowed */
    json_t *profs = json_object_get(res, "profiles");
    CHECK_INT(json_array_size(profs), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(profs, 0), "name")), "mdi-nnr");
    CHECK(strstr(json_string_value(json_object_get(json_array_get(profs, 0), "why")), "NTLMSSP") != NULL);
    CHECK_STR(verdict(res, "nnr-ntlm-rpc"), "pass");
    json_decref(res);
    pw_policy_free(p);
}

static void test_auto_choice(void)
{
    pw_config cfg;
    pw_policy *p = mk(NULL, &cfg);
    if (!p) {
        CHECK(0);
        return;
    }
    tls(p, "10.2.0.1", 49001, "20.40.1.1", 443, PW_TLS_CLIENT_HELLO, "contoso-corpsensorapi.atp.azure.com", 1);
    att(p, 6, "10.2.0.1", 49001, "20.40.1.1", 443, PW_OUT_UNANSWERED, PW_R_TIMEOUT, 0.9);
    att(p, 6, "10.0.0.8", 49001, "10.0.0.9", 445, PW_OUT_ANSWERED, PW_R_SYN_ACK, 2);
    json_t *res = policy_json(p, &srcs);
    json_t *profs = json_object_get(res, "profiles");
    CHECK_INT(json_array_size(profs), 1);
    json_t *p0 = json_array_get(profs, 0);
    CHECK_STR(json_string_value(json_object_get(p0, "name")), "mdi-sensor");
    CHECK(strstr(json_string_value(json_object_get(p0, "why")), "*.atp.azure.com") != NULL);
    CHECK_STR(verdict(res, "sensor-cloud-443"), "fail");
    CHECK_INT(json_array_size(json_object_get(res, "rules")), 1);
    json_decref(res);
    pw_policy_free(p);

    p = mk(NULL, &cfg);
    att(p, 6, "10.0.0.11", 50001, "10.0.0.2", 3741, PW_OUT_ANSWERED, PW_R_SYN_ACK, 1);
    res = policy_json(p, &srcs);
    profs = json_object_get(res, "profiles");
    CHECK_INT(json_array_size(profs), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(profs, 0), "name")), "netwrix-threat-prevention");
    CHECK(strstr(json_string_value(json_object_get(json_array_get(profs, 0), "why")), "tcp/3741") != NULL);
    json_decref(res);
    pw_policy_free(p);

    p = mk(NULL, &cfg); /* nothing seen: nothing chosen */
    res = policy_json(p, &srcs);
    CHECK_INT(json_array_size(json_object_get(res, "profiles")), 0);
    CHECK_INT(json_array_size(json_object_get(res, "rules")), 0);
    json_decref(res);
    pw_policy_free(p);
}

static void expect_err(const char *text, const char *want)
{
    char err[512] = "";
    pw_profile_def *d = pw_profile_parse(text, strlen(text), "t.yaml", err, sizeof err);
    CHECK(d == NULL);
    if (!strstr(err, want))
        fprintf(stderr, "error \"%s\" lacks \"%s\"\n", err, want);
    CHECK(strstr(err, want) != NULL);
    pw_profile_free(d);
}

static void test_yaml_errors(void)
{
    const char *head = "name: t\nrules:\n  - id: a\n    description: d\n    from: x\n    to: y\n";
    char buf[1024];
    snprintf(buf, sizeof buf, "%s    proto: icmp\n    ports: \"1\"\n    required: true\n    remediation: r\n", head);
    expect_err(buf, "t.yaml:7:12: rule 'a': proto must be tcp or udp, not 'icmp'");
    snprintf(buf, sizeof buf, "%s    proto: tcp\n    ports: \"1-x\"\n    required: true\n    remediation: r\n", head);
    expect_err(buf, "t.yaml:8:12: rule 'a': ports '1-x'");
    snprintf(buf, sizeof buf, "%s    proto: tcp\n    ports: \"1\"\n    remediation: r\n", head);
    expect_err(buf, "t.yaml:3:5: rule 'a': missing 'required'");
    snprintf(buf, sizeof buf, "%s    proto: tcp\n    ports: \"1\"\n    required: maybe\n    remediation: r\n", head);
    expect_err(buf, "t.yaml:9:15: required must be true or false");
    snprintf(buf, sizeof buf, "%s    proto: tcp\n    portz: \"1\"\n", head);
    expect_err(buf, "t.yaml:8:5: rule 'a': unknown key 'portz'");
    expect_err("name: t\nrules:\n  - id: a\n   bad: [\n", "t.yaml:4:");
    expect_err("name: t\nroles:\n  dc:\n    infer:\n      - answers: [tcp/88, tcp/x]\n",
               "t.yaml:5:27: answers: 'tcp/x' is not PROTO/PORT");
    expect_err("name: t\nroles:\n  dc:\n    addresses: [10.0.0.300]\n", "t.yaml:4:17: role 'dc': '10.0.0.300' is not an IP");
    expect_err("description: no name\n", "t.yaml:1:1: missing 'name'");
    expect_err("- a\n- b\n", "t.yaml:1:1: the profile must be a mapping");
    const char *dup = "name: t\nrules:\n"
                      "  - {id: a, description: d, from: x, to: y, proto: tcp, ports: \"1\", required: true, remediation: r}\n"
                      "  - {id: a, description: d, from: x, to: y, proto: tcp, ports: \"2\", required: true, remediation: r}\n";
    expect_err(dup, "t.yaml:4:5: rule id 'a' is used twice (first at line 3)");
    char err[256];
    CHECK(pw_profile_load("/nonexistent/x.yaml", err, sizeof err) == NULL);
    CHECK(strstr(err, "/nonexistent/x.yaml: ") == err);

    /* a good hand-written profile from a file path, with a role bound in the file */
    const char *good = "name: custom\ndescription: test\nroles:\n  em:\n    addresses: [192.0.2.1]\n"
                       "rules:\n  - id: r1\n    description: d\n    from: any-host\n    to: em\n    proto: tcp\n"
                       "    ports: \"3741\"\n    required: yes\n    remediation: open it\n";
    char path[] = "/tmp/pw_test_policy_XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(good, f);
    fclose(f);
    pw_config cfg;
    pw_config_defaults(&cfg);
    cfg.profiles[0] = path;
    cfg.n_profiles = 1;
    char e2[512] = "";
    pw_policy *p = pw_policy_new(&cfg, e2, sizeof e2);
    CHECK(p != NULL);
    if (p) {
        att(p, 6, "192.0.2.9", 1000, "192.0.2.1", 3741, PW_OUT_UNANSWERED, PW_R_TIMEOUT, 1);
        att(p, 6, "192.0.2.9", 1001, "192.0.2.2", 3741, PW_OUT_ANSWERED, PW_R_SYN_ACK, 1);
        json_t *res = policy_json(p, &srcs);
        CHECK_STR(verdict(res, "r1"), "fail");
        CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(res, "profiles"), 0), "source")),
                  path);
        json_decref(res);
        pw_policy_free(p);
    }
    remove(path);
}

static pw_addr v4(uint32_t ip)
{
    uint8_t b[4] = {(uint8_t)(ip >> 24), (uint8_t)(ip >> 16), (uint8_t)(ip >> 8), (uint8_t)ip};
    pw_addr a;
    pw_addr_v4(&a, b);
    return a;
}

static void att_fast(pw_policy *p, uint32_t client, uint32_t server, uint16_t port, pw_outcome o, uint64_t frame)
{
    pw_attempt a;
    memset(&a, 0, sizeof a);
    a.proto = 6;
    a.client = v4(client);
    a.server = v4(server);
    a.client_port = (uint16_t)(1024 + frame % 60000);
    a.port = port;
    a.outcome = o;
    a.reason = o == PW_OUT_ANSWERED ? PW_R_SYN_ACK : PW_R_RST;
    a.ts = (pw_usec)frame * 10;
    a.frame_request = frame;
    a.frame_reply = frame + 1;
    bind_shim(p);
    shim_attempt(&shim, &a);
}

/* Memory stays bounded on a capture of a million short flows from distinct
 * clients: the pair aggregates stop at the cap, further attempts fold into
 * per-server (then per-port) aggregates, and the verdict still counts them. */
static void test_bounded(void)
{
    pw_config cfg;
    pw_policy *p = mk("netwrix-threat-prevention", &cfg);
    if (!p) {
        CHECK(0);
        return;
    }
    const uint32_t em = 0x0aff0002; /* 10.255.0.2 */
    const uint32_t n = 1000000;
    for (uint32_t i = 0; i < n; i++) /* 10.0.0.1 ... : all answered but the last three, refused */
        att_fast(p, 0x0a000001 + i, em, 3741, i >= n - 3 ? PW_OUT_REFUSED : PW_OUT_ANSWERED, 2 * (uint64_t)i + 1);
    pw_policy_stats st;
    pw_policy_get_stats(p, &st);
    CHECK_INT(st.pairs, PW_POLICY_MAX_PAIRS);
    CHECK_INT(st.servers, 1);
    CHECK_INT(st.ports, 0);
    CHECK_INT(st.folded, n - PW_POLICY_MAX_PAIRS);
    CHECK(st.samples <= PW_POLICY_MAX_SAMPLES);
    json_t *res = policy_json(p, &srcs);
    json_t *r = rule(res, "agent-em");
    json_t *counts = json_object_get(r, "counts");
    CHECK_STR(verdict(res, "agent-em"), "partial");
    CHECK_STR(server_verdict(res, "agent-em", "10.255.0.2"), "partial");
    CHECK_INT(json_integer_value(json_object_get(counts, "attempts")), n);
    CHECK_INT(json_integer_value(json_object_get(counts, "answered")), n - 3);
    CHECK_INT(json_integer_value(json_object_get(counts, "refused")), 3);
    CHECK_INT(json_integer_value(json_object_get(counts, "folded")), n - PW_POLICY_MAX_PAIRS);
    CHECK(json_is_true(json_object_get(r, "truncated")));
    CHECK(json_array_size(json_object_get(r, "clients")) <= PW_POLICY_MAX_PAIRS + 1);
    /* evidence: max_evidence per rule, failures first, with their own clients */
    json_t *ev = json_object_get(r, "evidence");
    CHECK_INT(json_array_size(ev), cfg.max_evidence);
    CHECK_STR(json_string_value(json_object_get(json_array_get(ev, 0), "outcome")), "refused");
    CHECK_STR(json_string_value(json_object_get(json_array_get(ev, 0), "client")), "10.15.66.62");
    CHECK_STR(json_string_value(json_object_get(json_array_get(ev, 2), "client")), "10.15.66.64");
    CHECK_STR(json_string_value(json_object_get(json_array_get(ev, 3), "outcome")), "answered");
    CHECK_STR(json_string_value(json_object_get(json_array_get(ev, 3), "client")), "10.0.0.1");
    /* a rule the folded attempts do not touch is not marked */
    CHECK(json_object_get(rule(res, "console-em"), "truncated") == NULL);
    CHECK(json_object_get(json_object_get(rule(res, "console-em"), "counts"), "folded") == NULL);
    json_decref(res);
    pw_policy_free(p);

    /* small limits: pairs, then servers, then one aggregate per port; all answered is still a pass */
    p = mk("netwrix-threat-prevention", &cfg);
    if (!p) {
        CHECK(0);
        return;
    }
    pw_policy_limits lim = {.pairs = 100, .servers = 10};
    pw_policy_set_limits(p, &lim);
    for (uint32_t i = 0; i < 10000; i++)
        att_fast(p, 0x0a010001 + i, 0x0aff1000 + i % 1000, 3741, PW_OUT_ANSWERED, 2 * (uint64_t)i + 1);
    att_fast(p, 0x0a000001, 0x0aff0003, 80, PW_OUT_ANSWERED, 50001);   /* NAS HTTP: its own port aggregate */
    att_fast(p, 0x0a000001, 0x0aff0003, 9, PW_OUT_ANSWERED, 50003);    /* a port no rule looks at */
    pw_policy_get_stats(p, &st);
    CHECK_INT(st.pairs, 100);
    CHECK_INT(st.servers, 10);
    CHECK_INT(st.ports, 2);
    CHECK_INT(st.folded, 9901);
    res = policy_json(p, &srcs);
    counts = json_object_get(rule(res, "agent-em"), "counts");
    CHECK_STR(verdict(res, "agent-em"), "pass");
    CHECK_INT(json_integer_value(json_object_get(counts, "attempts")), 10000);
    CHECK_INT(json_integer_value(json_object_get(counts, "folded")), 9900);
    CHECK(json_is_true(json_object_get(rule(res, "agent-em"), "truncated")));
    json_decref(res);
    pw_policy_free(p);
}

/* --fail-on is part of the decided result: settled by pw_policy_result /
 * pw_analysis_result with no writer running (this test links no writer
 * call), required rules only, and the rules carry their report order and
 * "failing required" flag. */
static void test_fail_on_decided(void)
{
    pw_config cfg;
    pw_config_defaults(&cfg);
    cfg.profile_dir = PW_PROFILE_DIR;
    cfg.profiles[0] = "netwrix-threat-prevention";
    cfg.n_profiles = 1;
    cfg.fail_on[PW_VERDICT_FAIL] = true;
    char err[512];
    pw_policy *p = pw_policy_new(&cfg, err, sizeof err);
    CHECK(p != NULL);
    if (!p)
        return;
    /* the console is refused on 3740 (required: fail); the EM refuses an agent's 135 (optional: fail) */
    att(p, 6, "10.0.0.11", 50001, "10.0.0.2", 3741, PW_OUT_ANSWERED, PW_R_SYN_ACK, 1);
    att(p, 6, "10.0.0.20", 50010, "10.0.0.2", 3740, PW_OUT_REFUSED, PW_R_RST, 2);
    pw_result r;
    pw_result_init(&r, &srcs);
    pw_policy_result(p, &r);
    CHECK(r.fail_on_matched);
    CHECK_INT(r.exit_hint, 3);
    CHECK(r.n_rules == 50);
    /* the first rule is the failing required one, flagged for the writers */
    CHECK(r.n_rules > 0 && r.rules[0].required && r.rules[0].verdict == PW_VERDICT_FAIL);
    CHECK(r.n_rules > 0 && r.rules[0].failing_required);
    CHECK_STR(r.n_rules ? r.rules[0].ports : "", "3740");
    int failing = 0, last_group = 0;
    bool order_ok = true;
    for (size_t i = 0; i < r.n_rules; i++) {
        const pw_res_rule *x = &r.rules[i];
        failing += x->failing_required;
        CHECK(x->failing_required == (x->required && (x->verdict == PW_VERDICT_FAIL || x->verdict == PW_VERDICT_PARTIAL)));
        int g = !x->required ? 3 : x->verdict == PW_VERDICT_FAIL ? 0 : x->verdict == PW_VERDICT_PARTIAL ? 1 : 2;
        order_ok &= g >= last_group;
        last_group = g;
    }
    CHECK(order_ok);
    CHECK_INT(failing, 3); /* the profile's three tcp/3740 rules: em-inbound-remote-console, console-em, remote-console-em */
    pw_result_free(&r);
    pw_policy_free(p);

    /* the same traffic, --fail-on partial only: no required rule is partial */
    cfg.fail_on[PW_VERDICT_FAIL] = false;
    cfg.fail_on[PW_VERDICT_PARTIAL] = true;
    p = pw_policy_new(&cfg, err, sizeof err);
    att(p, 6, "10.0.0.20", 50010, "10.0.0.2", 3740, PW_OUT_REFUSED, PW_R_RST, 2);
    pw_result_init(&r, &srcs);
    pw_policy_result(p, &r);
    CHECK(!r.fail_on_matched);
    CHECK_INT(r.exit_hint, 0);
    pw_result_free(&r);
    pw_policy_free(p);

    /* through the analysis facade: nothing read, every rule unobserved */
    cfg.fail_on[PW_VERDICT_PARTIAL] = false;
    cfg.fail_on[PW_VERDICT_UNOBSERVED] = true;
    pw_analysis *an = pw_analysis_new(&cfg, NULL, err, sizeof err);
    CHECK(an != NULL);
    if (!an)
        return;
    pw_result *res = pw_analysis_result(an);
    CHECK(res->fail_on_matched);
    CHECK_INT(res->exit_hint, 3);
    CHECK(res->n_rules == 50 && res->rules[0].verdict == PW_VERDICT_UNOBSERVED);
    CHECK(res->n_rules && res->rules[0].proof_needed.id == PW_MSG_RULE_PROOF);
    CHECK_INT(res->n_inputs, 0);
    CHECK_INT(res->stats.attempts, 0);
    pw_result_free(res);
    free(res);
    pw_analysis_free(an);
}

int main(void)
{
    test_portspec();
    test_profiles_load();
    test_netwrix();
    test_fail_on_and_roles();
    test_nnr();
    test_sensor_cloud();
    test_sensor_cloud_more();
    test_auto_ntlm_rpc();
    test_auto_choice();
    test_yaml_errors();
    test_bounded();
    test_fail_on_decided();
    CHECK_DONE();
}
