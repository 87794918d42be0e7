/* fuzz_tds.c - libFuzzer harness for the TDS stream dissector.
 *
 * The input is a script of segments: a control byte (bit 7 = direction,
 * bits 0-6 = length) followed by that many payload bytes, fed like the
 * pipeline does (stream_driver.h).  It reaches PRELOGIN in both directions,
 * the login answer's tokens (LOGINACK, ERROR, DONE) and the TLS handshake
 * that PRELOGIN packets carry into the embedded TLS state. */
#include <stddef.h>
#include <stdint.h>

#include "stream_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_stream(&pw_dissector_tds, FUZZ_CHUNK_DIR_HIGH_LEN_7, data, size);
}
