/* test_profiles_seed.c - the built-in profiles cover the seed documents.
 *
 * Parses the vendor documents in ../shared/seeds at run time (never copied
 * into the repo): every table row of 001 (Netwrix Threat Prevention firewall
 * ports) must have a rule in netwrix-threat-prevention.yaml with the same
 * table, transport and port (ranges and "RPC Dynamic Range"/"Various" as
 * written), optional exactly where the row says optional; every "TCP/UDP
 * port N" of 000 a rule in mdi-nnr.yaml; every port and every
 * *.atp.azure.com name of 002 a rule in mdi-sensor.yaml.  Without the seeds
 * the test prints "skipped" and exits 77, which ctest reports as skipped. */
#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "../../analysis/policy_internal.h"
#include "check.h"

#define SEEDS PW_SOURCE_DIR "/../shared/seeds"

static char *read_seed(const char *prefix)
{
    DIR *d = opendir(SEEDS);
    if (!d)
        return NULL;
    struct dirent *e;
    char path[2048] = "";
    while ((e = readdir(d)) != NULL)
        if (!strncmp(e->d_name, prefix, strlen(prefix))) {
            snprintf(path, sizeof path, "%s/%s", SEEDS, e->d_name);
            break;
        }
    closedir(d);
    if (!path[0])
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = calloc(1, (size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    /* the documents use non-breaking spaces (U+00A0) here and there: make them plain */
    if (buf) {
        size_t o = 0;
        for (size_t i = 0; buf[i]; i++) {
            if ((unsigned char)buf[i] == 0xC2 && (unsigned char)buf[i + 1] == 0xA0) {
                buf[o++] = ' ';
                i++;
            } else {
                buf[o++] = buf[i];
            }
        }
        buf[o] = 0;
    }
    return buf;
}

static pw_profile_def *profile(const char *name)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/%s.yaml", PW_PROFILE_DIR, name);
    pw_profile_def *p = pw_profile_load(path, err, sizeof err);
    if (!p)
        fprintf(stderr, "%s\n", err);
    return p;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    size_t i = 0;
    while (isspace((unsigned char)s[i]))
        i++;
    memmove(s, s + i, strlen(s + i) + 1);
}

/* Port items of one "Ports" cell. */
typedef struct item {
    int kind; /* 0 port, 1 range, 2 epm-dynamic */
    unsigned lo, hi;
} item;

static int parse_ports(const char *cell, item *out, int max)
{
    int n = 0;
    if (strcasestr(cell, "RPC Dynamic Range") || strcasestr(cell, "Various")) {
        out[n++] = (item){2, 0, 0};
        return n;
    }
    const char *p = cell;
    while (*p && n < max) {
        if (!isdigit((unsigned char)*p)) {
            p++;
            continue;
        }
        unsigned lo = (unsigned)strtoul(p, (char **)&p, 10), hi = lo;
        if (*p == '-' && isdigit((unsigned char)p[1]))
            hi = (unsigned)strtoul(p + 1, (char **)&p, 10);
        out[n++] = (item){hi != lo ? 1 : 0, lo, hi};
    }
    return n;
}

static bool rule_covers(const pw_rule_def *r, uint8_t proto, const item *it)
{
    if (r->proto != proto)
        return false;
    if (it->kind == 2)
        return r->ports.epm_dynamic;
    if (r->ports.epm_dynamic)
        return false;
    if (it->kind == 1) /* a range row: a rule with exactly that range */
        for (int i = 0; i < r->ports.n; i++)
            if (r->ports.lo[i] == it->lo && r->ports.hi[i] == it->hi)
                return true;
    return it->kind == 0 && pw_portspec_has(&r->ports, (uint16_t)it->lo) && r->ports.n &&
           r->ports.lo[0] == r->ports.hi[0];
}

static int check_netwrix(const char *doc, const pw_profile_def *prof)
{
    char section[256] = "", bold[256] = "";
    int rows = 0, checks = 0, table_row = 0;
    const char *line = doc;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[1024];
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
        trim(buf);
        if (!strncmp(buf, "## ", 3)) {
            snprintf(section, sizeof section, "%.200s", buf + 3);
            bold[0] = 0;
        } else if (buf[0] == '*' && buf[1] == '*' && strlen(buf) > 4 && !strcmp(buf + strlen(buf) - 2, "**")) {
            snprintf(bold, sizeof bold, "%.*s", (int)strlen(buf) - 4, buf + 2);
        }
        if (buf[0] != '|') {
            table_row = 0;
        } else if (table_row++ >= 2) { /* skip header and separator */
            char *cells[8];
            int nc = 0;
            char *save = NULL;
            for (char *c = strtok_r(buf + 1, "|", &save); c && nc < 8; c = strtok_r(NULL, "|", &save)) {
                trim(c);
                cells[nc++] = c;
            }
            if (nc < 4) {
                fprintf(stderr, "001: short table row in %s\n", section);
                CHECK(0);
            } else {
                char table[600];
                if (bold[0])
                    snprintf(table, sizeof table, "%s / %s", section, bold);
                else
                    snprintf(table, sizeof table, "%s", section);
                const char *proto = cells[1];
                bool optional = strcasestr(proto, "optional") || strcasestr(cells[3], "(optional)");
                uint8_t protos[2];
                int np = 0;
                if (strcasestr(proto, "TCP/UDP")) {
                    protos[np++] = 6;
                    protos[np++] = 17;
                } else {
                    protos[np++] = strcasestr(proto, "UDP") ? 17 : 6;
                }
                item items[8];
                int ni = parse_ports(cells[2], items, 8);
                CHECK(ni > 0);
                rows++;
                for (int a = 0; a < np; a++)
                    for (int b = 0; b < ni; b++) {
                        const pw_rule_def *hit = NULL;
                        for (int r = 0; r < prof->n_rules && !hit; r++)
                            if (!strcmp(prof->rules[r].table, table) && rule_covers(&prof->rules[r], protos[a], &items[b]))
                                hit = &prof->rules[r];
                        checks++;
                        if (!hit) {
                            fprintf(stderr, "001: no rule for table \"%s\" %s port item %u-%u (kind %d): row \"%s\"\n",
                                    table, protos[a] == 6 ? "tcp" : "udp", items[b].lo, items[b].hi, items[b].kind,
                                    cells[0]);
                            CHECK(0);
                        } else {
                            CHECK(true);
                            if (hit->required == optional)
                                fprintf(stderr, "001: rule %s required=%d but the row says %s\n", hit->id,
                                        hit->required, optional ? "optional" : "required");
                            CHECK(hit->required != optional);
                        }
                    }
            }
        }
        line = end ? end + 1 : line + len;
    }
    printf("001: %d table rows, %d port items checked\n", rows, checks);
    return rows;
}

/* "TCP port 135", "UDP port 137" (000) and "port 443" (002). */
static int check_words(const char *doc, const pw_profile_def *prof, const char *tag)
{
    int found = 0;
    for (const char *p = doc; (p = strcasestr(p, "port ")) != NULL; p += 5) {
        const char *q = p + 5;
        if (!isdigit((unsigned char)*q))
            continue;
        unsigned port = (unsigned)strtoul(q, NULL, 10);
        uint8_t proto = 6;
        if (p - doc >= 4 && !strncasecmp(p - 4, "UDP ", 4))
            proto = 17;
        bool hit = false;
        for (int r = 0; r < prof->n_rules && !hit; r++)
            hit = prof->rules[r].proto == proto && !prof->rules[r].ports.epm_dynamic &&
                  pw_portspec_has(&prof->rules[r].ports, (uint16_t)port);
        if (!hit)
            fprintf(stderr, "%s: no rule in %s for %s/%u\n", tag, prof->name, proto == 6 ? "tcp" : "udp", port);
        CHECK(hit);
        found++;
    }
    printf("%s: %d ports checked against %s\n", tag, found, prof->name);
    return found;
}

/* Every *.atp.azure.com name of 002 matches a host pattern of a rule. */
static int check_names(const char *doc, const pw_profile_def *prof)
{
    int n = 0;
    for (const char *p = doc; (p = strcasestr(p, ".atp.azure.com")) != NULL; p += 14) {
        const char *s = p;
        while (s > doc && (isalnum((unsigned char)s[-1]) || s[-1] == '-' || s[-1] == '>' || s[-1] == '<'))
            s--;
        if (s == p)
            continue; /* ".Atp.Azure.com DNS record" header */
        char name[256];
        snprintf(name, sizeof name, "%.*s.atp.azure.com", (int)(p - s), s);
        bool hit = false;
        for (int r = 0; r < prof->n_rules && !hit; r++)
            for (int h = 0; h < prof->rules[r].n_hosts && !hit; h++)
                hit = pw_name_match(prof->rules[r].hosts[h], name);
        if (!hit)
            fprintf(stderr, "002: %s matches no rule host in %s\n", name, prof->name);
        CHECK(hit);
        n++;
    }
    printf("002: %d service names checked\n", n);
    return n;
}

int main(void)
{
    char *d0 = read_seed("000_"), *d1 = read_seed("001_"), *d2 = read_seed("002_");
    if (!d0 || !d1 || !d2) {
        printf("skipped: seed documents not found in %s (000_*.txt, 001_*.txt, 002_*.txt)\n", SEEDS);
        free(d0);
        free(d1);
        free(d2);
        return 77; /* ctest: skipped */
    }
    pw_profile_def *nnr = profile("mdi-nnr"), *sensor = profile("mdi-sensor"),
                   *nw = profile("netwrix-threat-prevention");
    CHECK(nnr && sensor && nw);
    if (nnr && sensor && nw) {
        CHECK(check_netwrix(d1, nw) >= 40);
        CHECK_INT(check_words(d0, nnr, "000"), 3);
        CHECK(check_words(d2, sensor, "002") >= 1);
        CHECK(check_names(d2, sensor) >= 8);
        /* 000's reverse DNS needs port 53 too */
        bool dns = false;
        for (int r = 0; r < nnr->n_rules; r++)
            dns |= nnr->rules[r].proto == 17 && pw_portspec_has(&nnr->rules[r].ports, 53);
        CHECK(dns);
    }
    pw_profile_free(nnr);
    pw_profile_free(sensor);
    pw_profile_free(nw);
    free(d0);
    free(d1);
    free(d2);
    CHECK_DONE();
}
