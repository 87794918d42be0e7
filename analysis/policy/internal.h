/* policy/internal.h - the state of the policy engine, shared by the files of
 * analysis/policy/ (one job each: load.c, match.c, roles.c, verdict.c,
 * cloud.c).  Private to analysis/policy/.
 *
 * Port policies: profiles, roles (bound or inferred) and a verdict
 * per rule with evidence (issue 4).
 *
 * While the capture is read, attempts are folded into small aggregates, one
 * per client, server, transport, port and "handed out by the endpoint
 * mapper" flag, kept only for ports some loaded rule or inference looks at.
 * Memory is bounded, whatever the capture length: at most
 * PW_POLICY_MAX_PAIRS such pair aggregates are kept (policy_internal.h);
 * attempts of further pairs are folded into one aggregate per (server,
 * transport, port, flag), at most PW_POLICY_MAX_SERVERS of them, and beyond
 * that into one per (transport, port, flag).  A folded aggregate stands for
 * its clients (and servers) by the first one seen: its counts feed the
 * rule's counts and verdict exactly (a rule is partial when some of its
 * pairs pass and others fail, which a folded aggregate holding both answered
 * and failed attempts also yields), but per-client detail is lost, so a rule
 * that matched folded attempts carries "truncated": true and
 * counts.folded (the attempts folded).  Each aggregate keeps at most
 * max_evidence answered and failed samples, within a global budget of
 * PW_POLICY_MAX_SAMPLES; each rule reports the max_evidence best (failures
 * first, then by frame).  Flows that ask for a watched name (TLS SNI, HTTP
 * CONNECT, DNS answers) are tracked as "cloud flows" for the name-based
 * rules of the sensor profile (at most PW_POLICY_MAX_FLOWS, as are
 * endpoint-mapper grants, DNS answers and proxies).  Roles, profile choice
 * and verdicts are decided once, in pw_policy_result(), when the whole
 * capture has been seen. */
#ifndef PW_POLICY_STATE_H
#define PW_POLICY_STATE_H

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../common/table.h"
#include <utlist.h>

#include "../conn.h"
#include "../policy.h"
#include "../policy_internal.h"


/* ---- state ------------------------------------------------------------------ */

typedef struct sample {
    uint64_t frame, frame_reply, epm_frame;
    pw_usec ts;
    uint32_t source;
    pw_addr client, server; /* a folded aggregate holds several */
    uint8_t outcome, reason;
    pw_responder_ev resp;   /* refused / blocked: who sent the refusal */
} sample;

enum { LV_PAIR = 0, LV_SERVER, LV_PORT, LV_COUNT };

typedef struct agg_key {
    pw_addr client, server; /* client zero from LV_SERVER, server zero at LV_PORT */
    uint16_t port;
    uint8_t proto;
    uint8_t dyn;   /* the port was announced: an_by (1 endpoint mapper, 2 SQL Browser) */
    uint8_t level; /* LV_* */
} agg_key;

typedef struct agg {
    agg_key k;
    uint16_t n_ok, n_bad, cap_ok, cap_bad; /* arrays grow on demand: most pairs see one attempt */
    uint64_t counts[PW_OUT_COUNT];
    sample first;       /* earliest attempt; stands for the clients / servers of a folded aggregate */
    sample *ok, *bad;   /* up to max_evidence answered / not answered samples */
    pw_res_app *app;    /* what the application answered on these attempts; NULL: nothing */
} agg;

/* The client and server an aggregate stands for. */
static inline const pw_addr *ag_client(const agg *g) { return g->k.level != LV_PAIR ? &g->first.client : &g->k.client; }
static inline const pw_addr *ag_server(const agg *g) { return g->k.level == LV_PORT ? &g->first.server : &g->k.server; }
static inline uint64_t ag_total(const agg *g)
{
    uint64_t t = 0;
    for (int i = 0; i < PW_OUT_COUNT; i++)
        t += g->counts[i];
    return t;
}

/* Who announced a port a client then connects to. */
enum { AN_EPM = 1, AN_SSRP = 2 };

/* An announced port: the endpoint mapper's tower (tcp/135) or a SQL Server
 * Browser instance record (udp/1434) gave this client this target's port. */
typedef struct epm_key {
    pw_addr client, target;
    uint16_t port;
    uint8_t proto;
} epm_key;

typedef struct epm_ent {
    epm_key k;
    pw_usec ts;
    uint64_t frame;
    uint32_t source;
    uint8_t by;         /* AN_* */
    bool used;          /* an attempt followed it */
    char instance[33];  /* AN_SSRP: the instance announced */
    UT_hash_handle hh;
} epm_ent;

typedef struct flow_key {
    pw_addr client, server;
    uint16_t cport, sport;
    uint8_t proto;
} flow_key;

typedef struct pw_policy_slot {
    flow_key k;
    uint32_t source;
    pw_usec ts;
    uint64_t frame;              /* first frame we know of (the SYN when seen) */
    uint64_t name_frame;         /* frame of the ClientHello / CONNECT that named the service */
    char sni[PW_NAME_MAX];
    char dns_name[PW_NAME_MAX];
    bool is_connect;
    char connect_host[PW_NAME_MAX];
    uint16_t connect_port;
    uint16_t status;
    uint64_t status_frame;
    bool client_hello, server_hello, cert, alert;
    uint64_t sh_frame, cert_frame, alert_frame;
    uint8_t alert_desc;
    char issuer[PW_NAME_MAX];
    bool has_attempt;
    uint8_t tcp_out, tcp_reason;
    uint64_t att_frame, att_reply;
    struct pw_policy_slot *next; /* the list of finished cloud connections */
} cflow;

typedef struct dns_key {
    pw_addr client, ip;
} dns_key;

typedef struct dns_ent {
    dns_key k;
    char name[PW_NAME_MAX];
    UT_hash_handle hh;
} dns_ent;

typedef struct proxy_ent {
    flow_key k;   /* server + sport identify the proxy (client and cport zero) */
    pw_addr first_client;
    uint32_t source;
    uint64_t frame;
    char host[PW_NAME_MAX];
    uint64_t connects;
    UT_hash_handle hh;
} proxy_ent;

typedef enum { AS_BOUND = 0, AS_INFERRED, AS_BY_RULE } as_kind;

typedef struct assign {
    char role[64];
    pw_cidr cidr;
    as_kind kind;
    pw_msg why;
} assign;

typedef struct as_key {
    char role[64];
    pw_addr ip;
    int prefix;
} as_key;

typedef struct as_idx {
    as_key k;
    int i;              /* index into pw_policy.as */
    UT_hash_handle hh;
} as_idx;

typedef struct role_cnt {
    char role[64];
    int holders;        /* bound + inferred (not by-rule) */
    int bound;
} role_cnt;

typedef struct svc_key {
    pw_addr server;
    uint16_t port;
    uint8_t proto;
} svc_key;

/* The (server, proto, port) keys that answered, for inference: an open
 * addressing set made once per result from every aggregate (proto 0 marks
 * an empty slot). */
typedef struct answered_set {
    svc_key *keys;
    size_t mask;
} answered_set;

typedef struct loaded {
    pw_profile_def *def;
    bool explicit_;  /* named with --profile */
    bool active;
    pw_res_detect_hit hits[PW_RES_DETECT_MAX]; /* why it was chosen from the traffic */
    int n_hits;
} loaded;


struct pw_policy {
    pw_config cfg;
    loaded prof[PW_MAX_PROFILES * 2];
    int n_prof;
    bool auto_choose;
    uint8_t relevant[2][65536 / 8];  /* [tcp, udp] ports to keep aggregates for */
    char patterns[64][128];          /* names watched (SNI / CONNECT / DNS) */
    int n_patterns;
    epm_ent *epm;
    cflow *cflows;
    dns_ent *dns;
    proxy_ent *proxies;
    assign *as;
    int n_as, cap_as;
    as_idx *as_hash;                 /* (role, ip, prefix) -> as[] */
    int *cidr_idx;                   /* as[] entries that are real CIDRs (bound) */
    int n_cidr, cap_cidr;
    role_cnt rc[256];
    int n_rc;
    answered_set answered;           /* (server, proto, port) that answered, for inference */
    uint64_t ntlm_rpc;               /* DCE/RPC binds to tcp/135 carrying NTLMSSP */
    uint32_t ntlm_rpc_source;
    uint64_t ntlm_rpc_frame;
    pw_policy_limits lim;
    size_t n_cflows, n_cflows_open, n_epm, n_dns, n_proxies;
    uint64_t events_dropped;
    /* The aggregates: pw_policy_count() alone writes these lines, maybe on
     * another thread than the events (policy.h), so they share no cache
     * line with what the events and the removal hook touch. */
    alignas(64) agg **agv;           /* aggregates, in the order they were made */
    size_t n_agv, cap_agv;
    agg **agg_chunks;                /* their storage: AGG_CHUNK at a time, in that order */
    size_t n_agg_chunks;
    struct aslot { uint32_t h; agg *g; } *slots; /* open addressing over agv; NULL g = empty */
    size_t slot_mask;
    /* Per level but the last, one bit per key hash (low PRESENT_BITS bits)
     * set for each aggregate it holds (match.c: a full level's clear bit
     * proves a key absent without probing the slots). */
    uint64_t *present[LV_COUNT - 1];
    size_t n_level[LV_COUNT];        /* aggregates per level */
    size_t n_samples, n_samples_ok;                /* sample slots allocated */
    uint64_t folded, samples_dropped;
};


/* Walks the aggregates in the order they were made. */
#define FOR_AGG(p, g) for (size_t g##_i = 0; g##_i < (p)->n_agv && ((g) = (p)->agv[g##_i]) != NULL; g##_i++)


static inline int pidx(uint8_t proto) { return proto == 17 ? 1 : 0; }
static inline void set_rel(pw_policy *p, uint8_t proto, uint16_t port)
{
    p->relevant[pidx(proto)][port >> 3] |= (uint8_t)(1u << (port & 7));
}
static inline bool is_rel(const pw_policy *p, uint8_t proto, uint16_t port)
{
    return (proto == 6 || proto == 17) && (p->relevant[pidx(proto)][port >> 3] >> (port & 7)) & 1;
}

static inline int full_prefix(const pw_addr *a) { return a->family == 6 ? 128 : 32; }



static inline const char *cflow_name(const cflow *f)
{
    return f->connect_host[0] ? f->connect_host : f->sni[0] ? f->sni : f->dns_name;
}


/* roles.c */
void clear_assigns(pw_policy *p);
void choose_profiles(pw_policy *p);
void build_answered(pw_policy *p);
void decide_roles(pw_policy *p);
bool side_ok(const pw_policy *p, const pw_profile_def *d, const char *role, const pw_addr *ip,
             const pw_rule_def *r, bool server, bool *inferred, bool *by_rule);
void by_rule_assign(pw_policy *p, const char *role, const pw_addr *ip, const pw_rule_def *r,
                    bool server);
/* Sorts the assignments into r->roles (by role, how, address); nothing may
 * look roles up afterwards (the index breaks). */
void roles_result(pw_policy *p, pw_result *r);

/* cloud.c */
pw_outcome cflow_outcome(const cflow *f, const char **reason, const char **failure);
bool cflow_matches(const pw_rule_def *r, const cflow *f);
bool issuer_expected(const pw_rule_def *r, const char *issuer);
void sensor_cloud(pw_policy *p, pw_result *r);

#endif
