#!/usr/bin/env python3
"""Live capture: the highest replay rate with zero drops, and CPU and memory
at 1 Gbit/s.  Not a test: the figures go to the README.

Builds the real mixed capture of bench.py (../shared/pcaps concatenated),
then for each rate replays it with `tcpreplay --mbps RATE` through a veth
between two network namespaces made for the run (tests/live/netns.py: no
traffic leaves them) while portwitness captures on the other end, and reads
from portwitness's JSON report how many packets it read and how many
libpcap/the kernel dropped (input.capture), and from wait4() its CPU time and
peak RSS.  Needs root, iproute2 and tcpreplay.

usage: bench/live_bench.py [--binary build/portwitness] [--packets 300000]
                           [--rates 100,200,400,700,1000,1500,2000] [-B KIB]
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "live"))
import bench  # noqa: E402
import netns  # noqa: E402


def one_rate(veth, binary, pcap, mbps, buffer_kib, tmp):
    out = os.path.join(tmp, "r%d.json" % mbps)
    p = veth.listen(binary, ["--format", "json", "-o", out, "--no-progress", "-q", "-B", str(buffer_kib)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    r = subprocess.run(["ip", "netns", "exec", veth.ns_a, "tcpreplay", "-i", veth.tx, "--mbps", str(mbps), pcap],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    replay_s = time.time() - t0
    m = re.search(r"Rated: [\d.]+ Bps, ([\d.]+) Mbps", r.stdout.decode())
    achieved = float(m.group(1)) if m else 0.0
    sent = re.search(r"Actual: (\d+) packets", r.stdout.decode())
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    _, status, ru = os.wait4(p.pid, 0)
    with open(out) as f:
        inp = json.load(f)["inputs"][0]
    cap = inp.get("capture", {})
    return {"mbps": mbps, "achieved": achieved, "sent": int(sent.group(1)) if sent else 0, "read": inp["packets"],
            "dropped": cap.get("dropped", 0) + cap.get("ifdropped", 0),
            "cpu": (ru.ru_utime + ru.ru_stime) / replay_s, "rss_mib": ru.ru_maxrss / 1024.0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "portwitness"))
    ap.add_argument("--packets", type=int, default=300_000)
    ap.add_argument("--rates", default="100,200,400,700,1000,1500,2000")
    ap.add_argument("-B", type=int, default=65536, dest="buffer_kib")
    args = ap.parse_args()
    why = netns.why_not_live()
    if why:
        sys.exit("live_bench: %s" % why)
    tmp = tempfile.mkdtemp(prefix="pwlivebench")
    pcap = os.path.join(tmp, "mix.pcap")
    n = bench.build_real_mix(os.path.join(REPO, "..", "shared", "pcaps"), pcap, args.packets)
    if not n:
        sys.exit("live_bench: no Ethernet capture in ../shared/pcaps")
    print("real mix: %d packets, %.1f MB" % (n, os.path.getsize(pcap) / 1e6))
    print("| asked Mbit/s | achieved Mbit/s | sent | read | dropped | CPU (cores) | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    best = None
    with netns.Veth("b") as veth:
        for mbps in [int(x) for x in args.rates.split(",")]:
            r = one_rate(veth, os.path.abspath(args.binary), pcap, mbps, args.buffer_kib, tmp)
            print("| %d | %.0f | %d | %d | %d | %.2f | %.0f |" % (r["mbps"], r["achieved"], r["sent"], r["read"],
                                                                r["dropped"], r["cpu"], r["rss_mib"]), flush=True)
            if r["dropped"] == 0 and r["read"] >= r["sent"]:
                best = r if not best or r["achieved"] > best["achieved"] else best
    print("highest rate with zero drops: %s Mbit/s achieved" % ("%.0f" % best["achieved"] if best else "none"))
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
