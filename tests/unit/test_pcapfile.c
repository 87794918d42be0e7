/* test_pcapfile.c - capture/pcapfile.c on files written here byte by byte:
 * little- and big-endian, microsecond and nanosecond classic pcap read
 * record by record with the timestamps libpcap gives; records larger than
 * its block; what it leaves to libpcap (pcapng, version 2.3, a link type
 * with a pseudo-header, a capture length beyond the snapshot length, a
 * record or header cut by the end of the file), each time saying the
 * offset of the record libpcap is to read. */
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../capture/pcapfile.h"
#include "check.h"

static uint8_t file[4 << 20];
static size_t flen;

static void put32(uint32_t v, bool be)
{
    for (int i = 0; i < 4; i++)
        file[flen++] = (uint8_t)(be ? v >> (24 - 8 * i) : v >> (8 * i));
}

static void put16(uint16_t v, bool be)
{
    file[flen++] = (uint8_t)(be ? v >> 8 : v);
    file[flen++] = (uint8_t)(be ? v : v >> 8);
}

static void header(uint32_t magic, bool be, uint16_t minor, uint32_t snaplen)
{
    flen = 0;
    put32(magic, be);
    put16(2, be);
    put16(minor, be);
    put32(0, be);
    put32(0, be);
    put32(snaplen, be);
    put32(1, be);
}

/* A record of caplen bytes, byte i = (seed + i) & 0xff. */
static void record(bool be, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len, uint8_t seed)
{
    put32(sec, be);
    put32(frac, be);
    put32(caplen, be);
    put32(len, be);
    for (uint32_t i = 0; i < caplen; i++)
        file[flen++] = (uint8_t)(seed + i);
}

/* Writes file[0..n) to a temporary file; its descriptor. */
static int as_file(size_t n)
{
    char path[] = "/tmp/pw_test_pcapfile_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    unlink(path);
    if (write(fd, file, n) != (ssize_t)n) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool bytes_ok(const uint8_t *d, uint32_t n, uint8_t seed)
{
    for (uint32_t i = 0; i < n; i++)
        if (d[i] != (uint8_t)(seed + i))
            return false;
    return true;
}

/* Three records in each byte order and precision. */
static void test_formats(void)
{
    const struct { uint32_t magic; bool be, nsec; } v[] = {
        {0xA1B2C3D4u, false, false}, {0xA1B2C3D4u, true, false},
        {0xA1B23C4Du, false, true}, {0xA1B23C4Du, true, true}};
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
        header(v[k].magic, v[k].be, 4, 65535);
        record(v[k].be, 1700000000, v[k].nsec ? 123456789u : 123456u, 60, 60, 1);
        record(v[k].be, 1700000001, 0, 0, 0, 0);
        record(v[k].be, 1700000002, v[k].nsec ? 999999999u : 999999u, 1500, 9000, 7);
        int fd = as_file(flen);
        pw_pcapfile f;
        CHECK(pw_pcapfile_open(&f, fd, DLT_EN10MB));
        CHECK(f.swapped == v[k].be);
        pw_usec ts;
        uint32_t cl, wl;
        const uint8_t *d;
        CHECK_INT(pw_pcapfile_next(&f, &ts, &cl, &wl, &d), 1);
        CHECK_INT(ts, 1700000000LL * 1000000 + 123456); /* nanoseconds scaled down */
        CHECK(cl == 60 && wl == 60 && bytes_ok(d, cl, 1));
        CHECK_INT(pw_pcapfile_next(&f, &ts, &cl, &wl, &d), 1);
        CHECK(cl == 0 && ts == 1700000001LL * 1000000);
        CHECK_INT(pw_pcapfile_next(&f, &ts, &cl, &wl, &d), 1);
        CHECK(cl == 1500 && wl == 9000 && bytes_ok(d, cl, 7) && ts == 1700000002LL * 1000000 + 999999);
        CHECK_INT(pw_pcapfile_next(&f, &ts, &cl, &wl, &d), 0);
        CHECK_INT(pw_pcapfile_offset(&f), flen);
        pw_pcapfile_close(&f);
        close(fd);
    }
}

/* Enough records to cross the block several times, some straddling it. */
static void test_blocks(void)
{
    header(0xA1B2C3D4u, false, 4, 262144);
    int n = 0;
    while (flen < sizeof file - 300000) {
        uint32_t cl = n % 50 == 0 ? 200000u : (uint32_t)(n * 37 % 1600);
        record(false, (uint32_t)n, 0, cl, cl, (uint8_t)n);
        n++;
    }
    int fd = as_file(flen);
    pw_pcapfile f;
    CHECK(pw_pcapfile_open(&f, fd, DLT_EN10MB));
    int got = 0;
    bool all_ok = true;
    pw_usec ts;
    uint32_t cl, wl;
    const uint8_t *d;
    while (pw_pcapfile_next(&f, &ts, &cl, &wl, &d) == 1) {
        uint32_t want = got % 50 == 0 ? 200000u : (uint32_t)(got * 37 % 1600);
        all_ok = all_ok && cl == want && ts == (pw_usec)got * 1000000 && bytes_ok(d, cl, (uint8_t)got);
        got++;
    }
    CHECK(all_ok);
    CHECK_INT(got, n);
    CHECK_INT(pw_pcapfile_offset(&f), flen);
    pw_pcapfile_close(&f);
    close(fd);
}

static void test_not_taken(void)
{
    pw_pcapfile f;
    header(0xA1B2C3D4u, false, 3, 65535); /* version 2.3: libpcap's business */
    int fd = as_file(flen);
    CHECK(!pw_pcapfile_open(&f, fd, DLT_EN10MB));
    close(fd);
    header(0x0A0D0D0Au, false, 4, 65535); /* a pcapng section header */
    fd = as_file(flen);
    CHECK(!pw_pcapfile_open(&f, fd, DLT_EN10MB));
    close(fd);
    header(0xA1B2C3D4u, false, 4, 65535);
    fd = as_file(flen);
    CHECK(!pw_pcapfile_open(&f, fd, DLT_NFLOG)); /* a pseudo-header libpcap byte-swaps */
    CHECK(!pw_pcapfile_open(&f, fd, DLT_LINUX_SLL));
    close(fd);
    fd = as_file(10); /* not even a header */
    CHECK(!pw_pcapfile_open(&f, fd, DLT_EN10MB));
    close(fd);
}

/* The first n bytes of file: one record read, then libpcap is to take
 * over at the second, which starts at offset `second`. */
static void expect_hand_over(size_t n, size_t second)
{
    pw_usec ts;
    uint32_t cl, wl;
    const uint8_t *d;
    pw_pcapfile f;
    int fd = as_file(n);
    CHECK(pw_pcapfile_open(&f, fd, DLT_EN10MB));
    CHECK_INT(pw_pcapfile_next(&f, &ts, &cl, &wl, &d), 1);
    CHECK_INT(pw_pcapfile_next(&f, &ts, &cl, &wl, &d), -1);
    CHECK_INT(pw_pcapfile_offset(&f), second);
    pw_pcapfile_close(&f);
    close(fd);
}

/* Where libpcap must take over: the offset of the record it is to read. */
static void test_hand_over(void)
{
    /* caplen beyond the snapshot length */
    header(0xA1B2C3D4u, false, 4, 100);
    record(false, 1, 0, 100, 100, 0);
    size_t second = flen;
    record(false, 2, 0, 101, 101, 0);
    expect_hand_over(flen, second);
    /* a record cut by the end of the file, then a header cut short */
    header(0xA1B2C3D4u, false, 4, 65535);
    record(false, 1, 0, 50, 50, 0);
    second = flen;
    record(false, 2, 0, 50, 50, 0);
    for (size_t cut = second + 1; cut < flen; cut += 7)
        expect_hand_over(cut, second);
    /* a snapshot length of 0 is taken as libpcap's maximum */
    header(0xA1B2C3D4u, false, 4, 0);
    record(false, 1, 0, 3000, 3000, 0);
    pw_usec ts;
    uint32_t cl, wl;
    const uint8_t *d;
    pw_pcapfile f;
    int fd = as_file(flen);
    CHECK(pw_pcapfile_open(&f, fd, DLT_EN10MB));
    CHECK_INT(pw_pcapfile_next(&f, &ts, &cl, &wl, &d), 1);
    pw_pcapfile_close(&f);
    close(fd);
}

int main(void)
{
    test_formats();
    test_blocks();
    test_not_taken();
    test_hand_over();
    CHECK_DONE();
}
