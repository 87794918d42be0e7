#!/usr/bin/env python3
"""Certificates after STARTTLS name their server (issue 12, item 3).

On pcaps/starttls-*.pcap (tools/pcapgen/scenarios_starttls.py), tshark is
the oracle: it follows LDAP StartTLS, SMTP STARTTLS, IMAP STARTTLS, POP3 STLS
and FTP AUTH TLS into TLS and decodes each server Certificate
(tls.handshake.type == 11: the sender and its subjectAltName dNSNames).
portwitness's json "hosts" must hold every one of those names for that
sender with source tls_cert and the frame tshark shows the certificate in;
a server whose upgrade was refused (tshark shows its session in clear and no
certificate) must carry no tls_cert name; and each session's service must
be named after the protocol tshark decodes on it (frame.protocols; tshark's
"pop" is portwitness's "pop3").  The generator's EXPECTED only says which
sessions exist and which were meant to upgrade, so that tshark is checked to
see them all.

Usage: test_starttls_names.py --binary PATH --source REPO_DIR
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

TSHARK_APP = {"ldap": "ldap", "smtp": "smtp", "imap": "imap", "pop": "pop3", "ftp": "ftp"}


def load_expected(source):
    gen = os.path.join(source, "tools", "pcapgen")
    sys.path.insert(0, gen)
    spec = importlib.util.spec_from_file_location("scenarios_starttls",
                                                  os.path.join(gen, "scenarios_starttls.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.expected()


def tshark_fields(path, flt, *fields):
    cmd = ["tshark", "-n", "-r", path, "-Y", flt, "-T", "fields", "-E", "separator=\t"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode()
    return [(line.split("\t") + [""] * len(fields))[:len(fields)] for line in out.splitlines()]


def tshark_view(path):
    """Certificates: [(frame, ip, port, [dNSNames])]; sessions: {(server ip, port): tshark app}."""
    certs = []
    for no, src, sport, dns in tshark_fields(path, "tls.handshake.type == 11", "frame.number", "ip.src",
                                             "tcp.srcport", "x509ce.dNSName"):
        certs.append((int(no), src, int(sport), [d for d in dns.split(",") if d]))
    servers = {(dst, int(dport)) for dst, dport in
               tshark_fields(path, "tcp.flags.syn == 1 && tcp.flags.ack == 0", "ip.dst", "tcp.dstport")}
    sessions = {}
    for src, sport, dst, dport, protos in tshark_fields(path, "tcp.len > 0", "ip.src", "tcp.srcport", "ip.dst",
                                                        "tcp.dstport", "frame.protocols"):
        last = protos.split(":")[-1]
        server = (src, int(sport)) if (src, int(sport)) in servers else (dst, int(dport))
        if last in TSHARK_APP and server in servers:
            sessions.setdefault(server, TSHARK_APP[last])
    return certs, sessions


def portwitness(binary, path):
    rep = json.loads(subprocess.run([binary, "-r", path, "--format", "json"],
                                    stdout=subprocess.PIPE).stdout.decode())
    names = {}
    for h in rep.get("hosts") or []:
        for n in h.get("names") or []:
            if n.get("source") == "tls_cert":
                names.setdefault(h.get("ip"), {})[n["name"].lower()] = n.get("frame")
    apps = {(s["server"], s["port"]): (s.get("app") or {}).get("name") for s in rep.get("services") or []}
    return names, apps


def one_file(binary, path, exp):
    name = os.path.basename(path)
    certs, sessions = tshark_view(path)
    names, apps = portwitness(binary, path)
    upgraded = {(ip, port) for ip, port, _app, up in exp["sessions"] if up}
    cert_at = {(ip, port) for _no, ip, port, _dns in certs}
    check(cert_at == upgraded, "%s: tshark decodes a certificate after each accepted upgrade and no other"
          % name, "%s vs %s" % (sorted(cert_at), sorted(upgraded)))
    for ip, port, app, _up in exp["sessions"]:
        check(sessions.get((ip, port)) == app, "%s: tshark decodes %s on %s:%d" % (name, app, ip, port),
              str(sessions.get((ip, port))))
    for (ip, port), app in sorted(sessions.items()):
        check(apps.get((ip, port)) == app, "%s: the service %s:%d is named %s" % (name, ip, port, app),
              str(apps.get((ip, port))))
    first = {}  # (ip, name) -> the first frame tshark shows it in
    for no, ip, _port, dns in certs:
        for d in dns:
            first.setdefault((ip, d.lower()), no)
    for (ip, d), no in sorted(first.items()):
        got = names.get(ip, {})
        check(got.get(d) == no, "%s: %s is a tls_cert name of %s from frame %d" % (name, d, ip, no),
              str(sorted(got.items())))
    for ip, port in sorted({(ip, port) for ip, port, _app, up in exp["sessions"] if not up}):
        if any(ip == i for i, _p in upgraded):
            continue
        check(not names.get(ip), "%s: %s (upgrade refused on %d) has no certificate name" % (name, ip, port),
              str(names.get(ip)))
    return len(certs)


def main():
    a = checks.script_args(tshark=True)
    expected = load_expected(a.source)
    total = 0
    for exp in expected.values():
        total += one_file(a.binary, os.path.join(a.source, "pcaps", exp["file"]), exp)
    check(total >= 5, "tshark decodes the certificates of the five accepted upgrades", str(total))
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 1 if checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
