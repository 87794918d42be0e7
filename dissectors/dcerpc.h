/* dcerpc.h - the DCE/RPC connection-oriented parser as an embeddable state.
 *
 * The "dcerpc" dissector (TCP 135 and dynamic ports) wraps it directly; SMB
 * (smb_pipe.c) embeds one per named pipe and hands it the bytes written to
 * and read from the pipe, so binds, NTLMSSP and endpoint-mapper answers
 * carried over SMB produce the same events as on TCP, from the SMB flow.
 *
 * Usage: a zeroed state (or pw_dcerpc_init() to name the pipe it reads),
 * then for every chunk of one direction pw_dcerpc_stream(), which follows
 * the dissector contract (returns the bytes consumed; unconsumed bytes must
 * be passed again with more).  Nothing is allocated. */
#ifndef PW_DCERPC_H
#define PW_DCERPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"
#include "pdu_loop.h"

#define PW_RPC_MAX_CTX 8
#define PW_RPC_MAX_CALLS 16

/* A presentation context proposed or accepted on the association. */
typedef struct pw_rpc_ctx {
    bool used;
    bool pending;     /* proposed in a bind/alter_context, not yet acknowledged */
    bool is_epm;
    bool ndr64;       /* the accepted transfer syntax is NDR64 */
    uint16_t id;      /* presentation context id */
    uint8_t seq;      /* position in the proposing bind's context list */
    uint32_t bind_call;
    char iface[37];
} pw_rpc_ctx;

/* An endpoint-mapper call waiting for its response. */
typedef struct pw_rpc_call {
    bool used;
    bool epm;         /* a call on an endpoint mapper context */
    bool ndr64;
    uint16_t opnum;
    uint32_t call_id;
    char req_iface[37]; /* ept_map request: the interface asked for */
} pw_rpc_call;

typedef struct pw_dcerpc_state {
    pw_pdu_state loop;
    bool held_on[2];   /* a streamed PDU's event, sent when its last byte passes */
    pw_ev_dcerpc held[2];
    uint32_t pdus;
    uint32_t bytes;
    bool app_sent;
    bool no_app;       /* set by embedders: never emit PW_EV_APP "dcerpc" */
    uint8_t call_next;
    char pipe[16];     /* the SMB named pipe carrying it, copied into events; "" on TCP */
    pw_rpc_ctx ctx[PW_RPC_MAX_CTX];
    pw_rpc_call calls[PW_RPC_MAX_CALLS];
} pw_dcerpc_state;

/* Zeroes the state for a pipe named `pipe` (truncated to the field; NULL or
 * "" for none); an embedded state emits no PW_EV_APP of its own. */
void pw_dcerpc_init(pw_dcerpc_state *st, const char *pipe);
/* Parses PDUs of direction ctx->dir.  Sets *done when nothing more of
 * interest can come (PDU and byte caps reached, or not DCE/RPC). */
size_t pw_dcerpc_stream(const pw_dctx *ctx, pw_dcerpc_state *st, const uint8_t *data, size_t len,
                        bool *done);

#endif
