/* ntlmssp.h - NTLMSSP (MS-NLMP) message decoding, a helper for the
 * dissectors that carry NTLM tokens (DCE/RPC auth verifiers, SMB session
 * setup security blobs, ...).  Not a dissector of its own: it has no port.
 *
 * A message starts with the signature "NTLMSSP\0" and a LE32 message type.
 * Security buffers (len LE16, maxlen LE16, offset LE32) point into the
 * message, relative to the signature; they are read with pw_at() on a
 * cursor whose buffer starts at the signature, so nothing outside the token
 * is ever read.  Strings are converted to bounded, NUL-terminated UTF-8. */
#ifndef PW_NTLMSSP_H
#define PW_NTLMSSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/cursor.h"
#include "dissector.h"
#include "events.h"

#define PW_NTLMSSP_SIG_LEN 8

/* NegotiateFlags bits used here. */
enum {
    PW_NTLM_FLAG_UNICODE = 0x00000001u,
    PW_NTLM_FLAG_OEM_DOMAIN_SUPPLIED = 0x00001000u,
    PW_NTLM_FLAG_OEM_WORKSTATION_SUPPLIED = 0x00002000u,
};

/* Result of pw_ntlmssp_decode(). */
typedef enum pw_ntlmssp_status {
    PW_NTLMSSP_OK = 0,        /* fully decoded */
    PW_NTLMSSP_NOT_NTLMSSP,   /* no signature: not an NTLMSSP message */
    PW_NTLMSSP_BAD_HEADER,    /* signature but the fixed header is truncated / unknown type */
    PW_NTLMSSP_TRUNCATED,     /* header decoded; a payload field or AV pair was out of range */
} pw_ntlmssp_status;

/* Decodes the message at msg's current position (must be the signature) into
 * *out (zeroed first).  Reads only the bytes msg covers.  On
 * PW_NTLMSSP_TRUNCATED, out holds everything that was in range. */
pw_ntlmssp_status pw_ntlmssp_decode(pw_cursor msg, pw_ev_ntlmssp *out);

/* Decodes the message at data (signature first) and emits PW_EV_NTLMSSP; on
 * a truncated or malformed message it also emits PW_EV_MALFORMED
 * ("ntlmssp: ...").  Emits nothing and returns false when data does not
 * start with the signature.  Returns true when an NTLMSSP event was emitted. */
bool pw_ntlmssp_parse(const pw_dctx *ctx, const uint8_t *data, size_t len);
/* The same on a cursor: the message starts at c's current position and may
 * extend to the end of c. */
bool pw_ntlmssp_parse_cur(const pw_dctx *ctx, pw_cursor c);

/* Locates "NTLMSSP\0" in an opaque token (SPNEGO / GSS-API, raw NTLMSSP)
 * from blob's current position to its end.  On success *msg is a cursor
 * whose buffer starts at the signature and runs to the end of blob, and the
 * function returns true.  blob is not moved. */
bool pw_ntlmssp_find(const pw_cursor *blob, pw_cursor *msg);

/* Convenience: pw_ntlmssp_find() on data, then pw_ntlmssp_parse_cur(). */
bool pw_ntlmssp_parse_blob(const pw_dctx *ctx, const uint8_t *data, size_t len);

/* String helpers (exposed for tests and other dissectors).  Both write a
 * NUL-terminated, valid UTF-8 string of at most dstlen-1 bytes, never cutting
 * a character; NUL ends the string.  UTF-16LE: surrogate pairs combined,
 * unpaired surrogates -> '?', an odd trailing byte is ignored.  OEM: ASCII
 * kept, bytes >= 0x80 and control characters -> '?'.  src is read to its end. */
void pw_utf16le_to_utf8(pw_cursor src, char *dst, size_t dstlen);
void pw_oem_to_utf8(pw_cursor src, char *dst, size_t dstlen);

#endif
