/* nnr.c - Network Name Resolution as a Defender for Identity sensor does it,
 * judged passively from the sensor's own traffic.
 *
 * Methods and what counts as one try ("requester" = the sensor side):
 *   ntlm_rpc     a TCP connection to target:135.  A DCE/RPC bind (or
 *                alter_context) carrying NTLMSSP (auth_type 10, or an NTLMSSP
 *                NEGOTIATE) makes it NNR-shaped; a connection whose bind
 *                carries no NTLMSSP is ordinary RPC and is not a try.
 *                CHALLENGE -> name = NetBIOS computer name (else DNS computer
 *                name); bind_nak -> "bind_nak"; bind_ack without CHALLENGE ->
 *                "no_challenge".
 *   netbios      a UDP exchange with target:137.  A node status (NBSTAT)
 *                query makes it NNR-shaped; an exchange carrying only other
 *                NBNS requests (name query to WINS, registration) is not a
 *                try.  Positive node status -> the first unique <00> name
 *                (else <20>); negative response -> "nbns_negative".
 *   rdp          a TCP connection to target:3389.  X.224 Connection Request
 *                makes it NNR-shaped.  Server certificate -> subject CN (else
 *                first SAN); RDP_NEG_FAILURE -> "rdp_neg_failure"; TLS 1.3 ->
 *                "tls13_cert_hidden"; standard RDP security or no certificate
 *                seen -> "no_certificate".
 *   reverse_dns  each PTR query for an in-addr.arpa / ip6.arpa name, to any
 *                DNS server over UDP or TCP 53; the target is the address
 *                being resolved, the transport outcome is the exchange with
 *                the DNS server.  PTR answer -> name; NXDOMAIN / SERVFAIL /
 *                REFUSED / other rcode -> "nxdomain" / "servfail" /
 *                "dns_refused" / "dns_error"; NOERROR without PTR -> "no_ptr".
 *
 * Transport outcome: from the core's attempt for the flow (answered, refused,
 * blocked, unanswered, indeterminate).  An application answer from the
 * target means "answered" even when no attempt was seen (mid-stream).
 * Without an application result, the result is the outcome: "refused",
 * "blocked", "no_response" (unanswered) or "indeterminate".
 *
 * Several tries for one (sensor, target, method): the best wins -
 * resolved > answered with an application failure > refused > blocked >
 * unanswered > indeterminate; equal ones: the earliest (input, frame).
 *
 * Dissector events of a flow usually arrive before the core retires its
 * attempt, but not always (a UDP reply can retire the attempt before the
 * reply is dissected; late TCP data).  So per flow a record collects both;
 * it is folded into the (sensor, target, method) summary when the attempt
 * retires with a final answer (an outcome other than answered, or an
 * application result), else at the end.  Open records are capped
 * (PW_NNR_MAX_FLOWS, the oldest folded first), summaries too.
 *
 * Sensors: --sensor IP[/CIDR] (found_by "option"; a single address is listed
 * even when it sent nothing).  Without --sensor they are inferred: a host is
 * a sensor when it sent NNR-shaped requests (NBSTAT query, RPC bind with
 * NTLMSSP to 135, X.224 CR to 3389, PTR query) to at least
 * PW_NNR_INFER_MIN_TARGETS (3) distinct targets.  Three, because a real
 * sensor resolves every new address it sees (dozens to thousands a day),
 * while an ordinary workstation at most looks up one or two peers.
 *
 * Rates per sensor and method count targets (not tries): attempted,
 * resolved, transport outcome of the best try, app_failed (answered but no
 * name), rate = resolved / attempted.  An alert is raised when attempted > 0
 * and the failure share (attempted - resolved) / attempted exceeds
 * cfg->nnr_alert_threshold (0.9 by default, Defender for Identity's).
 *
 * JSON beyond the schema (additions only): per target and method
 * "detail" (one human line: "bind_nak (reason 2)", "icmp-admin-prohibited from
 * 198.18.0.1", "timeout after 3 tries"...), "file" (the input its frames are
 * in) and, for reverse_dns, "server" (the DNS server asked); per alert
 * "evidence" ([{file, frame, target, result}], the frames of "examples" with
 * their file).  "rate" is null when nothing was attempted.  The frames of a
 * try: the request (first SYN / first datagram / the PTR query), the reply or
 * ICMP error, and the frame of the application answer. */
#include "nnr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../common/table.h"

#include "nnr_util.h"

#define PW_NNR_INFER_MIN_TARGETS 3
#define PW_NNR_MAX_FLOWS (1u << 16)
#define PW_NNR_MAX_PAIRS (1u << 20)
#define PW_NNR_MAX_QUERIES 4
#define PW_NNR_MAX_FRAMES 4

enum { M_NTLM_RPC = 0, M_NETBIOS, M_RDP, M_RDNS, M_COUNT };
static const char *const method_key[M_COUNT] = {"ntlm_rpc", "netbios", "rdp", "reverse_dns"};
static const char *const method_title[M_COUNT] = {"NTLM over RPC", "NetBIOS", "RDP (TLS)",
                                                  "reverse DNS"};
/* Which method's name the target entry shows first (Defender's order). */
static const int name_order[M_COUNT] = {M_NTLM_RPC, M_NETBIOS, M_RDP, M_RDNS};

enum {
    R_NONE = 0,
    R_RESOLVED,
    /* answered, application failure */
    R_BIND_NAK, R_NBNS_NEGATIVE, R_RDP_NEG_FAILURE, R_TLS13_HIDDEN,
    R_NXDOMAIN, R_SERVFAIL, R_DNS_REFUSED, R_DNS_ERROR,
    /* answered, no name */
    R_NO_CHALLENGE, R_NO_NAME, R_NO_CERTIFICATE, R_NO_PTR,
    /* transport only */
    R_REFUSED, R_BLOCKED, R_NO_RESPONSE, R_INDETERMINATE,
    R_COUNT
};
static const char *const result_name[R_COUNT] = {
    "none", "resolved",
    "bind_nak", "nbns_negative", "rdp_neg_failure", "tls13_cert_hidden",
    "nxdomain", "servfail", "dns_refused", "dns_error",
    "no_challenge", "no_name", "no_certificate", "no_ptr",
    "refused", "blocked", "no_response", "indeterminate",
};

/* How conclusive an application result is: a name beats a failure beats an
 * answer without a name. */
static int app_rank(int r)
{
    if (r == R_RESOLVED)
        return 3;
    if (r >= R_BIND_NAK && r <= R_DNS_ERROR)
        return 2;
    if (r >= R_NO_CHALLENGE && r <= R_NO_PTR)
        return 1;
    return 0;
}

/* ---- records ------------------------------------------------------------ */

typedef struct flow_key {
    uint32_t source;
    uint8_t proto;
    uint8_t pad[3];
    pw_addr client, server; /* requester, responder */
    uint16_t cport, sport;
} flow_key;

typedef struct rdns_q {
    uint16_t txid;
    pw_addr target;
    bool asked, answered;
    uint8_t rcode;
    uint64_t qframe, rframe;
    char *name;
} rdns_q;

typedef struct nnr_flow {
    flow_key k;
    uint8_t method;
    bool shaped;    /* an NNR-shaped request was seen */
    bool unshaped;  /* a request that is not NNR (bind without NTLMSSP, NB query) */
    bool resp_seen; /* an application message came back from the responder */
    uint64_t first_frame;
    /* the core's attempt */
    bool has_attempt;
    pw_outcome outcome;
    pw_reason reason;
    uint32_t retries;
    bool has_icmp_from;
    pw_addr icmp_from;
    uint64_t frame_request, frame_reply;
    /* application result */
    uint8_t app;
    uint32_t app_code;
    char *name;
    uint64_t app_frame;
    /* reverse_dns: the PTR queries on this flow */
    int nq;
    rdns_q q[PW_NNR_MAX_QUERIES];
    UT_hash_handle hh;
} nnr_flow;

typedef struct nnr_try {
    bool set;
    uint8_t result;
    pw_outcome outcome;
    pw_reason reason;
    uint32_t code;
    uint32_t retries;
    bool has_icmp_from;
    pw_addr icmp_from;
    pw_addr server; /* the responder: the target, or the DNS server for reverse_dns */
    char *name;
    uint32_t source;
    uint8_t nframes;
    uint64_t frames[PW_NNR_MAX_FRAMES];
} nnr_try;

typedef struct pair_key {
    pw_addr sensor, target;
} pair_key;

typedef struct nnr_pair {
    pair_key k;
    struct {
        bool tried, shaped;
        uint32_t tries;
        nnr_try best;
    } m[M_COUNT];
    UT_hash_handle hh;
} nnr_pair;

struct pw_nnr {
    pw_config cfg;
    nnr_flow *flows;
    size_t n_flows;
    nnr_pair *pairs;
    size_t n_pairs;
    uint64_t dropped;
};

pw_nnr *pw_nnr_new(const pw_config *cfg)
{
    pw_nnr *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    if (cfg)
        n->cfg = *cfg;
    else
        pw_config_defaults(&n->cfg);
    return n;
}

static bool is_sensor_candidate(const pw_nnr *n, const pw_addr *a)
{
    if (a->family != 4 && a->family != 6)
        return false;
    if (n->cfg.n_sensors == 0)
        return true; /* inferred later */
    for (int i = 0; i < n->cfg.n_sensors && i < PW_MAX_SENSORS; i++)
        if (pw_addr_in_cidr(a, &n->cfg.sensors[i].net, n->cfg.sensors[i].prefix))
            return true;
    return false;
}

/* ---- trying and folding ------------------------------------------------- */

static int try_rank(const nnr_try *t)
{
    if (!t->set)
        return 0;
    if (t->result == R_RESOLVED)
        return 7;
    if (t->outcome == PW_OUT_ANSWERED)
        return 6;
    return pw_outcome_rank(t->outcome); /* refused 4 > blocked 3 > unanswered 2 > indet. 1 */
}

static bool try_before(const nnr_try *a, const nnr_try *b)
{
    if (a->source != b->source)
        return a->source < b->source;
    uint64_t fa = a->nframes ? a->frames[0] : UINT64_MAX;
    uint64_t fb = b->nframes ? b->frames[0] : UINT64_MAX;
    return fa < fb;
}

static void try_add_frame(nnr_try *t, uint64_t f)
{
    if (!f)
        return;
    for (int i = 0; i < t->nframes; i++)
        if (t->frames[i] == f)
            return;
    if (t->nframes >= PW_NNR_MAX_FRAMES)
        return;
    int i = t->nframes++;
    while (i > 0 && t->frames[i - 1] > f) {
        t->frames[i] = t->frames[i - 1];
        i--;
    }
    t->frames[i] = f;
}

static nnr_pair *get_pair(pw_nnr *n, const pw_addr *sensor, const pw_addr *target)
{
    pair_key k;
    memset(&k, 0, sizeof k);
    k.sensor = *sensor;
    k.target = *target;
    nnr_pair *p = NULL;
    HASH_FIND(hh, n->pairs, &k, sizeof k, p);
    if (p)
        return p;
    if (n->n_pairs >= PW_NNR_MAX_PAIRS) {
        n->dropped++;
        return NULL;
    }
    p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->k = k;
    HASH_ADD(hh, n->pairs, k, sizeof p->k, p);
    n->n_pairs++;
    return p;
}

/* Hands a finished try (its name is moved) to the summary of its target. */
static void submit_try(pw_nnr *n, const pw_addr *sensor, const pw_addr *target, int method,
                       bool shaped, nnr_try *t)
{
    nnr_pair *p = get_pair(n, sensor, target);
    if (!p) {
        free(t->name);
        return;
    }
    p->m[method].tried = true;
    p->m[method].shaped |= shaped;
    p->m[method].tries++;
    nnr_try *b = &p->m[method].best;
    int rt = try_rank(t), rb = try_rank(b);
    if (!b->set || rt > rb || (rt == rb && try_before(t, b))) {
        free(b->name);
        *b = *t;
    } else {
        free(t->name);
    }
    t->name = NULL;
}

static void fill_transport(nnr_try *t, const nnr_flow *f)
{
    t->outcome = f->outcome;
    t->reason = f->reason;
    t->retries = f->retries;
    t->has_icmp_from = f->has_icmp_from;
    t->icmp_from = f->icmp_from;
}

static uint8_t transport_result(pw_outcome o)
{
    switch (o) {
    case PW_OUT_REFUSED: return R_REFUSED;
    case PW_OUT_BLOCKED: return R_BLOCKED;
    case PW_OUT_UNANSWERED: return R_NO_RESPONSE;
    default: return R_INDETERMINATE;
    }
}

static uint8_t default_answered_result(int method)
{
    switch (method) {
    case M_NTLM_RPC: return R_NO_CHALLENGE;
    case M_RDP: return R_NO_CERTIFICATE;
    case M_RDNS: return R_NO_PTR;
    default: return R_NO_NAME;
    }
}

static void fold_rdns(pw_nnr *n, nnr_flow *f)
{
    for (int i = 0; i < f->nq; i++) {
        rdns_q *q = &f->q[i];
        nnr_try t;
        memset(&t, 0, sizeof t);
        t.set = true;
        t.source = f->k.source;
        t.server = f->k.server;
        try_add_frame(&t, q->qframe);
        if (q->answered) {
            t.outcome = PW_OUT_ANSWERED;
            t.reason = f->has_attempt && f->outcome == PW_OUT_ANSWERED ? f->reason : PW_R_NONE;
            t.code = q->rcode;
            try_add_frame(&t, q->rframe);
            if (q->rcode == 0 && q->name) {
                t.result = R_RESOLVED;
                t.name = q->name;
                q->name = NULL;
            } else if (q->rcode == 0) {
                t.result = R_NO_PTR;
            } else if (q->rcode == 3) {
                t.result = R_NXDOMAIN;
            } else if (q->rcode == 2) {
                t.result = R_SERVFAIL;
            } else if (q->rcode == 5) {
                t.result = R_DNS_REFUSED;
            } else {
                t.result = R_DNS_ERROR;
            }
        } else if (f->has_attempt && f->outcome != PW_OUT_ANSWERED) {
            fill_transport(&t, f);
            try_add_frame(&t, f->frame_reply);
            t.result = transport_result(f->outcome);
        } else if (f->has_attempt) {
            /* the server answered other queries on this flow, not this one */
            t.outcome = PW_OUT_UNANSWERED;
            t.reason = PW_R_TIMEOUT;
            t.result = R_NO_RESPONSE;
        } else {
            t.outcome = PW_OUT_INDETERMINATE;
            t.reason = PW_R_NONE;
            t.result = R_INDETERMINATE;
        }
        submit_try(n, &f->k.client, &q->target, M_RDNS, true, &t);
    }
}

static void fold_flow(pw_nnr *n, nnr_flow *f)
{
    if (f->method == M_RDNS) {
        fold_rdns(n, f);
        return;
    }
    /* Ordinary traffic on the port (e.g. a Kerberos RPC bind) is not a try. */
    if (!f->shaped && f->unshaped)
        return;
    nnr_try t;
    memset(&t, 0, sizeof t);
    t.set = true;
    t.source = f->k.source;
    t.server = f->k.server;
    try_add_frame(&t, f->has_attempt ? f->frame_request : f->first_frame);
    try_add_frame(&t, f->frame_reply);
    try_add_frame(&t, f->app_frame);
    if (f->has_attempt)
        fill_transport(&t, f);
    if (f->app != R_NONE || f->resp_seen || (f->has_attempt && f->outcome == PW_OUT_ANSWERED)) {
        t.outcome = PW_OUT_ANSWERED;
        if (!f->has_attempt)
            t.reason = PW_R_NONE;
        t.result = f->app != R_NONE ? f->app : default_answered_result(f->method);
        t.code = f->app_code;
        if (f->app == R_RESOLVED) {
            t.name = f->name;
            f->name = NULL;
        }
    } else if (f->has_attempt) {
        t.result = transport_result(f->outcome);
    } else {
        t.outcome = PW_OUT_INDETERMINATE;
        t.result = R_INDETERMINATE;
    }
    submit_try(n, &f->k.client, &f->k.server, f->method, f->shaped, &t);
}

static void free_flow(nnr_flow *f)
{
    free(f->name);
    for (int i = 0; i < f->nq; i++)
        free(f->q[i].name);
    free(f);
}

static void fold_and_drop(pw_nnr *n, nnr_flow *f)
{
    fold_flow(n, f);
    HASH_DEL(n->flows, f);
    n->n_flows--;
    free_flow(f);
}

static nnr_flow *find_flow(pw_nnr *n, const flow_key *k)
{
    nnr_flow *f = NULL;
    HASH_FIND(hh, n->flows, k, sizeof *k, f);
    return f;
}

static nnr_flow *new_flow(pw_nnr *n, const flow_key *k, int method)
{
    if (n->n_flows >= PW_NNR_MAX_FLOWS && n->flows)
        fold_and_drop(n, n->flows); /* the oldest (uthash keeps insertion order) */
    nnr_flow *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->k = *k;
    f->method = (uint8_t)method;
    HASH_ADD(hh, n->flows, k, sizeof f->k, f);
    n->n_flows++;
    return f;
}

static void make_key(flow_key *k, uint32_t source, uint8_t proto, const pw_addr *client,
                     uint16_t cport, const pw_addr *server, uint16_t sport)
{
    memset(k, 0, sizeof *k);
    k->source = source;
    k->proto = proto;
    k->client = *client;
    k->server = *server;
    k->cport = cport;
    k->sport = sport;
}

/* Sets the application result unless a more conclusive one is there. */
static void set_app(nnr_flow *f, uint8_t r, uint32_t code, const char *name, uint64_t frame)
{
    if (app_rank(r) <= app_rank(f->app))
        return;
    char *copy = NULL;
    if (r == R_RESOLVED) {
        copy = pw_nu_name_dup(name);
        if (!copy)
            return;
    }
    free(f->name);
    f->app = r;
    f->app_code = code;
    f->name = copy;
    f->app_frame = frame;
}

/* ---- events ------------------------------------------------------------- */

/* The flow record an event belongs to; requester/responder as given. */
static nnr_flow *event_flow(pw_nnr *n, const pw_event *ev, int method, const pw_addr *req,
                            uint16_t req_port, const pw_addr *resp, uint16_t resp_port)
{
    if (!is_sensor_candidate(n, req) || pw_addr_is_group(resp) || pw_addr_eq(req, resp))
        return NULL;
    flow_key k;
    make_key(&k, ev->source, ev->flow.proto, req, req_port, resp, resp_port);
    nnr_flow *f = find_flow(n, &k);
    if (!f)
        f = new_flow(n, &k, method);
    if (f && (!f->first_frame || ev->frame < f->first_frame))
        f->first_frame = ev->frame;
    return f;
}

/* A flow that already has its attempt and now holds a conclusive
 * application answer can be folded right away. */
static void maybe_fold(pw_nnr *n, nnr_flow *f)
{
    if (f->has_attempt && f->method != M_RDNS && app_rank(f->app) >= 2)
        fold_and_drop(n, f);
}

static void on_nbns(pw_nnr *n, const pw_event *ev)
{
    const pw_ev_nbns *m = &ev->u.nbns;
    if (ev->flow.proto != 17 || m->opcode != 0)
        return;
    const pw_addr *req = m->response ? pw_nu_receiver(ev) : pw_nu_sender(ev);
    const pw_addr *resp = m->response ? pw_nu_sender(ev) : pw_nu_receiver(ev);
    uint16_t rqp = m->response ? pw_nu_receiver_port(ev) : pw_nu_sender_port(ev);
    uint16_t rsp = m->response ? pw_nu_sender_port(ev) : pw_nu_receiver_port(ev);
    if (m->response && rqp == 137) {
        /* A response to port 137 whose query is not in the capture looks to
         * the core like a request from the responder: not an NNR try. */
        nnr_flow *r = event_flow(n, ev, M_NETBIOS, resp, rsp, req, rqp);
        if (r && !r->shaped)
            r->unshaped = true;
    }
    if (rsp != 137)
        return;
    nnr_flow *f = event_flow(n, ev, M_NETBIOS, req, rqp, resp, rsp);
    if (!f)
        return;
    if (!m->response) {
        if (m->qtype == PW_NBNS_QTYPE_NBSTAT)
            f->shaped = true;
        else
            f->unshaped = true;
        return;
    }
    f->resp_seen = true;
    if (m->rcode != 0) {
        set_app(f, R_NBNS_NEGATIVE, m->rcode, NULL, ev->frame);
    } else if (m->qtype == PW_NBNS_QTYPE_NBSTAT || m->n_names > 0) {
        const char *name = NULL;
        int nn = m->n_names < PW_NBNS_MAX_NAMES ? m->n_names : PW_NBNS_MAX_NAMES;
        for (int want = 0; want < 2 && !name; want++)
            for (int i = 0; i < nn && !name; i++)
                if (!m->names[i].group && m->names[i].name[0] &&
                    m->names[i].suffix == (want == 0 ? 0x00 : 0x20))
                    name = m->names[i].name;
        if (name)
            set_app(f, R_RESOLVED, 0, name, ev->frame);
        else
            set_app(f, R_NO_NAME, 0, NULL, ev->frame);
    }
    maybe_fold(n, f);
}

static void on_dns(pw_nnr *n, const pw_event *ev)
{
    const pw_ev_dns *m = &ev->u.dns;
    if (!m->reverse || m->qtype != 12 || m->opcode != 0)
        return;
    const pw_addr *req = m->response ? pw_nu_receiver(ev) : pw_nu_sender(ev);
    const pw_addr *resp = m->response ? pw_nu_sender(ev) : pw_nu_receiver(ev);
    uint16_t rqp = m->response ? pw_nu_receiver_port(ev) : pw_nu_sender_port(ev);
    uint16_t rsp = m->response ? pw_nu_sender_port(ev) : pw_nu_receiver_port(ev);
    nnr_flow *f = event_flow(n, ev, M_RDNS, req, rqp, resp, rsp);
    if (!f || f->method != M_RDNS)
        return;
    f->shaped = true;
    rdns_q *q = NULL;
    for (int i = 0; i < f->nq && !q; i++)
        if (f->q[i].txid == m->txid && pw_addr_eq(&f->q[i].target, &m->reverse_addr))
            q = &f->q[i];
    /* A retransmitted query, or a second answer: keep the first. */
    if (q && (m->response ? q->answered : q->asked))
        return;
    if (!q) {
        if (f->nq >= PW_NNR_MAX_QUERIES) {
            n->dropped++;
            return;
        }
        q = &f->q[f->nq++];
        memset(q, 0, sizeof *q);
        q->txid = m->txid;
        q->target = m->reverse_addr;
    }
    if (!m->response) {
        q->asked = true;
        q->qframe = ev->frame;
        return;
    }
    f->resp_seen = true;
    q->answered = true;
    q->rcode = m->rcode;
    q->rframe = ev->frame;
    if (m->rcode == 0) {
        int na = m->n_answers < PW_DNS_MAX_ANSWERS ? m->n_answers : PW_DNS_MAX_ANSWERS;
        for (int i = 0; i < na && !q->name; i++)
            if (m->answers[i].type == 12 && m->answers[i].target[0])
                q->name = pw_nu_name_dup(m->answers[i].target);
    }
}

static void on_tcp_event(pw_nnr *n, const pw_event *ev)
{
    if (ev->flow.proto != 6)
        return;
    int method;
    if (ev->flow.server_port == 135)
        method = M_NTLM_RPC;
    else if (ev->flow.server_port == 3389)
        method = M_RDP;
    else
        return;
    nnr_flow *f = event_flow(n, ev, method, &ev->flow.client, ev->flow.client_port,
                             &ev->flow.server, ev->flow.server_port);
    if (!f || f->method != method)
        return;
    bool from_client = ev->dir == 0;
    switch (ev->type) {
    case PW_EV_DCERPC: {
        const pw_ev_dcerpc *m = &ev->u.dcerpc;
        if (method != M_NTLM_RPC)
            return;
        if (from_client) {
            if (m->ptype == PW_DCERPC_BIND || m->ptype == PW_DCERPC_ALTER_CONTEXT) {
                if (m->auth_type == PW_AUTHN_WINNT)
                    f->shaped = true;
                else if (m->ptype == PW_DCERPC_BIND)
                    f->unshaped = true;
            }
            return;
        }
        f->resp_seen = true;
        if (m->ptype == PW_DCERPC_BIND_NAK)
            set_app(f, R_BIND_NAK, m->reject_reason, NULL, ev->frame);
        else if (m->ptype == PW_DCERPC_BIND_ACK || m->ptype == PW_DCERPC_ALTER_CONTEXT_RESP)
            set_app(f, R_NO_CHALLENGE, 0, NULL, ev->frame);
        break;
    }
    case PW_EV_NTLMSSP: {
        const pw_ev_ntlmssp *m = &ev->u.ntlmssp;
        if (method != M_NTLM_RPC)
            return;
        if (from_client) {
            if (m->msg_type == PW_NTLM_NEGOTIATE)
                f->shaped = true;
            return;
        }
        f->resp_seen = true;
        if (m->msg_type == PW_NTLM_CHALLENGE) {
            const char *name = m->nb_computer[0] ? m->nb_computer : m->dns_computer;
            if (name[0])
                set_app(f, R_RESOLVED, 0, name, ev->frame);
            else
                set_app(f, R_NO_CHALLENGE, 1, NULL, ev->frame);
        }
        break;
    }
    case PW_EV_RDP: {
        const pw_ev_rdp *m = &ev->u.rdp;
        if (method != M_RDP)
            return;
        if (from_client) {
            if (m->kind == PW_RDP_CONNECTION_REQUEST)
                f->shaped = true;
            return;
        }
        f->resp_seen = true;
        if (m->kind != PW_RDP_CONNECTION_CONFIRM)
            break;
        if (m->failure)
            set_app(f, R_RDP_NEG_FAILURE, m->failure_code, NULL, ev->frame);
        else if (!m->has_neg || m->selected_protocol == 0)
            set_app(f, R_NO_CERTIFICATE, 1, NULL, ev->frame); /* standard RDP security */
        break;
    }
    case PW_EV_TLS: {
        const pw_ev_tls *m = &ev->u.tls;
        if (method != M_RDP)
            return;
        if (from_client) {
            if (m->kind == PW_TLS_CLIENT_HELLO)
                f->shaped = true;
            return;
        }
        f->resp_seen = true;
        if (m->kind == PW_TLS_CERTIFICATE) {
            const char *name = m->subject_cn[0] ? m->subject_cn : m->n_san ? m->san[0] : "";
            if (name[0])
                set_app(f, R_RESOLVED, 0, name, ev->frame);
            else
                set_app(f, R_NO_CERTIFICATE, 2, NULL, ev->frame);
        } else if (m->kind == PW_TLS_CERT_HIDDEN ||
                   (m->kind == PW_TLS_SERVER_HELLO && m->version == 0x0304)) {
            set_app(f, R_TLS13_HIDDEN, 0, NULL, ev->frame);
        }
        break;
    }
    default:
        return;
    }
    maybe_fold(n, f);
}

void pw_nnr_event(pw_nnr *n, const pw_event *ev)
{
    if (!n || !ev)
        return;
    switch (ev->type) {
    case PW_EV_NBNS:
        on_nbns(n, ev);
        break;
    case PW_EV_DNS:
        on_dns(n, ev);
        break;
    case PW_EV_DCERPC:
    case PW_EV_NTLMSSP:
    case PW_EV_RDP:
    case PW_EV_TLS:
        on_tcp_event(n, ev);
        break;
    default:
        break;
    }
}

void pw_nnr_attempt(pw_nnr *n, const pw_attempt *a)
{
    if (!n || !a || a->outcome == PW_OUT_PENDING)
        return;
    int method;
    if (a->proto == 6 && a->port == 135)
        method = M_NTLM_RPC;
    else if (a->proto == 17 && a->port == 137)
        method = M_NETBIOS;
    else if (a->proto == 6 && a->port == 3389)
        method = M_RDP;
    else if (a->port == 53 && (a->proto == 6 || a->proto == 17))
        method = M_RDNS;
    else
        return;
    if (!is_sensor_candidate(n, &a->client) || pw_addr_is_group(&a->server))
        return;
    flow_key k;
    make_key(&k, a->source, a->proto, &a->client, a->client_port, &a->server, a->port);
    nnr_flow *f = find_flow(n, &k);
    if (f && f->has_attempt) { /* the 4-tuple was reused: close the old try */
        fold_and_drop(n, f);
        f = NULL;
    }
    if (!f) {
        if (method == M_RDNS)
            return; /* DNS without a PTR query on it: not NNR */
        f = new_flow(n, &k, method);
        if (!f)
            return;
    }
    if (f->method != method)
        return;
    f->has_attempt = true;
    f->outcome = a->outcome;
    f->reason = a->reason;
    f->retries = a->retries;
    f->has_icmp_from = a->has_icmp_from;
    f->icmp_from = a->icmp_from;
    f->frame_request = a->frame_request;
    f->frame_reply = a->frame_reply;
    bool final = a->outcome != PW_OUT_ANSWERED;
    if (method == M_RDNS) {
        bool all = f->nq > 0;
        for (int i = 0; i < f->nq; i++)
            all &= f->q[i].answered;
        final |= all;
    } else {
        final |= app_rank(f->app) >= 2;
    }
    if (final)
        fold_and_drop(n, f);
}

/* ---- report ------------------------------------------------------------- */

typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int w = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
        va_end(ap);
        if (w < 0)
            return;
        if (b->s && (size_t)w < room) {
            b->len += (size_t)w;
            return;
        }
        size_t ncap = b->cap ? b->cap * 2 : 256;
        while (ncap < b->len + (size_t)w + 1)
            ncap *= 2;
        char *ns = realloc(b->s, ncap);
        if (!ns)
            return;
        b->s = ns;
        b->cap = ncap;
    }
}

static const char *sb_str(const sbuf *b)
{
    return b->s ? b->s : "";
}

static const char *rcode_name(uint32_t rc)
{
    switch (rc) {
    case 0: return "NOERROR";
    case 1: return "FORMERR";
    case 2: return "SERVFAIL";
    case 3: return "NXDOMAIN";
    case 4: return "NOTIMP";
    case 5: return "REFUSED";
    default: return "rcode";
    }
}

/* A one-line human explanation of a try. */
static void try_detail(sbuf *b, int method, const nnr_try *t)
{
    char ip[PW_ADDR_STRLEN];
    switch (t->result) {
    case R_RESOLVED:
        sb_printf(b, "%s", method == M_NTLM_RPC  ? "NTLMSSP CHALLENGE names the computer"
                           : method == M_NETBIOS ? "node status name table"
                           : method == M_RDP     ? "RDP server certificate"
                                                 : "PTR answer");
        break;
    case R_BIND_NAK: sb_printf(b, "bind_nak (reason %u)", t->code); break;
    case R_NBNS_NEGATIVE: sb_printf(b, "nbns negative response rcode %u", t->code); break;
    case R_RDP_NEG_FAILURE: sb_printf(b, "rdp negotiation failure code %u", t->code); break;
    case R_TLS13_HIDDEN: sb_printf(b, "tls1.3 certificate hidden"); break;
    case R_NXDOMAIN:
    case R_SERVFAIL:
    case R_DNS_REFUSED:
    case R_DNS_ERROR:
    case R_NO_PTR:
        sb_printf(b, "dns %s (rcode %u)%s from %s", rcode_name(t->code), t->code,
                  t->result == R_NO_PTR ? " without a PTR answer" : "",
                  pw_addr_str(&t->server, ip, sizeof ip));
        break;
    case R_NO_CHALLENGE:
        sb_printf(b, "%s", t->code == 1 ? "NTLMSSP CHALLENGE without a computer name"
                                        : "no NTLMSSP CHALLENGE in the answer");
        break;
    case R_NO_NAME: sb_printf(b, "answer without a node status name"); break;
    case R_NO_CERTIFICATE:
        sb_printf(b, "%s", t->code == 1   ? "standard RDP security selected (no TLS)"
                           : t->code == 2 ? "certificate without a name"
                                          : "no server certificate seen");
        break;
    default:
        sb_printf(b, "%s", pw_reason_name(t->reason));
        if (t->has_icmp_from)
            sb_printf(b, " from %s", pw_addr_str(&t->icmp_from, ip, sizeof ip));
        if (t->outcome == PW_OUT_UNANSWERED)
            sb_printf(b, " after %u %s", t->retries + 1, t->retries ? "tries" : "try");
        if (method == M_RDNS)
            sb_printf(b, " (dns server %s)", pw_addr_str(&t->server, ip, sizeof ip));
        break;
    }
}

static json_t *jstr_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *try_json(int method, const nnr_try *t, const pw_sources *srcs)
{
    json_t *frames = json_array();
    for (int i = 0; i < t->nframes; i++)
        json_array_append_new(frames, json_integer((json_int_t)t->frames[i]));
    sbuf d = {0};
    try_detail(&d, method, t);
    json_t *o = json_object();
    json_object_set_new(o, "outcome", json_string(pw_outcome_name(t->outcome)));
    json_object_set_new(o, "result", json_string(result_name[t->result]));
    json_object_set_new(o, "detail", json_string(sb_str(&d)));
    json_object_set_new(o, "name", jstr_or_null(t->name));
    json_object_set_new(o, "frames", frames);
    json_object_set_new(o, "file", json_string(pw_source_name(srcs, t->source)));
    if (method == M_RDNS) {
        char ip[PW_ADDR_STRLEN];
        json_object_set_new(o, "server", json_string(pw_addr_str(&t->server, ip, sizeof ip)));
    }
    free(d.s);
    return o;
}

static int cmp_pair(const void *a, const void *b)
{
    const nnr_pair *x = *(const nnr_pair *const *)a, *y = *(const nnr_pair *const *)b;
    int c = pw_addr_cmp(&x->k.sensor, &y->k.sensor);
    return c ? c : pw_addr_cmp(&x->k.target, &y->k.target);
}

static int cmp_addr(const void *a, const void *b)
{
    return pw_addr_cmp((const pw_addr *)a, (const pw_addr *)b);
}

typedef struct mstat {
    unsigned attempted, resolved, app_failed;
    unsigned out[PW_OUT_COUNT];
} mstat;

static json_t *rate_json(unsigned num, unsigned den)
{
    return den ? json_real((double)num / (double)den) : json_null();
}

/* Cause hints for the remediation, once per cause present. */
static const char *cause_hint(int method, uint8_t result)
{
    switch (result) {
    case R_REFUSED:
        return method == M_NETBIOS
                   ? "Refused: the target itself rejected UDP 137 (NetBIOS over TCP/IP disabled, or its host firewall rejects it)."
                   : method == M_RDNS
                         ? "Refused: the DNS server rejected the connection on port 53."
                         : "Refused: the target reset the connection (nothing listens on the port, or its host firewall rejects it).";
    case R_BLOCKED:
        return "Blocked: a firewall or router ACL answered with an ICMP error instead of forwarding the traffic; allow the port from the sensor on that device.";
    case R_NO_RESPONSE:
        return "No response: the traffic was dropped silently (a firewall that drops rather than rejects) or the target is offline.";
    case R_INDETERMINATE:
        return "Indeterminate: the capture does not show the return path (one-sided span or capture ended); capture on the sensor itself to decide.";
    case R_BIND_NAK:
        return "bind_nak: the target's RPC endpoint mapper rejected the NTLM-authenticated bind (check RPC and NTLM restrictions on the target).";
    case R_NO_CHALLENGE:
        return "No NTLM CHALLENGE came back: the target accepted the connection but did not offer NTLM authentication on the endpoint mapper (NTLM may be restricted).";
    case R_NBNS_NEGATIVE:
        return "Negative NBNS response: the target answered but refused to return its name table.";
    case R_NO_NAME:
        return "The NBNS answer carried no computer name.";
    case R_RDP_NEG_FAILURE:
        return "RDP negotiation failure: the target refused the security protocol the sensor asked for (check the RDP security layer setting; TLS must be allowed).";
    case R_TLS13_HIDDEN:
        return "TLS 1.3: the certificate is encrypted, so the capture cannot show the name; this is not a firewall problem and the sensor may still have resolved it.";
    case R_NO_CERTIFICATE:
        return "No certificate: the target did not use TLS (standard RDP security) or the certificate was not in the capture.";
    case R_NXDOMAIN:
        return "NXDOMAIN: the DNS server has no PTR record: create the reverse lookup zone (in-addr.arpa / ip6.arpa) and let hosts register their PTR records.";
    case R_SERVFAIL:
        return "SERVFAIL: the DNS server could not resolve the reverse zone (broken delegation or forwarder).";
    case R_DNS_REFUSED:
        return "REFUSED: the DNS server refuses reverse lookups from the sensor: allow queries (and recursion) from it.";
    case R_DNS_ERROR:
        return "The DNS server answered with an error code.";
    case R_NO_PTR:
        return "The DNS server answered without a PTR record.";
    default:
        return NULL;
    }
}

static void remediation(sbuf *b, const pw_nnr *n, int method, const char *sensor,
                        nnr_pair **pv, size_t first, size_t last, const mstat *st,
                        const pw_hosts *hosts)
{
    char ip[PW_ADDR_STRLEN];
    switch (method) {
    case M_NETBIOS:
    case M_NTLM_RPC:
    case M_RDP: {
        const char *port = method == M_NETBIOS ? "UDP port 137" : method == M_NTLM_RPC ? "TCP port 135" : "TCP port 3389";
        sb_printf(b,
                  "%s name resolution uses %s. Check that %s is open for inbound communication "
                  "from sensor %s on the target machines (their host firewalls) and check all "
                  "network configurations (such as firewalls and router ACLs between the sensor "
                  "and the targets) that could prevent communication to %s.",
                  method_title[method], port, port, sensor, port);
        break;
    }
    default: {
        /* the DNS servers the sensor used */
        pw_addr servers[8];
        int ns = 0;
        for (size_t i = first; i < last; i++) {
            const nnr_try *t = &pv[i]->m[M_RDNS].best;
            if (!pv[i]->m[M_RDNS].tried)
                continue;
            bool seen = false;
            for (int k = 0; k < ns && !seen; k++)
                seen = pw_addr_eq(&servers[k], &t->server);
            if (!seen && ns < 8)
                servers[ns++] = t->server;
        }
        sb_printf(b,
                  "Reverse DNS sends PTR queries to the DNS servers on UDP/TCP port 53 (outbound "
                  "from the sensor). Check that sensor %s can reach the DNS server%s", sensor,
                  ns > 1 ? "s" : "");
        qsort(servers, (size_t)ns, sizeof servers[0], cmp_addr);
        for (int k = 0; k < ns; k++)
            sb_printf(b, "%s%s", k == 0 ? " (" : ", ", pw_addr_str(&servers[k], ip, sizeof ip));
        sb_printf(b, "%s and that reverse lookup is enabled (reverse lookup zones with PTR records for the addresses below).",
                  ns ? ")" : "");
        break;
    }
    }
    unsigned failed = st->attempted - st->resolved;
    sb_printf(b, " Failed targets (%u of %u):", failed, st->attempted);
    int max = n->cfg.max_evidence > 0 ? n->cfg.max_evidence : 10;
    int listed = 0;
    bool causes[R_COUNT] = {false};
    pw_addr blockers[8];
    int nblk = 0;
    for (size_t i = first; i < last; i++) {
        const nnr_pair *p = pv[i];
        if (!p->m[method].tried)
            continue;
        const nnr_try *t = &p->m[method].best;
        if (t->result == R_RESOLVED)
            continue;
        causes[t->result] = true;
        if (t->has_icmp_from && t->outcome == PW_OUT_BLOCKED) {
            bool seen = false;
            for (int k = 0; k < nblk && !seen; k++)
                seen = pw_addr_eq(&blockers[k], &t->icmp_from);
            if (!seen && nblk < 8)
                blockers[nblk++] = t->icmp_from;
        }
        if (listed >= max)
            continue;
        sbuf d = {0};
        try_detail(&d, method, t);
        const char *known = pw_hosts_best_name(hosts, &p->k.target);
        sb_printf(b, "%s %s", listed ? "," : "", pw_addr_str(&p->k.target, ip, sizeof ip));
        if (known)
            sb_printf(b, " [%s]", known);
        if (t->outcome == PW_OUT_ANSWERED) /* the detail names the application result */
            sb_printf(b, " (%s)", sb_str(&d));
        else
            sb_printf(b, " (%s: %s)", result_name[t->result], sb_str(&d));
        free(d.s);
        listed++;
    }
    if (failed > (unsigned)listed)
        sb_printf(b, " and %u more", failed - (unsigned)listed);
    sb_printf(b, ".");
    for (int r = 0; r < R_COUNT; r++) {
        if (!causes[r])
            continue;
        const char *h = cause_hint(method, (uint8_t)r);
        if (!h)
            continue;
        sb_printf(b, " %s", h);
        if (r == R_BLOCKED && nblk) {
            qsort(blockers, (size_t)nblk, sizeof blockers[0], cmp_addr);
            sb_printf(b, " ICMP errors came from");
            for (int k = 0; k < nblk; k++)
                sb_printf(b, "%s %s", k ? "," : "", pw_addr_str(&blockers[k], ip, sizeof ip));
            sb_printf(b, ".");
        }
    }
}

static json_t *sensor_json(const pw_nnr *n, const pw_addr *sensor, bool option, nnr_pair **pv,
                           size_t first, size_t last, const pw_hosts *hosts,
                           const pw_sources *srcs)
{
    char sip[PW_ADDR_STRLEN];
    pw_addr_str(sensor, sip, sizeof sip);
    mstat st[M_COUNT];
    memset(st, 0, sizeof st);
    unsigned targets = 0, resolved = 0;
    for (size_t i = first; i < last; i++) {
        const nnr_pair *p = pv[i];
        bool any = false, res = false;
        for (int m = 0; m < M_COUNT; m++) {
            if (!p->m[m].tried)
                continue;
            any = true;
            const nnr_try *t = &p->m[m].best;
            st[m].attempted++;
            if ((unsigned)t->outcome < PW_OUT_COUNT)
                st[m].out[t->outcome]++;
            if (t->result == R_RESOLVED) {
                st[m].resolved++;
                res = true;
            } else if (t->outcome == PW_OUT_ANSWERED) {
                st[m].app_failed++;
            }
        }
        targets += any;
        resolved += res;
    }
    json_t *methods = json_object();
    json_t *alerts = json_array();
    for (int m = 0; m < M_COUNT; m++) {
        const mstat *s = &st[m];
        json_object_set_new(
            methods, method_key[m],
            json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o}", "attempted", s->attempted,
                      "resolved", s->resolved, "answered", s->out[PW_OUT_ANSWERED], "refused",
                      s->out[PW_OUT_REFUSED], "blocked", s->out[PW_OUT_BLOCKED], "unanswered",
                      s->out[PW_OUT_UNANSWERED], "indeterminate", s->out[PW_OUT_INDETERMINATE],
                      "app_failed", s->app_failed, "rate", rate_json(s->resolved, s->attempted)));
        if (s->attempted == 0)
            continue;
        unsigned failed = s->attempted - s->resolved;
        double fail_share = (double)failed / (double)s->attempted;
        if (!(fail_share > n->cfg.nnr_alert_threshold))
            continue;
        sbuf msg = {0}, rem = {0};
        sb_printf(&msg,
                  "Low success rate of %s name resolution from sensor %s: %u of %u targets "
                  "resolved (%.0f%% failed)",
                  method_title[m], sip, s->resolved, s->attempted, fail_share * 100.0);
        remediation(&rem, n, m, sip, pv, first, last, s, hosts);
        /* "examples": the frame numbers (as the schema has them);
         * "evidence": the same frames with their file, target and result. */
        json_t *examples = json_array(), *evidence = json_array();
        int max = n->cfg.max_evidence > 0 ? n->cfg.max_evidence : 10;
        int shown = 0;
        for (size_t i = first; i < last && shown < max; i++) {
            const nnr_pair *p = pv[i];
            if (!p->m[m].tried || p->m[m].best.result == R_RESOLVED)
                continue;
            const nnr_try *t = &p->m[m].best;
            char tip[PW_ADDR_STRLEN];
            for (int k = 0; k < t->nframes; k++) {
                json_array_append_new(examples, json_integer((json_int_t)t->frames[k]));
                json_array_append_new(
                    evidence,
                    json_pack("{s:s, s:I, s:s, s:s}", "file", pw_source_name(srcs, t->source),
                              "frame", (json_int_t)t->frames[k], "target",
                              pw_addr_str(&p->k.target, tip, sizeof tip), "result",
                              result_name[t->result]));
            }
            shown++;
        }
        json_array_append_new(alerts,
                              json_pack("{s:s, s:o, s:s, s:s, s:o, s:o}", "method", method_key[m],
                                        "rate", rate_json(s->resolved, s->attempted), "message",
                                        sb_str(&msg), "remediation", sb_str(&rem), "examples",
                                        examples, "evidence", evidence));
        free(msg.s);
        free(rem.s);
    }
    return json_pack("{s:s, s:s, s:i, s:i, s:o, s:o, s:o}", "sensor", sip, "found_by",
                     option ? "option" : "inferred", "targets", targets, "resolved", resolved,
                     "rate", rate_json(resolved, targets), "methods", methods, "alerts", alerts);
}

static json_t *target_json(const nnr_pair *p, const pw_sources *srcs)
{
    char sip[PW_ADDR_STRLEN], tip[PW_ADDR_STRLEN];
    const char *name = NULL;
    for (int i = 0; i < M_COUNT && !name; i++) {
        int m = name_order[i];
        if (p->m[m].tried && p->m[m].best.result == R_RESOLVED)
            name = p->m[m].best.name;
    }
    json_t *methods = json_object();
    for (int m = 0; m < M_COUNT; m++)
        if (p->m[m].tried)
            json_object_set_new(methods, method_key[m], try_json(m, &p->m[m].best, srcs));
    return json_pack("{s:s, s:s, s:o, s:o}", "sensor", pw_addr_str(&p->k.sensor, sip, sizeof sip),
                     "target", pw_addr_str(&p->k.target, tip, sizeof tip), "name",
                     jstr_or_null(name), "methods", methods);
}

json_t *pw_nnr_json(pw_nnr *n, const pw_hosts *hosts, const pw_sources *srcs)
{
    json_t *sensors = json_array(), *targets = json_array();
    json_t *root = json_pack("{s:o, s:o}", "sensors", sensors, "targets", targets);
    if (!n || !root)
        return root;
    /* Everything still open is final now. */
    while (n->flows)
        fold_and_drop(n, n->flows);

    size_t np = n->n_pairs;
    nnr_pair **pv = np ? malloc(np * sizeof *pv) : NULL;
    if (np && !pv)
        return root;
    size_t k = 0;
    for (nnr_pair *p = n->pairs; p; p = p->hh.next)
        pv[k++] = p;
    if (np)
        qsort(pv, np, sizeof *pv, cmp_pair);

    /* The sensors. */
    bool option = n->cfg.n_sensors > 0;
    size_t cap = np + PW_MAX_SENSORS + 1, ns = 0;
    pw_addr *sv = malloc(cap * sizeof *sv);
    if (!sv) {
        free(pv);
        return root;
    }
    if (option) {
        for (int i = 0; i < n->cfg.n_sensors && i < PW_MAX_SENSORS; i++) {
            const pw_cidr *c = &n->cfg.sensors[i];
            if ((c->net.family == 4 && c->prefix == 32) || (c->net.family == 6 && c->prefix == 128))
                sv[ns++] = c->net;
        }
    }
    for (size_t i = 0; i < np;) {
        size_t j = i;
        unsigned shaped_targets = 0;
        while (j < np && pw_addr_eq(&pv[j]->k.sensor, &pv[i]->k.sensor)) {
            bool shaped = false;
            for (int m = 0; m < M_COUNT; m++)
                shaped |= pv[j]->m[m].shaped;
            shaped_targets += shaped;
            j++;
        }
        if (option ? is_sensor_candidate(n, &pv[i]->k.sensor)
                   : shaped_targets >= PW_NNR_INFER_MIN_TARGETS)
            sv[ns++] = pv[i]->k.sensor;
        i = j;
    }
    qsort(sv, ns, sizeof *sv, cmp_addr);

    size_t pi = 0;
    for (size_t s = 0; s < ns; s++) {
        if (s > 0 && pw_addr_eq(&sv[s], &sv[s - 1]))
            continue;
        while (pi < np && pw_addr_cmp(&pv[pi]->k.sensor, &sv[s]) < 0)
            pi++;
        size_t last = pi;
        while (last < np && pw_addr_eq(&pv[last]->k.sensor, &sv[s]))
            last++;
        json_array_append_new(sensors, sensor_json(n, &sv[s], option, pv, pi, last, hosts, srcs));
        for (size_t i = pi; i < last; i++)
            json_array_append_new(targets, target_json(pv[i], srcs));
        pi = last;
    }
    free(sv);
    free(pv);
    return root;
}

void pw_nnr_free(pw_nnr *n)
{
    if (!n)
        return;
    nnr_flow *f, *ft;
    HASH_ITER(hh, n->flows, f, ft) {
        HASH_DEL(n->flows, f);
        free_flow(f);
    }
    nnr_pair *p, *pt;
    HASH_ITER(hh, n->pairs, p, pt) {
        HASH_DEL(n->pairs, p);
        for (int m = 0; m < M_COUNT; m++)
            free(p->m[m].best.name);
        free(p);
    }
    free(n);
}
