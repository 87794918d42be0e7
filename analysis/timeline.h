/* timeline.h - attempts by outcome over capture time, in a fixed number of
 * buckets whose width doubles as the capture grows (bounded memory, no
 * allocation per attempt): the HTML page's timeline. */
#ifndef PW_TIMELINE_H
#define PW_TIMELINE_H

#include <stdint.h>

#include "attempt.h"

#define PW_TIMELINE_BUCKETS 120

typedef struct pw_timeline {
    bool started;
    pw_usec start;                /* at or before the earliest attempt, on a bucket boundary */
    pw_usec width;                /* bucket width, 1 s doubled as needed */
    int n;                        /* buckets in use */
    uint64_t counts[PW_TIMELINE_BUCKETS][PW_OUT_COUNT];
} pw_timeline;

/* Counts one decided attempt at its time. */
void pw_timeline_add(pw_timeline *t, pw_usec ts, pw_outcome o);

#endif
