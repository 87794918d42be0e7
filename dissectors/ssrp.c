/* ssrp.c - SQL Server Resolution Protocol (MS-SQLR), the SQL Server Browser
 * on UDP 1434.
 *
 * Clients ask with a one-byte opcode, optionally followed by an instance name:
 *   CLNT_BCAST_EX (0x02), CLNT_UCAST_EX (0x03): every instance;
 *   CLNT_UCAST_INST (0x04) + instance name, NUL-terminated, at most 32 bytes;
 *   CLNT_UCAST_DAC (0x0F) + protocol version (0x01) + instance name.
 * The server answers with SVR_RESP (0x05), RESP_SIZE (LE16) and RESP_DATA,
 * a text of instance records
 *   ServerName;SQL01;InstanceName;NETWRIX;IsClustered;No;Version;15.0.2000.5;tcp;50123;;
 * each a list of key;value; pairs ended by an empty key (";;"), or, to a DAC
 * request, 0x05, RESP_SIZE 6, version 0x01 and the DAC's TCP port (LE16).
 *
 * Emits PW_EV_APP "sql_browser" and one PW_EV_SSRP per message.  Records cut
 * by the end of RESP_DATA are not reported (the complete ones are) and the
 * message is also counted as malformed; so is an instance name longer than
 * the protocol allows (the SQL Slammer worm's CLNT_UCAST_INST). */
#include "ssrp.h"

#include <string.h>
#include <strings.h>

#include "dissector.h"

enum {
    OP_BCAST_EX = 0x02, OP_UCAST_EX = 0x03, OP_UCAST_INST = 0x04, OP_SVR_RESP = 0x05,
    OP_UCAST_DAC = 0x0f
};
#define INSTANCE_NAME_MAX 32 /* bytes before the NUL in a request */
#define DAC_RESP_SIZE 6      /* the whole DAC answer, as its RESP_SIZE says */
#define DAC_VERSION 1

/* Copies one byte as printable ASCII into dst (capacity cap, NUL kept);
 * returns false when it did not fit. */
static bool put_char(char *dst, size_t cap, size_t *o, uint8_t b)
{
    if (*o + 1 >= cap)
        return false;
    dst[(*o)++] = (b >= 0x20 && b < 0x7f) ? (char)b : '?';
    dst[*o] = '\0';
    return true;
}

/* ---- requests ---- */

/* The NUL-terminated instance name of CLNT_UCAST_INST / CLNT_UCAST_DAC. */
static bool instance_name(const pw_dctx *ctx, pw_cursor *c, char dst[33])
{
    size_t o = 0;
    dst[0] = '\0';
    for (size_t i = 0; i <= INSTANCE_NAME_MAX; i++) {
        uint8_t b = pw_u8(c);
        if (!pw_cur_ok(c)) {
            pw_emit_malformed(ctx, "ssrp: instance name not terminated");
            return o > 0; /* the name as far as it went is still the request */
        }
        if (b == 0)
            return true;
        if (i == INSTANCE_NAME_MAX)
            break;
        put_char(dst, 33, &o, b);
    }
    pw_emit_malformed(ctx, "ssrp: instance name longer than 32 bytes");
    return false;
}

static void request(const pw_dctx *ctx, uint8_t op, pw_cursor c, pw_event *ev)
{
    pw_ev_ssrp *s = &ev->u.ssrp;
    switch (op) {
    case OP_BCAST_EX:
    case OP_UCAST_EX:
        s->kind = op == OP_BCAST_EX ? PW_SSRP_BCAST_EX : PW_SSRP_UCAST_EX;
        break;
    case OP_UCAST_INST:
        s->kind = PW_SSRP_UCAST_INST;
        if (!instance_name(ctx, &c, s->instance))
            return;
        break;
    default: /* OP_UCAST_DAC */
        s->kind = PW_SSRP_UCAST_DAC;
        s->dac_version = pw_u8(&c);
        if (!pw_cur_ok(&c)) {
            pw_emit_malformed(ctx, "ssrp: truncated CLNT_UCAST_DAC");
            return;
        }
        if (!instance_name(ctx, &c, s->instance))
            return;
        break;
    }
    pw_emit_app(ctx, "sql_browser");
    pw_emit(ctx, ev);
    if (pw_cur_left(&c))
        pw_emit_malformed(ctx, "ssrp: bytes after the request");
}

/* ---- responses ---- */

/* Reads one ';'-terminated token into dst (cut to cap, *cut says so);
 * returns false, consuming the rest, when no ';' ends it. */
static bool token(pw_cursor *c, char *dst, size_t cap, bool *cut)
{
    size_t o = 0;
    if (cap)
        dst[0] = '\0';
    while (pw_cur_left(c)) {
        uint8_t b = pw_u8(c);
        if (b == ';')
            return true;
        if (!put_char(dst, cap, &o, b))
            *cut = true;
    }
    return false;
}

/* Keys MS-SQLR defines, compared without case (servers send "ServerName",
 * "tcp"...); the values of each protocol key. */
enum { K_UNKNOWN, K_SERVER, K_INSTANCE, K_CLUSTERED, K_VERSION, K_TCP, K_NP, K_VIA, K_RPC, K_SPX, K_ADSP, K_BV };
static int key_of(const char *k)
{
    static const struct { const char *name; int key; } keys[] = {
        {"ServerName", K_SERVER}, {"InstanceName", K_INSTANCE}, {"IsClustered", K_CLUSTERED},
        {"Version", K_VERSION},   {"tcp", K_TCP},               {"np", K_NP},
        {"via", K_VIA},           {"rpc", K_RPC},               {"spx", K_SPX},
        {"adsp", K_ADSP},         {"bv", K_BV},
    };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (strcasecmp(k, keys[i].name) == 0)
            return keys[i].key;
    return K_UNKNOWN;
}

/* A TCP port: 1 to 5 digits, 1..65535; 0 when not one. */
static uint16_t port_of(const char *v)
{
    uint32_t p = 0;
    size_t n = strlen(v);
    if (n == 0 || n > 5)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return 0;
        p = p * 10 + (uint32_t)(v[i] - '0');
    }
    return p <= 0xffff ? (uint16_t)p : 0;
}

/* Reads the value of `key` into the record.  Returns false when RESP_DATA
 * ends inside it. */
static bool value(pw_cursor *c, int key, pw_ssrp_instance *in)
{
    char v[96];
    bool cut = false, ok = true;
    switch (key) {
    case K_SERVER: ok = token(c, in->server_name, sizeof in->server_name, &cut); break;
    case K_INSTANCE: ok = token(c, in->instance, sizeof in->instance, &cut); break;
    case K_VERSION: ok = token(c, in->version, sizeof in->version, &cut); break;
    case K_NP:
        ok = token(c, in->np, sizeof in->np, &cut);
        in->protocols |= PW_SSRP_PROTO_NP;
        break;
    case K_CLUSTERED:
        ok = token(c, v, sizeof v, &cut);
        in->is_clustered = strcasecmp(v, "Yes") == 0;
        break;
    case K_TCP:
    {
        ok = token(c, v, sizeof v, &cut);
        uint16_t port = cut ? 0 : port_of(v);
        if (port) {
            in->tcp_port = port;
            in->protocols |= PW_SSRP_PROTO_TCP;
        } else {
            cut = true; /* announced, but not a port (a valid one seen before stays) */
        }
        break;
    }
    case K_BV:
        /* bv;item;group; : two values */
        ok = token(c, v, sizeof v, &cut) && token(c, v, sizeof v, &cut);
        in->protocols |= PW_SSRP_PROTO_BV;
        break;
    default:
        ok = token(c, v, sizeof v, &cut);
        in->protocols |= key == K_VIA ? PW_SSRP_PROTO_VIA : key == K_RPC ? PW_SSRP_PROTO_RPC
                       : key == K_SPX ? PW_SSRP_PROTO_SPX : key == K_ADSP ? PW_SSRP_PROTO_ADSP : 0;
        break;
    }
    if (cut)
        in->truncated = true;
    return ok;
}

typedef enum { REC_OK, REC_CUT, REC_EMPTY } rec_result;

/* One instance record up to its ";;".  REC_CUT when RESP_DATA ends first. */
static rec_result record(pw_cursor *c, pw_ssrp_instance *in)
{
    memset(in, 0, sizeof *in);
    for (int fields = 0;; fields++) {
        char k[16];
        bool cut = false;
        if (!token(c, k, sizeof k, &cut))
            return REC_CUT;
        if (k[0] == '\0' && !cut)
            return fields ? REC_OK : REC_EMPTY;
        if (!value(c, cut ? K_UNKNOWN : key_of(k), in))
            return REC_CUT;
    }
}

/* True when only NUL padding is left. */
static bool only_padding(const pw_cursor *c)
{
    for (size_t i = 0; i < pw_cur_left(c); i++)
        if (pw_peek_u8(c, i) != 0)
            return false;
    return true;
}

static void svr_resp(const pw_dctx *ctx, pw_cursor c, pw_event *ev)
{
    pw_ev_ssrp *s = &ev->u.ssrp;
    s->resp_size = pw_le16(&c);
    if (!pw_cur_ok(&c)) {
        pw_emit_malformed(ctx, "ssrp: truncated SVR_RESP");
        return;
    }
    if (s->resp_size == DAC_RESP_SIZE && pw_peek_u8(&c, 0) == DAC_VERSION) {
        s->kind = PW_SSRP_DAC_RESPONSE;
        s->dac_version = pw_u8(&c);
        s->dac_port = pw_le16(&c);
        if (!pw_cur_ok(&c)) {
            pw_emit_malformed(ctx, "ssrp: truncated DAC response");
            return;
        }
        pw_emit_app(ctx, "sql_browser");
        pw_emit(ctx, ev);
        if (pw_cur_left(&c))
            pw_emit_malformed(ctx, "ssrp: bytes after the DAC response");
        return;
    }
    s->kind = PW_SSRP_RESPONSE;
    size_t left = pw_cur_left(&c);
    bool short_data = s->resp_size > left;
    bool extra = s->resp_size < left;
    pw_cursor data = pw_sub(&c, short_data ? left : s->resp_size);
    bool cut = false;
    while (pw_cur_left(&data) && !only_padding(&data)) {
        pw_ssrp_instance in;
        rec_result r = record(&data, &in);
        if (r == REC_CUT) {
            cut = true;
            break;
        }
        if (r == REC_EMPTY || (!in.server_name[0] && !in.instance[0]))
            continue; /* a stray ";" or a record naming nothing */
        if (s->n_instances < PW_SSRP_MAX_INSTANCES)
            s->instances[s->n_instances++] = in;
        else if (s->more_instances < UINT16_MAX)
            s->more_instances++;
    }
    if (s->n_instances == 0 && !cut && !short_data) {
        pw_emit_malformed(ctx, "ssrp: SVR_RESP without an instance record");
        return;
    }
    if (s->n_instances) {
        pw_emit_app(ctx, "sql_browser");
        pw_emit(ctx, ev);
    }
    if (short_data)
        pw_emit_malformed(ctx, "ssrp: RESP_DATA cut short");
    else if (cut)
        pw_emit_malformed(ctx, "ssrp: unterminated instance record");
    else if (extra)
        pw_emit_malformed(ctx, "ssrp: bytes after RESP_DATA");
}

static void ssrp_datagram(const pw_dctx *ctx, const uint8_t *data, size_t len)
{
    pw_cursor c = pw_cur(data, len);
    uint8_t op = pw_u8(&c);
    if (!pw_cur_ok(&c))
        return;
    if (op != OP_BCAST_EX && op != OP_UCAST_EX && op != OP_UCAST_INST && op != OP_UCAST_DAC &&
        op != OP_SVR_RESP) {
        pw_emit_malformed(ctx, "ssrp: unknown message type");
        return;
    }
    pw_event ev;
    pw_event_init(&ev, ctx, PW_EV_SSRP);
    ev.u.ssrp.opcode = op;
    if (op == OP_SVR_RESP)
        svr_resp(ctx, pw_rest(&c), &ev);
    else
        request(ctx, op, pw_rest(&c), &ev);
}

bool pw_ssrp_is_response(const uint8_t *data, size_t len)
{
    static const char server_key[] = "servername;";
    pw_cursor c = pw_cur(data, len);
    uint8_t op = pw_u8(&c);
    uint16_t size = pw_le16(&c);
    if (!pw_cur_ok(&c) || op != OP_SVR_RESP)
        return false;
    if (size == DAC_RESP_SIZE && pw_cur_left(&c) == 3 && pw_peek_u8(&c, 0) == DAC_VERSION)
        return true;
    for (size_t i = 0; i < sizeof server_key - 1; i++) {
        uint8_t b = pw_u8(&c);
        if (!pw_cur_ok(&c) || (b | 0x20) != (uint8_t)server_key[i])
            return false;
    }
    return true;
}

const pw_dissector pw_dissector_ssrp = {
    .name = "ssrp",
    .transports = PW_DT_UDP,
    .ports = {1434},
    .datagram = ssrp_datagram,
};
