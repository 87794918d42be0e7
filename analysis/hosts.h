/* hosts.h - IP -> host names learned from the traffic, with where each came
 * from (netbios, ntlm, tls_cert, ptr, dns) and the frame it was seen in. */
#ifndef PW_HOSTS_H
#define PW_HOSTS_H

#include <stdbool.h>

#include "../dissectors/events.h"
#include "result.h"
#include "sources.h"

typedef struct pw_hosts pw_hosts;

/* Caps: names kept per address, and addresses. */
#define PW_HOSTS_MAX_NAMES 16
#define PW_HOSTS_MAX_IPS (1u << 20)

/* pw_name_source: result.h */

pw_hosts *pw_hosts_new(void);
void pw_hosts_event(pw_hosts *h, const pw_event *ev);
/* Adds a name directly (used by tests and by modules that learn names). */
void pw_hosts_add(pw_hosts *h, const pw_addr *ip, const char *name, pw_name_source src,
                  uint32_t source, uint64_t frame);
/* The same, marking a name learned on a connection first seen mid-stream. */
void pw_hosts_add_seen(pw_hosts *h, const pw_addr *ip, const char *name, pw_name_source src,
                       uint32_t source, uint64_t frame, bool midstream);
/* A name of a CONNECT target known by host name only ("host:port"), seen
 * through a proxy. */
void pw_hosts_add_target(pw_hosts *h, const char *target, const char *name, pw_name_source src,
                         uint32_t source, uint64_t frame, bool midstream);
/* The best name for ip (NetBIOS/NTLM computer name preferred, then cert, PTR, DNS), or NULL. */
const char *pw_hosts_best_name(const pw_hosts *h, const pw_addr *ip);
/* True when ip carries more than one computer name (the "conflict" flag). */
bool pw_hosts_conflict(const pw_hosts *h, const pw_addr *ip);
/* The hosts of the result, sorted by IP, then name-only targets by name;
 * names are borrowed from h. */
void pw_hosts_result(const pw_hosts *h, pw_result *r);
/* Addresses kept and what the caps (PW_HOSTS_MAX_IPS, PW_HOSTS_MAX_NAMES) left out. */
void pw_hosts_caps(const pw_hosts *h, uint64_t *ips, uint64_t *dropped_ips, uint64_t *dropped_names);
void pw_hosts_free(pw_hosts *h);

#endif
