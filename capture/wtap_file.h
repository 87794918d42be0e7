/* wtap_file.h - private: capture files libpcap cannot read, through
 * Wireshark's own file library (libwiretap): pcapng whose interfaces differ
 * in link type or snapshot length, gzip-compressed pcap/pcapng, Network
 * Monitor .cap and the other formats Wireshark opens.
 *
 * Kept apart from capture.c so that only this file sees wiretap's (glib)
 * headers.  Records come back in file order, one per wtap_read(), which is
 * exactly how Wireshark numbers frames: every record is a frame, also the
 * non-packet ones (custom blocks, events), which carry no link type. */
#ifndef PW_CAPTURE_WTAP_FILE_H
#define PW_CAPTURE_WTAP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/pwtime.h"

typedef struct pw_wtap pw_wtap;

typedef struct pw_wtap_rec {
    pw_usec ts;
    uint32_t caplen, len;
    int dlt;              /* libpcap DLT of this record; -1 when not a packet or unmappable */
    bool packet;          /* a packet record (others are frames without bytes to decode) */
    const uint8_t *data;  /* caplen bytes, valid until the next pw_wtap_next() */
} pw_wtap_rec;

/* Opens path (not stdin: wiretap needs a file it can reopen).  NULL on
 * failure, with the reason in err. */
pw_wtap *pw_wtap_open(const char *path, char *err, size_t errlen);

/* 1 = a record, 0 = end of file, -1 = read error (err says why). */
int pw_wtap_next(pw_wtap *w, pw_wtap_rec *rec, char *err, size_t errlen);

/* The file's link type as a DLT, or -1 when it varies per record. */
int pw_wtap_file_dlt(pw_wtap *w);
/* Wiretap's short name of the file format ("pcapng", "netmon2"...). */
const char *pw_wtap_format(pw_wtap *w);
/* Bytes of the (possibly compressed) file consumed so far. */
long long pw_wtap_offset(pw_wtap *w);

void pw_wtap_close(pw_wtap *w);

#endif
