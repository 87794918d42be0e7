/* test_timeline.c - attempts by outcome over capture time (analysis/
 * timeline.c): buckets start 1 s wide at the first attempt, double (merging
 * neighbours) when an attempt falls past the last one, move the start back
 * for an earlier attempt, and never lose a count. */
#include "../../analysis/timeline.h"
#include "check.h"

#define SEC 1000000LL

static uint64_t total(const pw_timeline *t, pw_outcome o)
{
    uint64_t n = 0;
    for (int i = 0; i < PW_TIMELINE_BUCKETS; i++)
        n += t->counts[i][o];
    return n;
}

int main(void)
{
    static pw_timeline t;
    pw_timeline_add(&t, 100 * SEC, PW_OUT_ANSWERED);
    CHECK_INT(t.start, 100 * SEC);
    CHECK_INT(t.width, SEC);
    CHECK_INT(t.n, 1);
    pw_timeline_add(&t, 100 * SEC + 2500000, PW_OUT_BLOCKED); /* +2.5 s: bucket 2 */
    CHECK_INT(t.n, 3);
    CHECK_INT(t.counts[2][PW_OUT_BLOCKED], 1);

    /* earlier than the start: the start moves back 2 buckets */
    pw_timeline_add(&t, 98 * SEC + 500000, PW_OUT_REFUSED);
    CHECK_INT(t.start, 98 * SEC);
    CHECK_INT(t.n, 5);
    CHECK_INT(t.counts[0][PW_OUT_REFUSED], 1);
    CHECK_INT(t.counts[2][PW_OUT_ANSWERED], 1);
    CHECK_INT(t.counts[4][PW_OUT_BLOCKED], 1);

    /* +200 s does not fit 120 buckets of 1 s: width doubles to 2 s */
    pw_timeline_add(&t, 98 * SEC + 200 * SEC, PW_OUT_UNANSWERED);
    CHECK_INT(t.width, 2 * SEC);
    CHECK_INT(t.n, 101);
    CHECK_INT(t.counts[0][PW_OUT_REFUSED], 1);
    CHECK_INT(t.counts[1][PW_OUT_ANSWERED], 1);  /* 100 s is 2 s after 98 s */
    CHECK_INT(t.counts[2][PW_OUT_BLOCKED], 1);
    CHECK_INT(t.counts[100][PW_OUT_UNANSWERED], 1);

    /* a day later: still 120 buckets at most, nothing lost */
    pw_timeline_add(&t, 98 * SEC + 86400 * SEC, PW_OUT_INDETERMINATE);
    CHECK(t.n <= PW_TIMELINE_BUCKETS);
    CHECK(t.width * PW_TIMELINE_BUCKETS > 86400 * SEC);
    CHECK_INT(t.counts[t.n - 1][PW_OUT_INDETERMINATE], 1);
    /* far earlier than the start: widens, then moves back */
    pw_timeline_add(&t, 98 * SEC - 86400 * SEC, PW_OUT_ANSWERED);
    CHECK(t.n <= PW_TIMELINE_BUCKETS);
    CHECK(t.start <= 98 * SEC - 86400 * SEC);
    CHECK_INT(total(&t, PW_OUT_ANSWERED), 2);
    CHECK_INT(total(&t, PW_OUT_REFUSED), 1);
    CHECK_INT(total(&t, PW_OUT_BLOCKED), 1);
    CHECK_INT(total(&t, PW_OUT_UNANSWERED), 1);
    CHECK_INT(total(&t, PW_OUT_INDETERMINATE), 1);
    pw_timeline_add(&t, 0, PW_OUT_COUNT); /* not an outcome: ignored */
    CHECK_INT(total(&t, PW_OUT_ANSWERED), 2);
    CHECK_DONE();
}
