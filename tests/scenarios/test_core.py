#!/usr/bin/env python3
"""Core scenario test: runs portwitness on the generated pcaps/core-* captures and
asserts the exact attempts (outcome, reason, retries, frames, icmp_from, ts, rtt).

Expectations come from tools/pcapgen/scenarios_core.py (EXPECTED), written next to
the traffic that produces them.  Also checks: the committed pcaps are exactly what
the generator writes, the json report (schema, inputs, services), broken input
(truncated / not a capture / empty), usage errors, stdin input, BPF filters keep
frame numbers, -o, several inputs, configurable timeouts.

Usage: test_core.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail; last line "N passed, N failed".  Python 3 stdlib only.
"""
import argparse
import filecmp
import glob
import importlib.util
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402


def run(binary, args, stdin=None, timeout=60):
    """Runs portwitness; returns (exit code, stdout text, stderr text)."""
    try:
        p = subprocess.run([binary] + args, input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", "TIMEOUT after %ds" % timeout
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def parse_jsonl(text, what):
    objs = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            objs.append(json.loads(line))
        except ValueError as e:
            check(False, "%s: line %d is JSON" % (what, n), "%s: %r" % (e, line[:200]))
    return objs


def attempts_of(objs):
    return [o for o in objs if isinstance(o, dict) and o.get("type") == "attempt"]


def norm_ip(a):
    try:
        return str(ipaddress.ip_address(a))
    except (ValueError, TypeError):
        return a


def akey(a):
    fr = a.get("frames") or [None]
    return (a.get("proto"), norm_ip(a.get("client")), a.get("client_port"),
            norm_ip(a.get("server")), a.get("port"), fr[0])


def compare_attempts(what, expected, got, check_source=None):
    """Every expected attempt is reported exactly once with the expected fields, and
    nothing else is reported."""
    bykey = {}
    for g in got:
        bykey.setdefault(akey(g), []).append(g)
    for e in expected:
        k = akey(e)
        label = "%s: %s %s:%s -> %s:%s frame %s" % (what, e["proto"], e["client"], e["client_port"],
                                                     e["server"], e["port"], e["frames"][0])
        cands = bykey.pop(k, [])
        if not check(len(cands) == 1, label + " reported once",
                     "got %d attempts with that key" % len(cands)):
            continue
        g = cands[0]
        diffs = []
        for f in ("outcome", "reason", "retries", "frames"):
            if g.get(f) != e[f]:
                diffs.append("%s expected %r got %r" % (f, e[f], g.get(f)))
        if norm_ip(g.get("icmp_from")) != norm_ip(e["icmp_from"]):
            diffs.append("icmp_from expected %r got %r" % (e["icmp_from"], g.get("icmp_from")))
        ts = g.get("ts")
        if not isinstance(ts, (int, float)) or abs(ts - e["ts"]) > 1.5e-6:
            diffs.append("ts expected %.6f got %r" % (e["ts"], ts))
        if "rtt_ms" in e:
            r = g.get("rtt_ms")
            if e["rtt_ms"] is None:
                if r is not None:
                    diffs.append("rtt_ms expected null got %r" % (r,))
            elif not isinstance(r, (int, float)) or abs(r - e["rtt_ms"]) > 0.0015 + 0.001 * e["rtt_ms"]:
                diffs.append("rtt_ms expected %.3f got %r" % (e["rtt_ms"], r))
        if check_source is not None and not str(g.get("source", "")).endswith(check_source):
            diffs.append("source expected ...%s got %r" % (check_source, g.get("source")))
        check(not diffs, label + " fields", "; ".join(diffs) + "  [got %s]" % json.dumps(g))
    extra = [g for v in bykey.values() for g in v]
    check(not extra, "%s: no unexpected attempts" % what,
          "; ".join(json.dumps(x) for x in extra[:6]))


def expected_services(attempts):
    rank = {"answered": 5, "refused": 4, "blocked": 3, "unanswered": 2, "indeterminate": 1}
    svc = {}
    for a in attempts:
        k = (norm_ip(a["server"]), a["proto"], a["port"])
        s = svc.setdefault(k, {"counts": {o: 0 for o in rank}, "clients": set(), "first_frame": None})
        s["counts"][a["outcome"]] += 1
        s["clients"].add(norm_ip(a["client"]))
        f = a["frames"][0]
        s["first_frame"] = f if s["first_frame"] is None else min(s["first_frame"], f)
    out = {}
    for k, s in svc.items():
        best = max((o for o in rank if s["counts"][o]), key=lambda o: rank[o])
        out[k] = {"outcome": best, "counts": s["counts"], "clients": len(s["clients"]),
                  "first_frame": s["first_frame"]}
    return out


def check_json_report(what, rep, exp, path):
    if not check(isinstance(rep, dict), what + ": json report is an object"):
        return
    check(rep.get("schema") == "portwitness/1", what + ": schema", repr(rep.get("schema")))
    inputs = rep.get("inputs")
    if check(isinstance(inputs, list) and len(inputs) == 1, what + ": one input", repr(inputs)[:300]):
        inp = inputs[0]
        check(str(inp.get("path", "")).endswith(os.path.basename(path)), what + ": inputs[0].path",
              repr(inp.get("path")))
        if exp.get("packets") is not None:
            check(inp.get("packets") == exp["packets"], what + ": inputs[0].packets",
                  "expected %s got %r" % (exp["packets"], inp.get("packets")))
        lt = inp.get("linktype", inp.get("link_type"))
        if exp.get("linktype"):
            check(isinstance(lt, str) and lt.upper() == exp["linktype"].upper(),
                  what + ": inputs[0].linktype", "expected %s got %r" % (exp["linktype"], lt))
        for fld in ("first_ts", "last_ts"):
            if exp.get(fld) is None:
                continue
            v = inp.get(fld)
            check(isinstance(v, (int, float)) and abs(v - exp[fld]) < 1.5e-6,
                  what + ": inputs[0].%s" % fld, "expected %.6f got %r" % (exp[fld], v))
        # the per-class decode error counters ("errors", as the issue names them),
        # beside the fatal read "error"
        errs = inp.get("errors")
        check(isinstance(errs, dict) and isinstance(errs.get("total"), int),
              what + ": inputs[0].errors object with a total", "inputs[0] = %r" % (inp,))
        for cls, n in (exp.get("min_errors") or {}).items():
            got = errs.get(cls) if isinstance(errs, dict) else None
            check(isinstance(got, int) and got >= n, what + ": inputs[0].errors.%s >= %d" % (cls, n),
                  "errors = %r" % (errs,))
    check(isinstance(rep.get("stats"), dict), what + ": stats object")
    services = rep.get("services")
    if not check(isinstance(services, list), what + ": services list"):
        return
    want = expected_services(exp["attempts"])
    got = {}
    for s in services:
        got[(norm_ip(s.get("server")), s.get("proto"), s.get("port"))] = s
    for k, w in sorted(want.items(), key=lambda kv: str(kv[0])):
        g = got.pop(k, None)
        label = "%s: service %s %s/%s" % (what, k[0], k[1], k[2])
        if not check(g is not None, label + " present"):
            continue
        diffs = []
        for f in ("outcome", "clients", "first_frame"):
            if g.get(f) != w[f]:
                diffs.append("%s expected %r got %r" % (f, w[f], g.get(f)))
        gc = g.get("counts") or {}
        for o, n in w["counts"].items():
            if gc.get(o) != n:
                diffs.append("counts.%s expected %d got %r" % (o, n, gc.get(o)))
        check(not diffs, label + " fields", "; ".join(diffs))
    check(not got, what + ": no unexpected services", repr(list(got))[:300])


def load_expected(source):
    path = os.path.join(source, "tools", "pcapgen", "scenarios_core.py")
    sys.path.insert(0, os.path.dirname(path))
    spec = importlib.util.spec_from_file_location("scenarios_core", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.EXPECTED


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    source = os.path.abspath(args.source)
    pcaps = os.path.join(source, "pcaps")
    tmp = tempfile.mkdtemp(prefix="pw-core-")

    # (a) the committed captures are exactly what our generator writes
    gen = os.path.join(source, "tools", "pcapgen", "generate.py")
    p = subprocess.run([sys.executable, gen, "--out", os.path.join(tmp, "gen")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(p.returncode == 0, "generate.py runs", p.stderr.decode()[-500:])
    generated = sorted(os.path.basename(f) for f in glob.glob(os.path.join(tmp, "gen", "core-*")))
    committed = sorted(os.path.basename(f) for f in glob.glob(os.path.join(pcaps, "core-*")))
    check(generated == committed, "committed pcaps/core-* are the generated set",
          "only generated: %s; only committed: %s" % (sorted(set(generated) - set(committed)),
                                                       sorted(set(committed) - set(generated))))
    for name in generated:
        c = os.path.join(pcaps, name)
        check(os.path.exists(c) and filecmp.cmp(os.path.join(tmp, "gen", name), c, shallow=False),
              "pcaps/%s is byte-identical to the generator's output" % name)
        if os.path.exists(c):
            check(os.path.getsize(c) < 64 * 1024, "pcaps/%s is small" % name)

    expected = load_expected(source)
    if not check(os.access(binary, os.X_OK), "binary %s exists" % binary):
        print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
        return 1

    # (b) exact attempts in every core capture, jsonl
    for name, exp in sorted(expected.items()):
        path = os.path.join(pcaps, exp["file"])
        rc, out, err = run(binary, ["-r", path, "--format", "jsonl"])
        what = exp["file"]
        if exp["exit"] is None:          # unsupported link type: counted errors or a clear error
            check(rc in (0, 1), what + ": exit 0 or 1", "rc=%r stderr=%s" % (rc, err[-300:]))
            if rc == 1:
                check(exp["file"] in err, what + ": stderr names the file", err[-300:])
            check(attempts_of(parse_jsonl(out, what)) == [], what + ": no attempts")
            continue
        check(rc == exp["exit"], what + ": exit code %d" % exp["exit"],
              "rc=%r stderr=%s" % (rc, err[-400:]))
        compare_attempts(what + " jsonl", exp["attempts"], attempts_of(parse_jsonl(out, what)),
                         check_source=exp["file"])
        if exp["exit"] == 1:
            check(exp["file"] in err, what + ": stderr names the file", err[-300:])
        for oname, opt in sorted((exp.get("options") or {}).items()):
            rc, out, err = run(binary, ["-r", path, "--format", "jsonl"] + opt["args"])
            check(rc == 0, "%s %s: exit 0" % (what, oname), err[-300:])
            compare_attempts("%s %s" % (what, " ".join(opt["args"])), opt["attempts"],
                             attempts_of(parse_jsonl(out, what)))

    # (c) json report: schema, inputs, services, for every readable capture
    for name, exp in sorted(expected.items()):
        if exp["exit"] != 0 or "packets" not in exp:
            continue
        path = os.path.join(pcaps, exp["file"])
        rc, out, err = run(binary, ["-r", path, "--format", "json"])
        check(rc == 0, exp["file"] + " json: exit 0", err[-300:])
        try:
            rep = json.loads(out)
        except ValueError as e:
            check(False, exp["file"] + " json: output parses", str(e))
            continue
        check_json_report(exp["file"] + " json", rep, exp, path)

    # (d) broken input
    tr = expected["core-truncated"]
    tpath = os.path.join(pcaps, tr["file"])
    for ename in ("core-truncated", "core-truncated-header", "core-truncated-ng"):
        e = expected[ename]
        rc, out, err = run(binary, ["-r", os.path.join(pcaps, e["file"]), "--format", "jsonl"])
        nums = [int(x) for x in re.findall(r"\d+", err)]
        check(any(n in e["error_offsets"] for n in nums),
              e["file"] + ": stderr names a byte offset of the cut",
              "wanted one of %s in %r" % (e["error_offsets"], err[-300:]))
    rc, out, err = run(binary, ["-r", tpath, "--format", "json"])
    check(rc == 1, "truncated json: exit 1", "rc=%r" % rc)
    try:
        rep = json.loads(out)
        inp = (rep.get("inputs") or [{}])[0]
        check(inp.get("packets") == tr["packets"], "truncated json: packets read before the cut",
              "expected %d got %r" % (tr["packets"], inp.get("packets")))
        msg = inp.get("error") if isinstance(inp.get("error"), str) else inp.get("errors")
        check(isinstance(msg, str) and any(int(x) in tr["error_offsets"] for x in re.findall(r"\d+", msg)),
              "truncated json: the input carries the read error with its offset", repr(inp)[:400])
        svc = expected_services(tr["attempts"])
        got = {(norm_ip(s.get("server")), s.get("proto"), s.get("port")): s
               for s in rep.get("services") or []}
        check(set(got) == set(svc), "truncated json: services before the cut", repr(sorted(got))[:300])
    except (ValueError, AttributeError, TypeError) as e:
        check(False, "truncated json: report still written", "%s: %r" % (e, out[:300]))
    # usage errors
    for bad in (["--no-such-option"], ["-r", tpath, "--format", "xml"], ["-r"]):
        rc, out, err = run(binary, bad)
        check(rc == 2, "usage error %s: exit 2" % " ".join(bad), "rc=%r stderr=%s" % (rc, err[-200:]))
        check(err.strip() != "", "usage error %s: message on stderr" % " ".join(bad))
    # a good file and a bad file together: exit 1, good file fully reported
    good = expected["core-udp"]
    rc, out, err = run(binary, ["-r", os.path.join(pcaps, good["file"]), "-r",
                                os.path.join(pcaps, "core-not-a-capture.pcap"), "--format", "jsonl"])
    check(rc == 1, "good + not-a-capture: exit 1", "rc=%r" % rc)
    check("core-not-a-capture.pcap" in err, "good + not-a-capture: stderr names the bad file", err[-300:])
    compare_attempts("good + not-a-capture", good["attempts"], attempts_of(parse_jsonl(out, "mixed")))

    # two good inputs: each attempt stamped with its own source and that file's frame numbers
    a, b = expected["core-tcp-outcomes"], expected["core-ipv6"]
    rc, out, err = run(binary, ["-r", os.path.join(pcaps, a["file"]), "-r",
                                os.path.join(pcaps, b["file"]), "--format", "jsonl"])
    check(rc == 0, "two inputs: exit 0", err[-300:])
    got = attempts_of(parse_jsonl(out, "two inputs"))
    compare_attempts("two inputs (first)", a["attempts"],
                     [g for g in got if str(g.get("source", "")).endswith(a["file"])], a["file"])
    compare_attempts("two inputs (second)", b["attempts"],
                     [g for g in got if str(g.get("source", "")).endswith(b["file"])], b["file"])
    check(len(got) == len(a["attempts"]) + len(b["attempts"]), "two inputs: attempt count",
          "%d" % len(got))
    rc, out, err = run(binary, ["-r", os.path.join(pcaps, a["file"]), "-r",
                                os.path.join(pcaps, b["file"]), "--format", "json"])
    try:
        rep = json.loads(out)
        check(len(rep.get("inputs") or []) == 2, "two inputs json: two inputs",
              repr(rep.get("inputs"))[:300])
    except ValueError as e:
        check(False, "two inputs json parses", str(e))

    # (e) stdin gives the same attempts (pcap and pcapng)
    for ename in ("core-tcp-outcomes", "core-pcapng", "core-truncated"):
        e = expected[ename]
        with open(os.path.join(pcaps, e["file"]), "rb") as f:
            data = f.read()
        rc, out, err = run(binary, ["-r", "-", "--format", "jsonl"], stdin=data)
        check(rc == e["exit"], "stdin %s: exit %d" % (e["file"], e["exit"]), "rc=%r %s" % (rc, err[-200:]))
        compare_attempts("stdin " + e["file"], e["attempts"], attempts_of(parse_jsonl(out, "stdin")))

    # (f) a BPF filter keeps the unfiltered frame numbers
    for ename, bpf, keep in (("core-tcp-outcomes", ["tcp", "port", "135"],
                              lambda x: x["proto"] == "tcp" and x["port"] == 135),
                             ("core-udp", ["udp", "and", "host", "198.18.0.53"],
                              lambda x: x["server"] == "198.18.0.53"),
                             ("core-ipv6", ["ip6", "and", "tcp", "port", "445"],
                              lambda x: x["proto"] == "tcp" and x["port"] == 445)):
        e = expected[ename]
        want = [x for x in e["attempts"] if keep(x)]
        check(len(want) >= 2, "bpf %s: test selects attempts" % " ".join(bpf))
        rc, out, err = run(binary, ["-r", os.path.join(pcaps, e["file"]), "--format", "jsonl"] + bpf)
        check(rc == 0, "bpf %s: exit 0" % " ".join(bpf), err[-300:])
        compare_attempts("%s bpf '%s'" % (e["file"], " ".join(bpf)), want,
                         attempts_of(parse_jsonl(out, "bpf")))
    rc, out, err = run(binary, ["-r", os.path.join(pcaps, "core-udp.pcap"), "tcp", "port", "(("])
    check(rc in (1, 2), "invalid bpf: exit 1 or 2", "rc=%r" % rc)
    check(err.strip() != "", "invalid bpf: message on stderr")

    # (g) -o FILE writes the output there (and the same bytes as stdout)
    e = expected["core-tcp-outcomes"]
    path = os.path.join(pcaps, e["file"])
    rc1, out1, _ = run(binary, ["-r", path, "--format", "jsonl"])
    rc2, out2, _ = run(binary, ["-r", path, "--format", "jsonl"])
    check(out1 == out2 and out1, "jsonl output is deterministic")
    ofile = os.path.join(tmp, "out.jsonl")
    rc, out, err = run(binary, ["-r", path, "--format", "jsonl", "-o", ofile])
    check(rc == 0, "-o: exit 0", err[-300:])
    check(out.strip() == "", "-o: nothing on stdout", out[:200])
    content = open(ofile, encoding="utf-8").read() if os.path.exists(ofile) else ""
    check(content == out1, "-o: file holds the same jsonl as stdout")
    compare_attempts("-o file", e["attempts"], attempts_of(parse_jsonl(content, "-o")))
    ofile = os.path.join(tmp, "out.json")
    rc, out, err = run(binary, ["-r", path, "--format", "json", "-o", ofile])
    try:
        rep = json.load(open(ofile, encoding="utf-8"))
        check(rep.get("schema") == "portwitness/1", "-o json: schema in the file")
    except (OSError, ValueError) as ex:
        check(False, "-o json: file parses", str(ex))

    # default text output: a readable table naming the outcomes
    rc, out, err = run(binary, ["-r", path])
    check(rc == 0, "text: exit 0", err[-300:])
    for word in ("answered", "refused", "blocked", "unanswered", "198.18.0.21", "5985"):
        check(word in out, "text output mentions %s" % word)
    rc, out3, err = run(binary, ["-r", path, "--format", "text"])
    check(out3 == out, "--format text is the default")

    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 1 if checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
