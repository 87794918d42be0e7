/* test_deadlines.c - the connection table's timer queue (analysis/deadlines.c)
 * against a plain list that is searched for its least (key, creation)
 * entry: records due at the same microsecond leave in creation order; the
 * FIFOs for "now + a constant" and the heap for the rest give the same
 * order as the list through pushes, removals, lowered keys and raised top
 * keys, with FIFOs at their limit (so the heap takes the overflow), with
 * keys out of order, and with tombstones at and behind a FIFO's head. */
#include <stdlib.h>
#include <string.h>

#include "../../analysis/deadlines.h"
#include "check.h"

#define MAXREC 4096

/* The reference: live[idx] with its key and creation number. */
static struct ref {
    bool live;
    pw_usec key;
    uint32_t seq;
} ref[MAXREC];
static uint32_t ref_seq;


static int ref_first(void)
{
    int best = -1;
    for (int i = 0; i < MAXREC; i++)
        if (ref[i].live && (best < 0 || ref[i].key < ref[best].key ||
                            (ref[i].key == ref[best].key && ref[i].seq < ref[best].seq)))
            best = i;
    return best;
}

static int ref_count(void)
{
    int n = 0;
    for (int i = 0; i < MAXREC; i++)
        n += ref[i].live;
    return n;
}

static int free_idx(void)
{
    for (int tries = 0; tries < 64; tries++) {
        int i = (int)check_rand(MAXREC);
        if (!ref[i].live)
            return i;
    }
    for (int i = 0; i < MAXREC; i++)
        if (!ref[i].live)
            return i;
    return -1;
}

static int live_idx(void)
{
    for (int tries = 0; tries < 64; tries++) {
        int i = (int)check_rand(MAXREC);
        if (ref[i].live)
            return i;
    }
    return ref_first();
}

static int each_seen[MAXREC];
static void count_each(void *arg, uint32_t idx)
{
    (void)arg;
    each_seen[idx]++;
}

/* One run of n random operations; returns how many tops disagreed. */
static int run(uint32_t fifo_max, int n, int gaps_only)
{
    memset(ref, 0, sizeof ref);
    ref_seq = 0;
    pw_deadlines *q = pw_deadlines_new(fifo_max);
    static const pw_usec gaps[] = {3000000, 1000000, 30000000, 0, 5000000, 120000000};
    pw_usec clock = 1000;
    int bad = 0;
    for (int op = 0; op < n; op++) {
        clock += check_rand(3) ? check_rand(2000) : 0; /* ties happen */
        pw_deadlines_clock(q, clock);
        uint32_t what = check_rand(100);
        int first = ref_first();
        if (what < 40 && ref_count() < MAXREC - 1) {
            int i = free_idx();
            pw_usec key = clock + (gaps_only || check_rand(4) ? gaps[check_rand(6)] : (pw_usec)check_rand(50000000));
            pw_deadlines_push(q, (uint32_t)i, key);
            ref[i] = (struct ref){true, key, ref_seq++};
        } else if (what < 60 && first >= 0) {
            int i = live_idx();
            pw_deadlines_remove(q, (uint32_t)i);
            ref[i].live = false;
        } else if (what < 75 && first >= 0) {
            int i = live_idx();
            pw_usec key = clock + gaps[check_rand(6)] - (check_rand(3) ? 0 : (pw_usec)check_rand(1000));
            pw_deadlines_lower(q, (uint32_t)i, key);
            if (key < ref[i].key)
                ref[i].key = key;
        } else if (what < 85 && first >= 0) {
            pw_usec key = ref[first].key + (pw_usec)check_rand(60000000);
            pw_deadlines_raise_top(q, key);
            ref[first].key = key;
        } else if (first >= 0) {
            /* take the first one, as the table does when it is due */
            pw_deadline top;
            if (!pw_deadlines_top(q, &top) || top.idx != (uint32_t)first)
                bad++;
            pw_deadlines_remove(q, (uint32_t)first);
            ref[first].live = false;
        }
        first = ref_first();
        pw_deadline top;
        bool have = pw_deadlines_top(q, &top);
        if (have != (first >= 0) || (have && (top.idx != (uint32_t)first || top.key != ref[first].key)))
            bad++;
        uint32_t peek[5];
        uint32_t np = pw_deadlines_peek(q, peek, 5);
        if ((np > 0) != have || (np && peek[0] != top.idx))
            bad++;
        if (pw_deadlines_count(q) != (uint32_t)ref_count())
            bad++;
    }
    memset(each_seen, 0, sizeof each_seen);
    pw_deadlines_each(q, count_each, NULL);
    for (int i = 0; i < MAXREC; i++)
        if (each_seen[i] != (ref[i].live ? 1 : 0))
            bad++;
    /* drain in order */
    int first;
    while ((first = ref_first()) >= 0) {
        pw_deadline top;
        if (!pw_deadlines_top(q, &top) || top.idx != (uint32_t)first)
            bad++;
        pw_deadlines_remove(q, (uint32_t)first);
        ref[first].live = false;
    }
    pw_deadline top;
    if (pw_deadlines_top(q, &top) || pw_deadlines_count(q) != 0)
        bad++;
    pw_deadlines_free(q);
    return bad;
}

static void same_microsecond(void)
{
    pw_deadlines *q = pw_deadlines_new(0);
    pw_deadlines_clock(q, 100);
    /* three records due at 500, made in the order 7, 3, 9; one earlier */
    pw_deadlines_push(q, 7, 500);
    pw_deadlines_push(q, 3, 500);
    pw_deadlines_push(q, 9, 900);
    pw_deadlines_lower(q, 9, 500); /* moved earlier: still made last */
    pw_deadlines_push(q, 1, 200);
    uint32_t order[4];
    for (int k = 0; k < 4; k++) {
        pw_deadline top;
        CHECK(pw_deadlines_top(q, &top));
        order[k] = top.idx;
        pw_deadlines_remove(q, top.idx);
    }
    CHECK_INT(order[0], 1);
    CHECK_INT(order[1], 7);
    CHECK_INT(order[2], 3);
    CHECK_INT(order[3], 9);
    pw_deadline top;
    CHECK(!pw_deadlines_top(q, &top));
    pw_deadlines_free(q);
}

/* A SYN flood's pattern: every record due "now + 3 s", the earliest taken
 * out at each new one (eviction at the cap), a tombstone now and then. */
static void flood(void)
{
    pw_deadlines *q = pw_deadlines_new(1024);
    enum { CAP = 1000 };
    static pw_usec pushed[2 * CAP]; /* key of record idx */
    uint32_t next = 0, oldest = 0, bad = 0;
    pw_usec clock = 0;
    for (uint32_t i = 0; i < 200000; i++) {
        clock += 10;
        pw_deadlines_clock(q, clock);
        if (pw_deadlines_count(q) == CAP) {
            pw_deadline top;
            if (!pw_deadlines_top(q, &top) || top.idx != oldest || top.key != pushed[oldest])
                bad++;
            pw_deadlines_remove(q, top.idx);
            oldest = (oldest + 1) % (2 * CAP);
        }
        pushed[next] = clock + 3000000;
        pw_deadlines_push(q, next, pushed[next]);
        next = (next + 1) % (2 * CAP);
    }
    CHECK_INT(bad, 0);
    CHECK_INT(pw_deadlines_count(q), CAP);
    uint32_t n = 0;
    pw_deadline top;
    while (pw_deadlines_top(q, &top)) {
        if (top.idx != oldest)
            bad++;
        oldest = (oldest + 1) % (2 * CAP);
        pw_deadlines_remove(q, top.idx);
        n++;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(n, CAP);
    pw_deadlines_free(q);
}

int main(void)
{
    same_microsecond();
    flood();
    /* the table's own constants only (FIFOs do nearly everything) */
    CHECK_INT(run(0, 20000, 1), 0);
    /* arbitrary keys mixed in (the heap's share grows) */
    CHECK_INT(run(0, 20000, 0), 0);
    /* FIFOs at a tiny limit: the heap takes what they cannot */
    CHECK_INT(run(8, 20000, 1), 0);
    CHECK_INT(run(1, 20000, 0), 0);
    for (int seed = 0; seed < 20; seed++) {
        check_seed(0x2545f4914f6cdd1dULL * (uint64_t)(seed + 1));
        CHECK_INT(run(seed % 3 == 0 ? 16 : 0, 3000, seed & 1), 0);
    }
    CHECK_DONE();
}
