/* fuzz_smb_pipe.c - libFuzzer harness for DCE/RPC over SMB named pipes
 * (smb.c + smb_pipe.c + the embedded dcerpc state).
 *
 * Random bytes almost never open a pipe, so the input is a script of pipe
 * operations: the first byte picks SMB2 or SMB1 (bit 0); a valid IPC$ tree
 * connect and pipe CREATE come first, then each operation is an op byte
 * (bits 0-2: write, read request, read response, transceive / transaction
 * request, its response, raw client bytes, raw server bytes, close; bits
 * 3-4: status ok / STATUS_PENDING / STATUS_BUFFER_OVERFLOW / an error; bits 5-6:
 * another FileId, opened or not), a length byte and that many payload bytes (the data the
 * pipe carries, or raw bytes).  The SMB messages built from it are cut into
 * the segment script of stream_driver.h and fed to the smb dissector. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream_driver.h"

typedef struct out {
    uint8_t *b;
    size_t n;
} out;

typedef struct msg {
    uint8_t b[512];
    size_t n;
} msg;

static void put(msg *m, const void *p, size_t n)
{
    if (m->n + n <= sizeof m->b) {
        memcpy(m->b + m->n, p, n);
        m->n += n;
    }
}
static void p8(msg *m, uint8_t v) { put(m, &v, 1); }
static void p16(msg *m, uint16_t v) { p8(m, (uint8_t)v), p8(m, (uint8_t)(v >> 8)); }
static void p32(msg *m, uint32_t v) { p16(m, (uint16_t)v), p16(m, (uint16_t)(v >> 16)); }
static void p64(msg *m, uint64_t v) { p32(m, (uint32_t)v), p32(m, (uint32_t)(v >> 32)); }
static void zero(msg *m, size_t n)
{
    while (n--)
        p8(m, 0);
}

/* One NetBIOS session message, cut into segments of one direction. */
static void emit(out *o, int dir, const msg *m)
{
    uint8_t nb[4] = {0, 0, (uint8_t)(m->n >> 8), (uint8_t)m->n};
    uint8_t all[sizeof m->b + 4];
    memcpy(all, nb, 4);
    memcpy(all + 4, m->b, m->n);
    for (size_t off = 0; off < m->n + 4; off += 127) {
        size_t k = m->n + 4 - off < 127 ? m->n + 4 - off : 127;
        o->b[o->n++] = (uint8_t)((dir << 7) | k);
        memcpy(o->b + o->n, all + off, k);
        o->n += k;
    }
}

static void raw(out *o, int dir, const uint8_t *p, size_t n)
{
    o->b[o->n++] = (uint8_t)((dir << 7) | (n & 0x7f));
    memcpy(o->b + o->n, p, n & 0x7f);
    o->n += n & 0x7f;
}

static const uint32_t statuses[4] = {0, 0x00000103u, 0x80000005u, 0xc000014bu};

static void hdr2(msg *m, uint16_t cmd, bool resp, uint32_t status, uint64_t mid)
{
    m->n = 0;
    put(m, "\xfeSMB", 4), p16(m, 64), p16(m, 1), p32(m, status), p16(m, cmd), p16(m, 1);
    p32(m, resp ? 1 : 0), p32(m, 0), p64(m, mid), p32(m, 0), p32(m, 5), p64(m, 1), zero(m, 16);
}

static void fid(msg *m, int which) { p64(m, 0x11 + (uint64_t)which), p64(m, 0x99); }

static void smb2_op(out *o, uint8_t op, const uint8_t *d, size_t n, uint64_t *mid)
{
    msg m;
    uint32_t st = statuses[(op >> 3) & 3];
    int which = (op >> 5) & 3; /* 2 and 3: FileIds no CREATE opened */
    switch (op & 7) {
    case 0: hdr2(&m, 9, false, 0, ++*mid), p16(&m, 49), p16(&m, 112), p32(&m, (uint32_t)n), p64(&m, 0);
        fid(&m, which), zero(&m, 16), put(&m, d, n), emit(o, 0, &m); break;
    case 1: hdr2(&m, 8, false, 0, ++*mid), p16(&m, 49), p16(&m, 0x50), p32(&m, 1024), p64(&m, 0);
        fid(&m, which), zero(&m, 17), emit(o, 0, &m); break;
    case 2: hdr2(&m, 8, true, st, *mid), p16(&m, 17), p8(&m, 80), p8(&m, 0), p32(&m, (uint32_t)n), zero(&m, 8);
        put(&m, d, n), emit(o, 1, &m); break;
    case 3:
    case 4: {
        bool resp = (op & 7) == 4;
        hdr2(&m, 11, resp, resp ? st : 0, resp ? *mid : ++*mid);
        p16(&m, resp ? 49 : 57), p16(&m, 0), p32(&m, 0x0011c017), fid(&m, which);
        uint32_t off = resp ? 112 : 120;
        p32(&m, off), p32(&m, resp ? 0 : (uint32_t)n), p32(&m, 0), p32(&m, resp ? off : 0);
        p32(&m, resp ? (uint32_t)n : 0), p32(&m, 1024);
        if (!resp)
            p32(&m, 1), p32(&m, 0);
        put(&m, d, n), emit(o, resp, &m);
        break;
    }
    case 5: raw(o, 0, d, n); break;
    case 6: raw(o, 1, d, n); break;
    default: hdr2(&m, 6, false, 0, ++*mid), p16(&m, 24), p16(&m, 0), p32(&m, 0), fid(&m, which), emit(o, 0, &m);
    }
}

static void hdr1(msg *m, uint8_t cmd, bool resp, uint32_t status, uint16_t mid)
{
    m->n = 0;
    put(m, "\xffSMB", 4), p8(m, cmd), p32(m, status), p8(m, resp ? 0x98 : 0x18), p16(m, 0xc807);
    zero(m, 12), p16(m, 0x800), p16(m, 1), p16(m, 1), p16(m, mid);
}

static void smb1_op(out *o, uint8_t op, const uint8_t *d, size_t n, uint16_t *mid)
{
    msg m;
    uint32_t st = statuses[(op >> 3) & 3];
    uint16_t f = (op >> 5) & 1 ? 0x4002 : 0x4001;
    switch (op & 7) {
    case 0: hdr1(&m, 0x2f, false, 0, ++*mid), p8(&m, 14), p32(&m, 0xff), p16(&m, f), zero(&m, 8);
        p16(&m, (uint16_t)(op & 0x40 ? 0x0c : 0x08)), p16(&m, 0), p16(&m, 0), p16(&m, (uint16_t)n), p16(&m, 64);
        p32(&m, 0), p16(&m, (uint16_t)(n + 1)), p8(&m, 0), put(&m, d, n), emit(o, 0, &m); break;
    case 1: hdr1(&m, 0x2e, false, 0, ++*mid), p8(&m, 12), p32(&m, 0xff), p16(&m, f), zero(&m, 20), emit(o, 0, &m);
        break;
    case 2: hdr1(&m, 0x2e, true, st, *mid), p8(&m, 12), p32(&m, 0xff), zero(&m, 6), p16(&m, (uint16_t)n), p16(&m, 60);
        zero(&m, 10), p16(&m, (uint16_t)(n + 1)), p8(&m, 0), put(&m, d, n), emit(o, 1, &m); break;
    case 3: hdr1(&m, 0x25, false, 0, ++*mid), p8(&m, 16), zero(&m, 20), p16(&m, 0), p16(&m, (uint16_t)n);
        p16(&m, 68), p8(&m, 2), p8(&m, 0), p16(&m, 0x26), p16(&m, f), p16(&m, (uint16_t)(n + 1)), p8(&m, 0);
        put(&m, d, n), emit(o, 0, &m); break;
    case 4: hdr1(&m, 0x25, true, st, *mid), p8(&m, 10), zero(&m, 12), p16(&m, (uint16_t)n), p16(&m, 56);
        zero(&m, 4), p16(&m, (uint16_t)(n + 1)), p8(&m, 0), put(&m, d, n), emit(o, 1, &m); break;
    case 5: raw(o, 0, d, n); break;
    case 6: raw(o, 1, d, n); break;
    default: hdr1(&m, 0x04, false, 0, ++*mid), p8(&m, 3), p16(&m, f), zero(&m, 4), p16(&m, 0), emit(o, 0, &m);
    }
}

/* The tree connect and the two pipes' creates both dialects open with. */
static void prologue(out *o, bool smb1)
{
    msg m;
    if (smb1) {
        hdr1(&m, 0x75, true, 0, 1), p8(&m, 3), p32(&m, 0xff), p16(&m, 1), p16(&m, 4), put(&m, "IPC", 4);
        emit(o, 1, &m);
        for (uint16_t i = 0; i < 2; i++) {
            hdr1(&m, 0xa2, false, 0, (uint16_t)(2 + i)), p8(&m, 24), p32(&m, 0xff), p8(&m, 0), p16(&m, 10);
            zero(&m, 41), p16(&m, 13), p8(&m, 0), put(&m, "\\\0s\0a\0m\0r\0\0\0", 12), emit(o, 0, &m);
            hdr1(&m, 0xa2, true, 0, (uint16_t)(2 + i)), p8(&m, 34), p32(&m, 0xff), p8(&m, 0);
            p16(&m, (uint16_t)(0x4001 + i)), zero(&m, 61), p16(&m, 0), emit(o, 1, &m);
        }
        return;
    }
    hdr2(&m, 3, true, 0, 1), p16(&m, 16), p8(&m, 2), p8(&m, 0), zero(&m, 12), emit(o, 1, &m);
    for (int i = 0; i < 2; i++) {
        hdr2(&m, 5, false, 0, (uint64_t)(2 + i)), p16(&m, 57), zero(&m, 42), p16(&m, 120), p16(&m, 8);
        zero(&m, 8), put(&m, "s\0a\0m\0r\0", 8), emit(o, 0, &m);
        hdr2(&m, 5, true, 0, (uint64_t)(2 + i)), p16(&m, 89), zero(&m, 62), fid(&m, i), zero(&m, 8);
        emit(o, 1, &m);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 16384)
        return 0;
    out o = {malloc(4096 + size * 300), 0}; /* an op of 2 bytes may become a 600-byte message */
    bool smb1 = data[0] & 1;
    prologue(&o, smb1);
    uint64_t mid2 = 10;
    uint16_t mid1 = 10;
    size_t i = 1;
    while (i + 2 <= size) {
        uint8_t op = data[i], n = data[i + 1];
        i += 2;
        size_t k = n < size - i ? n : size - i;
        if (smb1)
            smb1_op(&o, op, data + i, k, &mid1);
        else
            smb2_op(&o, op, data + i, k, &mid2);
        i += k;
    }
    fuzz_stream(&pw_dissector_smb, FUZZ_CHUNK_DIR_HIGH_LEN_7, o.b, o.n);
    free(o.b);
    return 0;
}
