/* starttls.c - the line-based mail and file transfer protocols up to their
 * upgrade to TLS: SMTP STARTTLS (RFC 3207), IMAP STARTTLS and POP3 STLS
 * (RFC 2595), FTP AUTH TLS (RFC 4217).
 *
 * The four share one reader: the server's and the client's CRLF lines are
 * read until the client asks for TLS and the server accepts (SMTP 220,
 * IMAP "<tag> OK", POP3 +OK, FTP 234); from the next byte on both
 * directions carry a TLS handshake, parsed by an embedded pw_tls_state so
 * the certificate and its names come from this flow, which stays "smtp",
 * "imap", "pop3" or "ftp".  A refusal (SMTP 454, IMAP NO/BAD, POP3 -ERR,
 * FTP 4xx/5xx) leaves the session in clear text; it is followed for a
 * bounded number of lines in case the client asks again, then dropped: the
 * commands and mail themselves are of no interest here.  A client that
 * starts with a TLS ClientHello (implicit TLS on one of these ports) is read
 * as plain TLS. */
#include <string.h>

#include "dissector.h"
#include "tls.h"

/* Longest line waited for whole: SMTP allows 512-byte command lines and
 * 1000-byte text lines (RFC 5321 4.5.3.1); the others are shorter. */
#define LINE_MAX_BYTES 1024u
/* Lines (both directions) read before giving up on an upgrade. */
#define MAX_LINES 100u
/* Client bytes held while its ClientHello waits for the server's answer. */
#define HELD_MAX (16u * 1024u)
#define IMAP_TAG_MAX 16

/* What one server line is, for the session's progress. */
typedef enum reply_kind {
    REPLY_BAD,    /* not a reply of this protocol */
    REPLY_MORE,   /* a valid line that answers nothing by itself (continuation, untagged, data) */
    REPLY_FINAL,  /* a final reply that does not accept an upgrade */
    REPLY_ACCEPT, /* a final reply that accepts the upgrade, when one was asked for */
} reply_kind;

typedef struct starttls_state {
    pw_tls_state tls;
    uint32_t lines;              /* lines read, both directions */
    uint16_t multi;              /* SMTP / FTP: code of the multi-line reply under way, 0 when none */
    char tag[IMAP_TAG_MAX];      /* IMAP: the tag of the STARTTLS command */
    bool app;                    /* a valid server greeting was seen (PW_EV_APP emitted) */
    bool asked;                  /* the client asked to upgrade and awaits the answer */
    bool upgraded;               /* both directions carry TLS from here on */
    bool dead;                   /* nothing more of interest */
} starttls_state;

typedef struct line_proto {
    const char *app;   /* PW_EV_APP name and malformed prefix */
    const char *bad;   /* malformed text for a server line that is not a reply */
    /* True when a client line asks for the upgrade (may record an IMAP tag). */
    bool (*upgrade_cmd)(starttls_state *st, pw_cursor line);
    /* Classifies a server line. */
    reply_kind (*reply)(starttls_state *st, pw_cursor line);
} line_proto;

/* ---- the shared line reader ---- */

typedef enum line_status { LINE_OK, LINE_SHORT, LINE_LONG } line_status;

/* The next LF-terminated line at c, without its CR LF, in *line; c moves
 * past it.  LINE_SHORT when its end is not at hand yet, LINE_LONG when no
 * LF comes within LINE_MAX_BYTES. */
static line_status next_line(pw_cursor *c, pw_cursor *line)
{
    size_t left = pw_cur_left(c);
    size_t limit = left < LINE_MAX_BYTES ? left : LINE_MAX_BYTES;
    for (size_t i = 0; i < limit; i++) {
        if (pw_peek_u8(c, i) != '\n')
            continue;
        size_t n = i > 0 && pw_peek_u8(c, i - 1) == '\r' ? i - 1 : i;
        *line = pw_sub(c, n);
        pw_skip(c, i + 1 - n);
        return LINE_OK;
    }
    return left < LINE_MAX_BYTES ? LINE_SHORT : LINE_LONG;
}

static uint8_t ascii_upper(uint8_t b) { return b >= 'a' && b <= 'z' ? (uint8_t)(b - 32) : b; }

static void skip_spaces(pw_cursor *line)
{
    while (pw_cur_left(line) > 0 && pw_peek_u8(line, 0) == ' ')
        pw_skip(line, 1);
}

/* True when the line's next word is `word` (ASCII, case-insensitive) ended
 * by a space or the end of the line; consumes it and the spaces after it. */
static bool take_word(pw_cursor *line, const char *word)
{
    size_t n = strlen(word);
    if (!pw_cur_has(line, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if (ascii_upper(pw_peek_u8(line, i)) != (uint8_t)word[i])
            return false;
    if (pw_cur_left(line) > n && pw_peek_u8(line, n) != ' ')
        return false;
    pw_skip(line, n);
    skip_spaces(line);
    return true;
}

static bool at_end(const pw_cursor *line)
{
    for (size_t i = 0; i < pw_cur_left(line); i++)
        if (pw_peek_u8(line, i) != ' ' && pw_peek_u8(line, i) != '\t')
            return false;
    return true;
}

/* True when the line starts with the bytes of `s` exactly. */
static bool starts_with(const pw_cursor *line, const char *s)
{
    size_t n = strlen(s);
    if (!pw_cur_has(line, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if (pw_peek_u8(line, i) != (uint8_t)s[i])
            return false;
    return true;
}

/* ---- SMTP and FTP: three-digit replies, "xyz-" continues one ---- */

/* Reads "xyz" and the separator after it (' ', '-', or 0 at the end of the
 * line); false when the line does not start with a reply code. */
static bool reply_code(pw_cursor line, uint16_t *code, uint8_t *sep)
{
    uint16_t v = 0;
    for (int i = 0; i < 3; i++) {
        uint8_t d = pw_u8(&line);
        if (!pw_cur_ok(&line) || d < '0' || d > '9')
            return false;
        v = (uint16_t)(v * 10 + (d - '0'));
    }
    *sep = pw_cur_left(&line) ? pw_u8(&line) : 0;
    *code = v;
    return v >= 100 && v < 600 && (*sep == ' ' || *sep == '-' || *sep == 0);
}

/* SMTP and FTP alike: a multi-line reply opens with "xyz-" and ends with
 * "xyz " (FTP's lines in between may be any text, RFC 959 4.2). */
static reply_kind coded_reply(starttls_state *st, pw_cursor line, uint16_t accept)
{
    uint16_t code = 0;
    uint8_t sep = 0;
    bool coded = reply_code(line, &code, &sep);
    if (st->multi) {
        if (!coded || code != st->multi || sep == '-')
            return REPLY_MORE;
        st->multi = 0;
    } else if (!coded) {
        return REPLY_BAD;
    } else if (sep == '-') {
        st->multi = code;
        return REPLY_MORE;
    }
    return code == accept ? REPLY_ACCEPT : REPLY_FINAL;
}

static reply_kind smtp_reply(starttls_state *st, pw_cursor line) { return coded_reply(st, line, 220); }
static reply_kind ftp_reply(starttls_state *st, pw_cursor line) { return coded_reply(st, line, 234); }

static bool smtp_upgrade(starttls_state *st, pw_cursor line)
{
    (void)st;
    return take_word(&line, "STARTTLS") && at_end(&line);
}

/* AUTH TLS / AUTH SSL (and the TLS-C / TLS-P spellings of the drafts
 * before RFC 4217) all mean TLS on the control connection. */
static bool ftp_upgrade(starttls_state *st, pw_cursor line)
{
    (void)st;
    if (!take_word(&line, "AUTH"))
        return false;
    bool tls = take_word(&line, "TLS") || take_word(&line, "SSL") || take_word(&line, "TLS-C") ||
               take_word(&line, "TLS-P");
    return tls && at_end(&line);
}

/* ---- POP3: +OK / -ERR status lines, multi-line data in between ---- */

static reply_kind pop3_reply(starttls_state *st, pw_cursor line)
{
    if (take_word(&line, "+OK"))
        return REPLY_ACCEPT;
    if (take_word(&line, "-ERR"))
        return REPLY_FINAL;
    return st->app ? REPLY_MORE : REPLY_BAD; /* the greeting is a status line */
}

static bool pop3_upgrade(starttls_state *st, pw_cursor line)
{
    (void)st;
    return take_word(&line, "STLS") && at_end(&line);
}

/* ---- IMAP: "<tag> STARTTLS", answered "<tag> OK" ---- */

static bool imap_upgrade(starttls_state *st, pw_cursor line)
{
    char tag[IMAP_TAG_MAX];
    size_t n = 0;
    while (pw_cur_left(&line) > 0 && pw_peek_u8(&line, 0) != ' ') {
        uint8_t b = pw_u8(&line);
        if (n + 1 >= sizeof tag || b <= 0x20 || b >= 0x7f || b == '*' || b == '+')
            return false;
        tag[n++] = (char)b;
    }
    tag[n] = '\0';
    skip_spaces(&line);
    if (n == 0 || !take_word(&line, "STARTTLS") || !at_end(&line))
        return false;
    memcpy(st->tag, tag, n + 1);
    return true;
}

static reply_kind imap_reply(starttls_state *st, pw_cursor line)
{
    if (!st->app)
        return starts_with(&line, "* ") ? REPLY_MORE : REPLY_BAD; /* the greeting is untagged */
    if (!st->asked || !st->tag[0] || !starts_with(&line, st->tag))
        return REPLY_MORE; /* untagged data, continuation requests, other commands' answers */
    pw_skip(&line, strlen(st->tag));
    if (pw_cur_left(&line) == 0 || pw_u8(&line) != ' ')
        return REPLY_MORE;
    return take_word(&line, "OK") ? REPLY_ACCEPT : REPLY_FINAL;
}

/* ---- the session ---- */

/* Ends the session, with a malformed event when `why` is set. */
static void give_up(const pw_dctx *ctx, starttls_state *st, const char *why)
{
    if (why)
        pw_emit_malformed(ctx, why);
    st->dead = true;
}

static void server_line(const pw_dctx *ctx, const line_proto *p, starttls_state *st, pw_cursor line)
{
    reply_kind k = p->reply(st, line);
    if (k == REPLY_BAD) {
        give_up(ctx, st, p->bad);
        return;
    }
    if (!st->app) {
        pw_emit_app(ctx, p->app);
        st->app = true;
    }
    if (!st->asked || k == REPLY_MORE)
        return;
    st->asked = false;
    if (k == REPLY_ACCEPT) {
        st->upgraded = true;
        st->tls.no_app = true; /* the flow stays smtp / imap / pop3 / ftp */
    }
}

/* Hands the bytes to the embedded TLS parser. */
static size_t to_tls(const pw_dctx *ctx, starttls_state *st, const uint8_t *data, size_t len, bool *done)
{
    size_t n = pw_tls_stream(ctx, &st->tls, data, len, done);
    if (*done)
        st->dead = true;
    return n;
}

/* Client bytes that are not lines: its ClientHello waiting for the answer
 * to its upgrade request (held, up to HELD_MAX), or TLS from the first byte
 * (read as TLS).  Returns true when it decided what to do with them. */
static bool client_tls(const pw_dctx *ctx, starttls_state *st, const uint8_t *data, size_t len,
                       size_t *used, bool *done)
{
    if (len < 3 || !pw_tls_looks_like(data, len, true))
        return false;
    if (st->asked) {
        if (len > HELD_MAX)
            give_up(ctx, st, NULL);
        *used = st->dead ? len : 0;
        return true;
    }
    if (st->app || st->lines)
        return false;
    st->upgraded = true; /* implicit TLS: the "tls" app comes from the parser */
    *used = to_tls(ctx, st, data, len, done);
    return true;
}

/* Reads lines until the upgrade, the end of the bytes at hand or the end of
 * interest; returns the bytes consumed. */
static size_t read_lines(const pw_dctx *ctx, const line_proto *p, starttls_state *st, pw_cursor *c)
{
    while (!st->dead && !st->upgraded) {
        pw_cursor line;
        line_status ls = next_line(c, &line);
        if (ls == LINE_SHORT)
            break;
        if (ls == LINE_LONG || ++st->lines > MAX_LINES) {
            /* a mail body, a literal, or not this protocol at all */
            give_up(ctx, st, st->app || ctx->dir == 0 ? NULL : p->bad);
            break;
        }
        if (ctx->dir == 1) {
            server_line(ctx, p, st, line);
        } else if (p->upgrade_cmd(st, line)) {
            st->asked = true;
            break; /* what follows waits for the server's answer */
        }
    }
    return pw_cur_pos(c);
}

static size_t line_stream(const line_proto *p, const pw_dctx *ctx, void *state, const uint8_t *data,
                          size_t len, bool *done)
{
    starttls_state *st = state;
    if (st->dead || ctx->dir < 0 || ctx->dir > 1) {
        *done = true;
        return len;
    }
    if (st->upgraded)
        return to_tls(ctx, st, data, len, done);
    size_t used = 0;
    if (ctx->dir == 0 && client_tls(ctx, st, data, len, &used, done)) {
        if (st->dead)
            *done = true;
        return used;
    }
    pw_cursor c = pw_cur(data, len);
    used = read_lines(ctx, p, st, &c);
    if (st->dead) {
        *done = true;
        return len;
    }
    size_t left = pw_cur_left(&c);
    if (st->upgraded && left) /* the server's first TLS bytes in the same segment */
        used += to_tls(ctx, st, pw_cur_view(&c, left), left, done);
    return used;
}

static void starttls_free(void *state)
{
    starttls_state *st = state;
    pw_tls_free(&st->tls);
}

static const line_proto smtp = {"smtp", "smtp: not an SMTP reply", smtp_upgrade, smtp_reply};
static const line_proto imap = {"imap", "imap: not an IMAP greeting", imap_upgrade, imap_reply};
static const line_proto pop3 = {"pop3", "pop3: not a POP3 status line", pop3_upgrade, pop3_reply};
static const line_proto ftp = {"ftp", "ftp: not an FTP reply", ftp_upgrade, ftp_reply};

static size_t smtp_stream(const pw_dctx *ctx, void *state, const uint8_t *data, size_t len, bool *done)
{
    return line_stream(&smtp, ctx, state, data, len, done);
}

static size_t imap_stream(const pw_dctx *ctx, void *state, const uint8_t *data, size_t len, bool *done)
{
    return line_stream(&imap, ctx, state, data, len, done);
}

static size_t pop3_stream(const pw_dctx *ctx, void *state, const uint8_t *data, size_t len, bool *done)
{
    return line_stream(&pop3, ctx, state, data, len, done);
}

static size_t ftp_stream(const pw_dctx *ctx, void *state, const uint8_t *data, size_t len, bool *done)
{
    return line_stream(&ftp, ctx, state, data, len, done);
}

const pw_dissector pw_dissector_smtp = {
    .name = "smtp",
    .transports = PW_DT_TCP,
    .ports = {25, 587, 2525},
    .state_size = sizeof(starttls_state),
    .stream = smtp_stream,
    .stream_free = starttls_free,
};

const pw_dissector pw_dissector_imap = {
    .name = "imap",
    .transports = PW_DT_TCP,
    .ports = {143},
    .state_size = sizeof(starttls_state),
    .stream = imap_stream,
    .stream_free = starttls_free,
};

const pw_dissector pw_dissector_pop3 = {
    .name = "pop3",
    .transports = PW_DT_TCP,
    .ports = {110},
    .state_size = sizeof(starttls_state),
    .stream = pop3_stream,
    .stream_free = starttls_free,
};

const pw_dissector pw_dissector_ftp = {
    .name = "ftp",
    .transports = PW_DT_TCP,
    .ports = {21},
    .state_size = sizeof(starttls_state),
    .stream = ftp_stream,
    .stream_free = starttls_free,
};
