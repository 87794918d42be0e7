/* fuzz_http2.c - libFuzzer harness for the http2 dissector (and grpc.c,
 * which it drives).
 *
 * The input is a sequence of chunks: a control byte (bit 7 = direction,
 * bits 0-6 = chunk length) followed by that many bytes of that direction's
 * stream, fed as capture does (stream_driver.h).  Unless the first byte of
 * the input has bit 0 set, the client connection preface is fed first, so
 * the fuzzer spends its time on frames and HPACK rather than on finding
 * the 24-byte preface; the end of the connection (stream_end) is always
 * reported. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream_driver.h"

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || (data[0] & 1))
        return fuzz_stream(&pw_dissector_http2, FUZZ_CHUNK_DIR_HIGH_LEN_7, data, size);
    size_t n = 1 + (sizeof preface - 1) + size;
    uint8_t *in = malloc(n);
    if (!in)
        return 0;
    in[0] = (uint8_t)(sizeof preface - 1); /* direction 0, 24 bytes */
    memcpy(in + 1, preface, sizeof preface - 1);
    memcpy(in + sizeof preface, data, size);
    fuzz_stream(&pw_dissector_http2, FUZZ_CHUNK_DIR_HIGH_LEN_7, in, n);
    free(in);
    return 0;
}
