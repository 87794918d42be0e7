/* ipfrag.c - bounded IPv4/IPv6 fragment reassembly (see ipfrag.h). */
#include "ipfrag.h"

#include <stdlib.h>
#include <string.h>

#include "../common/table.h"

#define UNITS ((PW_FRAG_MAX_DATA + 7) / 8 + 1)

typedef struct pw_frag {
    pw_frag_key key;
    UT_hash_handle hh;
    struct pw_frag *prev, *next; /* creation order */
    pw_usec first_ts;
    uint8_t *buf;      /* PW_FRAG_HDR_ROOM bytes of header room, then data */
    uint32_t cap;      /* data capacity */
    uint32_t total;    /* data length once the last fragment is seen, else 0 */
    bool have_last;
    uint32_t received; /* data bytes received (no overlaps) */
    uint32_t maxend;
    uint8_t hdr[60];
    uint32_t hdr_len;  /* 0 until the offset-0 fragment came (IPv4) */
    uint8_t nexthdr;   /* IPv6 next header from the offset-0 fragment */
    uint8_t bits[UNITS / 8 + 1]; /* received 8-byte units */
} pw_frag;

void pw_frag_init(pw_frag_table *t) { memset(t, 0, sizeof *t); }

static void unlink_free(pw_frag_table *t, pw_frag *f)
{
    HASH_DEL(t->hash, f);
    if (f->prev)
        f->prev->next = f->next;
    else
        t->oldest = f->next;
    if (f->next)
        f->next->prev = f->prev;
    else
        t->newest = f->prev;
    t->count--;
    free(f->buf);
    free(f);
}

void pw_frag_free(pw_frag_table *t)
{
    while (t->oldest) {
        t->dropped++;
        unlink_free(t, t->oldest);
    }
    HASH_CLEAR(hh, t->hash);
}

static bool bit_get(const pw_frag *f, uint32_t u) { return f->bits[u >> 3] & (1u << (u & 7)); }
static void bit_set(pw_frag *f, uint32_t u) { f->bits[u >> 3] |= (uint8_t)(1u << (u & 7)); }

static bool grow(pw_frag *f, uint32_t end)
{
    if (end <= f->cap)
        return true;
    uint32_t cap = f->cap ? f->cap : 2048;
    while (cap < end)
        cap *= 2;
    if (cap > PW_FRAG_MAX_DATA + 8)
        cap = PW_FRAG_MAX_DATA + 8;
    uint8_t *nb = realloc(f->buf, PW_FRAG_HDR_ROOM + (size_t)cap);
    if (!nb)
        return false;
    if (cap > f->cap)
        memset(nb + PW_FRAG_HDR_ROOM + f->cap, 0, cap - f->cap);
    f->buf = nb;
    f->cap = cap;
    return true;
}

bool pw_frag_add(pw_frag_table *t, const pw_frag_key *k, pw_usec ts, uint32_t off, bool more,
                 const uint8_t *data, uint32_t len, const uint8_t *hdr, uint32_t hdr_len,
                 uint8_t next, pw_frag_done *out)
{
    /* expire old datagrams (packet time) */
    while (t->oldest && ts - t->oldest->first_ts > PW_FRAG_TIMEOUT) {
        t->dropped++;
        unlink_free(t, t->oldest);
    }
    uint32_t end = off + len;
    if ((more && (len == 0 || (len & 7))) || end > PW_FRAG_MAX_DATA || (off & 7)) {
        t->dropped++; /* malformed or oversized fragment */
        pw_frag *bad = NULL;
        HASH_FIND(hh, t->hash, k, sizeof *k, bad);
        if (bad && end > PW_FRAG_MAX_DATA)
            unlink_free(t, bad);
        return false;
    }
    pw_frag *f = NULL;
    HASH_FIND(hh, t->hash, k, sizeof *k, f);
    if (!f) {
        if (t->count >= PW_FRAG_MAX_PENDING) {
            t->dropped++;
            unlink_free(t, t->oldest);
        }
        f = calloc(1, sizeof *f);
        if (!f) {
            t->dropped++;
            t->nomem++;
            return false;
        }
        f->key = *k;
        f->first_ts = ts;
        HASH_ADD(hh, t->hash, key, sizeof f->key, f);
        f->prev = t->newest;
        if (t->newest)
            t->newest->next = f;
        else
            t->oldest = f;
        t->newest = f;
        t->count++;
    }
    /* consistency of the final length */
    if (!more) {
        if ((f->have_last && f->total != end) || f->maxend > end) {
            t->dropped++;
            unlink_free(t, f);
            return false;
        }
    } else if (f->have_last && end > f->total) {
        t->dropped++;
        unlink_free(t, f);
        return false;
    }
    uint32_t u0 = off / 8, u1 = (end + 7) / 8;
    uint32_t seen = 0;
    for (uint32_t u = u0; u < u1; u++)
        seen += bit_get(f, u);
    if (seen) {
        /* an exact duplicate is harmless; any other overlap is ambiguous */
        if (seen == u1 - u0 && end <= f->cap &&
            memcmp(f->buf + PW_FRAG_HDR_ROOM + off, data, len) == 0 && (more || f->have_last))
            return false;
        t->dropped++;
        unlink_free(t, f);
        return false;
    }
    if (!grow(f, end)) {
        t->dropped++;
        t->nomem++;
        unlink_free(t, f);
        return false;
    }
    if (len)
        memcpy(f->buf + PW_FRAG_HDR_ROOM + off, data, len);
    for (uint32_t u = u0; u < u1; u++)
        bit_set(f, u);
    f->received += len;
    if (end > f->maxend)
        f->maxend = end;
    if (!more) {
        f->have_last = true;
        f->total = end;
    }
    if (off == 0) {
        if (hdr && hdr_len <= sizeof f->hdr) {
            memcpy(f->hdr, hdr, hdr_len);
            f->hdr_len = hdr_len;
        }
        f->nexthdr = next;
    }
    if (!f->have_last || f->received != f->total)
        return false;
    if (k->family == 4 && (f->hdr_len < 20 || f->hdr_len + f->total > 65535)) {
        t->dropped++;
        unlink_free(t, f);
        return false;
    }
    /* complete */
    if (!grow(f, 1)) {
        t->dropped++;
        t->nomem++;
        unlink_free(t, f);
        return false;
    }
    memset(out, 0, sizeof *out);
    out->buf = f->buf;
    out->data = f->buf + PW_FRAG_HDR_ROOM;
    out->data_len = f->total;
    out->next = f->nexthdr;
    if (k->family == 4) {
        uint8_t *h = f->buf + PW_FRAG_HDR_ROOM - f->hdr_len;
        memcpy(h, f->hdr, f->hdr_len);
        uint32_t tot = f->hdr_len + f->total;
        h[2] = (uint8_t)(tot >> 8);
        h[3] = (uint8_t)tot;
        h[6] = 0; /* clear flags and offset */
        h[7] = 0;
        h[10] = 0;
        h[11] = 0;
        uint32_t sum = 0;
        for (uint32_t i = 0; i < f->hdr_len; i += 2)
            sum += (uint32_t)(h[i] << 8 | h[i + 1]);
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        sum = ~sum & 0xffff;
        h[10] = (uint8_t)(sum >> 8);
        h[11] = (uint8_t)sum;
        out->hdr = h;
        out->hdr_len = f->hdr_len;
    }
    f->buf = NULL; /* ownership moves to the caller */
    unlink_free(t, f);
    return true;
}
