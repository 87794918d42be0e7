/* cert_cache.c - the per-run certificate cache; see cert_cache.h.
 *
 * A fixed array of `cap` entries (allocated once), chained through a
 * power-of-two bucket array indexed by a 64-bit hash of the DER bytes.  Each
 * entry keeps its own copy of the DER so a lookup is confirmed by length,
 * hash and memcmp.  Eviction is CLOCK: a hit sets the entry's reference bit;
 * the hand clears set bits and takes the first entry whose bit is clear.
 * Misses allocate (the DER copy, reused on eviction when big enough); hits
 * do not. */
#include "cert_cache.h"
#include "../common/hash.h"

#include <stdlib.h>
#include <string.h>

typedef struct cert_entry {
    uint64_t hash;
    uint8_t *der;      /* copy of the key */
    uint32_t der_len;
    uint32_t der_cap;
    uint32_t next;     /* next entry in the bucket chain, index + 1; 0 ends it */
    bool ref;          /* CLOCK reference bit */
    pw_cert_fields f;
} cert_entry;

struct pw_cert_cache {
    cert_entry *e;
    uint32_t *bucket;  /* index + 1 of the first entry; 0 = empty */
    uint32_t cap, used, hand, mask;
    uint64_t hits, misses, evictions, uncacheable;
};

/* 64 bits over the DER, a word at a time, with a murmur3 finaliser.  It only
 * spreads keys over buckets: equality is always confirmed with memcmp. */
static uint64_t der_hash(const uint8_t *p, size_t n)
{
    const uint64_t k = 0x9E3779B97F4A7C15ull;
    uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)n * k);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof w);
        h = (h ^ w) * k;
        h = (h << 31) | (h >> 33);
    }
    for (; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return pw_fmix64(h);
}

pw_cert_cache *pw_cert_cache_new(size_t max_entries)
{
    if (max_entries == 0)
        max_entries = PW_CERT_CACHE_ENTRIES;
    if (max_entries > (1u << 20))
        max_entries = 1u << 20;
    pw_cert_cache *cc = calloc(1, sizeof *cc);
    if (!cc)
        return NULL;
    uint32_t nb = 16;
    while (nb < 2 * max_entries)
        nb <<= 1;
    cc->e = calloc(max_entries, sizeof *cc->e);
    cc->bucket = calloc(nb, sizeof *cc->bucket);
    if (!cc->e || !cc->bucket) {
        pw_cert_cache_free(cc);
        return NULL;
    }
    cc->cap = (uint32_t)max_entries;
    cc->mask = nb - 1;
    return cc;
}

void pw_cert_cache_free(pw_cert_cache *cc)
{
    if (!cc)
        return;
    if (cc->e)
        for (uint32_t i = 0; i < cc->used; i++)
            free(cc->e[i].der);
    free(cc->e);
    free(cc->bucket);
    free(cc);
}

static cert_entry *find(pw_cert_cache *cc, uint64_t h, const uint8_t *der, size_t len)
{
    for (uint32_t i = cc->bucket[h & cc->mask]; i; i = cc->e[i - 1].next) {
        cert_entry *e = &cc->e[i - 1];
        if (e->hash == h && e->der_len == len && memcmp(e->der, der, len) == 0)
            return e;
    }
    return NULL;
}

const pw_cert_fields *pw_cert_cache_get(pw_cert_cache *cc, const uint8_t *der, size_t len)
{
    if (!cc || !der)
        return NULL;
    if (len > PW_CERT_CACHE_DER_MAX) {
        cc->uncacheable++;
        return NULL;
    }
    cert_entry *e = find(cc, der_hash(der, len), der, len);
    if (!e) {
        cc->misses++;
        return NULL;
    }
    cc->hits++;
    e->ref = true;
    return &e->f;
}

/* Takes entry `idx` out of its bucket chain. */
static void unlink_entry(pw_cert_cache *cc, uint32_t idx)
{
    uint32_t *link = &cc->bucket[cc->e[idx].hash & cc->mask];
    while (*link && *link != idx + 1)
        link = &cc->e[*link - 1].next;
    if (*link)
        *link = cc->e[idx].next;
    cc->e[idx].next = 0;
}

void pw_cert_cache_put(pw_cert_cache *cc, const uint8_t *der, size_t len, const pw_cert_fields *f)
{
    if (!cc || !der || !f || len > PW_CERT_CACHE_DER_MAX)
        return;
    uint64_t h = der_hash(der, len);
    cert_entry *e = find(cc, h, der, len);
    if (e) {
        e->f = *f;
        return;
    }
    uint32_t idx;
    if (cc->used < cc->cap) {
        idx = cc->used;
    } else {
        while (cc->e[cc->hand].ref) {
            cc->e[cc->hand].ref = false;
            cc->hand = (cc->hand + 1) % cc->cap;
        }
        idx = cc->hand;
        cc->hand = (cc->hand + 1) % cc->cap;
        unlink_entry(cc, idx);
        cc->evictions++;
    }
    e = &cc->e[idx];
    if (e->der_cap < len) {
        uint8_t *p = realloc(e->der, len ? len : 1);
        if (!p) {
            /* Out of memory: an evicted slot stays empty (unlinked, length
             * 0 never matches a non-empty key); a new one is not used. */
            e->der_len = 0;
            e->hash = 0;
            e->ref = false;
            return;
        }
        e->der = p;
        e->der_cap = (uint32_t)len;
    }
    if (idx == cc->used)
        cc->used++;
    memcpy(e->der, der, len);
    e->der_len = (uint32_t)len;
    e->hash = h;
    e->ref = false;
    e->f = *f;
    e->next = cc->bucket[h & cc->mask];
    cc->bucket[h & cc->mask] = idx + 1;
}

void pw_cert_cache_get_stats(const pw_cert_cache *cc, pw_cert_cache_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!cc)
        return;
    out->hits = cc->hits;
    out->misses = cc->misses;
    out->evictions = cc->evictions;
    out->uncacheable = cc->uncacheable;
    out->entries = cc->used;
    out->capacity = cc->cap;
}

pw_dissect_cache *pw_dissect_cache_new(size_t cert_entries)
{
    pw_dissect_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cert = pw_cert_cache_new(cert_entries);
    if (!c->cert) {
        free(c);
        return NULL;
    }
    return c;
}

void pw_dissect_cache_free(pw_dissect_cache *c)
{
    if (!c)
        return;
    pw_cert_cache_free(c->cert);
    free(c);
}
