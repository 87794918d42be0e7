/* nnr.h - Network Name Resolution as a Defender for Identity sensor does it:
 * per sensor, per target, per method (ntlm_rpc, netbios, rdp, reverse_dns),
 * the transport outcome, the application result and the name learned;
 * success rates and health alerts per sensor and method. */
#ifndef PW_NNR_H
#define PW_NNR_H

#include "../dissectors/events.h"
#include "attempt.h"
#include "config.h"
#include "conn.h"
#include "hosts.h"
#include "result.h"
#include "sources.h"

typedef struct pw_nnr pw_nnr;

pw_nnr *pw_nnr_new(const pw_config *cfg);
/* A dissector event on connection c (NULL when the flow is no connection:
 * multicast, broadcast).  What NNR learns is kept in c's slot. */
void pw_nnr_event(pw_nnr *n, pw_conn *c, const pw_event *ev);
/* The removal hook: c's attempt (if any) and what its slot learned become
 * tries of (sensor, target, method); the slot is freed. */
/* Starts loading the summary slot an attempt-only try would update (a hint). */
void pw_nnr_prefetch(const pw_nnr *n, const pw_attempt *a);
void pw_nnr_conn_removed(pw_nnr *n, pw_conn *c);
/* Decides r->nnr: the sensors (given or inferred), per sensor and method the
 * rates and health alerts, per target the best try of each method.  hosts
 * (may be NULL) names the failed targets of an alert; the names are borrowed. */
void pw_nnr_result(pw_nnr *n, const pw_hosts *hosts, pw_result *r);
/* Summaries kept, their cap, and tries dropped at the cap. */
void pw_nnr_caps(const pw_nnr *n, uint64_t *pairs, uint64_t *max, uint64_t *dropped);
void pw_nnr_free(pw_nnr *n);

#endif
