/* tls_build.h - a byte builder and TLS handshake message builders for the
 * dissector unit tests (test_tls.c, test_http.c, test_rdp.c). */
#ifndef PW_TLS_BUILD_H
#define PW_TLS_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- byte builders ---- */
typedef struct buf {
    uint8_t b[80000];
    size_t n;
} buf;

static inline void put8(buf *b, unsigned v) { b->b[b->n++] = (uint8_t)v; }
static inline void put16(buf *b, unsigned v) { put8(b, v >> 8); put8(b, v); }
static inline void put24(buf *b, unsigned v) { put8(b, v >> 16); put16(b, v & 0xffff); }
static inline void putn(buf *b, const void *p, size_t n) { memcpy(b->b + b->n, p, n); b->n += n; }
static inline void puts_(buf *b, const char *s) { putn(b, s, strlen(s)); }
/* Length-prefixed blocks: open returns the mark, close patches the length. */
static inline size_t open_(buf *b, int width) { size_t m = b->n; b->n += (size_t)width; return m; }
static inline void close_(buf *b, size_t m, int width)
{
    size_t v = b->n - m - (size_t)width;
    for (int i = width - 1; i >= 0; i--, v >>= 8)
        b->b[m + (size_t)i] = (uint8_t)v;
}

/* Wraps a handshake byte string into TLS records of at most `frag` bytes. */
static inline void records(buf *out, uint8_t type, const uint8_t *p, size_t n, size_t frag)
{
    size_t off = 0;
    do {
        size_t k = n - off < frag ? n - off : frag;
        put8(out, type);
        put16(out, 0x0303);
        put16(out, (unsigned)k);
        putn(out, p + off, k);
        off += k;
    } while (off < n);
}

static inline void client_hello(buf *hs, const char *sni, const char *alpn, bool tls13)
{
    put8(hs, 1);
    size_t m = open_(hs, 3);
    put16(hs, 0x0303);
    for (int i = 0; i < 32; i++)
        put8(hs, i);
    put8(hs, 32);
    for (int i = 0; i < 32; i++)
        put8(hs, 0xa0 + i);
    put16(hs, 6);
    put16(hs, 0x1301);
    put16(hs, 0xc02f);
    put16(hs, 0x009c);
    put8(hs, 1);
    put8(hs, 0);
    size_t ext = open_(hs, 2);
    put16(hs, 0x2a2a); /* GREASE extension */
    put16(hs, 0);
    if (sni) {
        put16(hs, 0);
        size_t e = open_(hs, 2);
        size_t l = open_(hs, 2);
        put8(hs, 0);
        put16(hs, (unsigned)strlen(sni));
        puts_(hs, sni);
        close_(hs, l, 2);
        close_(hs, e, 2);
    }
    if (alpn) {
        put16(hs, 16);
        size_t e = open_(hs, 2);
        size_t l = open_(hs, 2);
        put8(hs, (unsigned)strlen(alpn));
        puts_(hs, alpn);
        put8(hs, 8);
        puts_(hs, "http/1.1");
        close_(hs, l, 2);
        close_(hs, e, 2);
    }
    if (tls13) {
        put16(hs, 43);
        size_t e = open_(hs, 2);
        put8(hs, 6);
        put16(hs, 0x3a3a); /* GREASE version */
        put16(hs, 0x0304);
        put16(hs, 0x0303);
        close_(hs, e, 2);
    }
    close_(hs, ext, 2);
    close_(hs, m, 3);
}

static inline void server_hello(buf *hs, uint16_t cipher, const char *alpn, bool tls13)
{
    put8(hs, 2);
    size_t m = open_(hs, 3);
    put16(hs, 0x0303);
    for (int i = 0; i < 32; i++)
        put8(hs, 0x40 + i);
    put8(hs, 0);
    put16(hs, cipher);
    put8(hs, 0);
    size_t ext = open_(hs, 2);
    if (alpn) {
        put16(hs, 16);
        size_t e = open_(hs, 2);
        size_t l = open_(hs, 2);
        put8(hs, (unsigned)strlen(alpn));
        puts_(hs, alpn);
        close_(hs, l, 2);
        close_(hs, e, 2);
    }
    if (tls13) {
        put16(hs, 43);
        put16(hs, 2);
        put16(hs, 0x0304);
    }
    close_(hs, ext, 2);
    close_(hs, m, 3);
}

static inline void certificate_msg(buf *hs, const uint8_t *c1, size_t n1, const uint8_t *c2, size_t n2)
{
    put8(hs, 11);
    size_t m = open_(hs, 3);
    size_t l = open_(hs, 3);
    put24(hs, (unsigned)n1);
    putn(hs, c1, n1);
    if (c2) {
        put24(hs, (unsigned)n2);
        putn(hs, c2, n2);
    }
    close_(hs, l, 3);
    close_(hs, m, 3);
}

static inline void server_hello_done(buf *hs)
{
    put8(hs, 14);
    put24(hs, 0);
}

#endif
