/* memo.c - the bounded set-associative memory (see memo.h). */
#include "memo.h"

#include <stdlib.h>
#include <string.h>

#define MEMO_WAYS 4

typedef struct entry {
    uint8_t klen;
    uint8_t key[PW_MEMO_KEY_MAX];
    /* value_size bytes follow, aligned */
} entry;

struct pw_memo {
    uint32_t mask;
    size_t stride, value_size;
    uint32_t count;
    uint64_t replaced;
    /* Per set, one cache line: each way's key hash with the low bit set
     * (0 = free) and when it was last touched.  A lookup reads that line and
     * only the entry whose tag matches; choosing a victim reads no entry. */
    struct set_meta *meta;
    unsigned char *slots;
    /* Where the last put found or made its key: a host's packets come in
     * runs (a bulk flow's server), and entries are never deleted, only
     * taken over by another key, which the key comparison sees. */
    uint32_t last_set;
    int last_way; /* -1: none yet */
};

typedef struct set_meta {
    uint32_t tag[MEMO_WAYS];
    pw_usec touched[MEMO_WAYS];
} set_meta;
_Static_assert(sizeof(set_meta) <= 64, "a set's tags fit one cache line");

static size_t align8(size_t n) { return (n + 7u) & ~(size_t)7u; }

pw_memo *pw_memo_new(uint32_t nsets, size_t value_size)
{
    uint32_t n = 1;
    while (n < nsets && n < (1u << 24))
        n <<= 1;
    pw_memo *m = calloc(1, sizeof *m);
    if (!m)
        abort(); /* the analysis core's one policy: out of memory at setup stops */
    m->mask = n - 1;
    m->last_way = -1;
    m->value_size = value_size;
    m->stride = align8(sizeof(entry)) + align8(value_size);
    m->slots = calloc((size_t)n * MEMO_WAYS, m->stride);
    m->meta = aligned_alloc(64, (size_t)n * 64);
    if (!m->slots || !m->meta)
        abort();
    memset(m->meta, 0, (size_t)n * 64);
    return m;
}

void pw_memo_free(pw_memo *m)
{
    if (!m)
        return;
    free(m->slots);
    free(m->meta);
    free(m);
}

/* Eight bytes at a time (keys are addresses and ports), then a final mix. */
static inline uint32_t hash_key(const uint8_t *k, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, k + i, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 29;
    }
    for (w = 0; i < n; i++)
        w = w << 8 | k[i];
    h = (h ^ w) * 0x94d049bb133111ebull;
    h ^= h >> 32;
    return (uint32_t)h;
}

static entry *way(const pw_memo *m, uint32_t set, int w)
{
    return (entry *)(m->slots + ((size_t)set * MEMO_WAYS + (size_t)w) * m->stride);
}

static void *value_of(const pw_memo *m, entry *e)
{
    return (unsigned char *)e + (m->stride - align8(m->value_size));
}

static bool same_key(const entry *e, const void *key, size_t klen)
{
    return e->klen == klen && memcmp(e->key, key, klen) == 0;
}

static set_meta *meta_of(const pw_memo *m, uint32_t set)
{
    return (set_meta *)(void *)((unsigned char *)m->meta + (size_t)set * 64);
}

/* The way holding key in set, or -1. */
static int find_way(const pw_memo *m, uint32_t set, uint32_t tag, const void *key, size_t klen)
{
    const set_meta *sm = meta_of(m, set);
    for (int w = 0; w < MEMO_WAYS; w++)
        if (sm->tag[w] == tag && same_key(way(m, set, w), key, klen))
            return w;
    return -1;
}

void *pw_memo_get(pw_memo *m, const void *key, size_t klen)
{
    if (klen > PW_MEMO_KEY_MAX)
        return NULL;
    uint32_t h = hash_key(key, klen), set = h & m->mask;
    int w = find_way(m, set, h | 1u, key, klen);
    return w < 0 ? NULL : value_of(m, way(m, set, w));
}

/* The set's tags, and its entries: which way the key is in, or will take,
 * is known only once the tags are read, and an entry's line is the other
 * miss of a put (a new address takes a way whose line is long gone). */
void pw_memo_prefetch(const pw_memo *m, const void *key, size_t klen)
{
    if (klen > PW_MEMO_KEY_MAX)
        return;
    uint32_t set = hash_key(key, klen) & m->mask;
    __builtin_prefetch(meta_of(m, set));
    const char *first = (const char *)way(m, set, 0), *last = first + MEMO_WAYS * m->stride - 1;
    for (const char *p = first; p <= last; p += 64)
        __builtin_prefetch(p);
    __builtin_prefetch(last);
}

/* A free way of the set, else the least recently touched. */
static int victim_way(const pw_memo *m, uint32_t set)
{
    const set_meta *sm = meta_of(m, set);
    int v = -1;
    for (int w = 0; w < MEMO_WAYS; w++) {
        if (!sm->tag[w])
            return w;
        if (v < 0 || sm->touched[w] < sm->touched[v])
            v = w;
    }
    return v;
}

void *pw_memo_put(pw_memo *m, const void *key, size_t klen, pw_usec now, pw_usec live, bool *fresh)
{
    *fresh = false;
    if (klen > PW_MEMO_KEY_MAX)
        return NULL;
    if (m->last_way >= 0 && same_key(way(m, m->last_set, m->last_way), key, klen)) {
        set_meta *sm = meta_of(m, m->last_set);
        if (now > sm->touched[m->last_way])
            sm->touched[m->last_way] = now;
        return value_of(m, way(m, m->last_set, m->last_way));
    }
    uint32_t h = hash_key(key, klen), set = h & m->mask;
    int w = find_way(m, set, h | 1u, key, klen);
    set_meta *sm = meta_of(m, set);
    m->last_set = set;
    if (w >= 0) {
        m->last_way = w;
        if (now > sm->touched[w])
            sm->touched[w] = now;
        return value_of(m, way(m, set, w));
    }
    w = victim_way(m, set);
    m->last_way = w;
    entry *victim = way(m, set, w);
    if (sm->tag[w]) {
        if (sm->touched[w] >= now - live)
            m->replaced++;
    } else {
        m->count++;
    }
    sm->tag[w] = h | 1u;
    sm->touched[w] = now;
    victim->klen = (uint8_t)klen;
    memset(victim->key, 0, sizeof victim->key);
    memcpy(victim->key, key, klen);
    memset(value_of(m, victim), 0, m->value_size);
    *fresh = true;
    return value_of(m, victim);
}

uint64_t pw_memo_replaced(const pw_memo *m) { return m->replaced; }
uint32_t pw_memo_count(const pw_memo *m) { return m->count; }
