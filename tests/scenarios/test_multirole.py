#!/usr/bin/env python3
"""The multi-role capture (pcaps/policy-netwrix-multirole.pcap, written by
tools/pcapgen/scenarios_multirole.py) checked with --profile
netwrix-threat-prevention and no --role, as a new user runs it.

The traffic facts come from tshark: which TCP handshakes were answered
(SYN-ACK), the UDP 1434 answer, the grpc-status of each gRPC call
(tests/h2_tshark.py) and the TDS login errors.  Then:
  - every rule whose transport and ports carry traffic to a host that can play
    its to-role has a verdict (not unobserved); the rules left unobserved
    with traffic on their ports are exactly those whose to-role no server
    here can play (roles inferred only from answering their own ports, or
    bound with --role);
  - the 3741 call succeeds (pass), the 3740 call fails with tshark's status
    (fail, cause application, the status name listed); the SQL rules are
    partial (the announced instance port logs in, 1433 on the second server
    refuses the login with tshark's error number); Kerberos, LDAP, LDAPS, the
    endpoint mapper and the port it handed out pass;
  - the one host holds several roles, each inferred with a reason, and each
    inferred role carries the --role option that binds it (also printed by
    the text report);
  - --role wins: binding enterprise-manager to the enterprise manager leaves
    the host's SQL traffic out of the enterprise manager's SQL rule.

Usage: test_multirole.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail, 77 skipped (no tshark); last line "N passed, N failed".
"""
import importlib.util
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402
PCAP = "pcaps/policy-netwrix-multirole.pcap"
PROFILE = "netwrix-threat-prevention"
GRPC_CODES = {0: "OK", 14: "UNAVAILABLE", 16: "UNAUTHENTICATED", 12: "UNIMPLEMENTED", 13: "INTERNAL"}
# to-roles that no server of this capture can play: inferred only from
# answering their own ports (cee-server 12228, activity-agent-server 4498),
# from connecting (agent), or bound only (nas-device)
NOT_PLAYABLE = {"cee-server", "activity-agent-server", "nas-device", "agent"}


def tshark(*args):
    return subprocess.run(["tshark", "-r", PCAP] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, check=True).stdout.decode()


def traffic():
    """{(proto, port)} that carried a request, and {(server, port)} answered."""
    ports, answered = set(), set()
    for line in tshark("-Y", "tcp.flags.syn==1", "-T", "fields", "-e", "ip.src", "-e", "tcp.srcport",
                       "-e", "tcp.dstport", "-e", "tcp.flags.ack").splitlines():
        src, sport, dport, ack = line.split("\t")
        if ack in ("0", "False"):
            ports.add(("tcp", int(dport)))
        else:
            answered.add((src, int(sport)))
    for line in tshark("-Y", "udp", "-T", "fields", "-e", "ip.src", "-e", "udp.srcport",
                       "-e", "udp.dstport").splitlines():
        src, sport, dport = line.split("\t")
        if int(dport) == 1434:
            ports.add(("udp", 1434))
        if int(sport) == 1434:
            answered.add((src, 1434))
    return ports, answered


def rule_ports(spec, proto, seen, announced):
    """The ports of seen (proto, port) a rule's port spec covers."""
    out = set()
    for part in spec.split(","):
        if part in ("sql-announced", "epm-dynamic"):
            out |= {p for p in announced if (proto, p) in seen}
            continue
        lo, _, hi = part.partition("-")
        out |= {p for pr, p in seen if pr == proto and int(lo) <= p <= int(hi or lo)}
    return out


def run(binary, *extra, fmt="json"):
    out = subprocess.run([binary, "-r", PCAP, "--profile", PROFILE, "--format", fmt, "-q"] + list(extra),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False).stdout.decode()
    return json.loads(out) if fmt == "json" else out


def main():
    args = checks.script_args(tshark=True)
    os.chdir(args.source)
    spec = importlib.util.spec_from_file_location("h2_tshark", os.path.join("tests", "h2_tshark.py"))
    h2 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(h2)

    seen, answered = traffic()
    check(("udp", 1434) in seen and ("tcp", 3741) in seen and ("tcp", 88) in seen, "tshark: the traffic is there",
          repr(sorted(seen)))
    # ports handed out: the EPM's 49700 and the Browser's 50123 (tshark: the SYNs after the answers)
    announced = {p for pr, p in seen if pr == "tcp" and p > 49151}
    calls = h2.tshark_streams(PCAP, decode_as=(3740, 3741))[0]
    grpc = {cport: t for (cport, _sid), t in calls.items()}
    tds_err = tshark("-d", "tcp.port==50123,tds", "-Y", "tds.error.number", "-T", "fields",
                     "-e", "ip.src", "-e", "tds.error.number").split()

    rep = run(args.binary)
    rules = {r["id"]: r for r in rep["rules"]}
    unjudged = set()
    for r in rep["rules"]:
        if "hosts" in r or not rule_ports(r["ports"], r["proto"], seen, announced):
            continue
        if r["verdict"] == "unobserved":
            unjudged.add(r["id"])
            check(r["to"] in NOT_PLAYABLE, "rule %s (%s -> %s %s/%s) carries traffic: judged" %
                  (r["id"], r["from"], r["to"], r["proto"], r["ports"]))
    check(len(rules) - len(unjudged) >= 16, "most rules with traffic are judged", str(sorted(unjudged)))

    # gRPC: 3741's call OK, 3740's call answered with an error status
    by_port = {}
    for cport, t in grpc.items():
        port = 3741 if cport == 50401 else 3740
        by_port[port] = t["grpc_status"]
    check(by_port.get(3741) == 0 and by_port.get(3740, 0) > 0, "tshark: 3741 OK, 3740 an error", repr(by_port))
    for rid in ("agent-em", "em-inbound-agent"):
        check(rules[rid]["verdict"] == "pass", rid + " pass", rules[rid]["verdict"])
    bad = GRPC_CODES.get(by_port.get(3740), "?")
    for rid in ("console-em", "remote-console-em", "em-inbound-remote-console"):
        r = rules[rid]
        check(r["verdict"] == "fail" and r["cause"] == "application", rid + " fail, cause application",
              "%s %s" % (r["verdict"], r["cause"]))
        check(r["counts"]["answered"] == 1 and ("10.60.0.2", 3740) in answered, rid + ": the port answered")
        check([c["code"] for c in r["app"]["failures"]] == [bad], rid + ": status " + bad, repr(r["app"]))
    # SQL: one server logs in on the announced port, the other refuses the login
    check(len(tds_err) == 2 and tds_err[1] == "18456", "tshark: one login error 18456", repr(tds_err))
    for rid in ("em-sql-tcp", "tm-sql-tcp"):
        r = rules[rid]
        check(r["verdict"] == "partial", rid + " partial", r["verdict"])
        check({s["ip"]: s["verdict"] for s in r["servers"]} == {"10.60.0.5": "pass", tds_err[0]: "fail"},
              rid + ": per server", repr(r["servers"]))
        check([c["code"] for c in r["app"]["failures"]] == [tds_err[1]], rid + ": 18456 listed", repr(r["app"]))
        check(any(e["port"] == 50123 and e.get("epm_frame") for e in r["evidence"]),
              rid + ": the announced port is evidence with its announcement", repr(r["evidence"]))
    for rid in ("em-sql-udp", "tm-dc-kerberos", "tm-dc-ldap", "tm-dc-ldaps", "tm-dc-epm", "tm-dc-rpc-dynamic"):
        check(rules[rid]["verdict"] == "pass", rid + " pass", rules[rid]["verdict"])

    # roles: the host holds several, each inferred with a reason and the option to bind it
    host_roles = {x["role"]: x for x in rep["roles"] if x["ip"] == "10.60.1.10"}
    check(set(host_roles) == {"agent", "admin-console", "enterprise-manager", "threat-manager"},
          "the host's roles", repr(sorted(host_roles)))
    for role, x in host_roles.items():
        check(x["inferred"] and x["why"] and x.get("option") == "--role %s=10.60.1.10" % role,
              "role %s: inferred, why, option" % role, repr(x))
    text = run(args.binary, fmt="text")
    check("--role enterprise-manager=10.60.1.10" in text and "--role threat-manager=10.60.1.10" in text,
          "text: the --role flags that make the bindings explicit")

    # --role wins
    rep2 = run(args.binary, "--role", "enterprise-manager=10.60.0.2")
    r2 = {r["id"]: r for r in rep2["rules"]}
    check(r2["em-sql-tcp"]["verdict"] == "unobserved", "--role wins: em-sql-tcp without the host",
          r2["em-sql-tcp"]["verdict"])
    check(r2["tm-sql-tcp"]["verdict"] == "partial", "--role wins: the threat manager's SQL rule still judged",
          r2["tm-sql-tcp"]["verdict"])
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 0 if checks.FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
