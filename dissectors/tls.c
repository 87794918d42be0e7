/* tls.c - TLS first flights (RFC 5246, RFC 8446): ClientHello, ServerHello,
 * the server Certificate (parsed with OpenSSL's libcrypto) and plaintext
 * alerts.
 *
 * Records are framed across segments through the stream contract (an
 * incomplete record is left unconsumed).  Handshake messages are reassembled
 * across records in a per-direction buffer allocated on demand for the flow
 * (a Certificate message commonly spans several records); messages that fit
 * in one record are parsed in place. */
#include "tls.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert_cache.h"

enum {
    REC_CCS = 20, REC_ALERT = 21, REC_HANDSHAKE = 22, REC_APPDATA = 23, REC_HEARTBEAT = 24
};
enum {
    HS_CLIENT_HELLO = 1, HS_SERVER_HELLO = 2, HS_CERTIFICATE = 11, HS_SERVER_HELLO_DONE = 14
};
enum { EXT_SNI = 0, EXT_ALPN = 16, EXT_SUPPORTED_VERSIONS = 43 };

/* SHA-256("HelloRetryRequest"): the ServerHello.random of a HelloRetryRequest. */
static const uint8_t hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

void pw_tls_init(pw_tls_state *st) { memset(st, 0, sizeof *st); }

void pw_tls_free(pw_tls_state *st)
{
    for (int i = 0; i < 2; i++) {
        free(st->d[i].hs);
        st->d[i].hs = NULL;
        st->d[i].hs_len = st->d[i].hs_cap = 0;
    }
}

bool pw_tls_looks_like(const uint8_t *data, size_t len, bool client_hello)
{
    pw_cursor c = pw_cur(data, len);
    if (!pw_cur_has(&c, 3))
        return false;
    if (pw_peek_u8(&c, 0) != REC_HANDSHAKE || pw_peek_u8(&c, 1) != 3 || pw_peek_u8(&c, 2) > 4)
        return false;
    if (client_hello && pw_cur_has(&c, 6) && pw_peek_u8(&c, 5) != HS_CLIENT_HELLO)
        return false;
    return true;
}

/* ---- strings ---- */

/* Copies n packet bytes as printable ASCII ('?' for anything else). */
static void cur_text(pw_cursor *c, size_t n, char *dst, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = pw_u8(c);
        if (!pw_cur_ok(c))
            break;
        if (o + 1 < cap)
            dst[o++] = (b >= 0x20 && b < 0x7f) ? (char)b : '?';
    }
    if (cap)
        dst[o] = '\0';
}

/* Copies UTF-8 text (not packet bytes: OpenSSL's output), replacing control
 * characters and invalid sequences with '?' and never splitting a character. */
static void copy_utf8(char *dst, size_t cap, const unsigned char *s, size_t n)
{
    size_t o = 0, i = 0;
    if (!cap)
        return;
    while (i < n) {
        unsigned char b = s[i];
        size_t k = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3
                 : (b & 0xF8) == 0xF0 ? 4 : 0;
        bool ok = k > 0 && i + k <= n && !(k == 2 && b < 0xC2) && !(k == 4 && b > 0xF4);
        for (size_t j = 1; ok && j < k; j++)
            ok = (s[i + j] & 0xC0) == 0x80;
        if (ok && k == 3 && ((b == 0xE0 && s[i + 1] < 0xA0) || (b == 0xED && s[i + 1] >= 0xA0)))
            ok = false;
        if (ok && k == 4 && ((b == 0xF0 && s[i + 1] < 0x90) || (b == 0xF4 && s[i + 1] >= 0x90)))
            ok = false;
        if (!ok || (k == 1 && (b < 0x20 || b == 0x7f))) {
            if (o + 1 >= cap)
                break;
            dst[o++] = '?';
            i += ok ? k : 1;
            continue;
        }
        if (o + k >= cap)
            break;
        memcpy(dst + o, s + i, k);
        o += k;
        i += k;
    }
    dst[o] = '\0';
}

/* ---- events ---- */

static void emit_app(const pw_dctx *ctx, pw_tls_state *st)
{
    if (!st->app_emitted && !st->no_app)
        pw_emit_app(ctx, "tls");
    st->app_emitted = true;
}

static bool is_grease(uint16_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

/* Orders versions: TLS 1.3 drafts (0x7fNN) count as TLS 1.3. */
static uint16_t norm_version(uint16_t v)
{
    if ((v >> 8) == 0x7f)
        return 0x0304;
    return v;
}

static bool known_version(uint16_t v) { return (v >= 0x0300 && v <= 0x0304) || (v >> 8) == 0x7f; }

/* ---- ClientHello / ServerHello ---- */

static void parse_extensions(pw_cursor *c, bool client, pw_ev_tls *t, uint16_t *selected)
{
    if (!pw_cur_has(c, 2))
        return; /* extensions are optional */
    uint16_t total = pw_be16(c);
    pw_cursor ex = pw_sub(c, total);
    while (pw_cur_ok(&ex) && pw_cur_has(&ex, 4)) {
        uint16_t type = pw_be16(&ex);
        uint16_t len = pw_be16(&ex);
        pw_cursor e = pw_sub(&ex, len);
        if (!pw_cur_ok(&e))
            break;
        if (type == EXT_SNI && client && !t->sni[0]) {
            pw_cursor list = pw_sub(&e, pw_be16(&e));
            while (pw_cur_ok(&list) && pw_cur_has(&list, 3)) {
                uint8_t nt = pw_u8(&list);
                uint16_t nl = pw_be16(&list);
                if (nt == 0) {
                    pw_cursor n = pw_sub(&list, nl);
                    if (pw_cur_ok(&n))
                        cur_text(&n, nl, t->sni, sizeof t->sni);
                    break;
                }
                pw_skip(&list, nl);
            }
        } else if (type == EXT_ALPN && !t->alpn[0]) {
            pw_cursor list = pw_sub(&e, pw_be16(&e));
            uint8_t pl = pw_u8(&list);
            pw_cursor p = pw_sub(&list, pl);
            if (pw_cur_ok(&p))
                cur_text(&p, pl, t->alpn, sizeof t->alpn);
        } else if (type == EXT_SUPPORTED_VERSIONS) {
            if (client) {
                uint8_t vl = pw_u8(&e);
                pw_cursor v = pw_sub(&e, vl);
                while (pw_cur_ok(&v) && pw_cur_has(&v, 2)) {
                    uint16_t ver = pw_be16(&v);
                    if (!is_grease(ver) && known_version(ver) &&
                        norm_version(ver) > norm_version(t->version))
                        t->version = norm_version(ver);
                }
            } else {
                uint16_t ver = pw_be16(&e);
                if (pw_cur_ok(&e) && selected)
                    *selected = ver;
            }
        }
    }
    if (!pw_cur_ok(&ex))
        pw_cur_fail(c);
}

static void client_hello(const pw_dctx *ctx, pw_tls_state *st, pw_cursor *m)
{
    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_TLS);
    pw_ev_tls *t = &ev.u.tls;
    t->kind = PW_TLS_CLIENT_HELLO;
    uint16_t legacy = pw_be16(m);
    pw_skip(m, 32);                 /* random */
    pw_skip(m, pw_u8(m));           /* session id */
    pw_skip(m, pw_be16(m));         /* cipher suites */
    pw_skip(m, pw_u8(m));           /* compression methods */
    if (!pw_cur_ok(m)) {
        pw_emit_malformed(ctx, "tls: truncated ClientHello");
        return;
    }
    t->version = norm_version(legacy);
    parse_extensions(m, true, t, NULL);
    if (!pw_cur_ok(m)) {
        pw_emit_malformed(ctx, "tls: malformed ClientHello extensions");
        return;
    }
    st->d[0].hello = true;
    emit_app(ctx, st);
    pw_emit(ctx, &ev);
}

static void server_hello(const pw_dctx *ctx, pw_tls_state *st, pw_cursor *m)
{
    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_TLS);
    pw_ev_tls *t = &ev.u.tls;
    t->kind = PW_TLS_SERVER_HELLO;
    uint16_t legacy = pw_be16(m);
    uint8_t random[32];
    pw_copy(m, random, sizeof random);
    /* TLS 1.3 drafts before 22 put the draft in the version field and have
     * neither a session id nor a compression method. */
    bool draft = (legacy >> 8) == 0x7f;
    if (!draft)
        pw_skip(m, pw_u8(m)); /* session id */
    t->cipher = pw_be16(m);
    if (!draft)
        pw_skip(m, 1); /* compression method */
    if (!pw_cur_ok(m)) {
        pw_emit_malformed(ctx, "tls: truncated ServerHello");
        return;
    }
    uint16_t selected = 0;
    parse_extensions(m, false, t, &selected);
    if (!pw_cur_ok(m)) {
        pw_emit_malformed(ctx, "tls: malformed ServerHello extensions");
        return;
    }
    uint16_t ver = selected ? selected : legacy;
    t->version = norm_version(ver);
    emit_app(ctx, st);
    if (memcmp(random, hrr_random, sizeof random) == 0) {
        /* HelloRetryRequest: the real ServerHello follows a second ClientHello. */
        st->tls13 = true;
        st->version = 0x0304;
        return;
    }
    st->d[1].hello = true;
    st->version = t->version;
    pw_emit(ctx, &ev);
    if (t->version == 0x0304) {
        st->tls13 = true;
        st->server_done = true;
        if (!st->cert_seen) {
            pw_event h;
            pw_event_init(&h, ctx, PW_EV_TLS);
            h.u.tls.kind = PW_TLS_CERT_HIDDEN;
            h.u.tls.version = 0x0304;
            pw_emit(ctx, &h);
            st->cert_seen = true;
        }
    }
}

/* ---- Certificate ---- */

static void name_entry(X509_NAME *name, char *dst, size_t cap)
{
    int idx = -1, i;
    /* The last CN is the most specific one. */
    while ((i = X509_NAME_get_index_by_NID(name, NID_commonName, idx)) >= 0)
        idx = i;
    if (idx < 0)
        return;
    ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    unsigned char *u = NULL;
    int n = s ? ASN1_STRING_to_UTF8(&u, s) : -1;
    if (n >= 0 && u)
        copy_utf8(dst, cap, u, (size_t)n);
    OPENSSL_free(u);
}

static void name_line(X509_NAME *name, char *dst, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return;
    unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
    if (X509_NAME_print_ex(b, name, 0, flags) >= 0) {
        char *p = NULL;
        long n = BIO_get_mem_data(b, &p);
        if (n > 0 && p)
            copy_utf8(dst, cap, (const unsigned char *)p, (size_t)n);
    }
    BIO_free(b);
}

static void fill_cert(pw_cert_fields *t, X509 *x)
{
    X509_NAME *subj = X509_get_subject_name(x), *iss = X509_get_issuer_name(x);
    if (subj) {
        name_entry(subj, t->subject_cn, sizeof t->subject_cn);
        name_line(subj, t->subject, sizeof t->subject);
    }
    if (iss) {
        name_entry(iss, t->issuer_cn, sizeof t->issuer_cn);
        name_line(iss, t->issuer, sizeof t->issuer);
    }
    t->self_signed = subj && iss && X509_NAME_cmp(subj, iss) == 0;
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (gens) {
        int n = sk_GENERAL_NAME_num(gens);
        for (int i = 0; i < n && t->n_san < PW_TLS_MAX_SAN; i++) {
            const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
            if (!g || g->type != GEN_DNS || !g->d.dNSName)
                continue;
            const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
            int l = ASN1_STRING_length(g->d.dNSName);
            if (!d || l <= 0)
                continue;
            copy_utf8(t->san[t->n_san], sizeof t->san[0], d, (size_t)l);
            t->n_san++;
        }
        GENERAL_NAMES_free(gens);
    }
}

/* Parses one DER certificate into *f (zeroed first); f->ok is false when
 * OpenSSL cannot parse it. */
static void parse_cert(pw_cert_fields *f, const uint8_t *der, uint32_t len)
{
    memset(f, 0, sizeof *f);
    const unsigned char *p = der;
    X509 *x = len ? d2i_X509(NULL, &p, (long)len) : NULL;
    if (x) {
        fill_cert(f, x);
        f->ok = true;
        X509_free(x);
    }
}

/* The fields of a certificate: from the caller's per-run cache when it has
 * these exact DER bytes, else parsed (and remembered). */
static void cert_fields(const pw_dctx *ctx, pw_cert_fields *f, const uint8_t *der, uint32_t len)
{
    pw_cert_cache *cc = ctx->cache ? ctx->cache->cert : NULL;
    const pw_cert_fields *hit = cc && len ? pw_cert_cache_get(cc, der, len) : NULL;
    if (hit) {
        *f = *hit;
        return;
    }
    parse_cert(f, der, len);
    if (cc && len)
        pw_cert_cache_put(cc, der, len, f);
}

_Static_assert(sizeof ((pw_ev_tls *)0)->san == sizeof ((pw_cert_fields *)0)->san &&
               sizeof ((pw_ev_tls *)0)->subject == sizeof ((pw_cert_fields *)0)->subject,
               "pw_cert_fields mirrors pw_ev_tls");

static void cert_to_event(pw_ev_tls *t, const pw_cert_fields *f)
{
    memcpy(t->subject_cn, f->subject_cn, sizeof t->subject_cn);
    memcpy(t->subject, f->subject, sizeof t->subject);
    memcpy(t->issuer, f->issuer, sizeof t->issuer);
    memcpy(t->issuer_cn, f->issuer_cn, sizeof t->issuer_cn);
    t->self_signed = f->self_signed;
    t->n_san = f->n_san;
    memcpy(t->san, f->san, sizeof t->san);
}

static void certificate(const pw_dctx *ctx, pw_tls_state *st, pw_cursor *m)
{
    if (ctx->dir != 1 || st->cert_seen)
        return; /* a client certificate, or a second one */
    if (st->tls13) {
        /* Never reached in practice (TLS 1.3 encrypts it), but never guess. */
        return;
    }
    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_TLS);
    pw_ev_tls *t = &ev.u.tls;
    t->kind = PW_TLS_CERTIFICATE;
    t->version = st->version;
    uint32_t total = pw_be24(m);
    pw_cursor list = pw_sub(m, total);
    if (!pw_cur_ok(&list)) {
        pw_emit_malformed(ctx, "tls: truncated Certificate");
        return;
    }
    unsigned count = 0;
    bool parsed = false, bad = false;
    while (pw_cur_has(&list, 3)) {
        uint32_t cl = pw_be24(&list);
        const uint8_t *der = pw_cur_view(&list, cl);
        if (!der) {
            bad = true;
            break;
        }
        count++;
        if (count == 1) {
            pw_cert_fields f;
            cert_fields(ctx, &f, der, cl);
            if (f.ok) {
                cert_to_event(t, &f);
                parsed = true;
            }
        }
    }
    if (bad || pw_cur_left(&list) != 0) {
        pw_emit_malformed(ctx, "tls: malformed Certificate list");
        return;
    }
    if (count == 0)
        return; /* empty list: nothing to report */
    if (!parsed) {
        pw_emit_malformed(ctx, "tls: unparsable X.509 certificate");
        return;
    }
    t->chain_len = count > 255 ? 255 : (uint8_t)count;
    st->cert_seen = true;
    pw_emit(ctx, &ev);
}

/* ---- handshake messages ---- */

static void handshake_msg(const pw_dctx *ctx, pw_tls_state *st, uint8_t type, pw_cursor *m)
{
    switch (type) {
    case HS_CLIENT_HELLO:
        if (ctx->dir == 0)
            client_hello(ctx, st, m);
        break;
    case HS_SERVER_HELLO:
        if (ctx->dir == 1)
            server_hello(ctx, st, m);
        break;
    case HS_CERTIFICATE:
        certificate(ctx, st, m);
        break;
    case HS_SERVER_HELLO_DONE:
        if (ctx->dir == 1)
            st->server_done = true;
        break;
    default:
        break;
    }
}

static bool hs_reserve(pw_tls_dir *d, uint32_t need)
{
    if (need <= d->hs_cap)
        return true;
    uint32_t cap = need < 4096 ? 4096 : need;
    uint8_t *p = realloc(d->hs, cap);
    if (!p)
        return false;
    d->hs = p;
    d->hs_cap = cap;
    return true;
}

/* Appends up to `want` bytes of the record to the direction's buffer. */
static bool hs_append(pw_tls_dir *d, pw_cursor *rec, uint32_t want)
{
    if (want > pw_cur_left(rec))
        want = (uint32_t)pw_cur_left(rec);
    if (!hs_reserve(d, d->hs_len + want))
        return false;
    pw_copy(rec, d->hs + d->hs_len, want);
    d->hs_len += want;
    return true;
}

/* The out-of-memory policy (HACKING.md): say so, and stop the stream. */
static void out_of_memory(const pw_dctx *ctx, pw_tls_state *st)
{
    pw_emit_malformed(ctx, "tls: out of memory");
    st->dead = true;
}

static void handshake_record(const pw_dctx *ctx, pw_tls_state *st, pw_cursor *rec)
{
    pw_tls_dir *d = &st->d[ctx->dir];
    while (pw_cur_left(rec) > 0 && !st->dead) {
        if (d->skip_left) {
            size_t n = pw_cur_left(rec) < d->skip_left ? pw_cur_left(rec) : d->skip_left;
            pw_skip(rec, n);
            d->skip_left -= (uint32_t)n;
            continue;
        }
        if (d->hs_len == 0) {
            /* Whole messages in this record are parsed in place. */
            if (pw_cur_has(rec, 4)) {
                pw_cursor peek = *rec;
                uint8_t type = pw_u8(&peek);
                uint32_t mlen = pw_be24(&peek);
                if (pw_cur_has(&peek, mlen)) {
                    pw_skip(rec, 4);
                    pw_cursor m = pw_sub(rec, mlen);
                    handshake_msg(ctx, st, type, &m);
                    continue;
                }
                if (mlen > PW_TLS_HS_MAX) {
                    pw_emit_malformed(ctx, "tls: handshake message too large");
                    pw_skip(rec, 4);
                    d->skip_left = mlen;
                    continue;
                }
            }
            if (!hs_append(d, rec, (uint32_t)pw_cur_left(rec))) {
                out_of_memory(ctx, st);
                return;
            }
            continue;
        }
        /* Continue the buffered message. */
        if (d->hs_len < 4 && !hs_append(d, rec, 4 - d->hs_len)) {
            out_of_memory(ctx, st);
            return;
        }
        if (d->hs_len < 4)
            return;
        pw_cursor h = pw_cur(d->hs, d->hs_len);
        uint8_t type = pw_u8(&h);
        uint32_t mlen = pw_be24(&h);
        if (mlen > PW_TLS_HS_MAX) {
            pw_emit_malformed(ctx, "tls: handshake message too large");
            d->skip_left = mlen - (d->hs_len - 4);
            d->hs_len = 0;
            continue;
        }
        if (d->hs_len < 4 + mlen && !hs_append(d, rec, 4 + mlen - d->hs_len)) {
            out_of_memory(ctx, st);
            return;
        }
        if (d->hs_len < 4 + mlen)
            return;
        pw_cursor all = pw_cur(d->hs, d->hs_len);
        pw_skip(&all, 4);
        pw_cursor m = pw_sub(&all, mlen);
        handshake_msg(ctx, st, type, &m);
        d->hs_len = 0;
    }
}

/* ---- records ---- */

static void alert_record(const pw_dctx *ctx, pw_tls_state *st, pw_cursor *rec)
{
    if (pw_cur_left(rec) != 2)
        return; /* encrypted alert */
    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_TLS);
    ev.u.tls.kind = PW_TLS_ALERT;
    ev.u.tls.version = st->version;
    ev.u.tls.alert_level = pw_u8(rec);
    ev.u.tls.alert_desc = pw_u8(rec);
    if (ev.u.tls.alert_level > 2) {
        pw_emit_malformed(ctx, "tls: bad alert level");
        return;
    }
    emit_app(ctx, st);
    pw_emit(ctx, &ev);
    if (ev.u.tls.alert_level == 2)
        st->finished = true; /* fatal: the handshake is over */
}

/* SSL 2.0 CLIENT-HELLO (a two-byte header with the high bit set). */
static bool sslv2_client_hello(const pw_dctx *ctx, pw_tls_state *st, pw_cursor *c, size_t *need)
{
    pw_cursor p = *c;
    uint16_t hdr = pw_be16(&p);
    if (!pw_cur_ok(&p) || !(hdr & 0x8000) || pw_peek_u8(&p, 0) != 1)
        return false;
    uint16_t len = hdr & 0x7fff;
    if (!pw_cur_has(&p, len)) {
        *need = 2u + len;
        return true;
    }
    pw_cursor m = pw_sub(&p, len);
    pw_skip(&m, 1);
    uint16_t ver = pw_be16(&m);
    if (!pw_cur_ok(&m) || (ver != 0x0002 && !(ver >= 0x0300 && ver <= 0x0303)))
        return false;
    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_TLS);
    ev.u.tls.kind = PW_TLS_CLIENT_HELLO;
    ev.u.tls.version = ver;
    st->d[0].hello = true;
    st->d[0].records = true;
    emit_app(ctx, st);
    pw_emit(ctx, &ev);
    *c = p;
    *need = 0;
    return true;
}

static void check_finished(pw_tls_state *st)
{
    if (st->server_done || st->dead)
        st->finished = true;
}

size_t pw_tls_stream(const pw_dctx *ctx, pw_tls_state *st, const uint8_t *data, size_t len,
                     bool *done)
{
    if (ctx->dir < 0 || ctx->dir > 1)
        return len;
    if (st->dead || st->finished) {
        *done = true;
        return len;
    }
    pw_tls_dir *d = &st->d[ctx->dir];
    pw_cursor c = pw_cur(data, len);
    if (!d->records && ctx->dir == 0 && pw_cur_has(&c, 3) && (pw_peek_u8(&c, 0) & 0x80)) {
        size_t need = 0;
        if (sslv2_client_hello(ctx, st, &c, &need) && need)
            return 0;
    }
    while (!st->finished && pw_cur_has(&c, 5)) {
        size_t start = pw_cur_pos(&c);
        uint8_t type = pw_u8(&c);
        uint8_t major = pw_u8(&c), minor = pw_u8(&c);
        uint16_t rlen = pw_be16(&c);
        if (type < REC_CCS || type > REC_HEARTBEAT || major != 3 || minor > 4 ||
            rlen > PW_TLS_RECORD_MAX) {
            pw_emit_malformed(ctx, d->records ? "tls: bad record header" : "tls: not a TLS record");
            st->dead = true;
            break;
        }
        if (!pw_cur_has(&c, rlen))
            return start; /* leave the partial record unconsumed */
        pw_cursor rec = pw_sub(&c, rlen);
        d->records = true;
        switch (type) {
        case REC_HANDSHAKE:
            /* After ChangeCipherSpec a <= 1.2 handshake record is encrypted
             * (Finished); TLS 1.3 encrypts inside application data records. */
            if ((!d->ccs || st->tls13) && !(ctx->dir == 1 && st->tls13 && d->hello))
                handshake_record(ctx, st, &rec);
            break;
        case REC_CCS:
            d->ccs = true;
            if (ctx->dir == 1)
                st->server_done = true;
            break;
        case REC_ALERT:
            alert_record(ctx, st, &rec);
            break;
        case REC_APPDATA:
            if (ctx->dir == 1)
                st->server_done = true; /* resumed or mid-flow: nothing plaintext follows */
            break;
        default:
            break;
        }
        check_finished(st);
    }
    check_finished(st);
    if (st->finished || st->dead) {
        *done = true;
        return len;
    }
    return pw_cur_pos(&c);
}

/* ---- the "tls" dissector ---- */

static bool tls_probe(const uint8_t *data, size_t len)
{
    return len >= 6 && pw_tls_looks_like(data, len, true);
}

static void tls_init(void *state) { pw_tls_init(state); }

static size_t tls_stream(const pw_dctx *ctx, void *state, const uint8_t *data, size_t len,
                         bool *done)
{
    return pw_tls_stream(ctx, state, data, len, done);
}

static void tls_free(void *state) { pw_tls_free(state); }

const pw_dissector pw_dissector_tls = {
    .name = "tls",
    .transports = PW_DT_TCP,
    .ports = {443, 636, 853, 993, 995, 465, 8443, 3269},
    .probe = tls_probe,
    .state_size = sizeof(pw_tls_state),
    .stream_init = tls_init,
    .stream = tls_stream,
    .stream_free = tls_free,
};
