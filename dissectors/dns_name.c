/* dns_name.c - compressed domain names (see dns_name.h). */
#include "dns_name.h"

size_t pw_dnsn_read(pw_cursor *msg, uint8_t wire[PW_DNSN_WIRE_MAX])
{
    /* c walks the name; it shares msg's base so offsets stay absolute. */
    pw_cursor c = *msg;
    size_t run_start = pw_cur_pos(&c); /* start of the current label run */
    size_t wlen = 0;
    int jumps = 0;
    bool jumped = false;

    for (;;) {
        size_t here = pw_cur_pos(&c);
        uint8_t len = pw_u8(&c);
        if (!pw_cur_ok(&c))
            goto bad;
        if (len == 0) {
            if (wlen + 1 > PW_DNSN_WIRE_MAX)
                goto bad;
            wire[wlen++] = 0;
            break;
        }
        if ((len & 0xc0) == 0xc0) {
            size_t target = ((size_t)(len & 0x3f) << 8) | pw_u8(&c);
            if (!pw_cur_ok(&c))
                goto bad;
            if (!jumped) {
                /* The name occupies the message up to the first pointer. */
                *msg = c;
                jumped = true;
            }
            /* Backwards only, and before the run this pointer ends:
             * targets strictly decrease, so no loop can form. */
            if (target >= run_start || target >= here || ++jumps > PW_DNSN_MAX_JUMPS)
                goto bad;
            c = pw_at(msg, 0, msg->len);
            pw_skip(&c, target);
            if (!pw_cur_ok(&c))
                goto bad;
            run_start = target;
            continue;
        }
        if (len & 0xc0)
            goto bad; /* 01 / 10: extended label types */
        /* label + the final root byte must fit in 255 */
        if (wlen + 1 + len + 1 > PW_DNSN_WIRE_MAX)
            goto bad;
        wire[wlen] = len;
        if (!pw_copy(&c, wire + wlen + 1, len))
            goto bad;
        wlen += 1 + (size_t)len;
    }
    if (!jumped)
        *msg = c;
    return wlen;

bad:
    pw_cur_fail(msg);
    return 0;
}

size_t pw_dnsn_labels(const uint8_t *wire, size_t wlen)
{
    size_t n = 0, i = 0;
    while (i < wlen && wire[i] != 0) {
        n++;
        i += 1 + (size_t)wire[i];
    }
    return n;
}

void pw_dnsn_dotted(const uint8_t *wire, size_t wlen, char *out, size_t cap)
{
    size_t o = 0, i = 0;
    if (cap == 0)
        return;
    while (i < wlen && wire[i] != 0) {
        size_t len = wire[i++];
        if (o > 0 && o + 1 < cap)
            out[o++] = '.';
        for (size_t k = 0; k < len && i < wlen; k++, i++) {
            uint8_t ch = wire[i];
            if (o + 1 < cap)
                out[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
        }
    }
    out[o] = '\0';
}
