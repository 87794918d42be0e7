"""Encapsulation and capture-format scenarios (issue 12, items 5 and 6).

Every capture carries the same inner traffic -- a TCP handshake to port 445 and a
UDP request/reply to port 53 -- behind one link layer or tunnel, so that a test can
check that portwitness reports exactly the inner flows (and never the outer tunnel
flow) with Wireshark's frame numbers.  tests/scenarios/test_encap.py takes the
expected attempts from tshark (the innermost IP/TCP/UDP layer of each frame), not
from here; EXPECTED only says what else a file must show (link type name, decode
error classes, whether tshark's decoding is the oracle).

Outer tunnel endpoints are in 192.0.2.0/24, inner hosts in 198.18.0.0/15 and
2001:db8::/32.  Deterministic: timestamps start at T0.
"""
import gzip
import struct

import pcapgen as P

T0 = 1700000000.0

C4, S4 = "198.18.5.10", "198.18.5.20"
C6, S6 = "2001:db8:5::10", "2001:db8:5::20"
TA, TB = "192.0.2.1", "192.0.2.2"     # tunnel endpoints (client side, server side)


def traffic(cap, link, client, server, cport=50500, t=0.0, udp_client=None, udp_server=None):
    """The inner flows: TCP handshake to 445, UDP 53 request and reply."""
    c = P.Conversation(cap, client, cport, server, 445, link=link)
    c.handshake(T0 + t)
    u = P.Conversation(cap, udp_client or client, cport + 1, udp_server or server, 53, link=link)
    u.udp_request(T0 + t + 0.010, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00")
    u.udp_reply(T0 + t + 0.012, b"\x12\x34\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00")


def directional(client_ips, fwd, rev):
    """A link function that wraps client->server packets with fwd, the others with rev."""
    packed = {P.ip_bytes(a) for a in client_ips}

    def link(pkt):
        src = pkt[12:16] if pkt[0] >> 4 == 4 else pkt[8:24]
        return fwd(pkt) if src in packed else rev(pkt)
    return link


def outer_udp(sport, dport, payload, a=TA, b=TB):
    return P.ether(P.ip_raw(a, b, 17, P.udp_raw(sport, dport, payload)))


EXPECTED = {}


def expect(name, linktype, min_errors=None, oracle=True, attempts=None):
    EXPECTED[name] = {"linktype": linktype, "min_errors": min_errors or {}, "oracle": oracle,
                      "attempts": attempts}


# ---- UDP tunnels ------------------------------------------------------------

def s_gtpu():
    cap = P.Capture(P.DLT_EN10MB)
    up = lambda p: outer_udp(2152, 2152, P.gtpu(p, teid=0x11, seq=7, ext=[(0x85, b"\x10\x01")]))
    down = lambda p: outer_udp(2152, 2152, P.gtpu(p, teid=0x22), TB, TA)
    traffic(cap, directional([C4], up, down), C4, S4)
    expect("encap-gtpu", "EN10MB")
    return cap, "pcap"


def s_teredo():
    """Client packets plain (the SYN with an authentication indication), server
    packets with an origin indication."""
    cap = P.Capture(P.DLT_EN10MB)

    def up(p):
        is_syn = p[6] == 6 and p[40 + 13] == P.TH_SYN
        auth = (b"", b"", bytes(range(8))) if is_syn else None
        return outer_udp(40001, 3544, P.teredo(p, auth=auth))
    down = lambda p: outer_udp(3544, 40001, P.teredo(p, origin=(40001, TA)), TB, TA)
    traffic(cap, directional([C6], up, down), C6, S6)
    expect("encap-teredo", "EN10MB")
    return cap, "pcap"


def s_ayiya():
    cap = P.Capture(P.DLT_EN10MB)
    up = lambda p: outer_udp(5072, 5072, P.ayiya(p))
    down = lambda p: outer_udp(5072, 5072, P.ayiya(p), TB, TA)
    # TCP over IPv6, UDP over IPv4 (next header 41 and 4)
    traffic(cap, directional([C6, C4], up, down), C6, S6, udp_client=C4, udp_server=S4)
    expect("encap-ayiya", "EN10MB")
    return cap, "pcap"


def s_gre_udp():
    cap = P.Capture(P.DLT_EN10MB)
    up = lambda p: outer_udp(49200, 4754, P.gre(p, 0x0800, key=9))
    down = lambda p: outer_udp(49201, 4754, P.gre(p, 0x0800, key=9), TB, TA)
    traffic(cap, directional([C4], up, down), C4, S4)
    expect("encap-gre-udp", "EN10MB")
    return cap, "pcap"


def s_geneve_vxlan():
    """Geneve carrying Ethernet carrying VXLAN carrying Ethernet."""
    cap = P.Capture(P.DLT_EN10MB)

    def wrap(a, b):
        def f(p):
            vx = P.ether(P.ip_raw("192.0.2.11" if a == TA else "192.0.2.12",
                                  "192.0.2.12" if a == TA else "192.0.2.11", 17,
                                  P.udp_raw(49300, 4789, P.vxlan(P.ether(p)))))
            return outer_udp(49301, 6081, P.geneve(vx, 0x6558), a, b)
        return f
    traffic(cap, directional([C4], wrap(TA, TB), wrap(TB, TA)), C4, S4)
    expect("encap-geneve-vxlan", "EN10MB")
    return cap, "pcap"


def s_vxlan_geneve():
    """VXLAN carrying Ethernet carrying Geneve (with options) carrying IPv4."""
    cap = P.Capture(P.DLT_EN10MB)
    opts = struct.pack("!HBB", 0x0103, 0x80, 1) + b"\x00\x00\x00\x2a"

    def wrap(a, b):
        def f(p):
            gn = P.ether(P.ip_raw("192.0.2.21" if a == TA else "192.0.2.22",
                                  "192.0.2.22" if a == TA else "192.0.2.21", 17,
                                  P.udp_raw(49400, 6081, P.geneve(p, 0x0800, options=opts))))
            return outer_udp(49401, 4789, P.vxlan(gn), a, b)
        return f
    traffic(cap, directional([C4], wrap(TA, TB), wrap(TB, TA)), C4, S4)
    expect("encap-vxlan-geneve", "EN10MB")
    return cap, "pcap"


def s_not_tunnel():
    """Ordinary datagrams on tunnel ports (DNS-shaped payloads that fail every
    tunnel header check) stay ordinary UDP: attempts to those ports."""
    cap = P.Capture(P.DLT_EN10MB)
    query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01"
    t = T0
    attempts = []
    for i, port in enumerate((2152, 3544, 4754, 4789, 4790, 5072, 6081)):
        u = P.Conversation(cap, C4, 51000 + i, S4, port, link=P.ether)
        req = u.udp_request(t, query)
        rep = u.udp_reply(t + 0.001, query[:2] + b"\x81\x80" + query[4:])
        attempts.append(("udp", C4, 51000 + i, S4, port, "answered", "udp-reply", (req, rep)))
        t += 0.01
    # tshark decodes these ports as tunnels whatever the bytes say, so it cannot be
    # the oracle here: the expected attempts are the datagrams written above
    expect("encap-not-tunnel", "EN10MB", oracle=False, attempts=attempts)
    return cap, "pcap"


def s_too_deep():
    """VXLAN nested nine times: beyond the decoder's bound, counted as a tunnel error."""
    cap = P.Capture(P.DLT_EN10MB)
    pkt = P.ip(C4, S4, P.tcp(50600, 445, P.TH_SYN, 1))
    frame = P.ether(pkt)
    for i in range(9):
        frame = P.ether(P.ip_raw(TA, TB, 17, P.udp_raw(49500 + i, 4789, P.vxlan(frame))))
    cap.add(T0, frame)
    expect("encap-too-deep", "EN10MB", {"tunnel": 1}, oracle=False, attempts=[])
    return cap, "pcap"


# ---- Ethernet-level, GRE and PPP ---------------------------------------------

def s_pbb():
    cap = P.Capture(P.DLT_EN10MB)
    traffic(cap, lambda p: P.pbb(P.ether(p, vlans=[(0x8100, 30)]), bvid=7), C4, S4)
    expect("encap-pbb", "EN10MB")
    return cap, "pcap"


def s_gre_ppp():
    cap = P.Capture(P.DLT_EN10MB)
    up = lambda p: P.ether(P.ip_raw(TA, TB, 47, P.gre(P.ppp(p), 0x880B)))
    down = lambda p: P.ether(P.ip_raw(TB, TA, 47, P.gre(P.ppp(p), 0x880B)))
    traffic(cap, directional([C4], up, down), C4, S4)
    expect("encap-gre-ppp", "EN10MB")
    return cap, "pcap"


def s_ppp():
    cap = P.Capture(P.DLT_PPP)
    traffic(cap, P.ppp, C4, S4)
    expect("encap-ppp", "PPP")
    return cap, "pcap"


def s_ppp_serial():
    """DLT_PPP_SERIAL: HDLC-like framed PPP for TCP, Cisco HDLC for UDP."""
    cap = P.Capture(P.DLT_PPP_SERIAL)
    traffic(cap, lambda p: P.chdlc(p) if p[9] == 17 else P.ppp(p), C4, S4)
    expect("encap-ppp-serial", "PPP_SERIAL")
    return cap, "pcap"


def s_nflog():
    cap = P.Capture(P.DLT_NFLOG)
    traffic(cap, P.nflog, C4, S4)
    expect("encap-nflog", "NFLOG")
    return cap, "pcap"


# ---- 802.11 ------------------------------------------------------------------

def wlan_link(client_ips, wrap, qos):
    return directional(client_ips, lambda p: wrap(P.wlan_data(p, to_ds=True, qos=qos)),
                       lambda p: wrap(P.wlan_data(p, to_ds=False, qos=qos)))


def s_radiotap():
    """QoS data frames behind radiotap, then a beacon (not IP) and a protected frame."""
    cap = P.Capture(P.DLT_IEEE802_11_RADIO)
    traffic(cap, wlan_link([C4], P.radiotap, True), C4, S4)
    cap.add(T0 + 1, P.radiotap(P.wlan_beacon()))
    cap.add(T0 + 1.1, P.radiotap(P.wlan_data(b"", qos=True, protected=True)))
    expect("encap-radiotap", "IEEE802_11_RADIO", {"wireless_protected": 1})
    return cap, "pcap"


def s_prism():
    cap = P.Capture(P.DLT_PRISM_HEADER)
    traffic(cap, wlan_link([C4], P.prism, False), C4, S4)
    expect("encap-prism", "PRISM_HEADER")
    return cap, "pcap"


def s_avs():
    cap = P.Capture(P.DLT_IEEE802_11_RADIO_AVS)
    traffic(cap, wlan_link([C4], P.avs, True), C4, S4)
    expect("encap-avs", "IEEE802_11_RADIO_AVS")
    return cap, "pcap"


def s_wlan():
    cap = P.Capture(P.DLT_IEEE802_11)
    traffic(cap, wlan_link([C6], lambda f: f, False), C6, S6)
    cap.add(T0 + 1, P.wlan_data(b"", protected=True))
    expect("encap-wlan", "IEEE802_11", {"wireless_protected": 1})
    return cap, "pcap"


# ---- capture files libpcap cannot read ----------------------------------------

def s_pcapng_mixed():
    """Two interfaces with different link types and snapshot lengths: Ethernet
    (262144) for the TCP handshake, raw IP cut at 64 bytes for the UDP exchange
    (the reply is longer and cut: still a reply)."""
    tmp = P.Capture(P.DLT_EN10MB)
    traffic(tmp, P.ether, C4, S4)
    records = []
    for i, (usec, data, orig) in enumerate(tmp.frames):
        if i < 3:
            records.append((0, usec, data, orig))
        else:
            ip = data[14:]
            if i == 4:
                ip = ip[:-8] + bytes(range(60)) + ip[-8:]   # longer reply payload
                ip = ip[:2] + struct.pack("!H", len(ip)) + ip[4:]
                ip = ip[:24] + struct.pack("!H", len(ip) - 20) + ip[26:]
            records.append((1, usec, ip, len(ip)))
    expect("encap-pcapng-mixed", "PER_PACKET")
    return (P.pcapng_multi([(P.DLT_EN10MB, 262144), (P.DLT_RAW, 64)], records),
            "pcapng")


def s_gzip():
    """A gzip-compressed pcap (gzip header mtime 0: byte-identical output)."""
    cap = P.Capture(P.DLT_EN10MB)
    traffic(cap, lambda p: P.ether(p, vlans=[(0x8100, 12)]), C4, S4)
    expect("encap-gzip", "EN10MB")
    return gzip.compress(cap.pcap_bytes(), compresslevel=9, mtime=0), "pcap.gz"


_BUILDERS = [
    ("encap-gtpu", s_gtpu), ("encap-teredo", s_teredo), ("encap-ayiya", s_ayiya),
    ("encap-gre-udp", s_gre_udp), ("encap-geneve-vxlan", s_geneve_vxlan),
    ("encap-vxlan-geneve", s_vxlan_geneve), ("encap-not-tunnel", s_not_tunnel),
    ("encap-too-deep", s_too_deep), ("encap-pbb", s_pbb), ("encap-gre-ppp", s_gre_ppp),
    ("encap-ppp", s_ppp), ("encap-ppp-serial", s_ppp_serial), ("encap-nflog", s_nflog),
    ("encap-radiotap", s_radiotap), ("encap-prism", s_prism), ("encap-avs", s_avs),
    ("encap-wlan", s_wlan), ("encap-pcapng-mixed", s_pcapng_mixed), ("encap-gzip", s_gzip),
]


def _scenario(build):
    def run():
        data, ext = build()
        return (data, ext)
    return run


SCENARIOS = [(name, _scenario(build)) for name, build in _BUILDERS]
for _name, _build in _BUILDERS:   # fills EXPECTED (the builders are cheap)
    _build()
