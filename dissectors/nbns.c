/* nbns.c - NetBIOS Name Service (RFC 1001/1002) on UDP 137.
 *
 * Emits, per message: PW_EV_APP "netbios" and one PW_EV_NBNS.  The name
 * comes from the question (requests) or the first answer RR (responses;
 * from the additional RR when neither is present, as in some registration
 * forms), decoded from first-level encoding (RFC 1001 14.1).  A positive
 * NB response fills addrs[] from its NB_FLAGS + IPv4 entries; a node status
 * (NBSTAT) response fills the name table and the unit ID (MAC).  A negative
 * response (rcode != 0) is still an event.  When the header or the name is
 * broken only PW_EV_MALFORMED is emitted; when RDATA is cut short the event
 * carries the entries that were complete, followed by PW_EV_MALFORMED. */
#include "dissector.h"
#include "dns_name.h"

#include <string.h>

enum { NBNS_OP_WACK = 7 };

/* Copies a 15-byte NetBIOS name, trailing spaces trimmed, non-printable
 * bytes replaced by '?'. */
static void nb_name_text(const uint8_t raw[15], char out[16])
{
    size_t end = 15;
    while (end > 0 && raw[end - 1] == ' ')
        end--;
    for (size_t i = 0; i < end; i++)
        out[i] = (raw[i] >= 0x20 && raw[i] < 0x7f) ? (char)raw[i] : '?';
    out[end] = '\0';
}

/* First-level decoding of the first label of a wire name: 32 letters
 * 'A'..'P', two per byte.  Scope labels that follow are ignored. */
static bool nb_decode(const uint8_t *wire, size_t wlen, char qname[17], uint8_t *suffix)
{
    uint8_t raw[16];
    if (wlen < 33 || wire[0] != 32)
        return false;
    for (int i = 0; i < 16; i++) {
        uint8_t hi = wire[1 + 2 * i], lo = wire[2 + 2 * i];
        if (hi < 'A' || hi > 'P' || lo < 'A' || lo > 'P')
            return false;
        raw[i] = (uint8_t)(((hi - 'A') << 4) | (lo - 'A'));
    }
    bool wildcard = raw[0] == '*';
    for (int i = 1; i < 16 && wildcard; i++)
        wildcard = raw[i] == 0;
    if (wildcard) {
        strcpy(qname, "*");
        *suffix = 0;
        return true;
    }
    nb_name_text(raw, qname);
    *suffix = raw[15];
    return true;
}

/* One resource record: name, type, class, ttl, rdlength, and RDATA as a
 * sub-cursor (clipped to what is present; *short_rd says it was cut). */
typedef struct nb_rr {
    char qname[17];
    uint8_t suffix;
    uint16_t type;
    pw_cursor rd;
    bool short_rd;
} nb_rr;

static bool nb_read_rr(pw_cursor *m, nb_rr *rr)
{
    uint8_t wire[PW_DNSN_WIRE_MAX];
    size_t wlen = pw_dnsn_read(m, wire);
    if (!pw_cur_ok(m) || !nb_decode(wire, wlen, rr->qname, &rr->suffix))
        return false;
    rr->type = pw_be16(m);
    pw_skip(m, 2 + 4); /* class, ttl */
    uint16_t rdlen = pw_be16(m);
    if (!pw_cur_ok(m))
        return false;
    size_t avail = pw_cur_left(m);
    rr->short_rd = rdlen > avail;
    rr->rd = pw_sub(m, rr->short_rd ? avail : rdlen);
    return true;
}

static void nbns_datagram(const pw_dctx *ctx, const uint8_t *data, size_t len)
{
    pw_cursor m = pw_cur(data, len);
    pw_event ev;
    uint8_t wire[PW_DNSN_WIRE_MAX];

    uint16_t txid = pw_be16(&m);
    uint16_t flags = pw_be16(&m);
    uint16_t qd = pw_be16(&m), an = pw_be16(&m), ns = pw_be16(&m), ar = pw_be16(&m);
    if (!pw_cur_ok(&m)) {
        pw_emit_malformed(ctx, "nbns: truncated header");
        return;
    }
    if (qd > 1 || an > 1 || ns > 1 || ar > 1) {
        /* RFC 1002 packets carry at most one record per section. */
        pw_emit_malformed(ctx, "nbns: bad record counts");
        return;
    }

    pw_event_init(&ev, ctx, PW_EV_NBNS);
    pw_ev_nbns *n = &ev.u.nbns;
    n->txid = txid;
    n->response = (flags & 0x8000) != 0;
    n->opcode = (uint8_t)((flags >> 11) & 0x0f);
    n->rcode = (uint8_t)(flags & 0x0f);

    if (qd) {
        size_t wlen = pw_dnsn_read(&m, wire);
        n->qtype = pw_be16(&m);
        pw_skip(&m, 2); /* qclass */
        if (!pw_cur_ok(&m) || !nb_decode(wire, wlen, n->qname, &n->qsuffix)) {
            pw_emit_malformed(ctx, "nbns: bad question");
            return;
        }
    }

    nb_rr rr;
    bool have_rr = false, rr_bad = false;
    /* The answer (responses) or the additional record (registration,
     * release, refresh requests); the authority section is unused.  RFC
     * 1002's negative query response diagram shows ANCOUNT 0 followed by a
     * record, so a record after an empty header is read too. */
    if (an || ar || (!qd && pw_cur_left(&m) > 0)) {
        if (nb_read_rr(&m, &rr))
            have_rr = true;
        else
            rr_bad = true;
    }
    if (!qd && !have_rr) {
        pw_emit_malformed(ctx, rr_bad ? "nbns: bad answer" : "nbns: no name");
        return;
    }
    if (!qd) {
        memcpy(n->qname, rr.qname, sizeof n->qname);
        n->qsuffix = rr.suffix;
        n->qtype = rr.type;
    }

    pw_emit_app(ctx, "netbios");

    const char *bad = rr_bad ? "nbns: bad record" : NULL;
    if (have_rr) {
        /* The record is a response's answer unless it came from the
         * additional section of a request-shaped packet. */
        bool answer = an > 0 || !ar;
        if (rr.short_rd)
            bad = "nbns: truncated rdata";
        if (answer && n->response && n->rcode == 0 && rr.type == PW_NBNS_QTYPE_NB &&
            n->opcode != NBNS_OP_WACK) {
            while (pw_cur_has(&rr.rd, 6) && n->n_addrs < PW_NBNS_MAX_ADDRS) {
                uint8_t b[4];
                pw_skip(&rr.rd, 2); /* NB_FLAGS */
                pw_copy(&rr.rd, b, 4);
                pw_addr_v4(&n->addrs[n->n_addrs++], b);
            }
        } else if (answer && n->response && n->rcode == 0 && rr.type == PW_NBNS_QTYPE_NBSTAT) {
            uint8_t num = pw_u8(&rr.rd);
            uint8_t i;
            for (i = 0; i < num && pw_cur_has(&rr.rd, 18); i++) {
                uint8_t raw[15];
                pw_copy(&rr.rd, raw, 15);
                uint8_t suffix = pw_u8(&rr.rd);
                uint16_t nf = pw_be16(&rr.rd);
                if (n->n_names < PW_NBNS_MAX_NAMES) {
                    nb_name_text(raw, n->names[n->n_names].name);
                    n->names[n->n_names].suffix = suffix;
                    n->names[n->n_names].flags = nf;
                    n->names[n->n_names].group = (nf & 0x8000) != 0;
                    n->n_names++;
                }
            }
            if (i < num || !pw_cur_ok(&rr.rd)) {
                bad = "nbns: truncated node status";
            } else if (pw_cur_has(&rr.rd, 6)) {
                pw_copy(&rr.rd, n->mac, 6);
                n->has_mac = true;
            }
        }
    }
    pw_emit(ctx, &ev);
    if (bad)
        pw_emit_malformed(ctx, bad);
}

const pw_dissector pw_dissector_nbns = {
    .name = "nbns",
    .transports = PW_DT_UDP,
    .ports = {137, 0},
    .datagram = nbns_datagram,
};
