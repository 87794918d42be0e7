#!/usr/bin/env python3
"""Real-capture HTTP/2 test: the h2c captures of the public suites in
../shared/pcaps (Arkime, Suricata-verify), read by the test-only driver
build/h2calls (capture/ + the dissector registry, as portwitness reads a
file), compared per client-initiated stream with tshark as the oracle:
the request :method and :path (for an "Upgrade: h2c" connection, stream 1 is
the HTTP/1.1 request that asked), :authority, the response :status, the
RST_STREAM and GOAWAY facts, and the request frame.  A value tshark could
not decode (a header block it did not reassemble) is not compared.

Captures tshark sees as HTTP/2 but that are not checked, and why:
  suricata-verify/http2-keywords2, drop-protocol-change: no TCP handshake in
    the capture (payload of such connections is not read: README, known
    limitations)
  suricata-verify/transform-base64-7296: the h2c connections lose segments
    (tshark: "previous segment not captured"), reassembly stops at the gap
  suricata-verify/http2-bugfixes, http2-compression-bug: HTTP/2 inside TLS

Usage: test_http2_real.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail, 77 skipped (no ../shared/pcaps or no tshark); last line
"N passed, N failed".  Python 3 stdlib only.
"""
import argparse
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402

# tshark loses the client direction of arkime/http2-nghttp2.pcap after the
# 27 KB request header block it does not reassemble, so it does not decode
# the client's closing GOAWAY in frame 95; that frame is read from tshark's
# tcp.payload instead (frame header and GOAWAY fields, RFC 9113 6.8).
RAW_GOAWAY_FRAMES = {"arkime/http2-nghttp2.pcap": [95]}

CAPTURES = [
    # (path under ../shared/pcaps, h2c how, streams tshark must show at least)
    ("arkime/http2-nghttp2.pcap", "prior knowledge, a 27 KB request header block", 1),
    ("suricata-verify/app-layer-protocol-exact/input.pcap", "prior knowledge, RST_STREAM CANCEL", 4),
    ("suricata-verify/app-layer-protocol-legacy-equivalence/input.pcap", "prior knowledge", 4),
    ("suricata-verify/bug-5929-02/http2_multiple_headers.pcap", "prior knowledge, server speaks first", 1),
    ("suricata-verify/dns-over-http2-limit/input.pcap", "prior knowledge, 8080", 1),
    ("suricata-verify/dns-over-http2-post/dns_over_https_POST.pcap", "prior knowledge, 34 streams", 34),
    ("suricata-verify/dns-over-http2/dns_over_https.pcap", "prior knowledge", 4),
    ("suricata-verify/http2-authority-mismatch/authority_and_host_2.pcap", "prior knowledge", 1),
    ("suricata-verify/http2-continuation/input.pcap", "prior knowledge, CONTINUATION", 1),
    ("suricata-verify/http2-deflate-case/input.pcap", "Upgrade: h2c, GOAWAY", 1),
    ("suricata-verify/http2-deflate/http2_deflate.pcap", "Upgrade: h2c", 1),
    ("suricata-verify/http2-range/http2-range.pcap", "Upgrade: h2c, three connections", 3),
    ("suricata-verify/http2-userinfo-authority/http2_userinfo_in_authority_1.pcap", "prior knowledge", 1),
]


def raw_goaways(pcap, frames, h2):
    """(client port, last stream id, error name) of GOAWAY frames read from
    tshark's tcp.payload of the given frames."""
    out = []
    for n in frames:
        p = subprocess.run(["tshark", "-r", pcap, "-Y", "frame.number==%d" % n, "-T", "fields",
                            "-e", "tcp.srcport", "-e", "tcp.payload"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, check=True)
        sport, payload = p.stdout.decode().strip().split("\t")
        raw = bytes.fromhex(payload.replace(":", ""))
        length, ftype = int.from_bytes(raw[0:3], "big"), raw[3]
        check(ftype == 7 and length == len(raw) - 9, "frame %d holds one GOAWAY frame" % n, raw.hex())
        last, code = struct.unpack("!II", raw[9:17])
        out.append((int(sport), last & 0x7FFFFFFF, h2.error_name(code), 0))
    return out


def compare(name, oracle, facts, got, got_facts):
    check(sorted(got) == sorted(oracle), "%s: the dissector reports tshark's streams" % name,
          "dissector %s, tshark %s" % (sorted(got), sorted(oracle)))
    for key, t in sorted(oracle.items()):
        d = got.get(key)
        if not d:
            continue
        what = "%s client port %d stream %d" % (name, key[0], key[1])
        for k in ("method", "path", "authority"):
            if t[k]:  # empty: tshark did not decode the request's header block
                check(d[k] == t[k], "%s: %s" % (what, k), "dissector %r, tshark %r" % (d[k], t[k]))
        if t["request_frame"]:
            check(d["request_frame"] == t["request_frame"], "%s: request frame" % what,
                  "dissector %d, tshark %d" % (d["request_frame"], t["request_frame"]))
        check(d["http_status"] == t["http_status"], "%s: :status" % what,
              "dissector %d, tshark %d" % (d["http_status"], t["http_status"]))
        check(d["reset"] == t["reset"], "%s: reset" % what, "dissector %r, tshark %r" % (d["reset"], t["reset"]))
    check(got_facts["rst"] == [(c, s, n) for c, s, n, _d in facts["rst"]], "%s: RST_STREAM" % name,
          "dissector %s, tshark %s" % (got_facts["rst"], facts["rst"]))
    check(got_facts["goaway"] == [(c, last, n) for c, last, n, _d in facts["goaway"]], "%s: GOAWAY" % name,
          "dissector %s, tshark %s" % (got_facts["goaway"], facts["goaway"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    source = os.path.abspath(args.source)
    shared = os.path.join(source, "..", "shared", "pcaps")
    sys.path.insert(0, os.path.join(source, "tests"))
    import h2_tshark as h2

    if not os.path.isdir(shared):
        print("skipped: %s is absent (the real captures are not part of the repository)" % shared)
        return 77
    if not h2.have_tshark():
        print("skipped: tshark (the oracle) is not installed")
        return 77
    driver = h2.driver_path(args.binary)
    if not check(os.access(driver, os.X_OK), "test driver %s is built" % driver):
        print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
        return 1
    checked = 0
    for rel, how, min_streams in CAPTURES:
        pcap = os.path.join(shared, rel)
        if not os.path.exists(pcap):
            print("note: %s is absent, not checked" % rel)
            continue
        checked += 1
        oracle, facts = h2.tshark_streams(pcap)
        facts["goaway"] += raw_goaways(pcap, RAW_GOAWAY_FRAMES.get(rel, []), h2)
        check(len(oracle) >= min_streams, "%s (%s): tshark shows %d+ request streams" % (rel, how, min_streams),
              "tshark: %d" % len(oracle))
        got, got_facts, malformed, rc = h2.driver_streams(driver, pcap)
        check(rc == 0, "%s: h2calls exits 0" % rel, "rc=%d" % rc)
        check(not malformed, "%s: nothing malformed" % rel, "; ".join(malformed[:3]))
        compare(rel, oracle, facts, got, got_facts)
        print("%s (%s): %d streams, %d with a :status" % (rel, how, len(oracle),
                                                          sum(1 for v in oracle.values() if v["http_status"])))
    if not checked:
        print("skipped: none of the h2c captures is present in %s" % shared)
        return 77
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 1 if checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
