#!/usr/bin/env python3
"""Host names on real captures, with tshark as the oracle.

For every capture under <source>/../shared/pcaps whose INDEX.tsv protocols
include nbns, ntlmssp, tls-cert or dns, tshark (-T pdml) lists:
  - NBNS node status responses: the responder (ip.src) and its unique names
    with suffix <00> or <20> (the computer name; group names and other
    suffixes such as <03> or <1E> name domains, users and services, not the
    host - portwitness keeps them out of "hosts" by design);
  - NTLMSSP CHALLENGE messages: the sender (ip.src, the innermost IP header)
    and the NetBIOS and DNS computer names
    (ntlmssp.challenge.target_info.nb_computer_name / dns_computer_name);
    those on TCP connections first seen mid-stream are required too;
  - TLS Certificate messages sent by the server of a TCP stream (the side that
    sent the ServerHello): the subject commonName (x509sat.* under x509af.subject
    with OID 2.5.4.3; the last one when there are several) and the
    subjectAltName dNSNames (x509ce.dNSName) of the first certificate;
    portwitness keeps up to 8 SANs a certificate, so only the first 8 are
    required.  Certificates of TLS that does not start the TCP stream are
    required after an upgrade on a port portwitness reads it on (SMTP, IMAP,
    POP3 and FTP STARTTLS, LDAP StartTLS: STARTTLS_PORTS); elsewhere (SOCKS,
    XMPP) and when the ClientHello is not in the capture they are listed but
    not required (portwitness reads TLS first flights, also of connections
    first seen mid-stream when the ClientHello is their first payload);
  - DNS responses on port 53 with rcode 0 and a PTR answer to an in-addr.arpa /
    ip6.arpa question: the address being resolved and each PTR name
    (dns.ptr.domain_name).
Each must appear under "hosts" in portwitness --format json for that IP with
source netbios / ntlm / tls_cert / ptr (names compared case-insensitively,
trailing dots ignored).

Usage: test_names_real.py --binary PATH --source REPO_DIR [--only SUBSTRING] [--jobs N]
Exit 0 pass, 1 fail, 77 skipped (no ../shared/pcaps or no tshark); last line
"N passed, N failed".  Python 3 stdlib only.
"""
import argparse
import concurrent.futures
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

FILTER = ("(nbns.flags.response == 1 && nbns.type == 33) || ntlmssp.messagetype == 0x00000002 || "
          "tls.handshake.type == 1 || tls.handshake.type == 2 || tls.handshake.type == 11 || "
          "(dns.flags.response == 1 && dns.ptr.domain_name) || tcp.flags.syn == 1")
MAX_SAN = 8
# Server ports whose dissectors follow an upgrade to TLS (dissectors/starttls.c, ldap.c).
STARTTLS_PORTS = (25, 587, 2525, 143, 110, 21, 389, 3268)
STRING_FIELDS = ("x509sat.uTF8String", "x509sat.printableString", "x509sat.teletexString",
                 "x509sat.bmpString", "x509sat.universalString", "x509sat.IA5String",
                 "x509sat.ia5String")


def norm(name):
    return name.strip().rstrip(".").lower()


def fields(elem, name):
    return [f for f in elem.iter("field") if f.get("name") == name]


def first_field(elem, name):
    for f in elem.iter("field"):
        if f.get("name") == name:
            return f
    return None


def reverse_to_ip(qname):
    q = qname.rstrip(".").lower()
    try:
        if q.endswith(".in-addr.arpa"):
            parts = q[: -len(".in-addr.arpa")].split(".")
            if len(parts) != 4:
                return None
            return str(ipaddress.IPv4Address(".".join(reversed(parts))))
        if q.endswith(".ip6.arpa"):
            nibbles = q[: -len(".ip6.arpa")].split(".")
            if len(nibbles) != 32:
                return None
            h = "".join(reversed(nibbles))
            return str(ipaddress.IPv6Address(int(h, 16)))
    except ValueError:
        return None
    return None


def carrier_of(protos, proto):
    """The protocol that carries `proto` ("smb2", "dcerpc", "http", ...) from frame.protocols."""
    skip = ("gss-api", "spnego", "nbss", "tcp", "udp", "ip", "ipv6")
    parts = protos.split(":")
    if proto in parts:
        parts = parts[: parts.index(proto)]
    for p in reversed(parts):
        if p not in skip:
            return p
    return "?"


def packet_info(pkt):
    """(frame number, src ip, src port, dst port, tcp stream or None, protocols)."""
    num, src, sport, dport, stream, protos = None, None, None, None, None, ""
    seq, reassembled, syn = None, False, False
    for proto in pkt.findall("proto"):
        pname = proto.get("name")
        if pname == "frame":
            f = first_field(proto, "frame.number")
            num = int(f.get("show")) if f is not None else None
            f = first_field(proto, "frame.protocols")
            protos = f.get("show") if f is not None else ""
        elif pname in ("ip", "ipv6"):  # the innermost (GRE, ERSPAN, VXLAN tunnels)
            f = first_field(proto, pname + ".src")
            src = str(ipaddress.ip_address(f.get("show"))) if f is not None else None
        elif pname in ("tcp", "udp"):
            f = first_field(proto, pname + ".srcport")
            sport = int(f.get("show")) if f is not None else None
            f = first_field(proto, pname + ".dstport")
            dport = int(f.get("show")) if f is not None else None
            if pname == "tcp":
                f = first_field(proto, "tcp.stream")
                stream = int(f.get("show")) if f is not None else None
                f = first_field(proto, "tcp.seq")
                seq = int(f.get("show")) if f is not None else None
                f = first_field(proto, "tcp.flags.syn")
                if f is not None and f.get("show") in ("1", "True", "true"):
                    syn = True
        if pname == "tcp.segments" or first_field(proto, "tcp.segments") is not None:
            reassembled = True
    return num, src, sport, dport, stream, protos, seq, reassembled, syn


def cert_names(cert):
    """Subject CNs and SAN dNSNames of one tls.handshake.certificate element."""
    cns, sans = [], []
    subj = first_field(cert, "x509af.subject")
    if subj is not None:
        for rdn in fields(subj, "x509if.RelativeDistinguishedName_item_element"):
            oid = first_field(rdn, "x509if.oid")
            if oid is None:  # (an Element without children is falsy: no `or` here)
                oid = first_field(rdn, "x509if.id")
            if oid is None or oid.get("show") != "2.5.4.3":
                continue
            for f in rdn.iter("field"):
                if f.get("name") in STRING_FIELDS and f.get("show"):
                    cns.append(f.get("show"))
    for ext in fields(cert, "x509af.Extension_element"):
        eid = first_field(ext, "x509af.extension.id")
        if eid is None or eid.get("show") != "2.5.29.17":
            continue
        sans += [f.get("show") for f in fields(ext, "x509ce.dNSName") if f.get("show")]
    return cns, sans


def oracle(tshark, path):
    """Expected (ip, source) -> {normalised name: (name, frame, carrier)} from tshark."""
    p = subprocess.run([tshark, "-n", "-r", path, "-Y", FILTER, "-T", "pdml"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    exp = {}

    def add(ip, source, name, frame, carrier):
        if not ip or not name or not name.strip():
            return
        exp.setdefault((ip, source), {}).setdefault(norm(name), (name, frame, carrier))
    try:
        root = ET.fromstring(p.stdout.decode("utf-8", "replace")) if p.stdout.strip() else None
    except ET.ParseError:
        return None, "tshark pdml did not parse"
    if root is None:
        return exp, None
    server_side = set()   # (stream, ip, port) that sent a ServerHello
    first_flight = {}     # stream -> the ClientHello was the stream's first client bytes
    syn_streams = set()   # TCP streams whose handshake is in the capture
    ntlm = []             # (stream, ip, name, frame, carrier)
    certs = []            # (stream, ip, port, frame, cert element, protos)
    for pkt in root.findall("packet"):
        num, src, sport, dport, stream, protos, seq, reassembled, syn = packet_info(pkt)
        if syn and stream is not None:
            syn_streams.add(stream)
        for proto in pkt.iter("proto"):  # nested too: ntlmssp sits inside smb2/gss-api
            pname = proto.get("name")
            if pname == "nbns":
                rc = first_field(proto, "nbns.flags.rcode")
                if rc is not None and rc.get("show") not in ("0", "0x0000"):
                    continue
                names = fields(proto, "nbns.netbios_name")
                flags = fields(proto, "nbns.name_flags")
                for i, nf in enumerate(names):
                    shown = nf.get("showname") or ""
                    suffix = None
                    if "<" in shown and ">" in shown:
                        suffix = shown[shown.rindex("<") + 1: shown.rindex(">")].lower()
                    group = False
                    if i < len(flags):
                        g = first_field(flags[i], "nbns.name_flags.group")
                        group = g is not None and g.get("show") in ("1", "True", "true")
                    if suffix in ("00", "20") and not group:
                        add(src, "netbios", nf.get("show"), num, "nbns")
            elif pname == "ntlmssp":
                mt = first_field(proto, "ntlmssp.messagetype")
                if mt is None or int(mt.get("show"), 0) != 2:
                    continue
                carrier = carrier_of(protos, "ntlmssp")
                for fname in ("ntlmssp.challenge.target_info.nb_computer_name",
                              "ntlmssp.challenge.target_info.dns_computer_name"):
                    for f in fields(proto, fname):
                        ntlm.append((stream, src, f.get("show"), num, carrier))
            elif pname == "tls" and stream is not None:
                for hs in fields(proto, "tls.handshake"):
                    t = first_field(hs, "tls.handshake.type")
                    if t is None:
                        continue
                    if t.get("show") == "1":
                        # the ClientHello opens the stream: TLS from the first byte
                        first_flight.setdefault(stream, seq == 1 or reassembled)
                    elif t.get("show") == "2":
                        server_side.add((stream, src, sport))
                    elif t.get("show") == "11":
                        c = first_field(hs, "tls.handshake.certificate")
                        if c is not None:
                            certs.append((stream, src, sport, num, c, "tls/%s" % sport))
            elif pname == "dns" and sport == 53:
                rc = first_field(proto, "dns.flags.rcode")
                if rc is not None and rc.get("show") not in ("0",):
                    continue
                q = first_field(proto, "dns.qry.name")
                ip = reverse_to_ip(q.get("show")) if q is not None else None
                if ip is None:
                    continue
                for f in fields(proto, "dns.ptr.domain_name"):
                    add(ip, "ptr", f.get("show"), num, "dns")
    # TCP connections first seen mid-stream (no SYN in the capture) are followed
    # from their first captured segment: their names are required too.
    for stream, src, name, num, carrier in ntlm:
        if stream is not None and stream not in syn_streams:
            carrier += " (mid-stream)"
        add(src, "ntlm", name, num, carrier)
    for stream, src, sport, num, cert, carrier in certs:
        if (stream, src, sport) not in server_side:
            continue
        cns, sans = cert_names(cert)
        ff = first_flight.get(stream)
        # portwitness reads TLS first flights and TLS after an upgrade on the
        # ports it reads STARTTLS on: other TLS after other data on the stream
        # (SOCKS, XMPP) or a stream whose ClientHello is not in the capture is
        # reported separately and not required.
        if stream not in syn_streams:
            # followed from the first captured segment: required when the
            # ClientHello is that stream's first payload, as tshark sees it
            carrier += " (mid-stream)" if ff else " (mid-stream, no first flight: not required)"
        elif ff is None:
            carrier += " (no ClientHello: not required)"
        elif not ff and sport in STARTTLS_PORTS:
            carrier += " (after STARTTLS)"
        elif not ff:
            carrier += " (after other data: not required)"
        # several CNs (e.g. RFC 3820 proxy certificates): the last, most specific
        # one is the subject's name, as in TLS host name checks
        for n in cns[-1:]:
            add(src, "tls_cert", n, num, carrier)
        for n in sans[:MAX_SAN]:
            add(src, "tls_cert", n, num, carrier)
    return exp, None


def portwitness_hosts(binary, path):
    p = subprocess.run([binary, "-r", path, "--format", "json"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=600)
    try:
        report = json.loads(p.stdout.decode("utf-8", "replace"))
    except ValueError:
        return None, "exit %d, no JSON: %s" % (p.returncode, p.stderr.decode("utf-8", "replace")[-300:])
    got = {}
    for h in report.get("hosts") or []:
        try:
            ip = str(ipaddress.ip_address(h.get("ip")))
        except ValueError:
            continue
        for n in h.get("names") or []:
            got.setdefault((ip, n.get("source")), set()).add(norm(n.get("name") or ""))
    return got, None


# Byte patterns without which tshark cannot find any of the four kinds of names
# (a fast pre-check so tshark only runs where it can find something):
# NTLMSSP CHALLENGE, reverse DNS names, NBSTAT type/class, the commonName OID.
HINTS = (b"NTLMSSP\x00\x02\x00\x00\x00", b"\x07in-addr\x04arpa", b"\x03ip6\x04arpa",
         b"\x00\x21\x00\x01", b"\x06\x03\x55\x04\x03")


def worth_a_look(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return True
    low = data.lower()
    return any(h in data or h in low for h in HINTS)


def one_file(binary, tshark, path):
    if not worth_a_look(path):
        return path, {}, None
    try:
        return _one_file(binary, tshark, path)
    except (OSError, subprocess.SubprocessError) as e:
        return path, None, "could not run: %s" % e


def _one_file(binary, tshark, path):
    exp, err = oracle(tshark, path)
    if exp is None:
        return path, None, err
    if not exp:
        return path, {}, None
    got, err = portwitness_hosts(binary, path)
    if got is None:
        return path, None, err
    results = {}
    for key, names in exp.items():
        have = got.get(key, set())
        for n, (shown, frame, carrier) in names.items():
            results[(key[0], key[1], shown, frame, carrier)] = n in have
    return path, results, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--only", default="", help="only files whose path contains this")
    ap.add_argument("--jobs", type=int, default=max(2, os.cpu_count() or 2))
    args = ap.parse_args()
    shared = os.path.normpath(os.path.join(os.path.abspath(args.source), "..", "shared", "pcaps"))
    index = os.path.join(shared, "INDEX.tsv")
    if not os.path.isfile(index):
        print("skipped: %s not found (real captures are not available here)" % index)
        print("0 passed, 0 failed")
        return 77
    tshark = shutil.which("tshark")
    if not tshark:
        print("skipped: tshark not found (it is the oracle for this test)")
        print("0 passed, 0 failed")
        return 77
    wanted = ("nbns", "ntlmssp", "tls-cert", "dns")
    files = []
    with open(index, encoding="utf-8") as f:
        for line in f.read().splitlines()[1:]:
            parts = line.split("\t")
            if len(parts) < 3:
                continue
            protos = parts[2].split(",")
            if any(p in protos for p in wanted) and args.only in parts[0]:
                path = os.path.join(shared, parts[0])
                if os.path.isfile(path):
                    files.append(path)
    passed = failed = 0
    by_kind = {}
    with_names = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        futs = [ex.submit(one_file, args.binary, tshark, p) for p in files]
        for fut in concurrent.futures.as_completed(futs):
            path, results, err = fut.result()
            rel = os.path.relpath(path, shared)
            if results is None:
                failed += 1
                print("FAIL: %s: %s" % (rel, err))
                continue
            if results:
                with_names += 1
            for (ip, source, name, frame, carrier), ok in sorted(results.items(), key=str):
                k = by_kind.setdefault((source, carrier), [0, 0])
                if "not required" in carrier:
                    k[0 if ok else 1] += 1
                    if not ok:
                        print("note: %s: frame %s: %s name %r (%s) for %s is not in hosts"
                              % (rel, frame, source, name, carrier, ip))
                    continue
                if ok:
                    passed += 1
                    k[0] += 1
                else:
                    failed += 1
                    k[1] += 1
                    print("FAIL: %s: frame %s: %s name %r (%s) for %s is not in hosts"
                          % (rel, frame, source, name, carrier, ip))
    print("files: %d examined, %d with names tshark shows" % (len(files), with_names))
    for (source, carrier), (ok, bad) in sorted(by_kind.items()):
        print("  %-8s via %-48s %5d found, %4d missing" % (source, carrier, ok, bad))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
