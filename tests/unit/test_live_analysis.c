/* test_live_analysis.c - what live mode asks of the analysis: a snapshot
 * result mid-input that disturbs nothing, a -w file as a new source of the
 * same input, and the capture-drops note on attempts decided unanswered
 * while the capture was dropping. */
#include <stdlib.h>
#include <string.h>

#include "../../analysis/analysis.h"
#include "../../analysis/changes.h"
#include "check.h"

#define MAXGOT 16
static struct {
    pw_attempt a;
    unsigned notes;
    char path[64];
} got[MAXGOT];
static int ngot;

static void collect(void *arg, const pw_attempt *a, const char *path, unsigned notes)
{
    (void)arg;
    if (ngot < MAXGOT) {
        got[ngot].a = *a;
        got[ngot].notes = notes;
        snprintf(got[ngot].path, sizeof got[ngot].path, "%s", path);
        ngot++;
    }
}

static pw_addr v4(int a, int b, int c, int d)
{
    uint8_t x[4] = {(uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d};
    pw_addr r;
    pw_addr_v4(&r, x);
    return r;
}

static pw_pkt tcp(uint32_t source, uint64_t frame, double t, pw_addr s, uint16_t sp, pw_addr d, uint16_t dp,
                  uint8_t flags)
{
    pw_pkt p;
    memset(&p, 0, sizeof p);
    p.source = source;
    p.frame = frame;
    p.ts = (pw_usec)(t * 1e6);
    p.src = s;
    p.dst = d;
    p.proto = PW_IPPROTO_TCP;
    p.sport = sp;
    p.dport = dp;
    p.tcp_flags = flags;
    p.ttl = 64;
    p.wire_len = 60;
    return p;
}

static pw_analysis *fresh(void)
{
    pw_config cfg;
    pw_config_defaults(&cfg);
    cfg.profile_dir = PW_PROFILE_DIR;
    pw_analysis_sink sink = {.attempt_noted = collect};
    char err[256];
    pw_analysis *an = pw_analysis_new(&cfg, &sink, err, sizeof err);
    if (!an) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return an;
}

/* A snapshot's stats, and that taking it leaves nothing behind. */
static void check_snapshot(pw_analysis *an, pw_input_info *reading, uint64_t attempts, uint64_t dropping_noted)
{
    for (int twice = 0; twice < 2; twice++) {
        pw_result *r = pw_analysis_snapshot(an, reading);
        CHECK(r->stats.snapshot);
        CHECK_INT(r->stats.attempts, attempts);
        CHECK_INT(r->stats.unanswered_during_drops, dropping_noted);
        CHECK_INT(r->n_inputs, 1);
        CHECK_INT(r->inputs[0].packets, reading->packets);
        CHECK(r->stats.open_connections >= 1);
        pw_result_free(r);
        free(r);
    }
}

static void test_live_input(void)
{
    pw_analysis *an = fresh();
    pw_addr c = v4(10, 0, 0, 5), s = v4(10, 0, 0, 9), x = v4(10, 0, 0, 7);
    uint32_t src = pw_analysis_begin_input(an, "eth1");
    CHECK_INT(src, 0);
    CHECK_INT(pw_analysis_add_source(an, "cap.pcap"), 1);
    pw_input_info reading;
    memset(&reading, 0, sizeof reading);
    snprintf(reading.path, sizeof reading.path, "eth1");
    reading.live = true;
    pw_pkt p[] = {
        tcp(1, 1, 1.0, c, 40001, s, 135, PW_TH_SYN),
        tcp(1, 2, 1.001, s, 135, c, 40001, PW_TH_SYN | PW_TH_ACK),
        tcp(1, 3, 2.0, c, 40002, s, 445, PW_TH_SYN),
    };
    for (size_t i = 0; i < 3; i++)
        pw_analysis_packet(an, &p[i]);
    reading.packets = 3;
    check_snapshot(an, &reading, 0, 0);

    /* the capture starts dropping; packet time moves past the timeout */
    pw_analysis_set_dropping(an, true);
    CHECK_INT(pw_analysis_add_source(an, "cap.pcap1"), 2);
    pw_pkt later = tcp(2, 1, 30.0, x, 50000, s, 22, PW_TH_SYN);
    pw_analysis_packet(an, &later);
    reading.packets = 4;
    CHECK_INT(ngot, 2);
    for (int i = 0; i < ngot; i++) {
        bool unans = got[i].a.outcome == PW_OUT_UNANSWERED;
        CHECK_INT(got[i].notes, unans ? PW_NOTE_CAPTURE_DROPS : 0u);
        CHECK(strcmp(got[i].path, "cap.pcap") == 0);
        CHECK_INT(got[i].a.frame_request, got[i].a.port == 135 ? 1 : 3);
    }
    check_snapshot(an, &reading, 2, 1);

    pw_analysis_set_dropping(an, false);
    reading.last_ts = later.ts;
    pw_analysis_end_input(an, &reading);
    CHECK_INT(ngot, 3);
    CHECK(strcmp(got[2].path, "cap.pcap1") == 0);
    CHECK_INT(got[2].notes, 0);
    CHECK_INT(got[2].a.frame_request, 1);
    pw_result *r = pw_analysis_result(an);
    CHECK(!r->stats.snapshot);
    CHECK_INT(r->stats.attempts, 3);
    CHECK_INT(r->stats.outcomes[PW_OUT_ANSWERED], 1);
    CHECK_INT(r->stats.outcomes[PW_OUT_UNANSWERED], 1);
    CHECK_INT(r->stats.outcomes[PW_OUT_INDETERMINATE], 1);
    CHECK_INT(r->stats.unanswered_during_drops, 1);
    CHECK_INT(r->n_inputs, 1);
    CHECK_INT(r->n_services, 3);
    pw_result_free(r);
    free(r);
    pw_analysis_free(an);
}

static pw_change seen[16];
static int nseen;

static void on_change(void *arg, const pw_change *ch)
{
    (void)arg;
    if (nseen < 16)
        seen[nseen++] = *ch;
}

/* Rule verdicts that change, alerts raised then cleared, names once. */
static void test_changes(void)
{
    pw_changes *c = pw_changes_new();
    pw_res_rule rules[2] = {{.profile = "mdi-nnr", .id = "ntlm-rpc", .verdict = PW_VERDICT_UNOBSERVED},
                            {.profile = "mdi-nnr", .id = "netbios", .verdict = PW_VERDICT_PASS}};
    pw_res_name names[2] = {{.name = "DC1", .src = PW_NAME_NETBIOS, .frame = 4},
                            {.name = "dc1.example.com", .src = PW_NAME_PTR, .frame = 9}};
    pw_res_host host = {.ip = v4(10, 0, 0, 9), .names = names, .n_names = 1};
    pw_res_nnr_alert alert = {.method = PW_NNR_NETBIOS, .rate = 0.95};
    pw_res_nnr_sensor sensor = {.sensor = v4(10, 0, 0, 5), .alerts = &alert, .n_alerts = 1};
    pw_result r;
    memset(&r, 0, sizeof r);
    r.rules = rules;
    r.n_rules = 2;
    r.hosts = &host;
    r.n_hosts = 1;
    r.nnr.sensors = &sensor;
    r.nnr.n_sensors = 1;
    pw_changes_diff(c, &r, on_change, NULL); /* first: everything is new */
    CHECK_INT(nseen, 4);
    CHECK_INT(seen[0].kind, PW_CHG_NAME);
    CHECK(strcmp(seen[0].name->name, "DC1") == 0);
    CHECK_INT(seen[1].kind, PW_CHG_ALERT_RAISED);
    CHECK_INT(seen[1].method, PW_NNR_NETBIOS);
    CHECK_INT(seen[2].kind, PW_CHG_RULE);
    CHECK(!seen[2].had_verdict);
    nseen = 0;
    pw_changes_diff(c, &r, on_change, NULL); /* nothing changed */
    CHECK_INT(nseen, 0);
    rules[0].verdict = PW_VERDICT_FAIL;
    host.n_names = 2;
    sensor.n_alerts = 0;
    pw_changes_diff(c, &r, on_change, NULL);
    CHECK_INT(nseen, 3);
    CHECK_INT(seen[0].kind, PW_CHG_NAME);
    CHECK(strcmp(seen[0].name->name, "dc1.example.com") == 0);
    CHECK_INT(seen[1].kind, PW_CHG_ALERT_CLEARED);
    CHECK(pw_addr_eq(&seen[1].sensor, &sensor.sensor));
    CHECK_INT(seen[2].kind, PW_CHG_RULE);
    CHECK(seen[2].had_verdict);
    CHECK_INT(seen[2].from, PW_VERDICT_UNOBSERVED);
    CHECK_INT(seen[2].rule->verdict, PW_VERDICT_FAIL);
    pw_changes_free(c);
}

int main(void)
{
    test_live_input();
    test_changes();
    CHECK_DONE();
}
