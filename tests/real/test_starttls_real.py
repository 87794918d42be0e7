#!/usr/bin/env python3
"""Certificates after STARTTLS on real captures, with tshark as the oracle.

Every capture under <source>/../shared/pcaps whose bytes hold an upgrade
request (SMTP/IMAP "STARTTLS", POP3 "STLS", FTP "AUTH TLS" / "AUTH SSL", the
LDAP StartTLS OID 1.3.6.1.4.1.1466.20037) is read by tshark, which follows
those upgrades into TLS.  For each TLS Certificate a server sends on a port
portwitness reads these protocols on (SMTP 25 587 2525, IMAP 143, POP3 110,
FTP 21, LDAP 389 3268), the subject commonName and the first 8
subjectAltName dNSNames (as tests/real/test_names_real.py takes them) must
be in portwitness --format json "hosts" for the sender with source
tls_cert; those of TCP connections whose SYN is not in the capture are
listed but not required.  The ServerHellos of TLS 1.3 (the certificate is
encrypted) are counted beside them, for the record.

The app names too: in every capture holding a greeting of these protocols,
each server on those ports that tshark decodes as SMTP, IMAP, POP or FTP
(frame.protocols of its own segments) must be a service of portwitness named
"smtp", "imap", "pop3" or "ftp".

Usage: test_starttls_real.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail, 77 skipped (no ../shared/pcaps or no tshark); last line
"N passed, N failed".  Python 3 stdlib only.
"""
import argparse
import importlib.util
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402

PORTS = (25, 587, 2525, 143, 110, 21, 389, 3268)
PORT_SET = "{%s}" % ",".join(str(p) for p in PORTS)
HINTS = (b"starttls", b"stls\r\n", b"auth tls", b"auth ssl", b"1.3.6.1.4.1.1466.20037")
MAX_SAN = 8
GREETINGS = (b"220 ", b"220-", b"* OK", b"+OK")
TSHARK_APP = {"smtp": "smtp", "imap": "imap", "pop": "pop3", "ftp": "ftp"}


def load_names_test(source):
    """tests/real/test_names_real.py, for its reading of certificates in pdml."""
    path = os.path.join(source, "tests", "real", "test_names_real.py")
    spec = importlib.util.spec_from_file_location("test_names_real", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def tshark_apps(path):
    """{(server ip, port): app} of the servers on PORTS tshark decodes as a line protocol."""
    flt = "tcp.srcport in %s && (smtp || imap || pop || ftp)" % PORT_SET
    out = subprocess.run(["tshark", "-n", "-r", path, "-Y", flt, "-T", "fields", "-E", "separator=\t",
                          "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "frame.protocols"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=600).stdout.decode()
    apps = {}
    for line in out.splitlines():
        ip4, ip6, port, protos = (line.split("\t") + [""] * 4)[:4]
        app = next((TSHARK_APP[p] for p in protos.split(":") if p in TSHARK_APP), None)
        if app and (ip4 or ip6):
            apps.setdefault((str(ipaddress.ip_address(ip4 or ip6)), int(port)), app)
    return apps


def check_apps(binary, path, rel):
    want = tshark_apps(path)
    if not want:
        return 0
    p = subprocess.run([binary, "-r", path, "--format", "json"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, timeout=600)
    got = {}
    for svc in json.loads(p.stdout.decode("utf-8", "replace")).get("services") or []:
        got[(str(ipaddress.ip_address(svc["server"])), svc["port"])] = (svc.get("app") or {}).get("name")
    for (ip, port), app in sorted(want.items()):
        check(got.get((ip, port)) == app, "%s: the service %s:%d is named %s as tshark decodes it"
              % (rel, ip, port, app), str(got.get((ip, port))))
    return len(want)


def tshark_certs(names, path):
    """[(frame, ip, port, stream, [names])] of the certificates servers send
    on PORTS, the TCP streams whose SYN is in the capture, and the number of
    TLS 1.3 ServerHellos on PORTS."""
    flt = ("tcp.srcport in %s && (tls.handshake.type == 11 || tls.handshake.type == 2)"
           " || tcp.flags.syn == 1" % PORT_SET)
    p = subprocess.run(["tshark", "-n", "-r", path, "-Y", flt, "-T", "pdml"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, timeout=600)
    root = ET.fromstring(p.stdout.decode("utf-8", "replace")) if p.stdout.strip() else None
    certs, syn_streams, tls13 = [], set(), 0
    for pkt in (root.findall("packet") if root is not None else []):
        num, src, sport, _dport, stream, _protos, _seq, _re, syn = names.packet_info(pkt)
        if syn:
            syn_streams.add(stream)
        if sport not in PORTS:
            continue
        for hs in pkt.iter("field"):
            if hs.get("name") != "tls.handshake":
                continue
            t = names.first_field(hs, "tls.handshake.type")
            if t is not None and t.get("show") == "2":
                v = [f.get("show") for f in names.fields(hs, "tls.handshake.extensions.supported_version")]
                tls13 += any(x in ("0x0304", "0x00000304") for x in v)
            cert = names.first_field(hs, "tls.handshake.certificate")
            if t is None or t.get("show") != "11" or cert is None:
                continue
            cns, sans = names.cert_names(cert)
            certs.append((num, src, sport, stream, cns[-1:] + sans[:MAX_SAN]))
    return certs, syn_streams, tls13


def portwitness_names(binary, path):
    p = subprocess.run([binary, "-r", path, "--format", "json"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, timeout=600)
    got = {}
    for h in json.loads(p.stdout.decode("utf-8", "replace")).get("hosts") or []:
        if not h.get("ip"):
            continue
        ip = str(ipaddress.ip_address(h["ip"]))
        for n in h.get("names") or []:
            if n.get("source") == "tls_cert":
                got.setdefault(ip, set()).add(n["name"].strip().rstrip(".").lower())
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    a = ap.parse_args()
    shared = os.path.normpath(os.path.join(os.path.abspath(a.source), "..", "shared", "pcaps"))
    if not os.path.isfile(os.path.join(shared, "INDEX.tsv")):
        print("skipped: %s not found (real captures are not available here)" % shared)
        print("0 passed, 0 failed")
        return 77
    if not shutil.which("tshark"):
        print("skipped: tshark not found (it is the oracle for this test)")
        print("0 passed, 0 failed")
        return 77
    names = load_names_test(a.source)
    files = []
    for d, _sub, fs in os.walk(shared):
        files += [os.path.join(d, f) for f in fs if f.endswith((".pcap", ".pcapng", ".cap"))]
    contents = {f: read_bytes(f) for f in sorted(files)}
    n_apps = 0
    for path, data in contents.items():
        if any(g in data for g in GREETINGS):
            n_apps += check_apps(a.binary, path, os.path.relpath(path, shared))
    files = [f for f, data in contents.items() if any(h in data.lower() for h in HINTS)]
    contents.clear()
    n_certs = n_required = n_found = n_tls13 = 0
    for path in files:
        rel = os.path.relpath(path, shared)
        certs, syn_streams, tls13 = tshark_certs(names, path)
        n_tls13 += tls13
        if not certs:
            continue
        got = portwitness_names(a.binary, path)
        for frame, ip, port, stream, cert_names in certs:
            n_certs += 1
            have = got.get(str(ipaddress.ip_address(ip)), set())
            missing = [n for n in cert_names if n.strip().rstrip(".").lower() not in have]
            required = stream in syn_streams
            what = "%s: frame %d: the certificate from %s:%d names %s" % (rel, frame, ip, port, cert_names)
            if not required:
                print("note: %s (connection without its SYN: not required)%s"
                      % (what, " -- missing %s" % missing if missing else ""))
                continue
            n_required += 1
            n_found += not missing
            check(not missing, what, "missing %s" % missing)
    print("files with an upgrade request: %d; server certificates on STARTTLS ports tshark decodes: %d "
          "(%d required), portwitness has every name of %d; TLS 1.3 ServerHellos (certificate encrypted): %d"
          % (len(files), n_certs, n_required, n_found, n_tls13))
    print("servers tshark decodes as SMTP/IMAP/POP/FTP on their ports: %d" % n_apps)
    check(n_required >= 1, "tshark decodes at least one certificate after an upgrade", str(n_required))
    check(n_apps >= 1, "tshark decodes at least one SMTP/IMAP/POP/FTP server", str(n_apps))
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 1 if checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
