/* cert_cache.h - per-run caches the caller may hand to dissectors.
 *
 * Dissectors have no global state, so anything worth remembering across
 * flows (today: the fields of X.509 certificates already parsed) lives in a
 * pw_dissect_cache owned by the caller (cli/pipeline.c makes one per
 * pipeline) and reaches the dissectors through pw_dctx.cache.  A NULL cache
 * is always valid: the dissectors then do the work every time.
 *
 * The certificate cache maps the exact DER bytes of a certificate to the
 * fields the TLS event reports.  Keys are compared byte for byte (a 64-bit
 * hash only picks the bucket), so a hit can never return another
 * certificate's fields.  It holds at most `max_entries` certificates of at
 * most PW_CERT_CACHE_DER_MAX bytes each (larger ones are simply not cached)
 * and evicts with the CLOCK (second-chance) policy, so memory stays bounded
 * however many distinct certificates a capture holds.  Not thread-safe: one
 * cache per pipeline. */
#ifndef PW_CERT_CACHE_H
#define PW_CERT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.h"

/* Default bound on cached certificates. */
#define PW_CERT_CACHE_ENTRIES 1024u
/* Certificates larger than this (DER bytes) are parsed but never cached. */
#define PW_CERT_CACHE_DER_MAX 16384u

/* What the TLS CERTIFICATE event takes from the server's first certificate
 * (see pw_ev_tls).  ok == false records that OpenSSL could not parse it. */
typedef struct pw_cert_fields {
    bool ok;
    char subject_cn[PW_NAME_MAX];
    char subject[PW_NAME_MAX];
    char issuer[PW_NAME_MAX];
    char issuer_cn[PW_NAME_MAX];
    bool self_signed;
    uint8_t n_san;
    char san[PW_TLS_MAX_SAN][PW_NAME_MAX];
} pw_cert_fields;

typedef struct pw_cert_cache pw_cert_cache;

typedef struct pw_cert_cache_stats {
    uint64_t hits, misses, evictions;
    uint64_t uncacheable; /* lookups of certificates over PW_CERT_CACHE_DER_MAX */
    size_t entries;       /* certificates held now */
    size_t capacity;
} pw_cert_cache_stats;

/* The bundle dissectors see through pw_dctx.cache. */
typedef struct pw_dissect_cache {
    pw_cert_cache *cert; /* may be NULL */
} pw_dissect_cache;

/* A bundle whose certificate cache holds at most cert_entries certificates
 * (0: PW_CERT_CACHE_ENTRIES).  NULL when out of memory. */
pw_dissect_cache *pw_dissect_cache_new(size_t cert_entries);
void pw_dissect_cache_free(pw_dissect_cache *c); /* NULL is fine */

pw_cert_cache *pw_cert_cache_new(size_t max_entries);
void pw_cert_cache_free(pw_cert_cache *cc); /* NULL is fine */

/* The cached fields of exactly these DER bytes, or NULL (a miss, counted).
 * The pointer stays valid until the next pw_cert_cache_put() on the cache. */
const pw_cert_fields *pw_cert_cache_get(pw_cert_cache *cc, const uint8_t *der, size_t len);
/* Remembers the fields of these DER bytes, evicting one certificate when
 * full.  Does nothing for certificates over PW_CERT_CACHE_DER_MAX bytes or
 * when out of memory (the cache is an optimisation, never a requirement). */
void pw_cert_cache_put(pw_cert_cache *cc, const uint8_t *der, size_t len, const pw_cert_fields *f);

void pw_cert_cache_get_stats(const pw_cert_cache *cc, pw_cert_cache_stats *out);

#endif
