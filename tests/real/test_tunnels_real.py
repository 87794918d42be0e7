#!/usr/bin/env python3
"""Tunnels, link layers and capture formats on real captures, tshark as the oracle.

For public captures under <source>/../shared/pcaps that hold tunnels (GTP-U,
Teredo, Geneve, VXLAN, GRE, ERSPAN, PPP in GRE, PPPoE, MPLS, 802.1ah, Aruba GRE
with 802.11), PPP link layers and pcapng files whose interfaces differ (libpcap
cannot read those; portwitness reads them through libwiretap), tshark's decoding
of each frame's innermost IP/TCP/UDP layer (inner_frames.py) is turned into the
expected attempts by test_core_real's documented rules (clear-cut cases only),
and compared with portwitness --format jsonl exactly as test_core_real compares
plain captures: same outcome, reason, frames, retries; no phantom attempts (an
outer tunnel flow reported as an attempt would be one); json packets = tshark's
frame count.  Expectations never come from portwitness output.

Usage: test_tunnels_real.py --binary PATH --source REPO_DIR [--verbose]
Exit 0 pass, 1 fail, 77 skipped (no ../shared/pcaps or no tshark).
"""
import argparse
import importlib.util
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

FILES = [
    # GTP-U (with and without extension headers, over IPv4 and IPv6, behind SLL)
    "arkime/gtp-u.pcap",
    "arkime/gtp-iphone.pcap",
    "arkime/ipv6-gtp6.pcap",
    "zeek/tunnels/gtp/gtp_control_prime.pcap",
    "zeek/tunnels/gtp/pdp_ctx_messages.pcapng",
    # Teredo (origin and authentication indications, bubbles)
    "suricata-verify/decode-teredo-01/input.pcap",
    # Geneve, VXLAN, nested VXLAN
    "arkime/tcpdump-geneve.pcap",
    "suricata-verify/geneve-decoder/input.pcap",
    "arkime/vxlan.pcap",
    "suricata-verify/vxlan-decoder-01/input.pcap",
    "suricata-verify/vxlan-decoder-02/vxlan.pcap",
    "suricata-verify/vxlan-decoder-03/vxlan.pcap",
    "suricata-verify/vxlan-non-zero-reserved-fields/input.pcap",
    "zeek/tunnels/vxlan-triple-v2.pcap",
    "zeek/tunnels/vxlan-inner-tcp-bad-checksum.pcap",
    # GRE, ERSPAN, PPP in GRE, GRE in UDP, Aruba GRE with 802.11
    "arkime/gre-erspan-vxlan.pcap",
    "arkime/gre-sample.pcap",
    "arkime/6-4-gre-ppp-udp-4-dns.pcap",
    "suricata-verify/bug-5633-gre-01/gre-udp.pcap",
    "suricata-verify/flow-pkt-recursion/tunnel-pkt-flows.pcap",
    "zeek/erspan.pcap",
    "zeek/erspanI.pcap",
    "zeek/erspanII.pcap",
    "zeek/erspanIII.pcap",
    "zeek/tunnels/gre-erspan3-dot1q.pcap",
    "zeek/tunnels/gre-aruba.pcap",
    "zeek/tunnels/gre-aruba-amsdu.pcap",
    "zeek/tunnels/gre-aruba-ccmp.pcap",
    "zeek/tunnels/ping6-in-ipv4.pcap",
    "zeek/tunnels/tunnel-direct-bypass.pcap",
    # PPPoE, MPLS, 802.1ah
    "arkime/pppoe.pcap",
    "arkime/mpls-basic.pcap",
    "zeek/mpls-in-vlan.pcap",
    "zeek/pbb-recursive-frames.pcapng",
    # DLT_PPP link layer
    "zeek/quic/interop/quic-go_quic-go/handshake.pcap",
    "zeek/quic/interop/quic-go_quic-go/retry.pcap",
    "zeek/quic/interop/quic-go_quic-go/zerortt.pcap",
    # pcapng whose interfaces differ (libpcap refuses them; read with libwiretap)
    "zeek/ldap/gap-data-missing.pcapng",
    "zeek/ldap/modify-request.pcapng",
]


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    root = os.path.join(os.path.abspath(args.source), "..", "shared", "pcaps")
    if not os.path.isdir(root):
        print("skipped: %s not found (real captures absent)" % os.path.normpath(root))
        print("0 passed, 0 failed")
        return 77
    if shutil.which("tshark") is None:
        print("skipped: tshark not installed (it is the independent oracle)")
        print("0 passed, 0 failed")
        return 77
    core = load("test_core_real")
    inner = load("inner_frames")
    core.VERBOSE = args.verbose
    # the same comparison as test_core_real, fed with the innermost layers
    core.tshark_frames = lambda path: inner.inner_frames(core, path)
    binary = os.path.abspath(args.binary)
    if not core.check(os.access(binary, os.X_OK), "binary %s exists" % binary):
        print("%d passed, %d failed" % (core.checks.PASSED, core.checks.FAILED))
        return 1
    tot_a = tot_d = nfiles = 0
    for rel in FILES:
        if not os.path.exists(os.path.join(root, rel)):
            print("skip %s: not present" % rel)
            continue
        r = core.compare_file(binary, root, rel)
        if r:
            nfiles += 1
            tot_a += r[0]
            tot_d += r[1]
    core.check(nfiles >= 1, "at least one tunnel capture compared")
    print("files compared: %d; attempts agreeing with tshark: %d, disagreeing: %d"
          % (nfiles, tot_a, tot_d))
    print("%d passed, %d failed" % (core.checks.PASSED, core.checks.FAILED))
    return 1 if core.checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
