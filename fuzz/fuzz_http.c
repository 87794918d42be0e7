/* fuzz_http.c - libFuzzer harness for the http dissector.
 *
 * The input is a sequence of chunks: a control byte (bit 0 = direction,
 * bits 1-7 = chunk length / 8 - 1) followed by up to 1024 bytes of that
 * direction's stream, fed as capture does (stream_driver.h). */
#include <stddef.h>
#include <stdint.h>

#include "stream_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_stream(&pw_dissector_http, FUZZ_CHUNK_DIR_LOW_LEN_X8, data, size);
}
