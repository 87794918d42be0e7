/* test_memo.c - analysis/memo.c: the bounded set-associative memory the outcome
 * rules keep beyond one connection: get/put by key, fresh entries zeroed,
 * least recently touched way replaced, live replacements counted, and the
 * size fixed however many keys go in. */
#include <string.h>

#include "../../analysis/memo.h"
#include "check.h"

typedef struct val {
    uint64_t a, b;
} val;

static void test_basic(void)
{
    pw_memo *m = pw_memo_new(4, sizeof(val));
    bool fresh;
    uint32_t k1 = 1, k2 = 2;
    CHECK(pw_memo_get(m, &k1, sizeof k1) == NULL);
    val *v = pw_memo_put(m, &k1, sizeof k1, 100, 10, &fresh);
    CHECK(v != NULL);
    CHECK(fresh);
    CHECK_INT(v->a, 0);
    v->a = 42;
    val *w = pw_memo_put(m, &k1, sizeof k1, 101, 10, &fresh);
    CHECK(w == v);
    CHECK(!fresh);
    CHECK_INT(w->a, 42);
    CHECK(pw_memo_get(m, &k2, sizeof k2) == NULL);
    /* keys of other lengths are other keys */
    uint8_t k1short = 1;
    CHECK(pw_memo_get(m, &k1short, 1) == NULL);
    /* too long a key is refused, not truncated */
    uint8_t big[PW_MEMO_KEY_MAX + 1];
    memset(big, 7, sizeof big);
    CHECK(pw_memo_put(m, big, sizeof big, 102, 10, &fresh) == NULL);
    CHECK(pw_memo_get(m, big, sizeof big) == NULL);
    CHECK_INT(pw_memo_count(m), 1);
    pw_memo_free(m);
}

/* The entry a put found last is asked first: it answers only its own key,
 * and once another key took its way over, that key's value is fresh. */
static void test_last_found(void)
{
    pw_memo *m = pw_memo_new(1, sizeof(val)); /* one set of four ways */
    bool fresh;
    uint32_t k[6] = {10, 11, 12, 13, 14, 15};
    val *v0 = pw_memo_put(m, &k[0], sizeof k[0], 100, 1000, &fresh);
    v0->a = 7;
    CHECK(pw_memo_put(m, &k[0], sizeof k[0], 101, 1000, &fresh) == v0 && !fresh);
    val *v1 = pw_memo_put(m, &k[1], sizeof k[1], 102, 1000, &fresh); /* last is k[1] now */
    CHECK(fresh && v1 != v0);
    CHECK(pw_memo_put(m, &k[0], sizeof k[0], 103, 1000, &fresh) == v0 && !fresh && v0->a == 7);
    for (int i = 2; i < 4; i++)
        pw_memo_put(m, &k[i], sizeof k[i], (pw_usec)(104 + i), 1000, &fresh);
    /* k[1] is the least recently touched: k[4] takes its way over */
    val *v4 = pw_memo_put(m, &k[4], sizeof k[4], 110, 1000, &fresh);
    CHECK(fresh && v4 == v1 && v4->a == 0);
    CHECK(pw_memo_get(m, &k[1], sizeof k[1]) == NULL);
    val *again = pw_memo_put(m, &k[1], sizeof k[1], 111, 1000, &fresh); /* k[0] (103) goes */
    CHECK(fresh);
    CHECK(again == v0 && again->a == 0);
    CHECK_INT(pw_memo_replaced(m), 2);
    pw_memo_free(m);
}

static void test_bounded(void)
{
    /* 4 sets of 4 ways: at most 16 entries whatever goes in */
    pw_memo *m = pw_memo_new(3, sizeof(val)); /* rounded up to 4 sets */
    bool fresh;
    for (uint32_t k = 0; k < 10000; k++) {
        val *v = pw_memo_put(m, &k, sizeof k, (pw_usec)k, 1000000, &fresh);
        CHECK(v != NULL && fresh);
        v->a = k;
    }
    CHECK_INT(pw_memo_count(m), 16);
    /* every one pushed out was live (touched within 1 s) */
    CHECK_INT(pw_memo_replaced(m), 10000 - 16);
    /* the most recent key of each set survived: the last ones are present */
    uint32_t last = 9999;
    val *v = pw_memo_get(m, &last, sizeof last);
    CHECK(v != NULL && v->a == 9999);
    uint32_t first = 0;
    CHECK(pw_memo_get(m, &first, sizeof first) == NULL);
    pw_memo_free(m);

    /* the least recently touched way goes first; stale ones are not counted */
    m = pw_memo_new(1, sizeof(val));
    for (uint32_t k = 0; k < 4; k++)
        pw_memo_put(m, &k, sizeof k, 10 + k, 5, &fresh);
    uint32_t k0 = 0;
    pw_memo_put(m, &k0, sizeof k0, 100, 5, &fresh); /* touch 0 again */
    uint32_t k9 = 9;
    pw_memo_put(m, &k9, sizeof k9, 101, 5, &fresh); /* replaces 1 (touched at 11: stale) */
    uint32_t k1 = 1;
    CHECK(pw_memo_get(m, &k1, sizeof k1) == NULL);
    CHECK(pw_memo_get(m, &k0, sizeof k0) != NULL);
    CHECK_INT(pw_memo_replaced(m), 0);
    pw_memo_free(m);
}

int main(void)
{
    test_last_found();
    test_basic();
    test_bounded();
    CHECK_DONE();
}
