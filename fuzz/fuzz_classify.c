/* fuzz_classify.c - libFuzzer harness for dissectors/classify.c.
 * The first 4 bytes choose the ports (big-endian sport, dport); the rest is
 * the datagram, copied to an exact-size heap buffer so ASan sees any read
 * past it.  The same bytes are also classified on every port the classifier
 * knows, both ways.  Traps on an answer outside PW_DGRAM_*. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../dissectors/classify.h"

static void one(uint16_t sp, uint16_t dp, const uint8_t *p, size_t n)
{
    int k = pw_datagram_kind(sp, dp, p, n);
    if (k != PW_DGRAM_UNKNOWN && k != PW_DGRAM_REQUEST && k != PW_DGRAM_RESPONSE)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t known[] = {53, 137, 1434, 1900, 5353, 5355, 40000};
    if (size < 4)
        return 0;
    uint16_t sp = (uint16_t)(data[0] << 8 | data[1]);
    uint16_t dp = (uint16_t)(data[2] << 8 | data[3]);
    size_t n = size - 4;
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        return 0;
    memcpy(p, data + 4, n);
    one(sp, dp, n ? p : NULL, n);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        one(known[i], 50000, p, n);
        one(50000, known[i], p, n);
    }
    free(p);
    return 0;
}
