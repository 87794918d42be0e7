/* ntlm_build.h - a little-endian byte builder and NTLMSSP message builders
 * shared by the NTLM-carrier dissector tests (test_ldap.c, test_tds.c,
 * test_smb.c, test_dcerpc.c, test_ntlmssp.c).
 *
 * Define NTLM_BUF_SIZE before including to size `buf` (default 8192). */
#ifndef PW_NTLM_BUILD_H
#define PW_NTLM_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifndef NTLM_BUF_SIZE
#define NTLM_BUF_SIZE 8192
#endif

/* ---- byte builder ---- */
typedef struct buf {
    uint8_t b[NTLM_BUF_SIZE];
    size_t n;
} buf;

static inline void put8(buf *b, uint8_t v) { b->b[b->n++] = v; }
static inline void put16(buf *b, uint16_t v) { put8(b, (uint8_t)v), put8(b, (uint8_t)(v >> 8)); }
static inline void put16be(buf *b, uint16_t v) { put8(b, (uint8_t)(v >> 8)), put8(b, (uint8_t)v); }
static inline void put32(buf *b, uint32_t v) { put16(b, (uint16_t)v), put16(b, (uint16_t)(v >> 16)); }
static inline void put64(buf *b, uint64_t v) { put32(b, (uint32_t)v), put32(b, (uint32_t)(v >> 32)); }
static inline void putn(buf *b, const void *p, size_t n) { memcpy(b->b + b->n, p, n), b->n += n; }
static inline void puts_(buf *b, const char *s) { putn(b, s, strlen(s)); }
static inline void zeros(buf *b, size_t n) { memset(b->b + b->n, 0, n), b->n += n; }
static inline void set16(buf *b, size_t at, uint16_t v) { b->b[at] = (uint8_t)v, b->b[at + 1] = (uint8_t)(v >> 8); }
static inline void set32(buf *b, size_t at, uint32_t v) { set16(b, at, (uint16_t)v), set16(b, at + 2, (uint16_t)(v >> 16)); }

/* UTF-8 (BMP + 4-byte sequences) -> UTF-16LE units appended to b; returns bytes. */
static inline size_t put_utf16(buf *b, const char *s)
{
    size_t start = b->n;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        if (*p < 0x80) cp = *p++;
        else if ((*p & 0xe0) == 0xc0) cp = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f), p += 2;
        else if ((*p & 0xf0) == 0xe0) cp = (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f), p += 3;
        else cp = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 | (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f), p += 4;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            put16(b, (uint16_t)(0xd800 + (cp >> 10)));
            put16(b, (uint16_t)(0xdc00 + (cp & 0x3ff)));
        } else {
            put16(b, (uint16_t)cp);
        }
    }
    return b->n - start;
}

/* ---- NTLMSSP (MS-NLMP 2.2.1) ---- */

/* Security buffer fields at `at` pointing to [off, off+len). */
static inline void secbuf(buf *b, size_t at, size_t len, size_t off)
{
    set16(b, at, (uint16_t)len), set16(b, at + 2, (uint16_t)len), set32(b, at + 4, (uint32_t)off);
}

/* NEGOTIATE, no version field. */
static inline void ntlm_negotiate(buf *b)
{
    b->n = 0;
    putn(b, "NTLMSSP\0", 8), put32(b, 1);
    put32(b, 0xe2088297);
    put64(b, 0), put64(b, 0);
}

/* CHALLENGE from server `nb` / `dns` in NetBIOS domain `domain` (also the
 * target name) and DNS domain `dns_domain`; no version field. */
static inline void ntlm_challenge_in(buf *b, const char *domain, const char *dns_domain, const char *nb,
                                     const char *dns)
{
    b->n = 0;
    putn(b, "NTLMSSP\0", 8), put32(b, 2);
    put64(b, 0);
    put32(b, 0xe28a8215);
    put64(b, 0x8877665544332211ull), put64(b, 0), put64(b, 0), put64(b, 0);
    size_t o = b->n;
    secbuf(b, 12, put_utf16(b, domain), o);
    size_t tio = b->n;
    struct { uint16_t id; const char *v; } av[] = {{2, domain}, {1, nb}, {4, dns_domain}, {3, dns}};
    for (size_t i = 0; i < 4; i++) {
        put16(b, av[i].id);
        size_t at = b->n;
        put16(b, 0);
        set16(b, at, (uint16_t)put_utf16(b, av[i].v));
    }
    put32(b, 0);
    secbuf(b, 40, b->n - tio, tio);
}

/* AUTHENTICATE of domain\user from workstation `wks`, empty responses. */
static inline void ntlm_authenticate_as(buf *b, const char *domain, const char *user, const char *wks)
{
    b->n = 0;
    putn(b, "NTLMSSP\0", 8), put32(b, 3);
    zeros(b, 48);
    put32(b, 0xe2888215);
    size_t o = b->n;
    secbuf(b, 28, put_utf16(b, domain), o);
    o = b->n;
    secbuf(b, 36, put_utf16(b, user), o);
    o = b->n;
    secbuf(b, 44, put_utf16(b, wks), o);
    secbuf(b, 12, 0, o), secbuf(b, 20, 0, o), secbuf(b, 52, 0, o);
}

#endif
