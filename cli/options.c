/* options.c - the portwitness command line (tcpdump/tshark habits): long
 * options, -r/-i, and trailing words as the BPF filter. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analysis/result.h"
#include "../common/log.h"
#include "../report/report.h"
#include "pipeline.h"

#ifndef PW_VERSION
#define PW_VERSION "0"
#endif
#ifndef PW_PROFILE_DIR
#define PW_PROFILE_DIR "profiles"
#endif

static const char usage_text[] =
    "Usage: portwitness [options] (-r FILE ... | -i IFACE) [BPF filter]\n"
    "Passively checks, from a capture, which ports were answered, refused, blocked\n"
    "or unanswered, which host names a sensor could learn, and whether a port\n"
    "policy is met. Sends no packet.\n"
    "\n"
    "Input:\n"
    "  -r FILE                read a pcap or pcapng file; repeatable; '-' = stdin\n"
    "  -i IFACE               capture live from IFACE until SIGINT/SIGTERM; repeatable\n"
    "  BPF filter             trailing words form a libpcap filter, e.g. 'tcp port 135'\n"
    "Live capture (tcpdump's options; see README \"Running on a span port\"):\n"
    "  -B KIB                 kernel capture buffer in KiB (default 65536)\n"
    "  -s SNAPLEN             bytes kept per packet (default 262144)\n"
    "  -p                     no promiscuous mode\n"
    "  --immediate            each packet at once (libpcap's TPACKET_V2: a ring of\n"
    "                         buffer/snaplen packets; lower -s with it)\n"
    "  -Z USER                run as USER once the interfaces are open\n"
    "  -w FILE                also write the packets analysed (evidence names this file)\n"
    "  -C MB, -G SEC, -W N    rotate -w by size (10^6 bytes) / time (strftime name) / count\n"
    "  --interval SEC         a report every SEC: a summary line in jsonl, else a file\n"
    "                         -o PATH with the time in its name; SIGUSR1: one now;\n"
    "                         SIGHUP: reopen -o (log rotation)\n"
    "Output:\n"
    "  --format FMT           text (default), json, jsonl, html or fix\n"
    "                         (fix: a PowerShell script to review, changing nothing by itself)\n"
    "  -o FILE                write the report to FILE instead of stdout\n"
    "  -q, --quiet            no warnings on stderr; -v, --verbose for more\n"
    "  --no-progress          no progress line on stderr\n"
    "Attempts:\n"
    "  --timeout SEC          TCP reply timeout in packet time (default 10)\n"
    "  --udp-timeout SEC      UDP reply timeout (default 5)\n"
    "  --tcp-streams N        TCP reassembly table size (default 65536)\n"
    "  --threads 1|2|auto     files: 2 runs the analysis on a second core, 1 on the reading\n"
    "                         thread; auto (default) moves it while connections start often\n"
    "                         (the result is the same)\n"
    "Memory caps (each evicted or folded item is counted in stats.caps):\n"
    "  --max-connections N    connection records (default 262144)\n"
    "  --max-services N       (server, port) services; more fold per port (default 8192)\n"
    "  --scanner-threshold N  distinct targets that make a client a scanner row (default 512)\n"
    "Name resolution (NNR):\n"
    "  --sensor IP[/CIDR]     a Defender for Identity sensor (repeatable; inferred if absent)\n"
    "  --nnr-alert-threshold X  failure share that raises a health alert (default 0.9)\n"
    "Port policy:\n"
    "  --profile NAME|FILE    check a policy profile (repeatable; chosen by traffic if absent)\n"
    "  --list-profiles        list the built-in profiles and exit\n"
    "  --role NAME=IP[/CIDR]  bind a policy role to addresses (repeatable)\n"
    "  --fail-on LIST         exit 3 when a required rule has one of these verdicts\n"
    "                         (comma list of fail, partial, unobserved, indeterminate)\n"
    "  --max-evidence N       evidence entries per rule (default 10)\n"
    "  -h, --help             this help;  -V, --version  the version\n"
    "\n"
    "Exit status: 0 ok, 1 input or runtime error, 2 usage error, 3 --fail-on matched.\n";

static void usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "portwitness: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'portwitness --help'.\n");
    exit(EXIT_USAGE);
}

static double parse_seconds(const char *s, const char *opt)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || v <= 0 || v > 86400)
        usage_error("bad value for %s (seconds, > 0)", opt);
    return v;
}

/* A positive count for a memory cap. */
static uint32_t parse_cap(const char *s, const char *opt)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *s == '\0' || *end || v == 0 || v > 100000000UL)
        usage_error("bad value for %s (a count from 1 to 100000000)", opt);
    return (uint32_t)v;
}

static void parse_fail_on(pw_config *cfg, const char *list)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        int v = pw_verdict_parse(tok);
        if (v < 0 || v >= (int)(sizeof cfg->fail_on / sizeof cfg->fail_on[0]))
            usage_error("unknown verdict '%s' in --fail-on", tok);
        cfg->fail_on[v] = true;
    }
}

static void parse_sensor(pw_config *cfg, const char *arg)
{
    if (cfg->n_sensors == PW_MAX_SENSORS)
        usage_error("too many --sensor%s", "");
    if (!pw_addr_parse_cidr(arg, &cfg->sensors[cfg->n_sensors].net, &cfg->sensors[cfg->n_sensors].prefix))
        usage_error("bad --sensor '%s' (IP or IP/prefix)", arg);
    cfg->n_sensors++;
}

static void parse_role(pw_config *cfg, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof cfg->roles[0].role || cfg->n_roles == PW_MAX_ROLES)
        usage_error("bad --role '%s' (NAME=IP[/CIDR])", arg);
    pw_role_binding *rb = &cfg->roles[cfg->n_roles];
    memcpy(rb->role, arg, (size_t)(eq - arg));
    rb->role[eq - arg] = '\0';
    if (!pw_addr_parse_cidr(eq + 1, &rb->cidr.net, &rb->cidr.prefix))
        usage_error("bad address in --role '%s'", arg);
    cfg->n_roles++;
}

static void parse_threshold(pw_config *cfg, const char *arg)
{
    char *end;
    cfg->nnr_alert_threshold = strtod(arg, &end);
    if (*end || cfg->nnr_alert_threshold < 0 || cfg->nnr_alert_threshold > 1)
        usage_error("bad --nnr-alert-threshold '%s' (0..1)", arg);
}

enum {
    OPT_FORMAT = 256, OPT_TIMEOUT, OPT_UDP_TIMEOUT, OPT_SENSOR, OPT_NNR_THRESHOLD, OPT_PROFILE,
    OPT_LIST_PROFILES, OPT_ROLE, OPT_FAIL_ON, OPT_MAX_EVIDENCE, OPT_TCP_STREAMS, OPT_NO_PROGRESS,
    OPT_MAX_CONNECTIONS, OPT_MAX_SERVICES, OPT_SCANNER_THRESHOLD, OPT_THREADS, OPT_INTERVAL, OPT_NO_IMMEDIATE,
    OPT_IMMEDIATE,
};

static const struct option longopts[] = {
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"tcp-timeout", required_argument, NULL, OPT_TIMEOUT},
    {"udp-timeout", required_argument, NULL, OPT_UDP_TIMEOUT},
    {"sensor", required_argument, NULL, OPT_SENSOR},
    {"nnr-alert-threshold", required_argument, NULL, OPT_NNR_THRESHOLD},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"list-profiles", no_argument, NULL, OPT_LIST_PROFILES},
    {"role", required_argument, NULL, OPT_ROLE},
    {"fail-on", required_argument, NULL, OPT_FAIL_ON},
    {"max-evidence", required_argument, NULL, OPT_MAX_EVIDENCE},
    {"tcp-streams", required_argument, NULL, OPT_TCP_STREAMS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"max-services", required_argument, NULL, OPT_MAX_SERVICES},
    {"scanner-threshold", required_argument, NULL, OPT_SCANNER_THRESHOLD},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"immediate", no_argument, NULL, OPT_IMMEDIATE},
    {"no-immediate", no_argument, NULL, OPT_NO_IMMEDIATE},
    {"buffer-size", required_argument, NULL, 'B'},
    {"snapshot-length", required_argument, NULL, 's'},
    {"no-promiscuous-mode", no_argument, NULL, 'p'},
    {"relinquish-privileges", required_argument, NULL, 'Z'},
    {NULL, 0, NULL, 0},
};

/* The options of the analysis itself. */
static void analysis_option(pw_options *o, int c, const char *arg)
{
    pw_config *cfg = &o->cfg;
    switch (c) {
    case OPT_TIMEOUT: cfg->tcp_timeout = (pw_usec)(parse_seconds(arg, "--timeout") * 1e6); break;
    case OPT_UDP_TIMEOUT: cfg->udp_timeout = (pw_usec)(parse_seconds(arg, "--udp-timeout") * 1e6); break;
    case OPT_SENSOR: parse_sensor(cfg, arg); break;
    case OPT_NNR_THRESHOLD: parse_threshold(cfg, arg); break;
    case OPT_PROFILE:
        if (cfg->n_profiles == PW_MAX_PROFILES)
            usage_error("too many --profile%s", "");
        cfg->profiles[cfg->n_profiles++] = arg;
        break;
    case OPT_ROLE: parse_role(cfg, arg); break;
    case OPT_FAIL_ON: parse_fail_on(cfg, arg); break;
    case OPT_MAX_EVIDENCE: cfg->max_evidence = atoi(arg); break;
    case OPT_TCP_STREAMS: o->copts.tcp_streams = atoi(arg); break;
    case OPT_MAX_CONNECTIONS: cfg->max_connections = parse_cap(arg, "--max-connections"); break;
    case OPT_MAX_SERVICES: cfg->max_services = parse_cap(arg, "--max-services"); break;
    case OPT_SCANNER_THRESHOLD:
        cfg->scanner_threshold = parse_cap(arg, "--scanner-threshold");
        if (cfg->scanner_threshold > 1000) /* the per-client estimate saturates near 1,400 */
            usage_error("bad value for %s (at most 1000)", "--scanner-threshold");
        break;
    default: break;
    }
}

/* -C as tcpdump reads it: millions of bytes, or a count with a k, m or g
 * suffix (KiB, MiB, GiB). */
static uint64_t parse_size(const char *s)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    uint64_t unit = 1000000;
    if (*end && !end[1] && strchr("kKmMgG", *end))
        unit = (uint64_t)1 << (10 * (strchr("kK", *end) ? 1 : strchr("mM", *end) ? 2 : 3));
    else if (*end)
        v = 0;
    if (errno || *s == '\0' || v == 0 || v > 1000000UL)
        usage_error("bad value for -C (millions of bytes, or a count with k, m or g)%s", "");
    return (uint64_t)v * unit;
}

/* The live capture options (tcpdump's letters). */
static void live_option(pw_options *o, int c, const char *arg)
{
    pw_capture_opts *co = &o->copts;
    switch (c) {
    case 'i':
        if (o->n_ifaces == (int)(sizeof o->ifaces / sizeof o->ifaces[0]))
            usage_error("too many -i%s", "");
        o->ifaces[o->n_ifaces++] = arg;
        break;
    case 'B': co->buffer_kib = (int)parse_cap(arg, "-B"); break;
    case 's': co->snaplen = (int)parse_cap(arg, "-s"); break;
    case 'p': co->no_promisc = true; break;
    case 'Z': o->user = arg; break;
    case 'w': co->write_path = arg; break;
    case 'C': co->rotate_bytes = parse_size(arg); break;
    case 'G': co->rotate_secs = (int)parse_cap(arg, "-G"); break;
    case 'W': co->rotate_count = (int)parse_cap(arg, "-W"); break;
    case OPT_INTERVAL: o->interval = parse_seconds(arg, "--interval"); break;
    case OPT_NO_IMMEDIATE: co->immediate = false; break;
    case OPT_IMMEDIATE: co->immediate = true; break;
    default: break;
    }
}

static bool is_live_option(int c)
{
    if (c == OPT_INTERVAL || c == OPT_NO_IMMEDIATE || c == OPT_IMMEDIATE)
        return true;
    return c > 0 && c < 128 && strchr("iBspZwCGW", c) != NULL;
}

/* One option; returns -1 to go on, else an exit status. */
static int one_option(pw_options *o, int c, const char *arg)
{
    switch (c) {
    case 'r':
        if (o->n_files == PW_MAX_FILES)
            usage_error("too many -r files%s", "");
        o->files[o->n_files++] = arg;
        return -1;
    case 'o': o->out_path = arg; return -1;
    case 'h': fputs(usage_text, stdout); return EXIT_OK;
    case 'V': printf("portwitness %s\n", PW_VERSION); return EXIT_OK;
    case 'q': pw_log_level = PW_LOG_ERROR; return -1;
    case 'v': pw_log_level++; return -1;
    case OPT_FORMAT:
        o->format = pw_format_parse(arg);
        if (o->format < 0)
            usage_error("unknown format '%s' (text, json, jsonl, html, fix)", arg);
        return -1;
    case OPT_LIST_PROFILES: o->list_profiles = true; return -1;
    case OPT_NO_PROGRESS: o->copts.progress = false; return -1;
    case OPT_THREADS:
        if (!strcmp(arg, "auto"))
            o->threads = PW_THREADS_AUTO;
        else if (!strcmp(arg, "1") || !strcmp(arg, "2"))
            o->threads = atoi(arg);
        else
            usage_error("bad value for %s (1, 2 or auto)", "--threads");
        return -1;
    case '?': fprintf(stderr, "Try 'portwitness --help'.\n"); return EXIT_USAGE;
    default:
        if (is_live_option(c))
            live_option(o, c, arg);
        else
            analysis_option(o, c, arg);
        return -1;
    }
}

/* Trailing words are the BPF filter, as with tcpdump. */
static void join_filter(pw_options *o, int first, int argc, char **argv)
{
    for (int i = first; i < argc; i++) {
        size_t used = strlen(o->bpf);
        if (used + strlen(argv[i]) + 2 >= sizeof o->bpf)
            usage_error("filter too long%s", "");
        snprintf(o->bpf + used, sizeof o->bpf - used, "%s%s", used ? " " : "", argv[i]);
    }
    o->copts.bpf = o->bpf[0] ? o->bpf : NULL;
}

int pw_options_parse(int argc, char **argv, pw_options *o)
{
    memset(o, 0, sizeof *o);
    pw_config_defaults(&o->cfg);
    const char *profile_dir = getenv("PORTWITNESS_PROFILES");
    o->cfg.profile_dir = profile_dir && *profile_dir ? profile_dir : PW_PROFILE_DIR;
    o->format = PW_FMT_TEXT;
    o->threads = PW_THREADS_AUTO;
    o->copts.progress = true;
    int c, rc;
    while ((c = getopt_long(argc, argv, "+r:i:o:hVqvB:s:pZ:w:C:G:W:", longopts, NULL)) != -1)
        if ((rc = one_option(o, c, optarg)) >= 0)
            return rc;
    if (o->list_profiles)
        return -1;
    if (!o->n_files && !o->n_ifaces)
        usage_error("no input: give -r FILE or -i IFACE%s", "");
    if (o->n_files && o->n_ifaces)
        usage_error("use either -r or -i, not both%s", "");
    if (!o->n_ifaces && (o->user || o->copts.write_path || o->interval > 0))
        usage_error("-Z, -w and --interval go with live capture (-i)%s", "");
    if ((o->copts.rotate_bytes || o->copts.rotate_secs || o->copts.rotate_count) && !o->copts.write_path)
        usage_error("-C, -G and -W rotate the -w file: give -w FILE%s", "");
    join_filter(o, optind, argc, argv);
    o->copts.progress = o->copts.progress && !getenv("CI");
    return -1;
}
