/* scanners.c - per-client distinct-target sketches and scanner rows (see
 * scanners.h).  Open addressing over a fixed-size table sized at creation:
 * no allocation per attempt. */
#include "scanners.h"
#include "../common/hash.h"
#include "../common/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SKETCH_BITS 512
#define SKETCH_WORDS (SKETCH_BITS / 64)

typedef struct sketch {
    uint64_t w[SKETCH_WORDS];
} sketch;

/* One cache line per client: the table is probed once per attempt. */
#define CLIENT_SKETCH_WORDS 4 /* 256 bits: estimates up to about 1,400 targets */
typedef struct client {
    uint64_t targets[CLIENT_SKETCH_WORDS]; /* (server, proto, port) */
    pw_addr addr;
    bool scanner;
    uint16_t bits;         /* bits set in targets */
    uint32_t row;          /* index in rows when scanner */
} client;
_Static_assert(sizeof(client) <= 64, "a client fits one cache line");

/* A scanner row with the sketches behind its estimates. */
typedef struct row {
    pw_scanner_row pub;
    sketch servers, ports;
} row;

struct pw_scanners {
    uint32_t threshold, max_clients, mask;
    uint32_t threshold_bits; /* set bits beyond which the estimate exceeds threshold */
    client *tab;           /* 2 * max_clients slots (load <= 1/2) */
    uint32_t *tags;        /* per slot: its client's hash with the low bit set,
                              0 when free: a probe reads 16 slots a cache line
                              and a client only when its tag matches (a flood's
                              new clients, not tracked once the table is full,
                              each cost one line, not three) */
    row *rows;
    pw_scanner_row *out;   /* sorted copy handed to the caller */
    size_t n_rows, cap_rows;
    pw_scanners_stats st;
};

static uint64_t addr_hash(const pw_addr *a)
{
    uint64_t x, y;
    memcpy(&x, a->b, 8);
    memcpy(&y, a->b + 8, 8);
    return pw_fmix64(x ^ pw_fmix64(y ^ a->family));
}

/* Sets h's bit; true when it was not set before. */
static bool sketch_add(sketch *k, uint64_t h)
{
    unsigned bit = (unsigned)(pw_fmix64(h) % SKETCH_BITS);
    uint64_t m = 1ULL << (bit % 64);
    bool fresh = !(k->w[bit / 64] & m);
    k->w[bit / 64] |= m;
    return fresh;
}

/* Linear counting: n ~ -m ln(zero bits / m). */
static uint32_t sketch_estimate(const sketch *k)
{
    unsigned set = 0;
    for (int i = 0; i < SKETCH_WORDS; i++)
        set += (unsigned)__builtin_popcountll(k->w[i]);
    if (set >= SKETCH_BITS)
        set = SKETCH_BITS - 1; /* saturated: report the largest estimate */
    double m = SKETCH_BITS;
    return (uint32_t)lround(-m * log((m - set) / m));
}

pw_scanners *pw_scanners_new(uint32_t threshold, uint32_t max_clients)
{
    pw_scanners *s = pw_xcalloc(1, sizeof *s);
    s->threshold = threshold ? threshold : PW_SCANNER_DEFAULT_THRESHOLD;
    s->max_clients = max_clients ? max_clients : PW_SCANNER_DEFAULT_MAX_CLIENTS;
    /* The estimate -m ln(1 - b/m) exceeds the threshold beyond this many
     * bits; counting bits as they are set keeps log() off the hot path. */
    const double m = CLIENT_SKETCH_WORDS * 64;
    double b = m * (1.0 - exp(-(double)s->threshold / m));
    s->threshold_bits = b >= m - 1 ? (uint32_t)m - 1 : (uint32_t)b;
    uint32_t slots = 1024;
    while (slots < 2 * s->max_clients)
        slots *= 2;
    s->mask = slots - 1;
    s->tab = aligned_alloc(64, slots * sizeof *s->tab);
    if (!s->tab)
        s->tab = pw_xcalloc(slots, sizeof *s->tab); /* unaligned is only slower */
    else
        memset(s->tab, 0, slots * sizeof *s->tab);
    s->tags = pw_xcalloc(slots, sizeof *s->tags);
    return s;
}

/* The client's slot, made when new and there is room; NULL when not tracked. */
static client *client_get(pw_scanners *s, const pw_addr *a)
{
    uint32_t h = (uint32_t)addr_hash(a), tag = h | 1u;
    for (uint32_t i = h & s->mask;; i = (i + 1) & s->mask) {
        if (s->tags[i] == tag && pw_addr_eq(&s->tab[i].addr, a))
            return &s->tab[i];
        if (!s->tags[i]) {
            if (s->st.clients >= s->max_clients)
                return NULL;
            client *c = &s->tab[i];
            s->tags[i] = tag;
            c->addr = *a;
            s->st.clients++;
            return c;
        }
    }
}

static row *new_row(pw_scanners *s, client *c, const pw_attempt *a)
{
    if (s->n_rows == s->cap_rows) {
        size_t cap = s->cap_rows ? s->cap_rows * 2 : 16;
        row *r = pw_xrealloc(s->rows, cap, sizeof *r);
        s->rows = r;
        s->cap_rows = cap;
    }
    c->scanner = true;
    c->row = (uint32_t)s->n_rows;
    row *w = &s->rows[s->n_rows++];
    memset(w, 0, sizeof *w);
    pw_scanner_row *r = &w->pub;
    r->client = c->addr;
    r->port_lo = r->port_hi = a->port;
    r->first_source = a->source;
    r->first_frame = a->frame_request;
    r->first_ts = a->ts;
    s->st.scanners++;
    return w;
}

static void row_add(row *w, const pw_attempt *a)
{
    pw_scanner_row *r = &w->pub;
    r->attempts++;
    if ((unsigned)a->outcome < PW_OUT_COUNT)
        r->counts[a->outcome]++;
    sketch_add(&w->servers, addr_hash(&a->server)); /* estimated when the rows are asked for */
    sketch_add(&w->ports, ((uint64_t)a->proto << 16) | a->port);
    if (a->port < r->port_lo)
        r->port_lo = a->port;
    if (a->port > r->port_hi)
        r->port_hi = a->port;
    r->protos |= a->proto == 17 ? 2 : 1;
    if (a->ts >= r->last_ts) {
        r->last_ts = a->ts;
        r->last_source = a->source;
        r->last_frame = a->frame_request;
    }
}

void pw_scanners_prefetch(const pw_scanners *s, const pw_addr *client)
{
    uint32_t i = (uint32_t)addr_hash(client) & s->mask;
    __builtin_prefetch(&s->tags[i]);
    /* Once the table is full, most clients a flood brings are not in it:
     * their tag says so, and their slot is never read. */
    if (s->st.clients < s->max_clients)
        __builtin_prefetch(&s->tab[i]);
}

bool pw_scanners_attempt(pw_scanners *s, const pw_attempt *a)
{
    client *c = client_get(s, &a->client);
    if (!c) {
        s->st.untracked++;
        return false;
    }
    if (!c->scanner) {
        uint64_t h = pw_fmix64(addr_hash(&a->server) ^ pw_fmix64(((uint64_t)a->proto << 16) | a->port));
        unsigned bit = (unsigned)(h % (CLIENT_SKETCH_WORDS * 64));
        uint64_t m = 1ULL << (bit % 64);
        if (!(c->targets[bit / 64] & m)) {
            c->targets[bit / 64] |= m;
            c->bits++;
        }
        if (c->bits <= s->threshold_bits)
            return false;
    }
    row *w = c->scanner ? &s->rows[c->row] : new_row(s, c, a);
    row_add(w, a);
    s->st.diverted++;
    return true;
}

static int cmp_row(const void *x, const void *y)
{
    const pw_scanner_row *a = x, *b = y;
    return pw_addr_cmp(&a->client, &b->client);
}

const pw_scanner_row *pw_scanners_rows(pw_scanners *s, size_t *n)
{
    free(s->out);
    s->out = pw_xmalloc((s->n_rows ? s->n_rows : 1) * sizeof *s->out);
    for (size_t i = 0; i < s->n_rows; i++) {
        s->out[i] = s->rows[i].pub;
        s->out[i].servers = sketch_estimate(&s->rows[i].servers);
        s->out[i].ports = sketch_estimate(&s->rows[i].ports);
    }
    qsort(s->out, s->n_rows, sizeof *s->out, cmp_row);
    *n = s->n_rows;
    return s->out;
}

void pw_scanners_stats_get(const pw_scanners *s, pw_scanners_stats *st)
{
    *st = s->st;
}

void pw_scanners_free(pw_scanners *s)
{
    if (!s)
        return;
    free(s->tab);
    free(s->tags);
    free(s->rows);
    free(s->out);
    free(s);
}
