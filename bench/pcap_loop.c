/* pcap_loop.c - the floor: a bare libpcap read loop over a file, counting
 * packets and bytes.  bench/bench.py compares portwitness against it. */
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    if (argc != 2) {
        fprintf(stderr, "usage: pcap_loop FILE\n");
        return 2;
    }
    pcap_t *p = pcap_open_offline(argv[1], err);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    unsigned long long n = 0, bytes = 0, sum = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        n++;
        bytes += h->caplen;
        sum += h->caplen ? d[0] : 0; /* touch the data like a decoder would */
    }
    printf("%llu packets %llu bytes (%llu)\n", n, bytes, sum & 1);
    pcap_close(p);
    return 0;
}
