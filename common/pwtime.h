/* pwtime.h - packet time.  Everything is timed by capture timestamps, kept
 * as signed microseconds since the epoch; never the wall clock (except live
 * mode's own timers). */
#ifndef PW_TIME_H
#define PW_TIME_H

#include <stdint.h>

typedef int64_t pw_usec;

#define PW_USEC_PER_SEC 1000000LL

static inline double pw_usec_to_sec(pw_usec t) { return (double)t / 1e6; }

#endif
