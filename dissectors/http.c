/* http.c - HTTP/1.x request and response heads (RFC 9112), for proxy
 * CONNECT above all: the request line and Host header, the proxy's status
 * line (200, 403, 407 ...), and after a CONNECT answered 2xx the TLS
 * handshake inside the tunnel, parsed by an embedded pw_tls_state so the SNI
 * the client asked the proxy for is seen.
 *
 * Heads are framed by the stream contract: an incomplete head is left
 * unconsumed until its CRLFCRLF arrives (given up after 8 KiB).  Response
 * bodies with a Content-Length are skipped so a CONNECT retried with
 * credentials on the same connection (407, then 200) is followed.
 *
 * NTLM / Negotiate HTTP authentication (RFC 4559, MS-NTHT): the base64
 * token of "Authorization:" / "Proxy-Authorization:" request headers and of
 * "WWW-Authenticate:" / "Proxy-Authenticate:" response headers is decoded
 * and the NTLMSSP message in it (raw, or inside SPNEGO) parsed.  The
 * handshake takes several requests on one connection (NEGOTIATE -> 401 with
 * the CHALLENGE -> AUTHENTICATE), so a 401 / 407 offering NTLM or Negotiate
 * keeps the connection followed (bounded by HTTP_MAX_EXCHANGES).
 *
 * HTTP/2 cleartext on an HTTP port (http2.c, state allocated when it
 * starts): a client that opens with the HTTP/2 connection preface (prior
 * knowledge), or an "Upgrade: h2c" request answered 101, after which both
 * directions speak HTTP/2 and the upgrading request is stream 1.  A server
 * SETTINGS frame sent before the client's preface is kept until the client
 * has spoken. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dissector.h"
#include "http2.h"
#include "ntlmssp.h"
#include "tls.h"

#define HTTP_HEAD_MAX 8192u
#define HTTP_MAX_EXCHANGES 8
#define HTTP_LINE_MAX 1024
/* A decoded auth token: at most 3/4 of the longest head. */
#define HTTP_TOKEN_MAX (HTTP_HEAD_MAX / 4 * 3)

typedef struct http_state {
    pw_tls_state tls;
    uint64_t body_left[2]; /* body bytes still to skip per direction */
    uint8_t requests;      /* requests seen */
    uint8_t responses;     /* final responses seen */
    bool connect_pending;  /* the last request was a CONNECT not yet answered */
    bool head_req;         /* the last request was a HEAD (its answer has no body) */
    bool plain_seen;       /* a non-CONNECT request was seen */
    bool tunnel;           /* CONNECT answered 2xx: the rest is the tunnel */
    bool bare_tls;         /* TLS on an HTTP port (no HTTP at all) */
    bool in_tls[2];
    bool app;
    bool dead;
    bool h2_active;        /* the bytes are HTTP/2 from here on */
    pw_http2_state *h2;    /* allocated on the preface or an Upgrade: h2c request */
    char connect_host[PW_NAME_MAX]; /* the last CONNECT's target: the tunnel's far end */
    uint16_t connect_port;
} http_state;

static const char *const methods[] = {
    "CONNECT", "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", NULL,
};

/* True when the cursor starts with the literal s. */
static bool cur_starts(const pw_cursor *c, const char *s)
{
    size_t n = strlen(s);
    if (!pw_cur_has(c, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if (pw_peek_u8(c, i) != (uint8_t)s[i])
            return false;
    return true;
}

static bool starts_with_method(const pw_cursor *c)
{
    char buf[20];
    for (size_t i = 0; methods[i]; i++) {
        size_t n = strlen(methods[i]);
        memcpy(buf, methods[i], n);
        buf[n] = ' ';
        buf[n + 1] = '\0';
        if (cur_starts(c, buf))
            return true;
    }
    return false;
}

/* A request line starts with a method token (upper case, digits, '_', '-')
 * and a space: GET, CONNECT, RPC_IN_DATA ... */
static bool method_token_start(const pw_cursor *c)
{
    for (size_t i = 0; i < 20 && i < pw_cur_left(c); i++) {
        uint8_t b = pw_peek_u8(c, i);
        if (b == ' ')
            return i > 0;
        if (!((b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_' || b == '-'))
            return false;
    }
    return pw_cur_left(c) < 20;
}

static bool http_probe(const uint8_t *data, size_t len)
{
    pw_cursor c = pw_cur(data, len);
    if (!starts_with_method(&c))
        return false;
    /* When the whole request line is there it must end in an HTTP version
     * (SIP, RTSP and friends share the method names). */
    size_t left = pw_cur_left(&c);
    for (size_t i = 0; i + 1 < left; i++) {
        if (pw_peek_u8(&c, i) == '\r' && pw_peek_u8(&c, i + 1) == '\n') {
            static const char v[] = " HTTP/";
            if (i < sizeof v - 1 + 3)
                return false;
            for (size_t k = 0; k < sizeof v - 1; k++)
                if (pw_peek_u8(&c, i - 3 - (sizeof v - 1) + k) != (uint8_t)v[k])
                    return false;
            return true;
        }
    }
    return true;
}

/* Length of the head including the final CRLFCRLF, or 0 when absent in the
 * first `limit` bytes. */
static size_t head_len(const pw_cursor *c, size_t limit)
{
    size_t left = pw_cur_left(c);
    if (left > limit)
        left = limit;
    for (size_t i = 0; i + 3 < left; i++)
        if (pw_peek_u8(c, i) == '\r' && pw_peek_u8(c, i + 1) == '\n' &&
            pw_peek_u8(c, i + 2) == '\r' && pw_peek_u8(c, i + 3) == '\n')
            return i + 4;
    return 0;
}

/* Reads one CRLF-terminated line of the head into buf (truncated, printable
 * ASCII, '?' for anything else); returns false at the end of the head. */
static bool read_line(pw_cursor *h, char *buf, size_t cap)
{
    size_t o = 0;
    if (!pw_cur_has(h, 1))
        return false;
    while (pw_cur_has(h, 1)) {
        uint8_t b = pw_u8(h);
        if (b == '\r' && pw_peek_u8(h, 0) == '\n') {
            pw_skip(h, 1);
            break;
        }
        if (o + 1 < cap)
            buf[o++] = (b >= 0x20 && b < 0x7f) || b == '\t' ? (char)b : '?';
    }
    buf[o] = '\0';
    return true;
}

static void copy_str(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* Splits "host", "host:port" or "[v6]:port" into host and port. */
static void parse_authority(const char *a, size_t n, char *host, size_t cap, uint16_t *port)
{
    const char *colon = NULL;
    size_t hs = 0, he = n;
    if (n && a[0] == '[') {
        const char *rb = memchr(a, ']', n);
        if (rb) {
            hs = 1;
            he = (size_t)(rb - a);
            if (he + 1 < n && a[he + 1] == ':')
                colon = a + he + 1;
        }
    } else {
        colon = memchr(a, ':', n);
        if (colon)
            he = (size_t)(colon - a);
    }
    copy_str(host, cap, a + hs, he > hs ? he - hs : 0);
    if (colon) {
        unsigned long v = 0;
        size_t i = (size_t)(colon - a) + 1, digits = 0;
        for (; i < n && isdigit((unsigned char)a[i]) && v <= 65535; i++, digits++)
            v = v * 10 + (unsigned long)(a[i] - '0');
        if (digits && v <= 65535)
            *port = (uint16_t)v;
    }
}

static const char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

typedef struct head_fields {
    char host[PW_NAME_MAX];
    bool has_host;
    bool has_length;
    uint64_t length;
    bool chunked;
    bool close;
    bool auth_offer;       /* an NTLM or Negotiate scheme in an auth header */
    bool has_token;        /* the first such scheme's token: [tok_off, +tok_len) of the head */
    size_t tok_off, tok_len;
    bool upgrade_h2c;      /* "Upgrade: h2c" */
} head_fields;

static bool is_b64(uint8_t b)
{
    return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '+' ||
           b == '/' || b == '=';
}

static bool is_ws(uint8_t b) { return b == ' ' || b == '\t'; }

/* True when the cursor holds exactly the scheme name s (case-insensitive). */
static bool scheme_is(pw_cursor w, const char *s)
{
    size_t n = strlen(s);
    if (pw_cur_left(&w) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower(pw_peek_u8(&w, i)) != tolower((unsigned char)s[i]))
            return false;
    return true;
}

/* The value of an auth header (`line` is the whole line, name included,
 * starting `at` bytes into the head): challenges / credentials
 * "scheme [token68 | auth-params], ...".  Notes an NTLM or Negotiate scheme
 * and the position of its token in the head. */
static void auth_header(const pw_cursor *line, size_t at, head_fields *f)
{
    pw_cursor c = *line;
    while (pw_cur_has(&c, 1) && pw_peek_u8(&c, 0) != ':')
        pw_skip(&c, 1);
    pw_skip(&c, 1);
    for (int guard = 0; guard < 16 && pw_cur_has(&c, 1); guard++) {
        while (pw_cur_has(&c, 1) && (is_ws(pw_peek_u8(&c, 0)) || pw_peek_u8(&c, 0) == ','))
            pw_skip(&c, 1);
        size_t s = pw_cur_pos(&c), n = 0;
        while (n < pw_cur_left(&c) && !is_ws(pw_peek_u8(&c, n)) && pw_peek_u8(&c, n) != ',')
            n++;
        pw_cursor scheme = pw_at(&c, s, n);
        pw_skip(&c, n);
        bool ours = scheme_is(scheme, "NTLM") || scheme_is(scheme, "Negotiate");
        while (pw_cur_has(&c, 1) && is_ws(pw_peek_u8(&c, 0)))
            pw_skip(&c, 1);
        if (ours) {
            f->auth_offer = true;
            size_t t = pw_cur_pos(&c), k = 0;
            while (k < pw_cur_left(&c) && is_b64(pw_peek_u8(&c, k)))
                k++;
            if (k && !f->has_token) {
                f->has_token = true;
                f->tok_off = at + t;
                f->tok_len = k;
            }
            pw_skip(&c, k);
        }
        /* The rest of this challenge (auth-params) up to the next comma
         * that starts another scheme; quoted strings may hold commas. */
        bool quoted = false;
        while (pw_cur_has(&c, 1)) {
            uint8_t b = pw_peek_u8(&c, 0);
            if (b == '"')
                quoted = !quoted;
            else if (b == ',' && !quoted)
                break;
            pw_skip(&c, 1);
        }
    }
}

static int b64_val(uint8_t b)
{
    if (b >= 'A' && b <= 'Z')
        return b - 'A';
    if (b >= 'a' && b <= 'z')
        return b - 'a' + 26;
    if (b >= '0' && b <= '9')
        return b - '0' + 52;
    if (b == '+')
        return 62;
    if (b == '/')
        return 63;
    return -1;
}

/* Decodes base64 (padding optional) into out; returns the decoded length,
 * or (size_t)-1 when it is not valid base64 or does not fit. */
static size_t b64_decode(pw_cursor in, uint8_t *out, size_t cap)
{
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    bool pad = false;
    while (pw_cur_has(&in, 1)) {
        uint8_t b = pw_u8(&in);
        if (b == '=') {
            pad = true;
            continue;
        }
        int v = b64_val(b);
        if (v < 0 || pad)
            return (size_t)-1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= cap)
                return (size_t)-1;
            out[n++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (bits >= 6) /* one lone character in the last group */
        return (size_t)-1;
    return n;
}

/* Decodes the head's NTLM / Negotiate token and parses the NTLMSSP in it. */
static void auth_token(const pw_dctx *ctx, const pw_cursor *h, const head_fields *f)
{
    if (!f->has_token)
        return;
    uint8_t tok[HTTP_TOKEN_MAX];
    size_t n = b64_decode(pw_at(h, f->tok_off, f->tok_len), tok, sizeof tok);
    if (n == (size_t)-1) {
        pw_emit_malformed(ctx, "http: bad base64 auth token");
        return;
    }
    pw_ntlmssp_parse_blob(ctx, tok, n);
}

static void read_headers(pw_cursor *h, head_fields *f)
{
    char line[HTTP_LINE_MAX];
    size_t start = pw_cur_pos(h);
    while (read_line(h, line, sizeof line)) {
        size_t at = start, end = pw_cur_pos(h);
        pw_cursor whole = pw_at(h, at, end - at); /* the line, untruncated */
        start = end;
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        const char *name = line, *val = trim(colon + 1);
        if (strcasecmp(name, "Authorization") == 0 || strcasecmp(name, "Proxy-Authorization") == 0 ||
            strcasecmp(name, "WWW-Authenticate") == 0 || strcasecmp(name, "Proxy-Authenticate") == 0) {
            /* Without its CRLF: the token must not run into the next line. */
            size_t n = whole.len;
            while (n && (pw_peek_u8(&whole, n - 1) == '\n' || pw_peek_u8(&whole, n - 1) == '\r'))
                n--;
            pw_cursor v = pw_at(&whole, 0, n);
            auth_header(&v, at, f);
        } else if (strcasecmp(name, "Host") == 0 && !f->has_host) {
            copy_str(f->host, sizeof f->host, val, strlen(val));
            f->has_host = true;
        } else if (strcasecmp(name, "Content-Length") == 0) {
            char *end = NULL;
            unsigned long long v = strtoull(val, &end, 10);
            if (end && end != val && *end == '\0') {
                f->has_length = true;
                f->length = v;
            }
        } else if (strcasecmp(name, "Upgrade") == 0) {
            if (strcasestr(val, "h2c"))
                f->upgrade_h2c = true;
        } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
            if (strcasestr(val, "chunked"))
                f->chunked = true;
        } else if (strcasecmp(name, "Connection") == 0 ||
                   strcasecmp(name, "Proxy-Connection") == 0) {
            if (strcasestr(val, "close"))
                f->close = true;
        }
    }
}

/* The HTTP/2 state, allocated once per connection that turns to HTTP/2. */
static bool h2_start(http_state *st)
{
    if (st->h2)
        return true;
    st->h2 = malloc(sizeof *st->h2);
    if (!st->h2)
        return false;
    if (!pw_http2_init(st->h2)) {
        pw_http2_free(st->h2);
        free(st->h2);
        st->h2 = NULL;
        return false;
    }
    return true;
}

static void h2_drop(http_state *st)
{
    if (!st->h2)
        return;
    pw_http2_free(st->h2);
    free(st->h2);
    st->h2 = NULL;
}

/* A request asking to upgrade to h2c: it becomes stream 1 if the server
 * answers 101. */
static void h2c_upgrade_request(const pw_dctx *ctx, http_state *st, const pw_ev_http *r,
                                const char *target, size_t tlen, const head_fields *f)
{
    char path[PW_NAME_MAX];
    copy_str(path, sizeof path, target, tlen);
    if (h2_start(st))
        pw_http2_upgraded_request(ctx, st->h2, r->method, path, f->has_host ? f->host : r->host);
}

/* True when a server's first bytes are an HTTP/2 SETTINGS frame (or could
 * still become one): the h2c server preface, sent before the client's. */
static bool h2_server_settings(const pw_cursor *c)
{
    if (pw_peek_u8(c, 0) != 0)
        return false;
    if (!pw_cur_has(c, 9))
        return true;
    uint32_t len = (uint32_t)pw_peek_u8(c, 1) << 8 | pw_peek_u8(c, 2);
    return pw_peek_u8(c, 3) == 4 && len % 6 == 0 && pw_peek_u8(c, 5) == 0 &&
           pw_peek_u8(c, 6) == 0 && pw_peek_u8(c, 7) == 0 && pw_peek_u8(c, 8) == 0;
}

static size_t to_h2(const pw_dctx *ctx, http_state *st, pw_cursor *c, bool *done)
{
    size_t left = pw_cur_left(c);
    const uint8_t *rest = pw_cur_view(c, left);
    size_t n = pw_http2_stream(ctx, st->h2, rest, left, done);
    if (*done)
        st->dead = true;
    return n;
}

static void emit_app(const pw_dctx *ctx, http_state *st)
{
    if (!st->app)
        pw_emit_app(ctx, "http");
    st->app = true;
}

/* Parses one request head; returns false when it is not HTTP. */
static bool request(const pw_dctx *ctx, http_state *st, pw_cursor *h)
{
    char line[HTTP_LINE_MAX];
    if (!read_line(h, line, sizeof line))
        return false;
    char *sp1 = strchr(line, ' ');
    if (!sp1 || sp1 == line || (size_t)(sp1 - line) >= sizeof ((pw_ev_http *)0)->method)
        return false;
    for (char *p = line; p < sp1; p++) /* a method token: GET, RPC_IN_DATA, ... */
        if (!isupper((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_' && *p != '-')
            return false;
    char *target = sp1 + 1;
    char *sp2 = strchr(target, ' ');
    if (!sp2 || strncmp(sp2 + 1, "HTTP/", 5) != 0)
        return false;
    head_fields f;
    memset(&f, 0, sizeof f);
    read_headers(h, &f);

    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_HTTP);
    pw_ev_http *r = &ev.u.http;
    r->kind = PW_HTTP_REQUEST;
    copy_str(r->method, sizeof r->method, line, (size_t)(sp1 - line));
    size_t tlen = (size_t)(sp2 - target);
    bool is_connect = strcmp(r->method, "CONNECT") == 0;
    if (is_connect) {
        parse_authority(target, tlen, r->host, sizeof r->host, &r->port);
        memcpy(st->connect_host, r->host, sizeof st->connect_host);
        st->connect_port = r->port;
    } else {
        r->port = 80;
        const char *auth = NULL;
        size_t alen = 0;
        if (tlen > 7 && strncasecmp(target, "http://", 7) == 0)
            auth = target + 7;
        else if (tlen > 8 && strncasecmp(target, "https://", 8) == 0) {
            auth = target + 8;
            r->port = 443;
        }
        if (auth) {
            const char *end = target + tlen;
            const char *slash = memchr(auth, '/', (size_t)(end - auth));
            alen = (size_t)((slash ? slash : end) - auth);
            parse_authority(auth, alen, r->host, sizeof r->host, &r->port);
        } else if (f.has_host) {
            parse_authority(f.host, strlen(f.host), r->host, sizeof r->host, &r->port);
        }
    }
    emit_app(ctx, st);
    pw_emit(ctx, &ev);
    auth_token(ctx, h, &f);
    if (f.upgrade_h2c && !is_connect && st->requests == 0)
        h2c_upgrade_request(ctx, st, r, target, tlen, &f);
    st->requests++;
    st->head_req = strcmp(r->method, "HEAD") == 0;
    st->connect_pending = is_connect;
    if (!is_connect)
        st->plain_seen = true;
    if (f.has_length)
        st->body_left[0] = f.length;
    return true;
}

/* Parses one response head; returns false when it is not HTTP. */
static bool response(const pw_dctx *ctx, http_state *st, pw_cursor *h, bool *stop)
{
    char line[HTTP_LINE_MAX];
    if (!read_line(h, line, sizeof line))
        return false;
    if (strncmp(line, "HTTP/", 5) != 0)
        return false;
    char *sp = strchr(line, ' ');
    if (!sp || !isdigit((unsigned char)sp[1]) || !isdigit((unsigned char)sp[2]) ||
        !isdigit((unsigned char)sp[3]) || (sp[4] != ' ' && sp[4] != '\0'))
        return false;
    head_fields f;
    memset(&f, 0, sizeof f);
    read_headers(h, &f);

    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_HTTP);
    pw_ev_http *r = &ev.u.http;
    r->kind = PW_HTTP_RESPONSE;
    r->status = (uint16_t)((sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0'));
    if (sp[4] == ' ')
        copy_str(r->reason, sizeof r->reason, sp + 5, strlen(sp + 5));
    emit_app(ctx, st);
    pw_emit(ctx, &ev);
    auth_token(ctx, h, &f);
    if (r->status == 101 && st->h2) {
        st->h2_active = true; /* Switching Protocols: HTTP/2 from the next byte */
        return true;
    }
    if (r->status < 200)
        return true; /* informational: the final answer follows */
    h2_drop(st); /* an upgrade the server declined */
    st->responses++;
    /* An NTLM / Negotiate challenge: the client answers on this connection. */
    bool auth_more = (r->status == 401 || r->status == 407) && f.auth_offer;
    if (st->connect_pending) {
        st->connect_pending = false;
        if (r->status < 300) {
            st->tunnel = true;
            return true;
        }
    } else if (st->plain_seen || st->requests == 0) {
        /* Plain HTTP: the first response head is all we want, unless it is
         * an auth challenge whose body we can skip (a body without a length
         * runs to the end of the connection). */
        bool no_body = st->head_req || r->status == 204 || r->status == 304;
        if (!auth_more || (!f.has_length && !f.chunked && !no_body)) {
            *stop = true;
            return true;
        }
    }
    /* A refused CONNECT or an auth challenge: follow a retry on the same
     * connection if framed. */
    if (f.close || f.chunked || st->responses >= HTTP_MAX_EXCHANGES)
        *stop = true;
    else if (f.has_length && !st->head_req && r->status != 204 && r->status != 304)
        st->body_left[1] = f.length;
    return true;
}

/* TLS events from inside a CONNECT tunnel name the CONNECT target: the
 * certificate is the target's, not the proxy's (the flow's server). */
typedef struct tunnel_sink {
    const pw_dctx *outer;
    const http_state *st;
} tunnel_sink;

static void emit_in_tunnel(void *arg, const pw_event *ev)
{
    const tunnel_sink *t = arg;
    if (ev->type != PW_EV_TLS) {
        pw_emit(t->outer, ev);
        return;
    }
    pw_event named = *ev;
    memcpy(named.u.tls.tunnel_host, t->st->connect_host, sizeof named.u.tls.tunnel_host);
    named.u.tls.tunnel_port = t->st->connect_port;
    pw_emit(t->outer, &named);
}

static size_t to_tls(const pw_dctx *ctx, http_state *st, int dir, pw_cursor *c, bool *done)
{
    size_t left = pw_cur_left(c);
    const uint8_t *rest = pw_cur_view(c, left);
    st->in_tls[dir] = true;
    st->tls.no_app = !st->bare_tls; /* the tunnel's flow stays "http" */
    tunnel_sink sink = {ctx, st};
    pw_dctx inner = *ctx;
    if (!st->bare_tls && st->connect_host[0]) {
        inner.emit = emit_in_tunnel;
        inner.emit_arg = &sink;
    }
    size_t n = pw_tls_stream(&inner, &st->tls, rest, left, done);
    if (*done)
        st->dead = true;
    return n;
}

static size_t http_stream(const pw_dctx *ctx, void *state, const uint8_t *data, size_t len,
                          bool *done)
{
    http_state *st = state;
    int dir = ctx->dir ? 1 : 0;
    pw_cursor c = pw_cur(data, len);
    while (!st->dead) {
        if (st->in_tls[dir]) {
            size_t used = pw_cur_pos(&c);
            return used + to_tls(ctx, st, dir, &c, done);
        }
        if (st->body_left[dir]) {
            size_t n = pw_cur_left(&c);
            if (n > st->body_left[dir])
                n = (size_t)st->body_left[dir];
            pw_skip(&c, n);
            st->body_left[dir] -= n;
            if (st->body_left[dir])
                return len;
            continue;
        }
        if (st->h2_active) { /* after the upgrading request's body, if it had one */
            size_t used = pw_cur_pos(&c);
            return used + to_h2(ctx, st, &c, done);
        }
        if (!pw_cur_has(&c, 1))
            return pw_cur_pos(&c);
        if (dir == 0 && st->h2 && !st->h2_active) {
            /* An upgrade is pending: a preface means the 101 is on its way. */
            pw_cursor peek = c;
            size_t left = pw_cur_left(&peek);
            if (pw_http2_looks_like(pw_cur_view(&peek, left), left))
                return pw_cur_pos(&c);
        }
        if (st->requests == 0 && !st->app && !st->bare_tls) {
            pw_cursor peek = c;
            size_t left = pw_cur_left(&peek);
            const uint8_t *p = pw_cur_view(&peek, left);
            if (dir == 0 && pw_http2_looks_like(p, left) && h2_start(st)) {
                st->h2_active = true; /* prior knowledge */
                continue;
            }
            if (dir == 1 && h2_server_settings(&c))
                return pw_cur_pos(&c); /* wait for the client's preface */
        }
        if (dir == 0 && !st->app && !st->bare_tls) {
            /* TLS spoken directly on an HTTP port: hand the flow to TLS. */
            pw_cursor peek = c;
            size_t left = pw_cur_left(&peek);
            const uint8_t *p = pw_cur_view(&peek, left);
            if (left < 6 && pw_tls_looks_like(p, left, false))
                return pw_cur_pos(&c);
            if (pw_tls_looks_like(p, left, true)) {
                st->bare_tls = true;
                size_t used = pw_cur_pos(&c);
                return used + to_tls(ctx, st, dir, &c, done);
            }
        }
        if (st->bare_tls) {
            size_t used = pw_cur_pos(&c);
            return used + to_tls(ctx, st, dir, &c, done);
        }
        if (st->tunnel || (dir == 0 && st->connect_pending)) {
            /* In (or about to enter) the tunnel: a TLS record? */
            pw_cursor peek = c;
            size_t left = pw_cur_left(&peek);
            const uint8_t *p = pw_cur_view(&peek, left);
            if (pw_tls_looks_like(p, left, dir == 0)) {
                size_t used = pw_cur_pos(&c);
                return used + to_tls(ctx, st, dir, &c, done);
            }
            if (st->tunnel) {
                if (left < 3)
                    return pw_cur_pos(&c);
                st->dead = true; /* not TLS inside the tunnel: nothing we can read */
                break;
            }
            /* A client with a CONNECT pending: another request may follow. */
        }
        size_t hl = head_len(&c, HTTP_HEAD_MAX);
        if (!hl) {
            if (pw_cur_left(&c) >= HTTP_HEAD_MAX) {
                pw_emit_malformed(ctx, "http: head too long");
                st->dead = true;
                break;
            }
            /* Not HTTP at all?  Decide early rather than wait for 8 KiB. */
            if (dir == 0 && pw_cur_has(&c, 8) && !method_token_start(&c)) {
                pw_emit_malformed(ctx, "http: not an HTTP request");
                st->dead = true;
                break;
            }
            if (dir == 1 && pw_cur_has(&c, 5) && !cur_starts(&c, "HTTP/")) {
                pw_emit_malformed(ctx, "http: not an HTTP response");
                st->dead = true;
                break;
            }
            return pw_cur_pos(&c);
        }
        pw_cursor h = pw_sub(&c, hl);
        bool stop = false;
        bool ok = dir == 0 ? request(ctx, st, &h) : response(ctx, st, &h, &stop);
        if (!ok) {
            pw_emit_malformed(ctx, dir == 0 ? "http: bad request line" : "http: bad status line");
            st->dead = true;
            break;
        }
        if (stop) {
            st->dead = true;
            break;
        }
    }
    *done = true;
    return len;
}

static void http_free(void *state)
{
    http_state *st = state;
    pw_tls_free(&st->tls);
    h2_drop(st);
}

static void http_end(const pw_dctx *ctx, void *state)
{
    http_state *st = state;
    if (st->h2_active)
        pw_http2_end(ctx, st->h2);
}

const pw_dissector pw_dissector_http = {
    .name = "http",
    .transports = PW_DT_TCP,
    .ports = {3128, 8080, 8000, 8888, 80},
    .probe = http_probe,
    .state_size = sizeof(http_state),
    .stream = http_stream,
    .stream_free = http_free,
    .stream_end = http_end,
};
