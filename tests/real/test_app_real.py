#!/usr/bin/env python3
"""Real-capture application results: for every capture in
../shared/pcaps/INDEX.tsv where tshark finds TDS, the TDS logins portwitness
counts per service (JSON services[].app: ok = LOGINACK, failed = ERROR of
class 11 or more, with its number listed) equal what tshark decodes
(tds.loginack.progname, tds.error.number / tds.error.class) on the same
server and port.

Usage: test_app_real.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail, 77 skipped (no ../shared/pcaps or no tshark); last line
"N passed, N failed".  Python 3 stdlib only.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402


def tshark_logins(pcap):
    """{(server, port): [ok, {error number: count}]} from tshark's TDS decoding."""
    out = subprocess.run(["tshark", "-r", pcap, "-Y", "tds.loginack.progname || tds.error.number", "-T", "fields",
                          "-E", "occurrence=a", "-E", "aggregator=|", "-e", "ip.src", "-e", "ipv6.src",
                          "-e", "tcp.srcport", "-e", "tds.loginack.progname", "-e", "tds.error.number",
                          "-e", "tds.error.class"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         check=True).stdout.decode()
    res = {}
    for line in out.splitlines():
        ip4, ip6, port, prog, nums, classes = (line.split("\t") + [""] * 6)[:6]
        key = (ip4 or ip6, int(port))
        e = res.setdefault(key, [0, {}])
        e[0] += len([p for p in prog.split("|") if p])
        for n, c in zip(nums.split("|"), classes.split("|")):
            if n and c and int(c) > 10:
                e[1][n] = e[1].get(n, 0) + 1
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    shared = os.path.join(os.path.abspath(args.source), "..", "shared", "pcaps")
    index = os.path.join(shared, "INDEX.tsv")
    if not os.path.exists(index):
        print("skipped: %s is absent (the real captures are not part of the repository)" % shared)
        return 77
    if not shutil.which("tshark"):
        print("skipped: tshark (the oracle) is not installed")
        return 77
    captures = []
    with open(index) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 3 and "tds" in cols[2].split(","):
                captures.append(cols[0])
    logins = 0
    for rel in captures:
        pcap = os.path.join(shared, rel)
        want = tshark_logins(pcap)
        out = subprocess.run([args.binary, "-r", pcap, "--format", "json", "-q"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, check=False).stdout.decode()
        rep = json.loads(out)
        got = {}
        for s in rep["services"]:
            app = s.get("app")
            if app and app["name"] == "tds" and (app["ok"] or app["failed"]):
                got[(s["server"], s["port"])] = [app["ok"], {c["code"]: c["count"] for c in app["failures"]}]
        check(got == want, "%s: TDS logins per service as tshark decodes them" % rel, "%s vs %s" % (got, want))
        logins += sum(v[0] + sum(v[1].values()) for v in want.values())
        print("%s: %d services with login answers" % (rel, len(want)))
    check(logins >= 1, "the real captures hold at least one TDS login answer", str(logins))
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 1 if checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
