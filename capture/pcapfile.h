/* pcapfile.h - classic pcap records read straight from the file.
 *
 * libpcap reads a file record by record through stdio: two fread() calls a
 * record and two copies of its bytes before ours.  For the common case (a
 * classic pcap file, version 2.4, of a link type with no pseudo-header to
 * byte-swap) this reader takes large blocks with pread() and hands out each
 * record where it lies.  Anything else it does not interpret: at the first
 * record it would have to (a capture length beyond the snapshot length or
 * the 256 KiB libpcap accepts, a record cut by the end of the file) it stops
 * and says where, and libpcap reads the rest from that offset, with its own
 * checks and its own error messages.  The timestamps are libpcap's too:
 * microseconds, nanosecond files scaled down the way libpcap does. */
#ifndef PW_CAPTURE_PCAPFILE_H
#define PW_CAPTURE_PCAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/pwtime.h"

typedef struct pw_pcapfile {
    int fd;
    bool swapped, nsec;
    uint32_t snaplen;
    uint8_t *buf;     /* a block of the file */
    size_t cap, len;  /* its size and the bytes in it */
    size_t pos;       /* the next record's offset in buf */
    uint64_t off;     /* the file offset of buf[0] */
    bool eof;
} pw_pcapfile;

/* Takes the file open on fd when its 24-byte header (at offset 0) is a
 * classic pcap 2.4 header and dlt (the link type libpcap reported) is one
 * whose records need no fixing up; false leaves everything to libpcap. */
bool pw_pcapfile_open(pw_pcapfile *f, int fd, int dlt);
/* The next record: 1 (its bytes stay valid until the next call), 0 at the
 * end of the file, -1 when libpcap must take over at pw_pcapfile_offset()
 * (see above; the record there is not consumed). */
int pw_pcapfile_next(pw_pcapfile *f, pw_usec *ts, uint32_t *caplen, uint32_t *len, const uint8_t **data);
/* The file offset of the next record. */
uint64_t pw_pcapfile_offset(const pw_pcapfile *f);
void pw_pcapfile_close(pw_pcapfile *f);

#endif
