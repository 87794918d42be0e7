/* attempt.h - one connection attempt and its outcome: the record the core
 * produces and everything above it (services, NNR, policy, reports) uses. */
#ifndef PW_ATTEMPT_H
#define PW_ATTEMPT_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/addr.h"
#include "../common/pwtime.h"

typedef enum pw_outcome {
    PW_OUT_PENDING = 0,   /* internal: still waiting (never reported) */
    PW_OUT_ANSWERED,
    PW_OUT_REFUSED,
    PW_OUT_BLOCKED,
    PW_OUT_UNANSWERED,
    PW_OUT_INDETERMINATE,
    PW_OUT_COUNT
} pw_outcome;

typedef enum pw_reason {
    PW_R_NONE = 0,
    PW_R_SYN_ACK,
    PW_R_INFERRED,
    PW_R_RST,
    PW_R_ICMP_PORT_UNREACHABLE,
    PW_R_ICMP_ADMIN_PROHIBITED,
    PW_R_ICMP_HOST_UNREACHABLE,
    PW_R_ICMP_NET_UNREACHABLE,
    PW_R_ICMP_OTHER,
    PW_R_TIMEOUT,
    PW_R_UDP_REPLY,
    PW_R_ONE_SIDED,
    PW_R_CAPTURE_ENDED,
    PW_R_MIDSTREAM,           /* first seen mid-stream, and the server side sent payload */
    PW_R_COUNT
} pw_reason;

/* "answered", "refused", ... and "syn-ack", "rst", ... as in the JSON schema. */
const char *pw_outcome_name(pw_outcome o);
const char *pw_reason_name(pw_reason r);
/* Parses an outcome name; returns PW_OUT_PENDING when unknown. */
pw_outcome pw_outcome_parse(const char *name);
/* How informative an outcome is, for summarising several into one:
 * answered > refused > blocked > unanswered > indeterminate. */
int pw_outcome_rank(pw_outcome o);

typedef struct pw_attempt {
    uint32_t source;          /* input index */
    pw_usec ts;               /* first request (first SYN / first datagram) */
    uint8_t proto;            /* 6 TCP, 17 UDP */
    uint16_t vlan;
    pw_addr client, server;
    uint16_t client_port, port;
    pw_outcome outcome;
    pw_reason reason;
    uint32_t retries;         /* retransmitted SYNs / repeated datagrams before the outcome */
    uint64_t frame_request;   /* frame of the first request */
    uint64_t frame_reply;     /* frame of the reply / error; 0 if none */
    pw_usec last_request_ts;  /* last (re)transmission before the reply */
    pw_usec reply_ts;         /* 0 if none */
    bool has_icmp_from;
    pw_addr icmp_from;        /* who sent the ICMP error */
    uint8_t icmp_type, icmp_code;
    char app[16];             /* application the dissectors recognised on this flow, "" if none */
} pw_attempt;

/* Round-trip time in milliseconds, or a negative value when there was no reply. */
double pw_attempt_rtt_ms(const pw_attempt *a);

#endif
