#!/usr/bin/env python3
"""End to end: the jsonl "grpc_call" and "sql_instance" lines and the
ServerName learned from a SQL Server Browser answer (hosts, source "ssrp"),
as portwitness writes them for the generated pcaps/grpc-* and pcaps/sql-*.

  grpc_call    one line per gRPC call, compared with tshark's http2 decoding
               (tests/h2_tshark.py): client port, stream, path, :status,
               grpc-status, percent-decoded grpc-message, how the stream
               ended, RST_STREAM code, request and trailer frames.  Every
               stream tshark sees is a line, and nothing else is.
  sql_instance one line per instance record of every SVR_RESP, compared with
               the datagram's bytes (tshark's udp.payload) parsed by the
               MS-SQLR 2.2 layout in test_sql_oracle.parse_ssrp (tshark 4.0
               has no SSRP dissector); "server" is the datagram's source.
  name         the responder's ServerName with source "ssrp" and the first frame
               that carried it.

Usage: test_app_lines.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail, 77 skipped (no tshark); last line "N passed, N failed".
Python 3 stdlib only.
"""
import glob
import importlib.util
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def jsonl(binary, pcap):
    out = subprocess.run([binary, "-r", pcap, "--format", "jsonl", "-q"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, check=False).stdout.decode()
    return [json.loads(x) for x in out.splitlines() if x.strip()]


def check_grpc(binary, h2, pcap):
    name = os.path.basename(pcap)
    streams, _facts = h2.tshark_streams(pcap, decode_as=(3740, 3741))
    lines = {(x["client_port"], x["stream"]): x for x in jsonl(binary, pcap) if x["type"] == "grpc_call"}
    check(set(lines) == set(streams), "%s: one grpc_call line per stream tshark decodes" % name,
          "%s vs %s" % (sorted(lines), sorted(streams)))
    for key, t in sorted(streams.items()):
        x = lines.get(key)
        if not x:
            continue
        what = "%s stream %s" % (name, key)
        check(x["path"] == t["path"], what + ": path", "%r vs %r" % (x["path"], t["path"]))
        check((x["http_status"] or 0) == t["http_status"], what + ": http_status",
              "%r vs %r" % (x["http_status"], t["http_status"]))
        g = -1 if x["grpc_status"] is None else x["grpc_status"]
        check(g == t["grpc_status"], what + ": grpc_status", "%r vs %r" % (g, t["grpc_status"]))
        check((x["grpc_message"] or "") == t["grpc_message"], what + ": grpc_message",
              "%r vs %r" % (x["grpc_message"], t["grpc_message"]))
        check(x["end"] == t["end"], what + ": end", "%r vs %r" % (x["end"], t["end"]))
        check((x["reset"] or "") == t["reset"], what + ": reset", "%r vs %r" % (x["reset"], t["reset"]))
        check(x["trailers_only"] == t["trailers_only"], what + ": trailers_only")
        check(x["request_frame"] == t["request_frame"], what + ": request_frame",
              "%r vs %r" % (x["request_frame"], t["request_frame"]))
        if t["trailer_frame"]:
            check(x["frame"] == t["trailer_frame"], what + ": frame of the status",
                  "%r vs %r" % (x["frame"], t["trailer_frame"]))
        check(x["port"] in (3740, 3741) and x["source"] == pcap, what + ": port and source")


GRPC_CODES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
              "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
              "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"]


def json_report(binary, pcap, *extra):
    out = subprocess.run([binary, "-r", pcap, "--format", "json", "-q"] + list(extra), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, check=False).stdout.decode()
    return json.loads(out)


def grpc_outcomes(streams):
    """tshark's calls judged as a gRPC client does: grpc-status 0 is ok; another
    status, a RST_STREAM or a refusal by GOAWAY is a failure with that code."""
    ok, failed = 0, {}
    for t in streams.values():
        if t["grpc_status"] == 0:
            ok += 1
            continue
        if t["grpc_status"] > 0:
            code = GRPC_CODES[t["grpc_status"]]
        elif t["end"] == "reset":
            code = "RST_STREAM:" + t["reset"]
        elif t["end"] == "goaway":
            code = "GOAWAY"
        else:
            continue
        failed[code] = failed.get(code, 0) + 1
    return ok, failed


def check_app_verdict(what, rep, rule_ids, ok, failed):
    """Services and rules carry the application's answers; a rule whose
    answered ports carry only failed calls fails with cause application."""
    codes = lambda app: {c["code"]: c["count"] for c in app["failures"]}
    svc = [x for x in rep["services"] if x["app"] and (x["app"]["ok"] or x["app"]["failed"])]
    check(sum(x["app"]["ok"] for x in svc) == ok and sum(x["app"]["failed"] for x in svc) == sum(failed.values()),
          what + ": services' app ok / failed", repr([x["app"] for x in svc]))
    rules = {r["id"]: r for r in rep["rules"]}
    for rid in rule_ids:
        r = rules.get(rid)
        if not check(r is not None, "%s: rule %s present" % (what, rid)):
            continue
        check(r["app"] is not None and r["app"]["ok"] == ok and codes(r["app"]) == failed,
              "%s %s: app %d ok, failures %s" % (what, rid, ok, failed), repr(r["app"]))
        if ok == 0 and failed:
            check(r["verdict"] == "fail" and r["cause"] == "application", "%s %s: fail, cause application"
                  % (what, rid), "%s %s" % (r["verdict"], r["cause"]))
            check(r["counts"]["answered"] >= 1, "%s %s: the handshake was answered" % (what, rid))
        else:
            check(r["verdict"] == "pass" and r["cause"] is None, "%s %s: pass (some calls succeed)" % (what, rid),
                  "%s %s" % (r["verdict"], r["cause"]))


def tds_errors(pcap):
    out = subprocess.run(["tshark", "-r", pcap, "-Y", "tds", "-T", "fields", "-e", "tds.error.number",
                          "-e", "tds.error.class", "-e", "tds.loginack.progname"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout.decode()
    ok, failed = 0, {}
    for line in out.splitlines():
        num, cls, prog = (line.split("\t") + ["", "", ""])[:3]
        if prog:
            ok += 1
        for n, c in zip(num.split(","), cls.split(",")):
            if n and int(c) > 10:
                failed[n] = failed.get(n, 0) + 1
    return ok, failed


def tcp_outcome(pcap, client, server, port):
    """tshark: answered when the server sent SYN-ACK to the client's SYN on that port, else None."""
    out = subprocess.run(["tshark", "-r", pcap, "-Y", "tcp.flags.syn==1 && tcp.flags.ack==1 && ip.src==%s && "
                          "ip.dst==%s && tcp.srcport==%d" % (server, client, port), "-T", "fields",
                          "-e", "frame.number"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         check=True).stdout.decode().split()
    syn = subprocess.run(["tshark", "-r", pcap, "-Y", "tcp.flags.syn==1 && tcp.flags.ack==0 && ip.src==%s && "
                          "ip.dst==%s && tcp.dstport==%d" % (client, server, port), "-T", "fields",
                          "-e", "frame.number"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         check=True).stdout.decode().split()
    return ("answered" if out else "not answered") if syn else "never attempted"


def check_announced(binary, sqlo, pcap):
    """Every TCP port a Browser answer announced is judged under the SQL rule
    (em-sql-tcp, enterprise manager bound to the asking client): the attempt
    to it is evidence with the announcing frame, answered or not as tshark
    sees the handshake; a port never attempted is a note naming it."""
    name = os.path.basename(pcap)
    ann = []
    for frame, src, dst, data in udp_payloads(pcap):
        kind, _req, insts = sqlo.parse_ssrp(data)
        if kind == "response":
            ann += [(frame, src, dst, i["tcp_port"], i["instance"]) for i in insts if i["tcp_port"]]
    clients = sorted({a[2] for a in ann})
    extra = []
    for c in clients:
        extra += ["--role", "enterprise-manager=" + c]
    rep = json_report(binary, pcap, "--profile", "netwrix-threat-prevention", *extra)
    rule = {r["id"]: r for r in rep["rules"]}["em-sql-tcp"]
    verdicts, seen = [], set()
    for frame, server, client, port, inst in ann:
        if (server, client, port) in seen:
            continue  # the first announcement is the one an attempt follows
        seen.add((server, client, port))
        what = "%s: %s announced %s tcp/%d to %s" % (name, server, inst, port, client)
        o = tcp_outcome(pcap, client, server, port)
        ev = [e for e in rule["evidence"] if e["server"] == server and e["port"] == port and e["client"] == client]
        notes = " ".join(rule.get("notes", []) if isinstance(rule.get("notes"), list) else [])
        if o == "never attempted":
            check(not ev and ("TCP %d" % port) in json.dumps(rule.get("notes", [])) and inst in
                  json.dumps(rule.get("notes", [])), what + ": never attempted, said in a note", notes)
            continue
        if not check(len(ev) >= 1, what + ": the attempt is em-sql-tcp evidence", repr(rule["evidence"])):
            continue
        check((ev[0]["outcome"] == "answered") == (o == "answered"), what + ": outcome as tshark",
              "%s vs %s" % (ev[0]["outcome"], o))
        if port != 1433:
            check(ev[0].get("epm_frame") == frame, what + ": the announcing frame", repr(ev[0]))
        verdicts.append(o == "answered")
    want = "pass" if verdicts and all(verdicts) else "fail" if verdicts and not any(verdicts) else \
        "partial" if verdicts else "unobserved"
    check(rule["verdict"] == want, "%s: em-sql-tcp %s" % (name, want), rule["verdict"])
    return len(ann)


def udp_payloads(pcap):
    out = subprocess.run(["tshark", "-r", pcap, "-Y", "udp.port == 1434", "-T", "fields", "-E", "separator=\t",
                          "-e", "frame.number", "-e", "ip.src", "-e", "ip.dst", "-e", "udp.payload"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout.decode()
    rows = []
    for line in out.splitlines():
        f = line.split("\t")
        rows.append((int(f[0]), f[1], f[2], bytes.fromhex(f[3].replace(":", ""))))
    return rows


def check_sql(binary, sqlo, pcap):
    name = os.path.basename(pcap)
    lines = jsonl(binary, pcap)
    got = [x for x in lines if x["type"] == "sql_instance"]
    names = {(x["ip"], x["name"], x["frame"]) for x in lines if x["type"] == "name" and x["source"] == "ssrp"}
    want, first = [], {}
    for frame, src, dst, data in udp_payloads(pcap):
        kind, _req, insts = sqlo.parse_ssrp(data)
        if kind != "response":
            continue
        for i in insts:
            want.append({"frame": frame, "server": src, "client": dst, "server_name": i["server_name"],
                         "instance": i["instance"], "version": i["version"],
                         "tcp_port": i["tcp_port"] or None, "np": i["np"] or None,
                         "clustered": bool(i["clustered"])})
            first.setdefault((src, i["server_name"]), frame)
    for (src, sname), frame in first.items():
        check((src, sname, frame) in names, "%s: name %s for %s (ssrp, first in frame %d)"
              % (name, sname, src, frame), repr(sorted(names)))
    keys = ("frame", "server", "client", "server_name", "instance", "version", "tcp_port", "np", "clustered")
    check([{k: x[k] for k in keys} for x in got] == want, "%s: sql_instance lines are the SVR_RESP records" % name,
          "%s vs %s" % ([{k: x[k] for k in keys} for x in got], want))
    check(all(x["source"] == pcap for x in got), name + ": sql_instance source")
    return len(want)


def main():
    args = checks.script_args(tshark=True)
    src = args.source
    h2 = load(os.path.join(src, "tests", "h2_tshark.py"), "h2_tshark")
    sqlo = load(os.path.join(src, "tests", "scenarios", "test_sql_oracle.py"), "test_sql_oracle")
    os.chdir(src)
    for pcap in sorted(glob.glob("pcaps/grpc-*.pcap")):
        check_grpc(args.binary, h2, pcap)
    total = 0
    for pcap in sorted(glob.glob("pcaps/sql-*.pcap")):
        total += check_sql(args.binary, sqlo, pcap)
    check(total >= 4, "the SQL scenarios announce instances", str(total))
    for pcap in ("pcaps/sql-browser-instance.pcap", "pcaps/sql-browser-dropped.pcap"):
        check_announced(args.binary, sqlo, pcap)
    for pcap in ("pcaps/grpc-agent-3741.pcap", "pcaps/grpc-trailers-only.pcap", "pcaps/grpc-goaway-rst.pcap"):
        streams, _ = h2.tshark_streams(pcap, decode_as=(3740, 3741))
        ok, failed = grpc_outcomes(streams)
        rep = json_report(args.binary, pcap, "--profile", "netwrix-threat-prevention")
        check_app_verdict(os.path.basename(pcap), rep, ("em-inbound-agent", "agent-em"), ok, failed)
    pcap = "pcaps/sql-login-failed.pcap"
    ok, failed = tds_errors(pcap)
    check(failed == {"18456": 1} and ok == 0, "tshark: one login failed with 18456", repr(failed))
    rep = json_report(args.binary, pcap, "--profile", "netwrix-threat-prevention")
    check_app_verdict("sql-login-failed.pcap", rep, ("em-sql-tcp",), ok, failed)
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 0 if checks.FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
