#!/usr/bin/env python3
"""Memory caps and folds, end to end: captures written at test time by tools/pcapgen
(a vertical port scan, a SYN flood from many clients to many servers, many hosts), run
with small caps, and the report checked against what the generator wrote:

- a scanner: one client trying more distinct targets than --scanner-threshold becomes one
  `scanners` row; its attempts before detection stay in services, the rest are counted in
  the row; every attempt is counted exactly once (services + folded + scanner rows ==
  stats.attempts == what was generated);
- a flood: services beyond --max-services fold per port (`folded_services`), with exact
  outcome counts, first and last frame; the report stays small;
- connections beyond --max-connections are evicted (pending ones indeterminate/capture-ended)
  and counted in stats.caps.connections; nothing is lost from the outcome totals;
- the text report names the caps that were reached; jsonl carries the rows.

Usage: test_caps.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail; last line "N passed, N failed".  Python 3 stdlib only.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402


def run(binary, args):
    p = subprocess.run([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def scan_capture(g, path, ports):
    """One client SYNs `ports` ports of one server; odd ports answer SYN-ACK, even ports RST."""
    cap = g.Capture()
    t = 1_700_000_000.0
    c, s = "10.9.0.5", "10.9.1.1"
    for i, port in enumerate(ports):
        cap.add(t, g.ether(g.ip(c, s, g.tcp(40000 + i % 20000, port, g.TH_SYN, 1000 + i))))
        flags = g.TH_SYN | g.TH_ACK if port % 2 else g.TH_RST | g.TH_ACK
        cap.add(t + 0.0001, g.ether(g.ip(s, c, g.tcp(port, 40000 + i % 20000, flags, 7000, 1001 + i))))
        t += 0.001
    cap.write(path)
    return cap


def flood_capture(g, path, n):
    """n unanswered SYNs from distinct clients to distinct servers on 4 ports, 10 ms apart;
    a last packet 30 s later (a DNS reply, which is no attempt) so every timeout runs out.
    Nothing goes back to the clients: a one-sided view, so the attempts are indeterminate."""
    cap = g.Capture()
    t = 1_700_000_000.0
    for i in range(n):
        c = "10.%d.%d.%d" % (20 + (i >> 16), (i >> 8) & 255, i & 255)
        s = "172.16.%d.%d" % ((i >> 8) & 255, i & 255)
        cap.add(t, g.ether(g.ip(c, s, g.tcp(1024 + i % 50000, (80, 443, 445, 3389)[i % 4], g.TH_SYN, i))))
        t += 0.01
    cap.add(t + 30, g.ether(g.ip("10.9.9.9", "10.9.9.8", g.udp(53, 40000, b"x"))))
    cap.write(path)
    return cap


def counts_total(c):
    return sum(c.get(k, 0) for k in ("answered", "refused", "blocked", "unanswered", "indeterminate"))


def test_scan(binary, g, work):
    ports = list(range(1, 1201))
    path = os.path.join(work, "scan.pcap")
    scan_capture(g, path, ports)
    code, out, err = run(binary, ["-r", path, "--format", "json", "--scanner-threshold", "100", "-q"])
    check(code == 0, "scan: exit 0", err)
    rep = json.loads(out)
    rows = rep["scanners"]
    check(len(rows) == 1, "scan: one scanner row", str(len(rows)))
    if not rows:
        return
    row = rows[0]
    check(row["client"] == "10.9.0.5", "scan: the scanner is the client", row["client"])
    svc_attempts = sum(counts_total(s["counts"]) for s in rep["services"])
    check(svc_attempts + row["attempts"] == len(ports),
          "scan: services + scanner row hold every attempt once", "%d + %d" % (svc_attempts, row["attempts"]))
    check(rep["stats"]["attempts"] == len(ports), "scan: stats.attempts", str(rep["stats"]["attempts"]))
    # detection follows the sketch estimate: within a few dozen of the threshold
    check(90 <= len(rep["services"]) <= 140, "scan: services before detection near the threshold",
          str(len(rep["services"])))
    check(counts_total(row["counts"]) == row["attempts"], "scan: row counts add up")
    # outcomes: odd ports answered, even refused; the row's share of each is exact
    listed = {s["port"] for s in rep["services"]}
    rest = [p for p in ports if p not in listed]
    check(row["counts"]["answered"] == sum(1 for p in rest if p % 2), "scan: row answered")
    check(row["counts"]["refused"] == sum(1 for p in rest if not p % 2), "scan: row refused")
    check(row["port_range"][1] == max(rest), "scan: port range ends at the last port", str(row["port_range"]))
    check(row["last"]["frame"] == 2 * len(ports) - 1, "scan: last frame is the last SYN", str(row["last"]))
    check(800 <= row["ports"] <= 1400, "scan: distinct ports estimated", str(row["ports"]))
    check(row["servers"] == 1, "scan: one server", str(row["servers"]))
    caps = rep["stats"]["caps"]["clients"]
    check(caps["scanners"] == 1 and caps["diverted_attempts"] == row["attempts"],
          "scan: stats.caps.clients counts the row", str(caps))
    code, text, _ = run(binary, ["-r", path, "--scanner-threshold", "100", "-q"])
    check("Scanners" in text and "10.9.0.5:" in text, "scan: the text report lists the scanner")
    code, jl, _ = run(binary, ["-r", path, "--format", "jsonl", "--scanner-threshold", "100", "-q"])
    lines = [json.loads(x) for x in jl.splitlines() if x.strip()]
    check(sum(1 for x in lines if x.get("type") == "scanner") == 1, "scan: one jsonl scanner line")


def test_flood(binary, g, work):
    n = 6000
    path = os.path.join(work, "flood.pcap")
    flood_capture(g, path, n)
    code, out, err = run(binary, ["-r", path, "--format", "json", "--max-services", "1000",
                                  "--max-connections", "500", "-q"])
    check(code == 0, "flood: exit 0", err)
    rep = json.loads(out)
    st = rep["stats"]
    check(st["attempts"] == n, "flood: every SYN is one attempt", str(st["attempts"]))
    check(len(rep["services"]) == 1000, "flood: services held at the cap", str(len(rep["services"])))
    folds = {(f["proto"], f["port"]): f for f in rep["folded_services"]}
    check(set(folds) == {("tcp", 80), ("tcp", 443), ("tcp", 445), ("tcp", 3389)},
          "flood: one fold per port", str(sorted(folds)))
    folded = sum(f["attempts"] for f in folds.values())
    check(folded == n - 1000, "flood: the rest is folded", str(folded))
    check(st["caps"]["services"]["folded_attempts"] == n - 1000, "flood: stats.caps.services folded")
    for (proto, port), f in sorted(folds.items()):
        check(counts_total(f["counts"]) == f["attempts"], "flood: fold %d counts add up" % port)
        check(f["servers"] <= f["attempts"] and f["servers"] > 0.7 * f["attempts"],
              "flood: fold %d distinct servers estimated" % port, "%d of %d" % (f["servers"], f["attempts"]))
    # the services and folds hold every attempt
    svc = sum(counts_total(s["counts"]) for s in rep["services"])
    check(svc + folded == n, "flood: services + folds == attempts", "%d + %d" % (svc, folded))
    # SYNs 10 ms apart with a 10 s timeout keep 1000 attempts pending: a cap of 500 evicts
    # every SYN's record before its timeout, except the last 500
    conn = st["caps"]["connections"]
    check(conn["max"] == 500 and conn["used"] == 500, "flood: connection cap reached", str(conn))
    check(conn["evicted_attempts"] == n - 500, "flood: evictions counted", str(conn))
    oc = st["outcomes"]
    check(oc["indeterminate"] == n, "flood: one-sided, nothing lost", str(oc))
    code, jl, _ = run(binary, ["-r", path, "--format", "jsonl", "--max-services", "1000",
                               "--max-connections", "500", "-q"])
    reasons = {}
    for x in jl.splitlines():
        o = json.loads(x)
        if o.get("type") == "attempt":
            reasons[o["reason"]] = reasons.get(o["reason"], 0) + 1
    check(reasons == {"capture-ended": n - 500, "one-sided": 500},
          "flood: evicted attempts capture-ended, the rest one-sided", str(reasons))
    code, full, _ = run(binary, ["-r", path, "--format", "json", "-q"])
    check(len(out) * 4 < len(full), "flood: the capped report is a fraction of the full one",
          "%d vs %d" % (len(out), len(full)))
    code, text, _ = run(binary, ["-r", path, "--max-services", "1000", "--max-connections", "500", "-q"])
    check("Memory caps reached" in text and "services" in text and "connections" in text,
          "flood: the text report names the caps reached")


def test_defaults_bounded(binary, g, work):
    """The same flood with default caps: every service listed, no cap reached."""
    path = os.path.join(work, "flood.pcap")
    code, out, err = run(binary, ["-r", path, "--format", "json", "-q"])
    rep = json.loads(out)
    caps = rep["stats"]["caps"]
    check(len(rep["services"]) == 6000 and not rep["folded_services"], "defaults: 6000 services, no folds")
    check(caps["connections"]["evicted_attempts"] == 0, "defaults: no eviction", str(caps["connections"]))
    check(rep["stats"]["outcomes"]["indeterminate"] == 6000, "defaults: every SYN one-sided")
    check(caps["services"]["max"] == 8192 and caps["connections"]["max"] == 262144,
          "defaults: documented cap sizes", str(caps))


def test_lists_bounded(binary, work):
    """Rule server/client lists and role addresses stop at 256 entries, counted beyond."""
    path = os.path.join(work, "flood.pcap")
    code, out, err = run(binary, ["-r", path, "--format", "json", "-q"])
    rep = json.loads(out)
    long_rules = 0
    for r in rep["rules"]:
        for side in ("servers", "clients"):
            listed = len(r[side])
            more = r["counts"].get(side + "_not_listed", 0)
            check(listed <= 256, "lists: %s %s listed <= 256" % (r["id"], side), str(listed))
            check(r["counts"][side] == listed + more, "lists: %s %s counted" % (r["id"], side))
            long_rules += more > 0
    check(long_rules > 0, "lists: some rule had more than 256 hosts to list")
    per = {}
    for x in rep["roles"]:
        if "not_listed" in x:
            continue
        per[(x["role"], x["how"])] = per.get((x["role"], x["how"]), 0) + 1
    check(all(v <= 256 for v in per.values()), "lists: role addresses per role and how <= 256", str(per))
    check(any("not_listed" in x for x in rep["roles"]), "lists: role addresses beyond the cut are counted")


def test_bad_caps(binary):
    for opt in ("--max-services", "--max-connections", "--scanner-threshold"):
        code, _, err = run(binary, ["-r", "/dev/null", opt, "0"])
        check(code == 2 and opt in err, "usage error for %s 0" % opt, err)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    sys.path.insert(0, os.path.join(args.source, "tools", "pcapgen"))
    import pcapgen as g
    with tempfile.TemporaryDirectory() as work:
        test_scan(args.binary, g, work)
        test_flood(args.binary, g, work)
        test_defaults_bounded(args.binary, g, work)
        test_lists_bounded(args.binary, work)
        test_bad_caps(args.binary)
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 1 if checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
