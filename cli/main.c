/* main.c - the portwitness command line: reads the inputs through the
 * pipeline, has the analysis decide the result, renders it.
 *
 * Exit status: 0 ok, 1 input or runtime error (the report is still written
 * for what was read), 2 usage error, 3 a required policy rule matched
 * --fail-on (decided by the analysis: result.fail_on_matched). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analysis/analysis.h"
#include "../common/log.h"
#include "../analysis/policy.h"
#include "../dissectors/dissector.h"
#include "../report/report.h"
#include "live.h"
#include "options.h"
#include "pipeline.h"

static void on_signal(int sig)
{
    (void)sig;
    pw_capture_stop();
}

/* jsonl streams attempts as they are decided (into the output of the
 * moment: SIGHUP may reopen it). */
static void stream_attempt(void *arg, const pw_attempt *a, const char *source_path, unsigned notes)
{
    pw_jsonl_attempt_noted(((pw_output *)arg)->f, a, source_path, notes);
}

static void stream_grpc_call(void *arg, const pw_event *ev, const char *source_path)
{
    pw_jsonl_grpc_call(((pw_output *)arg)->f, ev, source_path);
}

static void stream_sql_instance(void *arg, const pw_event *ev, int i, const char *source_path)
{
    pw_jsonl_sql_instance(((pw_output *)arg)->f, ev, i, source_path);
}

/* Reads one input file to the end; false when it could not be read completely. */
static bool read_input(const pw_options *o, pw_pipeline *pipe, const pw_capture_cb *cb, const char *name)
{
    pw_input_info info;
    memset(&info, 0, sizeof info);
    uint32_t src = pw_analysis_begin_input(pipe->analysis, name);
    int rc = pw_capture_file(name, src, &o->copts, cb, &info);
    if (rc != 0)
        fprintf(stderr, "portwitness: %s\n", info.error[0] ? info.error : name);
    pw_pipeline_end_input(pipe);
    pw_pipeline_sync(pipe);
    pw_analysis_end_input(pipe->analysis, &info);
    return rc == 0;
}

/* Every input through capture -> dissectors -> analysis; returns the exit status so far. */
static int read_inputs(const pw_options *o, pw_analysis *an, pw_output *out)
{
    pw_dissectors_init();
    /* live capture calls the analysis from the capture loop (live.c) */
    pw_pipeline pipe = {.analysis = an, .cache = pw_dissect_cache_new(0), .threads = PW_THREADS_ONE};
    pw_capture_cb cb;
    pw_pipeline_callbacks(&pipe, &cb);
    int status = EXIT_OK;
    if (o->n_ifaces) {
        status = pw_cli_live(o, &pipe, &cb, out);
    } else {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
    }
    pipe.threads = o->threads; /* reading files */
    pw_pipeline_sync(&pipe);   /* --threads 2: the analysis thread from the start */
    for (int i = 0; i < o->n_files; i++)
        if (!read_input(o, &pipe, &cb, o->files[i]))
            status = EXIT_INPUT;
    if (pipe.handoff)
        pw_info("analysis on a second thread (%llu switches between threads)", (unsigned long long)pipe.switches);
    pw_pipeline_stop_thread(&pipe);
    pw_dissect_cache_free(pipe.cache);
    return status;
}

int main(int argc, char **argv)
{
    static pw_options o;
    int rc = pw_options_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.list_profiles)
        return pw_policy_list_profiles(o.cfg.profile_dir, stdout) == 0 ? EXIT_OK : EXIT_INPUT;
    static pw_output output;
    output = (pw_output){.f = stdout, .path = o.out_path};
    if (o.out_path && !(output.f = fopen(o.out_path, "w"))) {
        fprintf(stderr, "portwitness: %s: %s\n", o.out_path, strerror(errno));
        return EXIT_INPUT;
    }
    pw_analysis_sink sink = {0};
    if (o.format == PW_FMT_JSONL)
        sink = (pw_analysis_sink){.arg = &output, .attempt_noted = stream_attempt,
                                  .grpc_call = stream_grpc_call, .sql_instance = stream_sql_instance};
    char err[512] = "";
    pw_analysis *an = pw_analysis_new(&o.cfg, &sink, err, sizeof err);
    if (!an) {
        fprintf(stderr, "portwitness: %s\n", err);
        return EXIT_USAGE;
    }
    int status = read_inputs(&o, an, &output);
    FILE *out = output.f;

    pw_result *result = pw_analysis_result(an);
    pw_report_write(out, (pw_format)o.format, result);
    if (status == EXIT_OK && result->fail_on_matched)
        status = EXIT_POLICY;
    pw_result_free(result);
    free(result);
    pw_analysis_free(an);
    if (fflush(out) != 0 || (out != stdout && fclose(out) != 0)) {
        fprintf(stderr, "portwitness: writing output: %s\n", strerror(errno));
        return EXIT_INPUT;
    }
    return status;
}
