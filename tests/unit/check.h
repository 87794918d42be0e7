/* check.h - a tiny unit-test harness.  Each test binary ends with
 * CHECK_DONE(), which prints "N passed, N failed" and returns non-zero on
 * any failure, so ctest and CI see real assertions. */
#ifndef PW_CHECK_H
#define PW_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_passed_, check_failed_;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (cond) {                                                                      \
            check_passed_++;                                                             \
        } else {                                                                         \
            check_failed_++;                                                             \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);     \
        }                                                                                \
    } while (0)

#define CHECK_INT(got, want)                                                             \
    do {                                                                                 \
        long long g_ = (long long)(got), w_ = (long long)(want);                         \
        if (g_ == w_) {                                                                  \
            check_passed_++;                                                             \
        } else {                                                                         \
            check_failed_++;                                                             \
            fprintf(stderr, "%s:%d: %s == %lld, want %lld\n", __FILE__, __LINE__, #got, \
                    g_, w_);                                                             \
        }                                                                                \
    } while (0)

#define CHECK_STR(got, want)                                                             \
    do {                                                                                 \
        const char *g_ = (got), *w_ = (want);                                            \
        if (g_ && w_ && strcmp(g_, w_) == 0) {                                           \
            check_passed_++;                                                             \
        } else {                                                                         \
            check_failed_++;                                                             \
            fprintf(stderr, "%s:%d: %s == \"%s\", want \"%s\"\n", __FILE__, __LINE__,   \
                    #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)");                       \
        }                                                                                \
    } while (0)

/* A number below n from a seeded xorshift sequence: randomized tests see
 * the same inputs on every run. */
static uint64_t check_rng_ = 0x9e3779b97f4a7c15ULL;
static inline void check_seed(uint64_t seed)
{
    check_rng_ = seed ? seed : 0x9e3779b97f4a7c15ULL;
}
static inline uint32_t check_rand(uint32_t n)
{
    check_rng_ ^= check_rng_ << 13;
    check_rng_ ^= check_rng_ >> 7;
    check_rng_ ^= check_rng_ << 17;
    return (uint32_t)(check_rng_ % n);
}

#define CHECK_DONE()                                                                     \
    do {                                                                                 \
        printf("%d passed, %d failed\n", check_passed_, check_failed_);                  \
        return (check_failed_ || !check_passed_) ? 1 : 0;                                \
    } while (0)

#endif
