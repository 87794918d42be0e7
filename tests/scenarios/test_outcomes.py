#!/usr/bin/env python3
"""Outcome scenarios (issue 9): runs portwitness on the generated pcaps/outcomes-*
captures and asserts the complete set of attempts with exact outcome, reason,
retries, frames, icmp_from and ts; retry_of for UDP requests repeated from a new
source port; responder and its evidence for refused/blocked attempts.

Expectations come from tools/pcapgen/scenarios_outcomes.py (EXPECTED), written
next to the traffic that produces them.  Also: the committed captures are what
the generator writes; in outcomes-replies, tshark (when installed) marks as
responses the datagrams portwitness must not take for attempts, and none is the
first frame of a reported attempt; json/text/html runs exit 0 and the json report
lists no service on the querier that the replies were sent to.

Usage: test_outcomes.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail; last line "N passed, N failed".  Python 3 stdlib only.
"""
import argparse
import importlib.util
import ipaddress
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402


def run(binary, args, timeout=60):
    p = subprocess.run([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def norm_ip(a):
    try:
        return str(ipaddress.ip_address(a))
    except (ValueError, TypeError):
        return a


def load_module(source):
    path = os.path.join(source, "tools", "pcapgen", "scenarios_outcomes.py")
    sys.path.insert(0, os.path.dirname(path))
    spec = importlib.util.spec_from_file_location("scenarios_outcomes", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def check_regenerated(mod, source):
    for name, fn in mod.SCENARIOS:
        cap, ext = fn()
        data = cap.pcap_bytes()
        path = os.path.join(source, "pcaps", "%s.%s" % (name, ext))
        try:
            with open(path, "rb") as f:
                have = f.read()
        except OSError as e:
            check(False, "%s exists" % path, str(e))
            continue
        check(have == data, "%s is what the generator writes" % path, "run python3 tools/pcapgen/generate.py")
        check(len(data) < 64 * 1024, "%s is small" % path)


def akey(a):
    return (a.get("proto"), norm_ip(a.get("client")), a.get("client_port"), norm_ip(a.get("server")),
            a.get("port"), (a.get("frames") or [None])[0])


def compare(what, expected, got):
    bykey = {}
    for g in got:
        bykey.setdefault(akey(g), []).append(g)
    for e in expected:
        label = "%s: %s %s:%s -> %s:%s frame %s" % (what, e["proto"], e["client"], e["client_port"],
                                                     e["server"], e["port"], e["frames"][0])
        cands = bykey.pop(akey(e), [])
        if not check(len(cands) == 1, label + " reported once", "got %d" % len(cands)):
            continue
        g = cands[0]
        diffs = []
        for f in ("outcome", "reason", "retries", "frames"):
            if g.get(f) != e[f]:
                diffs.append("%s expected %r got %r" % (f, e[f], g.get(f)))
        if norm_ip(g.get("icmp_from")) != norm_ip(e["icmp_from"]):
            diffs.append("icmp_from expected %r got %r" % (e["icmp_from"], g.get("icmp_from")))
        if abs((g.get("ts") or 0) - e["ts"]) > 1.5e-6:
            diffs.append("ts expected %.6f got %r" % (e["ts"], g.get("ts")))
        if g.get("retry_of") != e.get("retry_of"):
            diffs.append("retry_of expected %r got %r" % (e.get("retry_of"), g.get("retry_of")))
        if g.get("responder") != e.get("responder"):
            diffs.append("responder expected %r got %r" % (e.get("responder"), g.get("responder")))
        ev = g.get("responder_evidence")
        if "evidence" in e:
            if not isinstance(ev, dict):
                diffs.append("responder_evidence expected an object got %r" % (ev,))
            else:
                for k, v in e["evidence"].items():
                    if ev.get(k) != v:
                        diffs.append("responder_evidence.%s expected %r got %r" % (k, v, ev.get(k)))
                if not ev.get("text"):
                    diffs.append("responder_evidence.text is empty")
        elif ev is not None:
            diffs.append("responder_evidence expected null got %r" % (ev,))
        check(not diffs, label + " fields", "; ".join(diffs) + "  [got %s]" % json.dumps(g))
    extra = [g for v in bykey.values() for g in v]
    check(not extra, what + ": no unexpected attempts", "; ".join(json.dumps(x) for x in extra[:6]))


def tshark_responses(path):
    """Frames tshark reads as UDP responses (DNS/mDNS/LLMNR/NBNS response flag, HTTP
    status line); SQL Browser has no dissector in tshark 4.0."""
    flt = "udp && (dns.flags.response==1 || nbns.flags.response==1 || http.response)"
    p = subprocess.run(["tshark", "-n", "-r", path, "-Y", flt, "-T", "fields", "-e", "frame.number"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return {int(x) for x in p.stdout.decode().split()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    binary, source = os.path.abspath(args.binary), os.path.abspath(args.source)
    mod = load_module(source)
    check_regenerated(mod, source)
    for name, exp in sorted(mod.EXPECTED.items()):
        path = os.path.join(source, "pcaps", exp["file"])
        rc, out, err = run(binary, ["-r", path, "--format", "jsonl"])
        check(rc == 0, exp["file"] + ": exit 0", err[-300:])
        got = [json.loads(l) for l in out.splitlines() if l.strip()]
        atts = [o for o in got if o.get("type") == "attempt"]
        compare(exp["file"], exp["attempts"], atts)
        for fmt in ("json", "text", "html"):
            rc, out2, err = run(binary, ["-r", path, "--format", fmt])
            check(rc == 0 and out2, "%s: --format %s exit 0 with output" % (exp["file"], fmt), err[-300:])
            if fmt == "json" and name == "outcomes-replies":
                rep = json.loads(out2)
                querier = [s for s in rep.get("services", []) if norm_ip(s.get("server")) == mod.C]
                check(not querier, "outcomes-replies: no service on the querier %s" % mod.C,
                      json.dumps(querier)[:300])
        if name == "outcomes-replies":
            if not shutil.which("tshark"):
                print("note: tshark not installed; the response-frame cross-check is skipped")
                continue
            resp = tshark_responses(path)
            # NBNS x2, LLMNR x2, mDNS x2, SSDP x2 responses to C, the node status reply
            # and the DNS reply to the two real unicast queries
            check(len(resp) == 10, "outcomes-replies: tshark finds 10 UDP responses", repr(sorted(resp)))
            firsts = {(a.get("frames") or [0])[0] for a in atts if a.get("proto") == "udp"}
            check(not (firsts & resp), "outcomes-replies: no attempt starts at a response tshark marks",
                  repr(sorted(firsts & resp)))
    check_rule_evidence(binary, source)
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 0 if checks.FAILED == 0 else 1


def check_rule_evidence(binary, source):
    """Rule evidence and the text report say who refused, as the attempt line does."""
    path = os.path.join(source, "pcaps", "policy-netwrix-epm-blocked.pcap")
    rc, out, err = run(binary, ["-r", path, "--format", "jsonl", "--profile", "netwrix-threat-prevention"])
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    blocked = [a for a in lines if a.get("type") == "attempt" and a.get("outcome") == "blocked"]
    check(len(blocked) == 1 and blocked[0].get("responder") == "path", "epm-blocked: the attempt's responder",
          json.dumps(blocked)[:300])
    rules = [r for r in lines if r.get("type") == "rule" and r.get("id") == "tm-dc-rpc-dynamic"]
    ev = [e for r in rules for e in r.get("evidence", []) if e.get("outcome") == "blocked"]
    check(ev and ev[0].get("responder") == "path", "epm-blocked: rule evidence names the responder",
          json.dumps(ev)[:300])
    if ev and blocked:
        check(ev[0].get("responder_evidence") == blocked[0].get("responder_evidence"),
              "epm-blocked: rule evidence carries the attempt's responder evidence")
    rc, text, err = run(binary, ["-r", path, "--profile", "netwrix-threat-prevention"])
    check("not by 10.20.0.3: a device in the path" in text, "epm-blocked: the text report says who refused")


if __name__ == "__main__":
    sys.exit(main())
