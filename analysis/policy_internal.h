/* policy_internal.h - the profile model shared by the files of
 * analysis/policy/ (policy/load.c is the YAML loader).  Private to analysis/
 * and its tests. */
#ifndef PW_POLICY_INTERNAL_H
#define PW_POLICY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define PW_PORTS_MAX 16
#define PW_COND_PORTS_MAX 8
#define PW_COND_MAX 8
#define PW_ROLE_ADDRS_MAX 32
#define PW_PATTERN_MAX 8

/* Memory bounds of the policy engine (per pw_policy; see the top of policy/internal.h).
 * Attempts to a watched port are kept per (client, server, port) pair up to
 * PW_POLICY_MAX_PAIRS; beyond that, attempts of new pairs are folded into one
 * aggregate per (server, port) (up to PW_POLICY_MAX_SERVERS), then into one
 * per port.  Folded attempts still feed counts and verdicts; the rules they
 * touch say "truncated". */
#ifndef PW_POLICY_MAX_PAIRS
#define PW_POLICY_MAX_PAIRS 65536
#endif
#ifndef PW_POLICY_MAX_SERVERS
#define PW_POLICY_MAX_SERVERS 16384
#endif
/* evidence samples kept over all aggregates (each aggregate keeps at most
 * max_evidence answered and max_evidence failed ones) */
#ifndef PW_POLICY_MAX_SAMPLES
#define PW_POLICY_MAX_SAMPLES 65536
#endif
/* entries of each of the event tables: cloud flows, endpoint-mapper port
 * grants, DNS answers for watched names, proxies */
#ifndef PW_POLICY_MAX_FLOWS
#define PW_POLICY_MAX_FLOWS 65536
#endif

/* One transport + port, as written "tcp/3741". */
typedef struct pw_pport {
    uint8_t proto; /* 6 / 17 */
    uint16_t port;
} pw_pport;

typedef enum pw_cond_kind {
    PW_COND_SEEN = 1,  /* detect: any attempt to any listed port */
    PW_COND_ANSWERS,   /* role: the host answered every listed port */
    PW_COND_CONNECTS,  /* role: the host attempted at least one listed port */
    PW_COND_SNI,       /* role: client that asked for a name matching pattern (TLS SNI or CONNECT);
                          detect: any such request */
    PW_COND_PROXY,     /* role: the host received an HTTP CONNECT */
    PW_COND_NTLM_RPC,  /* detect: a DCE/RPC bind to tcp/135 carrying NTLMSSP (NTLM over RPC) */
} pw_cond_kind;

typedef struct pw_cond {
    pw_cond_kind kind;
    pw_pport ports[PW_COND_PORTS_MAX];
    int n_ports;
    char pattern[128];
} pw_cond;

/* "3741", "10000,10001", "1024-65535", "epm-dynamic", "1433,sql-announced". */
typedef struct pw_portspec {
    bool epm_dynamic;   /* "epm-dynamic": any port the endpoint mapper handed out */
    bool sql_announced; /* "sql-announced" in the list: any TCP port a SQL Server Browser
                           answer (MS-SQLR) gave its client for an instance */
    bool rpc_dynamic;   /* a range that means the RPC dynamic range: only EPM-announced ports */
    uint16_t lo[PW_PORTS_MAX], hi[PW_PORTS_MAX];
    int n;
    char text[96];
} pw_portspec;

typedef struct pw_role_def {
    char name[64];
    char *description;
    pw_cond infer[PW_COND_MAX];
    int n_infer;
    pw_cidr addrs[PW_ROLE_ADDRS_MAX];
    int n_addrs;
} pw_role_def;

typedef struct pw_rule_def {
    char id[64];
    char *table;        /* the vendor table the row comes from ("" if none) */
    char *description;  /* the vendor's words */
    char from[64], to[64];
    uint8_t proto;
    pw_portspec ports;
    bool required;
    char *remediation;
    char *prove;        /* optional: what traffic would prove the rule */
    /* Name-based rules (002): match TLS SNI / CONNECT host names, directly or via proxy. */
    char hosts[PW_PATTERN_MAX][128];
    int n_hosts;
    char expected_issuers[PW_PATTERN_MAX][64];
    int n_issuers;
    int line;
} pw_rule_def;

typedef struct pw_profile_def {
    char name[64];
    char *description;
    char *document;     /* the vendor document it was written from */
    char path[1024];
    bool builtin;
    pw_cond detect[PW_COND_MAX];
    int n_detect;
    pw_role_def *roles;
    int n_roles;
    pw_rule_def *rules;
    int n_rules;
} pw_profile_def;

/* Loads one profile file.  Returns NULL with err ("file:line:col: message"). */
pw_profile_def *pw_profile_load(const char *path, char *err, size_t errlen);
/* Same, from a string (tests); name is used in messages. */
pw_profile_def *pw_profile_parse(const char *text, size_t len, const char *name, char *err,
                                 size_t errlen);
void pw_profile_free(pw_profile_def *p);

/* "tcp/3741" -> pport; false on error. */
bool pw_pport_parse(const char *s, pw_pport *out);
bool pw_portspec_parse(const char *s, pw_portspec *out);
/* Port p is in the listed ports/ranges (ignores the epm flags). */
bool pw_portspec_has(const pw_portspec *ps, uint16_t p);
/* Case-insensitive glob ("*.atp.azure.com"). */
bool pw_name_match(const char *pattern, const char *name);
const char *pw_proto_str(uint8_t proto);

/* Limits and introspection (tests). */
struct pw_policy;
typedef struct pw_policy_limits {
    size_t pairs, servers, samples, flows;
} pw_policy_limits;
typedef struct pw_policy_stats {
    size_t pairs;        /* (client, server, port) aggregates */
    size_t servers;      /* (server, port) aggregates of folded attempts */
    size_t ports;        /* (port) aggregates of folded attempts */
    size_t samples;      /* evidence sample slots allocated */
    uint64_t folded;     /* attempts folded into server / port aggregates */
    uint64_t samples_dropped;
    size_t cflows, epm, dns, proxies;
    uint64_t events_dropped; /* events not tracked because their table was full */
} pw_policy_stats;
/* Before the first event or attempt; 0 keeps a limit's default. */
void pw_policy_set_limits(struct pw_policy *p, const pw_policy_limits *l);
void pw_policy_get_stats(const struct pw_policy *p, pw_policy_stats *out);

#endif
