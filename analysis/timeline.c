/* timeline.c - attempts by outcome over capture time.  The buckets start at
 * the first attempt, 1 s wide; an attempt past the last bucket doubles the
 * width (merging neighbours) until it fits, so a capture of any length
 * takes PW_TIMELINE_BUCKETS buckets.  Attempts are decided out of time
 * order (a timeout decides late), so one earlier than the start moves the
 * start back, widening the buckets when they would not fit. */
#include "timeline.h"

#include <string.h>

static void double_width(pw_timeline *t)
{
    int n = 0;
    for (int i = 0; i < t->n; i += 2, n++)
        for (int o = 0; o < PW_OUT_COUNT; o++)
            t->counts[n][o] = t->counts[i][o] + (i + 1 < t->n ? t->counts[i + 1][o] : 0);
    memset(t->counts[n], 0, (size_t)(PW_TIMELINE_BUCKETS - n) * sizeof t->counts[0]);
    t->n = n;
    t->width *= 2;
}

/* Moves the start back to a bucket boundary at or before ts when the
 * buckets in use still fit; false when they would not (widen first). */
static bool shift_start(pw_timeline *t, pw_usec ts)
{
    uint64_t s = ((uint64_t)(t->start - ts) + (uint64_t)t->width - 1) / (uint64_t)t->width;
    if ((uint64_t)t->n + s > PW_TIMELINE_BUCKETS)
        return false;
    memmove(t->counts[s], t->counts[0], (size_t)t->n * sizeof t->counts[0]);
    memset(t->counts[0], 0, (size_t)s * sizeof t->counts[0]);
    t->n += (int)s;
    t->start -= (pw_usec)s * t->width;
    return true;
}

void pw_timeline_add(pw_timeline *t, pw_usec ts, pw_outcome o)
{
    if ((unsigned)o >= PW_OUT_COUNT)
        return;
    if (!t->started) {
        t->started = true;
        t->start = ts;
        t->width = 1000000;
    }
    while (ts < t->start && !shift_start(t, ts))
        double_width(t);
    uint64_t k = (uint64_t)(ts - t->start) / (uint64_t)t->width;
    while (k >= PW_TIMELINE_BUCKETS) {
        double_width(t);
        k = (uint64_t)(ts - t->start) / (uint64_t)t->width;
    }
    if ((int)k >= t->n)
        t->n = (int)k + 1;
    t->counts[k][o]++;
}
