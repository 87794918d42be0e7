/* ntlmssp.c - NTLMSSP (MS-NLMP 2.2.1) NEGOTIATE / CHALLENGE / AUTHENTICATE. */
#include "ntlmssp.h"

#include <string.h>

static const uint8_t ntlm_sig[PW_NTLMSSP_SIG_LEN] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

/* ---- strings ---- */

/* Appends code point cp as UTF-8 when it fits whole; returns false when full. */
static bool put_utf8(char *dst, size_t dstlen, size_t *n, uint32_t cp)
{
    uint8_t b[4];
    size_t k;
    if (cp < 0x20 || cp == 0x7f)
        cp = '?';
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | (cp >> 6));
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | (cp >> 12));
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        k = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | (cp >> 18));
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        k = 4;
    }
    if (*n + k >= dstlen)
        return false;
    memcpy(dst + *n, b, k);
    *n += k;
    return true;
}

void pw_utf16le_to_utf8(pw_cursor src, char *dst, size_t dstlen)
{
    size_t n = 0;
    if (!dstlen)
        return;
    while (pw_cur_has(&src, 2)) {
        uint32_t u = pw_le16(&src);
        if (u == 0)
            break;
        if (u >= 0xd800 && u <= 0xdbff) {
            /* High surrogate: combine with a following low surrogate. */
            uint32_t lo = pw_cur_has(&src, 2) ? (uint32_t)(pw_peek_u8(&src, 0) | (pw_peek_u8(&src, 1) << 8)) : 0;
            if (lo >= 0xdc00 && lo <= 0xdfff) {
                pw_skip(&src, 2);
                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            } else {
                u = '?';
            }
        } else if (u >= 0xdc00 && u <= 0xdfff) {
            u = '?';
        }
        if (!put_utf8(dst, dstlen, &n, u))
            break;
    }
    dst[n] = '\0';
}

void pw_oem_to_utf8(pw_cursor src, char *dst, size_t dstlen)
{
    size_t n = 0;
    if (!dstlen)
        return;
    while (pw_cur_has(&src, 1)) {
        uint8_t b = pw_u8(&src);
        if (b == 0)
            break;
        if (!put_utf8(dst, dstlen, &n, b >= 0x80 ? '?' : b))
            break;
    }
    dst[n] = '\0';
}

/* ---- messages ---- */

/* A security buffer (MS-NLMP 2.2.1: Len, MaxLen, BufferOffset) read from c,
 * resolved against the message cursor m.  Returns false (and a failed *out)
 * when it points outside the message. */
static bool sec_buf(pw_cursor *c, const pw_cursor *m, pw_cursor *out)
{
    uint16_t len = pw_le16(c);
    pw_le16(c); /* MaxLen */
    uint32_t off = pw_le32(c);
    if (!pw_cur_ok(c)) {
        pw_cursor bad = {NULL, 0, 0, true};
        *out = bad;
        return false;
    }
    *out = pw_at(m, off, len);
    return len == 0 || pw_cur_ok(out);
}

static void str_field(pw_cursor s, bool unicode, char *dst, size_t dstlen)
{
    if (!pw_cur_ok(&s)) {
        dst[0] = '\0';
        return;
    }
    if (unicode)
        pw_utf16le_to_utf8(s, dst, dstlen);
    else
        pw_oem_to_utf8(s, dst, dstlen);
}

/* AV pairs (MS-NLMP 2.2.2.1); values are always UTF-16LE.  Returns false
 * when the list is truncated before MsvAvEOL. */
static bool av_pairs(pw_cursor ti, pw_ev_ntlmssp *out)
{
    for (int guard = 0; guard < 256; guard++) {
        uint16_t id = pw_le16(&ti);
        uint16_t len = pw_le16(&ti);
        if (!pw_cur_ok(&ti))
            return false;
        if (id == 0) /* MsvAvEOL */
            return true;
        pw_cursor v = pw_sub(&ti, len);
        if (!pw_cur_ok(&v))
            return false;
        switch (id) {
        case 1: pw_utf16le_to_utf8(v, out->nb_computer, sizeof out->nb_computer); break;
        case 2: pw_utf16le_to_utf8(v, out->nb_domain, sizeof out->nb_domain); break;
        case 3: pw_utf16le_to_utf8(v, out->dns_computer, sizeof out->dns_computer); break;
        case 4: pw_utf16le_to_utf8(v, out->dns_domain, sizeof out->dns_domain); break;
        case 5: pw_utf16le_to_utf8(v, out->dns_tree, sizeof out->dns_tree); break;
        case 7:
            if (len == 8) {
                out->timestamp = pw_le64(&v);
                out->has_timestamp = true;
            }
            break;
        default: break;
        }
    }
    return true; /* absurdly many pairs: stop quietly */
}

pw_ntlmssp_status pw_ntlmssp_decode(pw_cursor msg, pw_ev_ntlmssp *out)
{
    memset(out, 0, sizeof *out);
    /* The message buffer starts at the signature. */
    pw_cursor m = pw_rest(&msg);
    pw_cursor c = m;
    uint8_t sig[PW_NTLMSSP_SIG_LEN];
    if (!pw_copy(&c, sig, sizeof sig) || memcmp(sig, ntlm_sig, sizeof sig) != 0)
        return PW_NTLMSSP_NOT_NTLMSSP;
    out->msg_type = pw_le32(&c);
    if (!pw_cur_ok(&c))
        return PW_NTLMSSP_BAD_HEADER;
    bool ok = true;
    pw_cursor f;
    switch (out->msg_type) {
    case PW_NTLM_NEGOTIATE: {
        out->flags = pw_le32(&c);
        if (!pw_cur_ok(&c))
            return PW_NTLMSSP_BAD_HEADER;
        /* DomainNameFields / WorkstationFields are optional in old clients;
         * always OEM.  Decoded whenever present and in range (as Wireshark
         * does), out of range is an error only when the flag says supplied. */
        if (!pw_cur_has(&c, 16))
            break;
        pw_cursor d, w;
        bool dok = sec_buf(&c, &m, &d);
        bool wok = sec_buf(&c, &m, &w);
        if (!dok && (out->flags & PW_NTLM_FLAG_OEM_DOMAIN_SUPPLIED))
            ok = false;
        if (!wok && (out->flags & PW_NTLM_FLAG_OEM_WORKSTATION_SUPPLIED))
            ok = false;
        str_field(d, false, out->domain, sizeof out->domain);
        str_field(w, false, out->workstation, sizeof out->workstation);
        break;
    }
    case PW_NTLM_CHALLENGE: {
        pw_cursor tn;
        bool tnok = sec_buf(&c, &m, &tn);
        out->flags = pw_le32(&c);
        pw_skip(&c, 8 + 8); /* ServerChallenge, Reserved */
        if (!pw_cur_ok(&c))
            return PW_NTLMSSP_BAD_HEADER;
        ok &= tnok;
        str_field(tn, out->flags & PW_NTLM_FLAG_UNICODE, out->target_name, sizeof out->target_name);
        /* TargetInfoFields are absent in very old servers' messages. */
        if (!pw_cur_has(&c, 8))
            break;
        uint16_t tilen = pw_le16(&c);
        pw_le16(&c);
        uint32_t tioff = pw_le32(&c);
        if (tilen == 0)
            break;
        f = pw_at(&m, tioff, tilen);
        if (!pw_cur_ok(&f)) {
            /* Out of range: decode what is there (a snapped capture). */
            ok = false;
            if (tioff < m.len)
                f = pw_at(&m, tioff, m.len - tioff);
        }
        if (pw_cur_ok(&f) && !av_pairs(f, out))
            ok = false;
        break;
    }
    case PW_NTLM_AUTHENTICATE: {
        pw_cursor lm, nt, dom, user, ws, key;
        bool b1 = sec_buf(&c, &m, &lm);
        bool b2 = sec_buf(&c, &m, &nt);
        bool b3 = sec_buf(&c, &m, &dom);
        bool b4 = sec_buf(&c, &m, &user);
        bool b5 = sec_buf(&c, &m, &ws);
        if (!pw_cur_ok(&c))
            return PW_NTLMSSP_BAD_HEADER;
        (void)b1, (void)b2;
        /* EncryptedRandomSessionKeyFields and NegotiateFlags follow in every
         * NTLMv1+ client; without flags assume Unicode (the common case). */
        bool b6 = true;
        if (pw_cur_has(&c, 12)) {
            b6 = sec_buf(&c, &m, &key);
            out->flags = pw_le32(&c);
        } else {
            out->flags = PW_NTLM_FLAG_UNICODE;
        }
        (void)b6;
        bool uni = out->flags & PW_NTLM_FLAG_UNICODE;
        ok = b3 && b4 && b5;
        str_field(dom, uni, out->domain, sizeof out->domain);
        str_field(user, uni, out->user, sizeof out->user);
        str_field(ws, uni, out->workstation, sizeof out->workstation);
        break;
    }
    default:
        return PW_NTLMSSP_BAD_HEADER;
    }
    return ok ? PW_NTLMSSP_OK : PW_NTLMSSP_TRUNCATED;
}

bool pw_ntlmssp_parse_cur(const pw_dctx *ctx, pw_cursor c)
{
    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_NTLMSSP);
    switch (pw_ntlmssp_decode(c, &ev.u.ntlmssp)) {
    case PW_NTLMSSP_NOT_NTLMSSP:
        return false;
    case PW_NTLMSSP_BAD_HEADER:
        pw_emit_malformed(ctx, "ntlmssp: truncated or unknown message");
        return false;
    case PW_NTLMSSP_TRUNCATED:
        pw_emit(ctx, &ev);
        pw_emit_malformed(ctx, "ntlmssp: field out of range");
        return true;
    case PW_NTLMSSP_OK:
    default:
        pw_emit(ctx, &ev);
        return true;
    }
}

bool pw_ntlmssp_parse(const pw_dctx *ctx, const uint8_t *data, size_t len)
{
    return pw_ntlmssp_parse_cur(ctx, pw_cur(data, len));
}

bool pw_ntlmssp_find(const pw_cursor *blob, pw_cursor *msg)
{
    size_t left = pw_cur_left(blob);
    if (left < PW_NTLMSSP_SIG_LEN)
        return false;
    size_t start = pw_cur_pos(blob);
    for (size_t i = 0; i + PW_NTLMSSP_SIG_LEN <= left; i++) {
        if (pw_peek_u8(blob, i) != 'N')
            continue;
        pw_cursor s = pw_at(blob, start + i, PW_NTLMSSP_SIG_LEN);
        const uint8_t *p = pw_cur_view(&s, PW_NTLMSSP_SIG_LEN);
        if (p && memcmp(p, ntlm_sig, PW_NTLMSSP_SIG_LEN) == 0) {
            *msg = pw_at(blob, start + i, left - i);
            /* Rebase so that offsets in the message count from the signature. */
            pw_cursor r = *msg;
            *msg = pw_rest(&r);
            return pw_cur_ok(msg);
        }
    }
    return false;
}

bool pw_ntlmssp_parse_blob(const pw_dctx *ctx, const uint8_t *data, size_t len)
{
    pw_cursor blob = pw_cur(data, len), msg;
    if (!pw_ntlmssp_find(&blob, &msg))
        return false;
    return pw_ntlmssp_parse_cur(ctx, msg);
}
