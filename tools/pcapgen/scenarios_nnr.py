"""NNR scenarios: Network Name Resolution as a Defender for Identity sensor does it.

A sensor (a domain controller, 198.18.0.5) resolves the addresses it sees with
four methods - NTLM over RPC (TCP 135), NetBIOS node status (UDP 137), RDP/TLS
certificate (TCP 3389) and reverse DNS (PTR queries) - and each method succeeds
for some targets and fails every way for others.  All protocol payloads are
built here byte by byte (NBNS, DNS, DCE/RPC + NTLMSSP, TPKT/X.224 + RDP_NEG,
TLS 1.2 with a certificate made once with the openssl CLI for this project,
TLS 1.3).

Beside each capture, EXPECTED[name] says what portwitness must report
(imported by tests/scenarios/test_nnr.py):

  EXPECTED[name] = {
    "file": "nnr-....pcap",
    "runs": [ {"args": [extra CLI args],
               "sensors": {ip: {"found_by", "targets", "resolved", "rate",
                                "methods": {method: {attempted, resolved, answered,
                                   refused, blocked, unanswered, indeterminate,
                                   app_failed, rate}},
                                "alerts": {method: {"message", "rate",
                                   "remediation_has": [substrings],
                                   "examples": [frames]}}}},   # the complete set
               "targets": {(sensor, target): {"name", "methods": {method:
                                {"outcome", "result", "name", "frames"}}}}},  # complete
             ... ],
    "hosts": {ip: {"names": [(name, source, frame), ...], "conflict": bool}},
  }

Frames are 1-based numbers of the file.  Per target and method the frames are
those of the try that won: the request (first SYN / first datagram / the PTR
query), the reply or ICMP error, and the frame of the application answer.

Timing: the sensor talks LDAP with a workstation all along (traffic toward the
sensor is visible at all times), and every capture runs well past the TCP (10 s)
and UDP (5 s) timeouts after the last request, so silence means "unanswered".
"""
import copy
import hashlib
import ipaddress
import struct
import uuid

import pcapgen as P

T0 = 1700100000.0

SENSOR = "198.18.0.5"     # domain controller running the sensor
SENSOR2 = "198.18.0.6"    # a second domain controller / sensor
ROUTER = "198.18.0.1"     # router/firewall between the sensor and the targets
DNS1 = "198.18.0.53"      # the sensor's DNS server
DNS2 = "198.18.2.53"      # a DNS server behind the router
WS = "198.18.3.20"        # a workstation (LDAP client of the DC, a few PTR lookups)

EXPECTED = {}

METHODS = ("ntlm_rpc", "netbios", "rdp", "reverse_dns")
TITLES = {"ntlm_rpc": "NTLM over RPC", "netbios": "NetBIOS", "rdp": "RDP (TLS)",
          "reverse_dns": "reverse DNS"}

CERT_ALPHA = bytes.fromhex(
    "308201b53082015ba00302010202142710744f13c8fecbfca1f60fba5abe8148ab28b3300a06082a8648ce3d04030230"
    "1d311b301906035504030c12616c7068612e636f72702e6578616d706c65301e170d3236313132323030323634335a17"
    "0d3336313131393030323634335a301d311b301906035504030c12616c7068612e636f72702e6578616d706c65305930"
    "1306072a8648ce3d020106082a8648ce3d030107034200047c70868952feb34aa687e6114060f2819b30fb8e41fcc36d"
    "3d279b0677449f7761dce6ac7c88045b72134b918df791ac3d7175edadba416318ae4f331044d0cca3793077301d0603"
    "551d0e041604147fb2692dc8ae672f6fd2d51072b77420511b801e301f0603551d230418301680147fb2692dc8ae672f"
    "6fd2d51072b77420511b801e300f0603551d130101ff040530030101ff30240603551d11041d301b8212616c7068612e"
    "636f72702e6578616d706c658205616c706861300a06082a8648ce3d0403020348003045022100938633c378a3a0645f"
    "816c56b5846f3c518718ba2dd29234cde50aeeb78fb63f02201bc235e2101cedf4d74f8800c931ad9c763bd505adeba4"
    "04f14c83b1137e447d"
)
CERT_DELTA = bytes.fromhex(
    "308201b43082015ba00302010202141dd76eb6af83631fbdd68a59288fabc218cf5bb6300a06082a8648ce3d04030230"
    "1d311b301906035504030c1264656c74612e636f72702e6578616d706c65301e170d3236313132323030323634335a17"
    "0d3336313131393030323634335a301d311b301906035504030c1264656c74612e636f72702e6578616d706c65305930"
    "1306072a8648ce3d020106082a8648ce3d030107034200049fbdf4a5e24b27d0e42a6a4090ec2036511384fa641cbc11"
    "e81f99f750a25df5e561e6aceab8cca70fc527611e77545549fc685f2bbec5ce49457532e4947dd7a3793077301d0603"
    "551d0e041604144d6e825e6f80443b91b5b04b8651ff37e3c0c34b301f0603551d230418301680144d6e825e6f80443b"
    "91b5b04b8651ff37e3c0c34b300f0603551d130101ff040530030101ff30240603551d11041d301b821264656c74612e"
    "636f72702e6578616d706c65820564656c7461300a06082a8648ce3d04030203470030440220603d4fd5c410ce0f3acb"
    "af2865d90df96be0812cb9a663ce7855a74def54d82a02203e06dcc2e9ce01d4000a797e5224291fa91e8873b4d6a80c"
    "c88750cdc88030c0"
)


def rnd(label, n):
    """Deterministic 'random' bytes (nonces, TLS randoms, keys)."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(("%s/%d" % (label, i)).encode()).digest()
        i += 1
    return out[:n]


# ---------------------------------------------------------------------------
# capture plumbing: frames may be added in any order; finish() sorts by time

class Scn:
    def __init__(self, name):
        self.name = name
        self.cap = P.Capture(P.DLT_EN10MB)
        self.fnum = None
        self.macs = {}

    def mac_of(self, ip):
        if ip not in self.macs:
            self.macs[ip] = P.mac(0x100 + len(self.macs))
        return self.macs[ip]

    def add(self, t, packet, src, dst):
        """IP packet at T0+t from src to dst; returns a token for frame()."""
        assert self.fnum is None
        # frames between the sensor's subnet and others go through the router's MAC
        return self.cap.add(T0 + t, P.ether(packet, self.mac_of(src), self.mac_of(dst))) - 1

    def finish(self):
        if self.fnum is None:
            items = list(self.cap.frames)
            order = sorted(range(len(items)), key=lambda i: (items[i][0], i))
            self.cap.frames = [items[i] for i in order]
            self.fnum = {tok: pos + 1 for pos, tok in enumerate(order)}
        return self

    def f(self, tok):
        self.finish()
        return self.fnum[tok]

    def last_t(self):
        return max(fr[0] for fr in self.cap.frames) / 1e6 - T0


class Tcp:
    """A TCP conversation client -> server; methods return frame tokens."""

    def __init__(self, scn, client, cport, server, sport, isn_c=1000, isn_s=5000):
        self.scn = scn
        self.c, self.cp, self.s, self.sp = client, cport, server, sport
        self.isn_c, self.isn_s = isn_c, isn_s
        self.cseq, self.sseq = isn_c + 1, isn_s + 1

    def syn_packet(self):
        return P.ip(self.c, self.s, P.tcp(self.cp, self.sp, P.TH_SYN, self.isn_c, 0,
                                          options=P.SYN_OPTIONS))

    def syn(self, t):
        return self.scn.add(t, self.syn_packet(), self.c, self.s)

    def syn_ack(self, t):
        return self.scn.add(t, P.ip(self.s, self.c, P.tcp(self.sp, self.cp, P.TH_SYN | P.TH_ACK,
                                                          self.isn_s, self.isn_c + 1,
                                                          options=b"\x02\x04\x05\xb4\x01\x01\x04\x02")),
                            self.s, self.c)

    def ack(self, t):
        return self.scn.add(t, P.ip(self.c, self.s, P.tcp(self.cp, self.sp, P.TH_ACK,
                                                          self.cseq, self.sseq)), self.c, self.s)

    def handshake(self, t, rtt=0.0004):
        a = self.syn(t)
        b = self.syn_ack(t + rtt)
        self.ack(t + rtt + 0.00005)
        return a, b

    def rst(self, t):
        return self.scn.add(t, P.ip(self.s, self.c, P.tcp(self.sp, self.cp, P.TH_RST | P.TH_ACK,
                                                          0, self.isn_c + 1)), self.s, self.c)

    def send_c(self, t, payload):
        tok = self.scn.add(t, P.ip(self.c, self.s, P.tcp(self.cp, self.sp, P.TH_PSH | P.TH_ACK,
                                                         self.cseq, self.sseq, payload)),
                           self.c, self.s)
        self.cseq += len(payload)
        return tok

    def send_s(self, t, payload):
        tok = self.scn.add(t, P.ip(self.s, self.c, P.tcp(self.sp, self.cp, P.TH_PSH | P.TH_ACK,
                                                         self.sseq, self.cseq, payload)),
                           self.s, self.c)
        self.sseq += len(payload)
        return tok

    def ack_s(self, t):
        return self.scn.add(t, P.ip(self.s, self.c, P.tcp(self.sp, self.cp, P.TH_ACK,
                                                          self.sseq, self.cseq)), self.s, self.c)

    def close(self, t):
        """Client FIN, server FIN/ACK, client ACK."""
        self.scn.add(t, P.ip(self.c, self.s, P.tcp(self.cp, self.sp, P.TH_FIN | P.TH_ACK,
                                                   self.cseq, self.sseq)), self.c, self.s)
        self.scn.add(t + 0.0003, P.ip(self.s, self.c, P.tcp(self.sp, self.cp, P.TH_FIN | P.TH_ACK,
                                                            self.sseq, self.cseq + 1)), self.s, self.c)
        self.scn.add(t + 0.0004, P.ip(self.c, self.s, P.tcp(self.cp, self.sp, P.TH_ACK,
                                                            self.cseq + 1, self.sseq + 1)), self.c, self.s)


def udp_send(scn, t, src, sport, dst, dport, payload):
    return scn.add(t, P.ip(src, dst, P.udp(sport, dport, payload)), src, dst)


def icmp_unreach(scn, t, sender, to, code, offending):
    """ICMP destination unreachable (code 3 port, 13 administratively prohibited)
    quoting the offending packet's IP header and first 8 transport bytes."""
    return scn.add(t, P.ip(sender, to, P.icmp(3, code, offending[:28])), sender, to)


# ---------------------------------------------------------------------------
# NBNS (RFC 1001/1002)

def nb_encode(name, suffix=0x00):
    """First-level encoding of a NetBIOS name ('*' = wildcard), no scope."""
    if name == "*":
        raw = b"*" + b"\0" * 15
    else:
        raw = name.encode("ascii").ljust(15, b" ")[:15] + bytes([suffix])
    enc = b"".join(bytes([0x41 + (c >> 4), 0x41 + (c & 0x0F)]) for c in raw)
    return b"\x20" + enc + b"\x00"


def nbns_nbstat_query(txid):
    return struct.pack("!HHHHHH", txid, 0x0000, 1, 0, 0, 0) + nb_encode("*") + struct.pack("!HH", 0x21, 1)


def nbns_nbstat_response(txid, names, mac):
    """names: [(name, suffix, group)]; mac: 6 bytes (the unit id)."""
    rdata = bytes([len(names)])
    for name, suffix, group in names:
        flags = 0x0400 | (0x8000 if group else 0)  # ACTIVE, G
        rdata += name.encode("ascii").ljust(15, b" ")[:15] + bytes([suffix]) + struct.pack("!H", flags)
    rdata += mac + b"\0" * 40  # statistics: unit id + 40 bytes of counters
    return (struct.pack("!HHHHHH", txid, 0x8400, 0, 1, 0, 0) + nb_encode("*")
            + struct.pack("!HHIH", 0x21, 1, 0, len(rdata)) + rdata)


def nbns_negative_response(txid, rcode):
    """A negative response: RCODE set, an answer RR of the queried type without data."""
    return (struct.pack("!HHHHHH", txid, 0x8400 | rcode, 0, 1, 0, 0) + nb_encode("*")
            + struct.pack("!HHIH", 0x21, 1, 0, 0))


def nb_table(computer, domain="CORP"):
    return [(computer, 0x00, False), (domain, 0x00, True), (computer, 0x20, False),
            (domain, 0x1E, True)]


# ---------------------------------------------------------------------------
# DNS (RFC 1035)

def dns_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\x00"


def rev(ip):
    return ipaddress.ip_address(ip).reverse_pointer


def dns_query(txid, qname, qtype=12):
    return struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 0) + dns_name(qname) + struct.pack("!HH", qtype, 1)


def dns_response(txid, qname, qtype=12, rcode=0, ptr=None, a=None):
    """Response echoing the question; an answer PTR `ptr` or A `a` (compressed owner)."""
    flags = 0x8180 | rcode
    if rcode == 5:
        flags = 0x8100 | rcode  # REFUSED: recursion not available
    answers = b""
    n = 0
    if ptr:
        rd = dns_name(ptr)
        answers += b"\xc0\x0c" + struct.pack("!HHIH", 12, 1, 3600, len(rd)) + rd
        n += 1
    if a:
        rd = ipaddress.ip_address(a).packed
        answers += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, len(rd)) + rd
        n += 1
    return (struct.pack("!HHHHHH", txid, flags, 1, n, 0, 0) + dns_name(qname)
            + struct.pack("!HH", qtype, 1) + answers)


# ---------------------------------------------------------------------------
# DCE/RPC connection-oriented + NTLMSSP (C706 ch. 12, MS-RPCE, MS-NLMP)

EPM_UUID = "e1af8308-5d1f-11c9-91a4-08002b14a0fa"
NDR_UUID = "8a885d04-1ceb-11c9-9fe8-08002b104860"


def _uuid(s):
    return uuid.UUID(s).bytes_le


def rpc_header(ptype, frag_len, auth_len, call_id):
    return struct.pack("<BBBB4sHHI", 5, 0, ptype, 0x03, b"\x10\x00\x00\x00", frag_len, auth_len, call_id)


def ntlm_negotiate():
    return (b"NTLMSSP\0" + struct.pack("<II", 1, 0xE2088297)
            + struct.pack("<HHI", 0, 0, 0) + struct.pack("<HHI", 0, 0, 0)
            + struct.pack("<BBH3xB", 10, 0, 20348, 15))


def ntlm_challenge(nb_computer, nb_domain, dns_computer, dns_domain, label):
    def u(s):
        return s.encode("utf-16-le")

    def av(avid, val):
        return struct.pack("<HH", avid, len(val)) + val
    info = b""
    info += av(2, u(nb_domain))
    if nb_computer:
        info += av(1, u(nb_computer))
    info += av(4, u(dns_domain))
    if dns_computer:
        info += av(3, u(dns_computer))
    info += av(5, u(dns_domain))
    info += av(7, struct.pack("<Q", 133444736000000000))  # 2023-11-16 (FILETIME)
    info += av(0, b"")
    tname = u(nb_domain)
    off = 56
    return (b"NTLMSSP\0" + struct.pack("<I", 2)
            + struct.pack("<HHI", len(tname), len(tname), off)
            + struct.pack("<I", 0xE28A8215)
            + rnd("ntlm-challenge/" + label, 8) + b"\0" * 8
            + struct.pack("<HHI", len(info), len(info), off + len(tname))
            + struct.pack("<BBH3xB", 10, 0, 20348, 15)
            + tname + info)


def _with_auth(ptype, call_id, body, auth):
    if auth is None:
        return rpc_header(ptype, 16 + len(body), 0, call_id) + body
    pad = (-(16 + len(body))) % 4
    trailer = struct.pack("<BBBBI", 10, 2, pad, 0, 0)  # RPC_C_AUTHN_WINNT, level connect
    frag = 16 + len(body) + pad + 8 + len(auth)
    return rpc_header(ptype, frag, len(auth), call_id) + body + b"\0" * pad + trailer + auth


def rpc_bind(call_id, ntlm=True):
    body = struct.pack("<HHIB3x", 5840, 5840, 0, 1)
    body += struct.pack("<HBB", 0, 1, 0) + _uuid(EPM_UUID) + struct.pack("<HH", 3, 0)
    body += _uuid(NDR_UUID) + struct.pack("<I", 2)
    return _with_auth(11, call_id, body, ntlm_negotiate() if ntlm else None)


def rpc_bind_ack(call_id, challenge=None):
    sec = b"135\0"
    body = struct.pack("<HHI", 5840, 5840, 0x00012A3B) + struct.pack("<H", len(sec)) + sec
    body += b"\0" * ((-(16 + len(body))) % 4)
    body += struct.pack("<B3x", 1) + struct.pack("<HH", 0, 0) + _uuid(NDR_UUID) + struct.pack("<I", 2)
    return _with_auth(12, call_id, body, challenge)


def rpc_bind_nak(call_id, reason):
    body = struct.pack("<HB", reason, 1) + bytes([5, 0])
    return rpc_header(13, 16 + len(body), 0, call_id) + body


# ---------------------------------------------------------------------------
# RDP: TPKT + X.224 (MS-RDPBCGR 2.2.1.1, 2.2.1.2)

def tpkt(x224):
    return struct.pack("!BBH", 3, 0, 4 + len(x224)) + x224


def x224_cr(cookie, requested=0x00000001):
    data = b"Cookie: mstshash=" + cookie.encode("ascii") + b"\r\n"
    data += struct.pack("<BBHI", 0x01, 0x00, 8, requested)  # RDP_NEG_REQ
    return tpkt(struct.pack("!BBHHB", 6 + len(data), 0xE0, 0, 0, 0) + data)


def x224_cc(selected=None, failure=None):
    if failure is not None:
        neg = struct.pack("<BBHI", 0x03, 0x00, 8, failure)   # RDP_NEG_FAILURE
    else:
        neg = struct.pack("<BBHI", 0x02, 0x1F, 8, selected)  # RDP_NEG_RSP
    return tpkt(struct.pack("!BBHHB", 6 + len(neg), 0xD0, 0, 0x1234, 0) + neg)


# ---------------------------------------------------------------------------
# TLS (RFC 5246 / 8446)

def tls_record(ctype, body, ver=0x0303):
    return struct.pack("!BHH", ctype, ver, len(body)) + body


def hs(htype, body):
    return bytes([htype]) + len(body).to_bytes(3, "big") + body


def _ext(etype, data):
    return struct.pack("!HH", etype, len(data)) + data


def client_hello(label, tls13=False):
    ciphers = [0xC02C, 0xC030, 0xC02B, 0xC02F, 0x009F, 0x009E, 0xC024, 0xC028, 0x003D, 0x003C]
    if tls13:
        ciphers = [0x1302, 0x1301] + ciphers
    exts = _ext(10, struct.pack("!H", 4) + struct.pack("!HH", 0x001D, 0x0017))
    exts += _ext(11, b"\x01\x00")
    sigs = [0x0804, 0x0403, 0x0401, 0x0503, 0x0501]
    exts += _ext(13, struct.pack("!H", 2 * len(sigs)) + b"".join(struct.pack("!H", s) for s in sigs))
    exts += _ext(23, b"") + _ext(0xFF01, b"\x00")
    if tls13:
        exts += _ext(43, b"\x04\x03\x04\x03\x03")
        exts += _ext(51, struct.pack("!HHH", 36, 0x001D, 32) + rnd(label + "/ks", 32))
    body = struct.pack("!H", 0x0303) + rnd(label + "/cr", 32) + b"\x00"
    body += struct.pack("!H", 2 * len(ciphers)) + b"".join(struct.pack("!H", c) for c in ciphers)
    body += b"\x01\x00" + struct.pack("!H", len(exts)) + exts
    return tls_record(22, hs(1, body), ver=0x0301)


def server_flight_tls12(label, cert_der):
    """ServerHello + Certificate + ServerHelloDone in one record."""
    exts = _ext(0xFF01, b"\x00") + _ext(23, b"")
    sh = struct.pack("!H", 0x0303) + rnd(label + "/sr", 32) + b"\x00" + struct.pack("!HB", 0xC030, 0)
    sh += struct.pack("!H", len(exts)) + exts
    certs = len(cert_der).to_bytes(3, "big") + cert_der
    cert = len(certs).to_bytes(3, "big") + certs
    return tls_record(22, hs(2, sh) + hs(11, cert) + hs(14, b""))


def server_flight_tls13(label):
    """ServerHello (supported_versions 1.3), ChangeCipherSpec, encrypted handshake."""
    exts = _ext(43, b"\x03\x04") + _ext(51, struct.pack("!HH", 0x001D, 32) + rnd(label + "/sks", 32))
    sh = struct.pack("!H", 0x0303) + rnd(label + "/sr", 32) + b"\x00" + struct.pack("!HB", 0x1302, 0)
    sh += struct.pack("!H", len(exts)) + exts
    return (tls_record(22, hs(2, sh)) + tls_record(20, b"\x01")
            + tls_record(23, rnd(label + "/enc", 900)))


# ---------------------------------------------------------------------------
# NNR tries: each adds the traffic of one try and, unless it is a try that is
# expected to lose to a better one, records the expected result.

class Nnr:
    def __init__(self, scn, sensor, port=49700, txid=0x3000):
        self.scn, self.sensor = scn, sensor
        self.port, self.txid = port, txid
        self.targets = {}   # (sensor, target) -> {method: {outcome, result, name, frames(tokens)}}
        self.hosts = {}     # ip -> [(name, source, token)]

    def _port(self):
        self.port += 1
        return self.port

    def _txid(self):
        self.txid += 1
        return self.txid

    def _expect(self, target, method, outcome, result, name, toks, record):
        if record:
            self.targets.setdefault((self.sensor, target), {})[method] = {
                "outcome": outcome, "result": result, "name": name, "frames": list(toks)}

    def _name(self, ip, name, source, tok):
        self.hosts.setdefault(ip, []).append((name, source, tok))

    # ---- TCP transport failures, shared by ntlm_rpc and rdp ----
    def _tcp_fail(self, t, target, port, how, blocker=ROUTER):
        c = Tcp(self.scn, self.sensor, self._port(), target, port)
        syn = c.syn(t)
        if how == "refused":
            return ("refused", "refused", [syn, c.rst(t + 0.0003)])
        if how == "blocked":
            return ("blocked", "blocked",
                    [syn, icmp_unreach(self.scn, t + 0.0006, blocker, self.sensor, 13, c.syn_packet())])
        assert how == "unanswered"
        c.syn(t + 1.0)
        c.syn(t + 3.0)
        return ("unanswered", "no_response", [syn])

    def ntlm(self, t, target, how, nb=None, dns=None, reason=2, record=True, blocker=ROUTER):
        """how: resolved | no_challenge | bind_nak | refused | blocked | unanswered."""
        if how in ("refused", "blocked", "unanswered"):
            o, r, toks = self._tcp_fail(t, target, 135, how, blocker)
            self._expect(target, "ntlm_rpc", o, r, None, toks, record)
            return toks
        c = Tcp(self.scn, self.sensor, self._port(), target, 135)
        syn, sa = c.handshake(t)
        c.send_c(t + 0.001, rpc_bind(2))
        if how == "resolved":
            chal = ntlm_challenge(nb, "CORP", dns, "corp.example", target)
            ans = c.send_s(t + 0.002, rpc_bind_ack(2, chal))
            self._expect(target, "ntlm_rpc", "answered", "resolved", nb or dns, [syn, sa, ans], record)
            if nb:
                self._name(target, nb, "ntlm", ans)
            if dns:
                self._name(target, dns, "ntlm", ans)
        elif how == "no_challenge":
            ans = c.send_s(t + 0.002, rpc_bind_ack(2, None))
            self._expect(target, "ntlm_rpc", "answered", "no_challenge", None, [syn, sa, ans], record)
        else:
            assert how == "bind_nak"
            ans = c.send_s(t + 0.002, rpc_bind_nak(2, reason))
            self._expect(target, "ntlm_rpc", "answered", "bind_nak", None, [syn, sa, ans], record)
        c.close(t + 0.003)
        return [syn, sa, ans]

    def netbios(self, t, target, how, name=None, rcode=3, record=True, blocker=ROUTER, retries=2):
        """how: resolved | negative | refused | blocked | unanswered."""
        port, txid = self._port(), self._txid()
        q = nbns_nbstat_query(txid)
        qt = udp_send(self.scn, t, self.sensor, port, target, 137, q)
        offending = P.ip(self.sensor, target, P.udp(port, 137, q))
        if how == "resolved":
            mac = bytes([0x00, 0x15, 0x5D]) + ipaddress.ip_address(target).packed[1:]
            r = udp_send(self.scn, t + 0.0008, target, 137, self.sensor, port,
                         nbns_nbstat_response(txid, nb_table(name), mac))
            self._expect(target, "netbios", "answered", "resolved", name, [qt, r], record)
            self._name(target, name, "netbios", r)
            return [qt, r]
        if how == "negative":
            r = udp_send(self.scn, t + 0.0008, target, 137, self.sensor, port,
                         nbns_negative_response(txid, rcode))
            self._expect(target, "netbios", "answered", "nbns_negative", None, [qt, r], record)
            return [qt, r]
        if how == "refused":
            e = icmp_unreach(self.scn, t + 0.0005, target, self.sensor, 3, offending)
            self._expect(target, "netbios", "refused", "refused", None, [qt, e], record)
            return [qt, e]
        if how == "blocked":
            e = icmp_unreach(self.scn, t + 0.0006, blocker, self.sensor, 13, offending)
            self._expect(target, "netbios", "blocked", "blocked", None, [qt, e], record)
            return [qt, e]
        assert how == "unanswered"
        for k in range(retries):
            udp_send(self.scn, t + 1.5 * (k + 1), self.sensor, port, target, 137, q)
        self._expect(target, "netbios", "unanswered", "no_response", None, [qt], record)
        return [qt]

    def rdp(self, t, target, how, cert=None, names=(), code=5, record=True, blocker=ROUTER):
        """how: resolved | neg_failure | tls13 | refused | blocked | unanswered."""
        if how in ("refused", "blocked", "unanswered"):
            o, r, toks = self._tcp_fail(t, target, 3389, how, blocker)
            self._expect(target, "rdp", o, r, None, toks, record)
            return toks
        c = Tcp(self.scn, self.sensor, self._port(), target, 3389)
        syn, sa = c.handshake(t)
        c.send_c(t + 0.001, x224_cr("sensor"))
        if how == "neg_failure":
            ans = c.send_s(t + 0.002, x224_cc(failure=code))
            self._expect(target, "rdp", "answered", "rdp_neg_failure", None, [syn, sa, ans], record)
        else:
            c.send_s(t + 0.002, x224_cc(selected=1))
            label = "%s/%s" % (self.sensor, target)
            c.send_c(t + 0.003, client_hello(label, tls13=(how == "tls13")))
            if how == "tls13":
                ans = c.send_s(t + 0.004, server_flight_tls13(label))
                self._expect(target, "rdp", "answered", "tls13_cert_hidden", None, [syn, sa, ans], record)
            else:
                assert how == "resolved"
                ans = c.send_s(t + 0.004, server_flight_tls12(label, cert))
                self._expect(target, "rdp", "answered", "resolved", names[0], [syn, sa, ans], record)
                for n in names:
                    self._name(target, n, "tls_cert", ans)
        c.close(t + 0.005)
        return [syn, sa, ans]

    def rdns(self, t, target, how, name=None, server=DNS1, tcp=False, record=True, blocker=ROUTER):
        """how: resolved | nxdomain | dns_refused | servfail | blocked | unanswered."""
        txid, qname = self._txid(), rev(target)
        query = dns_query(txid, qname)
        rcode = {"resolved": 0, "nxdomain": 3, "dns_refused": 5, "servfail": 2}.get(how)
        if tcp:
            c = Tcp(self.scn, self.sensor, self._port(), server, 53)
            c.handshake(t)
            qt = c.send_c(t + 0.001, struct.pack("!H", len(query)) + query)
            resp = dns_response(txid, qname, rcode=rcode, ptr=name if rcode == 0 else None)
            r = c.send_s(t + 0.002, struct.pack("!H", len(resp)) + resp)
            c.close(t + 0.003)
        else:
            port = self._port()
            qt = udp_send(self.scn, t, self.sensor, port, server, 53, query)
            if rcode is not None:
                r = udp_send(self.scn, t + 0.0009, server, 53, self.sensor, port,
                             dns_response(txid, qname, rcode=rcode, ptr=name if rcode == 0 else None))
            elif how == "blocked":
                r = icmp_unreach(self.scn, t + 0.0006, blocker, self.sensor, 13,
                                 P.ip(self.sensor, server, P.udp(port, 53, query)))
            else:
                assert how == "unanswered"
                udp_send(self.scn, t + 1.0, self.sensor, port, server, 53, query)
                udp_send(self.scn, t + 3.0, self.sensor, port, server, 53, query)
                r = None
        if how == "resolved":
            self._expect(target, "reverse_dns", "answered", "resolved", name, [qt, r], record)
            self._name(target, name, "ptr", r)
        elif how == "blocked":
            self._expect(target, "reverse_dns", "blocked", "blocked", None, [qt, r], record)
        elif how == "unanswered":
            self._expect(target, "reverse_dns", "unanswered", "no_response", None, [qt], record)
        else:
            self._expect(target, "reverse_dns", "answered", how, None, [qt, r], record)
        return [qt] + ([r] if r is not None else [])

    def forward(self, t, qname, addr, server=DNS1):
        """A forward lookup (not NNR): a 'dns' name for the address."""
        port, txid = self._port(), self._txid()
        udp_send(self.scn, t, self.sensor, port, server, 53, dns_query(txid, qname, qtype=1))
        r = udp_send(self.scn, t + 0.0007, server, 53, self.sensor, port,
                     dns_response(txid, qname, qtype=1, a=addr))
        self._name(addr, qname, "dns", r)


def ldap_background(scn, t_end, client=WS, server=SENSOR, step=0.5):
    """A workstation's LDAP session with the DC all along: traffic toward the
    sensor is visible at any time."""
    c = Tcp(scn, client, 51000, server, 389, isn_c=70000, isn_s=90000)
    c.handshake(0.0)
    t = 0.25
    while t < t_end:
        c.send_c(t, bytes(60))
        c.send_s(t + 0.0004, bytes(120))
        t += step
    c.close(t_end)


# ---------------------------------------------------------------------------
# expectations

def _ipkey(ip):
    a = ipaddress.ip_address(ip)
    return (a.version, a.packed)


def _stats(targets, sensor):
    """Per-sensor method table and totals from the expected per-target results."""
    methods = {}
    for m in METHODS:
        st = {k: 0 for k in ("attempted", "resolved", "answered", "refused", "blocked",
                             "unanswered", "indeterminate", "app_failed")}
        for (s, _t), ms in targets.items():
            if s != sensor or m not in ms:
                continue
            r = ms[m]
            st["attempted"] += 1
            st[r["outcome"]] += 1
            if r["result"] == "resolved":
                st["resolved"] += 1
            elif r["outcome"] == "answered":
                st["app_failed"] += 1
        st["rate"] = st["resolved"] / st["attempted"] if st["attempted"] else None
        methods[m] = st
    mine = [ms for (s, _t), ms in targets.items() if s == sensor]
    resolved = sum(1 for ms in mine if any(r["result"] == "resolved" for r in ms.values()))
    return {"targets": len(mine), "resolved": resolved,
            "rate": resolved / len(mine) if mine else None, "methods": methods}


_PORT_TEXT = {"ntlm_rpc": "TCP port 135", "netbios": "UDP port 137", "rdp": "TCP port 3389",
              "reverse_dns": "UDP/TCP port 53"}


def _alerts(targets, sensor, st, threshold, max_listed=10):
    out = {}
    for m in METHODS:
        s = st["methods"][m]
        if not s["attempted"]:
            continue
        failed = s["attempted"] - s["resolved"]
        share = failed / s["attempted"]
        if not share > threshold:
            continue
        bad = sorted((t for (se, t), ms in targets.items()
                      if se == sensor and m in ms and ms[m]["result"] != "resolved"), key=_ipkey)
        has = [_PORT_TEXT[m], "sensor %s" % sensor, "Failed targets (%d of %d):" % (failed, s["attempted"])]
        has += ["%s " % t for t in bad[:max_listed]]
        if len(bad) > max_listed:
            has.append("and %d more" % (len(bad) - max_listed))
        if m != "reverse_dns":
            has.append("inbound communication from sensor %s" % sensor)
        else:
            has.append("reverse lookup is enabled")
        examples = []
        for t in bad[:max_listed]:
            examples += targets[(sensor, t)][m]["frames"]
        out[m] = {"message": "Low success rate of %s name resolution from sensor %s: %d of %d "
                             "targets resolved (%.0f%% failed)" % (TITLES[m], sensor, s["resolved"],
                                                                    s["attempted"], share * 100.0),
                  "rate": s["rate"], "remediation_has": has, "examples": examples}
    return out


def _run(targets, sensors, args=(), threshold=0.9):
    """sensors: {ip: found_by}.  The complete expected nnr for one run."""
    exp_s = {}
    for ip, found_by in sensors.items():
        st = _stats(targets, ip)
        st["found_by"] = found_by
        st["alerts"] = _alerts(targets, ip, st, threshold)
        exp_s[ip] = st
    return copy.deepcopy({"args": list(args), "sensors": exp_s,
                          "targets": {k: v for k, v in targets.items() if k[0] in sensors}})


def _resolve_frames(scn, runs, hosts):
    """Turns tokens into frame numbers (after the capture is sorted)."""
    scn.finish()
    for run in runs:
        for entry in run["targets"].values():
            for r in entry["methods"].values():
                r["frames"] = sorted(scn.f(x) for x in r["frames"])
        for st in run["sensors"].values():
            for a in st["alerts"].values():
                a["examples"] = [scn.f(x) for x in a["examples"]]
    out = {}
    for ip, names in hosts.items():
        best = {}
        for name, source, tok in names:
            key = (name.lower(), source)
            fr = scn.f(tok)
            if key not in best or fr < best[key][2]:
                best[key] = (name, source, fr)
        out[ip] = sorted(best.values(), key=lambda x: (x[2], x[1], x[0]))
    return out


def _finish(name, scn, nnrs, runs, conflicts):
    targets = {}
    hosts = {}
    for n in nnrs:
        targets.update(n.targets)
        for ip, lst in n.hosts.items():
            hosts.setdefault(ip, []).extend(lst)
    built = [_run(targets, r["sensors"], r.get("args", ()), r.get("threshold", 0.9)) for r in runs]
    for run in built:
        for k, ms in run["targets"].items():
            best = None
            for m in METHODS:
                if m in ms and ms[m]["result"] == "resolved":
                    best = ms[m]["name"]
                    break
            run["targets"][k] = {"name": best, "methods": ms}
    hosts = _resolve_frames(scn, built, hosts)
    EXPECTED[name] = {
        "file": name + ".pcap",
        "runs": built,
        "hosts": {ip: {"names": names, "conflict": ip in conflicts} for ip, names in hosts.items()},
    }
    return scn.cap, "pcap"


# ---------------------------------------------------------------------------
# scenarios

T1, T2, T3, T4, T5, T6, T7 = ("198.18.1.10", "198.18.1.11", "198.18.1.12", "198.18.1.13",
                              "198.18.1.14", "198.18.1.15", "198.18.1.16")


def s_methods():
    """One sensor, seven targets; every method succeeds for some and fails every way.

      target        ntlm_rpc        netbios            rdp               reverse_dns
      T1 .10 ALPHA  resolved        resolved           resolved (cert)   resolved
      T2 .11        refused (RST)   refused (ICMP port unreachable)
                                                       refused (RST)     NXDOMAIN
      T3 .12        blocked (ICMP admin-prohibited from the router, each method)
                                                                         REFUSED
      T4 .13        unanswered (SYN x3, NBSTAT x3, SYN x3)               SERVFAIL
      T5 .14        bind_nak        negative rcode 3   RDP_NEG_FAILURE 5 blocked (DNS2 behind router)
      T6 .15 BRAVO  bind_ack, no    unanswered, then   TLS 1.3           resolved over TCP:
                    CHALLENGE       resolved           (cert hidden)     a stale PTR -> conflict
      T7 .16        refused, then resolved             -                 unanswered (x3)
                    (DNS computer name only)

    Rates: ntlm_rpc 2/7, netbios 2/6, rdp 1/6, reverse_dns 2/7; the sensor resolved
    3 of 7 targets by at least one method.  No method fails more than 90%; with
    --nnr-alert-threshold 0.8 only rdp (83% failed) alerts, with 0.5 all four do.
    """
    scn = Scn("nnr-methods")
    n = Nnr(scn, SENSOR)
    t = 1.0
    n.ntlm(t, T1, "resolved", nb="ALPHA", dns="alpha.corp.example")
    n.netbios(t + 0.2, T1, "resolved", name="ALPHA")
    n.rdp(t + 0.4, T1, "resolved", cert=CERT_ALPHA, names=("alpha.corp.example", "alpha"))
    n.rdns(t + 0.6, T1, "resolved", name="alpha.corp.example")
    t = 3.0
    n.ntlm(t, T2, "refused")
    n.netbios(t + 0.2, T2, "refused")
    n.rdp(t + 0.4, T2, "refused")
    n.rdns(t + 0.6, T2, "nxdomain")
    t = 5.0
    n.ntlm(t, T3, "blocked")
    n.netbios(t + 0.2, T3, "blocked")
    n.rdp(t + 0.4, T3, "blocked")
    n.rdns(t + 0.6, T3, "dns_refused")
    t = 7.0
    n.ntlm(t, T4, "unanswered")
    n.netbios(t + 0.2, T4, "unanswered")
    n.rdp(t + 0.4, T4, "unanswered")
    n.rdns(t + 0.6, T4, "servfail")
    t = 9.0
    n.ntlm(t, T5, "bind_nak", reason=2)
    n.netbios(t + 0.2, T5, "negative", rcode=3)
    n.rdp(t + 0.4, T5, "neg_failure", code=5)
    n.rdns(t + 0.6, T5, "blocked", server=DNS2)
    t = 11.0
    n.ntlm(t, T6, "no_challenge")
    n.netbios(t + 0.2, T6, "unanswered", record=False, retries=0)
    n.netbios(t + 7.0, T6, "resolved", name="BRAVO")
    n.rdp(t + 0.4, T6, "tls13")
    n.rdns(t + 0.6, T6, "resolved", name="bravo-old.corp.example", tcp=True)
    t = 13.0
    n.ntlm(t, T7, "refused", record=False)
    n.ntlm(t + 2.0, T7, "resolved", dns="charlie.corp.example")
    n.rdns(t + 0.6, T7, "unanswered")
    n.forward(20.0, "dc2.corp.example", SENSOR2)
    ldap_background(scn, 40.0)
    return _finish("nnr-methods", scn, [n], [
        {"sensors": {SENSOR: "inferred"}},
        {"sensors": {SENSOR: "option"}, "args": ["--sensor", SENSOR]},
        {"sensors": {SENSOR: "inferred"}, "args": ["--nnr-alert-threshold", "0.8"], "threshold": 0.8},
        {"sensors": {SENSOR: "option"}, "args": ["--sensor", SENSOR + "/32", "--nnr-alert-threshold", "0.5"],
         "threshold": 0.5},
    ], conflicts={T6})


U1, U2, U3, U4 = "198.18.1.20", "198.18.1.21", "198.18.1.22", "198.18.1.23"


def s_two_sensors():
    """Two domain controllers with sensors and a workstation.

    Sensor A (198.18.0.5) resolves four targets (shaped requests to all four:
    inferred).  Sensor B (198.18.0.6) only gets its SYNs to 135 blocked or
    unanswered and one NBSTAT query unanswered: a single NNR-shaped target, so it
    is not inferred and needs --sensor; then it alerts at 100% for ntlm_rpc and
    netbios.  The workstation makes two PTR lookups: below the inference
    threshold of three targets.
    """
    scn = Scn("nnr-two-sensors")
    a = Nnr(scn, SENSOR)
    a.ntlm(1.0, U1, "resolved", nb="DELTA", dns="delta.corp.example")
    a.netbios(1.2, U1, "resolved", name="DELTA")
    a.rdp(1.4, U1, "resolved", cert=CERT_DELTA, names=("delta.corp.example", "delta"))
    a.rdns(1.6, U1, "resolved", name="delta.corp.example")
    a.ntlm(2.0, U2, "resolved", nb="ECHO", dns="echo.corp.example")
    a.netbios(2.2, U2, "resolved", name="ECHO")
    a.ntlm(3.0, U3, "resolved", nb="FOXTROT", dns="foxtrot.corp.example")
    a.rdns(3.6, U3, "nxdomain")
    a.ntlm(4.0, U4, "resolved", nb="GOLF", dns="golf.corp.example")
    b = Nnr(scn, SENSOR2, port=52000, txid=0x5000)
    b.ntlm(5.0, U1, "blocked")
    b.ntlm(5.5, U2, "unanswered")
    b.ntlm(6.0, U3, "unanswered")
    b.netbios(6.5, U4, "unanswered")
    w = Nnr(scn, WS, port=53000, txid=0x7000)
    w.rdns(7.0, U1, "resolved", name="delta.corp.example")
    w.rdns(7.5, U2, "resolved", name="echo.corp.example")
    ldap_background(scn, 30.0)
    ldap_background_b(scn, 30.0)
    return _finish("nnr-two-sensors", scn, [a, b, w], [
        {"sensors": {SENSOR: "inferred"}},
        {"sensors": {SENSOR2: "option"}, "args": ["--sensor", SENSOR2]},
        {"sensors": {SENSOR: "option", SENSOR2: "option"}, "args": ["--sensor", "198.18.0.4/30"]},
        {"sensors": {SENSOR: "option", WS: "option"}, "args": ["--sensor", SENSOR, "--sensor", WS]},
    ], conflicts=set())


def ldap_background_b(scn, t_end):
    c = Tcp(scn, "198.18.3.21", 51001, SENSOR2, 389, isn_c=170000, isn_s=190000)
    c.handshake(0.1)
    t = 0.3
    while t < t_end:
        c.send_c(t, bytes(60))
        c.send_s(t + 0.0004, bytes(120))
        t += 0.5
    c.close(t_end)


FW = "198.18.4.254"


def s_netbios_alert():
    """NetBIOS fails for 11 of 12 targets (6 blocked by a firewall, 5 unanswered)
    while NTLM over RPC resolves all 12: a NetBIOS alert (92% failed > 90%)."""
    scn = Scn("nnr-netbios-alert")
    n = Nnr(scn, SENSOR)
    for i in range(1, 13):
        ip = "198.18.4.%d" % i
        t = 1.0 + 0.5 * i
        n.ntlm(t, ip, "resolved", nb="HOST%02d" % i, dns="host%02d.corp.example" % i)
        if i == 1:
            n.netbios(t + 0.1, ip, "resolved", name="HOST01")
        elif i <= 7:
            n.netbios(t + 0.1, ip, "blocked", blocker=FW)
        else:
            n.netbios(t + 0.1, ip, "unanswered")
    ldap_background(scn, 30.0)
    return _finish("nnr-netbios-alert", scn, [n], [
        {"sensors": {SENSOR: "inferred"}},
        {"sensors": {SENSOR: "option"}, "args": ["--sensor", SENSOR]},
        {"sensors": {SENSOR: "inferred"}, "args": ["--nnr-alert-threshold", "0.95"], "threshold": 0.95},
    ], conflicts=set())


SCENARIOS = [
    ("nnr-methods", s_methods),
    ("nnr-two-sensors", s_two_sensors),
    ("nnr-netbios-alert", s_netbios_alert),
]
