/* policy.h - port policies: profiles (data files in profiles/), roles bound
 * to addresses or inferred, and a verdict per rule with evidence. */
#ifndef PW_POLICY_H
#define PW_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../dissectors/events.h"
#include "attempt.h"
#include "config.h"
#include "conn.h"
#include "result.h"
#include "services.h"
#include "sources.h"

/* pw_verdict: result.h */

typedef struct pw_policy pw_policy;

/* Loads the profiles named in cfg (built-in names or files).  With none,
 * every built-in profile is loaded and chosen later by the traffic seen.
 * Returns NULL with err filled on a bad profile. */
pw_policy *pw_policy_new(const pw_config *cfg, char *err, size_t errlen);
/* A dissector event on connection c (NULL when the flow is no connection).
 * Cloud-check facts (TLS, CONNECT) are kept in c's slot; endpoint-mapper
 * grants, DNS answers for watched names and proxies in policy's own tables
 * (keyed by what they grant, not by the connection). */
void pw_policy_event(pw_policy *p, pw_conn *c, const pw_event *ev);
/* What the removal hook settles about an attempt for its count: whether it
 * counts at all, and whether its port was announced to its client
 * (by the endpoint mapper or the SQL Browser: nonzero) and in which frame. */
typedef struct pw_policy_mark {
    bool counts;
    uint8_t announced;
    uint64_t announced_frame;
} pw_policy_mark;

/* The removal hook: a cloud connection joins the list the sensor-to-cloud
 * checks read, and an announced port is marked used.  Returns how c's
 * attempt counts, for pw_policy_count(). */
pw_policy_mark pw_policy_conn_removed(pw_policy *p, pw_conn *c);
/* A retired attempt counts in its aggregate (pair, else server, else
 * port), with its application's answers (as may be NULL).  It reads only
 * the aggregates, which nothing else touches before the verdicts, so it
 * may run on another thread than the events (analysis.h). */
void pw_policy_count(pw_policy *p, const pw_attempt *a, const struct pw_app_slot *as, const pw_policy_mark *m);
/* Starts loading the aggregate slot the attempt will count in (a hint). */
void pw_policy_prefetch(const pw_policy *p, const pw_attempt *a);
/* Decides, once the whole capture has been seen: which profiles apply, who
 * holds which role, each rule's verdict (rules ordered required fail,
 * required partial, other required, optional), the sensor-to-cloud checks,
 * and r->fail_on_matched (a required rule has a verdict listed in
 * cfg->fail_on).  Fills r->profiles, roles, rules, cloud; strings are
 * borrowed from p.  May be called again (each call decides afresh). */
void pw_policy_result(pw_policy *p, pw_result *r);
/* Writes "name<TAB>description" lines of the built-in profiles. */
int pw_policy_list_profiles(const char *profile_dir, FILE *out);
void pw_policy_free(pw_policy *p);

#endif
