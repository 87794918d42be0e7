/* policy/load.c - loading and listing profiles: reads a policy profile (YAML,
 * libyaml document API) into the model of policy_internal.h (every error
 * names file:line:column), finds the built-in ones, and loads the profiles of
 * a run into a pw_policy. */
#include "internal.h"
#include "../../common/xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "../../common/log.h"

const char *pw_proto_str(uint8_t proto)
{
    return proto == 6 ? "tcp" : proto == 17 ? "udp" : "?";
}

bool pw_name_match(const char *pattern, const char *name)
{
    if (!pattern || !name || !*name)
        return false;
    return fnmatch(pattern, name, FNM_CASEFOLD) == 0;
}

static bool parse_u16(const char *s, const char **end, uint16_t *out)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s))
        return false;
    unsigned long v = 0;
    while (isdigit((unsigned char)*s)) {
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > 65535)
            return false;
        s++;
    }
    while (isspace((unsigned char)*s))
        s++;
    *out = (uint16_t)v;
    *end = s;
    return true;
}

static int parse_proto(const char *s, size_t n)
{
    if (n == 3 && strncasecmp(s, "tcp", 3) == 0)
        return 6;
    if (n == 3 && strncasecmp(s, "udp", 3) == 0)
        return 17;
    return -1;
}

bool pw_pport_parse(const char *s, pw_pport *out)
{
    const char *slash = strchr(s, '/');
    if (!slash)
        return false;
    int pr = parse_proto(s, (size_t)(slash - s));
    const char *end;
    if (pr < 0 || !parse_u16(slash + 1, &end, &out->port) || *end || out->port == 0)
        return false;
    out->proto = (uint8_t)pr;
    return true;
}

bool pw_portspec_parse(const char *s, pw_portspec *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->text, sizeof out->text, "%s", s);
    if (strcmp(s, "epm-dynamic") == 0) {
        out->epm_dynamic = true;
        return true;
    }
    static const char announced[] = "sql-announced";
    const char *p = s;
    while (*p) {
        uint16_t lo, hi;
        if (!strncmp(p, announced, sizeof announced - 1)) {
            out->sql_announced = true;
            p += sizeof announced - 1;
            if (*p == ',')
                p++;
            else if (*p)
                return false;
            continue;
        }
        if (out->n >= PW_PORTS_MAX || !parse_u16(p, &p, &lo) || lo == 0)
            return false;
        hi = lo;
        if (*p == '-' && (!parse_u16(p + 1, &p, &hi) || hi < lo))
            return false;
        out->lo[out->n] = lo;
        out->hi[out->n] = hi;
        out->n++;
        if (*p == ',')
            p++;
        else if (*p)
            return false;
    }
    return out->n > 0 || out->sql_announced;
}

bool pw_portspec_has(const pw_portspec *ps, uint16_t p)
{
    for (int i = 0; i < ps->n; i++)
        if (p >= ps->lo[i] && p <= ps->hi[i])
            return true;
    return false;
}

/* ---- YAML helpers ---------------------------------------------------------- */

typedef struct ld {
    yaml_document_t *doc;
    const char *file;
    char *err;
    size_t errlen;
    bool failed;
} ld;

static void fail(ld *L, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(ld *L, const yaml_node_t *n, const char *fmt, ...)
{
    if (L->failed)
        return;
    L->failed = true;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n)
        snprintf(L->err, L->errlen, "%s:%zu:%zu: %s", L->file, n->start_mark.line + 1,
                 n->start_mark.column + 1, msg);
    else
        snprintf(L->err, L->errlen, "%s: %s", L->file, msg);
}

static yaml_node_t *node(ld *L, int id) { return yaml_document_get_node(L->doc, id); }

static const char *scalar(ld *L, yaml_node_t *n, const char *what)
{
    if (!n || n->type != YAML_SCALAR_NODE) {
        fail(L, n, "%s must be a text value", what);
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

static bool as_bool(ld *L, yaml_node_t *n, const char *what, bool *out)
{
    const char *s = scalar(L, n, what);
    if (!s)
        return false;
    if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "required")) {
        *out = true;
        return true;
    }
    if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "optional")) {
        *out = false;
        return true;
    }
    fail(L, n, "%s must be true or false, not '%s'", what, s);
    return false;
}

static void copy(char *dst, size_t n, const char *s) { snprintf(dst, n, "%s", s ? s : ""); }

static bool is_seq(ld *L, yaml_node_t *n, const char *what)
{
    if (!n || n->type != YAML_SEQUENCE_NODE) {
        fail(L, n, "%s must be a list", what);
        return false;
    }
    return true;
}

static bool is_map(ld *L, yaml_node_t *n, const char *what)
{
    if (!n || n->type != YAML_MAPPING_NODE) {
        fail(L, n, "%s must be a mapping", what);
        return false;
    }
    return true;
}

#define SEQ_EACH(L, n, item)                                                              \
    for (yaml_node_item_t *it_ = (n)->data.sequence.items.start;                          \
         it_ < (n)->data.sequence.items.top && ((item) = node((L), *it_)) != NULL; it_++)

static bool parse_pports(ld *L, yaml_node_t *n, const char *what, pw_cond *c)
{
    if (!is_seq(L, n, what))
        return false;
    yaml_node_t *item;
    SEQ_EACH(L, n, item) {
        const char *s = scalar(L, item, what);
        if (!s)
            return false;
        if (c->n_ports >= PW_COND_PORTS_MAX) {
            fail(L, item, "%s: at most %d ports", what, PW_COND_PORTS_MAX);
            return false;
        }
        if (!pw_pport_parse(s, &c->ports[c->n_ports])) {
            fail(L, item, "%s: '%s' is not PROTO/PORT (e.g. tcp/3741)", what, s);
            return false;
        }
        c->n_ports++;
    }
    if (!c->n_ports) {
        fail(L, n, "%s: empty list", what);
        return false;
    }
    return true;
}

/* A list of conditions, each a mapping with one key. */
static int parse_conds(ld *L, yaml_node_t *n, const char *what, pw_cond *out, bool detect)
{
    if (!is_seq(L, n, what))
        return -1;
    int count = 0;
    yaml_node_t *item;
    SEQ_EACH(L, n, item) {
        if (!is_map(L, item, what))
            return -1;
        if (count >= PW_COND_MAX) {
            fail(L, item, "%s: at most %d conditions", what, PW_COND_MAX);
            return -1;
        }
        pw_cond *c = &out[count];
        memset(c, 0, sizeof *c);
        for (yaml_node_pair_t *pr = item->data.mapping.pairs.start; pr < item->data.mapping.pairs.top; pr++) {
            yaml_node_t *k = node(L, pr->key), *v = node(L, pr->value);
            const char *key = scalar(L, k, "condition key");
            if (!key)
                return -1;
            if (c->kind) {
                fail(L, k, "%s: one condition per list item ('%s' is extra)", what, key);
                return -1;
            }
            if (!strcmp(key, "seen") && detect) {
                c->kind = PW_COND_SEEN;
                if (!parse_pports(L, v, "seen", c))
                    return -1;
            } else if (!strcmp(key, "answers") && !detect) {
                c->kind = PW_COND_ANSWERS;
                if (!parse_pports(L, v, "answers", c))
                    return -1;
            } else if (!strcmp(key, "connects") && !detect) {
                c->kind = PW_COND_CONNECTS;
                if (!parse_pports(L, v, "connects", c))
                    return -1;
            } else if (!strcmp(key, "sni")) {
                c->kind = PW_COND_SNI;
                const char *s = scalar(L, v, "sni");
                if (!s)
                    return -1;
                copy(c->pattern, sizeof c->pattern, s);
            } else if (!strcmp(key, "ntlm_rpc") && detect) {
                bool b;
                if (!as_bool(L, v, "ntlm_rpc", &b))
                    return -1;
                if (!b) {
                    fail(L, v, "ntlm_rpc: only 'true' makes sense");
                    return -1;
                }
                c->kind = PW_COND_NTLM_RPC;
            } else if (!strcmp(key, "proxy") && !detect) {
                bool b;
                if (!as_bool(L, v, "proxy", &b))
                    return -1;
                if (!b) {
                    fail(L, v, "proxy: only 'true' makes sense");
                    return -1;
                }
                c->kind = PW_COND_PROXY;
            } else {
                fail(L, k, "%s: unknown condition '%s' (%s)", what, key,
                     detect ? "use seen, sni or ntlm_rpc" : "use answers, connects, sni or proxy");
                return -1;
            }
        }
        if (!c->kind) {
            fail(L, item, "%s: empty condition", what);
            return -1;
        }
        count++;
    }
    return count;
}

static bool parse_role(ld *L, const char *name, yaml_node_t *v, pw_role_def *r)
{
    memset(r, 0, sizeof *r);
    copy(r->name, sizeof r->name, name);
    if (v->type == YAML_SCALAR_NODE) { /* "role: description" */
        r->description = pw_xstrdup((const char *)v->data.scalar.value);
        return true;
    }
    if (!is_map(L, v, "a role"))
        return false;
    for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node(L, pr->key), *val = node(L, pr->value);
        const char *key = scalar(L, k, "role key");
        if (!key)
            return false;
        if (!strcmp(key, "description")) {
            const char *s = scalar(L, val, "description");
            if (!s)
                return false;
            free(r->description);
            r->description = pw_xstrdup(s);
        } else if (!strcmp(key, "infer")) {
            int n = parse_conds(L, val, "infer", r->infer, false);
            if (n < 0)
                return false;
            r->n_infer = n;
        } else if (!strcmp(key, "addresses")) {
            if (!is_seq(L, val, "addresses"))
                return false;
            yaml_node_t *item;
            SEQ_EACH(L, val, item) {
                const char *s = scalar(L, item, "address");
                if (!s)
                    return false;
                if (r->n_addrs >= PW_ROLE_ADDRS_MAX) {
                    fail(L, item, "addresses: at most %d", PW_ROLE_ADDRS_MAX);
                    return false;
                }
                pw_cidr *c = &r->addrs[r->n_addrs];
                if (!pw_addr_parse_cidr(s, &c->net, &c->prefix)) {
                    fail(L, item, "role '%s': '%s' is not an IP address or CIDR", name, s);
                    return false;
                }
                r->n_addrs++;
            }
        } else {
            fail(L, k, "role '%s': unknown key '%s' (description, infer, addresses)", name, key);
            return false;
        }
    }
    return true;
}

static bool str_list(ld *L, yaml_node_t *v, const char *what, char (*dst)[128], char (*dst64)[64],
                     int *n)
{
    if (v->type == YAML_SCALAR_NODE) {
        if (dst)
            copy(dst[0], 128, (const char *)v->data.scalar.value);
        else
            copy(dst64[0], 64, (const char *)v->data.scalar.value);
        *n = 1;
        return true;
    }
    if (!is_seq(L, v, what))
        return false;
    yaml_node_t *item;
    SEQ_EACH(L, v, item) {
        const char *s = scalar(L, item, what);
        if (!s)
            return false;
        if (*n >= PW_PATTERN_MAX) {
            fail(L, item, "%s: at most %d entries", what, PW_PATTERN_MAX);
            return false;
        }
        if (dst)
            copy(dst[*n], 128, s);
        else
            copy(dst64[*n], 64, s);
        (*n)++;
    }
    return true;
}

/* A rule key whose value is one scalar. */
static bool rule_scalar(ld *L, yaml_node_t *k, yaml_node_t *v, const char *key, pw_rule_def *r,
                        bool *have_proto, bool *have_ports)
{
    const char *s = scalar(L, v, key);
    if (!s)
        return false;
    if (!strcmp(key, "id"))
        copy(r->id, sizeof r->id, s);
    else if (!strcmp(key, "description"))
        r->description = pw_xstrdup(s);
    else if (!strcmp(key, "table"))
        r->table = pw_xstrdup(s);
    else if (!strcmp(key, "from"))
        copy(r->from, sizeof r->from, s);
    else if (!strcmp(key, "to"))
        copy(r->to, sizeof r->to, s);
    else if (!strcmp(key, "remediation"))
        r->remediation = pw_xstrdup(s);
    else if (!strcmp(key, "prove"))
        r->prove = pw_xstrdup(s);
    else if (!strcmp(key, "proto")) {
        int p = parse_proto(s, strlen(s));
        if (p < 0) {
            fail(L, v, "rule '%s': proto must be tcp or udp, not '%s'", r->id, s);
            return false;
        }
        r->proto = (uint8_t)p;
        *have_proto = true;
    } else if (!strcmp(key, "ports")) {
        if (!pw_portspec_parse(s, &r->ports)) {
            fail(L, v, "rule '%s': ports '%s' is not a port, list, range, epm-dynamic or sql-announced", r->id, s);
            return false;
        }
        *have_ports = true;
    } else {
        fail(L, k, "rule '%s': unknown key '%s'", r->id, key);
        return false;
    }
    return true;
}

static bool parse_rule(ld *L, yaml_node_t *n, pw_rule_def *r)
{
    memset(r, 0, sizeof *r);
    r->line = (int)n->start_mark.line + 1;
    if (!is_map(L, n, "a rule"))
        return false;
    bool have_req = false, have_ports = false, have_proto = false, rpcdyn = false;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node(L, pr->key), *v = node(L, pr->value);
        const char *key = scalar(L, k, "rule key");
        if (!key)
            return false;
        if (!strcmp(key, "hosts")) {
            if (!str_list(L, v, "hosts", r->hosts, NULL, &r->n_hosts))
                return false;
            continue;
        }
        if (!strcmp(key, "expected_issuers")) {
            if (!str_list(L, v, "expected_issuers", NULL, r->expected_issuers, &r->n_issuers))
                return false;
            continue;
        }
        if (!strcmp(key, "required")) {
            if (!as_bool(L, v, "required", &r->required))
                return false;
            have_req = true;
            continue;
        }
        if (!strcmp(key, "rpc_dynamic")) {
            if (!as_bool(L, v, "rpc_dynamic", &rpcdyn))
                return false;
            continue;
        }
        if (!rule_scalar(L, k, v, key, r, &have_proto, &have_ports))
            return false;
    }
    const char *missing = !r->id[0] ? "id" : !r->description ? "description" : !r->from[0] ? "from"
                        : !r->to[0] ? "to" : !have_proto ? "proto" : !have_ports ? "ports"
                        : !have_req ? "required" : !r->remediation ? "remediation" : NULL;
    if (missing) {
        fail(L, n, "rule '%s': missing '%s'", r->id[0] ? r->id : "?", missing);
        return false;
    }
    r->ports.rpc_dynamic = rpcdyn; /* applied here: it may precede ports in the mapping */
    if (rpcdyn && r->ports.epm_dynamic) {
        fail(L, n, "rule '%s': rpc_dynamic applies to a port range, not to epm-dynamic", r->id);
        return false;
    }
    if (!r->table)
        r->table = pw_xstrdup("");
    return true;
}

void pw_profile_free(pw_profile_def *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n_roles; i++)
        free(p->roles[i].description);
    for (int i = 0; i < p->n_rules; i++) {
        free(p->rules[i].description);
        free(p->rules[i].table);
        free(p->rules[i].remediation);
        free(p->rules[i].prove);
    }
    free(p->roles);
    free(p->rules);
    free(p->description);
    free(p->document);
    free(p);
}

static bool load_roles(ld *L, yaml_node_t *v, pw_profile_def *p)
{
    if (!is_map(L, v, "roles"))
        return false;
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    p->roles = pw_xcalloc(n ? n : 1, sizeof *p->roles);
    for (yaml_node_pair_t *rp = v->data.mapping.pairs.start; rp < v->data.mapping.pairs.top; rp++) {
        const char *rn = scalar(L, node(L, rp->key), "role name");
        if (!rn)
            return false;
        if (!parse_role(L, rn, node(L, rp->value), &p->roles[p->n_roles])) {
            free(p->roles[p->n_roles].description);
            return false;
        }
        p->n_roles++;
    }
    return true;
}

static bool load_rules(ld *L, yaml_node_t *v, pw_profile_def *p)
{
    if (!is_seq(L, v, "rules"))
        return false;
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    p->rules = pw_xcalloc(n ? n : 1, sizeof *p->rules);
    yaml_node_t *item;
    SEQ_EACH(L, v, item) {
        pw_rule_def *r = &p->rules[p->n_rules];
        if (!parse_rule(L, item, r)) {
            free(r->description);
            free(r->table);
            free(r->remediation);
            free(r->prove);
            return false;
        }
        for (int i = 0; i < p->n_rules; i++)
            if (!strcmp(p->rules[i].id, r->id)) {
                p->n_rules++;
                fail(L, item, "rule id '%s' is used twice (first at line %d)", r->id, p->rules[i].line);
                return false;
            }
        p->n_rules++;
    }
    return true;
}

static bool load_root(ld *L, pw_profile_def *p)
{
    yaml_node_t *root = yaml_document_get_root_node(L->doc);
    if (!root) {
        fail(L, NULL, "empty profile");
        return false;
    }
    if (!is_map(L, root, "the profile"))
        return false;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node(L, pr->key), *v = node(L, pr->value);
        const char *key = scalar(L, k, "key");
        if (!key)
            return false;
        if (!strcmp(key, "name") || !strcmp(key, "description") || !strcmp(key, "document")) {
            const char *s = scalar(L, v, key);
            if (!s)
                return false;
            if (key[0] == 'n')
                copy(p->name, sizeof p->name, s);
            else if (key[0] == 'd' && key[1] == 'e')
                p->description = pw_xstrdup(s);
            else
                p->document = pw_xstrdup(s);
        } else if (!strcmp(key, "detect")) {
            int n = parse_conds(L, v, "detect", p->detect, true);
            if (n < 0)
                return false;
            p->n_detect = n;
        } else if (!strcmp(key, "roles")) {
            if (!load_roles(L, v, p))
                return false;
        } else if (!strcmp(key, "rules")) {
            if (!load_rules(L, v, p))
                return false;
        } else {
            fail(L, k, "unknown key '%s' (name, description, document, detect, roles, rules)", key);
            return false;
        }
    }
    if (!p->name[0]) {
        fail(L, root, "missing 'name'");
        return false;
    }
    if (!p->description)
        p->description = pw_xstrdup("");
    if (!p->document)
        p->document = pw_xstrdup("");
    return true;
}

pw_profile_def *pw_profile_parse(const char *text, size_t len, const char *name, char *err,
                                 size_t errlen)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "%s: cannot initialise the YAML parser", name);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%zu:%zu: YAML error: %s%s%s", name, parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1, parser.problem ? parser.problem : "syntax error",
                 parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return NULL;
    }
    pw_profile_def *p = pw_xcalloc(1, sizeof *p);
    ld L = {.doc = &doc, .file = name, .err = err, .errlen = errlen};
    bool ok = load_root(&L, p);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (!ok) {
        pw_profile_free(p);
        return NULL;
    }
    copy(p->path, sizeof p->path, name);
    return p;
}

pw_profile_def *pw_profile_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *buf = pw_xmalloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            if (cap >= (16u << 20)) {
                fclose(f);
                free(buf);
                snprintf(err, errlen, "%s: profile larger than 16 MB", path);
                return NULL;
            }
            cap *= 2;
            buf = pw_xrealloc(buf, cap, 1);
        }
    }
    bool rerr = ferror(f);
    fclose(f);
    if (rerr) {
        free(buf);
        snprintf(err, errlen, "%s: read error", path);
        return NULL;
    }
    pw_profile_def *p = pw_profile_parse(buf, len, path, err, errlen);
    free(buf);
    return p;
}

/* ---- the profiles of a run ------------------------------------------------- */

#ifndef PW_PROFILE_DIR
#define PW_PROFILE_DIR "profiles"
#endif


static void add_pattern(pw_policy *p, const char *pat)
{
    for (int i = 0; i < p->n_patterns; i++)
        if (!strcasecmp(p->patterns[i], pat))
            return;
    if (p->n_patterns < 64)
        snprintf(p->patterns[p->n_patterns++], sizeof p->patterns[0], "%s", pat);
}

static void index_profile(pw_policy *p, const pw_profile_def *d)
{
    for (int i = 0; i < d->n_detect; i++) {
        const pw_cond *c = &d->detect[i];
        for (int j = 0; j < c->n_ports; j++)
            set_rel(p, c->ports[j].proto, c->ports[j].port);
        if (c->kind == PW_COND_SNI)
            add_pattern(p, c->pattern);
    }
    for (int r = 0; r < d->n_roles; r++)
        for (int i = 0; i < d->roles[r].n_infer; i++) {
            const pw_cond *c = &d->roles[r].infer[i];
            for (int j = 0; j < c->n_ports; j++)
                set_rel(p, c->ports[j].proto, c->ports[j].port);
            if (c->kind == PW_COND_SNI)
                add_pattern(p, c->pattern);
        }
    for (int r = 0; r < d->n_rules; r++) {
        const pw_rule_def *rule = &d->rules[r];
        for (int i = 0; i < rule->n_hosts; i++)
            add_pattern(p, rule->hosts[i]);
        if (rule->n_hosts || rule->ports.epm_dynamic || rule->ports.rpc_dynamic)
            continue; /* name rules use cloud flows; dynamic ones the dyn flag */
        for (int i = 0; i < rule->ports.n; i++)
            for (uint32_t port = rule->ports.lo[i]; port <= rule->ports.hi[i]; port++)
                set_rel(p, rule->proto, (uint16_t)port);
    }
}

/* ---- loading ---------------------------------------------------------------- */

static bool is_path(const char *s)
{
    size_t n = strlen(s);
    return strchr(s, '/') || (n > 5 && !strcmp(s + n - 5, ".yaml")) || (n > 4 && !strcmp(s + n - 4, ".yml"));
}

static const char *profile_dir(const pw_config *cfg)
{
    return cfg && cfg->profile_dir && cfg->profile_dir[0] ? cfg->profile_dir : PW_PROFILE_DIR;
}

static int yaml_filter(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return e->d_name[0] != '.' && n > 5 && !strcmp(e->d_name + n - 5, ".yaml");
}

/* Sorted list of built-in profile files; returns count or -1. */
static int builtin_files(const char *dir, struct dirent ***list)
{
    return scandir(dir, list, yaml_filter, alphasort);
}

static bool add_profile(pw_policy *p, pw_profile_def *d, bool explicit_, char *err, size_t errlen)
{
    for (int i = 0; i < p->n_prof; i++)
        if (!strcmp(p->prof[i].def->name, d->name)) {
            if (explicit_ && p->prof[i].explicit_) {
                pw_profile_free(d); /* named twice: keep one */
                return true;
            }
            snprintf(err, errlen, "%s: profile name '%s' is already loaded from %s", d->path, d->name,
                     p->prof[i].def->path);
            pw_profile_free(d);
            return false;
        }
    if (p->n_prof >= (int)(sizeof p->prof / sizeof p->prof[0])) {
        snprintf(err, errlen, "too many profiles");
        pw_profile_free(d);
        return false;
    }
    loaded *l = &p->prof[p->n_prof++];
    l->def = d;
    l->explicit_ = explicit_;
    l->active = explicit_;
    index_profile(p, d);
    return true;
}

/* The profiles named with --profile (built-in names or files). */
static bool load_named(pw_policy *p, const char *dir, char *err, size_t errlen)
{
    for (int i = 0; i < p->cfg.n_profiles; i++) {
        const char *name = p->cfg.profiles[i];
        char path[1024];
        bool builtin = !is_path(name);
        if (builtin)
            snprintf(path, sizeof path, "%s/%s.yaml", dir, name);
        else
            snprintf(path, sizeof path, "%s", name);
        FILE *f = fopen(path, "rb");
        if (!f) {
            if (builtin)
                snprintf(err, errlen, "unknown profile '%s' (no %s; see --list-profiles)", name, path);
            else
                snprintf(err, errlen, "%s: cannot open profile", path);
            return false;
        }
        fclose(f);
        pw_profile_def *d = pw_profile_load(path, err, errlen);
        if (!d)
            return false;
        d->builtin = builtin;
        if (!add_profile(p, d, true, err, errlen))
            return false;
    }
    return true;
}

/* Every built-in profile, to be chosen by the traffic. */
static bool load_builtins(pw_policy *p, const char *dir, char *err, size_t errlen)
{
    p->auto_choose = true;
    struct dirent **list = NULL;
    int n = builtin_files(dir, &list);
    if (n < 0)
        pw_warn("policy: no built-in profiles in %s", dir);
    bool ok = true;
    for (int i = 0; i < n; i++) {
        if (ok) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
            pw_profile_def *d = pw_profile_load(path, err, errlen);
            ok = d != NULL;
            if (d) {
                d->builtin = true;
                ok = add_profile(p, d, false, err, errlen);
            }
        }
        free(list[i]);
    }
    free(list);
    return ok;
}

pw_policy *pw_policy_new(const pw_config *cfg, char *err, size_t errlen)
{
    pw_policy *p = pw_xaligned(alignof(pw_policy), sizeof *p); /* its lines as internal.h lays them out */
    memset(p, 0, sizeof *p);
    if (cfg)
        p->cfg = *cfg;
    else
        pw_config_defaults(&p->cfg);
    if (p->cfg.max_evidence < 0)
        p->cfg.max_evidence = 0;
    if (p->cfg.max_evidence > 1000)
        p->cfg.max_evidence = 1000;
    p->lim.pairs = PW_POLICY_MAX_PAIRS;
    p->lim.servers = PW_POLICY_MAX_SERVERS;
    p->lim.samples = PW_POLICY_MAX_SAMPLES;
    p->lim.flows = PW_POLICY_MAX_FLOWS;
    const char *dir = profile_dir(&p->cfg);
    bool ok = p->cfg.n_profiles > 0 ? load_named(p, dir, err, errlen) : load_builtins(p, dir, err, errlen);
    if (!ok) {
        pw_policy_free(p);
        return NULL;
    }
    return p;
}


int pw_policy_list_profiles(const char *dir, FILE *out)
{
    if (!dir || !*dir)
        dir = PW_PROFILE_DIR;
    struct dirent **list = NULL;
    int n = builtin_files(dir, &list);
    if (n < 0) {
        pw_error("%s: cannot list profiles", dir);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path[1024], err[512];
        snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
        pw_profile_def *d = pw_profile_load(path, err, sizeof err);
        if (d) {
            fprintf(out, "%s\t%s\n", d->name, d->description);
            pw_profile_free(d);
        } else {
            pw_error("%s", err);
            rc = -1;
        }
        free(list[i]);
    }
    free(list);
    return rc;
}

void pw_policy_free(pw_policy *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n_prof; i++)
        pw_profile_free(p->prof[i].def);
    for (size_t i = 0; i < p->n_agv; i++) {
        free(p->agv[i]->ok);
        free(p->agv[i]->bad);
        free(p->agv[i]->app);
    }
    for (size_t i = 0; i < p->n_agg_chunks; i++)
        free(p->agg_chunks[i]);
    free(p->agg_chunks);
    free(p->agv);
    free(p->slots);
    for (int i = 0; i < LV_COUNT - 1; i++)
        free(p->present[i]);
    epm_ent *e, *te;
    HASH_ITER(hh, p->epm, e, te) {
        HASH_DEL(p->epm, e);
        free(e);
    }
    cflow *f, *tf;
    LL_FOREACH_SAFE(p->cflows, f, tf) {
        LL_DELETE(p->cflows, f);
        free(f);
    }
    dns_ent *d, *td;
    HASH_ITER(hh, p->dns, d, td) {
        HASH_DEL(p->dns, d);
        free(d);
    }
    proxy_ent *x, *tx;
    HASH_ITER(hh, p->proxies, x, tx) {
        HASH_DEL(p->proxies, x);
        free(x);
    }
    clear_assigns(p);
    free(p->as);
    free(p->cidr_idx);
    free(p);
}
