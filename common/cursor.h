/* cursor.h - the one way to read packet bytes.
 *
 * Every parser in capture/ and dissectors/ reads through a pw_cursor, in the
 * spirit of tcpdump's GET_ macros: each read checks the remaining length, and
 * a read past the end returns 0, reads nothing and sets a sticky error flag.
 * A parser therefore reads a whole structure and checks pw_cur_ok() once,
 * instead of guarding every field; truncated input becomes an event
 * ("truncated"), never an out-of-bounds access.  No parser does pointer
 * arithmetic on packet bytes; pw_cur_view() is the only way to obtain a raw
 * pointer, and it returns one only when the requested span is present (used
 * to hand a certificate to OpenSSL, for example). */
#ifndef PW_CURSOR_H
#define PW_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct pw_cursor {
    const uint8_t *base; /* first byte of the buffer this cursor may read */
    size_t len;          /* bytes available from base */
    size_t off;          /* next byte to read */
    bool err;            /* set by any read past the end; never cleared */
} pw_cursor;

static inline pw_cursor pw_cur(const uint8_t *data, size_t len)
{
    pw_cursor c = {data, data ? len : 0, 0, false};
    return c;
}

static inline size_t pw_cur_left(const pw_cursor *c) { return c->err ? 0 : c->len - c->off; }
static inline size_t pw_cur_pos(const pw_cursor *c) { return c->off; }
static inline bool pw_cur_ok(const pw_cursor *c) { return !c->err; }
static inline bool pw_cur_has(const pw_cursor *c, size_t n) { return pw_cur_left(c) >= n; }

/* Marks the cursor failed (used by parsers for semantic errors too). */
static inline void pw_cur_fail(pw_cursor *c) { c->err = true; }

static inline bool pw_cur_need_(pw_cursor *c, size_t n)
{
    if (c->err || c->len - c->off < n) {
        c->err = true;
        return false;
    }
    return true;
}

static inline uint8_t pw_u8(pw_cursor *c)
{
    if (!pw_cur_need_(c, 1))
        return 0;
    return c->base[c->off++];
}

static inline uint16_t pw_be16(pw_cursor *c)
{
    if (!pw_cur_need_(c, 2))
        return 0;
    const uint8_t *p = c->base + c->off;
    c->off += 2;
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint16_t pw_le16(pw_cursor *c)
{
    if (!pw_cur_need_(c, 2))
        return 0;
    const uint8_t *p = c->base + c->off;
    c->off += 2;
    return (uint16_t)((p[1] << 8) | p[0]);
}

static inline uint32_t pw_be24(pw_cursor *c)
{
    if (!pw_cur_need_(c, 3))
        return 0;
    const uint8_t *p = c->base + c->off;
    c->off += 3;
    return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
}

static inline uint32_t pw_be32(pw_cursor *c)
{
    if (!pw_cur_need_(c, 4))
        return 0;
    const uint8_t *p = c->base + c->off;
    c->off += 4;
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint32_t pw_le32(pw_cursor *c)
{
    if (!pw_cur_need_(c, 4))
        return 0;
    const uint8_t *p = c->base + c->off;
    c->off += 4;
    return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

static inline uint64_t pw_le64(pw_cursor *c)
{
    uint64_t lo = pw_le32(c);
    uint64_t hi = pw_le32(c);
    return lo | (hi << 32);
}

static inline void pw_skip(pw_cursor *c, size_t n)
{
    if (pw_cur_need_(c, n))
        c->off += n;
}

/* Copies n bytes out; on short input copies nothing, zeroes dst and fails. */
static inline bool pw_copy(pw_cursor *c, void *dst, size_t n)
{
    if (!pw_cur_need_(c, n)) {
        memset(dst, 0, n);
        return false;
    }
    memcpy(dst, c->base + c->off, n);
    c->off += n;
    return true;
}

/* Peeks at the byte `ahead` positions past the current one without moving;
 * 0 when it is not at hand (check pw_cur_has() when 0 is a valid value). */
static inline uint8_t pw_peek_u8(const pw_cursor *c, size_t ahead)
{
    if (c->err || c->len - c->off <= ahead)
        return 0;
    return c->base[c->off + ahead];
}

/* Peeks at an n-byte (n <= 4) integer starting `ahead` bytes past the
 * current position, in either byte order, without moving the cursor or
 * failing it: framing code looks at a length field before deciding whether
 * the whole message is there.  False (and *out = 0) when the bytes are not
 * all at hand or the cursor has failed. */
static inline bool pw_peek_uint_(const pw_cursor *c, size_t ahead, size_t n, bool le, uint32_t *out)
{
    *out = 0;
    if (c->err || c->len - c->off < ahead || c->len - c->off - ahead < n)
        return false;
    const uint8_t *p = c->base + c->off + ahead;
    for (size_t i = 0; i < n; i++)
        *out |= (uint32_t)p[i] << (8 * (le ? i : n - 1 - i));
    return true;
}

static inline bool pw_peek_be16(const pw_cursor *c, size_t ahead, uint16_t *out)
{
    uint32_t v;
    bool ok = pw_peek_uint_(c, ahead, 2, false, &v);
    *out = (uint16_t)v;
    return ok;
}

static inline bool pw_peek_le16(const pw_cursor *c, size_t ahead, uint16_t *out)
{
    uint32_t v;
    bool ok = pw_peek_uint_(c, ahead, 2, true, &v);
    *out = (uint16_t)v;
    return ok;
}

static inline bool pw_peek_be24(const pw_cursor *c, size_t ahead, uint32_t *out)
{
    return pw_peek_uint_(c, ahead, 3, false, out);
}

static inline bool pw_peek_be32(const pw_cursor *c, size_t ahead, uint32_t *out)
{
    return pw_peek_uint_(c, ahead, 4, false, out);
}

static inline bool pw_peek_le32(const pw_cursor *c, size_t ahead, uint32_t *out)
{
    return pw_peek_uint_(c, ahead, 4, true, out);
}

/* A cursor over the next n bytes; the parent advances past them.
 * On short input both the parent and the returned cursor are failed. */
static inline pw_cursor pw_sub(pw_cursor *c, size_t n)
{
    pw_cursor s = {NULL, 0, 0, true};
    if (!pw_cur_need_(c, n))
        return s;
    s.base = c->base + c->off;
    s.len = n;
    s.err = false;
    c->off += n;
    return s;
}

/* A cursor over [abs, abs+n) measured from the start of c's buffer, for
 * formats that use offsets (NTLMSSP fields, DNS compression pointers).
 * The parent does not move; the result is failed when out of range. */
static inline pw_cursor pw_at(const pw_cursor *c, size_t abs, size_t n)
{
    pw_cursor s = {NULL, 0, 0, true};
    if (abs > c->len || n > c->len - abs)
        return s;
    s.base = c->base + abs;
    s.len = n;
    s.err = false;
    return s;
}

/* The rest of the buffer as its own cursor (parent moves to the end). */
static inline pw_cursor pw_rest(pw_cursor *c)
{
    return pw_sub(c, pw_cur_left(c));
}

/* A read-only pointer to the next n bytes, advancing past them, or NULL
 * (and failed) when fewer remain.  The only sanctioned raw pointer. */
static inline const uint8_t *pw_cur_view(pw_cursor *c, size_t n)
{
    if (!pw_cur_need_(c, n))
        return NULL;
    const uint8_t *p = c->base + c->off;
    c->off += n;
    return p;
}

#endif
