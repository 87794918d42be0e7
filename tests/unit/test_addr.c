/* test_addr.c - an IPv4 address in text (common/addr.c writes it without
 * printf) reads exactly as inet_ntop writes it, for every value of each
 * byte and for random addresses; a buffer too short still gets inet_ntop's
 * answer. */
#include <arpa/inet.h>
#include <string.h>

#include "../../common/addr.h"
#include "check.h"

static bool same_as_inet_ntop(const uint8_t b[4], size_t len)
{
    pw_addr a;
    pw_addr_v4(&a, b);
    char ours[64], theirs[64];
    memset(ours, 'x', sizeof ours);
    memset(theirs, 'x', sizeof theirs);
    pw_addr_str(&a, ours, len);
    if (!inet_ntop(AF_INET, b, theirs, (socklen_t)len))
        theirs[0] = '\0';
    if (strcmp(ours, theirs) == 0)
        return true;
    fprintf(stderr, "%u.%u.%u.%u in %zu bytes: ours \"%s\", inet_ntop \"%s\"\n", b[0], b[1], b[2], b[3], len, ours,
            theirs);
    return false;
}

int main(void)
{
    int bad = 0;
    for (unsigned v = 0; v < 256; v++) {
        uint8_t b[4] = {(uint8_t)v, (uint8_t)(255 - v), (uint8_t)(v * 7), (uint8_t)(v / 3)};
        bad += !same_as_inet_ntop(b, PW_ADDR_STRLEN);
    }
    for (int i = 0; i < 100000 && bad < 5; i++) {
        uint32_t x = check_rand(UINT32_MAX);
        uint8_t b[4] = {(uint8_t)(x >> 24), (uint8_t)(x >> 16), (uint8_t)(x >> 8), (uint8_t)x};
        bad += !same_as_inet_ntop(b, PW_ADDR_STRLEN);
    }
    const uint8_t widest[4] = {255, 255, 255, 255}, narrow[4] = {1, 2, 3, 4};
    bad += !same_as_inet_ntop(widest, 16);
    bad += !same_as_inet_ntop(widest, 15); /* too short: inet_ntop's own answer */
    bad += !same_as_inet_ntop(narrow, 8);
    CHECK_INT(bad, 0);
    CHECK_DONE();
}
