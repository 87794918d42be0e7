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


# ---- encapsulations (tools/pcapgen/scenarios_encap.py) ---------------------

DLT_PPP = 9
DLT_PPP_SERIAL = 50
DLT_IEEE802_11 = 105
DLT_PRISM_HEADER = 119
DLT_IEEE802_11_RADIO = 127
DLT_IEEE802_11_RADIO_AVS = 163
DLT_NFLOG = 239


def udp_raw(sport, dport, payload):
    """A UDP header + payload with checksum 0 (allowed for IPv4; what most tunnel
    endpoints send), for ip_raw()."""
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def ip_raw(src, dst, proto, payload, ttl=64, ident=1):
    """An IPv4 or IPv6 packet around an already built transport/tunnel payload."""
    s, d = ip_bytes(src), ip_bytes(dst)
    if len(s) == 4:
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, ttl, proto, 0, s, d)
        return hdr[:10] + struct.pack("!H", _csum(hdr)) + hdr[12:] + payload
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), proto, ttl, s, d) + payload


def ether_type(payload, ethertype, src_mac=mac(1), dst_mac=mac(2)):
    return dst_mac + src_mac + struct.pack("!H", ethertype) + payload


def gtpu(packet, teid=0x1234, seq=None, ext=()):
    """GTP-U G-PDU (version 1, PT=1) around an IP packet; ext = [(type, content), ...]
    extension headers (content padded so each is a multiple of 4 bytes)."""
    opt = b""
    flags = 0x30
    if seq is not None or ext:
        flags |= 0x02 if seq is not None else 0
        flags |= 0x04 if ext else 0
        opt = struct.pack("!HBB", seq or 0, 0, ext[0][0] if ext else 0)
        for i, (_t, content) in enumerate(ext):
            body = content + b"\0" * ((-(len(content) + 2)) % 4)
            nxt = ext[i + 1][0] if i + 1 < len(ext) else 0
            opt += bytes([(len(body) + 2) // 4]) + body + bytes([nxt])
    body = opt + packet
    return struct.pack("!BBHI", flags, 0xFF, len(body), teid) + body


def teredo(packet, origin=None, auth=None):
    """Teredo (RFC 4380) around an IPv6 packet; origin = (port, '192.0.2.x'),
    auth = (client_id bytes, auth_value bytes, nonce 8 bytes)."""
    out = b""
    if auth is not None:
        cid, val, nonce = auth
        out += struct.pack("!HBB", 1, len(cid), len(val)) + cid + val + nonce + b"\0"
    if origin is not None:
        port, addr = origin
        out += struct.pack("!HH", 0, port ^ 0xFFFF) + bytes(b ^ 0xFF for b in ip_bytes(addr))
    return out + packet


def ayiya(packet, identity=b"\x20\x01\x0d\xb8" + b"\0" * 11 + b"\x02", signature=b"\x5a" * 20,
          epoch=1700000000):
    """AYIYA forward (opcode 1) around an IPv4 or IPv6 packet: identity of 2^n bytes
    (IPv6 address: n=4, type 1), SHA-1 signature (5 words, hash method 2)."""
    n = len(identity).bit_length() - 1
    nxt = 41 if packet[0] >> 4 == 6 else 4
    return struct.pack("!BBBBI", n << 4 | 1, (len(signature) // 4) << 4 | 2, 0x10 | 1, nxt,
                       epoch) + identity + signature + packet


def gre(payload, proto, key=None, seq=None):
    """GRE version 0 (RFC 2784/2890) with optional key and sequence number."""
    flags = (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
    out = struct.pack("!HH", flags, proto)
    if key is not None:
        out += struct.pack("!I", key)
    if seq is not None:
        out += struct.pack("!I", seq)
    return out + payload


def vxlan(frame, vni=100):
    return struct.pack("!BxxxI", 0x08, vni << 8) + frame


def geneve(payload, proto, vni=200, options=b""):
    """Geneve (RFC 8926) version 0; options already encoded (multiple of 4 bytes)."""
    return struct.pack("!BBHI", len(options) // 4, 0, proto, vni << 8) + options + payload


def pbb(frame, isid=0x10203, bvid=None):
    """802.1ah: backbone Ethernet (optionally a B-TAG) + I-TAG around a customer frame."""
    tag = struct.pack("!HH", 0x88A8, bvid) if bvid is not None else b""
    return (mac(0x100) + mac(0x101) + tag + struct.pack("!HI", 0x88E7, isid & 0xFFFFFF) + frame)


def llc_snap(packet):
    et = 0x86DD if packet[0] >> 4 == 6 else 0x0800
    return b"\xaa\xaa\x03\x00\x00\x00" + struct.pack("!H", et) + packet


def wlan_data(packet, to_ds=True, qos=False, protected=False, seq=0):
    """An 802.11 data frame (ToDS or FromDS) with LLC/SNAP, optionally QoS data;
    protected frames carry an opaque CCMP header and ciphertext instead."""
    fc0 = 0x08 | (0x80 if qos else 0)
    fc1 = (0x01 if to_ds else 0x02) | (0x40 if protected else 0)
    bssid, sta, other = mac(0x200), mac(0x201), mac(0x202)
    addrs = bssid + sta + other if to_ds else sta + bssid + other
    hdr = struct.pack("<BBH", fc0, fc1, 0x2c) + addrs + struct.pack("<H", seq << 4)
    if qos:
        hdr += b"\x00\x00"
    if protected:
        return hdr + b"\x01\x00\x00\x20\x00\x00\x00\x00" + bytes((i * 37) & 0xFF for i in range(48))
    return hdr + llc_snap(packet)


def wlan_beacon():
    hdr = struct.pack("<BBH", 0x80, 0, 0) + b"\xff" * 6 + mac(0x200) + mac(0x200) + b"\0\0"
    return hdr + struct.pack("<QHH", 0, 100, 0x0401) + b"\x00\x04test"


def radiotap(frame):
    """Radiotap header: present = flags (bit 1) + rate (bit 2); no FCS."""
    return struct.pack("<BBHIBB", 0, 0, 10, 0x06, 0x00, 0x0C) + frame


def prism(frame):
    """Prism monitor header (144 bytes): msgcode, msglen, device name, 10 items."""
    items = b"".join(struct.pack("<IHHI", 0x00010044 + i * 0x1000, 0, 4, i) for i in range(10))
    return struct.pack("<II16s", 0x41, 144, b"wlan0") + items + frame


def avs(frame):
    """AVS capture header version 2 (64 bytes, big-endian)."""
    body = struct.pack("!QQIIIIiIIII", 0, 0, 1, 6, 2412, 1, -40, 0, 0, 1, 0)
    hdr = struct.pack("!II", 0x80211002, 8 + len(body)) + body
    return hdr + frame


def ppp(packet, acfc=False):
    """A PPP frame (address/control ff 03 unless compressed away, protocol)."""
    proto = 0x0057 if packet[0] >> 4 == 6 else 0x0021
    return (b"" if acfc else b"\xff\x03") + struct.pack("!H", proto) + packet


def chdlc(packet):
    et = 0x86DD if packet[0] >> 4 == 6 else 0x0800
    return struct.pack("!BBH", 0x0F, 0, et) + packet


def nflog(packet, prefix=b"portwitness"):
    """Linux NFLOG record (little-endian TLVs): packet header, prefix, payload."""
    def tlv(t, v):
        raw = struct.pack("<HH", 4 + len(v), t) + v
        return raw + b"\0" * ((-len(raw)) % 4)
    fam = 10 if packet[0] >> 4 == 6 else 2
    return (struct.pack("!BBH", fam, 0, 0) + tlv(1, struct.pack("!HBB", 0x0800, 3, 0))
            + tlv(10, prefix + b"\0") + tlv(9, packet))


def pcapng_multi(interfaces, records):
    """pcapng with several interfaces: interfaces = [(linktype, snaplen)], records =
    [(interface index, usec, data, orig_len)] in file order."""
    def block(btype, body):
        pad = (-len(body)) % 4
        total = 12 + len(body) + pad
        return struct.pack("<II", btype, total) + body + b"\0" * pad + struct.pack("<I", total)
    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    out += [block(1, struct.pack("<HHI", lt, 0, snap)) for lt, snap in interfaces]
    for ifc, usec, data, orig in records:
        data = data[: interfaces[ifc][1]]
        out.append(block(6, struct.pack("<IIIII", ifc, usec >> 32, usec & 0xFFFFFFFF, len(data),
                                        orig) + data))
    return b"".join(out)
