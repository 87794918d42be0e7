/* table.h - uthash with a strong hash function.
 *
 * Include this instead of <uthash.h>.  uthash's default (Jenkins) hash
 * combined with its "ineffective expansion" heuristic can stop a table from
 * growing on keys that differ in a few bytes (IPv4 addresses padded to
 * pw_addr), leaving long bucket chains on the hot path; an FNV-1a pass with
 * a murmur3 finaliser spreads such keys evenly. */
#ifndef PW_TABLE_H
#define PW_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"

static inline uint32_t pw_hash_bytes(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return pw_fmix32(h);
}

#define HASH_FUNCTION(keyptr, keylen, hashv) ((hashv) = pw_hash_bytes((keyptr), (size_t)(keylen)))
#include <uthash.h>

#endif
