#!/usr/bin/env python3
"""Mid-stream scenario test: connections whose TCP handshake is not in the
capture (pcaps/midstream-*.pcap, written by tools/pcapgen/scenarios_midstream.py).

tshark is the oracle: from its view of the capture this test derives, per TCP
conversation, whether a SYN was captured, the first frame, the first frame of
server payload and whether both sides were seen; the NTLMSSP CHALLENGE names
(nb/dns computer name) and the frame carrying them; the TCP port the endpoint
mapper hands out.  portwitness must report:
  - each conversation without a SYN whose server side sent payload and whose
    client side was seen as an attempt answered/midstream with frames
    [first frame, first server payload frame]; one-way ones not at all;
  - the CHALLENGE names as ntlm names of the server at tshark's frame;
  - the endpoint-mapper response's TCP port is read (one epm_port event per
    tshark tower), and the connection to that port is seen;
  - the midstream evidence in the profile rules (reason "midstream").
The server side of a conversation without a SYN is the registered port (135,
445, 3741) as tshark's own port table has it.

Usage: test_midstream.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail, 77 skipped (no tshark); last line "N passed, N failed".
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402
SERVER_PORTS = {135, 445, 3741}


def tshark(path, fields, flt=None):
    args = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    if flt:
        args += ["-Y", flt]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode()
    return [line.split("\t") for line in out.splitlines()]


def conversations(path):
    """{(client, cport, server, sport): {first, syn, reply, client_seen}} from tshark."""
    conv = {}
    for no, src, dst, sp, dp, flags, tlen in tshark(path, ["frame.number", "ip.src", "ip.dst", "tcp.srcport",
                                                         "tcp.dstport", "tcp.flags", "tcp.len"], "tcp"):
        no, sp, dp, flags, tlen = int(no), int(sp), int(dp), int(flags, 16), int(tlen)
        to_server = dp in SERVER_PORTS or (sp not in SERVER_PORTS and dp < sp)
        key = (src, sp, dst, dp) if to_server else (dst, dp, src, sp)
        c = conv.setdefault(key, {"first": no, "syn": False, "reply": None, "client_seen": False})
        if flags & 0x12 == 0x02:
            c["syn"] = True
        if to_server:
            c["client_seen"] = True
        elif tlen > 0 and c["reply"] is None:
            c["reply"] = no
    return conv


def main():
    a = checks.script_args(tshark=True)
    path = os.path.join(a.source, "pcaps", "midstream-rpc.pcap")
    out = subprocess.run([a.binary, "-r", path, "--format", "jsonl", "--profile", "mdi-nnr", "--profile",
                          "netwrix-threat-prevention"], stdout=subprocess.PIPE).stdout.decode()
    objs = [json.loads(line) for line in out.splitlines() if line.strip()]
    atts = {(o["client"], o["client_port"], o["server"], o["port"]): o for o in objs if o["type"] == "attempt"}
    names = {(o["ip"], o["name"]): o for o in objs if o["type"] == "name"}
    rules = {o["id"]: o for o in objs if o["type"] == "rule"}

    conv = conversations(path)
    mid = 0
    for key, c in sorted(conv.items()):
        got = atts.get(key)
        label = "%s:%d -> %s:%d" % key
        if c["syn"]:
            check(got is not None and got["reason"] != "midstream", "%s: handshake seen, not mid-stream" % label)
            continue
        if c["reply"] is None or not c["client_seen"]:
            check(got is None, "%s: one-way mid-stream flow is not an attempt" % label, json.dumps(got))
            continue
        mid += 1
        check(got is not None and (got["outcome"], got["reason"]) == ("answered", "midstream"),
              "%s: answered/midstream" % label, json.dumps(got))
        if got:
            check(got["frames"] == [c["first"], c["reply"]], "%s: frames are tshark's first frame and first "
                  "server payload" % label, "got %r, tshark %r" % (got["frames"], [c["first"], c["reply"]]))
    check(mid == 3, "the capture holds three two-way mid-stream conversations (tshark)", str(mid))
    check(atts.get(("10.30.0.10", 50100, "10.30.0.2", 135), {}).get("app") == "dcerpc",
          "the mid-stream RPC conversation is dcerpc")

    # NTLMSSP CHALLENGE names, as tshark decodes them
    chal = tshark(path, ["frame.number", "ip.src", "ntlmssp.challenge.target_info.nb_computer_name",
                         "ntlmssp.challenge.target_info.dns_computer_name"], "ntlmssp.messagetype == 2")
    check(len(chal) == 2, "tshark decodes two NTLMSSP challenges", str(chal))
    for no, ip, nb, dns in chal:
        for n in (nb, dns):
            got = names.get((ip, n))
            check(got is not None and got["source"] == "ntlm" and got["frame"] == int(no),
                  "ntlm name %s of %s at frame %s" % (n, ip, no), json.dumps(got))
    check(not any(o["conflict"] for o in names.values()), "no name conflict")

    # the endpoint mapper's port: the connection to it is the dynamic-range rule's
    epm = tshark(path, ["frame.number", "epm.proto.tcp_port"], "epm.proto.tcp_port && dcerpc.pkt_type == 2")
    check(len(epm) == 1, "tshark decodes one endpoint-mapper response with a TCP port", str(epm))
    summary = [o for o in objs if o["type"] == "summary"]
    check(summary and summary[0]["stats"]["events"]["epm_port"] == len(epm),
          "the mid-stream endpoint-mapper response is read (epm_port events)",
          json.dumps(summary[0]["stats"]["events"]) if summary else "no summary")
    if epm:
        port = int(epm[0][1])
        dyn = [o for o in objs if o["type"] == "attempt" and o["port"] == port]
        check(len(dyn) == 1 and dyn[0]["reason"] == "syn-ack",
              "the connection to the handed-out port %d is seen" % port, json.dumps(dyn))
        services = [o for o in objs if o["type"] == "service" and o["port"] == port]
        check(len(services) == 1, "a service for the handed-out port", json.dumps(services))

    # rule evidence shows midstream
    for rid, port in (("agent-em", 3741), ("nnr-ntlm-rpc", 135)):
        r = rules.get(rid, {})
        ev = [e for e in r.get("evidence", []) if e["port"] == port]
        check(r.get("verdict") == "pass" and ev and all(e["reason"] == "midstream" for e in ev),
              "rule %s passes on mid-stream evidence" % rid, json.dumps(r)[:400])
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 1 if checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
