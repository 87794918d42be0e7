/* smb_pipe.c - DCE/RPC over SMB named pipes (see smb_pipe.h). */
#include "smb_pipe.h"

#include <stdlib.h>
#include <string.h>

#include "dcerpc.h"
#include "ntlmssp.h"

#define SMB2_HDR_LEN 64
#define SMB1_HDR_LEN 32
/* Bytes of a DCE/RPC PDU split over several WRITEs or READs kept until the
 * rest arrives: Windows' largest fragment (max_xmit_frag over TCP). */
#define PIPE_PEND 5840u

enum {
    SMB2_TREE_CONNECT = 0x03, SMB2_CREATE = 0x05, SMB2_CLOSE = 0x06, SMB2_READ = 0x08,
    SMB2_WRITE = 0x09, SMB2_IOCTL = 0x0b
};
enum {
    SMB1_CLOSE = 0x04, SMB1_TRANSACTION = 0x25, SMB1_READ_ANDX = 0x2e, SMB1_WRITE_ANDX = 0x2f,
    SMB1_TREE_CONNECT_ANDX = 0x75, SMB1_NT_CREATE_ANDX = 0xa2
};
enum { PENDING_CREATE = 1, PENDING_READ };
enum { SMB2_SHARE_PIPE = 0x02, TRANS_TRANSACT_NMPIPE = 0x26 };
/* Write mode bits that together say the data starts with a 2-byte message length. */
enum { SMB1_PIPE_RAW_MODE = 0x0004, SMB1_PIPE_START_MESSAGE = 0x0008 };
#define FSCTL_PIPE_TRANSCEIVE 0x0011c017u
#define STATUS_PENDING 0x00000103u
#define STATUS_BUFFER_OVERFLOW 0x80000005u /* a message longer than the read: the rest follows */

typedef struct pw_smb_pipe_io {
    pw_dcerpc_state rpc;
    bool done;               /* the DCE/RPC state wants nothing more */
    bool started;            /* the pipe's first bytes were seen (done unless DCE/RPC) */
    uint16_t plen[2];
    uint8_t pend[2][PIPE_PEND];
} pipe_io;

/* ---- tables ---- */

static int tree_find(const pw_smb_pipes *p, uint32_t tree)
{
    for (int i = 0; i < p->n_trees; i++)
        if (p->trees[i] == tree)
            return i;
    return -1;
}

static bool tree_is_pipe(const pw_smb_pipes *p, uint32_t tree)
{
    int i = tree_find(p, tree);
    return i >= 0 && p->tree_pipe[i];
}

/* A tree connect that was not to IPC$: its files are never pipes. */
static bool tree_is_disk(const pw_smb_pipes *p, uint32_t tree)
{
    int i = tree_find(p, tree);
    return i >= 0 && !p->tree_pipe[i];
}

static void tree_set(pw_smb_pipes *p, uint32_t tree, bool is_pipe)
{
    int i = tree_find(p, tree);
    if (i < 0) {
        if (p->n_trees == PW_SMB_MAX_TREES) { /* the oldest connect goes */
            memmove(p->trees, p->trees + 1, sizeof p->trees[0] * (PW_SMB_MAX_TREES - 1));
            memmove(p->tree_pipe, p->tree_pipe + 1, sizeof p->tree_pipe[0] * (PW_SMB_MAX_TREES - 1));
            p->n_trees--;
        }
        i = p->n_trees++;
        p->trees[i] = tree;
    }
    p->tree_pipe[i] = is_pipe;
}

static pw_smb_pipe *pipe_find(pw_smb_pipes *p, const uint8_t fid[16])
{
    for (int i = 0; i < PW_SMB_MAX_PIPES; i++)
        if (p->pipes[i].io && !memcmp(p->pipes[i].fid, fid, 16)) {
            p->pipes[i].last_use = ++p->clock;
            return &p->pipes[i];
        }
    return NULL;
}

static bool pipe_known(const pw_smb_pipes *p, const uint8_t fid[16])
{
    for (int i = 0; i < PW_SMB_MAX_PIPES; i++)
        if (p->pipes[i].io && !memcmp(p->pipes[i].fid, fid, 16))
            return true;
    return false;
}

static void pipe_close(pw_smb_pipe *pp)
{
    free(pp->io);
    pp->io = NULL;
}

/* A pipe was opened: a slot and a fresh DCE/RPC state for it. */
static void pipe_open(const pw_dctx *ctx, pw_smb_pipes *p, const uint8_t fid[16], const char *name)
{
    pw_smb_pipe *slot = pipe_find(p, fid);
    for (int i = 0; i < PW_SMB_MAX_PIPES && !slot; i++)
        if (!p->pipes[i].io)
            slot = &p->pipes[i];
    if (!slot) {
        slot = &p->pipes[0];
        for (int i = 1; i < PW_SMB_MAX_PIPES; i++)
            if (p->pipes[i].last_use < slot->last_use)
                slot = &p->pipes[i];
        pw_emit_malformed(ctx, "smb: pipe table full");
    }
    pipe_close(slot);
    slot->io = malloc(sizeof *slot->io);
    if (!slot->io) {
        pw_emit_malformed(ctx, "smb: out of memory");
        return;
    }
    pw_dcerpc_init(&slot->io->rpc, name);
    slot->io->done = false;
    slot->io->started = false;
    slot->io->plen[0] = slot->io->plen[1] = 0;
    memcpy(slot->fid, fid, 16);
    slot->last_use = ++p->clock;
}

static void pending_add(pw_smb_pipes *p, uint8_t kind, uint64_t mid, const uint8_t fid[16], const char *name)
{
    pw_smb_pending *e = NULL;
    for (int i = 0; i < PW_SMB_MAX_PENDING && !e; i++)
        if (!p->pending[i].kind || p->pending[i].mid == mid)
            e = &p->pending[i];
    if (!e) { /* requests never answered (or lost): the oldest goes */
        e = &p->pending[p->pending_next];
        p->pending_next = (uint8_t)((p->pending_next + 1) % PW_SMB_MAX_PENDING);
    }
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->mid = mid;
    if (fid)
        memcpy(e->fid, fid, 16);
    if (name)
        memcpy(e->name, name, sizeof e->name);
}

static const pw_smb_pending *pending_find(const pw_smb_pipes *p, uint8_t kind, uint64_t mid)
{
    for (int i = 0; i < PW_SMB_MAX_PENDING; i++)
        if (p->pending[i].kind == kind && p->pending[i].mid == mid)
            return &p->pending[i];
    return NULL;
}

/* The response to a pending request: its entry, taken out of the table
 * (copied to *out), unless it is an interim STATUS_PENDING answer. */
static bool pending_take(pw_smb_pipes *p, uint8_t kind, const pw_smb_hdr *h, pw_smb_pending *out)
{
    const pw_smb_pending *e = pending_find(p, kind, h->mid);
    if (!e || h->status == STATUS_PENDING)
        return false;
    *out = *e;
    memset(&p->pending[e - p->pending], 0, sizeof *e);
    return true;
}

/* ---- feeding the DCE/RPC state ---- */

/* Keeps what the DCE/RPC state left unconsumed of `rest` for the next call. */
static void pipe_keep(const pw_dctx *ctx, pipe_io *io, int dir, pw_cursor rest)
{
    size_t n = pw_cur_left(&rest);
    if (n > PIPE_PEND - io->plen[dir]) {
        pw_emit_malformed(ctx, "smb: pipe PDU too long");
        io->done = true;
        return;
    }
    pw_copy(&rest, io->pend[dir] + io->plen[dir], n);
    io->plen[dir] = (uint16_t)(io->plen[dir] + n);
}

/* Hands bytes written to (dir 0) or read from (dir 1) a pipe to its DCE/RPC
 * state; a PDU split over several SMB messages waits in the pipe's buffer. */
static void pipe_feed(const pw_dctx *ctx, pw_smb_pipe *pp, pw_cursor data)
{
    pipe_io *io = pp->io;
    int dir = ctx->dir ? 1 : 0;
    if (io && !io->started) {
        /* Not every pipe carries DCE/RPC (PsExec's service pipe, the
         * LANMAN and SQL Server pipes): a pipe whose first bytes are not
         * version 5.0 or 5.1 is left alone rather than called malformed. */
        bool v5 = pw_peek_u8(&data, 0) == 5 && (!pw_cur_has(&data, 2) || pw_peek_u8(&data, 1) <= 1);
        io->started = true;
        io->done = !v5;
    }
    while (io && !io->done && pw_cur_left(&data) > 0) {
        bool done = false;
        if (io->plen[dir] == 0) {
            size_t n = pw_cur_left(&data);
            pw_cursor all = pw_sub(&data, n);
            const uint8_t *bytes = pw_cur_view(&all, n);
            size_t used = pw_dcerpc_stream(ctx, &io->rpc, bytes, n, &done);
            pw_cursor rest = pw_cur(bytes, n);
            pw_skip(&rest, used < n ? used : n);
            if (!done)
                pipe_keep(ctx, io, dir, rest);
        } else {
            size_t room = PIPE_PEND - io->plen[dir], left = pw_cur_left(&data);
            size_t take = left < room ? left : room;
            pw_copy(&data, io->pend[dir] + io->plen[dir], take);
            size_t have = io->plen[dir] + take;
            size_t used = pw_dcerpc_stream(ctx, &io->rpc, io->pend[dir], have, &done);
            used = used < have ? used : have;
            memmove(io->pend[dir], io->pend[dir] + used, have - used);
            io->plen[dir] = (uint16_t)(have - used);
            if (!done && used == 0 && have == PIPE_PEND) {
                pw_emit_malformed(ctx, "smb: pipe PDU too long");
                done = true;
            }
        }
        if (done)
            io->done = true;
    }
}

/* The bytes at [off, off+len) of the command (offsets from its header) for a pipe. */
static void feed_range(const pw_dctx *ctx, pw_smb_pipes *p, const uint8_t fid[16], pw_cursor hdr, uint32_t off,
                       uint32_t len)
{
    pw_smb_pipe *pp = pipe_find(p, fid);
    if (!pp || !len)
        return;
    pw_cursor data = pw_at(&hdr, off, len);
    if (!pw_cur_ok(&data)) {
        pw_emit_malformed(ctx, "smb: pipe data out of range");
        return;
    }
    pipe_feed(ctx, pp, data);
}

/* A pipe name ("\PIPE\samr", "\srvsvc", "lsarpc") without its path. */
static void pipe_name(pw_cursor raw, bool unicode, char out[16])
{
    char full[64];
    if (unicode)
        pw_utf16le_to_utf8(raw, full, sizeof full);
    else
        pw_oem_to_utf8(raw, full, sizeof full);
    const char *base = strrchr(full, '\\');
    base = base ? base + 1 : full;
    size_t n = strlen(base);
    if (n > 15)
        n = 15;
    memcpy(out, base, n);
    out[n] = '\0';
}

/* The first bytes of a DCE/RPC bind or alter_context (version 5.0, first
 * fragment, integer and character representation 0x10 or 0x00). */
static bool looks_like_bind(const pw_cursor *c, size_t off)
{
    uint8_t v = pw_peek_u8(c, off), minor = pw_peek_u8(c, off + 1), ptype = pw_peek_u8(c, off + 2);
    uint8_t flags = pw_peek_u8(c, off + 3), drep = pw_peek_u8(c, off + 4);
    return pw_cur_has(c, off + 5) && v == 5 && minor <= 1 && (ptype == 11 || ptype == 14) && (flags & 1) &&
           (drep & 0xef) == 0;
}

/* A pipe this connection opened before the capture began, found by its traffic. */
static pw_smb_pipe *pipe_found(const pw_dctx *ctx, pw_smb_pipes *p, const uint8_t fid[16])
{
    pw_smb_pipe *pp = pipe_find(p, fid);
    if (!pp) {
        pipe_open(ctx, p, fid, "?");
        pp = pipe_find(p, fid);
    }
    return pp;
}

/* ---- SMB2 ---- */

/* The 16-byte FileId at `off` of an SMB2 message names a known pipe. */
static bool peek_pipe(const pw_smb_pipes *p, const pw_cursor *c, size_t off)
{
    pw_cursor at = pw_at(c, pw_cur_pos(c) + off, 16);
    uint8_t id[16];
    return pw_copy(&at, id, 16) && pipe_known(p, id);
}

/* A request with this MessageId / MID waits for its data. */
static bool mid_pending(const pw_smb_pipes *p, uint64_t mid)
{
    return pending_find(p, PENDING_READ, mid) != NULL;
}

bool pw_smb2_pipe_wants(const pw_smb_pipes *p, const pw_cursor *c)
{
    uint16_t cmd = 0;
    uint32_t flags = 0, next = 0, ctl = 0, lo = 0, hi = 0;
    pw_peek_le16(c, 12, &cmd);
    pw_peek_le32(c, 16, &flags);
    pw_peek_le32(c, 20, &next);
    pw_peek_le32(c, 24, &lo);
    pw_peek_le32(c, 28, &hi);
    bool resp = flags & 1;
    if (next)
        return true; /* compound: small metadata chains, read them all */
    switch (cmd) {
    case SMB2_TREE_CONNECT: case SMB2_CREATE: case SMB2_CLOSE:
        return true;
    case SMB2_READ:
        return resp ? mid_pending(p, (uint64_t)hi << 32 | lo) : peek_pipe(p, c, SMB2_HDR_LEN + 16);
    case SMB2_WRITE: { /* to a known pipe, or a bind to one opened before the capture */
        uint32_t tree = 0;
        pw_peek_le32(c, 36, &tree);
        return !resp && (peek_pipe(p, c, SMB2_HDR_LEN + 16) ||
                         (!(flags & 2) && !tree_is_disk(p, tree) && looks_like_bind(c, SMB2_HDR_LEN + 48)));
    }
    case SMB2_IOCTL:
        return pw_peek_le32(c, SMB2_HDR_LEN + 4, &ctl) && ctl == FSCTL_PIPE_TRANSCEIVE;
    default:
        return false;
    }
}

static void smb2_create(const pw_dctx *ctx, pw_smb_pipes *p, const pw_smb_hdr *h, pw_cursor hdr)
{
    pw_cursor b = pw_at(&hdr, SMB2_HDR_LEN, hdr.len > SMB2_HDR_LEN ? hdr.len - SMB2_HDR_LEN : 0);
    if (!h->resp) {
        if (!tree_is_pipe(p, h->tree))
            return;
        pw_skip(&b, 44);
        uint16_t off = pw_le16(&b), len = pw_le16(&b);
        pw_cursor raw = pw_at(&hdr, off, len);
        if (!pw_cur_ok(&b) || !pw_cur_ok(&raw)) {
            pw_emit_malformed(ctx, "smb: truncated CREATE");
            return;
        }
        char name[16];
        pipe_name(raw, true, name);
        pending_add(p, PENDING_CREATE, h->mid, NULL, name);
        return;
    }
    pw_smb_pending e;
    if (!pending_take(p, PENDING_CREATE, h, &e) || h->status != 0)
        return;
    uint16_t ss = pw_le16(&b);
    pw_skip(&b, 62);
    uint8_t fid[16];
    if (!pw_copy(&b, fid, 16) || ss != 89) {
        pw_emit_malformed(ctx, "smb: truncated CREATE response");
        return;
    }
    pipe_open(ctx, p, fid, e.name);
}

/* READ request (remember which pipe) or response (its data). */
static void smb2_read(const pw_dctx *ctx, pw_smb_pipes *p, const pw_smb_hdr *h, pw_cursor hdr)
{
    pw_cursor b = pw_at(&hdr, SMB2_HDR_LEN, hdr.len > SMB2_HDR_LEN ? hdr.len - SMB2_HDR_LEN : 0);
    if (!h->resp) {
        pw_skip(&b, 16);
        uint8_t fid[16];
        if (pw_copy(&b, fid, 16) && pipe_known(p, fid))
            pending_add(p, PENDING_READ, h->mid, fid, NULL);
        return;
    }
    pw_smb_pending e;
    if (!pending_take(p, PENDING_READ, h, &e) || (h->status != 0 && h->status != STATUS_BUFFER_OVERFLOW))
        return;
    uint16_t ss = pw_le16(&b);
    uint8_t off = pw_u8(&b);
    pw_u8(&b);
    uint32_t len = pw_le32(&b);
    if (!pw_cur_ok(&b) || ss != 17) {
        pw_emit_malformed(ctx, "smb: truncated READ response");
        return;
    }
    feed_range(ctx, p, e.fid, hdr, off, len);
}

static void smb2_write(const pw_dctx *ctx, pw_smb_pipes *p, const pw_smb_hdr *h, pw_cursor hdr)
{
    if (h->resp)
        return;
    pw_cursor b = pw_at(&hdr, SMB2_HDR_LEN, hdr.len > SMB2_HDR_LEN ? hdr.len - SMB2_HDR_LEN : 0);
    uint16_t ss = pw_le16(&b), off = pw_le16(&b);
    uint32_t len = pw_le32(&b);
    pw_skip(&b, 8);
    uint8_t fid[16];
    if (!pw_copy(&b, fid, 16) || ss != 49) {
        if (pipe_known(p, fid))
            pw_emit_malformed(ctx, "smb: truncated WRITE");
        return;
    }
    if (!pipe_known(p, fid) && h->tree && !tree_is_disk(p, h->tree) && looks_like_bind(&hdr, off))
        pipe_found(ctx, p, fid);
    feed_range(ctx, p, fid, hdr, off, len);
}

/* FSCTL_PIPE_TRANSCEIVE: the request's input is written to the pipe, the
 * response's output read from it. */
static void smb2_ioctl(const pw_dctx *ctx, pw_smb_pipes *p, const pw_smb_hdr *h, pw_cursor hdr)
{
    if (h->resp && h->status != 0 && h->status != STATUS_BUFFER_OVERFLOW)
        return; /* STATUS_PENDING interim answers and errors carry no output */
    pw_cursor b = pw_at(&hdr, SMB2_HDR_LEN, hdr.len > SMB2_HDR_LEN ? hdr.len - SMB2_HDR_LEN : 0);
    uint16_t ss = pw_le16(&b);
    pw_skip(&b, 2);
    uint32_t ctl = pw_le32(&b);
    uint8_t fid[16];
    pw_copy(&b, fid, 16);
    uint32_t in_off = pw_le32(&b), in_len = pw_le32(&b);
    uint32_t out_off = pw_le32(&b), out_len = pw_le32(&b);
    if (ctl != FSCTL_PIPE_TRANSCEIVE)
        return;
    if (!pw_cur_ok(&b) || ss != (h->resp ? 49 : 57)) {
        pw_emit_malformed(ctx, "smb: truncated IOCTL");
        return;
    }
    if (h->resp) {
        feed_range(ctx, p, fid, hdr, out_off, out_len);
    } else {
        pipe_found(ctx, p, fid); /* a transceive is always on a pipe */
        feed_range(ctx, p, fid, hdr, in_off, in_len);
    }
}

static void smb2_tree_or_close(const pw_dctx *ctx, pw_smb_pipes *p, const pw_smb_hdr *h, pw_cursor hdr)
{
    pw_cursor b = pw_at(&hdr, SMB2_HDR_LEN, hdr.len > SMB2_HDR_LEN ? hdr.len - SMB2_HDR_LEN : 0);
    uint16_t ss = pw_le16(&b);
    if (h->cmd == SMB2_TREE_CONNECT) {
        uint8_t type = pw_u8(&b);
        if (h->resp && h->status == 0 && h->tree) {
            if (pw_cur_ok(&b) && ss == 16)
                tree_set(p, h->tree, type == SMB2_SHARE_PIPE);
            else
                pw_emit_malformed(ctx, "smb: truncated TREE_CONNECT response");
        }
        return;
    }
    if (h->resp)
        return;
    pw_skip(&b, 6); /* Flags, Reserved */
    uint8_t fid[16];
    pw_smb_pipe *pp = pw_copy(&b, fid, 16) && ss == 24 ? pipe_find(p, fid) : NULL;
    if (pp)
        pipe_close(pp);
}

void pw_smb2_pipe_cmd(const pw_dctx *ctx, pw_smb_pipes *p, const pw_smb_hdr *h, pw_cursor hdr)
{
    switch (h->cmd) {
    case SMB2_TREE_CONNECT: case SMB2_CLOSE: smb2_tree_or_close(ctx, p, h, hdr); break;
    case SMB2_CREATE: smb2_create(ctx, p, h, hdr); break;
    case SMB2_READ: smb2_read(ctx, p, h, hdr); break;
    case SMB2_WRITE: smb2_write(ctx, p, h, hdr); break;
    case SMB2_IOCTL: smb2_ioctl(ctx, p, h, hdr); break;
    default: break;
    }
}

/* ---- SMB1 ---- */

static void fid1(uint16_t fid, uint8_t out[16])
{
    memset(out, 0, 16);
    out[0] = (uint8_t)fid;
    out[1] = (uint8_t)(fid >> 8);
}

bool pw_smb1_pipe_wants(const pw_smb_pipes *p, const pw_cursor *c)
{
    uint8_t cmd = pw_peek_u8(c, 4), flags = pw_peek_u8(c, 9);
    uint16_t mid = 0, fid = 0, sub = 0;
    uint8_t id[16];
    pw_peek_le16(c, 30, &mid);
    if (flags & 0x80) /* responses: the ones a pipe request waits for */
        return cmd == SMB1_TREE_CONNECT_ANDX || cmd == SMB1_NT_CREATE_ANDX ||
               ((cmd == SMB1_TRANSACTION || cmd == SMB1_READ_ANDX) && mid_pending(p, mid));
    switch (cmd) {
    case SMB1_TREE_CONNECT_ANDX: case SMB1_NT_CREATE_ANDX: case SMB1_CLOSE:
        return true;
    case SMB1_TRANSACTION: /* Setup[0] (subcommand) and Setup[1] (FID) */
        if (!pw_peek_le16(c, SMB1_HDR_LEN + 1 + 28, &sub) || !pw_peek_le16(c, SMB1_HDR_LEN + 1 + 30, &fid))
            return false;
        return sub == TRANS_TRANSACT_NMPIPE;
    case SMB1_READ_ANDX:
    case SMB1_WRITE_ANDX:
        if (!pw_peek_le16(c, SMB1_HDR_LEN + 1 + 4, &fid))
            return false;
        fid1(fid, id);
        return pipe_known(p, id);
    default:
        return false;
    }
}

/* The parameter words and data bytes of an SMB1 message. */
typedef struct smb1_body {
    uint8_t wc;
    pw_cursor words, bytes;
} smb1_body;

static bool smb1_body_of(pw_cursor m, smb1_body *b)
{
    pw_skip(&m, SMB1_HDR_LEN);
    b->wc = pw_u8(&m);
    b->words = pw_sub(&m, (size_t)b->wc * 2);
    uint16_t bc = pw_le16(&m);
    b->bytes = pw_sub(&m, bc);
    return pw_cur_ok(&m);
}

static void smb1_tree_connect(pw_smb_pipes *p, const pw_smb_hdr *h, smb1_body *b)
{
    if (!h->resp || h->status != 0)
        return;
    char service[8];
    pw_oem_to_utf8(b->bytes, service, sizeof service);
    tree_set(p, h->tree, !strcmp(service, "IPC"));
}

static void smb1_create(const pw_dctx *ctx, pw_smb_pipes *p, const pw_smb_hdr *h, smb1_body *b)
{
    if (!h->resp) {
        if (!tree_is_pipe(p, h->tree))
            return;
        pw_skip(&b->words, 5);
        uint16_t nlen = pw_le16(&b->words);
        /* A Unicode name is aligned on 2 bytes from the header's start, and
         * the bytes begin at an odd offset (32 + 1 + 2 * wc + 2): one pad. */
        if (h->unicode)
            pw_skip(&b->bytes, 1);
        size_t left = pw_cur_left(&b->bytes);
        pw_cursor raw = pw_sub(&b->bytes, nlen < left ? nlen : left);
        if (!pw_cur_ok(&b->words) || b->wc != 24) {
            pw_emit_malformed(ctx, "smb: truncated NT_CREATE_ANDX");
            return;
        }
        char name[16];
        pipe_name(raw, h->unicode, name);
        pending_add(p, PENDING_CREATE, h->mid, NULL, name);
        return;
    }
    pw_smb_pending e;
    if (!pending_take(p, PENDING_CREATE, h, &e) || h->status != 0)
        return;
    pw_skip(&b->words, 5);
    uint16_t fid = pw_le16(&b->words);
    uint8_t id[16];
    fid1(fid, id);
    if (pw_cur_ok(&b->words))
        pipe_open(ctx, p, id, e.name);
    else
        pw_emit_malformed(ctx, "smb: truncated NT_CREATE_ANDX response");
}

/* TRANSACTION with TransactNmPipe: the request's data is written to the
 * pipe, the response's data read from it (matched by MID). */
static void smb1_trans(const pw_dctx *ctx, pw_smb_pipes *p, const pw_smb_hdr *h, pw_cursor m, smb1_body *b)
{
    uint8_t id[16];
    pw_skip(&b->words, h->resp ? 12 : 22);
    uint16_t dlen = pw_le16(&b->words), doff = pw_le16(&b->words);
    if (!h->resp) {
        pw_u8(&b->words);  /* SetupCount (checked through the words read) */
        pw_u8(&b->words);
        uint16_t sub = pw_le16(&b->words), fid = pw_le16(&b->words);
        fid1(fid, id);
        if (!pw_cur_ok(&b->words) || sub != TRANS_TRANSACT_NMPIPE || !pipe_found(ctx, p, id))
            return;
        pending_add(p, PENDING_READ, h->mid, id, NULL);
    } else {
        pw_smb_pending e;
        if (!pending_take(p, PENDING_READ, h, &e))
            return;
        if ((h->status != 0 && h->status != STATUS_BUFFER_OVERFLOW) || !pw_cur_ok(&b->words))
            return;
        memcpy(id, e.fid, 16);
    }
    feed_range(ctx, p, id, m, doff, dlen);
}

/* WRITE_ANDX to a pipe, READ_ANDX request (which pipe) and response (its data). */
static void smb1_rw(const pw_dctx *ctx, pw_smb_pipes *p, const pw_smb_hdr *h, pw_cursor m, smb1_body *b)
{
    uint8_t id[16];
    if (h->cmd == SMB1_READ_ANDX && h->resp) {
        pw_smb_pending e;
        if (!pending_take(p, PENDING_READ, h, &e) || (h->status != 0 && h->status != STATUS_BUFFER_OVERFLOW))
            return;
        pw_skip(&b->words, 10);
        uint16_t dlen = pw_le16(&b->words), doff = pw_le16(&b->words);
        if (pw_cur_ok(&b->words))
            feed_range(ctx, p, e.fid, m, doff, dlen);
        return;
    }
    if (h->resp)
        return;
    pw_skip(&b->words, 4);
    fid1(pw_le16(&b->words), id);
    if (!pw_cur_ok(&b->words) || !pipe_known(p, id))
        return;
    if (h->cmd == SMB1_READ_ANDX) {
        pending_add(p, PENDING_READ, h->mid, id, NULL);
        return;
    }
    pw_skip(&b->words, 8);
    uint16_t mode = pw_le16(&b->words);
    pw_skip(&b->words, 4);
    uint16_t dlen = pw_le16(&b->words), doff = pw_le16(&b->words);
    if (!pw_cur_ok(&b->words)) {
        pw_emit_malformed(ctx, "smb: truncated WRITE_ANDX");
        return;
    }
    /* Raw mode at a message start: the data begins with the message length. */
    if ((mode & (SMB1_PIPE_RAW_MODE | SMB1_PIPE_START_MESSAGE)) == (SMB1_PIPE_RAW_MODE | SMB1_PIPE_START_MESSAGE) &&
        dlen >= 2)
        doff = (uint16_t)(doff + 2), dlen = (uint16_t)(dlen - 2);
    feed_range(ctx, p, id, m, doff, dlen);
}

void pw_smb1_pipe_cmd(const pw_dctx *ctx, pw_smb_pipes *p, const pw_smb_hdr *h, pw_cursor m)
{
    smb1_body b;
    if (!smb1_body_of(m, &b)) {
        if (h->cmd != SMB1_CLOSE || !h->resp)
            pw_emit_malformed(ctx, "smb: truncated SMB1 message");
        return;
    }
    switch (h->cmd) {
    case SMB1_TREE_CONNECT_ANDX: smb1_tree_connect(p, h, &b); break;
    case SMB1_NT_CREATE_ANDX: smb1_create(ctx, p, h, &b); break;
    case SMB1_TRANSACTION: smb1_trans(ctx, p, h, m, &b); break;
    case SMB1_READ_ANDX: case SMB1_WRITE_ANDX: smb1_rw(ctx, p, h, m, &b); break;
    case SMB1_CLOSE: {
        uint8_t id[16];
        fid1(pw_le16(&b.words), id);
        pw_smb_pipe *pp = !h->resp && pw_cur_ok(&b.words) ? pipe_find(p, id) : NULL;
        if (pp)
            pipe_close(pp);
        break;
    }
    default: break;
    }
}

bool pw_smb_pipes_any(const pw_smb_pipes *p)
{
    for (int i = 0; i < p->n_trees && i < PW_SMB_MAX_TREES; i++)
        if (p->tree_pipe[i])
            return true;
    for (int i = 0; i < PW_SMB_MAX_PIPES; i++)
        if (p->pipes[i].io)
            return true;
    return false;
}

void pw_smb_pipes_free(pw_smb_pipes *p)
{
    for (int i = 0; i < PW_SMB_MAX_PIPES; i++)
        pipe_close(&p->pipes[i]);
}
