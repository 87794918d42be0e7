/* policy.h - port policies: profiles (data files in profiles/), roles bound
 * to addresses or inferred, and a verdict per rule with evidence. */
#ifndef PW_POLICY_H
#define PW_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../dissectors/events.h"
#include "attempt.h"
#include "config.h"
#include "conn.h"
#include "services.h"
#include "sources.h"

typedef enum pw_verdict {
    PW_VERDICT_PASS = 0, PW_VERDICT_FAIL, PW_VERDICT_PARTIAL, PW_VERDICT_UNOBSERVED,
    PW_VERDICT_INDETERMINATE, PW_VERDICT_COUNT
} pw_verdict;
const char *pw_verdict_name(pw_verdict v);
/* Returns -1 when unknown. */
int pw_verdict_parse(const char *name);

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
/* The removal hook: c's attempt counts in its aggregate, and a cloud
 * connection joins the list the sensor-to-cloud checks read. */
void pw_policy_conn_removed(pw_policy *p, pw_conn *c);
/* Decides verdicts.  Returns an object {"profiles":[...], "roles":[...],
 * "rules":[...], "sensor_cloud":[...]} whose members the report merges
 * into the top level. */
json_t *pw_policy_json(pw_policy *p, const pw_services *svc, const pw_sources *srcs);
/* After pw_policy_json: true if a required rule has a verdict listed in cfg->fail_on. */
bool pw_policy_should_fail(const pw_policy *p);
/* Writes "name<TAB>description" lines of the built-in profiles. */
int pw_policy_list_profiles(const char *profile_dir, FILE *out);
void pw_policy_free(pw_policy *p);

#endif
