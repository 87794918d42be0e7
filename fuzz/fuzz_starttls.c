/* fuzz_starttls.c - libFuzzer harness for the line-based dissectors that
 * upgrade to TLS (dissectors/starttls.c: smtp, imap, pop3, ftp).
 *
 * The first byte picks the dissector; the rest is a sequence of chunks, a
 * control byte (bit 7 = direction, bits 0-6 = length) followed by that many
 * bytes of that direction's stream, fed as capture does (stream_driver.h). */
#include <stddef.h>
#include <stdint.h>

#include "stream_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const pw_dissector *const line_protocols[] = {
        &pw_dissector_smtp, &pw_dissector_imap, &pw_dissector_pop3, &pw_dissector_ftp,
    };
    if (size < 1)
        return 0;
    const pw_dissector *d = line_protocols[data[0] % 4];
    return fuzz_stream(d, FUZZ_CHUNK_DIR_HIGH_LEN_7, data + 1, size - 1);
}
