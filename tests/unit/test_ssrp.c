/* test_ssrp.c - the SQL Server Browser (MS-SQLR) dissector on hand-built
 * datagrams laid out as MS-SQLR 2.2 describes them: every request type,
 * SVR_RESP with several instances, keys in any order, an instance without a
 * TCP port, the DAC answer, RESP_SIZE larger and smaller than the datagram,
 * hostile strings, and every truncation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/dissector.h"
#include "../../dissectors/ssrp.h"
#include "check.h"
#include "event_tail.h"
#include "ntlm_build.h"

#define MAXEV 16
static pw_event evs[MAXEV];
static int nev;
static void sink(void *arg, const pw_event *ev)
{
    (void)arg;
    CHECK_EVENT_TAIL(ev);
    if (nev < MAXEV)
        evs[nev] = *ev;
    nev++;
}

static pw_flow flow;

/* Runs one datagram; dir 0 = to the browser, 1 = its answer. */
static void run(int dir, const uint8_t *p, size_t n)
{
    nev = 0;
    pw_dctx ctx = {.flow = &flow, .dir = dir, .frame = 7, .ts = 1, .emit = sink};
    pw_dissector_ssrp.datagram(&ctx, p, n);
}
static void runb(int dir, const buf *b) { run(dir, b->b, b->n); }

static int count(pw_event_type t)
{
    int n = 0;
    for (int i = 0; i < nev && i < MAXEV; i++)
        n += evs[i].type == t;
    return n;
}
static const pw_ev_ssrp *ssrp(void)
{
    static const pw_ev_ssrp none;
    for (int i = 0; i < nev && i < MAXEV; i++)
        if (evs[i].type == PW_EV_SSRP)
            return &evs[i].u.ssrp;
    return &none;
}
static const char *malformed(void)
{
    for (int i = 0; i < nev && i < MAXEV; i++)
        if (evs[i].type == PW_EV_MALFORMED)
            return evs[i].u.malformed;
    return "";
}

/* SVR_RESP: 0x05, RESP_SIZE (LE16), RESP_DATA. */
static void svr_resp(buf *b, const char *data)
{
    b->n = 0;
    put8(b, 0x05);
    put16(b, (uint16_t)strlen(data));
    puts_(b, data);
}

static void test_requests(void)
{
    run(0, (const uint8_t *)"\x02", 1);
    CHECK_INT(count(PW_EV_APP), 1);
    CHECK_STR(evs[0].u.app, "sql_browser");
    CHECK_INT(count(PW_EV_SSRP), 1);
    CHECK_INT(ssrp()->kind, PW_SSRP_BCAST_EX);
    CHECK_INT(ssrp()->opcode, 0x02);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    CHECK_INT(evs[1].frame, 7);

    run(0, (const uint8_t *)"\x03", 1);
    CHECK_INT(ssrp()->kind, PW_SSRP_UCAST_EX);
    CHECK_INT(count(PW_EV_MALFORMED), 0);

    run(0, (const uint8_t *)"\x04NETWRIX\0", 9);
    CHECK_INT(ssrp()->kind, PW_SSRP_UCAST_INST);
    CHECK_STR(ssrp()->instance, "NETWRIX");
    CHECK_INT(count(PW_EV_MALFORMED), 0);

    /* 32 bytes is the longest name */
    buf b = {.n = 0};
    put8(&b, 0x04);
    puts_(&b, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345");
    put8(&b, 0);
    runb(0, &b);
    CHECK_STR(ssrp()->instance, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345");
    CHECK_INT(count(PW_EV_MALFORMED), 0);

    run(0, (const uint8_t *)"\x0f\x01MSSQLSERVER\0", 14);
    CHECK_INT(ssrp()->kind, PW_SSRP_UCAST_DAC);
    CHECK_INT(ssrp()->dac_version, 1);
    CHECK_STR(ssrp()->instance, "MSSQLSERVER");
    CHECK_INT(count(PW_EV_MALFORMED), 0);

    /* no NUL: the name is still the request, and malformed */
    run(0, (const uint8_t *)"\x04SQLEXPRESS", 11);
    CHECK_STR(ssrp()->instance, "SQLEXPRESS");
    CHECK_STR(malformed(), "ssrp: instance name not terminated");
    /* an empty, unterminated name: no request */
    run(0, (const uint8_t *)"\x04", 1);
    CHECK_INT(count(PW_EV_SSRP), 0);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    run(0, (const uint8_t *)"\x0f", 1);
    CHECK_STR(malformed(), "ssrp: truncated CLNT_UCAST_DAC");
    CHECK_INT(count(PW_EV_SSRP), 0);
    /* bytes after a one-byte request */
    run(0, (const uint8_t *)"\x02\x00", 2);
    CHECK_INT(count(PW_EV_SSRP), 1);
    CHECK_STR(malformed(), "ssrp: bytes after the request");
    /* SQL Slammer: CLNT_UCAST_INST with a 375-byte "name" */
    b.n = 0;
    put8(&b, 0x04);
    for (int i = 0; i < 375; i++)
        put8(&b, 0x01);
    runb(0, &b);
    CHECK_INT(count(PW_EV_SSRP), 0);
    CHECK_INT(count(PW_EV_APP), 0);
    CHECK_STR(malformed(), "ssrp: instance name longer than 32 bytes");
    /* unknown opcode, empty datagram */
    run(0, (const uint8_t *)"\x07xyz", 4);
    CHECK_STR(malformed(), "ssrp: unknown message type");
    CHECK_INT(count(PW_EV_APP), 0);
    run(0, (const uint8_t *)"", 0);
    CHECK_INT(nev, 0);
}

static const char two[] =
    "ServerName;SQL01;InstanceName;NETWRIX;IsClustered;No;Version;15.0.2000.5;tcp;50123;"
    "np;\\\\SQL01\\pipe\\MSSQL$NETWRIX\\sql\\query;;"
    "ServerName;SQL01;InstanceName;MSSQLSERVER;IsClustered;No;Version;15.0.2000.5;tcp;1433;;";

static void test_responses(void)
{
    buf b;
    svr_resp(&b, two);
    runb(1, &b);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    CHECK_INT(count(PW_EV_APP), 1);
    const pw_ev_ssrp *s = ssrp();
    CHECK_INT(s->kind, PW_SSRP_RESPONSE);
    CHECK_INT(s->resp_size, strlen(two));
    CHECK_INT(s->n_instances, 2);
    CHECK_STR(s->instances[0].server_name, "SQL01");
    CHECK_STR(s->instances[0].instance, "NETWRIX");
    CHECK_STR(s->instances[0].version, "15.0.2000.5");
    CHECK(!s->instances[0].is_clustered);
    CHECK_INT(s->instances[0].tcp_port, 50123);
    CHECK_STR(s->instances[0].np, "\\\\SQL01\\pipe\\MSSQL$NETWRIX\\sql\\query");
    CHECK_INT(s->instances[0].protocols, PW_SSRP_PROTO_TCP | PW_SSRP_PROTO_NP);
    CHECK(!s->instances[0].truncated);
    CHECK_STR(s->instances[1].instance, "MSSQLSERVER");
    CHECK_INT(s->instances[1].tcp_port, 1433);
    CHECK_STR(s->instances[1].np, "");
    CHECK(pw_ssrp_is_response(b.b, b.n));

    /* keys in another order and case, a clustered instance, no tcp (only
     * named pipes), other protocols, an unknown key */
    svr_resp(&b, "InstanceName;SALES;np;\\\\CL1\\pipe\\sql\\query;Version;16.0.1000.6;ServerName;CL1;"
                 "isclustered;Yes;via;CL1,0:1433;rpc;CL1;Future;x;bv;item;group;spx;CL1;adsp;SQL;;");
    runb(1, &b);
    s = ssrp();
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    CHECK_INT(s->n_instances, 1);
    CHECK_STR(s->instances[0].server_name, "CL1");
    CHECK_STR(s->instances[0].instance, "SALES");
    CHECK_STR(s->instances[0].version, "16.0.1000.6");
    CHECK(s->instances[0].is_clustered);
    CHECK_INT(s->instances[0].tcp_port, 0);
    CHECK_INT(s->instances[0].protocols, PW_SSRP_PROTO_NP | PW_SSRP_PROTO_VIA | PW_SSRP_PROTO_RPC |
                                             PW_SSRP_PROTO_BV | PW_SSRP_PROTO_SPX | PW_SSRP_PROTO_ADSP);

    /* the DAC answer: port 1434 + ... */
    run(1, (const uint8_t *)"\x05\x06\x00\x01\x9a\xc3", 6);
    s = ssrp();
    CHECK_INT(s->kind, PW_SSRP_DAC_RESPONSE);
    CHECK_INT(s->dac_version, 1);
    CHECK_INT(s->dac_port, 0xc39a);
    CHECK_INT(s->resp_size, 6);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    CHECK(pw_ssrp_is_response((const uint8_t *)"\x05\x06\x00\x01\x9a\xc3", 6));
    run(1, (const uint8_t *)"\x05\x06\x00\x01\x9a", 5);
    CHECK_INT(count(PW_EV_SSRP), 0);
    CHECK_STR(malformed(), "ssrp: truncated DAC response");

    /* 17 instances: 16 kept, one counted */
    b.n = 0;
    put8(&b, 5);
    put16(&b, 0);
    for (int i = 0; i < 17; i++) {
        char r[96];
        snprintf(r, sizeof r, "ServerName;S;InstanceName;I%d;IsClustered;No;Version;1.0;tcp;%d;;", i, 2000 + i);
        puts_(&b, r);
    }
    set16(&b, 1, (uint16_t)(b.n - 3));
    runb(1, &b);
    s = ssrp();
    CHECK_INT(s->n_instances, PW_SSRP_MAX_INSTANCES);
    CHECK_INT(s->more_instances, 1);
    CHECK_STR(s->instances[15].instance, "I15");
    CHECK_INT(s->instances[15].tcp_port, 2015);
    CHECK_INT(count(PW_EV_MALFORMED), 0);

    /* trailing NUL padding inside RESP_DATA is not an error */
    svr_resp(&b, "ServerName;A;InstanceName;B;IsClustered;No;Version;1;tcp;1500;;");
    put8(&b, 0), put8(&b, 0);
    set16(&b, 1, (uint16_t)(b.n - 3));
    runb(1, &b);
    CHECK_INT(ssrp()->n_instances, 1);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
}

static void test_sizes_and_hostile(void)
{
    buf b;
    /* RESP_SIZE larger than the datagram: the complete record is reported */
    svr_resp(&b, two);
    set16(&b, 1, (uint16_t)(strlen(two) + 100));
    runb(1, &b);
    CHECK_INT(ssrp()->n_instances, 2);
    CHECK_STR(malformed(), "ssrp: RESP_DATA cut short");
    /* RESP_SIZE smaller: only RESP_SIZE bytes are the answer (the first record) */
    svr_resp(&b, two);
    size_t first = (size_t)(strstr(two, ";;") - two) + 2;
    set16(&b, 1, (uint16_t)first);
    runb(1, &b);
    CHECK_INT(ssrp()->n_instances, 1);
    CHECK_STR(ssrp()->instances[0].instance, "NETWRIX");
    CHECK_STR(malformed(), "ssrp: bytes after RESP_DATA");
    /* RESP_SIZE 0 */
    run(1, (const uint8_t *)"\x05\x00\x00", 3);
    CHECK_INT(count(PW_EV_SSRP), 0);
    CHECK_STR(malformed(), "ssrp: SVR_RESP without an instance record");
    run(1, (const uint8_t *)"\x05\x00", 2);
    CHECK_STR(malformed(), "ssrp: truncated SVR_RESP");

    /* hostile strings: control bytes, over-long values, a bad port */
    static char big[2000];
    char longname[300];
    memset(longname, 'N', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    snprintf(big, sizeof big,
             "ServerName;%s;InstanceName;A\x01\x7f\xff;IsClustered;No;Version;99999999999999999999999;"
             "tcp;65536;np;;;",
             longname);
    svr_resp(&b, big);
    runb(1, &b);
    const pw_ev_ssrp *s = ssrp();
    CHECK_INT(s->n_instances, 1);
    CHECK_INT(strlen(s->instances[0].server_name), sizeof s->instances[0].server_name - 1);
    CHECK_STR(s->instances[0].instance, "A???");
    CHECK_INT(strlen(s->instances[0].version), sizeof s->instances[0].version - 1);
    CHECK_INT(s->instances[0].tcp_port, 0);
    CHECK(s->instances[0].truncated);
    CHECK_INT(s->instances[0].protocols, PW_SSRP_PROTO_NP);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    svr_resp(&b, "ServerName;A;InstanceName;B;tcp;12a;;");
    runb(1, &b);
    CHECK_INT(ssrp()->instances[0].tcp_port, 0);
    CHECK(ssrp()->instances[0].truncated);
    /* a second, broken tcp value does not undo a valid one */
    svr_resp(&b, "ServerName;A;InstanceName;B;tcp;1500;tcp;x;;");
    runb(1, &b);
    CHECK_INT(ssrp()->instances[0].tcp_port, 1500);
    CHECK_INT(ssrp()->instances[0].protocols, PW_SSRP_PROTO_TCP);
    CHECK(ssrp()->instances[0].truncated);
    /* separators only, and a record that names nothing */
    svr_resp(&b, ";;;;;;");
    runb(1, &b);
    CHECK_INT(count(PW_EV_SSRP), 0);
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    svr_resp(&b, "Version;1;;");
    runb(1, &b);
    CHECK_INT(count(PW_EV_SSRP), 0);
    /* the classifier */
    CHECK(!pw_ssrp_is_response((const uint8_t *)"\x04NETWRIX\0", 9));
    CHECK(!pw_ssrp_is_response((const uint8_t *)"\x05\x06\x00", 3));
    CHECK(!pw_ssrp_is_response((const uint8_t *)"\x05\x10\x00Hello;world;;xx", 19));
    CHECK(pw_ssrp_is_response((const uint8_t *)"\x05\x0b\x00SERVERNAME;", 14));
    CHECK(!pw_ssrp_is_response((const uint8_t *)"\x05\x0b\x00ServerNam", 12));
    CHECK(!pw_ssrp_is_response(NULL, 0));
}

/* Every prefix of every message: never a crash, complete records only, and
 * a cut message is always counted as malformed. */
static void test_truncation(void)
{
    buf b;
    svr_resp(&b, two);
    size_t end_first = 3 + (size_t)(strstr(two, ";;") - two) + 2;
    for (size_t cut = 0; cut < b.n; cut++) {
        run(1, b.b, cut);
        int want = cut >= end_first ? 1 : 0;
        CHECK_INT(ssrp()->n_instances, want);
        CHECK_INT(count(PW_EV_SSRP), want);
        CHECK_INT(count(PW_EV_MALFORMED), cut ? 1 : 0);
    }
    const char *reqs[] = {"\x04NETWRIX", "\x0f\x01NETWRIX", "\x05\x06\x00\x01\x9a\xc3"};
    size_t lens[] = {9, 10, 6};
    for (int r = 0; r < 3; r++) {
        for (size_t cut = 0; cut < lens[r]; cut++) {
            run(r == 2, (const uint8_t *)reqs[r], cut);
            CHECK_INT(count(PW_EV_MALFORMED), cut ? 1 : 0);
            /* an unterminated name still names the instance once it has a byte */
            int want = r == 0 ? cut >= 2 : r == 1 ? cut >= 3 : 0;
            CHECK_INT(count(PW_EV_SSRP), want);
        }
    }
    /* every single-byte corruption: the sanitizers judge */
    for (size_t i = 0; i < b.n; i++) {
        buf m = b;
        m.b[i] ^= 0xff;
        runb(1, &m);
        m.b[i] = ';';
        runb(1, &m);
        CHECK(nev <= 3);
    }
}

int main(void)
{
    flow.proto = 17;
    flow.server_port = 1434;
    flow.client_port = 53000;
    CHECK(pw_dissector_for_port(17, 1434) == &pw_dissector_ssrp);
    CHECK(pw_dissector_by_name("ssrp") == &pw_dissector_ssrp);
    CHECK(pw_dissector_for_port(6, 1434) == NULL);
    test_requests();
    test_responses();
    test_sizes_and_hostile();
    test_truncation();
    CHECK_DONE();
}
