/* pipeline.h - wires capture/ -> dissectors/ -> analysis/.
 *
 * capture/ calls the pw_capture_cb this module provides; UDP payloads and
 * TCP stream bytes go to the dissector chosen by server port (or by a
 * dissector's probe on the client's first bytes); dissector events and all
 * decoded packets go to the analysis facade. */
#ifndef PW_PIPELINE_H
#define PW_PIPELINE_H

#include "../analysis/analysis.h"
#include "../capture/capture.h"
#include "../dissectors/cert_cache.h"

typedef struct pw_pipeline {
    pw_analysis *analysis;
    uint64_t udp_dissected, streams_dissected, streams_ignored;
    /* Per-run dissector caches (pw_dissect_cache_new()), owned by whoever
     * made the pipeline; NULL works (dissectors then cache nothing). */
    pw_dissect_cache *cache;
} pw_pipeline;

/* Fills cb so that capture feeds this pipeline. */
void pw_pipeline_callbacks(pw_pipeline *p, pw_capture_cb *cb);

#endif
