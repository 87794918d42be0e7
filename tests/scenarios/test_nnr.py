#!/usr/bin/env python3
"""NNR scenario test: runs portwitness on the generated pcaps/nnr-* captures and
asserts the complete "nnr" section (sensors and how they were found, per-method
counts and rates, alerts with message, remediation and example frames, and per
target and method the outcome, result, name and frames) and the "hosts" names
(name, source, frame, conflict) of the scenario's hosts.

Expectations come from tools/pcapgen/scenarios_nnr.py (EXPECTED), written next
to the traffic that produces them.  Also checks that regenerating gives
byte-identical pcaps/nnr-* files and that --format jsonl carries the nnr and
name lines.

Usage: test_nnr.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail; last line "N passed, N failed".  Python 3 stdlib only.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402


def run(binary, args, timeout=120):
    try:
        p = subprocess.run([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", "TIMEOUT"
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def load_scenarios(source):
    gen_dir = os.path.join(source, "tools", "pcapgen")
    sys.path.insert(0, gen_dir)
    spec = importlib.util.spec_from_file_location("scenarios_nnr",
                                                  os.path.join(gen_dir, "scenarios_nnr.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def near(a, b):
    if a is None or b is None:
        return a is None and b is None
    return isinstance(a, (int, float)) and abs(a - b) < 1e-9


def check_regenerated(mod, source):
    """Every scenario regenerates byte-identically to the committed pcaps/nnr-*."""
    for name, fn in mod.SCENARIOS:
        cap, ext = fn()
        data = cap.pcapng_bytes() if ext == "pcapng" else cap.pcap_bytes()
        path = os.path.join(source, "pcaps", "%s.%s" % (name, ext))
        try:
            with open(path, "rb") as f:
                have = f.read()
        except OSError as e:
            check(False, "%s exists" % path, str(e))
            continue
        check(have == data, "%s is what the generator writes" % path,
              "run python3 tools/pcapgen/generate.py")
        check(len(data) < 2 * 1024 * 1024, "%s is under 2 MB" % path)


def check_sensors(tag, got_nnr, run_exp):
    sensors = got_nnr.get("sensors")
    if not check(isinstance(sensors, list), tag + ": nnr.sensors is a list"):
        return
    got = {s.get("sensor"): s for s in sensors}
    check(sorted(got) == sorted(run_exp["sensors"]), tag + ": the set of sensors",
          "got %s want %s" % (sorted(got), sorted(run_exp["sensors"])))
    check([s.get("sensor") for s in sensors] == sorted(
        (s.get("sensor") for s in sensors), key=lambda ip: tuple(int(x) for x in ip.split("."))),
        tag + ": sensors sorted by IP")
    for ip, want in run_exp["sensors"].items():
        s = got.get(ip)
        if s is None:
            continue
        t = "%s: sensor %s" % (tag, ip)
        check(s.get("found_by") == want["found_by"], t + " found_by",
              "got %r want %r" % (s.get("found_by"), want["found_by"]))
        for k in ("targets", "resolved"):
            check(s.get(k) == want[k], "%s %s" % (t, k), "got %r want %r" % (s.get(k), want[k]))
        check(near(s.get("rate"), want["rate"]), t + " rate",
              "got %r want %r" % (s.get("rate"), want["rate"]))
        methods = s.get("methods") or {}
        check(sorted(methods) == sorted(want["methods"]), t + " lists all four methods",
              "got %s" % sorted(methods))
        for m, wm in want["methods"].items():
            gm = methods.get(m) or {}
            for k, v in wm.items():
                if k == "rate":
                    check(near(gm.get(k), v), "%s %s rate" % (t, m), "got %r want %r" % (gm.get(k), v))
                else:
                    check(gm.get(k) == v, "%s %s %s" % (t, m, k), "got %r want %r" % (gm.get(k), v))
        alerts = s.get("alerts")
        if not check(isinstance(alerts, list), t + " alerts is a list"):
            continue
        ga = {a.get("method"): a for a in alerts}
        check(sorted(ga) == sorted(want["alerts"]), t + " alert methods",
              "got %s want %s" % (sorted(ga), sorted(want["alerts"])))
        for m, wa in want["alerts"].items():
            a = ga.get(m)
            if a is None:
                continue
            check(a.get("message") == wa["message"], "%s alert %s message" % (t, m),
                  "got %r want %r" % (a.get("message"), wa["message"]))
            check(near(a.get("rate"), wa["rate"]), "%s alert %s rate" % (t, m))
            rem = a.get("remediation") or ""
            for sub in wa["remediation_has"]:
                check(sub in rem, "%s alert %s remediation mentions %r" % (t, m, sub), rem)
            ex = a.get("examples") or []
            check(ex == wa["examples"], "%s alert %s example frames" % (t, m),
                  "got %s want %s" % (ex, wa["examples"]))
            ev = a.get("evidence") or []
            check([e.get("frame") for e in ev if isinstance(e, dict)] == wa["examples"],
                  "%s alert %s evidence frames" % (t, m))
            check(all(isinstance(e, dict) and str(e.get("file", "")).endswith(run_exp["file"])
                      and e.get("target") and e.get("result") for e in ev),
                  "%s alert %s evidence names file, target and result" % (t, m), str(ev[:2]))


def check_targets(tag, got_nnr, run_exp):
    targets = got_nnr.get("targets")
    if not check(isinstance(targets, list), tag + ": nnr.targets is a list"):
        return
    got = {(e.get("sensor"), e.get("target")): e for e in targets}
    want = run_exp["targets"]
    check(sorted(got) == sorted(want), tag + ": the set of (sensor, target) entries",
          "missing %s extra %s" % (sorted(set(want) - set(got)), sorted(set(got) - set(want))))

    def key(e):
        return tuple(tuple(int(x) for x in e.get(k, "0.0.0.0").split("."))
                     for k in ("sensor", "target"))
    check([key(e) for e in targets] == sorted(key(e) for e in targets), tag + ": targets sorted")
    for k, w in sorted(want.items()):
        e = got.get(k)
        if e is None:
            continue
        t = "%s: %s -> %s" % (tag, k[0], k[1])
        check(e.get("name") == w["name"], t + " name", "got %r want %r" % (e.get("name"), w["name"]))
        methods = e.get("methods") or {}
        check(sorted(methods) == sorted(w["methods"]), t + " methods tried",
              "got %s want %s" % (sorted(methods), sorted(w["methods"])))
        for m, wm in w["methods"].items():
            gm = methods.get(m)
            if gm is None:
                continue
            for f in ("outcome", "result", "name", "frames"):
                check(gm.get(f) == wm[f], "%s %s %s" % (t, m, f),
                      "got %r want %r (detail %r)" % (gm.get(f), wm[f], gm.get("detail")))


def check_hosts(tag, hosts, exp):
    if not check(isinstance(hosts, list), tag + ": hosts is a list"):
        return
    got = {h.get("ip"): h for h in hosts}
    ips = [h.get("ip") for h in hosts]
    check(ips == sorted(ips, key=lambda ip: tuple(int(x) for x in ip.split("."))) if all(
        ip and "." in ip for ip in ips) else True, tag + ": hosts sorted by IP")
    for ip, w in exp["hosts"].items():
        h = got.get(ip)
        if not check(h is not None, "%s: hosts has %s" % (tag, ip)):
            continue
        names = {(n.get("name"), n.get("source")): n for n in h.get("names") or []}
        want = {(n, s): fr for n, s, fr in w["names"]}
        check(sorted(names) == sorted(want), "%s: hosts %s names" % (tag, ip),
              "got %s want %s" % (sorted(names), sorted(want)))
        for k, fr in want.items():
            n = names.get(k)
            if n is None:
                continue
            check(n.get("frame") == fr, "%s: hosts %s %s frame" % (tag, ip, k),
                  "got %r want %r" % (n.get("frame"), fr))
            check(str(n.get("file", "")).endswith(exp["file"]), "%s: hosts %s %s file" % (tag, ip, k))
        check(h.get("conflict") is w["conflict"], "%s: hosts %s conflict" % (tag, ip),
              "got %r want %r" % (h.get("conflict"), w["conflict"]))
    # no computer name for an address the scenario did not name
    for ip, h in got.items():
        if ip in exp["hosts"]:
            continue
        odd = [n for n in h.get("names") or [] if n.get("source") != "dns"]
        check(not odd, "%s: no unexpected names for %s" % (tag, ip), str(odd))


def check_jsonl(binary, path, exp):
    rc, out, err = run(binary, ["-r", path, "--format", "jsonl"])
    if not check(rc == 0, "jsonl run on %s exits 0" % path, err[-500:]):
        return
    objs = []
    for line in out.splitlines():
        try:
            objs.append(json.loads(line))
        except ValueError:
            check(False, "jsonl line is JSON", line[:200])
    run0 = exp["runs"][0]
    nnr_lines = [o for o in objs if o.get("type") == "nnr"]
    name_lines = [o for o in objs if o.get("type") == "name"]
    check(len(nnr_lines) == len(run0["targets"]), "jsonl: one nnr line per target on %s" % path,
          "got %d want %d" % (len(nnr_lines), len(run0["targets"])))
    n_names = sum(len(h["names"]) for h in exp["hosts"].values())
    check(len(name_lines) >= n_names, "jsonl: a name line per host name on %s" % path,
          "got %d want >= %d" % (len(name_lines), n_names))
    apps = {o.get("app") for o in objs if o.get("type") == "attempt"}
    check(bool(apps & {"netbios", "dcerpc", "dns", "rdp", "tls"}), "jsonl: attempts carry app on %s" % path,
          str(apps))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    source = os.path.abspath(args.source)
    mod = load_scenarios(source)
    check_regenerated(mod, source)

    for name, _fn in mod.SCENARIOS:
        exp = mod.EXPECTED[name]
        path = os.path.join(source, "pcaps", exp["file"])
        for i, r in enumerate(exp["runs"]):
            r = dict(r)
            r["file"] = exp["file"]
            tag = "%s run %d %s" % (name, i, " ".join(r["args"]) or "(no options)")
            rc, out, err = run(args.binary, ["-r", path, "--format", "json"] + r["args"])
            if not check(rc == 0, tag + ": exits 0", "rc %r: %s" % (rc, err[-500:])):
                continue
            try:
                report = json.loads(out)
            except ValueError as e:
                check(False, tag + ": output is JSON", str(e))
                continue
            nnr = report.get("nnr")
            if not check(isinstance(nnr, dict), tag + ": report has nnr"):
                continue
            check_sensors(tag, nnr, r)
            check_targets(tag, nnr, r)
            if i == 0:
                check_hosts(tag, report.get("hosts"), exp)
        check_jsonl(args.binary, path, exp)
        # the text report leads with the NNR tables
        rc, out, err = run(args.binary, ["-r", path])
        check(rc == 0 and "198.18.0.5" in out, "text report on %s mentions the sensor" % name,
              err[-300:])

    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 1 if checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
