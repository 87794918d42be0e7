#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pw_addr_v4(pw_addr *a, const uint8_t b[4])
{
    memset(a, 0, sizeof *a);
    a->family = 4;
    memcpy(a->b, b, 4);
}

void pw_addr_v6(pw_addr *a, const uint8_t b[16])
{
    memset(a, 0, sizeof *a);
    a->family = 6;
    memcpy(a->b, b, 16);
}

bool pw_addr_eq(const pw_addr *x, const pw_addr *y)
{
    return memcmp(x, y, sizeof *x) == 0;
}

int pw_addr_cmp(const pw_addr *x, const pw_addr *y)
{
    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    return memcmp(x->b, y->b, 16);
}

const char *pw_addr_str(const pw_addr *a, char *buf, size_t len)
{
    if (len == 0)
        return buf;
    buf[0] = '\0';
    if (a->family == 4 && len >= 16) {
        /* what inet_ntop writes, without its printf: a report names an
         * address or two on each of thousands of lines */
        char *p = buf;
        for (int i = 0; i < 4; i++) {
            unsigned v = a->b[i];
            if (v >= 100)
                *p++ = (char)('0' + v / 100);
            if (v >= 10)
                *p++ = (char)('0' + v / 10 % 10);
            *p++ = (char)('0' + v % 10);
            *p++ = i < 3 ? '.' : '\0';
        }
    } else if (a->family == 4)
        inet_ntop(AF_INET, a->b, buf, (socklen_t)len);
    else if (a->family == 6)
        inet_ntop(AF_INET6, a->b, buf, (socklen_t)len);
    else
        snprintf(buf, len, "?");
    return buf;
}

bool pw_addr_parse_cidr(const char *text, pw_addr *net, int *prefix)
{
    char tmp[64];
    size_t n = strlen(text);
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, text, n + 1);
    char *slash = strchr(tmp, '/');
    long pfx = -1;
    if (slash) {
        char *end;
        *slash = '\0';
        pfx = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1)
            return false;
    }
    uint8_t b[16];
    if (inet_pton(AF_INET, tmp, b) == 1) {
        if (pfx > 32)
            return false;
        pw_addr_v4(net, b);
        *prefix = pfx < 0 ? 32 : (int)pfx;
        return true;
    }
    if (inet_pton(AF_INET6, tmp, b) == 1) {
        if (pfx > 128)
            return false;
        pw_addr_v6(net, b);
        *prefix = pfx < 0 ? 128 : (int)pfx;
        return true;
    }
    return false;
}

bool pw_addr_in_cidr(const pw_addr *a, const pw_addr *net, int prefix)
{
    if (a->family != net->family)
        return false;
    int full = prefix / 8, rest = prefix % 8;
    if (memcmp(a->b, net->b, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a->b[full] & mask) == (net->b[full] & mask);
}

bool pw_addr_is_group(const pw_addr *a)
{
    if (a->family == 4)
        return (a->b[0] & 0xf0) == 0xe0 || a->b[3] == 255;
    if (a->family == 6)
        return a->b[0] == 0xff;
    return false;
}

uint32_t pw_addr_hash(const pw_addr *a)
{
    /* FNV-1a over the used bytes; small and good enough for uthash buckets. */
    uint32_t h = 2166136261u ^ a->family;
    int n = a->family == 4 ? 4 : 16;
    for (int i = 0; i < n; i++) {
        h ^= a->b[i];
        h *= 16777619u;
    }
    return h;
}
