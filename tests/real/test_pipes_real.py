#!/usr/bin/env python3
"""DCE/RPC over SMB named pipes on real captures, with tshark as the oracle.

For every capture under <source>/../shared/pcaps whose INDEX.tsv protocols
include dcerpc, ntlmssp, smb or smb2, tshark lists the DCE/RPC PDUs it
decodes over SMB / SMB2 (frame.protocols holds smb or smb2 before dcerpc):

  - the association PDUs (bind, bind_ack, bind_nak, alter_context,
    alter_context_resp, auth3: frame, type, call id) must each be reported by
    the dcerpc state the smb dissector embeds (build/rpcevents, the test-only
    driver), with a pipe name;
  - the NTLMSSP CHALLENGEs among them: the driver must report the same
    NetBIOS and DNS computer names in the same frame, and portwitness
    --format json must list them under "hosts" for the sender (ip.src) with
    source ntlm.

Not required (counted apart): PDUs on TCP streams where tshark sees
segments missing from the capture ("gap": tcp.analysis.lost_segment or
ack_lost_segment; reassembly stops at the gap, by design); on streams with
segments longer than 1460 bytes ("tso": TSO/GRO captures, whose oversized
segments the TCP reassembly library may not deliver); on streams whose
IPC$ TREE_CONNECT is not in the capture before them, or whose pipe was
opened on another connection (multichannel) ("no-tree": smb.c learns which
trees are pipe shares and which FileIds are pipes per connection); and past the first MiB or the first
1024 messages of the SMB connection ("cap": what smb.c follows).

Usage: test_pipes_real.py --binary PATH --source REPO_DIR [--only SUBSTRING]
Exit 0 pass, 1 fail, 77 skipped (no ../shared/pcaps or no tshark); last line
"N passed, N failed".  Python 3 stdlib only.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402

ASSOC = {11, 12, 13, 14, 15, 16}
WHY = ("gap", "tso", "no-tree", "cap")


def tshark(path, dfilter, *fields):
    cmd = ["tshark", "-r", path, "-Y", dfilter, "-T", "fields", "-E", "occurrence=a"]
    for f in fields:
        cmd += ["-e", f]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=600)
    return [line.split("\t") for line in p.stdout.decode(errors="replace").splitlines() if line.strip()]


def over_smb(protocols):
    parts = protocols.split(":")
    if "dcerpc" not in parts:
        return False
    before = parts[: parts.index("dcerpc")]
    return "smb" in before or "smb2" in before


def oracle(path):
    """({(frame, ptype, call)}: stream}, [(frame, ip, nb, dns, stream)], gap streams, tso frames)."""
    pdus, chall = {}, []
    rows = tshark(path, "dcerpc && (smb || smb2)", "frame.number", "tcp.stream", "ip.src", "dcerpc.pkt_type",
                  "dcerpc.cn_call_id", "frame.protocols", "ntlmssp.messagetype",
                  "ntlmssp.challenge.target_info.nb_computer_name", "ntlmssp.challenge.target_info.dns_computer_name",
                  "tcp.seq", "tcp.ack", "smb2.fid")
    # The first IPC$ TREE_CONNECT answer of each stream (SMB2 share type pipe, SMB1 service IPC).
    trees = {}
    for frame, stream in tshark(path, "(smb2.cmd == 3 && smb2.share_type == 2) || (smb.cmd == 0x75 && smb.service == \"IPC\")",
                                "frame.number", "tcp.stream"):
        trees.setdefault(stream.split(",")[0], int(frame))
    # The 1024th SMB message of each stream (smb.c follows 1024 messages).
    nth, last = {}, {}
    for frame, stream in tshark(path, "smb || smb2", "frame.number", "tcp.stream"):
        stream = stream.split(",")[0]
        nth[stream] = nth.get(stream, 0) + 1
        if nth[stream] == 1024:
            last[stream] = int(frame)
    why = {}
    # The connection each SMB2 FileId was opened on (multichannel clients use it on others).
    opened = {}
    for fid, stream in tshark(path, "smb2.cmd == 5 && smb2.flags.response == 1", "smb2.fid", "tcp.stream"):
        opened.setdefault(fid.split(",")[0], stream.split(",")[0])
    foreign = set()  # streams using a FileId opened on another one
    for stream, fids in tshark(path, "smb2.fid", "tcp.stream", "smb2.fid"):
        stream = stream.split(",")[0]
        if any(opened.get(f, stream) != stream for f in fids.split(",")):
            foreign.add(stream)
    for frame, stream, src, ptypes, calls, protos, mtypes, nbs, dnss, seq, ack, fid in rows:
        if not over_smb(protos):
            continue
        frame = int(frame)
        stream = stream.split(",")[0]
        # Not required: no IPC$ tree connect before it in the capture, or
        # past the first MiB of the SMB connection (what smb.c follows).
        if stream not in trees or trees[stream] > frame or opened.get(fid.split(",")[0], stream) != stream or stream in foreign:
            why[frame] = "no-tree"
        elif int(seq.split(",")[0] or 0) + int(ack.split(",")[0] or 0) > 1024 * 1024 or last.get(stream, frame + 1) <= frame:
            why[frame] = "cap"
        for p, c in zip(ptypes.split(","), calls.split(",")):
            if p and int(p) in ASSOC:
                pdus[(frame, int(p), int(c))] = (stream, why.get(frame, ""))
        if 2 in [int(x, 0) for x in mtypes.split(",") if x]:
            chall.append((frame, src.split(",")[-1], nbs, dnss, (stream, why.get(frame, ""))))
    gaps = {r[0].split(",")[0] for r in tshark(path, "tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment", "tcp.stream")}
    # Segments over 1514 bytes on the wire (TSO / GRO captures).
    tso = {r[0].split(",")[0] for r in tshark(path, "tcp.len > 1460 && (tcp.port == 445 || tcp.port == 139)", "tcp.stream")}
    return pdus, chall, gaps, tso


def driver_view(driver, path):
    p = subprocess.run([driver, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    check(p.returncode == 0, "rpcevents reads %s" % path, p.stderr.decode()[-300:])
    pdus, ntlm = set(), {}
    for line in p.stdout.decode(errors="replace").splitlines():
        f = line.split("\t")
        if f[0] == "dcerpc" and f[4] != "-":
            pdus.add((int(f[1]), int(f[5]), int(f[6])))
        elif f[0] == "ntlm" and f[4] == "2":
            ntlm.setdefault(int(f[1]), set()).update(x.lower() for x in f[5:7] if x)
    return pdus, ntlm


def hosts_view(binary, path):
    p = subprocess.run([binary, "-r", path, "--format", "json", "-q"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=600)
    names = set()
    try:
        for h in json.loads(p.stdout.decode() or "{}").get("hosts", []):
            for n in h["names"]:
                if n["source"] == "ntlm" and h.get("ip"):
                    names.add((h["ip"], n["name"].lower()))
    except ValueError:
        check(False, "portwitness writes JSON for %s" % path)
    return names


def captures(root, only):
    with open(os.path.join(root, "INDEX.tsv")) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 3 or cols[0] == "path":
                continue
            protos = set(cols[2].split(","))
            if protos & {"dcerpc", "ntlmssp", "smb", "smb2"} and (not only or only in cols[0]):
                yield cols[0]


def one_file(binary, driver, root, rel, totals):
    path = os.path.join(root, rel)
    t_pdus, t_chall, gaps, tso = oracle(path)
    if not t_pdus:
        return
    d_pdus, d_ntlm = driver_view(driver, path)
    names = hosts_view(binary, path) if t_chall else set()
    for key, (stream, why) in sorted(t_pdus.items()):
        why = "gap" if stream in gaps else "tso" if stream in tso else why
        found = key in d_pdus
        if why:
            totals["pdu_" + why] += 1
            totals["pdu_" + why + "_found"] += found
            continue
        totals["pdus"] += 1
        totals["pdus_found"] += found
        check(found, "%s frame %d: DCE/RPC type %d call %d over a pipe" % (rel, key[0], key[1], key[2]))
    for frame, ip, nb, dns, (stream, why) in t_chall:
        want = {x.lower() for x in (nb, dns) if x}
        why = "gap" if stream in gaps else "tso" if stream in tso else why
        seen = d_ntlm.get(frame, set()) >= want
        in_hosts = all((ip, n) in names for n in want)
        if why:
            totals["chall_" + why] += 1
            totals["chall_" + why + "_found"] += seen and in_hosts
            continue
        totals["chall"] += 1
        totals["chall_found"] += seen and in_hosts
        check(seen, "%s frame %d: CHALLENGE over a pipe names %s" % (rel, frame, sorted(want)),
              "driver: %s" % sorted(d_ntlm.get(frame, set())))
        check(in_hosts, "%s frame %d: hosts lists %s for %s (ntlm)" % (rel, frame, sorted(want), ip))
        for n in want:
            totals["names"].add((ip, n))
    totals["files"] += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    root = os.path.normpath(os.path.join(args.source, "..", "shared", "pcaps"))
    if not os.path.exists(os.path.join(root, "INDEX.tsv")):
        print("skipped: %s not found (real captures are not available here)" % root)
        return 77
    if not shutil.which("tshark"):
        print("skipped: tshark not found (it is the oracle for this test)")
        return 77
    driver = os.path.join(os.path.dirname(os.path.abspath(args.binary)), "rpcevents")
    if not os.path.exists(driver):
        print("FAIL: %s not built" % driver)
        return 1
    totals = {k: 0 for k in ("files", "pdus", "pdus_found", "chall", "chall_found")}
    for w in WHY:
        for k in ("pdu_%s", "pdu_%s_found", "chall_%s", "chall_%s_found"):
            totals[k % w] = 0
    totals["names"] = set()
    for rel in captures(root, args.only):
        one_file(args.binary, driver, root, rel, totals)
    t = totals
    print("captures with DCE/RPC over SMB pipes: %d" % t["files"])
    print("association PDUs over pipes (tshark): %d, reported %d" % (t["pdus"], t["pdus_found"]))
    print("NTLMSSP CHALLENGEs over pipes (tshark): %d, names reported %d; distinct (ip, name): %d"
          % (t["chall"], t["chall_found"], len(t["names"])))
    for w in WHY:
        print("not required (%s): %d PDUs (%d reported), %d CHALLENGEs (%d reported)"
              % (w, t["pdu_" + w], t["pdu_%s_found" % w], t["chall_" + w], t["chall_%s_found" % w]))
    check(t["files"] > 0, "some capture carries DCE/RPC over SMB pipes")
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 0 if checks.FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
