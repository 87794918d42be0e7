/* nnr_util.h - small private helpers shared by hosts.c and nnr.c (names as
 * JSON-safe strings, who sent an event). */
#ifndef PW_NNR_UTIL_H
#define PW_NNR_UTIL_H

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../dissectors/events.h"

/* Copies a name for keeping: invalid UTF-8 bytes and control characters
 * become '?', a trailing dot is dropped (DNS), length capped.  Returns a
 * malloc'd string, or NULL when nothing is left. */
static inline char *pw_nu_name_dup(const char *in)
{
    if (!in)
        return NULL;
    size_t n = strnlen(in, PW_NAME_MAX);
    while (n > 0 && (in[n - 1] == '.' || in[n - 1] == ' '))
        n--;
    if (n == 0)
        return NULL;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len = 0;
        if (c < 0x80)
            len = 1;
        else if ((c & 0xe0) == 0xc0 && c >= 0xc2)
            len = 2;
        else if ((c & 0xf0) == 0xe0)
            len = 3;
        else if ((c & 0xf8) == 0xf0 && c <= 0xf4)
            len = 4;
        bool ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++)
            ok = (s[i + k] & 0xc0) == 0x80;
        if (ok && len == 3) {
            /* no overlongs, no surrogates */
            if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0))
                ok = false;
        } else if (ok && len == 4) {
            if ((c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] >= 0x90))
                ok = false;
        }
        if (!ok || (len == 1 && (c < 0x20 || c == 0x7f))) {
            out[i] = '?';
            i++;
            continue;
        }
        memcpy(out + i, s + i, len);
        i += len;
    }
    out[n] = '\0';
    return out;
}

/* Compares the first labels ("DC1" of "dc1.corp.local") case-insensitively. */
static inline bool pw_nu_same_label(const char *a, const char *b)
{
    size_t la = strcspn(a, "."), lb = strcspn(b, ".");
    if (la != lb)
        return false;
    for (size_t i = 0; i < la; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return false;
    return true;
}

/* The sender / receiver of an event's message. */
static inline const pw_addr *pw_nu_sender(const pw_event *ev)
{
    return ev->dir == 0 ? &ev->flow.client : &ev->flow.server;
}
static inline const pw_addr *pw_nu_receiver(const pw_event *ev)
{
    return ev->dir == 0 ? &ev->flow.server : &ev->flow.client;
}
static inline uint16_t pw_nu_sender_port(const pw_event *ev)
{
    return ev->dir == 0 ? ev->flow.client_port : ev->flow.server_port;
}
static inline uint16_t pw_nu_receiver_port(const pw_event *ev)
{
    return ev->dir == 0 ? ev->flow.server_port : ev->flow.client_port;
}

#endif
