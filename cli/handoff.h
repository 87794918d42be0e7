/* handoff.h - the analysis thread: capture and the dissectors run on one
 * core, the analysis on the other.
 *
 * Reading a file, the pipeline (pipeline.c: always with --threads 2, while
 * connections start often with --threads auto) hands every decoded packet,
 * dissector event and mid-stream attempt to the analysis through a
 * single-producer, single-consumer ring, in the order it made them; one
 * thread drains the ring into pw_analysis_packet/_event/_midstream.  Order is
 * all the analysis depends on, so the result is the same as calling it
 * directly, and the pipeline may switch between the two at any message.
 *
 * The work a retired connection leaves for the services, the scanners and
 * the policy's aggregates (analysis.h: pw_retired) goes the other way: the
 * analysis thread's removal hook copies it into a second ring, and the
 * pipeline's thread finishes it between its own messages (each time it
 * publishes a batch, and while it waits).  Those modules' tables are then
 * touched by the pipeline's thread alone, in removal order, and the
 * analysis thread does about as much as the pipeline's: on 500,000 short
 * flows it was the limit, with a third more work than the other.  The
 * analysis thread waits only when that ring is full, and wakes the
 * pipeline's to empty it.
 *
 * Each ring has one producing thread and one consuming thread.  Anything else that touches the analysis (beginning or ending an input,
 * taking the result) first calls pw_handoff_sync(): it returns once the
 * analysis thread has taken everything handed so far and is idle, and every
 * retired item is finished, which also publishes the analysis' state to the
 * caller (mutex hand-over).
 *
 * Live capture does not use it: interval reports and drop accounting read
 * the analysis from the capture loop, and a span port's rate is what the
 * capture thread can take anyway. */
#ifndef PW_HANDOFF_H
#define PW_HANDOFF_H

#include "../analysis/analysis.h"
#include "../capture/packet.h"
#include "../dissectors/events.h"

typedef struct pw_handoff pw_handoff;

/* Starts the analysis thread; NULL when it cannot (the caller then calls
 * the analysis directly). */
pw_handoff *pw_handoff_start(pw_analysis *a);
/* Hands one item on (copied; the packet's payload pointer is not: analysis
 * reads no bytes).  Blocks while the ring is full. */
void pw_handoff_packet(pw_handoff *h, const pw_pkt *pkt);
void pw_handoff_event(pw_handoff *h, const pw_event *ev);
void pw_handoff_midstream(pw_handoff *h, const pw_attempt *m);
/* Waits until the analysis thread has processed everything handed so far. */
void pw_handoff_sync(pw_handoff *h);
/* Syncs, stops the thread and frees the ring; NULL is fine. */
void pw_handoff_stop(pw_handoff *h);

#endif
