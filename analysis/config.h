/* config.h - the analysis settings the CLI fills in (cli/main.c). */
#ifndef PW_CONFIG_H
#define PW_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/addr.h"
#include "../common/pwtime.h"

typedef struct pw_cidr {
    pw_addr net;
    int prefix;
} pw_cidr;

#define PW_MAX_SENSORS 64
#define PW_MAX_ROLES 128
#define PW_MAX_PROFILES 16

typedef struct pw_role_binding {
    char role[64];
    pw_cidr cidr;
} pw_role_binding;

typedef struct pw_config {
    pw_usec tcp_timeout;             /* --timeout / --tcp-timeout, default 10 s */
    pw_usec udp_timeout;             /* --udp-timeout, default 5 s */
    pw_cidr sensors[PW_MAX_SENSORS]; /* --sensor IP[/CIDR] */
    int n_sensors;
    double nnr_alert_threshold;      /* --nnr-alert-threshold: failure share that raises an alert, default 0.9 */
    const char *profiles[PW_MAX_PROFILES]; /* --profile NAME|FILE */
    int n_profiles;
    const char *profile_dir;         /* where built-in profiles live */
    pw_role_binding roles[PW_MAX_ROLES];   /* --role NAME=IP[/CIDR] */
    int n_roles;
    int max_evidence;                /* evidence entries per rule, default 10 */
    bool fail_on[8];                 /* --fail-on: indexed by pw_verdict (analysis/policy.h) */
    /* memory caps (0 = the default named beside each) */
    uint32_t max_connections;        /* --max-connections: records (PW_ATTEMPTS_DEFAULT_MAX_OPEN) */
    uint32_t max_services;           /* --max-services: (server, port) services (PW_SERVICES_DEFAULT_MAX) */
    uint32_t scanner_threshold;      /* --scanner-threshold: distinct targets (PW_SCANNER_DEFAULT_THRESHOLD) */
} pw_config;

void pw_config_defaults(pw_config *c);

#endif
