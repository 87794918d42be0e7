/* pcapfile.c - classic pcap records straight from the file (see pcapfile.h). */
#include "pcapfile.h"

#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cursor.h"

#define BLOCK_BYTES ((size_t)256 << 10)
#define FILE_HDR 24
#define REC_HDR 16
/* The largest capture length libpcap accepts for these link types. */
#define MAX_CAPLEN 262144u

/* Link types whose records libpcap hands over exactly as stored (no
 * pseudo-header it byte-swaps or fixes up). */
static bool plain_dlt(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB:
    case DLT_RAW: /* 12 on Linux, where libpcap maps LINKTYPE_RAW */
    case 14:      /* DLT_RAW (BSD/OS) */
    case DLT_IPV4:
    case DLT_IPV6:
        return true;
    default:
        return false;
    }
}

bool pw_pcapfile_open(pw_pcapfile *f, int fd, int dlt)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    uint8_t h[FILE_HDR];
    if (!plain_dlt(dlt) || pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h)
        return false;
    pw_cursor c = pw_cur(h, sizeof h);
    uint32_t magic = pw_le32(&c);
    if (magic == 0xA1B2C3D4u || magic == 0xA1B23C4Du) {
        f->swapped = false;
    } else if (magic == 0xD4C3B2A1u || magic == 0x4D3CB2A1u) {
        f->swapped = true;
    } else {
        return false; /* pcapng, a modified pcap format, not a capture */
    }
    f->nsec = magic == 0xA1B23C4Du || magic == 0x4D3CB2A1u;
    uint16_t major = f->swapped ? pw_be16(&c) : pw_le16(&c);
    uint16_t minor = f->swapped ? pw_be16(&c) : pw_le16(&c);
    pw_skip(&c, 8); /* thiszone, sigfigs */
    f->snaplen = f->swapped ? pw_be32(&c) : pw_le32(&c);
    if (!pw_cur_ok(&c) || major != 2 || minor != 4)
        return false;
    if (f->snaplen == 0 || f->snaplen > MAX_CAPLEN)
        f->snaplen = MAX_CAPLEN; /* as libpcap adjusts it */
    f->buf = malloc(BLOCK_BYTES);
    if (!f->buf)
        return false;
    f->cap = BLOCK_BYTES;
    f->fd = fd;
    f->off = FILE_HDR;
    return true;
}

/* Keeps the unread tail and reads on after it; false at the end of the
 * file or on a read error (libpcap then reads from the same offset and
 * tells which). */
static bool refill(pw_pcapfile *f)
{
    if (f->eof)
        return false;
    size_t tail = f->len - f->pos;
    memmove(f->buf, f->buf + f->pos, tail);
    f->off += f->pos;
    f->pos = 0;
    f->len = tail;
    ssize_t n = pread(f->fd, f->buf + tail, f->cap - tail, (off_t)(f->off + tail));
    if (n <= 0) {
        f->eof = true;
        return false;
    }
    f->len += (size_t)n;
    return true;
}

/* Ensures n bytes from pos; false when the file has fewer. */
static bool have(pw_pcapfile *f, size_t n)
{
    while (f->len - f->pos < n)
        if (!refill(f))
            return false;
    return true;
}

int pw_pcapfile_next(pw_pcapfile *f, pw_usec *ts, uint32_t *caplen, uint32_t *len, const uint8_t **data)
{
    if (!have(f, REC_HDR))
        return f->len == f->pos ? 0 : -1; /* a header cut short: libpcap's error */
    pw_cursor c = pw_cur(f->buf + f->pos, f->len - f->pos);
    uint32_t sec = f->swapped ? pw_be32(&c) : pw_le32(&c);
    uint32_t frac = f->swapped ? pw_be32(&c) : pw_le32(&c);
    uint32_t cl = f->swapped ? pw_be32(&c) : pw_le32(&c);
    uint32_t wl = f->swapped ? pw_be32(&c) : pw_le32(&c);
    if (!pw_cur_ok(&c) || cl > f->snaplen || cl > MAX_CAPLEN || !have(f, REC_HDR + (size_t)cl))
        return -1;
    c = pw_cur(f->buf + f->pos + REC_HDR, cl);
    *data = pw_cur_view(&c, cl);
    *ts = (pw_usec)sec * PW_USEC_PER_SEC + (pw_usec)(f->nsec ? frac / 1000 : frac);
    *caplen = cl;
    *len = wl;
    f->pos += REC_HDR + (size_t)cl;
    return 1;
}

uint64_t pw_pcapfile_offset(const pw_pcapfile *f)
{
    return f->off + f->pos;
}

void pw_pcapfile_close(pw_pcapfile *f)
{
    free(f->buf);
    memset(f, 0, sizeof *f);
    f->fd = -1;
}
