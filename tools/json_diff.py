#!/usr/bin/env python3
"""json_diff.py - runs two portwitness binaries over every capture and
compares their JSON reports.

Usage: tools/json_diff.py --old OLD_BINARY --new NEW_BINARY [--source REPO]
                          [--shared DIR] [--jobs N] [--show N] [--text]

Captures: every file in REPO/pcaps/ and every capture under DIR (default
REPO/../shared/pcaps; skipped with a message when absent).  Runs per
capture: "--format json"; the same with "--profile netwrix-threat-prevention";
and, when the new binary's default report names NNR sensors (the NNR
samples), once more with "--sensor IP" for each of them.  Both binaries read
the repository's profiles (PORTWITNESS_PROFILES), so the profile paths in the
reports are the same.

Nothing is normalised but the order of keys in objects (the JSON values are
compared as parsed, arrays in order, numbers exactly); the exit status and
whether the output parses are compared too.  With --text, the default run's
"--format text" and "--format jsonl" outputs are also compared byte for byte.  Exit status: 0 when every run
agrees, 1 when some differ (the first differences are printed with their
JSON path), 2 on a usage error.  A final line says "N runs over M files
compared, K differ".
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys

CAPTURE_EXT = (".pcap", ".pcapng", ".cap")


def captures(source, shared):
    files = []
    pdir = os.path.join(source, "pcaps")
    for name in sorted(os.listdir(pdir)):
        if name.endswith(CAPTURE_EXT):
            files.append(os.path.join(pdir, name))
    if shared and os.path.isdir(shared):
        for root, _, names in sorted(os.walk(shared)):
            for name in sorted(names):
                if name.endswith(CAPTURE_EXT):
                    files.append(os.path.join(root, name))
    else:
        print("json_diff: no shared captures at %s: comparing pcaps/ only" % shared)
    return files


def run(binary, path, extra, env):
    p = subprocess.run([binary, "-r", path, "--format", "json", "-q", "--no-progress"] + extra,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, timeout=600)
    try:
        return p.returncode, json.loads(p.stdout.decode("utf-8", "replace"))
    except ValueError:
        return p.returncode, None


def first_diff(a, b, path="$"):
    """The JSON path of the first difference, or None (key order ignored)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return "%s.%s (only in %s)" % (path, k, "new" if k in b else "old")
            d = first_diff(a[k], b[k], "%s.%s" % (path, k))
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return "%s (length %d vs %d)" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_diff(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    if type(a) != type(b) or a != b:
        return "%s: %r vs %r" % (path, str(a)[:120], str(b)[:120])
    return None


def compare(args, env, path, extra):
    rc_old, old = run(args.old, path, extra, env)
    rc_new, new = run(args.new, path, extra, env)
    if rc_old != rc_new:
        return "exit status %d vs %d" % (rc_old, rc_new)
    if (old is None) != (new is None):
        return "output parses in only one of them"
    return first_diff(old, new)


def runs_of(args, env, path):
    """The runs of one capture: default, netwrix, and --sensor per NNR sensor."""
    runs = [[], ["--profile", "netwrix-threat-prevention"]]
    _, rep = run(args.new, path, [], env)
    if isinstance(rep, dict):
        for s in rep.get("nnr", {}).get("sensors", []):
            runs.append(["--sensor", s["sensor"]])
    return runs


def raw(binary, path, fmt, env):
    p = subprocess.run([binary, "-r", path, "--format", fmt, "-q", "--no-progress"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, timeout=600)
    return p.returncode, p.stdout


def compare_raw(args, env, path, fmt):
    old, new = raw(args.old, path, fmt, env), raw(args.new, path, fmt, env)
    if old == new:
        return None
    if old[0] != new[0]:
        return "exit status %d vs %d" % (old[0], new[0])
    lo, ln = old[1].splitlines(), new[1].splitlines()
    for i, (a, b) in enumerate(zip(lo, ln)):
        if a != b:
            return "line %d: %r vs %r" % (i + 1, a[:100], b[:100])
    return "%d lines vs %d" % (len(lo), len(ln))


def check_file(args, env, path):
    out = []
    for extra in runs_of(args, env, path):
        d = compare(args, env, path, extra)
        out.append((path, extra, d))
    if args.text:
        for fmt in ("text", "jsonl"):
            out.append((path, ["--format", fmt], compare_raw(args, env, path, fmt)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--source", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--shared", default=None)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--show", type=int, default=20)
    ap.add_argument("--text", action="store_true", help="also compare text and jsonl byte for byte")
    args = ap.parse_args()
    for b in (args.old, args.new):
        if not os.access(b, os.X_OK):
            print("json_diff: %s is not an executable" % b)
            return 2
    shared = args.shared or os.path.join(args.source, "..", "shared", "pcaps")
    env = dict(os.environ, PORTWITNESS_PROFILES=os.path.join(os.path.abspath(args.source), "profiles"), CI="1")
    files = captures(args.source, shared)
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        for r in ex.map(lambda f: check_file(args, env, f), files):
            results.extend(r)
    differ = [r for r in results if r[2]]
    for path, extra, d in differ[: args.show]:
        print("DIFF %s %s: %s" % (path, " ".join(extra) or "(default)", d))
    print("%d runs over %d files compared, %d differ" % (len(results), len(files), len(differ)))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
