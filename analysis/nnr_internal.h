/* nnr_internal.h - the records of nnr.c (intake: events and attempts folded
 * into per-target tries) that nnr_result.c (rates, alerts, the report)
 * reads.  Private to analysis/. */
#ifndef PW_NNR_INTERNAL_H
#define PW_NNR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/table.h"
#include "nnr.h"

#define PW_NNR_INFER_MIN_TARGETS 3
/* (sensor, target) summaries kept; tries of further pairs are counted as
 * dropped (stats.caps.nnr_pairs).  About 0.5 KiB each. */
#define PW_NNR_MAX_PAIRS (1u << 16)
#define PW_NNR_MAX_QUERIES 4
#define PW_NNR_MAX_FRAMES 4

/* The method and result codes are those of the result (result.h). */
enum {
    M_NTLM_RPC = PW_NNR_NTLM_RPC, M_NETBIOS = PW_NNR_NETBIOS, M_RDP = PW_NNR_RDP,
    M_RDNS = PW_NNR_REVERSE_DNS, M_COUNT = PW_NNR_METHOD_COUNT
};

enum {
    R_NONE = PW_NNR_R_NONE,
    R_RESOLVED = PW_NNR_R_RESOLVED,
    /* answered, application failure */
    R_BIND_NAK = PW_NNR_R_BIND_NAK, R_NBNS_NEGATIVE = PW_NNR_R_NBNS_NEGATIVE,
    R_RDP_NEG_FAILURE = PW_NNR_R_RDP_NEG_FAILURE, R_TLS13_HIDDEN = PW_NNR_R_TLS13_HIDDEN,
    R_NXDOMAIN = PW_NNR_R_NXDOMAIN, R_SERVFAIL = PW_NNR_R_SERVFAIL,
    R_DNS_REFUSED = PW_NNR_R_DNS_REFUSED, R_DNS_ERROR = PW_NNR_R_DNS_ERROR,
    /* answered, no name */
    R_NO_CHALLENGE = PW_NNR_R_NO_CHALLENGE, R_NO_NAME = PW_NNR_R_NO_NAME,
    R_NO_CERTIFICATE = PW_NNR_R_NO_CERTIFICATE, R_NO_PTR = PW_NNR_R_NO_PTR,
    /* transport only */
    R_REFUSED = PW_NNR_R_REFUSED, R_BLOCKED = PW_NNR_R_BLOCKED,
    R_NO_RESPONSE = PW_NNR_R_NO_RESPONSE, R_INDETERMINATE = PW_NNR_R_INDETERMINATE,
    R_COUNT = PW_NNR_R_COUNT
};

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
} nnr_pair;

/* The pairs' index: open addressing, the hash beside the pair's position in
 * pairs, so a miss touches no pair. */
typedef struct nnr_pslot {
    uint32_t hash, idx; /* idx UINT32_MAX: empty */
} nnr_pslot;

struct pw_nnr {
    pw_config cfg;
    size_t slots; /* NNR slots on live connection records */
    nnr_pair **pairs; /* in the order they were made */
    size_t n_pairs, cap_pairs;
    nnr_pslot *pslots;
    uint32_t pmask;
    uint64_t dropped;
};

/* nnr.c */
bool is_sensor_candidate(const pw_nnr *n, const pw_addr *a);

#endif
