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
#include "policy.h"
#include "result.h"

typedef struct pw_analysis pw_analysis;

/* What a retired connection leaves for the modules that need nothing but
 * its attempt: the services (or scanner) it counts in and the policy's
 * aggregate.  The rest of the removal hook (NNR, the cloud checks, the
 * endpoint-mapper grants) reads the record and runs where the record
 * lives; this part may run on another thread, in the same order
 * (pw_analysis_set_retire). */
typedef struct pw_retired {
    pw_attempt a;
    struct pw_app_slot *app; /* the item's own: pw_analysis_retired() frees it */
    pw_policy_mark policy;   /* what the policy settled at removal */
} pw_retired;

/* Where the removal hook hands retired items: reserve() returns a slot to
 * fill, or NULL when the caller cannot hand off (the hook then finishes
 * the work itself); commit() hands the filled slot on.  The taker calls
 * pw_analysis_retired() on each, in order, and nothing else of the
 * services, scanners or policy aggregates runs meanwhile (handoff.h). */
typedef struct pw_retire_sink {
    void *arg;
    pw_retired *(*reserve)(void *arg);
    void (*commit)(void *arg);
} pw_retire_sink;

/* Called for every retired attempt and every learned name as they happen
 * (the jsonl writer streams them). */
typedef struct pw_analysis_sink {
    void *arg;
    void (*attempt)(void *arg, const pw_attempt *a, const char *source_path);
    /* a gRPC call ended (ev is a PW_EV_GRPC with is_grpc) */
    void (*grpc_call)(void *arg, const pw_event *ev, const char *source_path);
    /* a SQL Server Browser answer announced instance i (ev is a PW_EV_SSRP
     * response; i indexes ev->u.ssrp.instances) */
    void (*sql_instance)(void *arg, const pw_event *ev, int i, const char *source_path);
    /* Optional: when set, called instead of attempt() with the notes. */
    void (*attempt_noted)(void *arg, const pw_attempt *a, const char *source_path, unsigned notes);
} pw_analysis_sink;

pw_analysis *pw_analysis_new(const pw_config *cfg, const pw_analysis_sink *sink, char *err,
                             size_t errlen);
/* An input starts; returns its source index. */
uint32_t pw_analysis_begin_input(pw_analysis *a, const char *path);
/* Another name for packets of the input being read (a new -w file of a
 * live capture): returns its source index; the attempt tracker goes on. */
uint32_t pw_analysis_add_source(pw_analysis *a, const char *path);
/* The live capture is (or stopped) dropping packets: attempts decided
 * unanswered meanwhile are noted (PW_NOTE_CAPTURE_DROPS) and counted. */
void pw_analysis_set_dropping(pw_analysis *a, bool dropping);
void pw_analysis_packet(pw_analysis *a, const pw_pkt *pkt);
/* A hint that pkt comes soon: starts loading the table slots it will look
 * up (a batch reader calls it a few packets ahead).  Changes nothing. */
void pw_analysis_prefetch(pw_analysis *a, const pw_pkt *pkt);
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
/* A snapshot while an input is still being read (live interval reports),
 * without disturbing any table: everything pw_analysis_result() decides
 * from the connections already retired (services, rules, NNR, names learned
 * so far, counts), plus reading, the input in progress with its counters
 * so far.  Connections still open (waiting for their timeout) are not in
 * it; stats.open_connections says how many there are. */
pw_result *pw_analysis_snapshot(pw_analysis *a, const pw_input_info *reading);
void pw_analysis_free(pw_analysis *a);

/* Sets (or with NULL clears) where retired items go.  Call while nothing
 * else runs the analysis. */
void pw_analysis_set_retire(pw_analysis *a, const pw_retire_sink *sink);
/* Finishes a retired item: counts it in services or scanners and in the
 * policy's aggregates, and frees its application slot. */
void pw_analysis_retired(pw_analysis *a, pw_retired *r);
/* A hint that r comes next: starts loading what pw_analysis_retired()
 * will touch for it.  Changes nothing. */
void pw_analysis_retired_prefetch(const pw_analysis *a, const pw_retired *r);

#endif
