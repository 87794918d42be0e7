/* deadlines.h - the connection table's timer queue: which record is due next.
 *
 * Each live record has one entry {key, idx, seq}: key is when it is due
 * (possibly earlier than its true deadline: conn.c raises late keys lazily,
 * when they reach the top), idx the record, seq its creation number.
 * Entries leave in (key, seq) order, so records due in the same microsecond
 * go in the order they were made, whatever the structure below.
 *
 * Why not just a heap: nearly every deadline is "now + a constant" (the
 * connect timeout of a new attempt, the grace after a close), so the
 * entries of one constant arrive already sorted.  Such an entry is appended
 * to a FIFO kept for its constant (the gap between its key and the clock),
 * and the next due is the least of the FIFO heads and the heap top: a
 * flood of SYNs then costs O(1) per record instead of a heap walk through
 * a table of 262,144.  An entry that fits no FIFO (another gap, a key out
 * of order, a FIFO at its limit) goes to a 4-ary heap.  A record removed or
 * moved earlier leaves a tombstone in its FIFO, dropped when it reaches
 * the head; each FIFO holds at most `fifo_max` entries, tombstones
 * included, so memory stays bounded by the records' cap. */
#ifndef PW_DEADLINES_H
#define PW_DEADLINES_H

#include <stdbool.h>
#include <stdint.h>

#include "attempt.h" /* pw_usec */

typedef struct pw_deadline {
    pw_usec key;
    uint32_t idx;
    uint32_t seq;
} pw_deadline;

typedef struct pw_deadlines pw_deadlines;

pw_deadlines *pw_deadlines_new(uint32_t fifo_max);
void pw_deadlines_free(pw_deadlines *q);

/* The packet clock (non-decreasing): a key's gap from it picks its FIFO. */
void pw_deadlines_clock(pw_deadlines *q, pw_usec now);
/* A new record idx (not in the queue), due at key. */
void pw_deadlines_push(pw_deadlines *q, uint32_t idx, pw_usec key);
/* Takes record idx (in the queue) out. */
void pw_deadlines_remove(pw_deadlines *q, uint32_t idx);
/* Record idx is due at key instead, if key is earlier than its entry's. */
void pw_deadlines_lower(pw_deadlines *q, uint32_t idx, pw_usec key);
/* The entry due first; false when the queue is empty. */
bool pw_deadlines_top(pw_deadlines *q, pw_deadline *top);
/* The top entry's key becomes key (later than it was). */
void pw_deadlines_raise_top(pw_deadlines *q, pw_usec key);
/* Up to n records among the next to be due, the first one first (for
 * prefetching; changes nothing).  Returns how many. */
uint32_t pw_deadlines_peek(pw_deadlines *q, uint32_t *idx, uint32_t n);
/* Calls fn for every record in the queue, in no particular order. */
void pw_deadlines_each(const pw_deadlines *q, void (*fn)(void *arg, uint32_t idx), void *arg);
uint32_t pw_deadlines_count(const pw_deadlines *q);

#endif
