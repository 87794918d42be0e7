/* fuzz_result.c - libFuzzer harness for deciding and rendering: fuzzed
 * attempts and dissector events go to services, hosts, NNR and every
 * built-in policy profile; then the result is decided (roles, verdicts,
 * rule order, sensor-cloud checks, NNR rates and alerts) and rendered in
 * every format.  Addresses, ports and names come from small tables so that
 * inputs meet the same hosts, rules and watched names often.
 *
 * Input: a sequence of 12-byte records
 *   [op][client][server][port][b4][b5][b6][b7][frame hi][frame lo][t hi][t lo]
 * op % 10 picks an attempt or an event kind; the other bytes are its fields. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analysis/fixes.h"
#include "../analysis/hosts.h"
#include "../analysis/nnr.h"
#include "../analysis/policy.h"
#include "../analysis/services.h"
#include "../common/log.h"
#include "../report/report.h"
#include "../tests/unit/conn_shim.h"

#ifndef PW_PROFILE_DIR
#define PW_PROFILE_DIR "profiles"
#endif

static const char *const addrs[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.5", "10.0.0.30",
                                    "10.0.0.11", "10.0.0.12", "192.0.2.1", "fe80::1", "2001:db8::5",
                                    "10.0.0.255", "198.18.0.9", "0.0.0.0", "224.0.0.1", "10.0.9.7", "172.16.0.1"};
static const uint16_t ports[] = {135, 137, 3389, 53, 3741, 3740, 1433, 1434, 443, 88, 389, 636,
                                 49667, 8080, 445, 5671};
static const char *const names[] = {"eus1.atp.azure.com", "contoso-sensorapi.atp.azure.com", "example.com",
                                    "DC1", "dc1.corp.local", "", "*.atp.azure.com", "WS-\xff\x01"};
static const char *const issuers[] = {"CN=Microsoft Azure TLS Issuing CA 01", "CN=Corp Inspection CA", ""};

static pw_addr addr_of(uint8_t i)
{
    pw_addr a;
    int pfx;
    memset(&a, 0, sizeof a);
    pw_addr_parse_cidr(addrs[i % (sizeof addrs / sizeof addrs[0])], &a, &pfx);
    return a;
}

static const char *name_of(uint8_t i)
{
    return names[i % (sizeof names / sizeof names[0])];
}

typedef struct mods {
    pw_services *svc;
    pw_hosts *hosts;
    pw_nnr *nnr;
    pw_policy *pol;
} mods;

/* Connection records the attempts and events land on; the removal hook
 * finishes each module's work, as analysis.c's does. */
static conn_shim shim;

static void removed(void *arg, pw_conn *c)
{
    mods *m = arg;
    if (c->attempt_done)
        pw_services_attempt(m->svc, &c->a);
    pw_nnr_conn_removed(m->nnr, c);
    pw_policy_mark pm = pw_policy_conn_removed(m->pol, c);
    pw_policy_count(m->pol, &c->a, c->app, &pm);
}

static void feed_attempt(mods *m, const uint8_t *r, uint64_t frame, pw_usec ts)
{
    pw_attempt a;
    memset(&a, 0, sizeof a);
    a.proto = (r[4] & 1) ? 17 : 6;
    a.client = addr_of(r[1]);
    a.server = addr_of(r[2]);
    a.client_port = (uint16_t)(40000 + r[5]);
    a.port = (r[4] & 2) ? (uint16_t)(r[3] << 8 | r[6]) : ports[r[3] % 16];
    a.outcome = (pw_outcome)(1 + r[6] % (PW_OUT_COUNT - 1));
    a.reason = (pw_reason)(r[7] % PW_R_COUNT);
    a.retries = r[7] >> 5;
    a.frame_request = frame;
    a.frame_reply = (r[4] & 4) ? frame + 1 : 0;
    a.ts = ts;
    a.has_icmp_from = (r[4] & 8) != 0;
    a.icmp_from = addr_of(r[5]);
    a.source = r[4] >> 7;
    (void)m;
    shim_attempt(&shim, &a);
}

static void fill_event(pw_event *ev, const uint8_t *r, int op, uint64_t frame, pw_usec ts)
{
    static const pw_event_type types[] = {PW_EV_EPM_PORT, PW_EV_TLS, PW_EV_HTTP, PW_EV_DCERPC,
                                          PW_EV_DNS, PW_EV_NBNS, PW_EV_NTLMSSP, PW_EV_RDP, PW_EV_TLS};
    memset(ev, 0, sizeof *ev);
    ev->type = types[(op - 1) % 9];
    ev->frame = frame;
    ev->ts = ts;
    ev->source = r[4] >> 7;
    ev->dir = r[4] & 1;
    ev->flow.proto = (r[4] & 2) ? 17 : 6;
    ev->flow.client = addr_of(r[1]);
    ev->flow.server = addr_of(r[2]);
    ev->flow.client_port = (uint16_t)(40000 + r[5]);
    ev->flow.server_port = ports[r[3] % 16];
}

static void fill_tls(pw_ev_tls *t, const uint8_t *r)
{
    t->kind = (uint8_t)(1 + r[6] % 5);
    t->version = (r[7] & 1) ? 0x0304 : 0x0303;
    snprintf(t->sni, sizeof t->sni, "%s", name_of(r[7] >> 1));
    snprintf(t->subject_cn, sizeof t->subject_cn, "%s", name_of(r[5]));
    snprintf(t->issuer, sizeof t->issuer, "%s", issuers[r[7] % 3]);
    t->n_san = (uint8_t)(r[5] & 3);
    for (int i = 0; i < t->n_san; i++)
        snprintf(t->san[i], sizeof t->san[i], "%s", name_of((uint8_t)(r[6] + i)));
    t->alert_desc = r[7];
}

static void fill_payload(pw_event *ev, const uint8_t *r)
{
    switch (ev->type) {
    case PW_EV_EPM_PORT:
        ev->u.epm.proto = (r[6] & 1) ? 17 : 6;
        ev->u.epm.port = (uint16_t)(49152 + r[7]);
        ev->u.epm.has_addr = (r[6] & 2) != 0;
        ev->u.epm.addr = addr_of(r[5]);
        break;
    case PW_EV_TLS: fill_tls(&ev->u.tls, r); break;
    case PW_EV_HTTP:
        ev->u.http.kind = (uint8_t)(1 + (r[6] & 1));
        snprintf(ev->u.http.method, sizeof ev->u.http.method, "%s", (r[6] & 2) ? "CONNECT" : "GET");
        snprintf(ev->u.http.host, sizeof ev->u.http.host, "%s", name_of(r[7]));
        ev->u.http.port = (r[6] & 4) ? 443 : 0;
        ev->u.http.status = (uint16_t)((const uint16_t[]){200, 403, 407, 502}[r[5] & 3]);
        break;
    case PW_EV_DCERPC:
        ev->u.dcerpc.ptype = (uint8_t)((const uint8_t[]){11, 12, 13, 14, 15, 3}[r[6] % 6]);
        ev->u.dcerpc.auth_type = (r[7] & 1) ? PW_AUTHN_WINNT : PW_AUTHN_KERBEROS;
        ev->u.dcerpc.reject_reason = r[7] >> 1;
        break;
    case PW_EV_DNS:
        ev->u.dns.response = r[6] & 1;
        ev->u.dns.rcode = (uint8_t)((r[6] >> 1) % 6);
        ev->u.dns.qtype = (r[6] & 0x10) ? 12 : 1;
        ev->u.dns.reverse = (r[6] & 0x20) != 0;
        ev->u.dns.reverse_addr = addr_of(r[5]);
        ev->u.dns.txid = r[7];
        snprintf(ev->u.dns.qname, sizeof ev->u.dns.qname, "%s", name_of(r[7]));
        ev->u.dns.n_answers = (uint8_t)(r[5] & 3);
        for (int i = 0; i < ev->u.dns.n_answers; i++) {
            ev->u.dns.answers[i].type = (r[6] & 0x40) ? 12 : 1;
            ev->u.dns.answers[i].addr = addr_of((uint8_t)(r[2] + i));
            snprintf(ev->u.dns.answers[i].target, sizeof ev->u.dns.answers[i].target, "%s", name_of((uint8_t)(r[7] + i)));
        }
        break;
    case PW_EV_NBNS:
        ev->u.nbns.response = r[6] & 1;
        ev->u.nbns.rcode = (r[6] & 2) ? 3 : 0;
        ev->u.nbns.qtype = (r[6] & 4) ? PW_NBNS_QTYPE_NBSTAT : PW_NBNS_QTYPE_NB;
        ev->u.nbns.n_names = (uint8_t)(r[7] & 3);
        for (int i = 0; i < ev->u.nbns.n_names; i++) {
            snprintf(ev->u.nbns.names[i].name, sizeof ev->u.nbns.names[i].name, "%.15s", name_of((uint8_t)(r[5] + i)));
            ev->u.nbns.names[i].suffix = (r[7] & 4) ? 0x20 : 0x00;
            ev->u.nbns.names[i].group = (r[7] & 8) != 0;
        }
        break;
    case PW_EV_NTLMSSP:
        ev->u.ntlmssp.msg_type = (uint32_t)(1 + r[6] % 3);
        snprintf(ev->u.ntlmssp.nb_computer, sizeof ev->u.ntlmssp.nb_computer, "%s", name_of(r[7]));
        snprintf(ev->u.ntlmssp.dns_computer, sizeof ev->u.ntlmssp.dns_computer, "%s", name_of(r[5]));
        break;
    case PW_EV_RDP:
        ev->u.rdp.kind = (uint8_t)(1 + (r[6] & 1));
        ev->u.rdp.has_neg = (r[6] & 2) != 0;
        ev->u.rdp.failure = (r[6] & 4) != 0;
        ev->u.rdp.selected_protocol = r[7] & 3;
        ev->u.rdp.failure_code = r[7];
        break;
    default:
        break;
    }
}

static void feed_event(mods *m, const uint8_t *r, int op, uint64_t frame, pw_usec ts)
{
    static pw_event ev; /* large: keep it off the stack */
    fill_event(&ev, r, op, frame, ts);
    fill_payload(&ev, r);
    pw_hosts_event(m->hosts, &ev);
    pw_conn *c = shim_event(&shim, &ev);
    pw_nnr_event(m->nnr, c, &ev);
    pw_policy_event(m->pol, c, &ev);
}

typedef struct change_out {
    FILE *f;
    const pw_result *r;
} change_out;

static void render_change(void *arg, const pw_change *ch)
{
    change_out *co = arg;
    if (co->f)
        pw_jsonl_change(co->f, co->r, ch);
}

static void no_change(void *arg, const pw_change *ch)
{
    (void)arg;
    (void)ch;
    abort(); /* the same result twice changed something */
}

/* What live mode streams at a summary: the changes from nothing (all new),
 * then from itself (none may be found). */
static void live_changes(FILE *out, const pw_result *r)
{
    pw_changes *c = pw_changes_new();
    if (!c)
        return;
    change_out co = {out, r};
    pw_changes_diff(c, r, render_change, &co);
    pw_changes_diff(c, r, no_change, NULL);
    pw_changes_free(c);
}

/* Decides and renders everything: what the CLI does after the last input. */
static void decide_and_render(mods *m, const pw_config *cfg)
{
    static const char *const paths[] = {"a.pcap", "b.pcap"};
    pw_sources srcs = {paths, 2};
    pw_result r;
    pw_result_init(&r, &srcs);
    pw_services_result(m->svc, &r);
    pw_hosts_result(m->hosts, &r);
    pw_nnr_result(m->nnr, m->hosts, &r);
    pw_policy_result(m->pol, &r);
    pw_fixes_result(&r);
    if (r.fail_on_matched != (r.exit_hint == 3) || (cfg->fail_on[PW_VERDICT_FAIL] == false && r.fail_on_matched))
        abort();
    FILE *out = fopen("/dev/null", "w");
    for (int f = PW_FMT_TEXT; f <= PW_FMT_FIX && out; f++)
        pw_report_write(out, (pw_format)f, &r);
    live_changes(out, &r);
    if (out)
        fclose(out);
    pw_result_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pw_log_level = PW_LOG_QUIET;
    pw_config cfg;
    pw_config_defaults(&cfg);
    cfg.profile_dir = PW_PROFILE_DIR;
    cfg.max_evidence = size ? 1 + data[0] % 12 : 10;
    cfg.fail_on[PW_VERDICT_FAIL] = true;
    if (size && (data[0] & 0x80)) {
        cfg.n_sensors = 1;
        int pfx;
        pw_addr_parse_cidr(data[0] & 0x40 ? "10.0.0.0/24" : "10.0.0.1", &cfg.sensors[0].net, &pfx);
        cfg.sensors[0].prefix = pfx;
    }
    char err[512];
    mods m = {pw_services_new(0), pw_hosts_new(), pw_nnr_new(&cfg), pw_policy_new(&cfg, err, sizeof err)};
    if (!m.pol)
        abort(); /* the built-in profiles must load */
    shim_init(&shim, removed, &m);
    shim.attempts_linger = true;
    for (size_t off = 1; off + 12 <= size; off += 12) {
        const uint8_t *r = data + off;
        uint64_t frame = (uint64_t)(r[8] << 8 | r[9]) + 1;
        pw_usec ts = (pw_usec)(r[10] << 8 | r[11]) * 100000;
        int op = r[0] % 10;
        if (op == 0)
            feed_attempt(&m, r, frame, ts);
        else
            feed_event(&m, r, op, frame, ts);
    }
    shim_flush(&shim); /* the end of the input */
    decide_and_render(&m, &cfg);
    pw_services_free(m.svc);
    pw_hosts_free(m.hosts);
    pw_nnr_free(m.nnr);
    pw_policy_free(m.pol);
    return 0;
}
