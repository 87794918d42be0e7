/* rpc_build.h - DCE/RPC PDU, endpoint-mapper tower and NTLMSSP-with-version
 * builders shared by the DCE/RPC tests (test_dcerpc.c on TCP, test_smb_pipe.c
 * over SMB named pipes).  Include after ntlm_build.h. */
#ifndef PW_RPC_BUILD_H
#define PW_RPC_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* ---- byte builders (beyond ntlm_build.h) ---- */
static inline void put32be(buf *b, uint32_t v) { put16be(b, (uint16_t)(v >> 16)), put16be(b, (uint16_t)v); }
static inline void align(buf *b, size_t base, size_t a)
{
    while ((b->n - base) % a)
        put8(b, 0);
}

static inline unsigned hexv(char c) { return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10); }
/* A UUID in NDR form: first three fields little-endian (or big-endian). */
static inline void put_uuid_e(buf *b, const char *s, bool be)
{
    uint8_t raw[16];
    for (int i = 0, j = 0; i < 16; j++) {
        if (s[j] == '-')
            continue;
        raw[i++] = (uint8_t)(hexv(s[j]) << 4 | hexv(s[j + 1]));
        j++;
    }
    if (be) {
        putn(b, raw, 16);
        return;
    }
    put8(b, raw[3]), put8(b, raw[2]), put8(b, raw[1]), put8(b, raw[0]);
    put8(b, raw[5]), put8(b, raw[4]), put8(b, raw[7]), put8(b, raw[6]);
    putn(b, raw + 8, 8);
}
static inline void put_uuid(buf *b, const char *s) { put_uuid_e(b, s, false); }

#define EPM "e1af8308-5d1f-11c9-91a4-08002b14a0fa"
#define NDR "8a885d04-1ceb-11c9-9fe8-08002b104860"
#define NDR64 "71710533-beba-4937-8319-b5dbef9ccc36"
#define BTFN "6cb71c2c-9812-4540-0300-000000000000"
#define LSARPC "12345778-1234-abcd-ef00-0123456789ab"
#define NETLOGON "12345678-1234-abcd-ef00-01234567cffb"

/* ---- NTLMSSP builders (with version fields, unlike ntlm_build.h) ---- */
/* NEGOTIATE with a version field. */
static inline void ntlm_negotiate_ver(buf *b)
{
    ntlm_negotiate(b);
    put64(b, 0x0f00000004612800ull);
}

#define TS_VALUE 0x01da0b0c0d0e0f10ull
static inline void ntlm_challenge_ver(buf *b, const char *nb, const char *dns)
{
    b->n = 0;
    putn(b, "NTLMSSP\0", 8), put32(b, 2);
    put64(b, 0);
    put32(b, 0xe28a8215);
    put64(b, 0x8877665544332211ull), put64(b, 0);
    put64(b, 0);
    put64(b, 0x0f0000000a003fabull);
    size_t o = b->n;
    secbuf(b, 12, put_utf16(b, "CORP"), o);
    size_t tio = b->n;
    struct { uint16_t id; const char *v; } av[] = {
        {2, "CORP"}, {1, nb}, {4, "corp.example.com"}, {3, dns}, {5, "example.com"},
    };
    for (size_t i = 0; i < 5; i++) {
        put16(b, av[i].id);
        size_t at = b->n;
        put16(b, 0);
        set16(b, at, (uint16_t)put_utf16(b, av[i].v));
    }
    put16(b, 7), put16(b, 8), put64(b, TS_VALUE);
    put32(b, 0);
    secbuf(b, 40, b->n - tio, tio);
}

/* SPNEGO negTokenResp { responseToken OCTET STRING } around a token. */
static inline void spnego_wrap(buf *out, const buf *tok)
{
    out->n = 0;
    size_t L = tok->n;
    put8(out, 0xa1), put8(out, 0x82), put16be(out, (uint16_t)(L + 12));
    put8(out, 0x30), put8(out, 0x82), put16be(out, (uint16_t)(L + 8));
    put8(out, 0xa2), put8(out, 0x82), put16be(out, (uint16_t)(L + 4));
    put8(out, 0x04), put8(out, 0x82), put16be(out, (uint16_t)L);
    putn(out, tok->b, tok->n);
}

/* ---- PDU builders ---- */
static inline size_t pdu_start(buf *b, uint8_t ptype, uint8_t flags, uint32_t call_id)
{
    size_t s = b->n;
    put8(b, 5), put8(b, 0), put8(b, ptype), put8(b, flags);
    put32(b, 0x00000010); /* drep: little-endian, ASCII, IEEE */
    put16(b, 0), put16(b, 0), put32(b, call_id);
    return s;
}

static inline void pdu_end(buf *b, size_t s, const buf *auth, uint8_t auth_type, uint8_t level)
{
    if (auth) {
        size_t body = b->n - s;
        uint8_t pad = (uint8_t)((4 - body % 4) % 4);
        zeros(b, pad);
        put8(b, auth_type), put8(b, level), put8(b, pad), put8(b, 0), put32(b, 0x79231);
        putn(b, auth->b, auth->n);
        set16(b, s + 10, (uint16_t)auth->n);
    }
    set16(b, s + 8, (uint16_t)(b->n - s));
}

typedef struct ctxdef {
    uint16_t id;
    const char *iface;
    uint16_t ver;
    const char *ts;
} ctxdef;

static inline void bind_pdu(buf *b, uint8_t ptype, uint32_t call, const ctxdef *c, int n, const buf *auth, uint8_t at)
{
    size_t s = pdu_start(b, ptype, 3, call);
    put16(b, 5840), put16(b, 5840), put32(b, 0);
    put8(b, (uint8_t)n), put8(b, 0), put16(b, 0);
    for (int i = 0; i < n; i++) {
        put16(b, c[i].id), put8(b, 1), put8(b, 0);
        put_uuid(b, c[i].iface), put16(b, c[i].ver), put16(b, 0);
        put_uuid(b, c[i].ts), put32(b, strcmp(c[i].ts, NDR) == 0 ? 2 : 1);
    }
    pdu_end(b, s, auth, at, 2);
}

typedef struct resdef {
    uint16_t result, reason;
    const char *ts;
} resdef;

static inline void ack_pdu(buf *b, uint8_t ptype, uint32_t call, const char *secaddr, const resdef *r, int n, const buf *auth,
                    uint8_t at)
{
    size_t s = pdu_start(b, ptype, 3, call);
    put16(b, 5840), put16(b, 5840), put32(b, 0x1234);
    size_t sl = strlen(secaddr);
    put16(b, (uint16_t)(sl ? sl + 1 : 0));
    if (sl)
        putn(b, secaddr, sl + 1);
    align(b, s, 4);
    put8(b, (uint8_t)n), put8(b, 0), put16(b, 0);
    for (int i = 0; i < n; i++) {
        put16(b, r[i].result), put16(b, r[i].reason);
        if (r[i].ts)
            put_uuid(b, r[i].ts), put32(b, 1);
        else
            zeros(b, 20);
    }
    pdu_end(b, s, auth, at, 2);
}

static inline void request_pdu(buf *b, uint32_t call, uint16_t ctx, uint16_t opnum, const buf *stub)
{
    size_t s = pdu_start(b, 0, 3, call);
    put32(b, stub ? (uint32_t)stub->n : 0), put16(b, ctx), put16(b, opnum);
    if (stub)
        putn(b, stub->b, stub->n);
    pdu_end(b, s, NULL, 0, 0);
}

static inline void response_pdu(buf *b, uint32_t call, uint16_t ctx, const buf *stub)
{
    size_t s = pdu_start(b, 2, 3, call);
    put32(b, (uint32_t)stub->n), put16(b, ctx), put8(b, 0), put8(b, 0);
    putn(b, stub->b, stub->n);
    pdu_end(b, s, NULL, 0, 0);
}

/* A 5-floor tower: interface, NDR, RPC CO, TCP/UDP port, IPv4. */
static inline void tower(buf *t, const char *iface, uint8_t proto, uint16_t port, const uint8_t ip[4])
{
    t->n = 0;
    put16(t, 5);
    put16(t, 19), put8(t, 0x0d), put_uuid(t, iface), put16(t, 1), put16(t, 2), put16(t, 0);
    put16(t, 19), put8(t, 0x0d), put_uuid(t, NDR), put16(t, 2), put16(t, 2), put16(t, 0);
    put16(t, 1), put8(t, 0x0b), put16(t, 2), put16(t, 0);
    put16(t, 1), put8(t, proto), put16(t, 2), put16be(t, port);
    put16(t, 1), put8(t, 0x09), put16(t, 4), putn(t, ip, 4);
}

static inline void put_size(buf *b, bool n64, uint64_t v)
{
    if (n64) {
        align(b, 0, 8);
        put64(b, v);
    } else {
        align(b, 0, 4);
        put32(b, (uint32_t)v);
    }
}

static inline void put_twr(buf *b, bool n64, const buf *t)
{
    put_size(b, n64, t->n);
    align(b, 0, 4);
    put32(b, (uint32_t)t->n);
    putn(b, t->b, t->n);
}

static inline void ept_map_response(buf *stub, bool n64, const buf *t1, const buf *t2)
{
    stub->n = 0;
    zeros(stub, 20); /* handle */
    put32(stub, 2);  /* num_towers */
    put_size(stub, n64, 4), put_size(stub, n64, 0), put_size(stub, n64, 2);
    put_size(stub, n64, 3), put_size(stub, n64, 4);
    put_twr(stub, n64, t1);
    put_twr(stub, n64, t2);
    align(stub, 0, 4);
    put32(stub, 0); /* status */
}

static inline void ept_map_request(buf *stub, const buf *t)
{
    stub->n = 0;
    put32(stub, 1), zeros(stub, 16);   /* object */
    put32(stub, 2), put_twr(stub, false, t);
    align(stub, 0, 4);
    zeros(stub, 20);
    put32(stub, 4);
}

#endif
