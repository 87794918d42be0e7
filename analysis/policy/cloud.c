/* policy/cloud.c - the sensor-to-cloud checks of the Defender for Identity
 * sensor profile: the outcome of a "cloud flow" (TLS to a watched name,
 * directly or through an HTTP CONNECT proxy) and the per-sensor summary. */
#include "internal.h"

/* Outcome of a cloud flow (002) and its reason. */
pw_outcome cflow_outcome(const cflow *f, const char **reason, const char **failure)
{
    *failure = NULL;
    if (f->server_hello) {
        *reason = "tls-server-hello";
        return PW_OUT_ANSWERED;
    }
    if (f->alert) {
        *reason = "tls-alert";
        *failure = "tls-alert";
        return PW_OUT_REFUSED;
    }
    if (f->is_connect) {
        if (f->status == 200) {
            if (f->client_hello) {
                *reason = "tls-handshake-incomplete";
                *failure = "tls-handshake-incomplete";
                return PW_OUT_UNANSWERED;
            }
            *reason = "proxy-connect-200";
            return PW_OUT_ANSWERED;
        }
        if (f->status == 403) {
            *reason = "proxy-denied-403";
            *failure = "proxy-denied";
            return PW_OUT_BLOCKED;
        }
        if (f->status == 407) {
            *reason = "proxy-auth-required-407";
            *failure = "proxy-auth-required";
            return PW_OUT_BLOCKED;
        }
        if (f->status) {
            *reason = "proxy-error-status";
            *failure = "proxy-error";
            return PW_OUT_BLOCKED;
        }
        if (!f->has_attempt || f->tcp_out == PW_OUT_ANSWERED || f->tcp_out == PW_OUT_INDETERMINATE) {
            *reason = "proxy-no-response";
            *failure = "proxy-no-response";
            return f->has_attempt && f->tcp_out == PW_OUT_INDETERMINATE ? PW_OUT_INDETERMINATE
                                                                         : PW_OUT_UNANSWERED;
        }
    } else if (f->client_hello) {
        /* no server packet of this flow was seen at all: a one-sided capture */
        if (f->has_attempt && (f->tcp_out == PW_OUT_INDETERMINATE || f->tcp_reason == PW_R_INFERRED)) {
            *reason = "one-sided";
            return PW_OUT_INDETERMINATE;
        }
        *reason = "tls-handshake-incomplete";
        *failure = "tls-handshake-incomplete";
        return PW_OUT_UNANSWERED;
    }
    if (!f->has_attempt) {
        *reason = "no-attempt";
        return PW_OUT_INDETERMINATE;
    }
    *reason = pw_reason_name((pw_reason)f->tcp_reason);
    switch ((pw_outcome)f->tcp_out) {
    case PW_OUT_ANSWERED: return PW_OUT_ANSWERED;
    case PW_OUT_REFUSED: *failure = "reset"; return PW_OUT_REFUSED;
    case PW_OUT_BLOCKED: *failure = "blocked"; return PW_OUT_BLOCKED;
    case PW_OUT_UNANSWERED: *failure = "unanswered"; return PW_OUT_UNANSWERED;
    default: return PW_OUT_INDETERMINATE;
    }
}

static uint16_t cflow_port(const cflow *f) { return f->is_connect ? f->connect_port : f->k.sport; }

bool cflow_matches(const pw_rule_def *r, const cflow *f)
{
    const char *name = cflow_name(f);
    bool hit = false;
    for (int i = 0; i < r->n_hosts && !hit; i++)
        hit = pw_name_match(r->hosts[i], name);
    return hit && r->proto == 6 && (r->ports.epm_dynamic || pw_portspec_has(&r->ports, cflow_port(f)));
}

bool issuer_expected(const pw_rule_def *r, const char *issuer)
{
    if (!r->n_issuers)
        return true;
    for (int i = 0; i < r->n_issuers; i++)
        if (strcasestr(issuer, r->expected_issuers[i]))
            return true;
    return false;
}

/* "sensor_cloud": per sensor, how it reached (or failed to reach) the cloud. */
json_t *sensor_cloud(pw_policy *p, const pw_sources *srcs)
{
    const pw_rule_def *rules[64];
    int nr = 0;
    for (int i = 0; i < p->n_prof; i++)
        if (p->prof[i].active)
            for (int r = 0; r < p->prof[i].def->n_rules && nr < 64; r++)
                if (p->prof[i].def->rules[r].n_hosts)
                    rules[nr++] = &p->prof[i].def->rules[r];
    json_t *arr = json_array();
    if (!nr)
        return arr;
    /* collect matching flows, sorted by client then frame */
    size_t n = 0, cap = 16;
    const cflow **fl = malloc(cap * sizeof *fl);
    cflow *f, *t;
    LL_FOREACH_SAFE(p->cflows, f, t) {
        const pw_rule_def *hit = NULL;
        for (int i = 0; i < nr && !hit; i++)
            if (cflow_matches(rules[i], f))
                hit = rules[i];
        if (!hit)
            continue;
        bool inf, by;
        if (!side_ok(p, NULL, hit->from, &f->k.client, hit, false, &inf, &by))
            continue;
        if (n == cap)
            fl = realloc(fl, (cap *= 2) * sizeof *fl);
        fl[n++] = f;
    }
    for (size_t i = 1; i < n; i++) { /* insertion sort: small */
        const cflow *x = fl[i];
        size_t j = i;
        while (j > 0) {
            int c = pw_addr_cmp(&fl[j - 1]->k.client, &x->k.client);
            if (c < 0 || (c == 0 && (fl[j - 1]->source < x->source ||
                                     (fl[j - 1]->source == x->source && fl[j - 1]->frame <= x->frame))))
                break;
            fl[j] = fl[j - 1];
            j--;
        }
        fl[j] = x;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        bool reached = false;
        const char *first_failure = NULL;
        json_t *conns = json_array(), *issuers = json_array();
        bool inspection = false, ind_only = true;
        char via_proxy[80] = "";
        while (j < n && pw_addr_eq(&fl[j]->k.client, &fl[i]->k.client)) {
            const cflow *c = fl[j];
            const char *reason, *failure;
            pw_outcome o = cflow_outcome(c, &reason, &failure);
            if (o == PW_OUT_ANSWERED) {
                reached = true;
                if (c->is_connect) {
                    char ip[PW_ADDR_STRLEN];
                    snprintf(via_proxy, sizeof via_proxy, "%s:%u", pw_addr_str(&c->k.server, ip, sizeof ip),
                             c->k.sport);
                }
            }
            if (o != PW_OUT_INDETERMINATE)
                ind_only = false;
            if (failure && !first_failure)
                first_failure = failure;
            bool insp = false;
            if (c->cert) {
                bool expected = true;
                for (int r = 0; r < nr; r++)
                    if (cflow_matches(rules[r], c) && !issuer_expected(rules[r], c->issuer))
                        expected = false;
                insp = !expected;
                if (insp) {
                    inspection = true;
                    json_array_append_new(issuers, json_string(c->issuer));
                }
            }
            char ip[PW_ADDR_STRLEN];
            json_t *o_ = json_pack("{s:s,s:s,s:I,s:f,s:s,s:o,s:I,s:s,s:s}", "via", c->is_connect ? "proxy" : "direct",
                                   "source", src_name(srcs, c->source), "frame", (json_int_t)c->frame, "ts",
                                   pw_usec_to_sec(c->ts), "host", cflow_name(c), "server", jaddr(&c->k.server),
                                   "port", (json_int_t)cflow_port(c), "outcome", pw_outcome_name(o), "result",
                                   reason);
            if (c->is_connect) {
                char px[80];
                snprintf(px, sizeof px, "%s:%u", pw_addr_str(&c->k.server, ip, sizeof ip), c->k.sport);
                json_object_set_new(o_, "proxy", json_string(px));
                json_object_set_new(o_, "status", c->status ? json_integer(c->status) : json_null());
            } else {
                json_object_set_new(o_, "proxy", json_null());
            }
            json_object_set_new(o_, "failure", failure ? json_string(failure) : json_null());
            json_object_set_new(o_, "tls_server_hello", json_boolean(c->server_hello));
            json_object_set_new(o_, "issuer", c->cert ? json_string(c->issuer) : json_null());
            json_object_set_new(o_, "tls_inspection", json_boolean(insp));
            if ((int)json_array_size(conns) < (p->cfg.max_evidence > 0 ? p->cfg.max_evidence : 1))
                json_array_append_new(conns, o_);
            else
                json_decref(o_);
            j++;
        }
        bool inf = true, by;
        side_ok(p, NULL, "sensor", &fl[i]->k.client, NULL, false, &inf, &by);
        json_t *s = json_pack("{s:o,s:b,s:b}", "sensor", jaddr(&fl[i]->k.client), "role_inferred", inf,
                              "reached", reached);
        json_object_set_new(s, "verdict", json_string(reached ? "pass" : ind_only ? "indeterminate" : "fail"));
        json_object_set_new(s, "via", reached ? json_string(via_proxy[0] ? "proxy" : "direct") : json_null());
        json_object_set_new(s, "proxy", via_proxy[0] ? json_string(via_proxy) : json_null());
        json_object_set_new(s, "failure", reached ? json_null() : first_failure ? json_string(first_failure)
                                                                                 : json_null());
        json_t *ti = json_pack("{s:b,s:o}", "detected", inspection, "issuers", issuers);
        if (inspection)
            json_object_set_new(ti, "note",
                                json_string("a TLS inspection device re-signs the Azure ATP certificate; "
                                            "SSL inspection of sensor traffic must support mutual inspection"));
        json_object_set_new(s, "tls_inspection", ti);
        json_object_set_new(s, "connections", conns);
        json_array_append_new(arr, s);
        i = j;
    }
    free(fl);
    return arr;
}
