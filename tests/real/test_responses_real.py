#!/usr/bin/env python3
"""No attempt out of a response, on every real capture in <source>/../shared/pcaps.

For each capture listed in INDEX.tsv, tshark (the independent oracle) marks the UDP
datagrams that are responses by their protocol:

  udp && (dns.flags.response==1 || nbns.flags.response==1 || http.response)

(DNS, mDNS and LLMNR share Wireshark's DNS fields; SSDP is HTTP over UDP), with the
ports of the UDP header that carries the response (the innermost one).  No UDP
attempt portwitness reports (--format jsonl) may start at one of those frames with
those ports: a tunnel's outer datagram around a response (say Geneve sent from 6081,
which tshark decodes by either port) is not the response itself.  Captures whose INDEX protocols (tshark's own list) hold none of
dns, mdns, llmnr, nbns, ssdp, http cannot contain such a frame and are counted
without running either tool.  Every refused/blocked attempt must also carry a
responder (host, path or unknown) with its evidence, and an ICMP error from a
third address must say "path".

Usage: test_responses_real.py --binary PATH --source REPO_DIR [--verbose]
Exit 0 pass, 1 fail, 77 skipped (no ../shared/pcaps or no tshark).
"""
import argparse
import concurrent.futures
import ipaddress
import json
import os
import shutil
import subprocess
import sys

FILTER = "udp && (dns.flags.response==1 || nbns.flags.response==1 || http.response)"
PROTOS = {"dns", "mdns", "llmnr", "nbns", "ssdp", "http"}

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402


def norm_ip(a):
    try:
        return str(ipaddress.ip_address(a))
    except (ValueError, TypeError):
        return a


def index(root):
    rows = []
    with open(os.path.join(root, "INDEX.tsv"), encoding="utf-8") as f:
        for n, line in enumerate(f):
            c = line.rstrip("\n").split("\t")
            if n == 0 or len(c) < 3:
                continue
            rows.append((c[0], set(c[2].split(",")) if c[2] else set()))
    return rows


def examine(binary, root, rel):
    """(rel, tshark response frames, attempts, portwitness exit code, stderr tail)."""
    path = os.path.join(root, rel)
    t = subprocess.run(["tshark", "-n", "-r", path, "-Y", FILTER, "-T", "fields", "-E", "occurrence=l",
                        "-e", "frame.number", "-e", "udp.srcport", "-e", "udp.dstport"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    resp = {}
    for line in t.stdout.decode().splitlines():
        c = line.split("\t")
        if len(c) == 3 and c[0] and c[1] and c[2]:
            resp[int(c[0])] = (int(c[1]), int(c[2]))
    p = subprocess.run([binary, "-r", path, "--format", "jsonl", "-q"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=600)
    atts = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("type") == "attempt":
            atts.append(o)
    return rel, resp, atts, p.returncode, p.stderr.decode("utf-8", "replace")[-200:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    root = os.path.normpath(os.path.join(os.path.abspath(args.source), "..", "shared", "pcaps"))
    if not os.path.isfile(os.path.join(root, "INDEX.tsv")):
        print("skipped: %s/INDEX.tsv not found (real captures absent)" % root)
        return 77
    if not shutil.which("tshark"):
        print("skipped: tshark not installed (it is the independent oracle)")
        return 77
    binary = os.path.abspath(args.binary)
    rows = index(root)
    todo = [rel for rel, protos in rows if protos & PROTOS and os.path.exists(os.path.join(root, rel))]
    skipped = len(rows) - len(todo)
    nresp = nudp = nfiles_resp = nref = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for rel, resp, atts, rc, err in ex.map(lambda r: examine(binary, root, r), todo):
            udp_first = {}
            for a in atts:
                if a.get("proto") == "udp":
                    udp_first[(a.get("frames") or [0])[0]] = a
            nudp += len(udp_first)
            nresp += len(resp)
            nfiles_resp += bool(resp)
            bad = sorted(f for f in set(udp_first) & set(resp)
                         if (udp_first[f].get("client_port"), udp_first[f].get("port")) == resp[f])
            nouter = len(set(udp_first) & set(resp)) - len(bad)
            if nouter and args.verbose:
                print("note: %s: %d attempts on a tunnel's outer datagram around a response" % (rel, nouter))
            check(not bad, "%s: no UDP attempt starts at a response tshark marks" % rel,
                  "; ".join(json.dumps(udp_first[f]) for f in bad[:4]))
            for a in atts:
                if a.get("outcome") not in ("refused", "blocked"):
                    if a.get("responder") is not None:
                        check(False, "%s: responder only on refused/blocked" % rel, json.dumps(a))
                    continue
                nref += 1
                ev = a.get("responder_evidence")
                ok = a.get("responder") in ("host", "path", "unknown") and isinstance(ev, dict) \
                    and isinstance(ev.get("ttl"), int) and ev.get("text")
                if ok and a.get("icmp_from") and norm_ip(a["icmp_from"]) != norm_ip(a.get("server")):
                    ok = a.get("responder") == "path"
                if ok and a.get("responder") == "unknown":
                    ok = ev.get("host_packets") == 0
                if ok and a.get("responder") in ("host", "path") and ev.get("host_packets"):
                    inside = ev["host_ttl"] <= ev["ttl"] <= ev["host_ttl_max"]
                    third = a.get("icmp_from") and norm_ip(a["icmp_from"]) != norm_ip(a.get("server"))
                    ok = (a["responder"] == "host") == (inside and not third)
                check(ok, "%s: refused/blocked attempt carries a consistent responder" % rel, json.dumps(a))
            if args.verbose:
                print("%-70s tshark responses %5d, udp attempts %5d, exit %d" % (rel, len(resp), len(udp_first), rc))
    print("captures: %d in INDEX, %d with dns/mdns/llmnr/nbns/ssdp/http checked, %d without (no response "
          "datagram possible); %d hold %d tshark response datagrams; %d UDP attempts, none at a response; "
          "%d refused/blocked attempts with a responder" % (len(rows), len(todo), skipped, nfiles_resp, nresp,
                                                            nudp, nref))
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 0 if checks.FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
