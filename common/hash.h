/* hash.h - murmur3's finalisers, for keys already folded into one word
 * (connection 4-tuples, scanner clients, certificate digests, table.h's
 * FNV-1a pass): every input bit moves every output bit, so a table may take
 * its index from any bits of the result.  Other tables keep mixes tuned to
 * their own keys (tcp6.c, nids_hash.c, memo.c, policy/match.c, nnr.c). */
#ifndef PW_HASH_H
#define PW_HASH_H

#include <stdint.h>

static inline uint64_t pw_fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static inline uint32_t pw_fmix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

#endif
