#!/usr/bin/env python3
"""DCE/RPC over SMB named pipes on the generated capture pcaps/smb-pipe-rpc.pcap
(tools/pcapgen/scenarios_pipes.py), with tshark as the oracle:

  (a) the committed capture is what the generator writes;
  (b) every DCE/RPC PDU tshark decodes over SMB/SMB2 (frame, packet type,
      call id) is reported by the dcerpc state embedded in the smb dissector
      (build/rpcevents, the test-only driver), with the name of the pipe the
      CREATE opened, and nothing malformed;
  (c) every endpoint-mapper answer's TCP port tshark decodes is reported;
  (d) every NTLMSSP CHALLENGE tshark decodes inside DCE/RPC over SMB names
      its sender in portwitness --format json "hosts" (source ntlm, the
      first frame tshark shows), and no other NTLMSSP carrier is in the
      capture (the names come from the pipes alone).

Usage: test_pipes_oracle.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail, 77 skipped (no tshark); last line "N passed, N failed".
"""
import filecmp
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402

NAME = "smb-pipe-rpc.pcap"


def tshark(path, dfilter, *fields):
    cmd = ["tshark", "-r", path, "-Y", dfilter, "-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout.decode()
    return [line.split("\t") for line in out.splitlines() if line.strip()]


def over_smb(protocols):
    parts = protocols.split(":")
    return "dcerpc" in parts and ("smb" in parts or "smb2" in parts)


def tshark_view(path):
    """(dcerpc {(frame, ptype, call_id)}, epm {(frame, port)}, pipes, challenges [(frame, ip, nb, dns, protos)])."""
    rpc = set()
    for frame, ptypes, calls, protos in tshark(path, "dcerpc", "frame.number", "dcerpc.pkt_type",
                                               "dcerpc.cn_call_id", "frame.protocols"):
        if over_smb(protos):
            for p, c in zip(ptypes.split(","), calls.split(",")):
                rpc.add((int(frame), int(p), int(c)))
    epm = set()
    for frame, ports in tshark(path, "epm && dcerpc.pkt_type == 2", "frame.number", "epm.proto.tcp_port"):
        for p in ports.split(","):
            epm.add((int(frame), int(p)))
    pipes = set()
    for row in tshark(path, "(smb2.cmd == 5 && smb2.flags.response == 0) || (smb.cmd == 0xa2 && smb.flags.response == 0)",
                      "smb2.filename", "smb.file"):
        name = [x for x in row if x][0]
        pipes.add(name.split("\\")[-1])
    challenges = [(int(r[0]), r[1], r[2], r[3], r[4]) for r in tshark(
        path, "ntlmssp.messagetype == 2", "frame.number", "ip.src", "ntlmssp.challenge.target_info.nb_computer_name",
        "ntlmssp.challenge.target_info.dns_computer_name", "frame.protocols")]
    return rpc, epm, pipes, challenges


def driver_view(driver, path):
    p = subprocess.run([driver, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(p.returncode == 0, "rpcevents reads %s" % os.path.basename(path), p.stderr.decode()[-300:])
    rpc, epm, pipes, malformed = set(), set(), set(), []
    for line in p.stdout.decode().splitlines():
        f = line.split("\t")
        if f[0] == "dcerpc" and f[4] != "-":
            rpc.add((int(f[1]), int(f[5]), int(f[6])))
            pipes.add(f[4])
        elif f[0] == "epm" and f[4] != "-" and f[5] == "6":
            epm.add((int(f[1]), int(f[6])))
        elif f[0] == "malformed":
            malformed.append(line)
    return rpc, epm, pipes, malformed


def hosts_view(binary, path):
    p = subprocess.run([binary, "-r", path, "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(p.returncode == 0, "portwitness reads %s" % os.path.basename(path), p.stderr.decode()[-300:])
    names = {}
    for h in json.loads(p.stdout.decode() or "{}").get("hosts", []):
        for n in h["names"]:
            if n["source"] == "ntlm":
                names[(h["ip"], n["name"].lower())] = n["frame"]
    return names


def main():
    args = checks.script_args(tshark=True, driver="rpcevents")
    driver = args.driver
    path = os.path.join(args.source, "pcaps", NAME)
    with tempfile.TemporaryDirectory() as tmp:
        gen = os.path.join(args.source, "tools", "pcapgen", "generate.py")
        p = subprocess.run([sys.executable, gen, "--out", tmp], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        check(p.returncode == 0, "generate.py runs", p.stderr.decode()[-500:])
        check(filecmp.cmp(os.path.join(tmp, NAME), path, shallow=False), "pcaps/%s is the generated capture" % NAME)

    t_rpc, t_epm, t_pipes, t_chall = tshark_view(path)
    d_rpc, d_epm, d_pipes, malformed = driver_view(driver, path)
    check(len(t_rpc) >= 10, "tshark decodes DCE/RPC over SMB2 and SMB1 (%d PDUs)" % len(t_rpc))
    check(d_rpc == t_rpc, "every DCE/RPC PDU over a pipe, as tshark decodes it (frame, type, call id)",
          "missing %s, extra %s" % (sorted(t_rpc - d_rpc), sorted(d_rpc - t_rpc)))
    check(d_pipes == t_pipes, "events name the pipes the CREATEs opened", "driver %s, tshark %s" % (d_pipes, t_pipes))
    check(t_epm and d_epm == t_epm, "the endpoint mapper's answer over the pipe hands out tshark's port",
          "driver %s, tshark %s" % (d_epm, t_epm))
    check(not malformed, "nothing malformed", "; ".join(malformed))

    names = hosts_view(args.binary, path)
    check(len(t_chall) >= 2, "tshark decodes NTLMSSP CHALLENGEs (%d)" % len(t_chall))
    first = {}
    for frame, ip, nb, dns, protos in t_chall:
        check(over_smb(protos), "frame %d: the CHALLENGE is carried by DCE/RPC over SMB" % frame, protos)
        for n in (nb, dns):
            first.setdefault((ip, n.lower()), frame)
    for (ip, n), frame in sorted(first.items()):
        check(names.get((ip, n)) == frame, "hosts: %s is %s (ntlm, frame %d)" % (ip, n, frame),
              "portwitness: %s" % names.get((ip, n)))
    check(set(names) == set(first), "no other NTLM names", "portwitness %s" % sorted(names))
    print("%d DCE/RPC PDUs over pipes %s, %d EPM ports, names %s" % (len(d_rpc), sorted(d_pipes), len(d_epm),
                                                                     sorted(n for _, n in first)))
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 0 if checks.FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
