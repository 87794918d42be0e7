/* memo.h - a small bounded memory keyed by a few bytes, for facts the
 * outcome rules remember beyond one connection record (attempts.c): which
 * client ports sent a broadcast or multicast query, a client's last request
 * to a server port (retries from new source ports), and what a host's own
 * packets look like (TTL, IP ID) to tell it from a device in the path.
 *
 * Set-associative: a key hashes to a set of MEMO_WAYS entries; a new key
 * takes a free way or else the least recently touched one, so memory is
 * fixed at creation and never grows with the capture.  Replacing an entry
 * touched within `live` of now is counted (the cap was too small for the
 * traffic), so the loss is visible in the stats rather than silent. */
#ifndef PW_MEMO_H
#define PW_MEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/pwtime.h"

#define PW_MEMO_KEY_MAX 40

typedef struct pw_memo pw_memo;

/* nsets is rounded up to a power of two; value_size bytes of value per entry. */
pw_memo *pw_memo_new(uint32_t nsets, size_t value_size);
void pw_memo_free(pw_memo *m);
/* The value stored under key (klen <= PW_MEMO_KEY_MAX), or NULL. */
void *pw_memo_get(pw_memo *m, const void *key, size_t klen);
/* The value under key, made (zeroed) when absent; *fresh tells which.
 * Marks the entry as touched at `now`. */
void *pw_memo_put(pw_memo *m, const void *key, size_t klen, pw_usec now, pw_usec live, bool *fresh);
/* Starts loading the set key would be looked up in (a hint). */
void pw_memo_prefetch(const pw_memo *m, const void *key, size_t klen);
/* Entries still live that a new key pushed out (see above), and entries in use. */
uint64_t pw_memo_replaced(const pw_memo *m);
uint32_t pw_memo_count(const pw_memo *m);

#endif
