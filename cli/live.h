/* live.h - the long-running live mode: capture until SIGINT/SIGTERM, a
 * report every --interval and on SIGUSR1, -o reopened on SIGHUP, drops
 * watched, privileges dropped after the interfaces are open. */
#ifndef PW_CLI_LIVE_H
#define PW_CLI_LIVE_H

#include <stdio.h>

#include "options.h"
#include "pipeline.h"

/* Where reports go; SIGHUP reopens path (append), so f may change. */
typedef struct pw_output {
    FILE *f;
    const char *path; /* NULL: stdout */
} pw_output;

/* Runs the live capture of o->ifaces into pipe; returns an exit status
 * (EXIT_OK, EXIT_INPUT when capture failed or stopped on an error). */
int pw_cli_live(const pw_options *o, pw_pipeline *pipe, const pw_capture_cb *cb, pw_output *out);

#endif
