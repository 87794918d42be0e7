/* fixes.c - for every failed or partial rule, the firewall change that would
 * make it pass, decided from what the capture saw: per failing server, the
 * ports that failed and the clients that failed to reach them, and why they
 * failed.
 *
 * The cause matters more than the command: an ICMP error sent by a third
 * address means a device in the path refused, so the host firewall is not
 * the one to change; a reset or ICMP error from the server itself means the
 * server (its firewall, or no service listening) refused; silence could be
 * either, so both the host and the network rule are offered.
 *
 * Servers come from the failing evidence (exact pairs) and from the rule's
 * failing servers (evidence is capped by --max-evidence); a server the
 * evidence does not name gets the rule's failing clients and ports. */
#include "fixes.h"

#include <stdlib.h>
#include <string.h>

static const char *const cause_names[PW_FIX_CAUSE_COUNT] = {"silent", "host-refused", "path-refused"};

const char *pw_fix_cause_name(pw_fix_cause c)
{
    return (unsigned)c < PW_FIX_CAUSE_COUNT ? cause_names[c] : "?";
}

static bool is_failure(pw_outcome o)
{
    return o == PW_OUT_REFUSED || o == PW_OUT_BLOCKED || o == PW_OUT_UNANSWERED;
}

static pw_fix_cause cause_of(const pw_res_evidence *e)
{
    if (e->path_refused)
        return PW_FIX_PATH_REFUSED;
    if (e->outcome == PW_OUT_REFUSED || e->outcome == PW_OUT_BLOCKED)
        return PW_FIX_HOST_REFUSED;
    return PW_FIX_SILENT;
}

/* Keeps the sorted set of ranges; a range inside or equal to one kept is
 * not added again. */
static void add_range(pw_res_fix *f, uint16_t lo, uint16_t hi)
{
    int i = 0;
    for (; i < f->n_ports; i++) {
        if (f->ports[i].lo <= lo && hi <= f->ports[i].hi)
            return;
        if (lo < f->ports[i].lo)
            break;
    }
    if (f->n_ports == PW_FIX_PORTS)
        return;
    memmove(&f->ports[i + 1], &f->ports[i], (size_t)(f->n_ports - i) * sizeof f->ports[0]);
    f->ports[i] = (pw_port_range){lo, hi};
    f->n_ports++;
}

static void add_client(pw_res_fix *f, const pw_addr *a)
{
    int i = 0;
    for (; i < f->n_clients; i++) {
        int c = pw_addr_cmp(a, &f->clients[i]);
        if (c == 0)
            return;
        if (c < 0)
            break;
    }
    if (f->n_clients == PW_FIX_PEERS) {
        f->clients_more = true;
        return;
    }
    memmove(&f->clients[i + 1], &f->clients[i], (size_t)(f->n_clients - i) * sizeof f->clients[0]);
    f->clients[i] = *a;
    f->n_clients++;
}

/* The rule's own ports ("135", "10000,10001", "49152-65535"); names such
 * as "epm-dynamic" add nothing (rpc_dynamic says it). */
static void add_rule_ports(pw_res_fix *f, const char *ports)
{
    const char *p = ports ? ports : "";
    while (*p) {
        char *end;
        unsigned long lo = strtoul(p, &end, 10), hi = lo;
        if (end == p)
            return;
        if (*end == '-')
            hi = strtoul(end + 1, &end, 10);
        if (lo > 0 && lo <= hi && hi <= 65535)
            add_range(f, (uint16_t)lo, (uint16_t)hi);
        p = *end == ',' ? end + 1 : end;
        if (*end != ',')
            return;
    }
}

/* The one range a dynamic rule names ("1024-65535"), else Windows' default
 * dynamic range, where the endpoint mapper's ports come from. */
static pw_port_range rule_range(const char *ports)
{
    pw_res_fix tmp = {0};
    add_rule_ports(&tmp, ports);
    if (tmp.n_ports == 1 && tmp.ports[0].lo < tmp.ports[0].hi)
        return tmp.ports[0];
    return (pw_port_range){49152, 65535};
}

typedef struct fix_list {
    pw_res_fix *v;
    size_t n, cap, first; /* first: where the current rule's fixes start */
    uint64_t left_out;
} fix_list;

/* The current rule's fix for this server, made when new; NULL when the
 * rule already has PW_FIX_PER_RULE fixes (counted as left out). */
static pw_res_fix *fix_for(fix_list *l, const pw_res_rule *x, const pw_addr *server, pw_fix_dir dir)
{
    for (size_t i = l->first; i < l->n; i++)
        if (pw_addr_eq(&l->v[i].server, server))
            return &l->v[i];
    if (l->n - l->first >= PW_FIX_PER_RULE) {
        l->left_out++;
        return NULL;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        pw_res_fix *v = pw_result_alloc(l->cap, sizeof *v);
        if (l->n)
            memcpy(v, l->v, l->n * sizeof *v);
        free(l->v);
        l->v = v;
    }
    pw_res_fix *f = &l->v[l->n++];
    memset(f, 0, sizeof *f);
    f->rule = x;
    f->dir = dir;
    f->server = *server;
    f->proto = x->proto;
    f->rpc_dynamic = x->dynamic != 0;
    if (f->rpc_dynamic)
        f->rpc_range = rule_range(x->ports);
    return f;
}

/* One failing evidence entry into its server's fix. */
static void take_evidence(fix_list *l, const pw_res_rule *x, const pw_res_evidence *e)
{
    pw_fix_dir dir = e->cloud ? PW_FIX_OUTBOUND : PW_FIX_INBOUND;
    pw_res_fix *f = fix_for(l, x, &e->server, dir);
    if (!f)
        return;
    if (!f->failed) {
        f->source = e->source;
        f->frame = e->frame;
    }
    f->failed++;
    f->proto = e->proto ? e->proto : x->proto;
    add_range(f, e->port, e->port);
    add_client(f, &e->client);
    pw_fix_cause c = cause_of(e);
    if (c > f->cause)
        f->cause = c;
    if (c == PW_FIX_PATH_REFUSED && !f->has_path_device && e->path_device.family) {
        f->has_path_device = true;
        f->path_device = e->path_device;
    }
}

/* A failing server the evidence did not name: the rule's failing clients
 * (every client when none failed on its own) and the rule's ports. */
static void take_server(fix_list *l, const pw_res_rule *x, const pw_res_side *s)
{
    for (size_t i = l->first; i < l->n; i++)
        if (pw_addr_eq(&l->v[i].server, &s->ip))
            return;
    pw_res_fix *f = fix_for(l, x, &s->ip, PW_FIX_INBOUND);
    if (!f)
        return;
    f->clients_from_rule = true;
    add_rule_ports(f, x->ports);
    bool any = false;
    for (size_t i = 0; i < x->n_clients; i++)
        if (x->clients[i].verdict == PW_VERDICT_FAIL || x->clients[i].verdict == PW_VERDICT_PARTIAL) {
            add_client(f, &x->clients[i].ip);
            any = true;
        }
    for (size_t i = 0; !any && i < x->n_clients; i++)
        add_client(f, &x->clients[i].ip);
}

static int cmp_fix_server(const void *a, const void *b)
{
    return pw_addr_cmp(&((const pw_res_fix *)a)->server, &((const pw_res_fix *)b)->server);
}

static void rule_fixes(fix_list *l, const pw_res_rule *x)
{
    l->first = l->n;
    for (size_t i = 0; i < x->n_evidence; i++)
        if (is_failure(x->evidence[i].outcome) && x->evidence[i].server.family)
            take_evidence(l, x, &x->evidence[i]);
    for (size_t i = 0; i < x->n_servers; i++)
        if ((x->servers[i].verdict == PW_VERDICT_FAIL || x->servers[i].verdict == PW_VERDICT_PARTIAL) &&
            x->servers[i].ip.family)
            take_server(l, x, &x->servers[i]);
    if (l->n > l->first)
        qsort(&l->v[l->first], l->n - l->first, sizeof *l->v, cmp_fix_server);
}

void pw_fixes_result(pw_result *r)
{
    fix_list l = {0};
    for (size_t i = 0; i < r->n_rules; i++) {
        const pw_res_rule *x = &r->rules[i];
        if (x->verdict == PW_VERDICT_FAIL || x->verdict == PW_VERDICT_PARTIAL)
            rule_fixes(&l, x);
    }
    r->fixes = l.v ? l.v : pw_result_alloc(0, sizeof *r->fixes);
    r->n_fixes = l.n;
    r->fixes_left_out = l.left_out;
}
