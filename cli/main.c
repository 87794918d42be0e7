/* main.c - the portwitness command line (tcpdump/tshark habits).
 *
 * Exit status: 0 ok, 1 input or runtime error (the report is still written
 * for what was read), 2 usage error, 3 a required policy rule matched
 * --fail-on. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../analysis/analysis.h"
#include "../analysis/policy.h"
#include "../common/log.h"
#include "../dissectors/dissector.h"
#include "../report/report.h"
#include "pipeline.h"

#ifndef PW_VERSION
#define PW_VERSION "0"
#endif
#ifndef PW_PROFILE_DIR
#define PW_PROFILE_DIR "profiles"
#endif

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2, EXIT_POLICY = 3 };

static const char usage_text[] =
    "Usage: portwitness [options] (-r FILE ... | -i IFACE) [BPF filter]\n"
    "Passively checks, from a capture, which ports were answered, refused, blocked\n"
    "or unanswered, which host names a sensor could learn, and whether a port\n"
    "policy is met. Sends no packet.\n"
    "\n"
    "Input:\n"
    "  -r FILE                read a pcap or pcapng file; repeatable; '-' = stdin\n"
    "  -i IFACE               capture live from IFACE until interrupted (Ctrl-C)\n"
    "  BPF filter             trailing words form a libpcap filter, e.g. 'tcp port 135'\n"
    "Output:\n"
    "  --format FMT           text (default), json, jsonl or html\n"
    "  -o FILE                write the report to FILE instead of stdout\n"
    "  -q, --quiet            no warnings on stderr; -v, --verbose for more\n"
    "  --no-progress          no progress line on stderr\n"
    "Attempts:\n"
    "  --timeout SEC          TCP reply timeout in packet time (default 10)\n"
    "  --udp-timeout SEC      UDP reply timeout (default 5)\n"
    "  --tcp-streams N        TCP reassembly table size (default 65536)\n"
    "Memory caps (each evicted or folded item is counted in stats):\n"
    "  --max-connections N    connection records (default 524288)\n"
    "  --max-services N       (server, port) services; more fold per port (default 16384)\n"
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

static void on_signal(int sig)
{
    (void)sig;
    pw_capture_stop();
}

/* jsonl streams attempts as they are decided. */
/* A positive count for a memory cap. */
static uint32_t parse_cap(const char *s, const char *opt)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end || v == 0 || v > 100000000UL)
        usage_error("bad %s value (a count from 1 to 100000000)", opt);
    return (uint32_t)v;
}

static void stream_attempt(void *arg, const pw_attempt *a, const char *source_path)
{
    pw_jsonl_attempt((FILE *)arg, a, source_path);
}

int main(int argc, char **argv)
{
    enum {
        OPT_FORMAT = 256, OPT_TIMEOUT, OPT_UDP_TIMEOUT, OPT_SENSOR, OPT_NNR_THRESHOLD, OPT_PROFILE,
        OPT_LIST_PROFILES, OPT_ROLE, OPT_FAIL_ON, OPT_MAX_EVIDENCE, OPT_TCP_STREAMS, OPT_NO_PROGRESS,
        OPT_MAX_CONNECTIONS, OPT_MAX_SERVICES, OPT_SCANNER_THRESHOLD,
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
        {NULL, 0, NULL, 0},
    };

    pw_config cfg;
    pw_config_defaults(&cfg);
    const char *profile_dir = getenv("PORTWITNESS_PROFILES");
    cfg.profile_dir = profile_dir && *profile_dir ? profile_dir : PW_PROFILE_DIR;
    const char *files[256];
    int n_files = 0;
    const char *iface = NULL, *out_path = NULL;
    int format = PW_FMT_TEXT;
    bool list_profiles = false, progress = true;
    pw_capture_opts copts = {0};

    int c;
    while ((c = getopt_long(argc, argv, "+r:i:o:hVqv", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (n_files == (int)(sizeof files / sizeof files[0]))
                usage_error("too many -r files%s", "");
            files[n_files++] = optarg;
            break;
        case 'i': iface = optarg; break;
        case 'o': out_path = optarg; break;
        case 'h': fputs(usage_text, stdout); return EXIT_OK;
        case 'V': printf("portwitness %s\n", PW_VERSION); return EXIT_OK;
        case 'q': pw_log_level = PW_LOG_ERROR; break;
        case 'v': pw_log_level++; break;
        case OPT_FORMAT:
            format = pw_format_parse(optarg);
            if (format < 0)
                usage_error("unknown format '%s' (text, json, jsonl, html)", optarg);
            break;
        case OPT_TIMEOUT: cfg.tcp_timeout = (pw_usec)(parse_seconds(optarg, "--timeout") * 1e6); break;
        case OPT_UDP_TIMEOUT:
            cfg.udp_timeout = (pw_usec)(parse_seconds(optarg, "--udp-timeout") * 1e6);
            break;
        case OPT_SENSOR:
            if (cfg.n_sensors == PW_MAX_SENSORS)
                usage_error("too many --sensor%s", "");
            if (!pw_addr_parse_cidr(optarg, &cfg.sensors[cfg.n_sensors].net,
                                    &cfg.sensors[cfg.n_sensors].prefix))
                usage_error("bad --sensor '%s' (IP or IP/prefix)", optarg);
            cfg.n_sensors++;
            break;
        case OPT_NNR_THRESHOLD: {
            char *end;
            cfg.nnr_alert_threshold = strtod(optarg, &end);
            if (*end || cfg.nnr_alert_threshold < 0 || cfg.nnr_alert_threshold > 1)
                usage_error("bad --nnr-alert-threshold '%s' (0..1)", optarg);
            break;
        }
        case OPT_PROFILE:
            if (cfg.n_profiles == PW_MAX_PROFILES)
                usage_error("too many --profile%s", "");
            cfg.profiles[cfg.n_profiles++] = optarg;
            break;
        case OPT_LIST_PROFILES: list_profiles = true; break;
        case OPT_ROLE: {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || (size_t)(eq - optarg) >= sizeof cfg.roles[0].role ||
                cfg.n_roles == PW_MAX_ROLES)
                usage_error("bad --role '%s' (NAME=IP[/CIDR])", optarg);
            pw_role_binding *rb = &cfg.roles[cfg.n_roles];
            memcpy(rb->role, optarg, (size_t)(eq - optarg));
            rb->role[eq - optarg] = '\0';
            if (!pw_addr_parse_cidr(eq + 1, &rb->cidr.net, &rb->cidr.prefix))
                usage_error("bad address in --role '%s'", optarg);
            cfg.n_roles++;
            break;
        }
        case OPT_FAIL_ON: parse_fail_on(&cfg, optarg); break;
        case OPT_MAX_EVIDENCE: cfg.max_evidence = atoi(optarg); break;
        case OPT_TCP_STREAMS: copts.tcp_streams = atoi(optarg); break;
        case OPT_NO_PROGRESS: progress = false; break;
        case OPT_MAX_CONNECTIONS: cfg.max_connections = parse_cap(optarg, "--max-connections"); break;
        case OPT_MAX_SERVICES: cfg.max_services = parse_cap(optarg, "--max-services"); break;
        case OPT_SCANNER_THRESHOLD: cfg.scanner_threshold = parse_cap(optarg, "--scanner-threshold"); break;
        default: fprintf(stderr, "Try 'portwitness --help'.\n"); return EXIT_USAGE;
        }
    }

    if (list_profiles)
        return pw_policy_list_profiles(cfg.profile_dir, stdout) == 0 ? EXIT_OK : EXIT_INPUT;
    if (!n_files && !iface)
        usage_error("no input: give -r FILE or -i IFACE%s", "");
    if (n_files && iface)
        usage_error("use either -r or -i, not both%s", "");

    /* Trailing words are the BPF filter, as with tcpdump. */
    char bpf[4096] = "";
    for (int i = optind; i < argc; i++) {
        size_t used = strlen(bpf);
        if (used + strlen(argv[i]) + 2 >= sizeof bpf)
            usage_error("filter too long%s", "");
        snprintf(bpf + used, sizeof bpf - used, "%s%s", used ? " " : "", argv[i]);
    }
    copts.bpf = bpf[0] ? bpf : NULL;
    copts.progress = progress && !getenv("CI");

    FILE *out = stdout;
    if (out_path && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, "portwitness: %s: %s\n", out_path, strerror(errno));
        return EXIT_INPUT;
    }

    pw_analysis_sink sink = {0};
    if (format == PW_FMT_JSONL) {
        sink.arg = out;
        sink.attempt = stream_attempt;
    }
    char err[512] = "";
    pw_analysis *an = pw_analysis_new(&cfg, &sink, err, sizeof err);
    if (!an) {
        fprintf(stderr, "portwitness: %s\n", err);
        return EXIT_USAGE;
    }
    pw_dissectors_init();
    pw_pipeline pipe = {.analysis = an, .cache = pw_dissect_cache_new(0)};
    pw_capture_cb cb;
    pw_pipeline_callbacks(&pipe, &cb);

    int status = EXIT_OK;
    if (iface) {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        pw_input_info info;
        memset(&info, 0, sizeof info);
        uint32_t src = pw_analysis_begin_input(an, iface);
        if (pw_capture_live(iface, src, &copts, &cb, &info) != 0) {
            fprintf(stderr, "portwitness: %s\n", info.error[0] ? info.error : iface);
            status = EXIT_INPUT;
        }
        pw_pipeline_end_input(&pipe);
        pw_analysis_end_input(an, &info);
    }
    for (int i = 0; i < n_files; i++) {
        pw_input_info info;
        memset(&info, 0, sizeof info);
        uint32_t src = pw_analysis_begin_input(an, files[i]);
        if (pw_capture_file(files[i], src, &copts, &cb, &info) != 0) {
            fprintf(stderr, "portwitness: %s\n", info.error[0] ? info.error : files[i]);
            status = EXIT_INPUT;
        }
        pw_pipeline_end_input(&pipe);
        pw_analysis_end_input(an, &info);
    }

    json_t *model = pw_analysis_result(an);
    switch (format) {
    case PW_FMT_JSON: pw_json_write(out, model); break;
    case PW_FMT_JSONL: pw_jsonl_finish(out, model); break;
    case PW_FMT_HTML: pw_html_write(out, model); break;
    default: pw_text_write(out, model); break;
    }
    json_decref(model);
    if (status == EXIT_OK && pw_analysis_policy_failed(an))
        status = EXIT_POLICY;
    pw_analysis_free(an);
    pw_dissect_cache_free(pipe.cache);
    if (fflush(out) != 0 || (out != stdout && fclose(out) != 0)) {
        fprintf(stderr, "portwitness: writing output: %s\n", strerror(errno));
        return EXIT_INPUT;
    }
    return status;
}
