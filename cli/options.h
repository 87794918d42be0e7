/* options.h - the portwitness command line: options into a pw_options. */
#ifndef PW_OPTIONS_H
#define PW_OPTIONS_H

#include <stdbool.h>

#include "../analysis/config.h"
#include "../capture/capture.h"

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2, EXIT_POLICY = 3 };

#define PW_MAX_FILES 256

typedef struct pw_options {
    pw_config cfg;
    pw_capture_opts copts;
    const char *files[PW_MAX_FILES];
    int n_files;
    const char *ifaces[16];   /* -i, repeatable (PW_LIVE_MAX_IFACES) */
    int n_ifaces;
    const char *out_path;
    /* live */
    const char *user;         /* -Z: run as this user once the interfaces are open */
    double interval;          /* --interval: seconds between reports; 0 = only at the end */
    int format;               /* pw_format */
    int threads;              /* --threads: PW_THREADS_* (pipeline.h) for files */
    bool list_profiles;
    char bpf[4096];           /* trailing words: a libpcap filter, "" if none */
} pw_options;

/* Parses argv.  Returns -1 to go on, else the exit status to leave with
 * (--help, --version, a usage error: the message is already written). */
int pw_options_parse(int argc, char **argv, pw_options *o);

#endif
