#!/usr/bin/env python3
"""Live soak test, bounded in time: many distinct flows through a veth
(namespaces made by netns.py) while portwitness runs with small caps; its
resident memory must level off once the caps are reached, the caps must
hold, and the aggregates must count every flow although the raw attempts
were evicted.

The traffic: FLOWS TCP SYNs, each from its own client to its own server
(198.18.0.0/15 and 198.19.0.0/16 style addresses, written here), never
answered, so every one becomes an attempt decided "unanswered" after
--timeout 0.2 s of packet time.  They go out in three equal parts; memory
is sampled during each.  Levelling off: the peak of the last part is within
10 % (plus 4 MiB of allocator slack) of the peak of the middle one.

Usage: test_soak.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail, 77 skipped.  Python 3 stdlib only.
"""
import argparse
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402
FLOWS = 240000
PPS = 40000
CAPS = ["--max-connections", "8192", "--max-services", "4096", "--timeout", "0.2", "--udp-timeout", "0.2"]


def syn(n):
    """Ethernet/IPv4/TCP SYN of flow n: client 198.18.x.y:1024+, server 198.19.x.y:80+n%7."""
    c = bytes([198, 18, (n >> 8) & 0xff, n & 0xff])
    s = bytes([198, 19 + (n >> 16), (n >> 8) & 0xff, n & 0xff])
    tcp = struct.pack("!HHIIBBHHH", 1024 + n % 60000, 80 + n % 7, n, 0, 5 << 4, 0x02, 64240, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, n & 0xffff, 0x4000, 64, 6, 0, c, s)
    return bytes.fromhex("020000000002" "020000000001" "0800") + ip + tcp


def write_part(path, first, count, t0):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for n in range(first, first + count):
            t = t0 + n * 25  # 25 us apart: the timestamps of the replay replace these
            fr = syn(n)
            f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(fr), len(fr)) + fr)


def rx_packets(veth):
    """Packets the receiving veth handed to the stack: a loaded machine may drop
    frames in the sender's backlog before any packet socket sees them."""
    r = subprocess.run(["ip", "netns", "exec", veth.ns_b, "cat", "/sys/class/net/%s/statistics/rx_packets" % veth.rx],
                       stdout=subprocess.PIPE)
    return int(r.stdout.decode().strip() or 0)


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.part, self.peaks, self.done = pid, 0, {}, False

    def run(self):
        while not self.done:
            v = rss_kib(self.pid)
            if v:
                self.peaks[self.part] = max(self.peaks.get(self.part, 0), v)
            time.sleep(0.1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    why = netns.why_not_live()
    if why:
        print("SKIP: %s" % why)
        return 77
    tmp = tempfile.mkdtemp(prefix="pwsoak")
    try:
        parts = []
        per = FLOWS // 3
        for i in range(3):
            parts.append(os.path.join(tmp, "part%d.pcap" % i))
            write_part(parts[-1], i * per, per, 1700000000 * 1000000)
        out = os.path.join(tmp, "report.json")
        with netns.Veth("s") as veth:
            p = veth.listen(os.path.abspath(args.binary), ["--format", "json", "-o", out, "--no-progress", "-q",
                                                           "-B", "131072"] + CAPS, stdout=subprocess.DEVNULL)
            rx0 = rx_packets(veth)
            sampler = Sampler(p.pid)
            sampler.start()
            t0 = time.time()
            for i, part in enumerate(parts):
                sampler.part = i
                rc, err = veth.replay(part, ["--pps", str(PPS)])
                check(rc == 0, "tcpreplay part %d" % i, err[-300:])
            sampler.part = 3
            st, err = netns.stop(p)
            rx = rx_packets(veth) - rx0
            sampler.done = True
            print("note: %d flows in %.1f s; peak RSS per part (KiB): %s" % (FLOWS, time.time() - t0, sampler.peaks))
            check(st == 0, "soak run exits 0", err[-300:])
        with open(out) as f:
            rep = json.load(f)
        peaks = sampler.peaks
        check(peaks.get(2, 1 << 40) <= peaks.get(1, 0) * 1.10 + 4096, "memory levels off under the caps",
              str(peaks))
        caps = rep["stats"]["caps"]
        check(caps["connections"]["used"] <= caps["connections"]["max"] == 8192, "connection cap held",
              json.dumps(caps["connections"]))
        check(caps["services"]["used"] <= caps["services"]["max"] == 4096 and caps["services"]["folded_attempts"] > 0,
              "service cap held, the rest folded per port", json.dumps(caps["services"]))
        inp = rep["inputs"][0]
        drops = inp["capture"]["dropped"] + inp["capture"]["ifdropped"]
        seen = inp["packets"]
        stats = rep["stats"]
        check(stats["attempts"] == seen, "every SYN read is counted as an attempt (aggregates survive eviction)",
              "%d attempts, %d packets, %d dropped" % (stats["attempts"], seen, drops))
        check(stats["outcomes"]["unanswered"] + stats["outcomes"]["indeterminate"] == stats["attempts"],
              "every attempt unanswered (or indeterminate at the end)", json.dumps(stats["outcomes"]))
        check(seen + drops == rx, "packets read plus dropped are the packets the interface received",
              "%d + %d, interface %d (of %d sent)" % (seen, drops, rx, FLOWS))
        check(rx >= FLOWS // 2, "most flows reached the interface", "%d of %d" % (rx, FLOWS))
        svc_total = sum(sum(s["counts"].values()) for s in rep["services"])
        fold_total = sum(sum(f["counts"].values()) for f in rep.get("folded_services", []))
        check(svc_total + fold_total == stats["attempts"], "services plus folds count every attempt",
              "%d + %d vs %d" % (svc_total, fold_total, stats["attempts"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 1 if checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
