/* memo.c - the bounded set-associative memory (see memo.h). */
#include "memo.h"

#include <stdlib.h>
#include <string.h>

#define MEMO_WAYS 4

typedef struct entry {
    pw_usec touched;
    uint8_t used, klen;
    uint8_t key[PW_MEMO_KEY_MAX];
    /* value_size bytes follow, aligned */
} entry;

struct pw_memo {
    uint32_t mask;
    size_t stride, value_size;
    uint32_t count;
    uint64_t replaced;
    unsigned char *slots;
};

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
    m->value_size = value_size;
    m->stride = align8(sizeof(entry)) + align8(value_size);
    m->slots = calloc((size_t)n * MEMO_WAYS, m->stride);
    if (!m->slots)
        abort();
    return m;
}

void pw_memo_free(pw_memo *m)
{
    if (!m)
        return;
    free(m->slots);
    free(m);
}

static uint32_t hash_key(const uint8_t *k, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a, then a final mix for the low bits */
    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 16777619u;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    return h;
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
    return e->used && e->klen == klen && memcmp(e->key, key, klen) == 0;
}

void *pw_memo_get(pw_memo *m, const void *key, size_t klen)
{
    if (klen > PW_MEMO_KEY_MAX)
        return NULL;
    uint32_t set = hash_key(key, klen) & m->mask;
    for (int w = 0; w < MEMO_WAYS; w++) {
        entry *e = way(m, set, w);
        if (same_key(e, key, klen))
            return value_of(m, e);
    }
    return NULL;
}

void *pw_memo_put(pw_memo *m, const void *key, size_t klen, pw_usec now, pw_usec live, bool *fresh)
{
    *fresh = false;
    if (klen > PW_MEMO_KEY_MAX)
        return NULL;
    uint32_t set = hash_key(key, klen) & m->mask;
    entry *victim = NULL;
    for (int w = 0; w < MEMO_WAYS; w++) {
        entry *e = way(m, set, w);
        if (same_key(e, key, klen)) {
            if (now > e->touched)
                e->touched = now;
            return value_of(m, e);
        }
        if (!e->used) {
            if (!victim || victim->used)
                victim = e;
        } else if (!victim || (victim->used && e->touched < victim->touched)) {
            victim = e;
        }
    }
    if (victim->used) {
        if (victim->touched >= now - live)
            m->replaced++;
    } else {
        m->count++;
    }
    victim->used = 1;
    victim->klen = (uint8_t)klen;
    memset(victim->key, 0, sizeof victim->key);
    memcpy(victim->key, key, klen);
    victim->touched = now;
    memset(value_of(m, victim), 0, m->value_size);
    *fresh = true;
    return value_of(m, victim);
}

uint64_t pw_memo_replaced(const pw_memo *m) { return m->replaced; }
uint32_t pw_memo_count(const pw_memo *m) { return m->count; }
