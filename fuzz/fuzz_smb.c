/* fuzz_smb.c - libFuzzer harness for the SMB (NetBIOS session) stream dissector.
 *
 * The input is a script of segments: a control byte (bit 7 = direction,
 * bits 0-6 = length) followed by that many payload bytes, fed like the
 * pipeline does (stream_driver.h). */
#include <stddef.h>
#include <stdint.h>

#include "stream_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_stream(&pw_dissector_smb, FUZZ_CHUNK_DIR_HIGH_LEN_7, data, size);
}
