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
 * What a connection teaches NNR lives in a slot on the core's connection
 * record (conn.h): the events of the flow, whenever they arrive, and the
 * attempt.  The record's removal hook (pw_nnr_conn_removed) folds both into
 * the (sensor, target, method) summary once, when nothing more can arrive.
 * Summaries are capped (PW_NNR_MAX_PAIRS, further pairs counted as dropped).
 *
 * Sensors: --sensor IP[/CIDR] (found_by "option"; a single address is listed
 * even when it sent nothing).  Without --sensor they are inferred: a host is
 * a sensor when it sent NNR-shaped requests (NBSTAT query, RPC bind with
 * NTLMSSP to 135, X.224 CR to 3389, PTR query) to at least
 * PW_NNR_INFER_MIN_TARGETS (3) distinct targets.  Three, because a real
 * sensor resolves every new address it sees (dozens to thousands a day),
 * while an ordinary workstation at most looks up one or two peers.
 *
 * Rates, alerts and the report: nnr_result.c. */
#include "nnr.h"
#include "../common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnr_internal.h"
#include "nnr_util.h"

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

pw_nnr *pw_nnr_new(const pw_config *cfg)
{
    pw_nnr *n = pw_xcalloc(1, sizeof *n);
    if (cfg)
        n->cfg = *cfg;
    else
        pw_config_defaults(&n->cfg);
    return n;
}

bool is_sensor_candidate(const pw_nnr *n, const pw_addr *a)
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

static uint32_t pair_hash(const pw_addr *sensor, const pw_addr *target)
{
    uint64_t h = pw_addr_hash(sensor) * 0x9e3779b97f4a7c15ull ^ pw_addr_hash(target);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return (uint32_t)(h ^ (h >> 32));
}

static void pslot_put(nnr_pslot *slots, uint32_t mask, uint32_t h, uint32_t idx)
{
    uint32_t i = h & mask;
    while (slots[i].idx != UINT32_MAX)
        i = (i + 1) & mask;
    slots[i] = (nnr_pslot){h, idx};
}

/* Room for one more pair: the vector and (load at most 1/2) the index. */
static void pairs_grow(pw_nnr *n)
{
    if (n->n_pairs == n->cap_pairs) {
        n->cap_pairs = n->cap_pairs ? n->cap_pairs * 2 : 64;
        n->pairs = pw_xrealloc(n->pairs, n->cap_pairs, sizeof *n->pairs);
    }
    if (n->pslots && (n->n_pairs + 1) * 2 <= (size_t)n->pmask + 1)
        return;
    uint32_t size = n->pslots ? (n->pmask + 1) * 2 : 256;
    nnr_pslot *s = pw_xmalloc(size * sizeof *s);
    memset(s, 0xff, size * sizeof *s);
    for (size_t i = 0; i < n->n_pairs; i++)
        pslot_put(s, size - 1, pair_hash(&n->pairs[i]->k.sensor, &n->pairs[i]->k.target), (uint32_t)i);
    free(n->pslots);
    n->pslots = s;
    n->pmask = size - 1;
}

static nnr_pair *get_pair(pw_nnr *n, const pw_addr *sensor, const pw_addr *target)
{
    uint32_t h = pair_hash(sensor, target);
    for (uint32_t i = h & n->pmask; n->pslots && n->pslots[i].idx != UINT32_MAX; i = (i + 1) & n->pmask) {
        if (n->pslots[i].hash != h)
            continue;
        nnr_pair *p = n->pairs[n->pslots[i].idx];
        if (pw_addr_eq(&p->k.sensor, sensor) && pw_addr_eq(&p->k.target, target))
            return p;
    }
    if (n->n_pairs >= PW_NNR_MAX_PAIRS) {
        n->dropped++;
        return NULL;
    }
    pairs_grow(n);
    nnr_pair *p = pw_xcalloc(1, sizeof *p);
    p->k.sensor = *sensor;
    p->k.target = *target;
    pslot_put(n->pslots, n->pmask, h, (uint32_t)n->n_pairs);
    n->pairs[n->n_pairs++] = p;
    return p;
}

static int attempt_method(const pw_nnr *n, const pw_attempt *a);

void pw_nnr_prefetch(const pw_nnr *n, const pw_attempt *a)
{
    if (n && n->pslots && attempt_method(n, a) >= 0)
        __builtin_prefetch(&n->pslots[pair_hash(&a->client, &a->server) & n->pmask]);
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

/* NNR's state on a connection record, made when an event makes the
 * connection NNR-relevant.  side[0] is the try whose requester is the
 * record's client, side[1] the one whose requester is its server: NBNS runs
 * 137 <-> 137, so a response whose query was not captured makes the core's
 * record point the other way. */
typedef struct pw_nnr_slot {
    uint8_t used; /* bit per side */
    nnr_flow side[2];
} pw_nnr_slot;

/* The try an event belongs to; requester/responder as given. */
static nnr_flow *event_flow(pw_nnr *n, pw_conn *c, const pw_event *ev, int method, const pw_addr *req,
                            uint16_t req_port, const pw_addr *resp, uint16_t resp_port)
{
    if (!c || !is_sensor_candidate(n, req) || pw_addr_is_group(resp) || pw_addr_eq(req, resp))
        return NULL;
    if (!c->nnr) {
        c->nnr = pw_xcalloc(1, sizeof *c->nnr);
        n->slots++;
    }
    int side = pw_addr_eq(req, &c->a.client) && req_port == c->a.client_port ? 0 : 1;
    nnr_flow *f = &c->nnr->side[side];
    if (!(c->nnr->used & (1u << side))) {
        c->nnr->used |= (uint8_t)(1u << side);
        make_key(&f->k, ev->source, ev->flow.proto, req, req_port, resp, resp_port);
        f->method = (uint8_t)method;
    }
    if (!f->first_frame || ev->frame < f->first_frame)
        f->first_frame = ev->frame;
    return f;
}

static void on_nbns(pw_nnr *n, pw_conn *c, const pw_event *ev)
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
        nnr_flow *r = event_flow(n, c, ev, M_NETBIOS, resp, rsp, req, rqp);
        if (r && !r->shaped)
            r->unshaped = true;
    }
    if (rsp != 137)
        return;
    nnr_flow *f = event_flow(n, c, ev, M_NETBIOS, req, rqp, resp, rsp);
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
}

static void on_dns(pw_nnr *n, pw_conn *c, const pw_event *ev)
{
    const pw_ev_dns *m = &ev->u.dns;
    if (!m->reverse || m->qtype != 12 || m->opcode != 0)
        return;
    const pw_addr *req = m->response ? pw_nu_receiver(ev) : pw_nu_sender(ev);
    const pw_addr *resp = m->response ? pw_nu_sender(ev) : pw_nu_receiver(ev);
    uint16_t rqp = m->response ? pw_nu_receiver_port(ev) : pw_nu_sender_port(ev);
    uint16_t rsp = m->response ? pw_nu_sender_port(ev) : pw_nu_receiver_port(ev);
    nnr_flow *f = event_flow(n, c, ev, M_RDNS, req, rqp, resp, rsp);
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

/* ntlm_rpc: a bind with NTLMSSP makes the try; the answer's bind_nak/ack. */
static void on_rpc_dcerpc(nnr_flow *f, const pw_event *ev)
{
    const pw_ev_dcerpc *m = &ev->u.dcerpc;
    if (ev->dir == 0) {
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
}

/* ntlm_rpc: the CHALLENGE names the target. */
static void on_rpc_ntlmssp(nnr_flow *f, const pw_event *ev)
{
    const pw_ev_ntlmssp *m = &ev->u.ntlmssp;
    if (ev->dir == 0) {
        if (m->msg_type == PW_NTLM_NEGOTIATE)
            f->shaped = true;
        return;
    }
    f->resp_seen = true;
    if (m->msg_type != PW_NTLM_CHALLENGE)
        return;
    const char *name = m->nb_computer[0] ? m->nb_computer : m->dns_computer;
    if (name[0])
        set_app(f, R_RESOLVED, 0, name, ev->frame);
    else
        set_app(f, R_NO_CHALLENGE, 1, NULL, ev->frame);
}

/* rdp: the X.224 request makes the try; the confirm may refuse TLS. */
static void on_rdp_x224(nnr_flow *f, const pw_event *ev)
{
    const pw_ev_rdp *m = &ev->u.rdp;
    if (ev->dir == 0) {
        if (m->kind == PW_RDP_CONNECTION_REQUEST)
            f->shaped = true;
        return;
    }
    f->resp_seen = true;
    if (m->kind != PW_RDP_CONNECTION_CONFIRM)
        return;
    if (m->failure)
        set_app(f, R_RDP_NEG_FAILURE, m->failure_code, NULL, ev->frame);
    else if (!m->has_neg || m->selected_protocol == 0)
        set_app(f, R_NO_CERTIFICATE, 1, NULL, ev->frame); /* standard RDP security */
}

/* rdp: the server certificate names the target (hidden by TLS 1.3). */
static void on_rdp_tls(nnr_flow *f, const pw_event *ev)
{
    const pw_ev_tls *m = &ev->u.tls;
    if (ev->dir == 0) {
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
    } else if (m->kind == PW_TLS_CERT_HIDDEN || (m->kind == PW_TLS_SERVER_HELLO && m->version == 0x0304)) {
        set_app(f, R_TLS13_HIDDEN, 0, NULL, ev->frame);
    }
}

/* Events of TCP tries: NTLM over RPC on 135, RDP on 3389. */
static void on_tcp_event(pw_nnr *n, pw_conn *c, const pw_event *ev)
{
    if (ev->flow.proto != 6)
        return;
    int method = ev->flow.server_port == 135 ? M_NTLM_RPC : ev->flow.server_port == 3389 ? M_RDP : -1;
    bool rpc = ev->type == PW_EV_DCERPC || ev->type == PW_EV_NTLMSSP;
    bool rdp = ev->type == PW_EV_RDP || ev->type == PW_EV_TLS;
    if ((method == M_NTLM_RPC && !rpc) || (method == M_RDP && !rdp) || method < 0)
        return;
    nnr_flow *f = event_flow(n, c, ev, method, &ev->flow.client, ev->flow.client_port,
                             &ev->flow.server, ev->flow.server_port);
    if (!f || f->method != method)
        return;
    switch (ev->type) {
    case PW_EV_DCERPC: on_rpc_dcerpc(f, ev); break;
    case PW_EV_NTLMSSP: on_rpc_ntlmssp(f, ev); break;
    case PW_EV_RDP: on_rdp_x224(f, ev); break;
    default: on_rdp_tls(f, ev); break;
    }
}

void pw_nnr_event(pw_nnr *n, pw_conn *c, const pw_event *ev)
{
    if (!n || !ev)
        return;
    switch (ev->type) {
    case PW_EV_NBNS:
        on_nbns(n, c, ev);
        break;
    case PW_EV_DNS:
        on_dns(n, c, ev);
        break;
    case PW_EV_DCERPC:
    case PW_EV_NTLMSSP:
    case PW_EV_RDP:
    case PW_EV_TLS:
        on_tcp_event(n, c, ev);
        break;
    default:
        break;
    }
}

/* The NNR method a connection's server port stands for, or -1. */
static int method_of_port(uint8_t proto, uint16_t port)
{
    if (proto == 6 && port == 135)
        return M_NTLM_RPC;
    if (proto == 17 && port == 137)
        return M_NETBIOS;
    if (proto == 6 && port == 3389)
        return M_RDP;
    if (port == 53 && (proto == 6 || proto == 17))
        return M_RDNS;
    return -1;
}

static void attempt_into(nnr_flow *f, const pw_attempt *a)
{
    f->has_attempt = true;
    f->outcome = a->outcome;
    f->reason = a->reason;
    f->retries = a->retries;
    f->has_icmp_from = a->has_icmp_from;
    f->icmp_from = a->icmp_from;
    f->frame_request = a->frame_request;
    f->frame_reply = a->frame_reply;
}

/* The NNR method of an attempt, or -1 when it is none's try. */
static int attempt_method(const pw_nnr *n, const pw_attempt *a)
{
    int method = method_of_port(a->proto, a->port);
    if (method < 0 || !is_sensor_candidate(n, &a->client) || pw_addr_is_group(&a->server))
        return -1;
    return method;
}

/* The core's attempt goes to the try whose requester is its client. */
static void take_attempt(pw_nnr *n, pw_conn *c)
{
    const pw_attempt *a = &c->a;
    int method = attempt_method(n, a);
    if (method < 0)
        return;
    if (!(c->nnr->used & 1u)) {
        if (method == M_RDNS)
            return; /* DNS without a PTR query on it: not NNR */
        pw_event ev = {.source = a->source, .flow = {.proto = a->proto}};
        if (!event_flow(n, c, &ev, method, &a->client, a->client_port, &a->server, a->port))
            return;
    }
    nnr_flow *f = &c->nnr->side[0];
    if (f->method == method)
        attempt_into(f, a);
}

/* A connection no event made NNR-shaped: its attempt alone is the try (most
 * connections; no slot is made for them). */
static void fold_attempt_only(pw_nnr *n, const pw_attempt *a)
{
    int method = attempt_method(n, a);
    if (method < 0 || method == M_RDNS)
        return; /* DNS without a PTR query on it: not NNR */
    nnr_flow f;
    memset(&f, 0, sizeof f);
    make_key(&f.k, a->source, a->proto, &a->client, a->client_port, &a->server, a->port);
    f.method = (uint8_t)method;
    attempt_into(&f, a);
    fold_flow(n, &f);
    free_flow(&f);
}

void pw_nnr_conn_removed(pw_nnr *n, pw_conn *c)
{
    if (!n || !c)
        return;
    bool att = c->attempt_done && c->a.outcome != PW_OUT_PENDING;
    if (!c->nnr) {
        if (att)
            fold_attempt_only(n, &c->a);
        return;
    }
    if (att)
        take_attempt(n, c);
    for (int side = 0; side < 2; side++)
        if (c->nnr->used & (1u << side)) {
            fold_flow(n, &c->nnr->side[side]);
            free_flow(&c->nnr->side[side]);
        }
    free(c->nnr);
    c->nnr = NULL;
    n->slots--;
}

void pw_nnr_caps(const pw_nnr *n, uint64_t *pairs, uint64_t *max, uint64_t *dropped)
{
    *pairs = n->n_pairs;
    *max = PW_NNR_MAX_PAIRS;
    *dropped = n->dropped;
}

void pw_nnr_free(pw_nnr *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n_pairs; i++) {
        for (int m = 0; m < M_COUNT; m++)
            free(n->pairs[i]->m[m].best.name);
        free(n->pairs[i]);
    }
    free(n->pairs);
    free(n->pslots);
    free(n);
}
