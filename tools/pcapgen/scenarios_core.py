"""Core scenarios: attempt outcomes, link layers, IPv6, fragments and broken input.

Every capture here is small and deterministic (timestamps start at T0).  Beside
the traffic, each scenario records what portwitness must report for it in
EXPECTED[name] (imported by tests/scenarios/test_core.py), so an expectation is
written next to the packets that produce it:

  EXPECTED[name] = {
    "file": "core-....pcap",
    "exit": 0 or 1,
    "attempts": [ {proto, client, client_port, server, port, outcome, reason,
                   retries, frames, icmp_from, ts, rtt_ms}, ... ]   # the complete set
    "packets": records in the file (for readable files),
    "linktype": libpcap DLT name,
    "first_ts"/"last_ts": seconds,
    "min_errors": {decode error class: minimum count},
    "error_offsets": [byte offsets an error message may name],   # broken files
    "options": {...}  # scenario-specific extra runs (see test_core.py)
  }

Addresses are from the benchmark (198.18.0.0/15) and documentation
(192.0.2.0/24, 2001:db8::/32) ranges.
"""
import struct

import pcapgen as P

T0 = 1700000000.0

C = "198.18.0.10"       # the client most scenarios look from
C2 = "198.18.0.11"      # a second client
S1 = "198.18.0.21"      # a Windows-ish server
R = "198.18.0.1"        # the client's router
R2 = "192.0.2.1"        # a router further out
C6 = "2001:db8::10"
S6 = "2001:db8::21"
R6 = "2001:db8::1"


# ---------------------------------------------------------------------------
# builders

class Scn:
    """One capture plus the attempts it must produce.

    Frames may be added in any order: add() returns a token, and finish() sorts the
    frames by time (stable) and turns tokens into 1-based frame numbers."""

    def __init__(self, name, linktype=P.DLT_EN10MB, link=None, snaplen=262144,
                 linkname="EN10MB"):
        self.name = name
        self.cap = P.Capture(linktype, snaplen)
        self.link = link or (lambda pkt: P.ether(pkt))
        self.linkname = linkname
        self.attempts = []
        self.min_errors = {}
        self.extra = {}
        self.items = None
        self.fnum = None
        self.post = None

    def add(self, t, packet, link=None):
        """Add an IP packet at T0+t through the scenario's link layer; returns a frame token."""
        assert self.fnum is None
        return self.cap.add(T0 + t, (link or self.link)(packet)) - 1

    def raw(self, t, frame, orig_len=None):
        assert self.fnum is None
        return self.cap.add(T0 + t, frame, orig_len) - 1

    def tts(self, tok):
        return (self.items or self.cap.frames)[tok][0] / 1e6

    def finish(self):
        if self.fnum is None:
            self.items = list(self.cap.frames)
            order = sorted(range(len(self.items)), key=lambda i: (self.items[i][0], i))
            self.cap.frames = [self.items[i] for i in order]
            self.fnum = {tok: pos + 1 for pos, tok in enumerate(order)}
        return self

    def frame(self, tok):
        self.finish()
        return self.fnum[tok]

    def expect(self, proto, client, cport, server, port, outcome, reason, frames,
               retries=0, icmp_from=None, last_request=None, rtt=True):
        """frames = [request] or [request, reply-or-error] (tokens); last_request = token of
        the last retransmission (rtt is measured from it); rtt=False leaves rtt_ms unchecked."""
        a = {"proto": proto, "client": client, "client_port": cport, "server": server,
             "port": port, "outcome": outcome, "reason": reason, "retries": retries,
             "frames": list(frames), "icmp_from": icmp_from, "ts": self.tts(frames[0])}
        if outcome == "answered" and rtt and len(frames) == 2:
            lr = frames[0] if last_request is None else last_request
            a["rtt_ms"] = round((self.tts(frames[1]) - self.tts(lr)) * 1000.0, 6)
        elif outcome != "answered":
            a["rtt_ms"] = None
        self.attempts.append(a)
        return a

    def result(self, fmt="pcap"):
        self.finish()
        frames = self.cap.frames
        atts = []
        for a in self.attempts:
            a = dict(a)
            a["frames"] = [self.fnum[t] for t in a["frames"]]
            atts.append(a)
        atts.sort(key=lambda a: a["frames"][0])
        exp = {
            "file": "%s.%s" % (self.name, fmt),
            "exit": 0,
            "attempts": atts,
            "packets": len(frames),
            "linktype": self.linkname,
            "first_ts": frames[0][0] / 1e6 if frames else None,
            "last_ts": frames[-1][0] / 1e6 if frames else None,
            "min_errors": self.min_errors,
        }
        exp.update(self.extra)
        if self.post:
            self.post(exp)
        return exp


class Tcp:
    """A TCP conversation; methods add frames and return their frame numbers."""

    def __init__(self, scn, client, cport, server, sport, isn_c=1000, isn_s=5000,
                 link=None, syn_options=P.SYN_OPTIONS, bad_c=False, bad_s=False):
        self.scn, self.link = scn, link
        self.c, self.cp, self.s, self.sp = client, cport, server, sport
        self.isn_c, self.isn_s = isn_c, isn_s
        self.cseq, self.sseq = isn_c + 1, isn_s + 1
        self.opts = syn_options
        self.bad_c, self.bad_s = bad_c, bad_s

    def _c(self, flags, seq, ack, payload=b"", options=b""):
        return P.ip(self.c, self.s, P.tcp(self.cp, self.sp, flags, seq, ack, payload,
                                          options=options), bad_checksum=self.bad_c)

    def _s(self, flags, seq, ack, payload=b"", options=b""):
        return P.ip(self.s, self.c, P.tcp(self.sp, self.cp, flags, seq, ack, payload,
                                          options=options), bad_checksum=self.bad_s)

    def syn_packet(self):
        return self._c(P.TH_SYN, self.isn_c, 0, options=self.opts)

    def syn(self, t):
        return self.scn.add(t, self.syn_packet(), self.link)

    def syn_ack(self, t):
        return self.scn.add(t, self._s(P.TH_SYN | P.TH_ACK, self.isn_s, self.isn_c + 1,
                                       options=b"\x02\x04\x05\xb4\x01\x01\x04\x02"), self.link)

    def ack(self, t):
        return self.scn.add(t, self._c(P.TH_ACK, self.cseq, self.sseq), self.link)

    def handshake(self, t, rtt=0.00041):
        a = self.syn(t)
        b = self.syn_ack(t + rtt)
        self.ack(t + rtt + 0.00005)
        return a, b

    def rst(self, t):
        return self.scn.add(t, self._s(P.TH_RST | P.TH_ACK, 0, self.isn_c + 1), self.link)

    def data_c(self, t, n):
        f = self.scn.add(t, self._c(P.TH_PSH | P.TH_ACK, self.cseq, self.sseq, bytes(n)), self.link)
        self.cseq += n
        return f

    def data_s(self, t, n):
        f = self.scn.add(t, self._s(P.TH_PSH | P.TH_ACK, self.sseq, self.cseq, bytes(n)), self.link)
        self.sseq += n
        return f


_QNAME = b"\x07example\x03com\x00"
DNS_QUERY = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + _QNAME + b"\x00\x01\x00\x01"
DNS_REPLY = (struct.pack("!HHHHHH", 0x1234, 0x8180, 1, 1, 0, 0) + _QNAME + b"\x00\x01\x00\x01"
             + b"\xc0\x0c\x00\x01\x00\x01" + struct.pack("!IH", 300, 4) + bytes([192, 0, 2, 80]))


class Udp:
    def __init__(self, scn, client, cport, server, sport, link=None, bad_c=False):
        self.scn, self.link = scn, link
        self.c, self.cp, self.s, self.sp = client, cport, server, sport
        self.bad_c = bad_c

    def req_packet(self, payload):
        return P.ip(self.c, self.s, P.udp(self.cp, self.sp, payload), bad_checksum=self.bad_c)

    def req(self, t, payload=DNS_QUERY):
        return self.scn.add(t, self.req_packet(payload), self.link)

    def reply(self, t, payload=DNS_REPLY):
        return self.scn.add(t, P.ip(self.s, self.c, P.udp(self.sp, self.cp, payload)), self.link)


def icmp_err(scn, t, sender, to, code, quoted, link=None, type_=3):
    """ICMPv4 destination unreachable (type 3) from sender to `to` quoting `quoted`."""
    return scn.add(t, P.ip(sender, to, P.icmp(type_, code, quoted)), link)


def icmp6_err(scn, t, sender, to, code, quoted, link=None, type_=1):
    return scn.add(t, P.ip(sender, to, P.icmp6(type_, code, quoted)), link)


# ---------------------------------------------------------------------------
# scenarios

def s_tcp_outcomes():
    """Every TCP outcome from one client on Ethernet."""
    s = Scn("core-tcp-outcomes")
    # A: answered, then a data exchange that keeps traffic flowing toward the client
    a = Tcp(s, C, 50001, S1, 135, isn_c=100000, isn_s=900000)
    f1, f2 = a.handshake(0.0)
    s.expect("tcp", C, 50001, S1, 135, "answered", "syn-ack", [f1, f2])
    a.data_c(0.01, 72)
    a.data_s(0.0104, 60)
    # second client to the same service
    a2 = Tcp(s, C2, 50501, S1, 135, isn_c=700000, isn_s=710000)
    f1, f2 = a2.handshake(0.05, rtt=0.0003)
    s.expect("tcp", C2, 50501, S1, 135, "answered", "syn-ack", [f1, f2])
    # B: refused by RST
    b = Tcp(s, C, 50002, S1, 445, isn_c=200000)
    f1 = b.syn(0.1)
    f2 = b.rst(0.1003)
    s.expect("tcp", C, 50002, S1, 445, "refused", "rst", [f1, f2])
    # C: refused by ICMP port unreachable from the server itself (whole packet quoted)
    c = Tcp(s, C, 50003, "198.18.0.22", 3389, isn_c=300000)
    f1 = c.syn(0.2)
    f2 = icmp_err(s, 0.2004, "198.18.0.22", C, 3, c.syn_packet())
    s.expect("tcp", C, 50003, "198.18.0.22", 3389, "refused", "icmp-port-unreachable", [f1, f2],
             icmp_from="198.18.0.22")
    # D: blocked, admin prohibited from the router (IP header + 8 bytes quoted)
    d = Tcp(s, C, 50004, "198.18.0.23", 139, isn_c=400000)
    f1 = d.syn(0.3)
    f2 = icmp_err(s, 0.3002, R, C, 13, P.icmp_quote(d.syn_packet()))
    s.expect("tcp", C, 50004, "198.18.0.23", 139, "blocked", "icmp-admin-prohibited", [f1, f2],
             icmp_from=R)
    # E: host unreachable from the router after one retransmission (ARP gave up)
    e = Tcp(s, C, 50005, "198.18.0.24", 80, isn_c=500000)
    f1 = e.syn(0.4)
    e.syn(1.4)
    f2 = icmp_err(s, 3.4, R, C, 1, P.icmp_quote(e.syn_packet()))
    # F: net unreachable from a router further out
    f = Tcp(s, C, 50006, "192.0.2.50", 443, isn_c=600000)
    g1 = f.syn(0.5)
    g2 = icmp_err(s, 0.502, R2, C, 0, P.icmp_quote(f.syn_packet()))
    s.expect("tcp", C, 50006, "192.0.2.50", 443, "blocked", "icmp-net-unreachable", [g1, g2],
             icmp_from=R2)
    # G: dropped silently, three retransmissions of the same SYN; traffic toward the
    # client keeps flowing (A's server data below), so this is a real "unanswered"
    g = Tcp(s, C, 50007, "198.18.0.25", 5985, isn_c=700700)
    h1 = g.syn(0.6)
    g.syn(1.6)
    g.syn(3.6)
    g.syn(7.6)
    s.expect("tcp", C, 50007, "198.18.0.25", 5985, "unanswered", "timeout", [h1], retries=3)
    # H: port unreachable, but sent by the router (a third address): blocked
    h = Tcp(s, C, 50008, "198.18.0.26", 8080, isn_c=800800)
    i1 = h.syn(0.7)
    i2 = icmp_err(s, 0.7003, R, C, 3, P.icmp_quote(h.syn_packet()))
    s.expect("tcp", C, 50008, "198.18.0.26", 8080, "blocked", "icmp-port-unreachable", [i1, i2],
             icmp_from=R)
    # I: SYN-ACK lost by the capture, but the client ACKs the server: answered/inferred
    i = Tcp(s, C, 50009, S1, 5357, isn_c=900900, isn_s=123456)
    j1 = i.syn(0.8)
    j2 = i.ack(0.8006)
    i.data_c(0.801, 100)
    s.expect("tcp", C, 50009, S1, 5357, "answered", "inferred", [j1, j2], rtt=False)
    # J: a connection first seen mid-stream (no handshake in the capture) whose server
    # side sends payload, its client side seen too: answered/midstream, from the first
    # frame seen to the server's first payload (445 is the registered, server port)
    j = Tcp(s, C, 50010, S1, 445, isn_c=1010101, isn_s=2020202)
    jf1 = j.data_c(0.9, 120)
    jf2 = j.data_s(0.9003, 80)
    s.expect("tcp", C, 50010, S1, 445, "answered", "midstream", [jf1, jf2])
    # a stray RST toward the client is not an attempt either
    s.add(0.95, P.ip(S1, C, P.tcp(3389, 50099, P.TH_RST, 77, 0)))
    # K: answered after one retransmission (rtt from the retransmission)
    k = Tcp(s, C, 50011, S1, 139, isn_c=1111111, isn_s=2222222)
    k1 = k.syn(1.0)
    k2 = k.syn(2.0)
    k3 = k.syn_ack(2.0004)
    k.ack(2.00045)
    s.expect("tcp", C, 50011, S1, 139, "answered", "syn-ack", [k1, k3], retries=1, last_request=k2)
    # A's server keeps talking to the client while G retransmits
    a.data_s(1.05, 200)
    a.data_s(2.5, 200)
    # E's ICMP arrives at 3.4: add it in time order
    s.expect("tcp", C, 50005, "198.18.0.24", 80, "blocked", "icmp-host-unreachable", [f1, f2],
             retries=1, icmp_from=R)
    a.data_s(5.0, 200)
    a.data_s(8.0, 200)
    a.data_c(8.001, 10)
    # B': the same client port reused later with a new ISN is a new attempt
    b2 = Tcp(s, C, 50002, S1, 445, isn_c=3300000)
    m1 = b2.syn(12.0)
    m2 = b2.rst(12.0002)
    s.expect("tcp", C, 50002, S1, 445, "refused", "rst", [m1, m2])
    # N: a final answered attempt so the capture runs past G's timeout (7.6 + 10 s)
    n = Tcp(s, C, 50012, S1, 135, isn_c=4400000, isn_s=4500000)
    n1, n2 = n.handshake(20.0, rtt=0.0005)
    s.expect("tcp", C, 50012, S1, 135, "answered", "syn-ack", [n1, n2])
    return s


def s_udp():
    s = Scn("core-udp")
    # U1 answered
    u1 = Udp(s, C, 53001, "198.18.0.53", 53)
    f1 = u1.req(0.0)
    f2 = u1.reply(0.0012)
    s.expect("udp", C, 53001, "198.18.0.53", 53, "answered", "udp-reply", [f1, f2])
    # U2 unanswered (capture continues past 5 s; other replies reach the client)
    u2 = Udp(s, C, 53002, "198.18.0.54", 161)
    g1 = u2.req(0.1, b"\x30\x26\x02\x01\x01\x04\x06public")
    s.expect("udp", C, 53002, "198.18.0.54", 161, "unanswered", "timeout", [g1])
    # U3 refused: port unreachable from the server
    u3 = Udp(s, C, 53003, "198.18.0.55", 137)
    q = u3.req_packet(b"\x80\x94\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00")
    h1 = s.add(0.2, q)
    h2 = icmp_err(s, 0.2003, "198.18.0.55", C, 3, q)
    s.expect("udp", C, 53003, "198.18.0.55", 137, "refused", "icmp-port-unreachable", [h1, h2],
             icmp_from="198.18.0.55")
    # U4 blocked: admin prohibited from a router further out
    u4 = Udp(s, C, 53004, "192.0.2.60", 514)
    q = u4.req_packet(b"<13>hello")
    i1 = s.add(0.3, q)
    i2 = icmp_err(s, 0.3015, R2, C, 13, P.icmp_quote(q))
    s.expect("udp", C, 53004, "192.0.2.60", 514, "blocked", "icmp-admin-prohibited", [i1, i2],
             icmp_from=R2)
    # U5 the same datagram sent twice, answered after the repeat
    u5 = Udp(s, C, 53005, "198.18.0.53", 53)
    j1 = u5.req(0.4)
    # broadcast and multicast datagrams are not attempts
    s.add(0.5, P.ip(C, "255.255.255.255", P.udp(137, 137, bytes(50))),
          lambda p: P.ether(p, dst_mac=b"\xff" * 6))
    s.add(0.6, P.ip(C, "224.0.0.251", P.udp(5353, 5353, bytes(40))),
          lambda p: P.ether(p, dst_mac=bytes.fromhex("01005e0000fb")))
    # more answered queries: traffic toward the client while U2 waits
    for k, t in enumerate((1.0, 2.0, 4.0)):
        u = Udp(s, C, 53010 + k, "198.18.0.53", 53)
        a1 = u.req(t)
        a2 = u.reply(t + 0.001)
        s.expect("udp", C, 53010 + k, "198.18.0.53", 53, "answered", "udp-reply", [a1, a2])
    j2 = u5.req(1.4)
    j3 = u5.reply(1.4011)
    s.expect("udp", C, 53005, "198.18.0.53", 53, "answered", "udp-reply", [j1, j3], retries=1,
             last_request=j2)
    # a final answered query after U2's timeout (0.1 + 5 s)
    u = Udp(s, C, 53020, "198.18.0.53", 53)
    a1 = u.req(8.0)
    a2 = u.reply(8.0009)
    s.expect("udp", C, 53020, "198.18.0.53", 53, "answered", "udp-reply", [a1, a2])
    return s


def s_one_sided():
    """Only client->server packets were captured (one-sided span)."""
    s = Scn("core-one-sided")
    o1 = Tcp(s, C, 51001, S1, 135, isn_c=10001)
    f1 = o1.syn(0.0)
    s.expect("tcp", C, 51001, S1, 135, "indeterminate", "one-sided", [f1], retries=2)
    # O2: SYN then the client's ACK of the (invisible) SYN-ACK: answered/inferred
    o2 = Tcp(s, C, 51002, S1, 445, isn_c=20002, isn_s=30003)
    g1 = o2.syn(0.5)
    g2 = o2.ack(0.5005)
    o2.data_c(0.501, 150)
    s.expect("tcp", C, 51002, S1, 445, "answered", "inferred", [g1, g2], rtt=False)
    u = Udp(s, C, 53101, "198.18.0.53", 53)
    h1 = u.req(0.6)
    s.expect("udp", C, 53101, "198.18.0.53", 53, "indeterminate", "one-sided", [h1])
    o1.syn(1.0)
    o4 = Tcp(s, C, 51003, "198.18.0.27", 22, isn_c=40004)
    i1 = o4.syn(2.0)
    s.expect("tcp", C, 51003, "198.18.0.27", 22, "indeterminate", "one-sided", [i1])
    o1.syn(3.0)
    for t in (5.0, 10.0, 15.0, 20.0):
        o2.data_c(t, 100)
    return s


def s_capture_ended():
    """The capture stops 2 s after a SYN: the timeout never ran out."""
    s = Scn("core-capture-ended")
    a = Tcp(s, C, 52001, S1, 445, isn_c=5001, isn_s=6001)
    f1, f2 = a.handshake(0.0)
    s.expect("tcp", C, 52001, S1, 445, "answered", "syn-ack", [f1, f2])
    d = Tcp(s, C, 52003, "198.18.0.28", 80, isn_c=5003)
    d1 = d.syn(0.1)
    a.data_s(1.0, 100)
    b = Tcp(s, C, 52002, S1, 3389, isn_c=5002)
    b1 = b.syn(2.0)
    a.data_s(2.5, 100)
    u = Udp(s, C, 53201, "198.18.0.53", 53)
    c1 = u.req(3.0)
    a.data_s(3.5, 100)
    a.data_s(4.0, 100)      # last packet: 2 s after b's SYN
    s.expect("tcp", C, 52003, "198.18.0.28", 80, "indeterminate", "capture-ended", [d1])
    s.expect("tcp", C, 52002, S1, 3389, "indeterminate", "capture-ended", [b1])
    s.expect("udp", C, 53201, "198.18.0.53", 53, "indeterminate", "capture-ended", [c1])
    # with --timeout 1 --udp-timeout 0.5 the same capture proves the timeouts are
    # configurable: the pending ones become unanswered/timeout
    def post(exp):
        short = []
        for att in exp["attempts"]:
            att = dict(att)
            if att["outcome"] == "indeterminate":
                att["outcome"], att["reason"] = "unanswered", "timeout"
            short.append(att)
        exp["options"] = {"short_timeouts": {"args": ["--timeout", "1", "--udp-timeout", "0.5"],
                                             "attempts": short}}
    s.post = post
    return s


def _link_basic(s, link_c=None, link_s=None, base_port=50100, v6=False):
    """Answered TCP, refused TCP and answered UDP through the scenario's link layer.
    link_c / link_s: link functions for client->server / server->client frames."""
    c, srv = (C6, S6) if v6 else (C, S1)
    a = Tcp(s, c, base_port + 1, srv, 135, isn_c=71000, isn_s=72000)
    f1 = a.scn.add(0.0, a.syn_packet(), link_c)
    f2 = s.add(0.0004, a._s(P.TH_SYN | P.TH_ACK, a.isn_s, a.isn_c + 1), link_s)
    s.add(0.00045, a._c(P.TH_ACK, a.cseq, a.sseq), link_c)
    s.expect("tcp", c, base_port + 1, srv, 135, "answered", "syn-ack", [f1, f2])
    b = Tcp(s, c, base_port + 2, srv, 445, isn_c=73000)
    g1 = s.add(0.1, b.syn_packet(), link_c)
    g2 = s.add(0.1002, b._s(P.TH_RST | P.TH_ACK, 0, b.isn_c + 1), link_s)
    s.expect("tcp", c, base_port + 2, srv, 445, "refused", "rst", [g1, g2])
    dns = "2001:db8::53" if v6 else "198.18.0.53"
    u = Udp(s, c, base_port + 3, dns, 53)
    h1 = s.add(0.2, u.req_packet(DNS_QUERY), link_c)
    h2 = s.add(0.2011, P.ip(dns, c, P.udp(53, base_port + 3, DNS_REPLY)), link_s)
    s.expect("udp", c, base_port + 3, dns, 53, "answered", "udp-reply", [h1, h2])


def s_vlan():
    tag = [(0x8100, 100)]
    s = Scn("core-vlan", link=lambda p: P.ether(p, vlans=tag))
    _link_basic(s)
    return s


def s_qinq():
    tags = [(0x88A8, 200), (0x8100, 300)]
    s = Scn("core-qinq", link=lambda p: P.ether(p, vlans=tags))
    _link_basic(s)
    d = Tcp(s, C, 50110, "198.18.0.23", 139, isn_c=74000)
    f1 = d.syn(0.3)
    f2 = icmp_err(s, 0.3002, R, C, 13, P.icmp_quote(d.syn_packet()))
    s.expect("tcp", C, 50110, "198.18.0.23", 139, "blocked", "icmp-admin-prohibited", [f1, f2],
             icmp_from=R)
    return s


def s_sll():
    s = Scn("core-sll", linktype=P.DLT_LINUX_SLL, linkname="LINUX_SLL")
    _link_basic(s, link_c=lambda p: P.sll(p, pkttype=4), link_s=lambda p: P.sll(p, pkttype=0))
    return s


def s_sll2():
    s = Scn("core-sll2", linktype=P.DLT_LINUX_SLL2, linkname="LINUX_SLL2")
    lc = lambda p: P.sll2(p, pkttype=4)
    ls = lambda p: P.sll2(p, pkttype=0)
    _link_basic(s, link_c=lc, link_s=ls)
    v = Tcp(s, C6, 50201, S6, 445, isn_c=75000, isn_s=76000)
    f1 = s.add(0.3, v.syn_packet(), lc)
    f2 = s.add(0.3003, v._s(P.TH_SYN | P.TH_ACK, v.isn_s, v.isn_c + 1), ls)
    s.expect("tcp", C6, 50201, S6, 445, "answered", "syn-ack", [f1, f2])
    return s


def s_raw():
    s = Scn("core-raw", linktype=P.DLT_RAW, link=lambda p: p, linkname="RAW")
    _link_basic(s)
    v = Tcp(s, C6, 50301, S6, 3389, isn_c=77000, isn_s=78000)
    f1, f2 = v.handshake(0.3)
    s.expect("tcp", C6, 50301, S6, 3389, "answered", "syn-ack", [f1, f2])
    d = Tcp(s, C, 50302, "198.18.0.23", 139, isn_c=79000)
    g1 = d.syn(0.4)
    g2 = icmp_err(s, 0.4002, R, C, 13, P.icmp_quote(d.syn_packet()))
    s.expect("tcp", C, 50302, "198.18.0.23", 139, "blocked", "icmp-admin-prohibited", [g1, g2],
             icmp_from=R)
    return s


def s_null():
    s = Scn("core-null", linktype=P.DLT_NULL, link=P.null_loop, linkname="NULL")
    _link_basic(s)
    # IPv6 with each BSD AF_INET6 value: 30 (macOS), 28 (FreeBSD), 24 (NetBSD/OpenBSD)
    for k, fam in enumerate((30, 28, 24)):
        lk = (lambda fam_: (lambda p: P.null_family(p, fam_)))(fam)
        v = Tcp(s, C6, 50401 + k, S6, 135, isn_c=80000 + k * 1000, isn_s=90000, link=lk)
        f1, f2 = v.handshake(0.3 + k * 0.1)
        s.expect("tcp", C6, 50401 + k, S6, 135, "answered", "syn-ack", [f1, f2])
    return s


def s_ipv6():
    s = Scn("core-ipv6")
    v1 = Tcp(s, C6, 50501, S6, 445, isn_c=1, isn_s=2)
    f1, f2 = v1.handshake(0.0)
    s.expect("tcp", C6, 50501, S6, 445, "answered", "syn-ack", [f1, f2])
    v2 = Tcp(s, C6, 50502, S6, 139, isn_c=3)
    g1 = v2.syn(0.1)
    g2 = v2.rst(0.1002)
    s.expect("tcp", C6, 50502, S6, 139, "refused", "rst", [g1, g2])
    u3 = Udp(s, C6, 50503, "2001:db8::53", 53)
    h1 = u3.req(0.2)
    h2 = u3.reply(0.201)
    s.expect("udp", C6, 50503, "2001:db8::53", 53, "answered", "udp-reply", [h1, h2])
    # admin prohibited (ICMPv6 1/1) from the router
    v4 = Tcp(s, C6, 50504, "2001:db8:1::80", 3389, isn_c=4)
    i1 = v4.syn(0.3)
    i2 = icmp6_err(s, 0.3003, R6, C6, 1, v4.syn_packet())
    s.expect("tcp", C6, 50504, "2001:db8:1::80", 3389, "blocked", "icmp-admin-prohibited",
             [i1, i2], icmp_from=R6)
    # port unreachable (1/4) from the server: refused
    u5 = Udp(s, C6, 50505, "2001:db8::54", 161)
    q = u5.req_packet(bytes(30))
    j1 = s.add(0.4, q)
    j2 = icmp6_err(s, 0.4002, "2001:db8::54", C6, 4, q)
    s.expect("udp", C6, 50505, "2001:db8::54", 161, "refused", "icmp-port-unreachable", [j1, j2],
             icmp_from="2001:db8::54")
    # address unreachable (1/3) from the router: blocked/host-unreachable
    v6 = Tcp(s, C6, 50506, "2001:db8::99", 80, isn_c=6)
    k1 = v6.syn(0.5)
    k2 = icmp6_err(s, 3.5, R6, C6, 3, v6.syn_packet())
    # no route (1/0) from the router: blocked/net-unreachable
    v11 = Tcp(s, C6, 50511, "2001:db8:dead::1", 443, isn_c=11)
    n1 = v11.syn(0.55)
    n2 = icmp6_err(s, 0.5504, R6, C6, 0, v11.syn_packet())
    s.expect("tcp", C6, 50511, "2001:db8:dead::1", 443, "blocked", "icmp-net-unreachable",
             [n1, n2], icmp_from=R6)
    # a SYN carrying hop-by-hop and destination-options extension headers: answered
    v7 = Tcp(s, C6, 50507, S6, 5985, isn_c=7, isn_s=8)
    pkt = P.ipv6_insert_ext(v7.syn_packet(), [(0, b"\x01\x04\0\0\0\0"), (60, b"\x01\x04\0\0\0\0")])
    l1 = s.add(0.6, pkt)
    l2 = v7.syn_ack(0.6004)
    s.expect("tcp", C6, 50507, S6, 5985, "answered", "syn-ack", [l1, l2])
    # multicast datagram and a neighbour solicitation: not attempts
    s.add(0.65, P.ip(C6, "ff02::fb", P.udp(5353, 5353, bytes(30))),
          lambda p: P.ether(p, dst_mac=bytes.fromhex("3333000000fb")))
    s.add(0.66, P.ip(C6, "ff02::1:ff00:21", P.icmp6(135, 0, P.ip_bytes(S6), rest=b"\0\0\0\0")),
          lambda p: P.ether(p, dst_mac=bytes.fromhex("3333ff000021")))
    # V10: unanswered with a retransmission; the server of V1 keeps talking to the client
    v10 = Tcp(s, C6, 50510, "2001:db8::77", 22, isn_c=10)
    m1 = v10.syn(0.7)
    v1.data_s(1.0, 100)
    v10.syn(1.7)
    v1.data_s(2.0, 100)
    v1.data_s(3.0, 100)
    s.expect("tcp", C6, 50506, "2001:db8::99", 80, "blocked", "icmp-host-unreachable", [k1, k2],
             icmp_from=R6)
    v1.data_s(6.0, 100)
    v1.data_s(9.0, 100)
    s.expect("tcp", C6, 50510, "2001:db8::77", 22, "unanswered", "timeout", [m1], retries=1)
    v12 = Tcp(s, C6, 50512, S6, 445, isn_c=12, isn_s=13)
    o1, o2 = v12.handshake(15.0)
    s.expect("tcp", C6, 50512, S6, 445, "answered", "syn-ack", [o1, o2])
    return s


def s_fragments():
    s = Scn("core-fragments")
    # F1: a 1400-byte UDP datagram in 3 fragments, sent out of order (3, 1, 2)
    u1 = Udp(s, C, 53301, "198.18.0.60", 5060)
    pkt = P.ip(C, "198.18.0.60", P.udp(53301, 5060, bytes(range(256)) * 5 + bytes(120)),
               ident=0x1234)
    fr = P.ipv4_fragments(pkt, 480)
    assert len(fr) == 3
    s.add(0.0, fr[2])
    s.add(0.0001, fr[0])
    f_last = s.add(0.0002, fr[1])    # completes the datagram (Wireshark shows UDP here)
    f_rep = u1.reply(0.01, bytes(60))
    s.expect("udp", C, 53301, "198.18.0.60", 5060, "answered", "udp-reply", [f_last, f_rep])
    # F2: fragments 1 and 3 only (the middle one lost): no datagram, no attempt
    pkt2 = P.ip(C, "198.18.0.61", P.udp(53302, 5060, bytes(1400)), ident=0x2345)
    fr2 = P.ipv4_fragments(pkt2, 480)
    s.add(0.1, fr2[0])
    s.add(0.1001, fr2[2])
    # F4: in order, answered
    u4 = Udp(s, C, 53304, "198.18.0.62", 4500)
    pkt4 = P.ip(C, "198.18.0.62", P.udp(53304, 4500, bytes(900)), ident=0x3456)
    fr4 = P.ipv4_fragments(pkt4, 304)
    g = None
    for k, part in enumerate(fr4):
        g = s.add(0.2 + k * 0.0001, part)
    g_rep = u4.reply(0.21, bytes(30))
    s.expect("udp", C, 53304, "198.18.0.62", 4500, "answered", "udp-reply", [g, g_rep])
    # and an ordinary TCP attempt afterwards still works
    t = Tcp(s, C, 50601, S1, 445, isn_c=1, isn_s=2)
    h1, h2 = t.handshake(0.3)
    s.expect("tcp", C, 50601, S1, 445, "answered", "syn-ack", [h1, h2])
    return s


def s_badcsum():
    """Checksum offload: wrong TCP/UDP checksums (and a zero IP header checksum)."""
    s = Scn("core-badcsum")
    a = Tcp(s, C, 50701, S1, 135, isn_c=11, isn_s=22, bad_c=True)
    f1, f2 = a.handshake(0.0)
    s.expect("tcp", C, 50701, S1, 135, "answered", "syn-ack", [f1, f2])
    b = Tcp(s, C, 50702, S1, 445, isn_c=33, isn_s=44, bad_c=True, bad_s=True)
    g1, g2 = b.handshake(0.1)
    s.expect("tcp", C, 50702, S1, 445, "answered", "syn-ack", [g1, g2])
    c = Tcp(s, C, 50703, S1, 3389, isn_c=55, bad_c=True, bad_s=True)
    h1 = c.syn(0.2)
    h2 = c.rst(0.2002)
    s.expect("tcp", C, 50703, S1, 3389, "refused", "rst", [h1, h2])
    u = Udp(s, C, 50704, "198.18.0.53", 53, bad_c=True)
    i1 = u.req(0.3)
    i2 = u.reply(0.301)
    s.expect("udp", C, 50704, "198.18.0.53", 53, "answered", "udp-reply", [i1, i2])
    d = Tcp(s, C, 50705, S1, 139, isn_c=66, isn_s=77, bad_c=True)
    j1 = s.add(0.4, P.ipv4_zero_header_checksum(d.syn_packet()))
    j2 = d.syn_ack(0.4003)
    s.expect("tcp", C, 50705, S1, 139, "answered", "syn-ack", [j1, j2])
    return s


def s_pcapng():
    s = Scn("core-pcapng")
    _link_basic(s, base_port=50800)
    d = Tcp(s, C, 50810, "198.18.0.23", 139, isn_c=74000)
    f1 = d.syn(0.3)
    f2 = icmp_err(s, 0.3002, R, C, 13, P.icmp_quote(d.syn_packet()))
    s.expect("tcp", C, 50810, "198.18.0.23", 139, "blocked", "icmp-admin-prohibited", [f1, f2],
             icmp_from=R)
    return s


def s_nsec_be(name):
    s = Scn(name)
    _link_basic(s, base_port=50900)
    return s


def s_badframes():
    """Zero-length, snaplen-cut, impossible-length and bad-version frames among good ones."""
    s = Scn("core-badframes")
    x1 = Tcp(s, C, 51101, S1, 135, isn_c=1, isn_s=2)
    f1, f2 = x1.handshake(0.0)                       # frames 1-3
    s.expect("tcp", C, 51101, S1, 135, "answered", "syn-ack", [f1, f2])
    s.raw(0.01, b"", orig_len=0)  # zero-length record
    x2 = Tcp(s, C, 51102, S1, 445, isn_c=3, isn_s=4)
    g1 = x2.syn(0.02)
    x3 = Tcp(s, C, 51103, S1, 3389, isn_c=5)
    full = P.ether(x3.syn_packet())
    s.raw(0.03, full[:30], orig_len=len(full))  # cut inside the IP header
    g2 = x2.syn_ack(0.0204)
    s.expect("tcp", C, 51102, S1, 445, "answered", "syn-ack", [g1, g2])
    x4 = Tcp(s, C, 51104, S1, 139, isn_c=7)
    bad = bytearray(x4.syn_packet())
    bad[2:4] = struct.pack("!H", 12)                  # IP total length < its own header
    bad[10:12] = b"\0\0"
    bad[10:12] = struct.pack("!H", P._csum(bytes(bad[:20])))
    s.add(0.04, bytes(bad))
    x5 = Tcp(s, C, 51105, S1, 80, isn_c=9)
    bad = bytearray(x5.syn_packet())
    bad[0] = 0x55  # IP version 5
    s.add(0.05, bytes(bad))
    # ARP request (not IP)
    arp = (b"\xff" * 6 + P.mac(1) + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1)
           + P.mac(1) + P.ip_bytes(C) + b"\0" * 6 + P.ip_bytes(S1))
    s.raw(0.06, arp)
    x6 = Tcp(s, C, 51106, S1, 5985, isn_c=11)
    h1 = x6.syn(0.07)
    h2 = x6.rst(0.0702)
    s.expect("tcp", C, 51106, S1, 5985, "refused", "rst", [h1, h2])
    s.min_errors = {"zero_length": 1, "truncated": 1, "bad_length": 1, "bad_header": 1}
    return s


def s_snaplen():
    """Captured with a 68-byte snaplen (tcpdump's old default): payloads and long SYN
    options are cut, the headers that decide outcomes are all there."""
    s = Scn("core-snaplen", snaplen=68)
    a = Tcp(s, C, 51201, S1, 445, isn_c=1, isn_s=2,
            syn_options=b"\x02\x04\x05\xb4\x01\x03\x03\x07")  # 8 bytes: SYN fits in 62
    f1, f2 = a.handshake(0.0)
    s.expect("tcp", C, 51201, S1, 445, "answered", "syn-ack", [f1, f2])
    a.data_c(0.01, 300)
    a.data_s(0.011, 900)
    # 20 bytes of SYN options: the SYN (74 bytes) is cut 6 bytes into its options
    b = Tcp(s, C, 51202, S1, 135, isn_c=3, isn_s=4)
    g1, g2 = b.handshake(0.1)
    s.expect("tcp", C, 51202, S1, 135, "answered", "syn-ack", [g1, g2])
    u = Udp(s, C, 51203, "198.18.0.53", 53)
    h1 = u.req(0.2, DNS_QUERY + bytes(30))
    h2 = u.reply(0.201, DNS_REPLY + bytes(150))
    s.expect("udp", C, 51203, "198.18.0.53", 53, "answered", "udp-reply", [h1, h2])
    # ICMP error quoting the whole offending packet; the quote is cut by the snaplen
    # after the quoted IP header + 8 bytes (14 + 20 + 8 + 20 + 6 = 68)
    d = Tcp(s, C, 51204, "198.18.0.23", 139, isn_c=5)
    i1 = d.syn(0.3)
    i2 = icmp_err(s, 0.3002, R, C, 13, d.syn_packet())
    s.expect("tcp", C, 51204, "198.18.0.23", 139, "blocked", "icmp-admin-prohibited", [i1, i2],
             icmp_from=R)
    return s


def s_truncated():
    """A capture cut in the middle of the 7th record (the SYN-ACK of the third attempt)."""
    s = Scn("core-truncated")
    a = Tcp(s, C, 51301, S1, 135, isn_c=1, isn_s=2)
    f1, f2 = a.handshake(0.0)                         # 1-3
    s.expect("tcp", C, 51301, S1, 135, "answered", "syn-ack", [f1, f2])
    b = Tcp(s, C, 51302, S1, 445, isn_c=3)
    g1 = b.syn(0.1)                                   # 4
    g2 = b.rst(0.1002)                                # 5
    s.expect("tcp", C, 51302, S1, 445, "refused", "rst", [g1, g2])
    c = Tcp(s, C, 51303, S1, 3389, isn_c=5, isn_s=6)
    h1 = c.syn(0.2)                                   # 6
    c.syn_ack(0.2004)                                 # 7 (cut)
    c.ack(0.2005)                                     # 8 (gone)
    s.expect("tcp", C, 51303, S1, 3389, "indeterminate", "capture-ended", [h1])
    s.finish()
    data = s.cap.pcap_bytes()
    offs = P.record_offsets(s.cap)
    cut = offs[6] + 16 + 20                           # record 7: header + 20 of its bytes
    exp = s.result()
    exp.update({"exit": 1, "packets": 6, "last_ts": s.tts(5), "truncated_bytes": cut,
                "error_offsets": [offs[6], offs[6] + 16, cut]})
    return data[:cut], exp


def s_truncated_header():
    """Cut inside a record header (7 of 16 bytes)."""
    s = Scn("core-truncated-header")
    a = Tcp(s, C, 51401, S1, 135, isn_c=1, isn_s=2)
    f1, f2 = a.handshake(0.0)
    s.expect("tcp", C, 51401, S1, 135, "answered", "syn-ack", [f1, f2])
    b = Tcp(s, C, 51402, S1, 445, isn_c=3)
    g1 = b.syn(0.1)
    g2 = b.rst(0.1002)
    s.expect("tcp", C, 51402, S1, 445, "refused", "rst", [g1, g2])
    s.finish()
    data = s.cap.pcap_bytes()
    data += struct.pack("<IIII", int(T0) + 1, 0, 60, 60)[:7]
    exp = s.result()
    exp.update({"exit": 1, "error_offsets": [len(data) - 7, len(data)]})
    return data, exp


def s_truncated_ng():
    """A pcapng file cut in the middle of its last Enhanced Packet Block."""
    s = Scn("core-truncated-ng")
    a = Tcp(s, C, 51501, S1, 135, isn_c=1, isn_s=2)
    f1, f2 = a.handshake(0.0)
    s.expect("tcp", C, 51501, S1, 135, "answered", "syn-ack", [f1, f2])
    b = Tcp(s, C, 51502, S1, 445, isn_c=3)
    g1 = b.syn(0.1)
    g2 = b.rst(0.1002)
    s.expect("tcp", C, 51502, S1, 445, "refused", "rst", [g1, g2])
    c = Tcp(s, C, 51503, S1, 139, isn_c=5, isn_s=6)
    c.syn(0.2)
    full = s.cap.pcapng_bytes()
    # blocks: SHB (28) + IDB (20) + EPBs; cut the last EPB after 40 bytes
    last_len = 12 + 20 + ((len(s.cap.frames[-1][1]) + 3) // 4) * 4
    start = len(full) - last_len
    s.cap.frames.pop()
    exp = s.result("pcapng")
    exp.update({"file": "core-truncated-ng.pcap", "exit": 1,
                "error_offsets": [start, start + 40]})
    return full[:start + 40], exp


def s_not_a_capture():
    data = (b"This is not a packet capture.\nportwitness must say so and exit 1.\n" * 4)
    return data, {"file": "core-not-a-capture.pcap", "exit": 1, "attempts": []}


def s_empty():
    return b"", {"file": "core-empty.pcap", "exit": 1, "attempts": []}


def s_header_only():
    s = Scn("core-header-only")
    return s.cap.pcap_bytes(), {"file": "core-header-only.pcap", "exit": 0, "attempts": [],
                                "packets": 0, "linktype": "EN10MB"}


def s_badlinktype():
    """LINKTYPE_USER0 (147): not a link type portwitness decodes."""
    s = Scn("core-badlinktype", linktype=147, link=lambda p: p, linkname="USER0")
    a = Tcp(s, C, 51601, S1, 135, isn_c=1, isn_s=2)
    a.handshake(0.0)
    exp = s.result()
    exp.update({"exit": None, "attempts": []})   # 0 with counted errors, or 1 with a message
    return s.cap.pcap_bytes(), exp


# ---------------------------------------------------------------------------
# registry

def _captured(fn, fmt="pcap"):
    def build():
        s = fn()
        return (s.cap, fmt), s.result(fmt)
    return build


def _variant(name, nsec, big):
    def build():
        s = s_nsec_be(name)
        exp = s.result()
        return (P.pcap_bytes_variant(s.cap, nsec=nsec, big_endian=big),), exp
    return build


def _broken(fn):
    def build():
        data, exp = fn()
        return (data,), exp
    return build


_BUILDERS = [
    ("core-tcp-outcomes", _captured(s_tcp_outcomes)),
    ("core-udp", _captured(s_udp)),
    ("core-one-sided", _captured(s_one_sided)),
    ("core-capture-ended", _captured(s_capture_ended)),
    ("core-vlan", _captured(s_vlan)),
    ("core-qinq", _captured(s_qinq)),
    ("core-sll", _captured(s_sll)),
    ("core-sll2", _captured(s_sll2)),
    ("core-raw", _captured(s_raw)),
    ("core-null", _captured(s_null)),
    ("core-ipv6", _captured(s_ipv6)),
    ("core-fragments", _captured(s_fragments)),
    ("core-badcsum", _captured(s_badcsum)),
    ("core-pcapng", _captured(s_pcapng, "pcapng")),
    ("core-nsec", _variant("core-nsec", True, False)),
    ("core-bigendian", _variant("core-bigendian", False, True)),
    ("core-badframes", _captured(s_badframes)),
    ("core-snaplen", _captured(s_snaplen)),
    ("core-truncated", _broken(s_truncated)),
    ("core-truncated-header", _broken(s_truncated_header)),
    ("core-truncated-ng", _broken(s_truncated_ng)),
    ("core-not-a-capture", _broken(s_not_a_capture)),
    ("core-empty", _broken(s_empty)),
    ("core-header-only", _broken(s_header_only)),
    ("core-badlinktype", _broken(s_badlinktype)),
]

_CACHE = {}


def _get(name, build):
    if name not in _CACHE:
        _CACHE[name] = build()
    return _CACHE[name]


def _scenario(name, build):
    return lambda: _get(name, build)[0]


SCENARIOS = [(name, _scenario(name, build)) for name, build in _BUILDERS]
EXPECTED = {name: _get(name, build)[1] for name, build in _BUILDERS}
