#!/usr/bin/env python3
"""The analysis thread changes nothing but speed: every capture in pcaps/ (one
at a time, then all of them in one run, so inputs follow one another through
the ring) and generated captures large enough to fill the ring many times
over are read with --threads 1 (capture, dissectors and analysis on one
thread), --threads 2 (cli/handoff.c: the analysis on a second core) and
--threads auto (the analysis moves between the two as connections start
often or rarely, checked on a capture that makes it move there and back),
and the json and jsonl reports and the exit status must be byte for byte the
same.  -v tells the modes apart; a bad --threads value is a usage error.

Usage: test_threads.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail; last line "N passed, N failed".  Python 3 stdlib only.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402


def run(binary, threads, fmt, files, extra=()):
    cmd = [binary, "--no-progress", "--threads", str(threads), "--format", fmt] + list(extra)
    for f in files:
        cmd += ["-r", f]
    r = subprocess.run(cmd, capture_output=True, timeout=300)  # a stuck handoff fails, not hangs
    return r.returncode, r.stdout, r.stderr


def same_both_ways(binary, files, what):
    for fmt in ("json", "jsonl"):
        one = run(binary, 1, fmt, files, ["-q"])
        check(one[0] in (0, 1), "%s %s: read (exit 0 or 1)" % (what, fmt), str(one[0]))
        check(len(one[1]) > 0, "%s %s: a report was written" % (what, fmt))
        for mode in ("2", "auto"):
            other = run(binary, mode, fmt, files, ["-q"])
            check(one[0] == other[0], "%s %s --threads %s: exit status" % (what, fmt, mode),
                  "%d vs %d" % (one[0], other[0]))
            check(one[1] == other[1], "%s %s --threads %s: report" % (what, fmt, mode),
                  "%d vs %d bytes" % (len(one[1]), len(other[1])))


def modes_differ(binary, cap):
    """-v says where the analysis ran: the two modes are really two."""
    two = run(binary, 2, "json", [cap], ["-v"])
    one = run(binary, 1, "json", [cap], ["-v"])
    check(b"analysis on a second thread" in two[2], "--threads 2 runs the analysis on a second thread",
          two[2].decode(errors="replace")[-300:])
    check(b"analysis on" not in one[2], "--threads 1 starts no analysis thread",
          one[2].decode(errors="replace")[-300:])


def bulk(g, cap, t, n, client="10.8.0.1", server="10.8.0.2"):
    """One connection carrying n data segments: hardly any connection starts."""
    cap.add(t, g.ether(g.ip(client, server, g.tcp(40000, 445, g.TH_SYN, 1))))
    cap.add(t + 0.0001, g.ether(g.ip(server, client, g.tcp(445, 40000, g.TH_SYN | g.TH_ACK, 9, 2))))
    for i in range(n):
        cap.add(t + 0.0002 + i * 1e-5, g.ether(g.ip(client, server, g.tcp(40000, 445, g.TH_ACK, 2 + 100 * i, 10,
                                                                        b"\0" * 100))))
    return t + 0.0002 + n * 1e-5


def short_flows(g, cap, t, n):
    for i in range(n):
        c = "10.7.%d.%d" % (i >> 8 & 255, i & 255)
        t += 0.00005
        cap.add(t, g.ether(g.ip(c, "10.6.0.1", g.tcp(1024 + i % 50000, 80, g.TH_SYN, i))))
        cap.add(t + 0.00001, g.ether(g.ip("10.6.0.1", c, g.tcp(80, 1024 + i % 50000, g.TH_RST | g.TH_ACK, 0, i + 1))))
    return t


def test_auto_switches(binary, g, work):
    """Bulk, then short flows, then bulk again: auto hands the analysis to its
    thread for the short flows and takes it back (-v -v says when), and the
    report is the one every mode gives."""
    cap = g.Capture()
    t = bulk(g, cap, 1700000000.0, 140000)
    t = short_flows(g, cap, t + 1, 70000)
    bulk(g, cap, t + 1, 140000, "10.8.0.3", "10.8.0.4")
    path = os.path.join(work, "mixed.pcap")
    cap.write(path)
    r = run(binary, "auto", "json", [path], ["-v", "-v"])
    log = r[2].decode(errors="replace")
    on = log.count("analysis on its own thread")
    off = log.count("analysis back on the reading thread")
    check(on == 1 and off == 1, "auto: on for the short flows, off for the bulk after them",
          "on %d, off %d" % (on, off))
    same_both_ways(binary, [path], "bulk, short flows, bulk")


def big_capture(g, path):
    """Short TCP exchanges, unanswered SYNs and NBNS datagrams: about 150,000
    packets, many times the ring."""
    cap = g.Capture()
    t = 1700000000.0
    for i in range(40000):
        c = "10.9.%d.%d" % (i >> 8 & 255, i & 255)
        s = "172.20.%d.%d" % (i >> 8 & 15, i * 7 & 255)
        cp = 20000 + i % 30000
        t += 0.0002
        if i % 3 == 0:
            cap.add(t, g.ether(g.ip(c, s, g.tcp(cp, 445, g.TH_SYN, 100))))
            continue
        cap.add(t, g.ether(g.ip(c, s, g.tcp(cp, 135, g.TH_SYN, 100))))
        cap.add(t + 0.0001, g.ether(g.ip(s, c, g.tcp(135, cp, g.TH_SYN | g.TH_ACK, 500, 101))))
        cap.add(t + 0.0002, g.ether(g.ip(c, s, g.tcp(cp, 135, g.TH_ACK, 101, 501))))
        cap.add(t + 0.0003, g.ether(g.ip(c, s, g.tcp(cp, 135, g.TH_RST | g.TH_ACK, 101, 501))))
        cap.add(t + 0.0001, g.ether(g.ip(c, s, g.udp(cp, 137, b"\x00" * 50))))
    cap.write(path)


def retire_burst(g, path):
    """12,000 unanswered SYNs in a second, then a packet an hour later: all
    of them retire at that one packet, three times the ring that brings
    retired attempts back to the pipeline's thread (cli/handoff.c), so the
    analysis thread waits for it to make room, mid-file; then more flows."""
    cap = g.Capture()
    t = 1700000000.0
    for i in range(12000):
        c = "10.11.%d.%d" % (i >> 8 & 255, i & 255)
        cap.add(t + i * 0.00008, g.ether(g.ip(c, "172.21.%d.%d" % (i >> 8 & 255, i & 255),
                                              g.tcp(30000 + i % 20000, 445, g.TH_SYN, 7))))
    t += 3600
    short_flows(g, cap, t, 3000)
    cap.write(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    caps = sorted(glob.glob(os.path.join(args.source, "pcaps", "*")))
    check(len(caps) > 20, "pcaps/ holds the scenario captures", str(len(caps)))
    for p in caps:
        same_both_ways(args.binary, [p], os.path.basename(p))
    readable = [p for p in caps if run(args.binary, 1, "json", [p], ["-q"])[0] == 0]
    check(len(readable) > 20, "most of pcaps/ reads without error", str(len(readable)))
    same_both_ways(args.binary, readable, "all of pcaps/ in one run")
    modes_differ(args.binary, readable[0])
    sys.path.insert(0, os.path.join(args.source, "tools", "pcapgen"))
    import pcapgen as g
    with tempfile.TemporaryDirectory() as work:
        big = os.path.join(work, "big.pcap")
        big_capture(g, big)
        same_both_ways(args.binary, [big], "generated 150k packets")
        same_both_ways(args.binary, [big, big], "the same big capture twice")
        test_auto_switches(args.binary, g, work)
        burst = os.path.join(work, "burst.pcap")
        retire_burst(g, burst)
        same_both_ways(args.binary, [burst], "12,000 retirements at one packet")
    r = subprocess.run([args.binary, "--threads", "3", "-r", caps[0]], capture_output=True)
    check(r.returncode == 2, "--threads 3 is a usage error", str(r.returncode))
    r = subprocess.run([args.binary, "--threads", "auto", "-q", "-r", caps[0]], capture_output=True)
    check(r.returncode in (0, 1), "--threads auto is accepted", str(r.returncode))
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 1 if checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
