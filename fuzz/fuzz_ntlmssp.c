/* fuzz_ntlmssp.c - libFuzzer harness for the NTLMSSP decoder: the raw
 * message, the same bytes as an opaque token searched for the signature, and
 * the string converters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../dissectors/ntlmssp.h"
#include "stream_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t sunk = 0;
    pw_flow flow = {0};
    pw_dctx ctx = {&flow, 1, 1, 0, fuzz_sink, &sunk, NULL};
    /* As a message (prefixed with the signature so the decoder is reached). */
    uint8_t *m = malloc(size + 8);
    memcpy(m, "NTLMSSP\0", 8);
    if (size)
        memcpy(m + 8, data, size);
    pw_ntlmssp_parse(&ctx, m, size + 8);
    free(m);
    pw_ntlmssp_parse(&ctx, data, size);
    pw_ntlmssp_parse_blob(&ctx, data, size);
    pw_ev_ntlmssp out;
    pw_cursor c = pw_cur(data, size);
    pw_ntlmssp_decode(c, &out);
    char s[16];
    pw_utf16le_to_utf8(c, s, sizeof s);
    sunk += strlen(s);
    pw_oem_to_utf8(c, s, sizeof s);
    sunk += strlen(s);
    return (int)(sunk & 0);
}
