/* result.c - building and freeing the decided result, and the names of its
 * enums (the words of the JSON schema). */
#include "result.h"
#include "../common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"

static const char *const verdict_names[PW_VERDICT_COUNT] = {
    "pass", "fail", "partial", "unobserved", "indeterminate",
};

const char *pw_rule_cause_name(pw_rule_cause c)
{
    return c == PW_CAUSE_TRANSPORT ? "transport" : c == PW_CAUSE_APPLICATION ? "application" : NULL;
}

const char *pw_verdict_name(pw_verdict v)
{
    return (unsigned)v < PW_VERDICT_COUNT ? verdict_names[v] : "?";
}

int pw_verdict_parse(const char *name)
{
    for (int i = 0; i < PW_VERDICT_COUNT; i++)
        if (name && strcmp(name, verdict_names[i]) == 0)
            return i;
    return -1;
}

static const char *const event_names[PW_EV_COUNT] = {
    "", "app", "malformed", "nbns", "dns", "dcerpc", "epm_port", "ntlmssp", "rdp", "tls", "http",
    "http2", "grpc", "ssrp", "tds",
};

const char *pw_event_type_name(int type)
{
    return type >= 0 && type < PW_EV_COUNT && event_names[type] ? event_names[type] : "?";
}

const char *pw_role_how_name(pw_role_how h)
{
    return h == PW_ROLE_BOUND ? "bound" : h == PW_ROLE_TRAFFIC ? "traffic" : "rule";
}

void *pw_result_alloc(size_t n, size_t size)
{
    return pw_xcalloc(n, size); /* a half-built report would be a wrong one */
}

void pw_result_init(pw_result *r, const pw_sources *srcs)
{
    memset(r, 0, sizeof *r);
    if (srcs)
        r->sources = *srcs;
}

static void free_nnr(pw_res_nnr *n)
{
    for (size_t i = 0; i < n->n_sensors; i++) {
        pw_res_nnr_sensor *s = &n->sensors[i];
        for (size_t a = 0; a < s->n_alerts; a++) {
            free(s->alerts[a].examples);
            free(s->alerts[a].listed);
        }
        free(s->alerts);
    }
    free(n->sensors);
    free(n->targets);
}

static void free_policy(pw_result *r)
{
    for (size_t i = 0; i < r->n_rules; i++) {
        free(r->rules[i].servers);
        free(r->rules[i].clients);
        free(r->rules[i].evidence);
        free(r->rules[i].notes);
    }
    for (size_t i = 0; i < r->n_cloud; i++) {
        free(r->cloud[i].issuers);
        free(r->cloud[i].conns);
    }
    free(r->profiles);
    free(r->roles);
    free(r->roles_omitted);
    free(r->rules);
    free(r->cloud);
}

void pw_result_free(pw_result *r)
{
    if (!r)
        return;
    free(r->inputs);
    free(r->services);
    free(r->scanners); /* copies (folds_result): a live run decides a result every interval */
    free(r->folds);
    for (size_t i = 0; i < r->n_hosts; i++)
        free(r->hosts[i].names);
    free(r->hosts);
    free_nnr(&r->nnr);
    free_policy(r);
    free(r->fixes);
    memset(r, 0, sizeof *r);
}
