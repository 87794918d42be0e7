"""Outcome scenarios (issue 9): replies that are not attempts, unanswered decided
from the client's own retransmissions, and who refused (the host or a device in
the path).  Each scenario records beside its traffic the complete set of attempts
portwitness must report (EXPECTED[name], read by tests/scenarios/test_outcomes.py),
with, for refused/blocked attempts, "responder" and the evidence it rests on, and
"retry_of" for UDP requests repeated from a new source port.

Messages are built byte by byte here: NBNS, LLMNR and mDNS (the DNS header with
its response bit, RFC 1002 / RFC 4795 / RFC 6762), SSDP over HTTPU, SQL Server
Resolution Protocol (MS-SQLR: CLNT_BCAST_EX 0x02, CLNT_UCAST_INST 0x04, SVR_RESP
0x05 + little-endian length), and a WS-Discovery probe/match pair whose bytes
carry no request/response marker portwitness reads.
"""
import struct

import pcapgen as P
from scenarios_core import Scn, Tcp, Udp, DNS_QUERY, DNS_REPLY

C = "198.18.0.10"        # the client (querier)
S1 = "198.18.0.21"       # a host that answers
S2 = "198.18.0.22"       # a host whose replies arrive without the query captured
S3 = "198.18.0.23"       # a host that never answers
S4 = "198.18.0.24"       # a host with no packet of its own in the capture
D = "198.18.0.53"        # a resolver
D2 = "198.18.0.54"       # a resolver that answers
D3 = "198.18.0.55"       # a resolver asked twice at once
R = "198.18.0.1"         # the client's router
BCAST = "198.18.0.255"
LLMNR_V4 = "224.0.0.252"
MDNS_V4 = "224.0.0.251"
SSDP_V4 = "239.255.255.250"


# ---------------------------------------------------------------------------
# messages

def dns_header(txid, flags, qd=1, an=0):
    return struct.pack("!HHHHHH", txid, flags, qd, an, 0, 0)


def dns_name(name):
    return b"".join(bytes([len(x)]) + x.encode("ascii") for x in name.split(".")) + b"\x00"


def nb_name(name, suffix=0x00):
    raw = name.encode("ascii").ljust(15, b" ")[:15] + bytes([suffix])
    return b"\x20" + b"".join(bytes([0x41 + (c >> 4), 0x41 + (c & 15)]) for c in raw) + b"\x00"


def nbns_query(txid, name, broadcast=True):
    return dns_header(txid, 0x0110 if broadcast else 0x0100) + nb_name(name) + struct.pack("!HH", 0x20, 1)


def nbns_response(txid, name, addr):
    rdata = struct.pack("!H", 0) + P.ip_bytes(addr)
    return (dns_header(txid, 0x8500, 0, 1) + nb_name(name) + struct.pack("!HHIH", 0x20, 1, 300000, 6)
            + rdata)


def nbns_nbstat_query(txid):
    return dns_header(txid, 0x0000) + b"\x20" + b"CK" + b"AA" * 15 + b"\x00" + struct.pack("!HH", 0x21, 1)


def nbns_nbstat_response(txid, name, mac):
    rdata = bytes([1]) + name.encode("ascii").ljust(15, b" ")[:15] + b"\x00" + struct.pack("!H", 0x0400)
    rdata += mac + b"\0" * 40
    return (dns_header(txid, 0x8400, 0, 1) + b"\x20" + b"CK" + b"AA" * 15 + b"\x00"
            + struct.pack("!HHIH", 0x21, 1, 0, len(rdata)) + rdata)


def dns_query(txid, name):
    return dns_header(txid, 0x0000) + dns_name(name) + struct.pack("!HH", 1, 1)


def dns_answer(txid, name, addr, flags=0x8000):
    return (dns_header(txid, flags, 1, 1) + dns_name(name) + struct.pack("!HH", 1, 1)
            + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 30, 4) + P.ip_bytes(addr))


def mdns_answer(name, addr):
    # RFC 6762: id 0, QR + AA, no question, cache-flush class
    return (dns_header(0, 0x8400, 0, 1) + dns_name(name) + struct.pack("!HHIH", 1, 0x8001, 120, 4)
            + P.ip_bytes(addr))


SSDP_SEARCH = (b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
               b"MX: 1\r\nST: ssdp:all\r\n\r\n")


def ssdp_ok(location):
    return (b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\nLOCATION: " + location
            + b"\r\nSERVER: Linux/5.10 UPnP/1.0 portwitness-scenario/1\r\nST: upnp:rootdevice\r\n"
            b"USN: uuid:2f402f80-da50-11e1-9b23-001788255acc::upnp:rootdevice\r\n\r\n")


SSRP_BCAST = b"\x02"
SSRP_INST = b"\x04MSSQLSERVER\x00"


def ssrp_svr_resp(server, instance, port):
    body = ("ServerName;%s;InstanceName;%s;IsClustered;No;Version;15.0.2000.5;tcp;%d;;"
            % (server, instance, port)).encode("ascii")
    return b"\x05" + struct.pack("<H", len(body)) + body


WSD_PROBE = (b"<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\">"
             b"<soap:Body><Probe/></soap:Body></soap:Envelope>")
WSD_MATCH = (b"<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\">"
             b"<soap:Body><ProbeMatches/></soap:Body></soap:Envelope>")


def dgram(scn, t, src, sport, dst, dport, payload, ttl=64, ident=1):
    return scn.add(t, P.ip(src, dst, P.udp(sport, dport, payload), ttl=ttl, ident=ident))


def seg(scn, t, src, sport, dst, dport, flags, seq, ack, win=64240, ttl=64, ident=1, payload=b""):
    return scn.add(t, P.ip(src, dst, P.tcp(sport, dport, flags, seq, ack, payload, win=win),
                           ttl=ttl, ident=ident))


# ---------------------------------------------------------------------------
# scenarios

def s_replies():
    """Unicast replies to broadcast/multicast queries, with and without the query
    in the capture, are not attempts; real unicast queries still are."""
    s = Scn("outcomes-replies")
    # NBNS: a broadcast name query from C:137, S1 answers 137 -> 137
    dgram(s, 0.00, C, 137, BCAST, 137, nbns_query(0x1001, "FILESRV"))
    dgram(s, 0.01, S1, 137, C, 137, nbns_response(0x1001, "FILESRV", S1))
    # ... and an NBNS response from S2 whose query is not in the capture
    dgram(s, 0.02, S2, 137, C, 137, nbns_response(0x1002, "PRINTSRV", S2))
    # LLMNR: multicast query from an ephemeral port, unicast answer; one without query
    dgram(s, 0.10, C, 61000, LLMNR_V4, 5355, dns_query(0x2001, "wpad"))
    dgram(s, 0.11, S1, 5355, C, 61000, dns_answer(0x2001, "wpad", S1))
    dgram(s, 0.12, S2, 5355, C, 61001, dns_answer(0x2002, "printsrv", S2))
    # mDNS: multicast query 5353 -> 5353, unicast answer; one without query
    dgram(s, 0.20, C, 5353, MDNS_V4, 5353, dns_query(0, "filesrv.local"))
    dgram(s, 0.21, S1, 5353, C, 5353, mdns_answer("filesrv.local", S1))
    dgram(s, 0.22, S2, 5353, C, 5353, mdns_answer("printsrv.local", S2))
    # SSDP: M-SEARCH to the group, "HTTP/1.1 200 OK" from 1900 to the searcher's port
    dgram(s, 0.30, C, 50000, SSDP_V4, 1900, SSDP_SEARCH)
    dgram(s, 0.31, S1, 1900, C, 50000, ssdp_ok(b"http://198.18.0.21:49152/desc.xml"))
    dgram(s, 0.32, S2, 1900, C, 50001, ssdp_ok(b"http://198.18.0.22:49152/desc.xml"))
    # SQL Browser: CLNT_BCAST_EX to the broadcast address, SVR_RESP back; one without query
    dgram(s, 0.40, C, 50100, BCAST, 1434, SSRP_BCAST)
    dgram(s, 0.41, S1, 1434, C, 50100, ssrp_svr_resp("SQL1", "MSSQLSERVER", 1433))
    dgram(s, 0.42, S2, 1434, C, 50101, ssrp_svr_resp("SQL2", "MSSQLSERVER", 1433))
    # WS-Discovery: no marker portwitness reads; the answer goes to a port that
    # sent a multicast query, so it is not an attempt either
    dgram(s, 0.50, C, 3702, SSDP_V4, 3702, WSD_PROBE)
    dgram(s, 0.51, S1, 3702, C, 3702, WSD_MATCH)
    # real unicast queries: NBNS node status to S1 (answered) and to S3 (never)
    q1 = dgram(s, 1.00, C, 137, S1, 137, nbns_nbstat_query(0x3001))
    r1 = dgram(s, 1.01, S1, 137, C, 137, nbns_nbstat_response(0x3001, "FILESRV", b"\x00\x15\x5d\x01\x02\x03"))
    s.expect("udp", C, 137, S1, 137, "answered", "udp-reply", [q1, r1])
    q2 = dgram(s, 1.10, C, 137, S3, 137, nbns_nbstat_query(0x3002))
    s.expect("udp", C, 137, S3, 137, "unanswered", "timeout", [q2])
    # a unicast DNS query answered
    u = Udp(s, C, 53100, D2, 53)
    q3 = u.req(1.20, DNS_QUERY)
    r3 = u.reply(1.21, DNS_REPLY)
    s.expect("udp", C, 53100, D2, 53, "answered", "udp-reply", [q3, r3])
    # traffic toward C until past every timeout (the capture is two-sided)
    t = Tcp(s, C, 52000, S1, 445, isn_c=7000, isn_s=9000)
    f1, f2 = t.handshake(2.0)
    s.expect("tcp", C, 52000, S1, 445, "answered", "syn-ack", [f1, f2])
    for k in range(8):
        t.data_s(3.0 + k, 100)
    return s


def _retransmit_client_side(s):
    """The client's packets of the retransmission scenario; returns the tokens."""
    tok = {}
    tok["syn"] = [seg(s, t, C, 52001, S1, 135, P.TH_SYN, 11000, 0) for t in (1.0, 2.0, 4.0)]
    tok["single"] = seg(s, 5.0, C, 52002, S1, 3389, P.TH_SYN, 12000, 0)
    # a resolver retrying from new source ports
    tok["dns"] = [dgram(s, 2.0 + k, C, 53001 + k, D, 53, dns_query(0x4000 + k, "dc01.corp.example"))
                  for k in range(3)]
    # an SQL client asking the SQL Browser twice, from two ports
    tok["ssrp"] = [dgram(s, 3.5 + k, C, 50200 + k, S1, 1434, SSRP_INST) for k in range(2)]
    # two queries 20 ms apart (A then AAAA): not a retry
    tok["pair"] = [dgram(s, 5.2 + 0.02 * k, C, 53020 + k, D3, 53, dns_query(0x4100 + k, "fs.corp.example"))
                   for k in range(2)]
    return tok


def s_retransmit():
    """The capture ends less than --timeout after retransmissions nobody answered,
    while the same server answers another port: unanswered/retransmitted."""
    s = Scn("outcomes-retransmit")
    a = Tcp(s, C, 52010, S1, 445, isn_c=10000, isn_s=20000)
    f1, f2 = a.handshake(0.0)
    s.expect("tcp", C, 52010, S1, 445, "answered", "syn-ack", [f1, f2])
    tok = _retransmit_client_side(s)
    # a resolver that answers the first query; the next one, from a new port, is alone
    u = Udp(s, C, 53010, D2, 53)
    q1 = u.req(1.0, DNS_QUERY)
    r1 = u.reply(1.01, DNS_REPLY)
    s.expect("udp", C, 53010, D2, 53, "answered", "udp-reply", [q1, r1])
    q2 = dgram(s, 4.0, C, 53011, D2, 53, DNS_QUERY)
    s.expect("udp", C, 53011, D2, 53, "indeterminate", "capture-ended", [q2])
    for k in range(6):
        a.data_s(1.5 + k, 100)         # S1 keeps talking to C: two-sided, last at 6.5 s
    s.expect("tcp", C, 52001, S1, 135, "unanswered", "retransmitted", [tok["syn"][0]], retries=2)
    s.expect("tcp", C, 52002, S1, 3389, "indeterminate", "capture-ended", [tok["single"]])
    for k, f in enumerate(tok["dns"]):
        e = s.expect("udp", C, 53001 + k, D, 53, "unanswered", "retransmitted", [f])
        e["retry_of"] = tok["dns"][k - 1] if k else None
    for k, f in enumerate(tok["ssrp"]):
        e = s.expect("udp", C, 50200 + k, S1, 1434, "unanswered", "retransmitted", [f])
        e["retry_of"] = tok["ssrp"][0] if k else None
    for k, f in enumerate(tok["pair"]):
        s.expect("udp", C, 53020 + k, D3, 53, "indeterminate", "capture-ended", [f])
    return s


def s_retransmit_one_sided():
    """The same client packets on a one-way span: nothing toward the client, so
    every pending one stays indeterminate/capture-ended."""
    s = Scn("outcomes-retransmit-one-sided")
    tok = _retransmit_client_side(s)
    s.expect("tcp", C, 52001, S1, 135, "indeterminate", "capture-ended", [tok["syn"][0]], retries=2)
    s.expect("tcp", C, 52002, S1, 3389, "indeterminate", "capture-ended", [tok["single"]])
    for k, f in enumerate(tok["dns"]):
        e = s.expect("udp", C, 53001 + k, D, 53, "indeterminate", "capture-ended", [f])
        e["retry_of"] = tok["dns"][k - 1] if k else None
    for k, f in enumerate(tok["ssrp"]):
        e = s.expect("udp", C, 50200 + k, S1, 1434, "indeterminate", "capture-ended", [f])
        e["retry_of"] = tok["ssrp"][0] if k else None
    for k, f in enumerate(tok["pair"]):
        s.expect("udp", C, 53020 + k, D3, 53, "indeterminate", "capture-ended", [f])
    return s


def s_responder():
    """RSTs and ICMP errors with the host's own TTL and with another one; an ICMP
    error from a router; a host with no packet of its own in the capture."""
    s = Scn("outcomes-responder")
    HOST_TTL = 63                      # S1 is one routed hop away: 64 - 1
    # S1 answers 445: its own packets arrive with TTL 63, IP IDs counting up
    syn = seg(s, 0.000, C, 52100, S1, 445, P.TH_SYN, 30000, 0)
    sa = seg(s, 0.001, S1, 445, C, 52100, P.TH_SYN | P.TH_ACK, 40000, 30001, ttl=HOST_TTL, ident=0x1200)
    seg(s, 0.002, C, 52100, S1, 445, P.TH_ACK, 30001, 40001)
    s.expect("tcp", C, 52100, S1, 445, "answered", "syn-ack", [syn, sa])
    seg(s, 0.010, S1, 445, C, 52100, P.TH_PSH | P.TH_ACK, 40001, 30001, ttl=HOST_TTL, ident=0x1201,
        payload=bytes(64))
    # 81: a RST with TTL 64 (a firewall on the client's side of the router), IP ID 0, window 0
    a1 = seg(s, 0.100, C, 52101, S1, 81, P.TH_SYN, 31000, 0)
    b1 = seg(s, 0.101, S1, 81, C, 52101, P.TH_RST | P.TH_ACK, 0, 31001, win=0, ttl=64, ident=0)
    e = s.expect("tcp", C, 52101, S1, 81, "refused", "rst", [a1, b1])
    e["responder"] = "path"
    e["evidence"] = {"ttl": 64, "ip_id": 0, "win": 0, "host_ttl": HOST_TTL, "host_ttl_max": HOST_TTL,
                     "host_packets": 3, "host_ip_id": 0x1203}
    # 82: a RST with the host's own TTL and the next IP ID of its counter: the host
    a2 = seg(s, 0.200, C, 52102, S1, 82, P.TH_SYN, 32000, 0)
    b2 = seg(s, 0.201, S1, 82, C, 52102, P.TH_RST | P.TH_ACK, 0, 32001, win=0, ttl=HOST_TTL, ident=0x1202)
    e = s.expect("tcp", C, 52102, S1, 82, "refused", "rst", [a2, b2])
    e["responder"] = "host"
    e["evidence"] = {"ttl": HOST_TTL, "ip_id": 0x1202, "win": 0, "host_ttl": HOST_TTL,
                     "host_ttl_max": HOST_TTL, "host_packets": 3, "host_ip_id": 0x1203}
    # 161/udp: ICMP port unreachable from S1 itself, with its TTL
    req = P.ip(C, S1, P.udp(52103, 161, b"\x30\x00"))
    a3 = s.add(0.300, req)
    b3 = s.add(0.301, P.ip(S1, C, P.icmp(3, 3, req[:28]), ttl=HOST_TTL, ident=0x1204))
    e = s.expect("udp", C, 52103, S1, 161, "refused", "icmp-port-unreachable", [a3, b3], icmp_from=S1)
    e["responder"] = "host"
    e["evidence"] = {"ttl": HOST_TTL, "ip_id": 0x1204, "host_ttl": HOST_TTL, "host_ttl_max": HOST_TTL,
                     "host_packets": 3, "host_ip_id": 0x1203}
    # 162/udp: administratively prohibited from the router R
    req = P.ip(C, S1, P.udp(52104, 162, b"\x30\x00"))
    a4 = s.add(0.400, req)
    b4 = s.add(0.401, P.ip(R, C, P.icmp(3, 13, req[:28]), ttl=255, ident=0x0001))
    e = s.expect("udp", C, 52104, S1, 162, "blocked", "icmp-admin-prohibited", [a4, b4], icmp_from=R)
    e["responder"] = "path"
    e["evidence"] = {"ttl": 255, "ip_id": 1, "host_ttl": HOST_TTL, "host_ttl_max": HOST_TTL,
                     "host_packets": 3, "host_ip_id": 0x1203}
    # 8443/tcp: admin-prohibited in S1's name, but with TTL 255: a device in the path
    req = P.ip(C, S1, P.tcp(52105, 8443, P.TH_SYN, 33000, 0))
    a5 = s.add(0.500, req)
    b5 = s.add(0.501, P.ip(S1, C, P.icmp(3, 13, req[:28]), ttl=255, ident=0))
    e = s.expect("tcp", C, 52105, S1, 8443, "blocked", "icmp-admin-prohibited", [a5, b5], icmp_from=S1)
    e["responder"] = "path"
    e["evidence"] = {"ttl": 255, "ip_id": 0, "host_ttl": HOST_TTL, "host_ttl_max": HOST_TTL,
                     "host_packets": 3, "host_ip_id": 0x1203}
    # S1's last own packet: a FIN on 445 (IP ID 0x1203)
    fin = seg(s, 0.600, S1, 445, C, 52100, P.TH_FIN | P.TH_ACK, 40065, 30001, ttl=HOST_TTL, ident=0x1203)
    # S4 never sends a packet of its own: a RST in its name cannot be placed
    a6 = seg(s, 0.700, C, 52106, S4, 22, P.TH_SYN, 34000, 0)
    b6 = seg(s, 0.701, S4, 22, C, 52106, P.TH_RST | P.TH_ACK, 0, 34001, win=0, ttl=64, ident=0)
    e = s.expect("tcp", C, 52106, S4, 22, "refused", "rst", [a6, b6])
    e["responder"] = "unknown"
    e["evidence"] = {"ttl": 64, "ip_id": 0, "win": 0, "host_packets": 0}
    for a in s.attempts:
        if a.get("evidence", {}).get("host_packets"):
            a["evidence"]["host_frame"] = fin
    return s


def _resolve(exp, s):
    """Frame tokens in retry_of and evidence.host_frame -> frame numbers."""
    for a in exp["attempts"]:
        if a.get("retry_of") is not None:
            a["retry_of"] = s.frame(a["retry_of"])
        if "host_frame" in a.get("evidence", {}):
            a["evidence"] = dict(a["evidence"], host_frame=s.frame(a["evidence"]["host_frame"]))
    return exp


def _captured(fn):
    def build():
        s = fn()
        return (s.cap, "pcap"), _resolve(s.result("pcap"), s)
    return build


_BUILDERS = [
    ("outcomes-replies", _captured(s_replies)),
    ("outcomes-retransmit", _captured(s_retransmit)),
    ("outcomes-retransmit-one-sided", _captured(s_retransmit_one_sided)),
    ("outcomes-responder", _captured(s_responder)),
]

_CACHE = {}


def _get(name, build):
    if name not in _CACHE:
        _CACHE[name] = build()
    return _CACHE[name]


SCENARIOS = [(name, (lambda n, b: lambda: _get(n, b)[0])(name, build)) for name, build in _BUILDERS]
EXPECTED = {name: _get(name, build)[1] for name, build in _BUILDERS}
