/* result.h - the decided result of an analysis (schema portwitness/1 as C
 * structs).
 *
 * pw_analysis_result() settles everything here - profile choice, roles,
 * verdicts, rule order, rates, NNR alerts, the --fail-on outcome - before any
 * writer runs; report/ only renders it.  Numbers, enums and addresses are
 * kept as such (writers format them); user-facing English is a pw_msg (a
 * message code and its parameters) rendered by report/messages.c.
 *
 * Every count is additive (sums over attempts, targets or pairs), so results
 * over disjoint captures can be merged exactly; rates are kept next to their
 * numerator and denominator.
 *
 * Lifetime: a result borrows strings from the analysis that made it
 * (profile texts, host names, names seen on the wire, input paths), so it
 * must be freed (pw_result_free) before that analysis. */
#ifndef PW_RESULT_H
#define PW_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../capture/capture.h"
#include "../common/addr.h"
#include "../common/pwtime.h"
#include "../dissectors/events.h"
#include "attempt.h"
#include "scanners.h"
#include "sources.h"
#include "timeline.h"

typedef enum pw_verdict {
    PW_VERDICT_PASS = 0, PW_VERDICT_FAIL, PW_VERDICT_PARTIAL, PW_VERDICT_UNOBSERVED,
    PW_VERDICT_INDETERMINATE, PW_VERDICT_COUNT
} pw_verdict;
const char *pw_verdict_name(pw_verdict v);
/* Returns -1 when unknown. */
int pw_verdict_parse(const char *name);

typedef enum pw_name_source {
    PW_NAME_NETBIOS = 0, PW_NAME_NTLM, PW_NAME_TLS_CERT, PW_NAME_PTR, PW_NAME_DNS,
    PW_NAME_SSRP,       /* ServerName of a SQL Server Browser answer (MS-SQLR SVR_RESP) */
    PW_NAME_SOURCE_COUNT
} pw_name_source;
const char *pw_name_source_str(pw_name_source s); /* "netbios", "ntlm", ... */

/* "app", "malformed", "nbns", ... (the keys of stats.events). */
const char *pw_event_type_name(int type);

/* ---- messages --------------------------------------------------------------- */

/* User-facing English, as a code and its parameters; report/messages.c
 * holds the one table that renders each code. */
typedef enum pw_msg_id {
    PW_MSG_NONE = 0,
    PW_MSG_PROFILE_SELECTED,      /* "selected with --profile" */
    PW_MSG_PROFILE_TRAFFIC,       /* ref: the pw_res_profile (its detect hits) */
    PW_MSG_ROLE_OPTION,           /* s[0]: the option ("--role", "--sensor") */
    PW_MSG_ROLE_ADDRESSES,        /* s[0] role, s[1] profile path */
    PW_MSG_ROLE_ANSWERS,          /* ref: the profile's condition (const pw_cond *,
                                     analysis/policy_internal.h); source, n[0] frame */
    PW_MSG_ROLE_CONNECTS,         /* n[0] proto, n[1] port, a server; source, n[2] frame */
    PW_MSG_ROLE_NAME,             /* kind pw_name_via, s[0] name; source, n[0] frame */
    PW_MSG_ROLE_PROXY,            /* n[0] port, a first client, s[0] host; source, n[1] frame */
    PW_MSG_ROLE_BY_RULE,          /* kind 1 server / 0 client, s[0] role, s[1] rule id,
                                     s[2] ports, n[0] proto */
    PW_MSG_RULE_PROOF,            /* ref: the pw_res_rule */
    PW_MSG_RULE_TLS_INSPECTION,   /* s[0] name, a client, s[1] issuer; source, n[0] cert frame */
    PW_MSG_RULE_FOLDED,           /* n[0] attempts folded, n[1] pair limit */
    PW_MSG_RULE_ANNOUNCED_UNUSED, /* a SQL server, n[0] its announced TCP port, s[0] instance,
                                     a2 the client it was announced to; source, n[1] frame */
    PW_MSG_CLOUD_TLS_INSPECTION,  /* no parameters */
    PW_MSG_NNR_DETAIL,            /* kind method; ref: the pw_res_nnr_try (pw_res_nnr_detail) */
    PW_MSG_NNR_ALERT,             /* ref: the pw_res_nnr_alert */
    PW_MSG_NNR_REMEDIATION,       /* ref: the pw_res_nnr_alert */
    PW_MSG_COUNT
} pw_msg_id;

/* How a client named a cloud service (PW_MSG_ROLE_NAME, detect hits). */
typedef enum pw_name_via { PW_VIA_CONNECT = 0, PW_VIA_SNI, PW_VIA_DNS } pw_name_via;

typedef struct pw_msg {
    pw_msg_id id;
    int kind;
    const char *s[3];
    pw_addr a, a2;
    uint32_t source;   /* input index of the frames named */
    uint64_t n[3];
    const void *ref;   /* structured parameters, documented per code */
} pw_msg;

/* ---- inputs, stats, services, hosts ----------------------------------------- */

/* One port's folded attempts: every server beyond the cap. */
typedef struct pw_services_fold {
    uint8_t proto;
    uint16_t port;
    uint64_t attempts;
    uint64_t counts[PW_OUT_COUNT];
    uint32_t servers;                  /* distinct servers, estimated */
    bool servers_at_least;             /* the estimate saturated: at least that many */
    uint32_t first_source, last_source;
    uint64_t first_frame, last_frame;
    pw_usec first_ts, last_ts;
} pw_services_fold;

/* One memory cap: its size, how much was used (the peak, for connection
 * records), and what it pushed out - the meaning of `over` and `over2` is
 * named per cap in pw_res_caps. */
typedef struct pw_res_cap {
    uint64_t max, used, over, over2;
} pw_res_cap;

typedef struct pw_res_caps {
    pw_res_cap connections;   /* over: pending attempts evicted; over2: idle records evicted */
    pw_res_cap services;      /* over: attempts folded per port; over2: port folds */
    pw_res_cap clients;       /* over: attempts of untracked clients; over2: attempts in scanner rows */
    uint64_t scanners;
    pw_res_cap hosts;         /* over: addresses left out; over2: names left out */
    pw_res_cap policy_pairs;  /* over: attempts folded per server/port; over2: events dropped */
    pw_res_cap nnr_pairs;     /* over: tries dropped */
} pw_res_caps;

/* Notes on a decided attempt as it streams (bits; pw_analysis_sink). */
enum {
    /* unanswered while the live capture was dropping packets: the reply may be among them */
    PW_NOTE_CAPTURE_DROPS = 1u << 0,
};

typedef struct pw_res_stats {
    uint64_t attempts;
    uint64_t outcomes[PW_OUT_COUNT];
    uint64_t peak_open_attempts;  /* the largest of the inputs (not a sum) */
    uint64_t evicted_attempts, icmp_errors, icmp_unmatched, midstream_flows;
    uint64_t events[PW_EV_COUNT];
    pw_res_caps caps;
    /* live capture */
    uint64_t unanswered_during_drops; /* decided unanswered while the capture was dropping */
    bool snapshot;                    /* an interval report: the input is still being read */
    uint64_t open_connections;        /* snapshot: records still open, not counted above */
} pw_res_stats;

/* Application results: distinct failure codes ("UNAVAILABLE", "18456",
 * "RST_STREAM:CANCEL", "GOAWAY:ENHANCE_YOUR_CALM", "HTTP:503") with how
 * often each was seen; at most PW_APP_CODES are kept (the first ones),
 * further codes are counted in the failed total only. */
#define PW_APP_CODES 4
typedef struct pw_app_code {
    char code[40];
    uint32_t n;
} pw_app_code;

/* What the application answered on a service's or rule's connections. */
typedef struct pw_res_app {
    char name[16];                /* "grpc", "tds", ... "" when none recognised */
    uint64_t ok, failed;          /* calls / logins answered with success / failure */
    uint64_t h2_tls;              /* connections with HTTP/2 inside TLS (gRPC over TLS): calls not visible */
    uint8_t n_codes;
    pw_app_code codes[PW_APP_CODES];
} pw_res_app;

typedef struct pw_res_service {
    pw_addr server;
    uint8_t proto;
    uint16_t port;
    pw_outcome outcome;           /* the most informative of the counts */
    uint64_t counts[PW_OUT_COUNT];
    uint32_t clients;
    bool clients_at_least;        /* distinct clients stopped being counted exactly */
    uint64_t first_frame;
    uint32_t source;
    pw_res_app app;
} pw_res_service;

typedef struct pw_res_name {
    const char *name;
    pw_name_source src;
    uint64_t frame;
    uint32_t source;
    bool midstream;   /* learned on a connection first seen mid-stream */
} pw_res_name;

typedef struct pw_res_host {
    pw_addr ip;             /* family 0 for a target known by name only */
    const char *target;     /* "host:port": names seen through a proxy for a CONNECT target
                               given by host name (no address known); NULL otherwise */
    pw_res_name *names;
    size_t n_names;
    bool conflict;
} pw_res_host;

/* ---- NNR -------------------------------------------------------------------- */

typedef enum pw_nnr_method {
    PW_NNR_NTLM_RPC = 0, PW_NNR_NETBIOS, PW_NNR_RDP, PW_NNR_REVERSE_DNS, PW_NNR_METHOD_COUNT
} pw_nnr_method;

typedef enum pw_nnr_code {
    PW_NNR_R_NONE = 0,
    PW_NNR_R_RESOLVED,
    /* answered, application failure */
    PW_NNR_R_BIND_NAK, PW_NNR_R_NBNS_NEGATIVE, PW_NNR_R_RDP_NEG_FAILURE, PW_NNR_R_TLS13_HIDDEN,
    PW_NNR_R_NXDOMAIN, PW_NNR_R_SERVFAIL, PW_NNR_R_DNS_REFUSED, PW_NNR_R_DNS_ERROR,
    /* answered, no name */
    PW_NNR_R_NO_CHALLENGE, PW_NNR_R_NO_NAME, PW_NNR_R_NO_CERTIFICATE, PW_NNR_R_NO_PTR,
    /* transport only */
    PW_NNR_R_REFUSED, PW_NNR_R_BLOCKED, PW_NNR_R_NO_RESPONSE, PW_NNR_R_INDETERMINATE,
    PW_NNR_R_COUNT
} pw_nnr_code;

const char *pw_nnr_method_key(pw_nnr_method m);    /* "ntlm_rpc", ... */
const char *pw_nnr_method_title(pw_nnr_method m);  /* "NTLM over RPC", ... */
const char *pw_nnr_result_name(pw_nnr_code r);   /* "resolved", "bind_nak", ... */

#define PW_RES_NNR_FRAMES 4

/* The best try of one (sensor, target, method). */
typedef struct pw_res_nnr_try {
    pw_outcome outcome;
    pw_nnr_code result;
    pw_reason reason;
    uint32_t code;                /* bind_nak reason, rcode, failure code... */
    uint32_t retries;
    bool has_icmp_from;
    pw_addr icmp_from;
    pw_addr server;               /* the responder: the target, or the DNS server */
    const char *name;             /* resolved name, NULL if none */
    uint32_t source;
    uint8_t nframes;
    uint64_t frames[PW_RES_NNR_FRAMES];
} pw_res_nnr_try;

/* The one-line explanation of a try: its result code and fields are the
 * message's parameters (kept out of the try: there may be millions). */
static inline pw_msg pw_res_nnr_detail(pw_nnr_method m, const pw_res_nnr_try *t)
{
    pw_msg msg = {.id = PW_MSG_NNR_DETAIL, .kind = (int)m, .ref = t};
    return msg;
}

typedef struct pw_res_nnr_target {
    pw_addr sensor, target;
    const char *name;             /* by method, in Defender's order; NULL if none */
    bool tried[PW_NNR_METHOD_COUNT];
    pw_res_nnr_try m[PW_NNR_METHOD_COUNT];
} pw_res_nnr_target;

typedef struct pw_res_nnr_mstat {
    unsigned attempted, resolved, app_failed;  /* targets */
    unsigned out[PW_OUT_COUNT];                /* transport outcome of each target's best try */
    bool has_rate;                             /* attempted > 0 */
    double rate;                               /* resolved / attempted */
} pw_res_nnr_mstat;

/* A failed target named in an alert's remediation. */
typedef struct pw_res_nnr_failed {
    pw_addr target;
    const char *known_name;       /* the best name learned for it, NULL if none */
    const pw_res_nnr_try *t;
} pw_res_nnr_failed;

typedef struct pw_res_nnr_example {
    uint32_t source;
    uint64_t frame;
    pw_addr target;
    pw_nnr_code result;
} pw_res_nnr_example;

#define PW_RES_NNR_LIST 8

typedef struct pw_res_nnr_alert {
    pw_nnr_method method;
    pw_addr sensor;
    unsigned attempted, resolved, failed;
    double rate, fail_share;
    pw_res_nnr_example *examples; /* frames of the failed targets (max_evidence targets) */
    size_t n_examples;
    /* parameters of the remediation */
    pw_addr dns_servers[PW_RES_NNR_LIST];  /* reverse_dns: the servers asked, sorted */
    int n_dns_servers;
    pw_res_nnr_failed *listed;    /* the failed targets named (at most max_evidence) */
    size_t n_listed;
    bool causes[PW_NNR_R_COUNT];  /* results present among the failed targets */
    pw_addr blockers[PW_RES_NNR_LIST];     /* who sent the ICMP errors, sorted */
    int n_blockers;
    pw_msg message;               /* PW_MSG_NNR_ALERT */
    pw_msg remediation;           /* PW_MSG_NNR_REMEDIATION */
} pw_res_nnr_alert;

typedef struct pw_res_nnr_sensor {
    pw_addr sensor;
    bool found_by_option;         /* --sensor, else inferred */
    unsigned targets, resolved;
    bool has_rate;
    double rate;
    pw_res_nnr_mstat methods[PW_NNR_METHOD_COUNT];
    pw_res_nnr_alert *alerts;
    size_t n_alerts;
} pw_res_nnr_sensor;

typedef struct pw_res_nnr {
    pw_res_nnr_sensor *sensors;
    size_t n_sensors;
    pw_res_nnr_target *targets;   /* by sensor, then target */
    size_t n_targets;
    double alert_threshold;       /* the failure share over which a method alerts (charts draw it) */
} pw_res_nnr;

/* ---- port policy ------------------------------------------------------------ */

typedef enum pw_detect_kind { PW_DETECT_SEEN = 0, PW_DETECT_NTLM_RPC, PW_DETECT_NAME } pw_detect_kind;

/* One detect condition the traffic met (why a profile was chosen). */
typedef struct pw_res_detect_hit {
    pw_detect_kind kind;
    uint64_t n;                   /* attempts / binds / connections */
    uint8_t proto;                /* SEEN */
    uint16_t port;
    const char *pattern;          /* NAME */
    pw_name_via first_via;        /* NAME: how the first one named it */
    uint32_t source;              /* the first one */
    uint64_t frame;
} pw_res_detect_hit;

#define PW_RES_DETECT_MAX 64

typedef struct pw_res_profile {
    const char *name, *path, *description;
    bool builtin;
    pw_msg why;                   /* PROFILE_SELECTED or PROFILE_TRAFFIC */
    pw_res_detect_hit hits[PW_RES_DETECT_MAX];
    int n_hits;
} pw_res_profile;

/* Lists a report shows address by address are cut at this many entries (the
 * ones that fail first); what is left out is counted, so the counts stay
 * exact and the report bounded whatever the traffic. */
#define PW_RES_MAX_LIST 256

typedef enum pw_role_how { PW_ROLE_BOUND = 0, PW_ROLE_TRAFFIC, PW_ROLE_RULE } pw_role_how;
const char *pw_role_how_name(pw_role_how h); /* "bound", "traffic", "rule" */

typedef struct pw_res_role {
    char role[64];
    pw_addr net;
    int prefix;
    bool cidr;                    /* prefix narrower than one address */
    pw_role_how how;
    pw_msg why;
} pw_res_role;

/* A server or client of a rule. */
typedef struct pw_res_side {
    pw_addr ip;
    bool role_inferred;
    pw_verdict verdict;
    uint64_t attempts;
} pw_res_side;

typedef struct pw_res_evidence {
    uint32_t source;
    uint64_t frame, frame_reply, epm_frame;  /* 0: none */
    pw_usec ts;
    pw_addr client, server;
    uint8_t proto;
    uint16_t port;
    pw_outcome outcome;
    const char *reason;           /* a static name */
    pw_responder_ev resp;         /* refused / blocked: who sent the refusal (resp.responder 0: none) */
    /* a cloud flow (name-based rules) */
    bool cloud;
    const char *host;
    bool via_proxy;
    uint16_t connect_port, status;
    const char *issuer;           /* NULL: no certificate seen */
    /* A device in the path, not the server, refused or blocked it (an ICMP
     * error from a third address): the host firewall is not the one to change. */
    bool path_refused;
    pw_addr path_device;          /* who refused, when path_refused */
} pw_res_evidence;

/* Why a rule fails: its ports are not answered (transport), or they are
 * answered but every application call or login on them failed. */
typedef enum pw_rule_cause { PW_CAUSE_NONE = 0, PW_CAUSE_TRANSPORT, PW_CAUSE_APPLICATION } pw_rule_cause;
const char *pw_rule_cause_name(pw_rule_cause c); /* NULL, "transport", "application" */

typedef struct pw_res_rule {
    /* from the profile */
    const char *profile, *id, *table, *description, *from, *to, *ports, *remediation;
    uint8_t proto;
    bool required;
    const char (*hosts)[128];
    int n_hosts;
    const char *prove;            /* what traffic would prove the rule, NULL: say it from the rule */
    int dynamic;                  /* 0, 1 epm-dynamic, 2 RPC dynamic range */
    /* decided */
    pw_verdict verdict;
    pw_rule_cause cause;          /* fail and partial: what failed */
    pw_res_app app;               /* the application's answers on the rule's attempts */
    bool failing_required;        /* required and fail or partial: reported first */
    uint64_t counts[PW_OUT_COUNT];
    uint64_t folded;              /* attempts of untracked pairs (servers/clients are lower bounds) */
    bool truncated;
    pw_res_side *servers, *clients;
    size_t n_servers, n_clients;  /* listed (at most PW_RES_MAX_LIST each) */
    size_t servers_omitted, clients_omitted; /* beyond the list: passing ones first */
    pw_res_evidence *evidence;
    size_t n_evidence;
    pw_msg *notes;                /* TLS inspection seen, attempts folded */
    size_t n_notes;
    pw_msg proof_needed;          /* PW_MSG_NONE unless unobserved */
} pw_res_rule;

typedef struct pw_res_cloud_conn {
    bool via_proxy;
    uint32_t source;
    uint64_t frame;
    pw_usec ts;
    const char *host;
    pw_addr server;
    uint16_t server_port;         /* the proxy's port when via_proxy */
    uint16_t port;                /* the service port (CONNECT port when via proxy) */
    pw_outcome outcome;
    const char *result;           /* a static name */
    uint16_t status;              /* CONNECT status, 0 if none */
    const char *failure;          /* a static name, NULL if none */
    bool tls_server_hello;
    const char *issuer;           /* NULL: no certificate seen */
    bool tls_inspection;
} pw_res_cloud_conn;

typedef struct pw_res_cloud {
    pw_addr sensor;
    bool role_inferred, reached;
    pw_verdict verdict;           /* pass, fail or indeterminate */
    bool via_proxy;
    pw_addr proxy;                /* when via_proxy */
    uint16_t proxy_port;
    const char *failure;          /* when not reached: the first failure, NULL if none */
    bool inspection;
    const char **issuers;
    size_t n_issuers;
    pw_msg inspection_note;       /* PW_MSG_NONE unless inspection */
    pw_res_cloud_conn *conns;
    size_t n_conns;
} pw_res_cloud;

/* ---- fixes ------------------------------------------------------------------ */

/* Why the attempts of a fix failed, from the rule's failing evidence. */
typedef enum pw_fix_cause {
    PW_FIX_SILENT = 0,            /* unanswered: dropped on the way or by the host firewall */
    PW_FIX_HOST_REFUSED,          /* the server itself reset or sent port-unreachable */
    PW_FIX_PATH_REFUSED,          /* a device in the path sent the ICMP error */
    PW_FIX_CAUSE_COUNT
} pw_fix_cause;
const char *pw_fix_cause_name(pw_fix_cause c); /* "silent", "host-refused", "path-refused" */

/* Which host a Windows firewall rule goes on: inbound on the server, or
 * outbound on the client (cloud rules, where the server is not ours). */
typedef enum pw_fix_dir { PW_FIX_INBOUND = 0, PW_FIX_OUTBOUND } pw_fix_dir;

#define PW_FIX_PORTS 8
#define PW_FIX_PER_RULE 64        /* failing servers given a fix per rule; more are counted */

typedef struct pw_port_range {
    uint16_t lo, hi;
} pw_port_range;
#define PW_FIX_PEERS 32

/* The firewall change that would make one failed or partial rule pass for
 * one failing server, from the addresses the capture saw. */
typedef struct pw_res_fix {
    const pw_res_rule *rule;      /* profile, id, proto, description, remediation */
    pw_fix_dir dir;
    pw_addr server;               /* the failing server (the destination) */
    uint8_t proto;
    bool rpc_dynamic;             /* the rule is the RPC dynamic range: Windows' "RPC" port keyword */
    pw_port_range rpc_range;      /* when rpc_dynamic: the range a network firewall must allow (the
                                     rule's, else Windows' default 49152-65535) */
    pw_port_range ports[PW_FIX_PORTS]; /* the destination ports that failed, sorted;
                                          the rule's ports when no evidence named them */
    int n_ports;
    pw_addr clients[PW_FIX_PEERS];/* the sources that failed to it, sorted */
    int n_clients;
    bool clients_more;            /* more failed than listed */
    bool clients_from_rule;       /* evidence did not name them: the rule's failing clients */
    pw_fix_cause cause;           /* the most telling cause among its failures */
    bool has_path_device;
    pw_addr path_device;          /* who refused, when PW_FIX_PATH_REFUSED */
    uint64_t failed;              /* failing evidence entries behind it */
    uint32_t source;              /* its first failing evidence */
    uint64_t frame;
} pw_res_fix;

/* ---- the result --------------------------------------------------------------- */

typedef struct pw_result {
    pw_sources sources;           /* input paths, for "file" fields */
    pw_input_info *inputs;
    size_t n_inputs;
    pw_res_stats stats;
    pw_res_service *services;     /* by server, proto, port */
    size_t n_services;
    pw_services_fold *folds;      /* services beyond --max-services, per transport and port */
    size_t n_folds;
    pw_scanner_row *scanners;     /* clients over --scanner-threshold, by address */
    size_t n_scanners;
    pw_res_host *hosts;           /* by IP */
    size_t n_hosts;
    pw_res_nnr nnr;
    pw_res_profile *profiles;
    size_t n_profiles;
    pw_res_role *roles;           /* by role, how, address; at most PW_RES_MAX_LIST per role and how */
    size_t n_roles;
    pw_res_role *roles_omitted;   /* per role and how: .prefix holds how many addresses were left out */
    size_t n_roles_omitted;
    pw_res_rule *rules;           /* required fail, required partial, other required, optional */
    size_t n_rules;
    pw_res_cloud *cloud;
    size_t n_cloud;
    pw_timeline timeline;         /* attempts by outcome over capture time */
    pw_res_fix *fixes;            /* in rule order, then by server */
    size_t n_fixes;
    uint64_t fixes_left_out;      /* failing servers beyond PW_FIX_PER_RULE */
    bool fail_on_matched;         /* a required rule has a verdict listed in --fail-on */
    int exit_hint;                /* 3 when fail_on_matched, else 0 */
} pw_result;

/* An empty result naming these inputs (srcs may be NULL). */
void pw_result_init(pw_result *r, const pw_sources *srcs);
void pw_result_free(pw_result *r);
/* calloc that never returns NULL for n == 0 and aborts when memory is out
 * (a result is built once, at the end). */
void *pw_result_alloc(size_t n, size_t size);

#endif
