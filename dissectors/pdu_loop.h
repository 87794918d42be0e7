/* pdu_loop.h - the framing loop of the length-prefixed stream protocols
 * (smb, ldap, tds, dcerpc), written once.
 *
 * Each of those streams is a sequence of PDUs whose header gives the PDU's
 * length.  A dissector supplies two callbacks: frame() looks at the header
 * of the next PDU and says how long it is and whether it wants it whole;
 * handle() gets the PDU.  pw_pdu_stream() does the rest: it waits for more
 * bytes when a header or a wanted PDU is not all at hand, passes over PDUs
 * it does not want (or that are larger than max_len) as they stream past
 * (stream_skip.h) without buffering them, and returns what it consumed as
 * the stream() contract asks (dissector.h). */
#ifndef PW_PDU_LOOP_H
#define PW_PDU_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"

/* What a callback asks of the loop. */
typedef enum pw_pdu_step {
    PW_PDU_NEXT, /* go on with the next PDU */
    PW_PDU_WAIT, /* frame(): the header is not all at hand yet: wait for more bytes */
    PW_PDU_DONE, /* nothing more of interest: set *done, return what was consumed */
    PW_PDU_END,  /* as DONE, and any later call consumes its bytes unread */
    PW_PDU_STOP, /* not (or no longer) this protocol: consume everything offered and end */
} pw_pdu_step;

/* One PDU as frame() describes it. */
typedef struct pw_pdu {
    size_t len; /* the whole PDU, header included */
    bool read;  /* frame(): wait for the whole PDU and hand it over; the loop
                 * clears it when len exceeds max_len, and the PDU is then
                 * passed over like any unwanted one */
} pw_pdu;

typedef struct pw_pdu_ops {
    /* Frames the PDU starting at c's position; c holds every byte at hand
     * (at least one).  Peeks only.  Returns PW_PDU_NEXT with *pdu filled, or
     * WAIT / DONE / END / STOP (emitting what explains a STOP itself). */
    pw_pdu_step (*frame)(const pw_dctx *ctx, void *state, const pw_cursor *c, pw_pdu *pdu);
    /* Handles one PDU: `bytes` is the whole PDU when pdu->read, otherwise
     * the part of it at hand (all of it when it happened to arrive whole);
     * the rest is then discarded as it arrives.  Returns NEXT, DONE, END or
     * STOP. */
    pw_pdu_step (*handle)(const pw_dctx *ctx, void *state, const pw_pdu *pdu, pw_cursor bytes);
    /* Optional: the last byte of a PDU handed over in part has passed. */
    void (*passed)(const pw_dctx *ctx, void *state);
    size_t max_len; /* longest PDU waited for in full */
} pw_pdu_ops;

/* The loop's per-stream state, embedded in the dissector's own. */
typedef struct pw_pdu_state {
    uint32_t skip[2]; /* bytes of the PDU being passed over still to come, per direction */
    bool ended;       /* END or STOP: later bytes are consumed unread */
} pw_pdu_state;

/* Runs the loop over the bytes offered to a dissector's stream();
 * `state` is handed to the callbacks.  Returns the bytes consumed. */
size_t pw_pdu_stream(const pw_pdu_ops *ops, pw_pdu_state *ls, const pw_dctx *ctx, void *state,
                     const uint8_t *data, size_t len, bool *done);

#endif
