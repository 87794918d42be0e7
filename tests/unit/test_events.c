/* test_events.c - how much of an event carries it (dissectors/events.c):
 * every type's size lies inside the event, lists that end a member count
 * only their entries, a count beyond the array keeps the whole member, and
 * a copy of pw_event_size() bytes reads like the event itself.
 * pw_event_init zeroes its type's bytes and no others. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../../dissectors/dissector.h"
#include "check.h"

#define HDR offsetof(pw_event, u)

static void test_type_sizes(void)
{
    for (int t = PW_EV_APP; t < PW_EV_COUNT; t++) {
        size_t n = pw_event_type_size((pw_event_type)t);
        CHECK(n > HDR);
        CHECK(n <= sizeof(pw_event));
    }
    CHECK_INT(pw_event_type_size(PW_EV_APP), HDR + 16);
    CHECK_INT(pw_event_type_size(PW_EV_MALFORMED), HDR + 64);
    CHECK_INT(pw_event_type_size(PW_EV_TLS), HDR + sizeof(pw_ev_tls));
    CHECK_INT(pw_event_type_size(PW_EV_COUNT), sizeof(pw_event));
    CHECK_INT(pw_event_type_size((pw_event_type)0), sizeof(pw_event));
}

static void test_lists(void)
{
    static pw_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = PW_EV_DNS;
    /* no answer: the name ends the event, its NUL included, whatever its length */
    CHECK_INT(pw_event_size(&ev), offsetof(pw_event, u.dns.qname) + 1);
    snprintf(ev.u.dns.qname, sizeof ev.u.dns.qname, "dc01.corp.example");
    CHECK_INT(pw_event_size(&ev), offsetof(pw_event, u.dns.qname) + 18);
    CHECK(offsetof(pw_event, u.dns.reverse_addr) < pw_event_size(&ev));
    memset(ev.u.dns.qname, 'a', sizeof ev.u.dns.qname); /* no NUL (never made): the array */
    CHECK_INT(pw_event_size(&ev), offsetof(pw_event, u.dns.qname) + PW_NAME_MAX);
    memset(ev.u.dns.qname, 0, sizeof ev.u.dns.qname);
    ev.u.dns.n_answers = 3;
    CHECK_INT(pw_event_size(&ev), offsetof(pw_event, u.dns.answers[3]));
    ev.u.dns.n_answers = PW_DNS_MAX_ANSWERS;
    CHECK_INT(pw_event_size(&ev), HDR + sizeof(pw_ev_dns));
    ev.u.dns.n_answers = 200; /* no dissector says this: the whole member */
    CHECK_INT(pw_event_size(&ev), HDR + sizeof(pw_ev_dns));

    memset(&ev, 0, sizeof ev);
    ev.type = PW_EV_TLS;
    ev.u.tls.n_san = 2;
    CHECK_INT(pw_event_size(&ev), offsetof(pw_event, u.tls.san[2]));
    CHECK(offsetof(pw_event, u.tls.tunnel_port) < pw_event_size(&ev));

    memset(&ev, 0, sizeof ev);
    ev.type = PW_EV_NBNS;
    ev.u.nbns.n_names = 1;
    CHECK_INT(pw_event_size(&ev), offsetof(pw_event, u.nbns.names[1]));
    CHECK(offsetof(pw_event, u.nbns.mac[5]) < pw_event_size(&ev));

    memset(&ev, 0, sizeof ev);
    ev.type = PW_EV_SSRP;
    ev.u.ssrp.n_instances = 0;
    CHECK_INT(pw_event_size(&ev), offsetof(pw_event, u.ssrp.instances));
    CHECK(offsetof(pw_event, u.ssrp.more_instances) < pw_event_size(&ev));

    memset(&ev, 0, sizeof ev);
    ev.type = PW_EV_NTLMSSP; /* no list: all of it */
    CHECK_INT(pw_event_size(&ev), HDR + sizeof(pw_ev_ntlmssp));
}

/* A DNS answer copied as far as pw_event_size() over a scribbled event. */
static void test_copy(void)
{
    static pw_event ev, copy;
    memset(&ev, 0, sizeof ev);
    ev.type = PW_EV_DNS;
    ev.frame = 42;
    snprintf(ev.u.dns.qname, sizeof ev.u.dns.qname, "%s", "dc1.corp.example");
    ev.u.dns.n_answers = 2;
    ev.u.dns.answers[1].type = 12;
    snprintf(ev.u.dns.answers[1].target, sizeof ev.u.dns.answers[1].target, "%s", "last.corp.example");
    memset(&copy, 0x5a, sizeof copy);
    memcpy(&copy, &ev, pw_event_size(&ev));
    CHECK_INT(copy.type, PW_EV_DNS);
    CHECK_INT(copy.frame, 42);
    CHECK_STR(copy.u.dns.qname, "dc1.corp.example");
    CHECK_INT(copy.u.dns.n_answers, 2);
    CHECK_INT(copy.u.dns.answers[1].type, 12);
    CHECK_STR(copy.u.dns.answers[1].target, "last.corp.example");
    CHECK_INT(pw_event_size(&copy), pw_event_size(&ev));
}

static void test_init(void)
{
    static pw_event ev;
    pw_flow flow;
    memset(&flow, 0, sizeof flow);
    flow.source = 3;
    pw_dctx ctx = {.flow = &flow, .dir = 1, .frame = 7, .ts = 99};
    memset(&ev, 0xa5, sizeof ev);
    pw_event_init(&ev, &ctx, PW_EV_RDP);
    CHECK_INT(ev.type, PW_EV_RDP);
    CHECK_INT(ev.source, 3);
    CHECK_INT(ev.frame, 7);
    CHECK_INT(ev.ts, 99);
    CHECK_INT(ev.dir, 1);
    const unsigned char *b = (const unsigned char *)&ev;
    size_t end = pw_event_type_size(PW_EV_RDP), nonzero = 0, other = 0;
    for (size_t i = HDR; i < end; i++)
        nonzero += b[i] != 0;
    for (size_t i = end; i < sizeof ev; i++)
        other += b[i] != 0xa5;
    CHECK_INT(nonzero, 0);
    CHECK_INT(other, 0); /* the other types' bytes are left as they were */
}

int main(void)
{
    test_type_sizes();
    test_lists();
    test_copy();
    test_init();
    CHECK_DONE();
}
