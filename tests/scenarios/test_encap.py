#!/usr/bin/env python3
"""Encapsulation and capture-format scenarios, with tshark as the oracle.

For every generated pcaps/encap-* capture (tools/pcapgen/scenarios_encap.py: a TCP
handshake to 445 and a UDP request/reply to 53 behind one link layer or tunnel, a
two-interface pcapng with different link types and snapshot lengths, a gzip'd
pcap, ordinary datagrams on tunnel ports, tunnels nested too deep):

  - the committed files are byte-identical to the generator's output;
  - the attempts portwitness reports (--format jsonl) are exactly the attempts
    tshark's decoding implies for the innermost IP/TCP/UDP layer of each frame
    (tests/real/inner_frames.py + test_core_real's documented rules): same client,
    server, ports, outcome, reason and frame numbers, and nothing else -- so the
    outer flow of a tunnel is never an attempt;
  - the input's packet count is tshark's frame count, its link type name is the
    scenario's, and protected 802.11 frames are counted (wireless_protected) as
    many times as tshark shows wlan.fc.protected;
  - (tshark decodes tunnel ports whatever the bytes say, so for ordinary datagrams on
    those ports and for tunnels nested beyond the bound the expected attempts are the
    ones the scenario wrote);
  - a trailing BPF filter applies to records read through libwiretap (pcapng with
    mixed link types, gzip) and keeps frame numbers;
  - the GTP-U scenario converted by editcap into Network Monitor 1.x/2.x, snoop,
    Sniffer and other formats libpcap cannot read gives the same inner flows.

Usage: test_encap.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail, 77 skipped (no tshark); last line "N passed, N failed".
"""
import argparse
import filecmp
import glob
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run(binary, args):
    p = subprocess.run([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def report(binary, path, bpf=()):
    rc, out, err = run(binary, ["-r", path, "--format", "jsonl"] + list(bpf))
    atts, inp = [], None
    for line in out.splitlines():
        o = json.loads(line)
        if o.get("type") == "attempt":
            atts.append(o)
        elif o.get("type") == "input":
            inp = o
    return rc, atts, inp, err


def key_of(g):
    return (g["proto"], g["client"], g["client_port"], g["server"], g["port"], g["outcome"],
            g["reason"], tuple(g["frames"]))


def expected_attempts(core, frames):
    """Attempts tshark's innermost layers imply; None when one is not clear-cut."""
    out = set()
    for a in core.oracle(frames):
        if a.state == "done":
            out.add((a.proto, a.client, a.cport, a.server, a.sport, a.outcome, a.reason,
                     (a.first, a.reply)))
        elif a.state == "pending":
            out.add((a.proto, a.client, a.cport, a.server, a.sport, "indeterminate",
                     "capture-ended", (a.first,)))
        else:
            return None
    return out


def tshark_count(path, display_filter):
    p = subprocess.run(["tshark", "-n", "-r", path, "-Y", display_filter, "-T", "fields", "-e",
                        "frame.number"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return len(p.stdout.split())


def wiretap_exits(binary, source):
    """A file one of libwiretap's text readers ends the process on (capinfos
    exits on it too): reported as not a capture file, exit 1, report written."""
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "stars.txt")
        with open(bad, "w") as f:
            f.write("***\n")
        rc, out, err = run(binary, ["-r", bad, "-r", os.path.join(source, "pcaps", "core-udp.pcap"),
                                    "--format", "json"])
        check(rc == 1, "a file libwiretap exits on: exit status 1", "%d %s" % (rc, err[-200:]))
        check("not a capture file" in err, "... named as not a capture file", err[-200:])
        rep = json.loads(out) if out.strip().startswith("{") else {}
        check(len(rep.get("inputs", [])) == 2 and rep["inputs"][1]["packets"] > 0,
              "... and the next input is still read and reported", out[:200])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    source = os.path.abspath(args.source)
    pcaps = os.path.join(source, "pcaps")
    if shutil.which("tshark") is None:
        print("skipped: tshark not installed (it is the independent oracle)")
        print("0 passed, 0 failed")
        return 77
    tmp = tempfile.mkdtemp(prefix="pw-encap-")

    gen = os.path.join(source, "tools", "pcapgen", "generate.py")
    p = subprocess.run([sys.executable, gen, "--out", os.path.join(tmp, "gen")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(p.returncode == 0, "generate.py runs", p.stderr.decode()[-500:])
    generated = sorted(os.path.basename(f) for f in glob.glob(os.path.join(tmp, "gen", "encap-*")))
    committed = sorted(os.path.basename(f) for f in glob.glob(os.path.join(pcaps, "encap-*")))
    check(generated == committed, "committed pcaps/encap-* are the generated set",
          "only generated: %s; only committed: %s" % (sorted(set(generated) - set(committed)),
                                                       sorted(set(committed) - set(generated))))
    for name in generated:
        c = os.path.join(pcaps, name)
        check(os.path.exists(c) and filecmp.cmp(os.path.join(tmp, "gen", name), c, shallow=False),
              "pcaps/%s is byte-identical to the generator's output" % name)

    sys.path.insert(0, os.path.join(source, "tools", "pcapgen"))
    sys.path.insert(0, os.path.join(source, "tests", "real"))
    scen = load(os.path.join(source, "tools", "pcapgen", "scenarios_encap.py"), "scenarios_encap")
    core = load(os.path.join(source, "tests", "real", "test_core_real.py"), "test_core_real")
    inner = load(os.path.join(source, "tests", "real", "inner_frames.py"), "inner_frames")
    if not check(os.access(binary, os.X_OK), "binary %s exists" % binary):
        print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
        return 1

    files = {os.path.basename(f).split(".")[0]: f for f in glob.glob(os.path.join(pcaps, "encap-*"))}
    for name, exp in sorted(scen.EXPECTED.items()):
        path = files.get(name)
        if not check(path is not None, "%s: committed" % name):
            continue
        frames, trc, terr = inner.inner_frames(core, path)
        rc, got, inp, err = report(binary, path)
        check(rc == 0, "%s: exit 0" % name, err[-300:])
        if not check(inp is not None, "%s: an input line" % name):
            continue
        check(inp["linktype"] == exp["linktype"], "%s: link type %s" % (name, exp["linktype"]),
              "got %r" % inp["linktype"])
        check(inp["packets"] == len(frames), "%s: packets = tshark's frame count %d" %
              (name, len(frames)), "got %r" % inp["packets"])
        for cls, n in exp["min_errors"].items():
            check(inp["errors"].get(cls, 0) >= n, "%s: errors.%s >= %d" % (name, cls, n),
                  "errors %r" % inp["errors"])
        nprot = tshark_count(path, "wlan.fc.protected == 1")
        check(inp["errors"].get("wireless_protected") == nprot,
              "%s: wireless_protected = tshark's protected frames (%d)" % (name, nprot),
              "errors %r" % inp["errors"])
        gotset = {key_of(g) for g in got}
        check(len(gotset) == len(got), "%s: no attempt reported twice" % name)
        if exp["oracle"]:
            want = expected_attempts(core, frames)
            if check(want is not None and len(want) >= 2,
                     "%s: tshark decodes the inner handshake and exchange" % name, repr(want)):
                check(gotset == want, "%s: attempts are exactly tshark's inner flows" % name,
                      "missing %s; extra %s" % (sorted(want - gotset), sorted(gotset - want)))
        else:
            want = {tuple(a) for a in exp["attempts"]}
            check(gotset == want, "%s: attempts are the scenario's %d" % (name, len(want)),
                  "missing %s; extra %s" % (sorted(want - gotset), sorted(gotset - want)))

    # the trailing filter applies to records libwiretap reads, frames keep their numbers
    # (the gzip'd frames are VLAN-tagged: BPF needs "vlan" to look inside, as with libpcap)
    for name, prefix in (("encap-pcapng-mixed", ""), ("encap-gzip", "vlan and ")):
        path = files.get(name)
        if path is None:
            continue
        frames, _rc, _err = inner.inner_frames(core, path)
        want = expected_attempts(core, frames) or set()
        for proto in ("tcp", "udp"):
            rc, got, inp, err = report(binary, path, (prefix + proto).split())
            check(rc == 0, "%s '%s': exit 0" % (name, proto), err[-300:])
            sub = {w for w in want if w[0] == proto}
            check(len(sub) >= 1 and {key_of(g) for g in got} == sub,
                  "%s with filter '%s': only %s attempts, same frames" % (name, proto, proto),
                  "want %s got %s" % (sorted(sub), json.dumps(got)[:300]))
            if inp:
                check(inp["packets"] == len(frames), "%s '%s': every record still counted" %
                      (name, proto), "got %r" % inp["packets"])

    # other capture formats Wireshark reads (Network Monitor 1.x/2.x, snoop, Sniffer...):
    # the tunnelled scenario converted by editcap (Wireshark's own writer) at test time
    src = files.get("encap-gtpu")
    if shutil.which("editcap") is None or src is None:
        print("skip: editcap not installed, other capture formats not checked")
    else:
        for fmt in ("netmon2", "netmon1", "snoop", "ngsniffer", "ngwsniffer_2_0", "lanalyzer",
                    "5views", "visual", "commview-ncf"):
            conv = os.path.join(tmp, "gtpu." + fmt)
            p = subprocess.run(["editcap", "-F", fmt, src, conv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
            if not check(p.returncode == 0, "editcap writes %s" % fmt, p.stderr.decode()[-200:]):
                continue
            frames, _rc, _err = inner.inner_frames(core, conv)
            want = expected_attempts(core, frames)
            rc, got, inp, err = report(binary, conv)
            check(rc == 0, "%s: exit 0" % fmt, err[-300:])
            check(inp is not None and inp["packets"] == len(frames),
                  "%s: packets = tshark's frame count %d" % (fmt, len(frames)), repr(inp))
            check(want is not None and len(want) == 2 and {key_of(g) for g in got} == want,
                  "%s: the inner flows, as tshark decodes them" % fmt,
                  "want %s got %s" % (sorted(want or []), json.dumps(got)[:300]))
    wiretap_exits(binary, source)

    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 1 if checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
