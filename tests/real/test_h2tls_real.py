#!/usr/bin/env python3
"""gRPC over TLS on real captures: where a TLS ServerHello chose ALPN "h2", the calls are
encrypted, so portwitness reports "calls not visible" on that service (app.h2_over_tls)
and invents no call.  Oracle: tshark's ServerHellos with tls.handshake.extensions_alpn_str
== "h2", over every capture in ../shared/pcaps whose index lists TLS.

- every (server, port) portwitness marks h2_over_tls has such a ServerHello in tshark;
- every (server, port) tshark shows such a ServerHello for, and that portwitness dissected
  as TLS (service app "tls"), is marked h2_over_tls;
- no grpc_call line is written for a service marked h2_over_tls.

Skipped (exit 77) when ../shared/pcaps or tshark is absent.
Usage: test_h2tls_real.py --binary PATH --source REPO_DIR
"""
import argparse
import ipaddress
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402




def norm(a):
    return str(ipaddress.ip_address(a))


def tshark_h2(path):
    out = subprocess.run(["tshark", "-o", "tcp.reassemble_out_of_order:TRUE", "-r", path, "-Y",
                          'tls.handshake.type == 2 && tls.handshake.extensions_alpn_str == "h2"',
                          "-T", "fields", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport"],
                         capture_output=True, text=True, timeout=300).stdout
    found = set()
    for line in out.splitlines():
        f = line.split("\t")
        src = f[0] or (f[1] if len(f) > 1 else "")
        if src and len(f) > 2 and f[2]:
            found.add((norm(src.split(",")[-1]), int(f[2].split(",")[0])))
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    shared = os.path.join(args.source, "..", "shared", "pcaps")
    index = os.path.join(shared, "INDEX.tsv")
    if not os.path.exists(index) or not shutil.which("tshark"):
        print("skipped: ../shared/pcaps or tshark absent")
        return 77
    files = []
    with open(index) as f:
        next(f)
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) >= 3 and "tls" in p[2].split(","):
                files.append(p[0])
    seen = 0
    for rel in files:
        path = os.path.join(shared, rel)
        h2 = tshark_h2(path)
        r = subprocess.run([args.binary, "-r", path, "--format", "jsonl", "-q"], capture_output=True,
                           text=True, timeout=300)
        lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        svc = {(norm(s["server"]), s["port"]): s for s in lines if s.get("type") == "service"}
        marked = {k for k, s in svc.items() if (s.get("app") or {}).get("h2_over_tls")}
        tls = {k for k, s in svc.items() if (s.get("app") or {}).get("name") == "tls"}
        calls = {(norm(c["server"]), c["port"]) for c in lines if c.get("type") == "grpc_call"}
        if not h2 and not marked:
            continue
        seen += 1
        check(marked <= h2, "%s: h2_over_tls only where tshark sees ALPN h2" % rel, repr(marked - h2))
        check((h2 & tls) <= marked, "%s: every TLS service with ALPN h2 is marked" % rel,
              repr((h2 & tls) - marked))
        check(not (calls & marked), "%s: no call invented on a TLS connection" % rel, repr(calls & marked))
    check(seen >= 3, "captures with ALPN h2 found", str(seen))
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 1 if checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
