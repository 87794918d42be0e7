/* nids_hash.c - a faster hash for libnids' stream table.
 *
 * libnids looks every TCP segment up in its stream table twice (one
 * orientation, then the other), each time hashing the 4-tuple with mkhash:
 * twelve bytes, permuted, each folded in with a modulo, about 5 % of the
 * real-mix bench on its own.  mkhash is an exported function of
 * libnids.so that its lookups call through the PLT, so defining it here
 * replaces it for the whole process (ELF symbol interposition, as a
 * program replaces malloc).  Same contract as the original's: a value
 * below 2^24 (libnids stores it in an int and takes it modulo its table
 * size: a value of 2^31 or more would index before the table); keyed with
 * random bits like the original, so that crafted addresses cannot pile
 * streams into one bucket.
 * Where a libnids build does not call it through the PLT, its own mkhash
 * runs instead: slower, nothing else changes. */
#include <stdint.h>
#include <sys/random.h>

#include "capture_int.h"

static uint64_t key[2] = {0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL};

void pw_nids_hash_seed(void)
{
    static int seeded;
    uint64_t k[2];
    if (seeded || getrandom(k, sizeof k, GRND_NONBLOCK) != (ssize_t)sizeof k)
        return;
    key[0] ^= k[0];
    key[1] ^= k[1] | 1;
    seeded = 1;
}

unsigned int mkhash(unsigned int src, unsigned short sport, unsigned int dest, unsigned short dport)
{
    uint64_t h = ((uint64_t)src << 32 | dest) ^ key[0];
    h *= 0xff51afd7ed558ccdULL;
    h ^= ((uint64_t)sport << 16 | dport) * key[1];
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return (unsigned int)(h >> 40);
}
