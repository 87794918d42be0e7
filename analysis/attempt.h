/* attempt.h - one connection attempt and its outcome: the record the core
 * produces and everything above it (services, NNR, policy, reports) uses. */
#ifndef PW_ATTEMPT_H
#define PW_ATTEMPT_H

#include <stdbool.h>
#include <stddef.h>
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
    PW_R_RETRANSMITTED,  /* unanswered: the client itself retransmitted, nothing came back */
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

    /* appended: who sent the refusal (refused / blocked only; see attempts.c) */
    uint8_t responder;        /* PW_RESPONDER_*; NONE on other outcomes */
    uint8_t resp_ttl;         /* IP TTL / hop limit of the RST or ICMP error */
    bool resp_has_ip_id;      /* IPv4 */
    uint16_t resp_ip_id;
    uint16_t resp_win;        /* the RST's TCP window (0 for ICMP) */
    uint32_t host_packets;    /* the server's own packets compared with; 0 = none (unknown) */
    uint8_t host_ttl_min, host_ttl_max; /* their TTLs */
    bool host_has_ip_id;
    uint16_t host_ip_id;      /* IP ID of the last of them */
    uint64_t host_frame;      /* frame of the last of them (to open in Wireshark) */
    /* appended: UDP retries from a new source port */
    uint64_t frame_retry_of;  /* the earlier unanswered request this one repeats, 0 if none */
    pw_usec retry_of_ts;
    /* what the application answered (apps.c): calls / logins that succeeded
     * and failed, and the first failure's code ("UNAVAILABLE", "18456"...) */
    uint16_t app_ok, app_failed;
    char app_failure[40];
} pw_attempt;

enum { PW_RESPONDER_NONE = 0, PW_RESPONDER_HOST, PW_RESPONDER_PATH, PW_RESPONDER_UNKNOWN };

/* Who refused, as rule evidence keeps it (the attempt's responder fields,
 * compact). */
typedef struct pw_responder_ev {
    uint8_t responder, resp_ttl, host_ttl_min, host_ttl_max;
    bool resp_has_ip_id, host_has_ip_id, has_icmp_from;
    uint16_t resp_ip_id, resp_win, host_ip_id;
    uint32_t host_packets;
    uint64_t host_frame;
    pw_addr icmp_from;
} pw_responder_ev;
void pw_responder_save(const pw_attempt *a, pw_responder_ev *r);
/* An attempt to server carrying r's responder fields (and nothing else),
 * for pw_responder_sentence and the report's responder evidence. */
void pw_responder_load(const pw_responder_ev *r, const pw_addr *server, pw_attempt *a);

/* "host", "path", "unknown"; NULL for PW_RESPONDER_NONE. */
const char *pw_responder_name(int responder);
/* One sentence a firewall admin reads, e.g. "RST with TTL 64 while
 * 198.51.100.7's own packets arrive with TTL 63: sent by a device in the
 * path, not by the host".  Empty when the attempt has no responder.
 * Returns buf. */
const char *pw_responder_sentence(const pw_attempt *a, char *buf, size_t len);

/* Round-trip time in milliseconds, or a negative value when there was no reply. */
double pw_attempt_rtt_ms(const pw_attempt *a);

#endif
