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
    uint64_t midstream_answered;  /* mid-stream flows whose server side sent payload */
    uint64_t midstream_unsynced;  /* malformed reports on mid-stream flows, dropped */
    /* Per-run dissector caches (pw_dissect_cache_new()), owned by whoever
     * made the pipeline; NULL works (dissectors then cache nothing). */
    pw_dissect_cache *cache;
    /* TCP streams opened and not yet closed by the reassembler.  libnids
     * occasionally forgets a stream without a closing callback; whatever is
     * left when an input ends is freed by pw_pipeline_end_input(). */
    struct stream_ctx *open_streams;
    struct stream_ctx *current; /* the stream a dissector is reading now (mid-stream sync) */
    uint64_t streams_unclosed;
    /* Where the analysis runs (reading files; live capture calls it
     * directly): PW_THREADS_ONE calls it directly; PW_THREADS_TWO hands
     * everything to the analysis thread (handoff.h); PW_THREADS_AUTO decides
     * every PW_AUTO_WINDOW packets from the traffic itself (see pipeline.c). */
    int threads;
    struct pw_handoff *handoff; /* started when first wanted; NULL before */
    bool handing_off;           /* the analysis thread takes what comes now */
    uint64_t window_packets, window_starts; /* auto: this window's packets and connection starts */
    uint64_t windows;           /* auto: windows judged so far */
    uint64_t switches;          /* auto: times the mode changed (for -v) */
} pw_pipeline;

enum { PW_THREADS_AUTO = 0, PW_THREADS_ONE = 1, PW_THREADS_TWO = 2 };
#define PW_AUTO_WINDOW 65536
/* The first window is shorter: a flood from the first packet on should not
 * wait 65,536 packets for the thread. */
#define PW_AUTO_FIRST_WINDOW 8192

/* Fills cb so that capture feeds this pipeline. */
void pw_pipeline_callbacks(pw_pipeline *p, pw_capture_cb *cb);
/* After an input has been read to the end (no more stream callbacks can
 * come): frees the streams the reassembler never closed; returns how many. */
uint64_t pw_pipeline_end_input(pw_pipeline *p);

/* Returns once the analysis has taken everything handed to it: call before
 * touching the analysis directly (beginning or ending an input, results). */
void pw_pipeline_sync(pw_pipeline *p);
/* Stops the analysis thread, if one was started (after the last input). */
void pw_pipeline_stop_thread(pw_pipeline *p);

#endif
