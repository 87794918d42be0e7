#!/usr/bin/env python3
"""Throughput and peak memory: portwitness vs a bare libpcap loop vs tshark.

Builds each case's capture, then runs the bare libpcap read loop and
portwitness on it in turn, --runs times (A B A B ...: pairing keeps the ratio
meaningful when the machine's speed drifts), and prints the medians side by
side: seconds, packets/s, the loop's time over portwitness's ("x loop", the
median of the pairs), peak RSS and the report's size.  Not a test: the
figures go to the README.

Cases (--case picks some):
  real        the captures of ../shared/pcaps (Ethernet ones, each shifted in time so the
              result is monotonic, addresses kept), concatenated until --packets packets
  short       synthetic short flows: 500,000 TCP handshakes never closed, each with an
              unanswered DNS query (2 M packets, 500 s of packet time)
  shortflows  ../shared/bench/shortflows.py: 500,000 answered flows, TCP closed by RST,
              UDP answered (1.8 M packets, 9 s); skipped when that generator is absent
  flood       1,000,000 unanswered SYNs from distinct clients to distinct servers in 10 s
              of packet time (a scan or flood as a span port sees it); also prints the
              size of the JSON report

usage: bench/bench.py [--binary build/portwitness] [--loop build/pcap_loop]
                      [--case real,short,shortflows,flood] [--packets N] [--runs N] [--warmup N]
"""
import argparse
import glob
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tools", "pcapgen"))


def read_pcap_records(path):
    """Yields (ts_usec, caplen, origlen, data) of a classic pcap (after editcap)."""
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return
        magic = struct.unpack("<I", hdr[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            e = "<"
        else:
            e = ">"
            magic = struct.unpack(">I", hdr[:4])[0]
        nano = magic == 0xA1B23C4D
        link = struct.unpack(e + "I", hdr[20:24])[0]
        if link != 1:
            return
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                return
            s, frac, cl, ol = struct.unpack(e + "IIII", rh)
            data = f.read(cl)
            if len(data) < cl:
                return
            yield s * 1000000 + (frac // 1000 if nano else frac), data, ol


def build_real_mix(shared, out_path, want):
    tmp = tempfile.mkdtemp()
    sources = []
    for p in sorted(glob.glob(os.path.join(shared, "**", "*.pcap*"), recursive=True)):
        if os.path.getsize(p) > 20_000_000:
            continue
        conv = os.path.join(tmp, "%d.pcap" % len(sources))
        r = subprocess.run(["editcap", "-F", "pcap", p, conv], capture_output=True)
        if r.returncode == 0:
            recs = list(read_pcap_records(conv))
            if recs:
                sources.append(recs)
    shutil.rmtree(tmp)
    if not sources:
        return 0
    n, t = 0, 1_600_000_000 * 1_000_000
    with open(out_path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        while n < want:
            for recs in sources:
                base = recs[0][0]
                for ts, data, ol in recs:
                    # keep each source's own pacing, but at most 10 minutes long
                    tt = t + min(max(0, ts - base), 600_000_000)
                    f.write(struct.pack("<IIII", tt // 1000000, tt % 1000000, len(data), ol))
                    f.write(data)
                    n += 1
                t = tt + 1_000_000
                if n >= want:
                    break
    return n


def build_synthetic(out_path, want):
    """Many short TCP handshakes and UDP exchanges across a long time span."""
    import pcapgen as g
    n = 0
    t = 1_700_000_000.0
    with open(out_path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        i = 0
        while n < want:
            c = "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255 or 1)
            s = "10.200.%d.%d" % ((i >> 8) & 255, i & 255 or 1)
            frames = [
                g.ether(g.ip(c, s, g.tcp(40000 + i % 20000, 445, g.TH_SYN, 1000))),
                g.ether(g.ip(s, c, g.tcp(445, 40000 + i % 20000, g.TH_SYN | g.TH_ACK, 5000, 1001))),
                g.ether(g.ip(c, s, g.tcp(40000 + i % 20000, 445, g.TH_ACK, 1001, 5001))),
                g.ether(g.ip(c, s, g.udp(50000 + i % 10000, 53, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x00\x00\x01\x00\x01"))),
            ]
            for k, fr in enumerate(frames):
                tt = int((t + k * 0.0001) * 1e6)
                f.write(struct.pack("<IIII", tt // 1000000, tt % 1000000, len(fr), len(fr)))
                f.write(fr)
            n += len(frames)
            i += 1
            t += 0.001
    return n


def build_flood(out_path, want):
    """`want` unanswered SYNs, distinct clients and servers, 100,000 per second."""
    eth = b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00"
    with open(out_path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(want):
            src = bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255])
            dst = bytes([172, 16 + (i >> 16 & 15), (i >> 8) & 255, i & 255])
            tcp = struct.pack(">HHIIBBHHH", 1024 + i % 60000, 80 + i % 1000, i, 0, 5 << 4, 0x02, 65535, 0, 0)
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 40, i & 0xFFFF, 0, 64, 6, 0, src, dst)
            ts = 1_700_000_000 * 1_000_000 + i * 10
            f.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, 54, 54))
            f.write(eth + ip + tcp)
    return want


# Runs a command in a fresh Python child so that RUSAGE_CHILDREN holds only
# that command's peak RSS (ru_maxrss of children is a maximum over all of them).
_MEASURE = r"""
import resource, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
dt = time.perf_counter() - t0
sys.stderr.write(p.stderr.decode(errors="replace")[-500:])
print(p.returncode, dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def run(cmd):
    """Runs cmd, returns (seconds, peak RSS in MiB of that command)."""
    r = subprocess.run([sys.executable, "-c", _MEASURE] + cmd, capture_output=True, text=True)
    code, dt, rss = r.stdout.split()
    if int(code) not in (0, 3):
        sys.stderr.write("%s failed (%s): %s\n" % (cmd[0], code, r.stderr))
    return float(dt), int(rss) / 1024.0


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def bench_case(name, args, work, shared):
    """Builds one case's capture, runs the loop and portwitness on it in
    turn (and tshark once on the real mix); returns the printed rows."""
    big = os.path.join(work, name + ".pcap")
    if name == "real":
        if not os.path.isdir(shared):
            print("real: skipped (no ../shared/pcaps)")
            return []
        n = build_real_mix(shared, big, args.packets)
    elif name == "short":
        n = build_synthetic(big, args.short_packets)
    elif name == "shortflows":
        gen = os.path.join(shared, "..", "bench", "shortflows.py")
        if not os.path.exists(gen):
            print("shortflows: skipped (no ../shared/bench/shortflows.py)")
            return []
        subprocess.run([sys.executable, gen, big, str(args.short_packets // 4)], check=True)
        n = count_records(big)
    else:
        n = build_flood(big, args.flood_syns)
    # The capture was just written: its pages go to disk now, not while the
    # kernel's write-back would take CPU from the runs being timed.
    os.sync()
    report = os.path.join(work, name + ".json")
    pw_cmd = [args.binary, "--no-progress", "-q", "-r", big, "--format", "json", "-o", report]
    have_loop = os.path.exists(args.loop)
    loops, pws, ratios = [], [], []
    # Untimed first runs: the first reads after the capture was written
    # are slower for either tool, by up to a third, while the page cache
    # settles.
    for _ in range(args.warmup):
        if have_loop:
            run([args.loop, big])
        run(pw_cmd)
    for _ in range(max(1, args.runs)):
        if have_loop:
            loops.append(run([args.loop, big]))
        pws.append(run(pw_cmd))
        if have_loop:
            ratios.append(loops[-1][0] / pws[-1][0])
    rows = []
    if have_loop:
        rows.append((name, "bare libpcap loop", n, median([x[0] for x in loops]),
                     max(x[1] for x in loops), None, None))
    rows.append((name, "portwitness", n, median([x[0] for x in pws]), max(x[1] for x in pws),
                 median(ratios) if ratios else None, os.path.getsize(report) / 1e6))
    if name == "real" and shutil.which("tshark") and args.tshark_packets:
        dt, mem = run(["tshark", "-r", big, "-c", str(args.tshark_packets), "-q"])
        rows.append((name, "tshark (first %d)" % args.tshark_packets, min(n, args.tshark_packets), dt, mem,
                     None, None))
    os.unlink(big)
    return rows


def count_records(path):
    with open(path, "rb") as f:
        f.seek(24)
        n = 0
        while True:
            h = f.read(16)
            if len(h) < 16:
                return n
            f.seek(struct.unpack("<I", h[8:12])[0], 1)
            n += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "portwitness"))
    ap.add_argument("--loop", default=os.path.join(REPO, "build", "pcap_loop"))
    ap.add_argument("--case", default="real,short,shortflows,flood")
    ap.add_argument("--runs", type=int, default=5, help="paired runs per case (medians are printed)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs of each tool first")
    ap.add_argument("--packets", type=int, default=5_000_000, help="real mix size")
    ap.add_argument("--short-packets", type=int, default=2_000_000)
    ap.add_argument("--flood-syns", type=int, default=1_000_000)
    ap.add_argument("--tshark-packets", type=int, default=500_000,
                    help="tshark is ~100x slower: time it on a prefix of this many packets")
    args = ap.parse_args()

    shared = os.path.join(REPO, "..", "shared", "pcaps")  # ../shared/bench is beside it
    work = tempfile.mkdtemp()
    rows = []
    try:
        for name in args.case.split(","):
            rows += bench_case(name, args, work, shared)
    finally:
        shutil.rmtree(work)
    print("%-10s %-24s %10s %8s %10s %9s %9s %10s" % ("case", "tool", "packets", "seconds", "packets/s",
                                                    "x loop", "peak MiB", "report MB"))
    for case, tool, cnt, dt, mem, ratio, rep in rows:
        print("%-10s %-24s %10d %8.2f %10.0f %9s %9.1f %10s" % (
            case, tool, cnt, dt, cnt / dt if dt else 0, "%.2f" % ratio if ratio else "",
            mem, "%.1f" % rep if rep is not None else ""))


if __name__ == "__main__":
    main()
