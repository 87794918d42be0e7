#!/usr/bin/env python3
"""Port-policy scenarios (issue 4): runs portwitness on pcaps/policy-*.pcap and
checks every rule verdict against EXPECTED in tools/pcapgen/scenarios_policy.py,
the per-sensor cloud results, --fail-on exit status, profile choice without
--profile, --list-profiles, and that regenerating gives byte-identical files.

Usage: test_policy.py --binary build/portwitness --source REPO_DIR
Exit 0 when all checks pass, 1 otherwise, 77 when the binary is missing.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

RULE_COUNTS = {"netwrix-threat-prevention": 50, "mdi-nnr": 5, "mdi-sensor": 1}


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL: %s" % what)
        return cond


def run(binary, args):
    p = subprocess.run([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def report(ck, binary, path, extra):
    rc, out, err = run(binary, ["-r", path, "--format", "json"] + extra)
    if not ck.check(rc in (0, 3), "%s %s: exit %d (%s)" % (os.path.basename(path), extra, rc, err.strip()[:300])):
        return None
    try:
        return json.loads(out)
    except ValueError as e:
        ck.check(False, "%s: output is not JSON (%s)" % (path, e))
        return None


def check_scenario(ck, binary, pcaps, name, exp):
    path = os.path.join(pcaps, exp["file"])
    prof = exp["profile"]
    rep = report(ck, binary, path, ["--profile", prof])
    if rep is None:
        return
    rules = [r for r in rep.get("rules", []) if r.get("profile") == prof]
    ck.check(len(rules) == RULE_COUNTS[prof], "%s: %d rules for %s, want %d" % (name, len(rules), prof, RULE_COUNTS[prof]))
    got = {r["id"]: r["verdict"] for r in rules}
    for rid, want in exp["rules"].items():
        ck.check(got.get(rid) == want, "%s: rule %s verdict %s, want %s" % (name, rid, got.get(rid), want))
    for rid, v in got.items():
        if rid not in exp["rules"]:
            ck.check(v == "unobserved", "%s: rule %s verdict %s, want unobserved" % (name, rid, v))
    for r in rules:
        ck.check(r.get("remediation"), "%s: rule %s has no remediation" % (name, r["id"]))
        if r["verdict"] == "unobserved":
            ck.check(r.get("proof_needed"), "%s: unobserved rule %s says nothing about proof" % (name, r["id"]))
        if r["verdict"] in ("fail", "partial"):
            ev = r.get("evidence") or []
            ck.check(ev and ev[0].get("outcome") != "answered" and ev[0].get("frame", 0) > 0 and
                     ev[0].get("source", "").endswith(exp["file"]),
                     "%s: rule %s evidence %s" % (name, r["id"], ev[:1]))
    # ordering: required fail, required partial, required others, optional
    order = []
    for r in rules:
        order.append(3 if not r["required"] else 0 if r["verdict"] == "fail" else 1 if r["verdict"] == "partial" else 2)
    ck.check(order == sorted(order), "%s: rules are not ordered required fail/partial first: %s" % (name, order))
    if exp["sensor_cloud"] is not None:
        cloud = {s["sensor"]: s for s in rep.get("sensor_cloud", [])}
        ck.check(len(cloud) == len(exp["sensor_cloud"]),
                 "%s: %d sensor_cloud entries, want %d" % (name, len(cloud), len(exp["sensor_cloud"])))
        for want in exp["sensor_cloud"]:
            s = cloud.get(want["sensor"])
            if not ck.check(s is not None, "%s: no sensor_cloud entry for %s" % (name, want["sensor"])):
                continue
            ck.check(s.get("reached") == want["reached"], "%s: %s reached=%s" % (name, want["sensor"], s.get("reached")))
            if want["via"]:
                ck.check(s.get("via") == want["via"], "%s: %s via=%s want %s" % (name, want["sensor"], s.get("via"), want["via"]))
            if want["proxy"]:
                ck.check(s.get("proxy") == want["proxy"], "%s: proxy=%s want %s" % (name, s.get("proxy"), want["proxy"]))
            if want["failure"]:
                ck.check(s.get("failure") == want["failure"],
                         "%s: %s failure=%s want %s" % (name, want["sensor"], s.get("failure"), want["failure"]))
            det = (s.get("tls_inspection") or {}).get("detected")
            ck.check(bool(det) == want["tls_inspection"], "%s: tls_inspection detected=%s" % (name, det))
        if any(w["tls_inspection"] for w in exp["sensor_cloud"]):
            notes = " ".join(sum((r.get("notes") or [] for r in rules), []))
            ck.check("mutual inspection" in notes and "Contoso TLS Inspection CA" in notes,
                     "%s: no inspection note in the rule (%r)" % (name, notes[:200]))
    # --fail-on fail,partial
    rc, _, err = run(binary, ["-r", path, "--profile", prof, "--format", "json", "--fail-on", "fail,partial"])
    ck.check(rc == exp["fail_on_exit"], "%s: --fail-on fail,partial exit %d, want %d (%s)" %
             (name, rc, exp["fail_on_exit"], err.strip()[:200]))
    # profile choice without --profile
    if exp["auto_profiles"] is not None:
        rep = report(ck, binary, path, [])
        if rep is not None:
            names = sorted(p["name"] for p in rep.get("profiles", []))
            ck.check(names == sorted(exp["auto_profiles"]),
                     "%s: profiles chosen %s, want %s" % (name, names, sorted(exp["auto_profiles"])))
            for p in rep.get("profiles", []):
                ck.check(p.get("why", "").startswith("traffic seen"), "%s: profile %s why=%r" % (name, p["name"], p.get("why")))


def check_epm_details(ck, binary, pcaps):
    rep = report(ck, binary, os.path.join(pcaps, "policy-netwrix-epm-blocked.pcap"),
                 ["--profile", "netwrix-threat-prevention"])
    if rep is None:
        return
    rules = {r["id"]: r for r in rep.get("rules", [])}
    dcom = rules.get("em-agents-dcom", {})
    ev = (dcom.get("evidence") or [{}])[0]
    ck.check(ev.get("port") == 49667 and ev.get("epm_frame") == 14 and ev.get("frame") == 19,
             "epm: em-agents-dcom evidence %s (want port 49667, epm_frame 14, frame 19)" % ev)
    dyn = rules.get("tm-dc-rpc-dynamic", {})
    ev = (dyn.get("evidence") or [{}])[0]
    ck.check(ev.get("port") == 49700 and ev.get("outcome") == "blocked" and ev.get("epm_frame") == 40 and ev.get("frame") == 45,
             "epm: tm-dc-rpc-dynamic evidence %s (want port 49700 blocked, epm_frame 40)" % ev)
    roles = {(r["role"], r["ip"]): r for r in rep.get("roles", [])}
    em = roles.get(("enterprise-manager", "10.20.0.2"))
    ck.check(em and em["inferred"] and "tcp/3741" in em["why"], "epm: enterprise-manager role %s" % em)
    dc = roles.get(("domain-controller", "10.20.0.3"))
    ck.check(dc and dc["inferred"] and "tcp/88 and tcp/389" in dc["why"], "epm: domain-controller role %s" % dc)
    # binding a role by hand marks it not inferred
    rep = report(ck, binary, os.path.join(pcaps, "policy-netwrix-epm-blocked.pcap"),
                 ["--profile", "netwrix-threat-prevention", "--role", "agent=10.20.1.0/24"])
    if rep is not None:
        roles = {(r["role"], r["ip"]): r for r in rep.get("roles", [])}
        ag = roles.get(("agent", "10.20.1.0/24"))
        ck.check(ag is not None and not ag["inferred"], "--role agent=10.20.1.0/24 -> %s" % ag)


def check_list_profiles(ck, binary):
    rc, out, err = run(binary, ["--list-profiles"])
    ck.check(rc == 0, "--list-profiles exit %d (%s)" % (rc, err.strip()[:200]))
    names = [line.split("\t")[0] for line in out.splitlines() if "\t" in line]
    for n in RULE_COUNTS:
        ck.check(n in names, "--list-profiles lacks %s: %r" % (n, out[:300]))


def check_regenerate(ck, source):
    gen = os.path.join(source, "tools", "pcapgen")
    sys.path.insert(0, gen)
    import generate  # noqa: E402
    with tempfile.TemporaryDirectory() as tmp:
        generate.generate(tmp)
        import scenarios_policy as S
        for name, _ in S.SCENARIOS:
            a = os.path.join(source, "pcaps", name + ".pcap")
            b = os.path.join(tmp, name + ".pcap")
            same = os.path.exists(a) and os.path.exists(b) and open(a, "rb").read() == open(b, "rb").read()
            ck.check(same, "regenerating %s.pcap does not give the committed file" % name)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    source = os.path.abspath(args.source)
    sys.path.insert(0, os.path.join(source, "tools", "pcapgen"))
    import scenarios_policy as S
    ck = Checker()
    check_regenerate(ck, source)
    if not os.path.exists(args.binary):
        print("skipped: %s not built" % args.binary)
        print("%d passed, %d failed" % (ck.passed, ck.failed))
        sys.exit(1 if ck.failed else 77)
    pcaps = os.path.join(source, "pcaps")
    check_list_profiles(ck, args.binary)
    for name, exp in S.EXPECTED.items():
        check_scenario(ck, args.binary, pcaps, name, exp)
    check_epm_details(ck, args.binary, pcaps)
    print("%d passed, %d failed" % (ck.passed, ck.failed))
    sys.exit(1 if ck.failed else 0)


if __name__ == "__main__":
    main()
