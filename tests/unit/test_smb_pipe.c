/* test_smb_pipe.c - DCE/RPC over SMB named pipes on hand-built bytes: SMB2
 * CREATE + WRITE + READ (with STATUS_PENDING and a split fragment), IOCTL
 * FSCTL_PIPE_TRANSCEIVE in compound messages with an endpoint-mapper answer,
 * SMB1 TransactNmPipe and WRITE_ANDX / READ_ANDX, the bounds of the pipe
 * table, and truncation / corruption of every byte. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/dissector.h"
#include "check.h"

#define NTLM_BUF_SIZE 16384
#include "ntlm_build.h"
#include "rpc_build.h"

#define FEED_DISSECTOR pw_dissector_smb
#define FEED_PEND 200000
#define FEED_STOP_WHEN_DONE 0
#define FEED_FIRST_FRAME 1
#define FEED_FRAME_STEP 1
#include "feed_harness.h"

#define SRVSVC "4b324fc8-1670-01d3-1278-5a47bf6ee188"
#define TREE_IPC 5
#define TREE_DISK 7
#define STATUS_PENDING 0x00000103u
#define STATUS_BUFFER_OVERFLOW 0x80000005u
#define FSCTL_PIPE_TRANSCEIVE 0x0011c017u

static const uint8_t ip9[4] = {10, 0, 0, 9};

/* ---- SMB2 builders ---- */
static void nbss(buf *out, const buf *msg)
{
    put8(out, 0), put8(out, (uint8_t)(msg->n >> 16)), put16be(out, (uint16_t)msg->n);
    putn(out, msg->b, msg->n);
}

static void hdr2(buf *m, uint16_t cmd, bool resp, uint32_t status, uint64_t mid, uint32_t tree, bool async)
{
    putn(m, "\xfeSMB", 4), put16(m, 64), put16(m, 1), put32(m, status);
    put16(m, cmd), put16(m, 1), put32(m, (resp ? 1u : 0u) | (async ? 2u : 0u)), put32(m, 0);
    put64(m, mid);
    if (async)
        put64(m, 0x77);
    else
        put32(m, 0xfeff), put32(m, tree);
    put64(m, 0x0000100000000011ull), zeros(m, 16);
}

static void fid_of(uint8_t fid[16], uint8_t n)
{
    memset(fid, 0, 16);
    fid[0] = n, fid[8] = (uint8_t)(0x80 | n);
}

static void tree_resp(buf *m, uint64_t mid, uint32_t tree, uint8_t type)
{
    hdr2(m, 3, true, 0, mid, tree, false);
    put16(m, 16), put8(m, type), put8(m, 0), put32(m, 0x30), put32(m, 0), put32(m, 0x1f01ff);
}

static void create_req(buf *m, uint64_t mid, uint32_t tree, const char *name)
{
    size_t base = m->n;
    hdr2(m, 5, false, 0, mid, tree, false);
    put16(m, 57), put8(m, 0), put8(m, 0), put32(m, 2), put64(m, 0), put64(m, 0);
    put32(m, 0x12019f), put32(m, 0), put32(m, 7), put32(m, 1), put32(m, 0x400040);
    size_t at = m->n;
    put16(m, 120), put16(m, 0), put32(m, 0), put32(m, 0);
    set16(m, at + 2, (uint16_t)put_utf16(m, name));
    (void)base;
}

static void create_resp(buf *m, uint64_t mid, uint32_t tree, const uint8_t fid[16])
{
    hdr2(m, 5, true, 0, mid, tree, false);
    put16(m, 89), put8(m, 0), put8(m, 0), put32(m, 1), zeros(m, 48), put32(m, 0x80), put32(m, 0);
    putn(m, fid, 16), put32(m, 0), put32(m, 0);
}

static void write_req(buf *m, uint64_t mid, uint32_t tree, const uint8_t fid[16], const buf *data)
{
    hdr2(m, 9, false, 0, mid, tree, false);
    put16(m, 49), put16(m, 112), put32(m, (uint32_t)data->n), put64(m, 0);
    putn(m, fid, 16), put32(m, 0), put32(m, 0), put16(m, 0), put16(m, 0), put32(m, 0);
    putn(m, data->b, data->n);
}

static void read_req(buf *m, uint64_t mid, uint32_t tree, const uint8_t fid[16])
{
    hdr2(m, 8, false, 0, mid, tree, false);
    put16(m, 49), put8(m, 0x50), put8(m, 0), put32(m, 4280), put64(m, 0);
    putn(m, fid, 16), put32(m, 0), put32(m, 0), put32(m, 0), put16(m, 0), put16(m, 0), put8(m, 0);
}

static void read_resp(buf *m, uint64_t mid, uint32_t status, bool async, const buf *data)
{
    hdr2(m, 8, true, status, mid, TREE_IPC, async);
    if (!data) { /* interim / error body */
        put16(m, 9), put8(m, 0), put8(m, 0), put32(m, 0), put8(m, 0);
        return;
    }
    put16(m, 17), put8(m, 80), put8(m, 0), put32(m, (uint32_t)data->n), put32(m, 0), put32(m, 0);
    putn(m, data->b, data->n);
}

static void ioctl_msg(buf *m, bool resp, uint64_t mid, uint32_t status, const uint8_t fid[16], const buf *data)
{
    size_t base = m->n;
    hdr2(m, 11, resp, status, mid, TREE_IPC, false);
    uint32_t off = 64 + (resp ? 48 : 56);
    put16(m, resp ? 49 : 57), put16(m, 0), put32(m, FSCTL_PIPE_TRANSCEIVE), putn(m, fid, 16);
    if (resp)
        put32(m, off), put32(m, 0), put32(m, off), put32(m, (uint32_t)data->n), put32(m, 0), put32(m, 0);
    else
        put32(m, off), put32(m, (uint32_t)data->n), put32(m, 0), put32(m, 0), put32(m, 0), put32(m, 4280),
            put32(m, 1), put32(m, 0);
    CHECK_INT(m->n - base, off);
    putn(m, data->b, data->n);
}

static void close_req(buf *m, uint64_t mid, const uint8_t fid[16])
{
    hdr2(m, 6, false, 0, mid, TREE_IPC, false);
    put16(m, 24), put16(m, 0), put32(m, 0), putn(m, fid, 16);
}

/* Ends a compound member: pads it to 8 bytes and sets its NextCommand. */
static void chain(buf *m, size_t start)
{
    while ((m->n - start) % 8)
        put8(m, 0);
    set32(m, start + 20, (uint32_t)(m->n - start));
}

/* ---- DCE/RPC payloads ---- */
static void bind_ntlm(buf *out, const char *iface, uint32_t call)
{
    buf neg;
    ntlm_negotiate_ver(&neg);
    ctxdef c[] = {{0, iface, 3, NDR}};
    out->n = 0;
    bind_pdu(out, 11, call, c, 1, &neg, PW_AUTHN_WINNT);
}

static void ack_challenge(buf *out, uint32_t call, const char *nb, const char *dns)
{
    buf ch;
    ntlm_challenge_ver(&ch, nb, dns);
    resdef r[] = {{0, 0, NDR}};
    out->n = 0;
    ack_pdu(out, 12, call, "\\PIPE\\lsass", r, 1, &ch, PW_AUTHN_WINNT);
}

static const pw_event *ntlm_challenge_ev(void)
{
    for (int i = 0; i < nev && i < MAXEV; i++)
        if (evs[i].type == PW_EV_NTLMSSP && evs[i].u.ntlmssp.msg_type == PW_NTLM_CHALLENGE)
            return &evs[i];
    return &none_ev;
}

/* Feeds the NetBIOS message at *off of b (all that is left when its length
 * runs past the end) in chunks of `step`, and moves past it. */
static void feed_msg_steps(feeder *f, int dir, const buf *b, size_t *off, size_t step)
{
    if (*off >= b->n)
        return;
    size_t left = b->n - *off, len = left;
    if (left >= 4) {
        len = 4 + (size_t)(b->b[*off + 1] << 16 | b->b[*off + 2] << 8 | b->b[*off + 3]);
        len = len < left ? len : left;
    }
    for (size_t i = 0; i < len; i += step)
        feed(f, dir, b->b + *off + i, len - i < step ? len - i : step);
    *off += len;
}

/* Plays two directions in the order the messages travel: order holds one
 * '0' (next client message) or '1' (next server message) per message;
 * what is left of either direction follows. */
static void play(feeder *f, const buf *c2s, const buf *s2c, const char *order, size_t step)
{
    size_t co = 0, so = 0;
    for (const char *o = order; *o; o++) {
        if (*o == '0')
            feed_msg_steps(f, 0, c2s, &co, step);
        else
            feed_msg_steps(f, 1, s2c, &so, step);
    }
    while (co < c2s->n)
        feed_msg_steps(f, 0, c2s, &co, step);
    while (so < s2c->n)
        feed_msg_steps(f, 1, s2c, &so, step);
}

/* The SMB2 exchange of test_smb2_write_read, per direction, after the
 * server's TREE_CONNECT answer *tree; played in SMB2_ORDER. */
#define SMB2_ORDER "010011"
static void smb2_exchange(buf *tree, buf *c2s, buf *s2c, const uint8_t fid[16])
{
    buf m, rpc;
    c2s->n = s2c->n = tree->n = 0;
    m.n = 0, tree_resp(&m, 3, TREE_IPC, 2), nbss(tree, &m);
    m.n = 0, create_req(&m, 4, TREE_IPC, "lsarpc"), nbss(c2s, &m);
    m.n = 0, create_resp(&m, 4, TREE_IPC, fid), nbss(s2c, &m);
    bind_ntlm(&rpc, LSARPC, 1);
    m.n = 0, write_req(&m, 5, TREE_IPC, fid, &rpc), nbss(c2s, &m);
    m.n = 0, read_req(&m, 6, TREE_IPC, fid), nbss(c2s, &m);
    m.n = 0, read_resp(&m, 6, STATUS_PENDING, true, NULL), nbss(s2c, &m);
    ack_challenge(&rpc, 1, "DC01", "dc01.corp.example.com");
    m.n = 0, read_resp(&m, 6, 0, true, &rpc), nbss(s2c, &m);
}

static void test_smb2_write_read(void)
{
    uint8_t fid[16];
    fid_of(fid, 1);
    static buf c2s, s2c, t;
    smb2_exchange(&t, &c2s, &s2c, fid);
    feeder *f = feeder_new();
    feedb(f, 1, &t);
    play(f, &c2s, &s2c, SMB2_ORDER, 100000);
    CHECK_INT(count(PW_EV_APP), 1); /* "smb" only: the pipe's RPC names no app of its own */
    CHECK_STR(NTH(PW_EV_APP, 0)->u.app, "smb");
    CHECK_INT(count(PW_EV_DCERPC), 2);
    const pw_ev_dcerpc *b = &NTH(PW_EV_DCERPC, 0)->u.dcerpc;
    CHECK_INT(b->ptype, PW_DCERPC_BIND);
    CHECK_STR(b->iface, LSARPC);
    CHECK_STR(b->pipe, "lsarpc");
    CHECK_INT(b->auth_type, PW_AUTHN_WINNT);
    CHECK_INT(NTH(PW_EV_DCERPC, 0)->dir, 0);
    const pw_ev_dcerpc *a = &NTH(PW_EV_DCERPC, 1)->u.dcerpc;
    CHECK_INT(a->ptype, PW_DCERPC_BIND_ACK);
    CHECK_STR(a->pipe, "lsarpc");
    CHECK_STR(a->sec_addr, "\\PIPE\\lsass");
    CHECK_INT(NTH(PW_EV_DCERPC, 1)->dir, 1);
    const pw_event *ch = ntlm_challenge_ev();
    CHECK_STR(ch->u.ntlmssp.nb_computer, "DC01");
    CHECK_STR(ch->u.ntlmssp.dns_computer, "dc01.corp.example.com");
    CHECK_INT(ch->dir, 1);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    CHECK(!f->done);
    feeder_free(f);
}

/* A bind_ack split over two READs (STATUS_BUFFER_OVERFLOW, then the rest)
 * and a bind split over two WRITEs; messages fed a byte at a time. */
static void test_smb2_split(void)
{
    uint8_t fid[16];
    fid_of(fid, 2);
    static buf c2s, s2c;
    buf m, rpc, part;
    c2s.n = s2c.n = 0;
    m.n = 0, tree_resp(&m, 3, TREE_IPC, 2), nbss(&s2c, &m);
    m.n = 0, create_req(&m, 4, TREE_IPC, "\\samr"), nbss(&c2s, &m);
    m.n = 0, create_resp(&m, 4, TREE_IPC, fid), nbss(&s2c, &m);
    bind_ntlm(&rpc, SRVSVC, 7);
    size_t cut = rpc.n / 3;
    part.n = 0, putn(&part, rpc.b, cut);
    m.n = 0, write_req(&m, 5, TREE_IPC, fid, &part), nbss(&c2s, &m);
    part.n = 0, putn(&part, rpc.b + cut, rpc.n - cut);
    m.n = 0, write_req(&m, 6, TREE_IPC, fid, &part), nbss(&c2s, &m);
    m.n = 0, read_req(&m, 7, TREE_IPC, fid), nbss(&c2s, &m);
    m.n = 0, read_req(&m, 8, TREE_IPC, fid), nbss(&c2s, &m);
    ack_challenge(&rpc, 7, "FS7", "fs7.corp.example.com");
    cut = rpc.n - 20;
    part.n = 0, putn(&part, rpc.b, cut);
    m.n = 0, read_resp(&m, 7, STATUS_BUFFER_OVERFLOW, false, &part), nbss(&s2c, &m);
    part.n = 0, putn(&part, rpc.b + cut, rpc.n - cut);
    m.n = 0, read_resp(&m, 8, 0, false, &part), nbss(&s2c, &m);

    feeder *f = feeder_new();
    play(f, &c2s, &s2c, "1010000", 1); /* tree, create, answer, two writes, two reads */
    CHECK_INT(count(PW_EV_DCERPC), 2);
    CHECK_STR(NTH(PW_EV_DCERPC, 0)->u.dcerpc.pipe, "samr");
    CHECK_STR(NTH(PW_EV_DCERPC, 0)->u.dcerpc.iface, SRVSVC);
    CHECK_INT(NTH(PW_EV_DCERPC, 1)->u.dcerpc.ptype, PW_DCERPC_BIND_ACK);
    CHECK_STR(ntlm_challenge_ev()->u.ntlmssp.nb_computer, "FS7");
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    feeder_free(f);
}

/* The endpoint mapper over FSCTL_PIPE_TRANSCEIVE, each IOCTL in a compound
 * message after an unrelated command; then the pipe is closed. */
static void test_smb2_ioctl_epm(void)
{
    uint8_t fid[16];
    fid_of(fid, 3);
    static buf c2s, s2c;
    buf m, rpc, stub, t1, t2;
    c2s.n = s2c.n = 0;
    m.n = 0, tree_resp(&m, 3, TREE_IPC, 2), nbss(&s2c, &m);
    m.n = 0, create_req(&m, 4, TREE_IPC, "epmapper"), nbss(&c2s, &m);
    m.n = 0, create_resp(&m, 4, TREE_IPC, fid), nbss(&s2c, &m);
    ctxdef c[] = {{1, EPM, 3, NDR}};
    rpc.n = 0, bind_pdu(&rpc, 11, 1, c, 1, NULL, 0);
    m.n = 0, ioctl_msg(&m, false, 5, 0, fid, &rpc), nbss(&c2s, &m);
    resdef r[] = {{0, 0, NDR}};
    rpc.n = 0, ack_pdu(&rpc, 12, 1, "135", r, 1, NULL, 0);
    m.n = 0, ioctl_msg(&m, true, 5, 0, fid, &rpc), nbss(&s2c, &m);

    tower(&t1, NETLOGON, 0x07, 49667, ip9);
    ept_map_request(&stub, &t1);
    rpc.n = 0, request_pdu(&rpc, 2, 1, 3, &stub);
    m.n = 0;
    hdr2(&m, 0x0d, false, 0, 6, TREE_IPC, false), put16(&m, 4), put16(&m, 0); /* ECHO */
    chain(&m, 0);
    ioctl_msg(&m, false, 7, 0, fid, &rpc);
    nbss(&c2s, &m);
    tower(&t2, NETLOGON, 0x07, 49668, ip9);
    ept_map_response(&stub, false, &t1, &t2);
    rpc.n = 0, response_pdu(&rpc, 2, 1, &stub);
    m.n = 0;
    hdr2(&m, 0x0d, true, 0, 6, TREE_IPC, false), put16(&m, 4), put16(&m, 0);
    chain(&m, 0);
    size_t second = m.n;
    ioctl_msg(&m, true, 7, STATUS_PENDING, fid, &rpc); /* interim: no output read */
    m.n = second + 64, put16(&m, 9), put8(&m, 0), put8(&m, 0), put32(&m, 0), put8(&m, 0);
    nbss(&s2c, &m);
    m.n = 0, ioctl_msg(&m, true, 7, 0, fid, &rpc), nbss(&s2c, &m);

    feeder *f = feeder_new();
    play(f, &c2s, &s2c, "1010101011", 37);
    CHECK_INT(count(PW_EV_EPM_PORT), 2);
    CHECK_INT(NTH(PW_EV_EPM_PORT, 0)->u.epm.port, 49667);
    CHECK_INT(NTH(PW_EV_EPM_PORT, 1)->u.epm.port, 49668);
    CHECK_STR(NTH(PW_EV_EPM_PORT, 0)->u.epm.pipe, "epmapper");
    CHECK_STR(NTH(PW_EV_EPM_PORT, 0)->u.epm.iface, NETLOGON);
    CHECK(NTH(PW_EV_DCERPC, 0)->u.dcerpc.iface_is_epm);
    CHECK_INT(count(PW_EV_DCERPC), 4);
    CHECK_INT(count(PW_EV_MALFORMED), 0);

    /* Closed: later writes on that FileId (other than a new bind) are not the pipe's. */
    buf w = {.n = 0};
    m.n = 0, close_req(&m, 9, fid), nbss(&w, &m);
    rpc.n = 0, request_pdu(&rpc, 3, 1, 0, NULL);
    m.n = 0, write_req(&m, 10, TREE_IPC, fid, &rpc), nbss(&w, &m);
    nev = 0;
    feedb(f, 0, &w);
    CHECK_INT(count(PW_EV_DCERPC), 0);
    feeder_free(f);
}

/* Files on disk trees, and pipes on unknown trees, are not followed; a
 * pipe that is not DCE/RPC is left alone; the table keeps 16 pipes. */
static void test_smb2_not_pipes_and_bounds(void)
{
    uint8_t fid[16];
    buf m, rpc, out = {.n = 0};
    m.n = 0, tree_resp(&m, 3, TREE_DISK, 1), nbss(&out, &m);
    feeder *f = feeder_new();
    feedb(f, 1, &out);
    fid_of(fid, 4);
    out.n = 0;
    m.n = 0, create_req(&m, 4, TREE_DISK, "lsarpc"), nbss(&out, &m);
    bind_ntlm(&rpc, LSARPC, 1);
    m.n = 0, write_req(&m, 5, TREE_DISK, fid, &rpc), nbss(&out, &m);
    feedb(f, 0, &out);
    out.n = 0, m.n = 0, create_resp(&m, 4, TREE_DISK, fid), nbss(&out, &m);
    feedb(f, 1, &out);
    out.n = 0, m.n = 0, write_req(&m, 6, TREE_DISK, fid, &rpc), nbss(&out, &m);
    feedb(f, 0, &out);
    CHECK_INT(count(PW_EV_DCERPC), 0);

    /* PsExec-like pipe: not DCE/RPC, not malformed. */
    out.n = 0, m.n = 0, tree_resp(&m, 3, TREE_IPC, 2), nbss(&out, &m);
    feedb(f, 1, &out);
    fid_of(fid, 5);
    out.n = 0, m.n = 0, create_req(&m, 7, TREE_IPC, "PSEXESVC"), nbss(&out, &m);
    feedb(f, 0, &out);
    out.n = 0, m.n = 0, create_resp(&m, 7, TREE_IPC, fid), nbss(&out, &m);
    feedb(f, 1, &out);
    buf junk = {.n = 0};
    put32(&junk, 0x0000be00);
    out.n = 0, m.n = 0, write_req(&m, 8, TREE_IPC, fid, &junk), nbss(&out, &m);
    m.n = 0, write_req(&m, 9, TREE_IPC, fid, &rpc), nbss(&out, &m);
    feedb(f, 0, &out);
    CHECK_INT(count(PW_EV_DCERPC), 0);
    CHECK_INT(count(PW_EV_MALFORMED), 0);

    /* 17 pipes open at once: the least recently used goes, counted. */
    for (uint8_t i = 0; i < 16; i++) { /* with PSEXESVC: 17 */
        fid_of(fid, (uint8_t)(0x40 + i));
        out.n = 0, m.n = 0, create_req(&m, 100u + i, TREE_IPC, "srvsvc"), nbss(&out, &m);
        feedb(f, 0, &out);
        out.n = 0, m.n = 0, create_resp(&m, 100u + i, TREE_IPC, fid), nbss(&out, &m);
        feedb(f, 1, &out);
    }
    CHECK_INT(count(PW_EV_MALFORMED), 1);
    CHECK_STR(NTH(PW_EV_MALFORMED, 0)->u.malformed, "smb: pipe table full");
    fid_of(fid, 0x40 + 15); /* the newest is followed */
    out.n = 0, m.n = 0, write_req(&m, 200, TREE_IPC, fid, &rpc), nbss(&out, &m);
    feedb(f, 0, &out);
    CHECK_INT(count(PW_EV_DCERPC), 1);
    feeder_free(f);
}

/* Pipes opened before the capture began: a bind written to an unknown
 * FileId on a tree whose connect was not seen, and a transceive. */
static void test_smb2_opened_before_capture(void)
{
    uint8_t fid[16], fid2[16];
    fid_of(fid, 9);
    fid_of(fid2, 10);
    static buf c2s, s2c;
    buf m, rpc;
    c2s.n = s2c.n = 0;
    bind_ntlm(&rpc, LSARPC, 4);
    m.n = 0, write_req(&m, 50, 11, fid, &rpc), nbss(&c2s, &m);
    m.n = 0, read_req(&m, 51, 11, fid), nbss(&c2s, &m);
    ack_challenge(&rpc, 4, "LATE", "late.corp.example.com");
    m.n = 0, read_resp(&m, 51, 0, false, &rpc), nbss(&s2c, &m);
    ctxdef c[] = {{1, EPM, 3, NDR}};
    rpc.n = 0, bind_pdu(&rpc, 11, 5, c, 1, NULL, 0);
    m.n = 0, ioctl_msg(&m, false, 52, 0, fid2, &rpc), nbss(&c2s, &m);
    feeder *f = feeder_new();
    play(f, &c2s, &s2c, "001", 100000);
    CHECK_INT(count(PW_EV_DCERPC), 3);
    CHECK_STR(NTH(PW_EV_DCERPC, 0)->u.dcerpc.pipe, "?");
    CHECK_STR(ntlm_challenge_ev()->u.ntlmssp.nb_computer, "LATE");
    CHECK(NTH(PW_EV_DCERPC, 2)->u.dcerpc.iface_is_epm);
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    feeder_free(f);
}

/* ---- SMB1 ---- */
static void hdr1(buf *m, uint8_t cmd, bool resp, uint32_t status, uint16_t tid, uint16_t mid)
{
    putn(m, "\xffSMB", 4), put8(m, cmd), put32(m, status);
    put8(m, resp ? 0x98 : 0x18), put16(m, 0xc807);
    put16(m, 0), zeros(m, 8), put16(m, 0), put16(m, tid), put16(m, 0xfeff), put16(m, 0x0800), put16(m, mid);
}

static void smb1_tree_resp(buf *m, uint16_t tid)
{
    hdr1(m, 0x75, true, 0, tid, 2);
    put8(m, 3), put8(m, 0xff), put8(m, 0), put16(m, 0), put16(m, 1);
    put16(m, 6), putn(m, "IPC\0\0\0", 6);
}

static void smb1_create_req(buf *m, uint16_t tid, uint16_t mid, const char *name)
{
    hdr1(m, 0xa2, false, 0, tid, mid);
    put8(m, 24), put8(m, 0xff), put8(m, 0), put16(m, 0), put8(m, 0);
    size_t nl = m->n;
    put16(m, 0), put32(m, 0x16), put32(m, 0), put32(m, 0x2019f), put64(m, 0), put32(m, 0), put32(m, 3),
        put32(m, 1), put32(m, 0), put32(m, 2), put8(m, 0);
    size_t bc = m->n;
    put16(m, 0), put8(m, 0); /* pad to 2 */
    size_t n = put_utf16(m, name);
    put16(m, 0);
    set16(m, nl, (uint16_t)n);
    set16(m, bc, (uint16_t)(m->n - bc - 2));
}

static void smb1_create_resp(buf *m, uint16_t tid, uint16_t mid, uint16_t fid)
{
    hdr1(m, 0xa2, true, 0, tid, mid);
    put8(m, 34), put8(m, 0xff), put8(m, 0), put16(m, 0), put8(m, 0), put16(m, fid);
    zeros(m, 34 * 2 - 7), put16(m, 0);
}

/* TRANSACTION TransactNmPipe request (data to the pipe) or its response. */
static void smb1_trans(buf *m, bool resp, uint16_t tid, uint16_t mid, uint16_t fid, const buf *data)
{
    size_t base = m->n;
    hdr1(m, 0x25, resp, 0, tid, mid);
    if (resp) {
        uint16_t off = 32 + 1 + 20 + 2 + 1;
        put8(m, 10), put16(m, 0), put16(m, (uint16_t)data->n), put16(m, 0), put16(m, 0), put16(m, off),
            put16(m, 0), put16(m, (uint16_t)data->n), put16(m, off), put16(m, 0), put8(m, 0), put8(m, 0);
        put16(m, (uint16_t)(data->n + 1)), put8(m, 0);
    } else {
        uint16_t off = 32 + 1 + 32 + 2 + 14 + 2;
        put8(m, 16), put16(m, 0), put16(m, (uint16_t)data->n), put16(m, 0), put16(m, 1024), put8(m, 0),
            put8(m, 0), put16(m, 0), put32(m, 0), put16(m, 0), put16(m, 0), put16(m, off),
            put16(m, (uint16_t)data->n), put16(m, off), put8(m, 2), put8(m, 0), put16(m, 0x26), put16(m, fid);
        put16(m, (uint16_t)(data->n + 16)), putn(m, "\\PIPE\\\0\0\0\0\0\0\0\0\0\0", 14), put16(m, 0);
    }
    CHECK_INT(m->n - base, resp ? 32 + 1 + 20 + 2 + 1 : 32 + 1 + 32 + 2 + 14 + 2);
    putn(m, data->b, data->n);
}

static void smb1_write(buf *m, uint16_t tid, uint16_t mid, uint16_t fid, uint16_t mode, const buf *data)
{
    hdr1(m, 0x2f, false, 0, tid, mid);
    uint16_t off = 32 + 1 + 28 + 2 + 1;
    bool len_prefix = (mode & 0x0c) == 0x0c;
    uint16_t n = (uint16_t)(data->n + (len_prefix ? 2 : 0));
    put8(m, 14), put8(m, 0xff), put8(m, 0), put16(m, 0), put16(m, fid), put32(m, 0), put32(m, 0);
    put16(m, mode), put16(m, n), put16(m, 0), put16(m, n), put16(m, off), put32(m, 0);
    put16(m, (uint16_t)(n + 1)), put8(m, 0);
    if (len_prefix)
        put16(m, (uint16_t)data->n);
    putn(m, data->b, data->n);
}

static void smb1_read(buf *m, bool resp, uint16_t tid, uint16_t mid, uint16_t fid, const buf *data)
{
    hdr1(m, 0x2e, resp, 0, tid, mid);
    if (!resp) {
        put8(m, 12), put8(m, 0xff), put8(m, 0), put16(m, 0), put16(m, fid), put32(m, 0), put16(m, 1024),
            put16(m, 1024), put32(m, 0), put16(m, 0), put32(m, 0), put16(m, 0);
        return;
    }
    uint16_t off = 32 + 1 + 24 + 2 + 1;
    put8(m, 12), put8(m, 0xff), put8(m, 0), put16(m, 0), put16(m, 0), put16(m, 0), put16(m, 0),
        put16(m, (uint16_t)data->n), put16(m, off), zeros(m, 10);
    put16(m, (uint16_t)(data->n + 1)), put8(m, 0);
    putn(m, data->b, data->n);
}

/* create, its answer; transaction, its answer; write, read, the read's answer */
#define SMB1_ORDER "0101001"
static void smb1_exchange(buf *c2s, buf *s2c)
{
    buf m, rpc;
    c2s->n = s2c->n = 0;
    m.n = 0, smb1_create_req(&m, 0x800, 10, "\\netlogon"), nbss(c2s, &m);
    m.n = 0, smb1_create_resp(&m, 0x800, 10, 0x4001), nbss(s2c, &m);
    bind_ntlm(&rpc, NETLOGON, 1);
    m.n = 0, smb1_trans(&m, false, 0x800, 11, 0x4001, &rpc), nbss(c2s, &m);
    ack_challenge(&rpc, 1, "NT4DC", "nt4dc.corp.example.com");
    m.n = 0, smb1_trans(&m, true, 0x800, 11, 0, &rpc), nbss(s2c, &m);
    ctxdef c[] = {{1, LSARPC, 0, NDR}};
    rpc.n = 0, bind_pdu(&rpc, 14, 2, c, 1, NULL, 0); /* alter_context */
    m.n = 0, smb1_write(&m, 0x800, 12, 0x4001, 0x000c, &rpc), nbss(c2s, &m);
    m.n = 0, smb1_read(&m, false, 0x800, 13, 0x4001, NULL), nbss(c2s, &m);
    resdef r[] = {{0, 0, NDR}};
    rpc.n = 0, ack_pdu(&rpc, 15, 2, "", r, 1, NULL, 0);
    m.n = 0, smb1_read(&m, true, 0x800, 13, 0, &rpc), nbss(s2c, &m);
}

static void test_smb1_pipe(void)
{
    static buf c2s, s2c;
    buf m, t = {.n = 0};
    m.n = 0, smb1_tree_resp(&m, 0x800), nbss(&t, &m);
    smb1_exchange(&c2s, &s2c);
    feeder *f = feeder_new();
    feedb(f, 1, &t);
    play(f, &c2s, &s2c, SMB1_ORDER, 100000);
    CHECK_INT(count(PW_EV_DCERPC), 4);
    CHECK_STR(NTH(PW_EV_DCERPC, 0)->u.dcerpc.pipe, "netlogon");
    CHECK_STR(NTH(PW_EV_DCERPC, 0)->u.dcerpc.iface, NETLOGON);
    CHECK_INT(NTH(PW_EV_DCERPC, 1)->u.dcerpc.ptype, PW_DCERPC_BIND_ACK);
    CHECK_INT(NTH(PW_EV_DCERPC, 2)->u.dcerpc.ptype, PW_DCERPC_ALTER_CONTEXT);
    CHECK_STR(NTH(PW_EV_DCERPC, 2)->u.dcerpc.iface, LSARPC);
    CHECK_INT(NTH(PW_EV_DCERPC, 3)->u.dcerpc.ptype, PW_DCERPC_ALTER_CONTEXT_RESP);
    CHECK_STR(ntlm_challenge_ev()->u.ntlmssp.nb_computer, "NT4DC");
    CHECK_INT(count(PW_EV_MALFORMED), 0);
    feeder_free(f);
}

/* Every prefix of each direction declared complete (the NetBIOS length
 * cut to match), fed after the whole other direction: no crash, no
 * consumption beyond what was given, no challenge from a cut answer
 * unless the cut falls after the challenge. */
static void cut_all(const buf *c2s, const buf *s2c, const buf *first, const char *order)
{
    static buf cut;
    for (int side = 0; side < 2; side++) {
        const buf *b = side ? s2c : c2s;
        for (size_t len = 0; len < b->n; len++) {
            cut = *b;
            cut.n = len;
            /* Declare the message the cut falls in as ending there. */
            size_t at = 0;
            while (at + 4 <= len) {
                size_t ml = (size_t)(b->b[at + 1] << 16 | b->b[at + 2] << 8 | b->b[at + 3]);
                if (at + 4 + ml > len) {
                    size_t nl = len - at - 4;
                    cut.b[at + 1] = (uint8_t)(nl >> 16), cut.b[at + 2] = (uint8_t)(nl >> 8),
                    cut.b[at + 3] = (uint8_t)nl;
                    break;
                }
                at += 4 + ml;
            }
            feeder *f = feeder_new();
            feedb(f, 1, first);
            play(f, side ? c2s : &cut, side ? &cut : s2c, order, 100000);
            feeder_free(f);
        }
    }
}

/* Every byte of either direction flipped (low bit, then all bits), fed
 * after the tree connect in chunks of 7: the sanitizers and the contract
 * check judge. */
static void corrupt_all(const buf *t, const buf *c2s, const buf *s2c, const char *order)
{
    static buf mut;
    for (int side = 0; side < 2; side++) {
        const buf *b = side ? s2c : c2s;
        for (size_t i = 0; i < b->n; i++) {
            for (int x = 0; x < 2; x++) {
                mut = *b;
                mut.b[i] ^= x ? 0xff : 0x01;
                feeder *f = feeder_new();
                feedb(f, 1, t);
                play(f, side ? c2s : &mut, side ? &mut : s2c, order, 7);
                feeder_free(f);
            }
        }
    }
}

static void test_truncation_and_corruption(void)
{
    uint8_t fid[16];
    fid_of(fid, 1);
    static buf c2s, s2c, t;
    smb2_exchange(&t, &c2s, &s2c, fid);
    cut_all(&c2s, &s2c, &t, SMB2_ORDER);
    corrupt_all(&t, &c2s, &s2c, SMB2_ORDER);
    /* The whole exchange in every chunk size up to 9: the same names. */
    int named = 0;
    for (size_t step = 1; step <= 9; step++) {
        feeder *f = feeder_new();
        feedb(f, 1, &t);
        play(f, &c2s, &s2c, SMB2_ORDER, step);
        named += !strcmp(ntlm_challenge_ev()->u.ntlmssp.nb_computer, "DC01");
        feeder_free(f);
    }
    CHECK_INT(named, 9);
    smb1_exchange(&c2s, &s2c);
    buf m = {.n = 0};
    t.n = 0, smb1_tree_resp(&m, 0x800), nbss(&t, &m);
    cut_all(&c2s, &s2c, &t, SMB1_ORDER);
    corrupt_all(&t, &c2s, &s2c, SMB1_ORDER);
    CHECK_INT(contract_violations, 0);
}

int main(void)
{
    flow.proto = 6;
    flow.server_port = 445;
    test_smb2_write_read();
    test_smb2_split();
    test_smb2_ioctl_epm();
    test_smb2_not_pipes_and_bounds();
    test_smb2_opened_before_capture();
    test_smb1_pipe();
    test_truncation_and_corruption();
    CHECK_INT(contract_violations, 0);
    CHECK_DONE();
}
