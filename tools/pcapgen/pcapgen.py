"""pcapgen - the project's own scenario capture generator (Python 3 stdlib only).

Builds frames byte by byte (Ethernet / 802.1Q / 802.1ad / Linux cooked v1 and v2 /
raw IP, IPv4 / IPv6, TCP / UDP / ICMP / ICMPv6) and writes classic pcap or pcapng
files.  Scenario modules (scenarios_*.py beside this file) describe conversations
with these helpers; generate.py runs them all and writes pcaps/.

Everything is deterministic: timestamps come from the scenario, never the clock,
so regenerating produces byte-identical files (tests check this).
"""
import struct

DLT_EN10MB = 1
DLT_RAW = 101
DLT_LINUX_SLL = 113
DLT_LINUX_SLL2 = 276
DLT_NULL = 0

TH_FIN, TH_SYN, TH_RST, TH_PSH, TH_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip_bytes(addr):
    """'198.18.0.1' or '2001:db8::1' -> packed bytes."""
    import ipaddress
    return ipaddress.ip_address(addr).packed


def is_v6(addr):
    return ":" in addr


# ---- transport -------------------------------------------------------------

def tcp(sport, dport, flags, seq=0, ack=0, payload=b"", win=64240, options=b""):
    """A TCP header + payload with checksum left 0 (filled by ip())."""
    if len(options) % 4:
        options += b"\0" * (4 - len(options) % 4)
    off = (20 + len(options)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      off << 4, flags, win, 0, 0)
    return ("tcp", hdr + options + payload)


def udp(sport, dport, payload=b""):
    return ("udp", struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)


def icmp(type_, code, quoted=b"", rest=b"\0\0\0\0"):
    """ICMPv4 message; `quoted` is the offending IP packet (bytes of ip())."""
    body = struct.pack("!BBH", type_, code, 0) + rest + quoted
    c = _csum(body)
    return ("icmp", body[:2] + struct.pack("!H", c) + body[4:])


def icmp6(type_, code, quoted=b"", rest=b"\0\0\0\0"):
    return ("icmp6", struct.pack("!BBH", type_, code, 0) + rest + quoted)


_PROTO = {"tcp": 6, "udp": 17, "icmp": 1, "icmp6": 58}


def ip(src, dst, l4, ttl=64, ident=1, bad_checksum=False):
    """IPv4 or IPv6 packet carrying l4 (from tcp()/udp()/icmp()/icmp6()).
    Transport checksums are computed properly unless bad_checksum (offload)."""
    kind, seg = l4
    proto = _PROTO[kind]
    s, d = ip_bytes(src), ip_bytes(dst)
    if len(s) == 4:
        pseudo = s + d + struct.pack("!BBH", 0, proto, len(seg))
    else:
        pseudo = s + d + struct.pack("!IxxxB", len(seg), proto)
    seg = bytearray(seg)
    if kind in ("tcp", "udp", "icmp6"):
        pos = {"tcp": 16, "udp": 6, "icmp6": 2}[kind]
        c = 0xBEEF if bad_checksum else _csum(pseudo + bytes(seg) if kind != "icmp" else bytes(seg))
        if kind == "udp" and c == 0:
            c = 0xFFFF
        seg[pos:pos + 2] = struct.pack("!H", c)
    seg = bytes(seg)
    if len(s) == 4:
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), ident, 0, ttl, proto, 0, s, d)
        hdr = hdr[:10] + struct.pack("!H", _csum(hdr)) + hdr[12:]
        return hdr + seg
    return struct.pack("!IHBB16s16s", 6 << 28, len(seg), proto, ttl, s, d) + seg


def ipv4_fragments(packet, chunk):
    """Split an IPv4 packet (bytes of ip()) into fragments of `chunk` payload bytes (multiple of 8)."""
    hdr, data = packet[:20], packet[20:]
    out = []
    for off in range(0, len(data), chunk):
        part = data[off:off + chunk]
        more = 0x2000 if off + chunk < len(data) else 0
        h = bytearray(hdr)
        h[2:4] = struct.pack("!H", 20 + len(part))
        h[6:8] = struct.pack("!H", more | (off // 8))
        h[10:12] = b"\0\0"
        h[10:12] = struct.pack("!H", _csum(bytes(h)))
        out.append(bytes(h) + part)
    return out


# ---- link layers -----------------------------------------------------------

def mac(n):
    return bytes([0x02, 0, 0, 0, (n >> 8) & 0xFF, n & 0xFF])


def ether(packet, src_mac=mac(1), dst_mac=mac(2), vlans=()):
    """Ethernet frame around an IP packet; vlans = [(tpid, vid), ...] outermost first."""
    et = 0x86DD if packet[0] >> 4 == 6 else 0x0800
    tags = b"".join(struct.pack("!HH", tpid, vid & 0xFFF) for tpid, vid in vlans)
    return dst_mac + src_mac + tags + struct.pack("!H", et) + packet


def sll(packet, pkttype=0):
    et = 0x86DD if packet[0] >> 4 == 6 else 0x0800
    return struct.pack("!HHH8sH", pkttype, 1, 6, mac(1) + b"\0\0", et) + packet


def sll2(packet, pkttype=0, ifindex=2):
    et = 0x86DD if packet[0] >> 4 == 6 else 0x0800
    return struct.pack("!HHIHBB8s", et, 0, ifindex, 1, pkttype, 6, mac(1) + b"\0\0") + packet


def null_loop(packet):
    fam = 30 if packet[0] >> 4 == 6 else 2  # AF_INET6 (BSD) / AF_INET, host order LE
    return struct.pack("<I", fam) + packet


# ---- files -----------------------------------------------------------------

class Capture:
    """Collects (timestamp, frame bytes) and writes pcap or pcapng.

    t is seconds as float or int; frames are stored exactly as given."""

    def __init__(self, linktype=DLT_EN10MB, snaplen=262144):
        self.linktype = linktype
        self.snaplen = snaplen
        self.frames = []  # (ts_usec, data, orig_len)

    def add(self, t, frame, orig_len=None):
        usec = int(round(t * 1_000_000))
        data = frame[: self.snaplen]
        self.frames.append((usec, data, orig_len if orig_len is not None else len(frame)))
        return len(self.frames)  # 1-based frame number

    def pcap_bytes(self):
        out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, self.snaplen, self.linktype)]
        for usec, data, orig in self.frames:
            out.append(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(data), orig))
            out.append(data)
        return b"".join(out)

    def pcapng_bytes(self):
        def block(btype, body):
            pad = (-len(body)) % 4
            total = 12 + len(body) + pad
            return struct.pack("<II", btype, total) + body + b"\0" * pad + struct.pack("<I", total)
        out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)),
               block(1, struct.pack("<HHI", self.linktype, 0, self.snaplen))]
        for usec, data, orig in self.frames:
            body = struct.pack("<IIIII", 0, usec >> 32, usec & 0xFFFFFFFF, len(data), orig) + data
            out.append(block(6, body))
        return b"".join(out)

    def write(self, path, fmt="pcap"):
        data = self.pcapng_bytes() if fmt == "pcapng" else self.pcap_bytes()
        with open(path, "wb") as f:
            f.write(data)
        return data


class Conversation:
    """Convenience for TCP/UDP exchanges between two hosts on an Ethernet capture.

    Tracks sequence numbers so scenarios read like the exchange they describe."""

    def __init__(self, cap, client, cport, server, sport, link=ether, isn_c=1000, isn_s=5000):
        self.cap, self.link = cap, link
        self.c, self.cp, self.s, self.sp = client, cport, server, sport
        self.cseq, self.sseq = isn_c, isn_s

    def syn(self, t):
        return self.cap.add(t, self.link(ip(self.c, self.s, tcp(self.cp, self.sp, TH_SYN, self.cseq))))

    def syn_ack(self, t):
        return self.cap.add(t, self.link(ip(self.s, self.c, tcp(self.sp, self.cp, TH_SYN | TH_ACK,
                                                              self.sseq, self.cseq + 1))))

    def ack(self, t):
        self.cseq += 1
        self.sseq += 1
        return self.cap.add(t, self.link(ip(self.c, self.s, tcp(self.cp, self.sp, TH_ACK,
                                                              self.cseq, self.sseq))))

    def handshake(self, t, dt=0.0005):
        a = self.syn(t)
        b = self.syn_ack(t + dt)
        self.ack(t + 2 * dt)
        return a, b

    def rst_from_server(self, t):
        return self.cap.add(t, self.link(ip(self.s, self.c, tcp(self.sp, self.cp, TH_RST | TH_ACK,
                                                              0, self.cseq + 1))))

    def send(self, t, payload, from_client=True):
        """Data segment (PSH|ACK) after the handshake; returns the frame number."""
        if from_client:
            f = self.cap.add(t, self.link(ip(self.c, self.s, tcp(self.cp, self.sp, TH_PSH | TH_ACK,
                                                                  self.cseq, self.sseq, payload))))
            self.cseq += len(payload)
        else:
            f = self.cap.add(t, self.link(ip(self.s, self.c, tcp(self.sp, self.cp, TH_PSH | TH_ACK,
                                                                  self.sseq, self.cseq, payload))))
            self.sseq += len(payload)
        return f

    def fin(self, t):
        self.cap.add(t, self.link(ip(self.c, self.s, tcp(self.cp, self.sp, TH_FIN | TH_ACK, self.cseq, self.sseq))))
        self.cap.add(t + 0.0002, self.link(ip(self.s, self.c, tcp(self.sp, self.cp, TH_FIN | TH_ACK, self.sseq, self.cseq + 1))))
        self.cap.add(t + 0.0004, self.link(ip(self.c, self.s, tcp(self.cp, self.sp, TH_ACK, self.cseq + 1, self.sseq + 1))))

    def udp_request(self, t, payload):
        return self.cap.add(t, self.link(ip(self.c, self.s, udp(self.cp, self.sp, payload))))

    def udp_reply(self, t, payload):
        return self.cap.add(t, self.link(ip(self.s, self.c, udp(self.sp, self.cp, payload))))


# ---- additional helpers (added for the core scenarios; existing API unchanged) ----

# Typical SYN options: MSS 1460, SACK permitted, timestamps, NOP, window scale 7 (20 bytes).
SYN_OPTIONS = (b"\x02\x04\x05\xb4" + b"\x04\x02" + b"\x08\x0a\x00\x01\x02\x03\x00\x00\x00\x00"
               + b"\x01" + b"\x03\x03\x07")


def ipv6_insert_ext(packet, exts):
    """Insert IPv6 extension headers into an IPv6 packet from ip().

    exts = [(header_type, body_bytes), ...] in wire order; header_type is the IPv6
    next-header value of that extension (0 hop-by-hop, 60 destination options, ...).
    body_bytes excludes the two leading next-header/length bytes and is padded to a
    multiple of 8 bytes overall (PadN-free zero padding).  The upper-layer checksum is
    unchanged (no routing header is supported here)."""
    fixed, payload = packet[:40], packet[40:]
    upper = fixed[6]
    chain = [t for t, _ in exts] + [upper]
    blob = b""
    for i, (_t, body) in enumerate(exts):
        total = 2 + len(body)
        if total % 8:
            body += b"\0" * (8 - total % 8)
            total = 2 + len(body)
        blob += bytes([chain[i + 1], total // 8 - 1]) + body
    out = bytearray(fixed)
    out[4:6] = struct.pack("!H", len(blob) + len(payload))
    out[6] = chain[0]
    return bytes(out) + blob + payload


def ipv4_zero_header_checksum(packet):
    """IPv4 packet with its header checksum set to 0 (transmit offload as captured)."""
    return packet[:10] + b"\0\0" + packet[12:]


def icmp_quote(packet, transport_bytes=8):
    """What a router quotes in an ICMPv4 error (RFC 792): IP header + first N transport bytes."""
    ihl = (packet[0] & 0x0F) * 4
    return packet[:ihl + transport_bytes]


def null_family(packet, family):
    """BSD loopback (DLT_NULL) header with an explicit address family, host order LE
    (AF_INET6 is 24 on NetBSD/OpenBSD, 28 on FreeBSD, 30 on macOS)."""
    return struct.pack("<I", family) + packet


def pcap_bytes_variant(cap, nsec=False, big_endian=False):
    """Classic pcap bytes of a Capture in nanosecond resolution and/or big-endian order."""
    e = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nsec else 0xA1B2C3D4
    out = [struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, cap.snaplen, cap.linktype)]
    for usec, data, orig in cap.frames:
        frac = (usec % 1_000_000) * (1000 if nsec else 1)
        out.append(struct.pack(e + "IIII", usec // 1_000_000, frac, len(data), orig))
        out.append(data)
    return b"".join(out)


def record_offsets(cap):
    """Byte offset of each record header in cap.pcap_bytes() (index 0 = frame 1)."""
    offs, pos = [], 24
    for _usec, data, _orig in cap.frames:
        offs.append(pos)
        pos += 16 + len(data)
    return offs
