/* stream_skip.h - passing over a message too large (or of no interest) to
 * wait for, as it streams past: pdu_loop.c (on behalf of the ldap, tds, smb
 * and dcerpc dissectors) consumes what is at hand and keeps, per direction,
 * the count of its bytes still to come in a uint32_t. */
#ifndef PW_STREAM_SKIP_H
#define PW_STREAM_SKIP_H

#include <stddef.h>
#include <stdint.h>

#include "../common/cursor.h"

/* Consumes up to *skip bytes of c and counts them off *skip; returns true
 * once the skipped message is all behind (*skip is 0). */
static inline bool pw_skip_pending(pw_cursor *c, uint32_t *skip)
{
    size_t n = pw_cur_left(c) < *skip ? pw_cur_left(c) : *skip;
    pw_skip(c, n);
    *skip -= (uint32_t)n;
    return *skip == 0;
}

/* Starts passing over a message of `total` bytes of which `left` are at
 * hand: consumes min(left, total) and leaves the rest in *skip. */
static inline void pw_skip_message(pw_cursor *c, size_t left, size_t total, uint32_t *skip)
{
    size_t take = left < total ? left : total;
    pw_skip(c, take);
    *skip = (uint32_t)(total - take);
}

#endif
