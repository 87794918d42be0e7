/* analysis.h - the analysis facade: one object that takes decoded packets
 * (header fields only) and dissector events, and produces the report model.
 *
 * Flow: packets -> attempts (attempts.c) -> retired attempts fan out to
 * services, NNR and policy; events fan out to hosts, NNR, policy and to the
 * attempt tracker (PW_EV_APP).  pw_analysis_result() decides the whole
 * result (result.h: schema portwitness/1 as C structs, with the --fail-on
 * outcome) which report/ renders as json, text, jsonl or html. */
#ifndef PW_ANALYSIS_H
#define PW_ANALYSIS_H

#include <stdbool.h>

#include "../capture/capture.h"
#include "../dissectors/events.h"
#include "attempt.h"
#include "config.h"
#include "result.h"

typedef struct pw_analysis pw_analysis;

/* Called for every retired attempt and every learned name as they happen
 * (the jsonl writer streams them). */
typedef struct pw_analysis_sink {
    void *arg;
    void (*attempt)(void *arg, const pw_attempt *a, const char *source_path);
} pw_analysis_sink;

pw_analysis *pw_analysis_new(const pw_config *cfg, const pw_analysis_sink *sink, char *err,
                             size_t errlen);
/* An input starts; returns its source index. */
uint32_t pw_analysis_begin_input(pw_analysis *a, const char *path);
void pw_analysis_packet(pw_analysis *a, const pw_pkt *pkt);
void pw_analysis_event(pw_analysis *a, const pw_event *ev);
/* A TCP connection first seen mid-stream whose server side sent payload
 * (see pw_attempts_midstream; m->source is set here). */
void pw_analysis_midstream(pw_analysis *a, const pw_attempt *m);
/* The input ended (info has its counters and any read error). */
void pw_analysis_end_input(pw_analysis *a, const pw_input_info *info);
/* Decides the result of everything read so far.  The caller frees it with
 * pw_result_free() and free(), before pw_analysis_free() (it borrows
 * strings from the analysis). */
pw_result *pw_analysis_result(pw_analysis *a);
void pw_analysis_free(pw_analysis *a);

#endif
