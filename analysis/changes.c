/* changes.c - differences between successive live results (changes.h). */
#include "changes.h"

#include <stdlib.h>
#include <string.h>

typedef struct rule_state {
    uint64_t key;                 /* hash of profile and rule id */
    pw_verdict verdict;
} rule_state;

typedef struct alert_state {
    pw_addr sensor;
    pw_nnr_method method;
} alert_state;

struct pw_changes {
    rule_state *rules;
    size_t n_rules;
    alert_state *alerts;
    size_t n_alerts;
    uint64_t *names;              /* open addressing; 0 = empty */
    size_t n_names;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

static uint64_t rule_key(const pw_res_rule *x)
{
    uint64_t h = fnv(14695981039346656037ULL, x->profile, strlen(x->profile) + 1);
    return fnv(h, x->id, strlen(x->id) + 1);
}

pw_changes *pw_changes_new(void)
{
    pw_changes *c = calloc(1, sizeof *c);
    if (c && !(c->names = calloc(PW_CHANGES_MAX_NAMES * 2, sizeof *c->names))) {
        free(c);
        return NULL;
    }
    return c;
}

static const rule_state *find_rule(const pw_changes *c, uint64_t key)
{
    for (size_t i = 0; i < c->n_rules; i++)
        if (c->rules[i].key == key)
            return &c->rules[i];
    return NULL;
}

static void diff_rules(pw_changes *c, const pw_result *r, void (*emit)(void *, const pw_change *), void *arg)
{
    rule_state *now = malloc((r->n_rules ? r->n_rules : 1) * sizeof *now);
    if (!now)
        return;
    for (size_t i = 0; i < r->n_rules; i++) {
        const pw_res_rule *x = &r->rules[i];
        now[i] = (rule_state){rule_key(x), x->verdict};
        const rule_state *was = find_rule(c, now[i].key);
        if (was && was->verdict == x->verdict)
            continue;
        pw_change ch = {.kind = PW_CHG_RULE, .rule = x, .had_verdict = was != NULL,
                        .from = was ? was->verdict : x->verdict};
        emit(arg, &ch);
    }
    free(c->rules);
    c->rules = now;
    c->n_rules = r->n_rules;
}

static bool has_alert(const alert_state *v, size_t n, const pw_addr *s, pw_nnr_method m)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].method == m && pw_addr_eq(&v[i].sensor, s))
            return true;
    return false;
}

/* The alerts standing in r, as copies. */
static alert_state *alerts_of(const pw_result *r, size_t *n)
{
    size_t total = 0;
    for (size_t i = 0; i < r->nnr.n_sensors; i++)
        total += r->nnr.sensors[i].n_alerts;
    alert_state *v = malloc((total ? total : 1) * sizeof *v);
    *n = 0;
    for (size_t i = 0; v && i < r->nnr.n_sensors; i++)
        for (size_t k = 0; k < r->nnr.sensors[i].n_alerts; k++)
            v[(*n)++] = (alert_state){r->nnr.sensors[i].sensor, r->nnr.sensors[i].alerts[k].method};
    return v;
}

static void diff_alerts(pw_changes *c, const pw_result *r, void (*emit)(void *, const pw_change *), void *arg)
{
    size_t n;
    alert_state *now = alerts_of(r, &n);
    if (!now)
        return;
    for (size_t i = 0; i < r->nnr.n_sensors; i++)
        for (size_t k = 0; k < r->nnr.sensors[i].n_alerts; k++) {
            const pw_res_nnr_sensor *s = &r->nnr.sensors[i];
            if (has_alert(c->alerts, c->n_alerts, &s->sensor, s->alerts[k].method))
                continue;
            pw_change ch = {.kind = PW_CHG_ALERT_RAISED, .sensor = s->sensor, .method = s->alerts[k].method,
                            .rate = s->alerts[k].rate};
            emit(arg, &ch);
        }
    for (size_t i = 0; i < c->n_alerts; i++)
        if (!has_alert(now, n, &c->alerts[i].sensor, c->alerts[i].method)) {
            pw_change ch = {.kind = PW_CHG_ALERT_CLEARED, .sensor = c->alerts[i].sensor,
                            .method = c->alerts[i].method};
            emit(arg, &ch);
        }
    free(c->alerts);
    c->alerts = now;
    c->n_alerts = n;
}

/* Inserts the name's hash; true when it was not there (and there was room). */
static bool remember_name(pw_changes *c, const pw_res_host *h, const pw_res_name *nm)
{
    char ip[PW_ADDR_STRLEN];
    pw_addr_str(&h->ip, ip, sizeof ip); /* the text: no padding bytes in the hash */
    uint64_t k = fnv(fnv(14695981039346656037ULL, ip, strlen(ip) + 1), nm->name, strlen(nm->name) + 1);
    unsigned src = (unsigned)nm->src;
    k = fnv(k, &src, sizeof src) | 1; /* never 0, the empty mark */
    size_t mask = PW_CHANGES_MAX_NAMES * 2 - 1;
    for (size_t i = (size_t)k & mask;; i = (i + 1) & mask) {
        if (c->names[i] == k)
            return false;
        if (c->names[i] == 0) {
            if (c->n_names >= PW_CHANGES_MAX_NAMES)
                return false;
            c->names[i] = k;
            c->n_names++;
            return true;
        }
    }
}

static void diff_names(pw_changes *c, const pw_result *r, void (*emit)(void *, const pw_change *), void *arg)
{
    for (size_t i = 0; i < r->n_hosts; i++)
        for (size_t k = 0; k < r->hosts[i].n_names; k++)
            if (remember_name(c, &r->hosts[i], &r->hosts[i].names[k])) {
                pw_change ch = {.kind = PW_CHG_NAME, .host = &r->hosts[i], .name = &r->hosts[i].names[k]};
                emit(arg, &ch);
            }
}

void pw_changes_diff(pw_changes *c, const pw_result *r, void (*emit)(void *arg, const pw_change *ch), void *arg)
{
    diff_names(c, r, emit, arg);
    diff_alerts(c, r, emit, arg);
    diff_rules(c, r, emit, arg);
}

void pw_changes_free(pw_changes *c)
{
    if (!c)
        return;
    free(c->rules);
    free(c->alerts);
    free(c->names);
    free(c);
}
