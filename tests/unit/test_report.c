/* test_report.c - the writers render a decided result and decide nothing:
 * a result built by hand (no analysis) comes out as written, in text, JSON,
 * jsonl and HTML; the messages table says each code in the same words. */
#include <stdlib.h>
#include <string.h>

#include "../../report/messages.h"
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

/* Renders r in one format into a string (caller frees). */
static char *render(pw_format f, const pw_result *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    pw_report_write(out, f, r);
    fclose(out);
    return buf;
}

static const char *const paths[] = {"a.pcap", "b.pcap"};
static const pw_sources srcs = {paths, 2};

/* One required rule the analysis flagged failing although its verdict says
 * pass: a writer that re-derived "failing" from the verdict would not list it. */
static void build(pw_result *r, pw_res_rule *rule, pw_res_side *server, pw_res_evidence *ev)
{
    pw_result_init(r, &srcs);
    memset(rule, 0, sizeof *rule);
    rule->profile = "p";
    rule->id = "r1";
    rule->table = "";
    rule->description = "the rule";
    rule->from = "agent";
    rule->to = "manager";
    rule->ports = "3741";
    rule->remediation = "open it";
    rule->proto = 6;
    rule->required = true;
    rule->verdict = PW_VERDICT_PARTIAL;
    rule->failing_required = true;
    rule->counts[PW_OUT_ANSWERED] = 2;
    rule->counts[PW_OUT_REFUSED] = 1;
    *server = (pw_res_side){A("10.0.0.2"), true, PW_VERDICT_PARTIAL, 3};
    rule->servers = server;
    rule->n_servers = 1;
    *ev = (pw_res_evidence){.source = 1, .frame = 7, .ts = 1500000, .client = A("10.0.0.9"),
                            .server = A("10.0.0.2"), .proto = 6, .port = 3741, .outcome = PW_OUT_REFUSED,
                            .reason = "rst"};
    rule->evidence = ev;
    rule->n_evidence = 1;
    r->rules = rule;
    r->n_rules = 1;
    r->fail_on_matched = true;
    r->exit_hint = 3;
}

static void test_writers_render(void)
{
    pw_result r;
    pw_res_rule rule;
    pw_res_side server;
    pw_res_evidence ev;
    build(&r, &rule, &server, &ev);

    char *text = render(PW_FMT_TEXT, &r);
    CHECK(text && strstr(text, "\nFailing required rules:\n  [partial] p r1 tcp/3741 agent -> manager\n"));
    CHECK(text && strstr(text, "      evidence: b.pcap frame 7: 10.0.0.9 -> 10.0.0.2:3741 refused (rst)\n"));
    CHECK(text && strstr(text, "      fix: open it\n"));
    CHECK(text && !strstr(text, "No required rule fails."));
    free(text);
    /* the flag, not the verdict, decides the section */
    rule.failing_required = false;
    text = render(PW_FMT_TEXT, &r);
    CHECK(text && strstr(text, "\nNo required rule fails.\n\nAll rules:\n  [partial] p r1"));
    free(text);

    json_t *j = pw_result_json(&r);
    json_t *r0 = json_array_get(json_object_get(j, "rules"), 0);
    CHECK_STR(json_string_value(json_object_get(r0, "verdict")), "partial");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r0, "counts"), "attempts")), 3);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r0, "counts"), "servers")), 1);
    json_t *e0 = json_array_get(json_object_get(r0, "evidence"), 0);
    CHECK_STR(json_string_value(json_object_get(e0, "source")), "b.pcap");
    CHECK(json_real_value(json_object_get(e0, "ts")) == 1.5);
    CHECK(json_object_get(r0, "proof_needed") == NULL);
    CHECK_INT(json_array_size(json_object_get(j, "inputs")), 0);
    CHECK_STR(json_string_value(json_object_get(j, "schema")), "portwitness/1");
    json_decref(j);

    char *jsonl = render(PW_FMT_JSONL, &r);
    CHECK(jsonl && strstr(jsonl, "{\"type\":\"rule\",\"profile\":\"p\",\"id\":\"r1\""));
    CHECK(jsonl && strstr(jsonl, "{\"type\":\"summary\",\"schema\":\"portwitness/1\""));
    free(jsonl);

    char *html = render(PW_FMT_HTML, &r);
    CHECK(html && strstr(html, "<tr id=\"rule-0\" class=\"partial\" data-verdict=\"partial\" data-profile=\"p\" "
                               "data-rule=\"r1\"><td><span class=\"badge partial\">"));
    CHECK(html && strstr(html, "<td>answered 2, refused 1</td>"));
    CHECK(html && strstr(html, "<td>open it</td></tr>"));
    CHECK(html && strstr(html, "<div class=\"ev\" data-frame=\"7\">b.pcap <b>frame 7</b>: 10.0.0.9 &rarr; 10.0.0.2:3741 "
                               "refused (rst)</div>"));
    /* failing_required is false by now: the flag, not the verdict, fills the list */
    CHECK(html && strstr(html, "<section id=\"failing\"><h2>Failing required rules</h2>\n<p>None"));
    free(html);
}

/* The messages table: each code in its words, bounded as it always was. */
static void test_messages(void)
{
    pw_msg m = {.id = PW_MSG_ROLE_CONNECTS, .a = A("10.0.0.2"), .source = 0, .n = {6, 3741, 12}};
    char *s = pw_msg_text(&m, &srcs);
    CHECK_STR(s, "connects to tcp/3741 on 10.0.0.2 (a.pcap frame 12)");
    free(s);
    m = (pw_msg){.id = PW_MSG_ROLE_BY_RULE, .kind = 1, .s = {"sql-server", "em-sql", "1433"}, .n = {6}};
    s = pw_msg_text(&m, &srcs);
    CHECK_STR(s, "server of tcp/1433 traffic matching rule em-sql (no --role binds sql-server; a host may hold several roles)");
    free(s);
    m = (pw_msg){.id = PW_MSG_RULE_FOLDED, .n = {5, 65536}};
    s = pw_msg_text(&m, &srcs);
    CHECK(s && strncmp(s, "5 attempts of client/server pairs beyond the tracking limit (65536 pairs)", 72) == 0);
    free(s);
    /* a role reason keeps its 320-byte bound */
    char longname[400];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    m = (pw_msg){.id = PW_MSG_ROLE_NAME, .kind = PW_VIA_SNI, .s = {longname}, .source = 5, .n = {3}};
    s = pw_msg_text(&m, &srcs);
    CHECK_INT(strlen(s), 319);
    CHECK(strncmp(s, "sends TLS ClientHello for xxx", 29) == 0);
    free(s);
    /* NNR detail of a try that timed out */
    pw_res_nnr_try t = {.outcome = PW_OUT_UNANSWERED, .result = PW_NNR_R_NO_RESPONSE, .reason = PW_R_TIMEOUT,
                        .retries = 2};
    pw_msg d = pw_res_nnr_detail(PW_NNR_NETBIOS, &t);
    s = pw_msg_text(&d, &srcs);
    CHECK_STR(s, "timeout after 3 tries");
    free(s);
    t.server = A("10.0.0.53");
    d = pw_res_nnr_detail(PW_NNR_REVERSE_DNS, &t);
    s = pw_msg_text(&d, &srcs);
    CHECK_STR(s, "timeout after 3 tries (dns server 10.0.0.53)");
    free(s);
    m = (pw_msg){.id = PW_MSG_NONE};
    s = pw_msg_text(&m, &srcs);
    CHECK_STR(s, "");
    free(s);
}

int main(void)
{
    test_writers_render();
    test_messages();
    CHECK_DONE();
}
