#!/usr/bin/env python3
"""gRPC scenario oracle test: the generated pcaps/grpc-* captures are valid
HTTP/2 + gRPC as tshark decodes them, and the http2/grpc dissectors report
the same calls.

  (a) the committed pcaps/grpc-* are exactly what tools/pcapgen writes;
  (b) tshark (-d tcp.port==3741,http2 -d tcp.port==3740,http2) sees, per
      HTTP/2 stream, the paths, :status, grpc-status, grpc-message (percent-
      decoded here), Trailers-Only, RST_STREAM and GOAWAY that
      tools/pcapgen/scenarios_grpc.py (EXPECTED) says it wrote;
  (c) the test-only driver build/h2calls (capture/ + the dissector registry,
      as portwitness reads a file) reports, per stream, exactly tshark's
      values, request and trailer frame numbers included, and nothing
      malformed.
The oracle values are printed, for the end-to-end tests of the analysis.

Usage: test_grpc_oracle.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail, 77 skipped (no tshark); last line "N passed, N failed".
Python 3 stdlib only.
"""
import argparse
import filecmp
import glob
import importlib.util
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402
FIELDS = ("method", "path", "authority", "http_status", "grpc_status", "grpc_message",
          "trailers_only", "end", "reset", "request_frame", "trailer_frame")


def load_expected(source):
    gen_dir = os.path.join(source, "tools", "pcapgen")
    sys.path.insert(0, gen_dir)
    spec = importlib.util.spec_from_file_location("scenarios_grpc", os.path.join(gen_dir, "scenarios_grpc.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.EXPECTED


def check_regenerated(source, tmp):
    gen = os.path.join(source, "tools", "pcapgen", "generate.py")
    p = subprocess.run([sys.executable, gen, "--out", tmp], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(p.returncode == 0, "generate.py runs", p.stderr.decode()[-500:])
    pcaps = os.path.join(source, "pcaps")
    generated = sorted(os.path.basename(f) for f in glob.glob(os.path.join(tmp, "grpc-*")))
    committed = sorted(os.path.basename(f) for f in glob.glob(os.path.join(pcaps, "grpc-*")))
    check(generated and generated == committed, "committed pcaps/grpc-* are the generated set",
          "generated %s, committed %s" % (generated, committed))
    for name in generated:
        c = os.path.join(pcaps, name)
        check(os.path.exists(c) and filecmp.cmp(os.path.join(tmp, name), c, shallow=False),
              "pcaps/%s is byte-identical to the generator's output" % name)
        check(os.path.exists(c) and os.path.getsize(c) < 64 * 1024, "pcaps/%s is small" % name)


def tshark_matches_expected(name, exp, streams, facts):
    """(b): what the generator meant to write is what tshark reads."""
    port = exp["server_port"]
    got = {sid: v for (_cport, sid), v in streams.items()}
    check(sorted(got) == sorted(c["stream"] for c in exp["calls"]),
          "%s: tshark sees request streams %s" % (name, sorted(c["stream"] for c in exp["calls"])),
          "tshark: %s" % sorted(got))
    for c in exp["calls"]:
        v = got.get(c["stream"])
        if not v:
            continue
        for k in ("path", "authority", "http_status", "grpc_status", "grpc_message", "end", "trailers_only"):
            check(v[k] == c[k], "%s stream %d: tshark %s" % (name, c["stream"], k),
                  "tshark %r, scenario %r" % (v[k], c[k]))
        check(v["method"] == "POST", "%s stream %d: tshark :method POST" % (name, c["stream"]))
    check([(s, n) for _c, s, n, _d in facts["rst"]] == exp["rst"], "%s: tshark RST_STREAM %s" % (name, exp["rst"]),
          str(facts["rst"]))
    goaway = [(last, n) for _c, last, n, d in facts["goaway"] if d == 1]
    check(goaway == ([exp["goaway"]] if exp["goaway"] else []), "%s: tshark GOAWAY %s" % (name, exp["goaway"]),
          str(facts["goaway"]))
    check(all(k[0] != port for k in streams), "%s: client ports are not %d" % (name, port))


def driver_matches_tshark(name, driver, pcap, streams, facts, h2):
    """(c): the dissector, fed the capture's streams, reports tshark's calls."""
    got, got_facts, malformed, rc = h2.driver_streams(driver, pcap)
    check(rc == 0, "%s: h2calls exits 0" % name, "rc=%d" % rc)
    check(not malformed, "%s: nothing malformed" % name, "; ".join(malformed))
    check(sorted(got) == sorted(streams), "%s: the dissector reports tshark's streams" % name,
          "dissector %s, tshark %s" % (sorted(got), sorted(streams)))
    for key, v in sorted(streams.items()):
        d = got.get(key)
        if not d:
            continue
        for k in FIELDS:
            check(d[k] == v[k], "%s stream %d: %s" % (name, key[1], k), "dissector %r, tshark %r" % (d[k], v[k]))
    check(got_facts["rst"] == [(c, s, n) for c, s, n, _d in facts["rst"]], "%s: RST_STREAM events" % name,
          "dissector %s, tshark %s" % (got_facts["rst"], facts["rst"]))
    check(got_facts["goaway"] == [(c, last, n) for c, last, n, _d in facts["goaway"]], "%s: GOAWAY events" % name,
          "dissector %s, tshark %s" % (got_facts["goaway"], facts["goaway"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    source = os.path.abspath(args.source)
    sys.path.insert(0, os.path.join(source, "tests"))
    import h2_tshark as h2

    check_regenerated(source, tempfile.mkdtemp(prefix="pw-grpc-"))
    if not h2.have_tshark():
        print("skipped: tshark is not installed (the oracle); generator checks: %d passed, %d failed"
              % (checks.PASSED, checks.FAILED))
        return 1 if checks.FAILED else 77
    driver = h2.driver_path(args.binary)
    check(os.access(driver, os.X_OK), "test driver %s is built" % driver)

    for name, exp in sorted(load_expected(source).items()):
        pcap = os.path.join(source, "pcaps", exp["file"])
        streams, facts = h2.tshark_streams(pcap, decode_as=(3740, 3741))
        tshark_matches_expected(name, exp, streams, facts)
        if os.access(driver, os.X_OK):
            driver_matches_tshark(name, driver, pcap, streams, facts, h2)
        for (cport, sid), v in sorted(streams.items()):
            print("oracle %s port %d stream %d: %s %s -> :status %d grpc-status %d%s%s (%s; frames %d/%d)"
                  % (exp["file"], exp["server_port"], sid, v["method"], v["path"], v["http_status"],
                     v["grpc_status"], " trailers-only" if v["trailers_only"] else "",
                     (" '%s'" % v["grpc_message"]) if v["grpc_message"] else "", v["end"],
                     v["request_frame"], v["trailer_frame"]))
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 1 if checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
