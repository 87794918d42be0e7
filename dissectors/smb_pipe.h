/* smb_pipe.h - DCE/RPC over SMB named pipes, the part of smb.c that follows
 * pipes (MS-SMB2 3.2.4.x, MS-CIFS 2.2.4.x; MS-RPCE 2.1.1.2 for the transport).
 *
 * Per SMB connection: the trees that are IPC$ shares (TREE_CONNECT answered
 * with a pipe share type), the pipes opened on them (CREATE / NT_CREATE_ANDX
 * and the FileId or FID of the answer) and the requests whose responses carry
 * no FileId (READ, SMB1 TRANSACTION: matched by MessageId / MID).  Bytes
 * written to a pipe (WRITE, IOCTL FSCTL_PIPE_TRANSCEIVE input, TransactNmPipe
 * data) and read from it (READ, transceive output) are handed to the pipe's
 * embedded DCE/RPC state (dcerpc.h), allocated when the pipe opens and freed
 * when it closes; the events come from the SMB flow, in the direction the
 * bytes travel.  A pipe opened before the capture began is found by what
 * only a pipe carries: a transceive or TransactNmPipe, or a WRITE whose data
 * starts a DCE/RPC bind (its name is then "?").  The tables are fixed arrays: a pipe opened while all slots
 * are taken replaces the least recently used one (counted as malformed). */
#ifndef PW_SMB_PIPE_H
#define PW_SMB_PIPE_H

#include <stdbool.h>
#include <stdint.h>

#include "dissector.h"

#define PW_SMB_MAX_TREES 8
#define PW_SMB_MAX_PIPES 16
#define PW_SMB_MAX_PENDING 32

/* One SMB1 or SMB2 command's header, as smb.c read it. */
typedef struct pw_smb_hdr {
    uint16_t cmd;
    bool resp;
    uint32_t status;
    uint64_t mid;     /* SMB2 MessageId / SMB1 MID */
    uint32_t tree;    /* SMB2 TreeId (sync header; 0 when async) / SMB1 TID */
    bool unicode;     /* SMB1 FLAGS2_UNICODE */
} pw_smb_hdr;

struct pw_smb_pipe_io;

typedef struct pw_smb_pipe {
    uint8_t fid[16];  /* SMB2 FileId; SMB1 FID in the first two bytes */
    uint32_t last_use;
    struct pw_smb_pipe_io *io; /* NULL: free slot */
} pw_smb_pipe;

typedef struct pw_smb_pending {
    uint8_t kind;     /* 0 free, else PENDING_* (smb_pipe.c) */
    uint64_t mid;
    uint8_t fid[16];  /* READ / TRANSACTION: the pipe */
    char name[16];    /* CREATE: the pipe's name */
} pw_smb_pending;

typedef struct pw_smb_pipes {
    uint32_t trees[PW_SMB_MAX_TREES]; /* tree connects seen, the latest last */
    bool tree_pipe[PW_SMB_MAX_TREES]; /* ... and whether each is an IPC$ (pipe) share */
    uint8_t n_trees;
    uint8_t pending_next; /* round robin when the pending table is full */
    uint32_t clock;       /* last_use ticks */
    pw_smb_pipe pipes[PW_SMB_MAX_PIPES];
    pw_smb_pending pending[PW_SMB_MAX_PENDING];
} pw_smb_pipes;

/* Does smb.c need the whole SMB2 / SMB1 message to follow pipes?  c is at
 * the message's protocol id with at least PW_SMB_PEEK bytes (or the whole
 * message when shorter); peeks only. */
#define PW_SMB_PEEK (64 + 48 + 8) /* header, WRITE body, the first bytes of its data */
bool pw_smb2_pipe_wants(const pw_smb_pipes *p, const pw_cursor *c);
bool pw_smb1_pipe_wants(const pw_smb_pipes *p, const pw_cursor *c);

/* One SMB2 command: hdr covers it from its header (offsets count from
 * there).  One SMB1 message: m covers it from its header. */
void pw_smb2_pipe_cmd(const pw_dctx *ctx, pw_smb_pipes *p, const pw_smb_hdr *h, pw_cursor hdr);
void pw_smb1_pipe_cmd(const pw_dctx *ctx, pw_smb_pipes *p, const pw_smb_hdr *h, pw_cursor m);

/* Whether the connection has an IPC$ tree or an open pipe: only then is
 * there RPC to follow past the session setup. */
bool pw_smb_pipes_any(const pw_smb_pipes *p);
/* Releases the pipes' DCE/RPC states. */
void pw_smb_pipes_free(pw_smb_pipes *p);

#endif
