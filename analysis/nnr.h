/* nnr.h - Network Name Resolution as a Defender for Identity sensor does it:
 * per sensor, per target, per method (ntlm_rpc, netbios, rdp, reverse_dns),
 * the transport outcome, the application result and the name learned;
 * success rates and health alerts per sensor and method. */
#ifndef PW_NNR_H
#define PW_NNR_H

#include "../dissectors/events.h"
#include "attempt.h"
#include "config.h"
#include "hosts.h"
#include "result.h"
#include "sources.h"

typedef struct pw_nnr pw_nnr;

pw_nnr *pw_nnr_new(const pw_config *cfg);
void pw_nnr_event(pw_nnr *n, const pw_event *ev);
void pw_nnr_attempt(pw_nnr *n, const pw_attempt *a);
/* Decides r->nnr: the sensors (given or inferred), per sensor and method the
 * rates and health alerts, per target the best try of each method.  Folds
 * every record still open first.  hosts (may be NULL) names the failed
 * targets of an alert; the names are borrowed. */
void pw_nnr_result(pw_nnr *n, const pw_hosts *hosts, pw_result *r);
void pw_nnr_free(pw_nnr *n);

#endif
