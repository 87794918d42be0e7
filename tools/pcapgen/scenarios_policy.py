"""Port-policy scenarios (issue 4): pass / fail / partial / unobserved / one-sided
captures per built-in profile, the endpoint-mapper dynamic port blocked after 135
answered, proxy CONNECT allowed / denied (403) / authentication required (407),
direct TLS to a sensor API name, and a TLS inspection certificate.

The payloads are built here byte by byte: DCE/RPC bind + ept_map request and
response with a TCP tower, NBNS node status, DNS PTR, RDP X.224, HTTP CONNECT and
the proxy's status line, TLS ClientHello with SNI, TLS 1.2 ServerHello +
Certificate + ServerHelloDone.  The two server certificates are DER blobs made
once with the openssl CLI (EC P-256; one issued by a CA named like Microsoft's
"Microsoft Azure TLS Issuing CA 01", one by "Contoso TLS Inspection CA") and
embedded as hex below, so generation stays deterministic.

Beside each capture, EXPECTED[name] says what `portwitness -r F --profile P
--format json` must report (read by tests/scenarios/test_policy.py):

  EXPECTED[name] = {
    "file": "policy-....pcap",
    "profile": profile name,
    "rules": {rule id: verdict},     # rules not listed must be "unobserved"
    "sensor_cloud": [{sensor, reached, via, proxy, failure, tls_inspection}],  # mdi-sensor only
    "auto_profiles": [names] or None, # profiles chosen without --profile
    "fail_on_exit": exit status with --fail-on fail,partial (3 or 0),
  }

Addresses: 10.20.0.0/16 (private), documentation and benchmark ranges.
"""
import struct
import uuid

import pcapgen as P

T0 = 1710000000.0

# ---- certificates (DER, made once with openssl; see the module docstring) ------

# leaf for contoso-corpsensorapi.atp.azure.com, issuer C=US, O=Microsoft Corporation,
# CN=Microsoft Azure TLS Issuing CA 01 (a stand-in CA with Microsoft's name)
MS_LEAF = bytes.fromhex(
    "30820206308201ada00302010202023300300a06082a8648ce3d0403023059310b3009060355040613025553311e301c"
    "060355040a0c154d6963726f736f667420436f72706f726174696f6e312a302806035504030c214d6963726f736f6674"
    "20417a75726520544c532049737375696e67204341203031301e170d3236313132323030323630345a170d3336313131"
    "393030323630345a302e312c302a06035504030c23636f6e746f736f2d636f727073656e736f726170692e6174702e61"
    "7a7572652e636f6d3059301306072a8648ce3d020106082a8648ce3d0301070342000402c366bb975168ef7813d4fdf9"
    "3f7cc55693f73442f79a4668b01165676b0baf06d5c4f9511068983f9f6297908dab32eb30ad8bec195195e3eb863a41"
    "ecc011a3818f30818c30090603551d1304023000303f0603551d1104383036820f2a2e6174702e617a7572652e636f6d"
    "8223636f6e746f736f2d636f727073656e736f726170692e6174702e617a7572652e636f6d301d0603551d0e04160414"
    "babedfda0b5de34665edcb0fef6e558142e98b60301f0603551d230418301680140f5536c70fa7a8f98ce49f9b854d35"
    "685b0e10ab300a06082a8648ce3d0403020347003044022070eedf1e674e33b14cbf24e17f161320f986bab17211e124"
    "94374c5fb08770b002203319c690674d63768349f35fa82e7ec9e252c52299346566ce800233dfa2b53b")
# the same name re-signed by C=US, O=Contoso Ltd, CN=Contoso TLS Inspection CA
INSP_LEAF = bytes.fromhex(
    "308201f53082019ba00302010202024400300a06082a8648ce3d0403023047310b300906035504061302555331143012"
    "060355040a0c0b436f6e746f736f204c74643122302006035504030c19436f6e746f736f20544c5320496e7370656374"
    "696f6e204341301e170d3236313132323030323630345a170d3336313131393030323630345a302e312c302a06035504"
    "030c23636f6e746f736f2d636f727073656e736f726170692e6174702e617a7572652e636f6d3059301306072a8648ce"
    "3d020106082a8648ce3d03010703420004e99a4f082edd14e6e745dc930c87a405c018848260b9f73d3a885e044b5cde"
    "d2e92fa36d2e0c397007704ba1a686aa82f99425fa5dcc830c1a225e58f131a790a3818f30818c30090603551d130402"
    "3000303f0603551d1104383036820f2a2e6174702e617a7572652e636f6d8223636f6e746f736f2d636f727073656e73"
    "6f726170692e6174702e617a7572652e636f6d301d0603551d0e04160414d219df9c8ef2c3da26c9c6b381e1e75983dd"
    "d9e6301f0603551d23041830168014803a72c5f235341ede7a613bb55f3dd868fe2749300a06082a8648ce3d04030203"
    "48003045022025470202e0397f0c82f13a58674f99db1d880a475ca33230bf382ab68511514402210086124d4e35791b"
    "ba07de6a253eda281ce0779dd3e8d3a317a21c2484329ee6d9")

# ---- payload builders ---------------------------------------------------------

NDR_UUID = uuid.UUID("8a885d04-1ceb-11c9-9fe8-08002b104860")
EPM_UUID = uuid.UUID("e1af8308-5d1f-11c9-91a4-08002b14a0fa")
IOXID_UUID = uuid.UUID("99fcfec4-5260-101b-bbcb-00aa0021347a")  # IObjectExporter (DCOM)


def rpc_hdr(ptype, body, call_id, flags=0x03):
    return struct.pack("<BBBB4sHHI", 5, 0, ptype, flags, b"\x10\0\0\0", 16 + len(body), 0, call_id) + body


NTLM_NEGOTIATE = (b"NTLMSSP\0" + struct.pack("<II", 1, 0xE2088297) + struct.pack("<HHI", 0, 0, 0) * 2 +
                  bytes([10, 0]) + struct.pack("<H", 19041) + b"\0\0\0\x0f")


def rpc_bind(call_id=1, iface=EPM_UUID, ver=3, ntlm=False):
    """A bind to one interface; with ntlm, an NTLMSSP NEGOTIATE in the auth verifier
    (auth type 10, connect level), as a sensor's NTLM-over-RPC name resolution sends."""
    body = struct.pack("<HHI", 5840, 5840, 0)
    body += struct.pack("<BBH", 1, 0, 0)                       # one context
    body += struct.pack("<HBB", 0, 1, 0)                       # context 0, one transfer syntax
    body += iface.bytes_le + struct.pack("<HH", ver, 0)
    body += NDR_UUID.bytes_le + struct.pack("<I", 2)
    if not ntlm:
        return rpc_hdr(11, body, call_id)
    while (16 + len(body)) % 4:
        body += b"\0"
    body += struct.pack("<BBBBI", 10, 2, 0, 0, 0) + NTLM_NEGOTIATE
    pdu = bytearray(rpc_hdr(11, body, call_id))
    pdu[10:12] = struct.pack("<H", len(NTLM_NEGOTIATE))
    return bytes(pdu)


def rpc_bind_ack(call_id=1):
    body = struct.pack("<HHI", 5840, 5840, 0x12345)
    sec = b"135\0"
    body += struct.pack("<H", len(sec)) + sec
    while (16 + len(body)) % 4:
        body += b"\0"
    body += struct.pack("<BBH", 1, 0, 0)
    body += struct.pack("<HH", 0, 0) + NDR_UUID.bytes_le + struct.pack("<I", 2)
    return rpc_hdr(12, body, call_id)


def tower(iface, port, ip="0.0.0.0"):
    floors = [
        (b"\x0d" + iface.bytes_le + struct.pack("<H", 0), struct.pack("<H", 0)),
        (b"\x0d" + NDR_UUID.bytes_le + struct.pack("<H", 2), struct.pack("<H", 0)),
        (b"\x0b", struct.pack("<H", 0)),
        (b"\x07", struct.pack("!H", port)),
        (b"\x09", P.ip_bytes(ip)),
    ]
    out = struct.pack("<H", len(floors))
    for lhs, rhs in floors:
        out += struct.pack("<H", len(lhs)) + lhs + struct.pack("<H", len(rhs)) + rhs
    return out


def twr(octets):
    data = struct.pack("<II", len(octets), len(octets)) + octets
    while len(data) % 4:
        data += b"\0"
    return data


def rpc_request(call_id, opnum, stub):
    body = struct.pack("<IHH", len(stub), 0, opnum) + stub
    return rpc_hdr(0, body, call_id)


def rpc_response(call_id, stub):
    body = struct.pack("<IHBB", len(stub), 0, 0, 0) + stub
    return rpc_hdr(2, body, call_id)


def ept_map_request(call_id, iface):
    stub = struct.pack("<I", 0)                       # object: NULL
    stub += struct.pack("<I", 0x00020000)             # map_tower referent
    stub += twr(tower(iface, 135))
    stub += b"\0" * 20                                # entry_handle
    stub += struct.pack("<I", 4)                      # max_towers
    return rpc_request(call_id, 3, stub)


def ept_map_response(call_id, iface, port, ip="0.0.0.0"):
    stub = b"\0" * 20                                 # entry_handle
    stub += struct.pack("<I", 1)                      # num_towers
    stub += struct.pack("<III", 4, 0, 1)              # max_count, offset, actual_count
    stub += struct.pack("<I", 0x00020004)             # tower referent
    stub += twr(tower(iface, port, ip))
    stub += struct.pack("<I", 0)                      # status
    return rpc_response(call_id, stub)


def nb_encode(name, suffix):
    raw = name.ljust(15)[:15].encode() + bytes([suffix]) if name != "*" else b"*" + b"\0" * 15
    enc = b"".join(bytes([0x41 + (c >> 4), 0x41 + (c & 15)]) for c in raw)
    return b"\x20" + enc + b"\0"


def nbstat_query(txid):
    return struct.pack("!HHHHHH", txid, 0, 1, 0, 0, 0) + nb_encode("*", 0) + struct.pack("!HH", 0x21, 1)


def nbstat_response(txid, name):
    names = nb_encode(name, 0)
    rdata = bytes([1]) + name.ljust(15)[:15].encode() + b"\0" + struct.pack("!H", 0x0400)
    rdata += bytes([2, 0, 0, 0, 0x10, 0x01]) + b"\0" * 40
    return (struct.pack("!HHHHHH", txid, 0x8400, 0, 1, 0, 0) + nb_encode("*", 0) +
            struct.pack("!HHIH", 0x21, 1, 0, len(rdata)) + rdata)


def dns_name(n):
    return b"".join(bytes([len(x)]) + x.encode() for x in n.split(".")) + b"\0"


def ptr_name(ip):
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


def dns_query(txid, qname, qtype=12):
    return struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 0) + dns_name(qname) + struct.pack("!HH", qtype, 1)


def dns_ptr_response(txid, qname, target):
    rd = dns_name(target)
    return (struct.pack("!HHHHHH", txid, 0x8180, 1, 1, 0, 0) + dns_name(qname) + struct.pack("!HH", 12, 1) +
            b"\xc0\x0c" + struct.pack("!HHIH", 12, 1, 300, len(rd)) + rd)


def x224_request(cookie="mstshash=SENSOR"):
    body = ("Cookie: %s\r\n" % cookie).encode() + struct.pack("<BBHI", 1, 0, 8, 3)
    x = bytes([6 + len(body), 0xE0, 0, 0, 0, 0, 0]) + body
    return struct.pack("!BBH", 3, 0, 4 + len(x)) + x


def x224_confirm():
    body = struct.pack("<BBHI", 2, 0, 8, 1)
    x = bytes([6 + len(body), 0xD0, 0, 0, 0x12, 0x34, 0]) + body
    return struct.pack("!BBH", 3, 0, 4 + len(x)) + x


def tls_record(hs):
    return struct.pack("!BHH", 0x16, 0x0303, len(hs)) + hs


def hs_msg(t, body):
    return struct.pack("!B", t) + struct.pack("!I", len(body))[1:] + body


def client_hello(sni, rnd=b"\x11" * 32):
    ext = b""
    sn = sni.encode()
    ext += struct.pack("!HHHBH", 0, len(sn) + 5, len(sn) + 3, 0, len(sn)) + sn
    ext += struct.pack("!HHH", 10, 4, 2) + struct.pack("!H", 23)                # supported_groups
    ext += struct.pack("!HHH", 13, 6, 4) + struct.pack("!HH", 0x0403, 0x0804)   # signature_algorithms
    ext += struct.pack("!HH", 0xff01, 1) + b"\0"
    suites = struct.pack("!HHH", 0xc02f, 0xc02b, 0x009c)
    body = struct.pack("!H", 0x0303) + rnd + b"\0" + struct.pack("!H", len(suites)) + suites + b"\x01\x00"
    body += struct.pack("!H", len(ext)) + ext
    return struct.pack("!BHH", 0x16, 0x0301, len(body) + 4) + hs_msg(1, body)


def server_flight(cert, rnd=b"\x22" * 32):
    ext = struct.pack("!HH", 0xff01, 1) + b"\0"
    sh = struct.pack("!H", 0x0303) + rnd + b"\0" + struct.pack("!HB", 0xc02f, 0) + struct.pack("!H", len(ext)) + ext
    certs = struct.pack("!I", len(cert))[1:] + cert
    cm = struct.pack("!I", len(certs))[1:] + certs
    return tls_record(hs_msg(2, sh) + hs_msg(11, cm) + hs_msg(14, b""))


def http_connect(host, port=443):
    return ("CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: Azure ATP Sensor\r\n"
            "Proxy-Connection: Keep-Alive\r\n\r\n" % (host, port, host, port)).encode()


def http_status(code):
    reason = {200: "Connection established", 403: "Forbidden", 407: "Proxy Authentication Required"}[code]
    extra = 'Proxy-Authenticate: Negotiate\r\nProxy-Authenticate: Basic realm="proxy"\r\n' if code == 407 else ""
    length = "" if code == 200 else "Content-Length: 0\r\n"
    return ("HTTP/1.1 %d %s\r\n%s%sConnection: keep-alive\r\n\r\n" % (code, reason, extra, length)).encode()


# ---- conversation helpers -------------------------------------------------------

class Tcp(P.Conversation):
    def __init__(self, cap, c, cp, s, sp, isn_c=1000, isn_s=500000):
        super().__init__(cap, c, cp, s, sp, isn_c=isn_c, isn_s=isn_s)

    def syn_packet(self):
        return P.ip(self.c, self.s, P.tcp(self.cp, self.sp, P.TH_SYN, self.cseq))

    def ack_s(self, t):
        """The client's pure ACK after the server sent data."""
        return self.cap.add(t, self.link(P.ip(self.c, self.s, P.tcp(self.cp, self.sp, P.TH_ACK,
                                                                       self.cseq, self.sseq))))

    def rst_server_mid(self, t):
        return self.cap.add(t, self.link(P.ip(self.s, self.c, P.tcp(self.sp, self.cp, P.TH_RST | P.TH_ACK,
                                                                       self.sseq, self.cseq))))

    def exchange(self, t, req, resp):
        self.send(t, req)
        self.send(t + 0.001, resp, from_client=False)
        self.ack_s(t + 0.0015)


def answered(cap, t, c, cp, s, sp, req=b"", resp=b""):
    x = Tcp(cap, c, cp, s, sp, isn_c=cp * 1000, isn_s=sp * 1000 + 7)
    x.handshake(t)
    if req:
        x.exchange(t + 0.01, req, resp)
    x.fin(t + 0.05)
    return x


def refused(cap, t, c, cp, s, sp):
    x = Tcp(cap, c, cp, s, sp, isn_c=cp * 1000)
    x.syn(t)
    x.rst_from_server(t + 0.0004)


def blocked(cap, t, c, cp, s, sp, router):
    x = Tcp(cap, c, cp, s, sp, isn_c=cp * 1000)
    x.syn(t)
    cap.add(t + 0.0006, P.ether(P.ip(router, c, P.icmp(3, 13, P.icmp_quote(x.syn_packet())))))


def dropped(cap, t, c, cp, s, sp):
    """Three SYNs, no reply (the capture keeps running past the timeout)."""
    x = Tcp(cap, c, cp, s, sp, isn_c=cp * 1000)
    for dt in (0, 1, 3):
        x.syn(t + dt)


def one_sided_syn(cap, t, c, cp, s, sp):
    x = Tcp(cap, c, cp, s, sp, isn_c=cp * 1000)
    for dt in (0, 1, 3):
        x.syn(t + dt)


def keepalive(cap, c, until, start=0.5, peer="10.20.9.9", port=445, step=2.0, base=61000):
    """Ordinary answered traffic toward client c from start to `until` (seconds after T0),
    so silence elsewhere means 'unanswered', not 'one-sided'."""
    t, i = start, 0
    while t <= until:
        answered(cap, T0 + t, c, base + i, peer, port)
        t += step
        i += 1


def udp_answered(cap, t, c, cp, s, sp, req, resp):
    cap.add(t, P.ether(P.ip(c, s, P.udp(cp, sp, req))))
    cap.add(t + 0.001, P.ether(P.ip(s, c, P.udp(sp, cp, resp))))


def udp_icmp_refused(cap, t, c, cp, s, sp, req):
    pkt = P.ip(c, s, P.udp(cp, sp, req))
    cap.add(t, P.ether(pkt))
    cap.add(t + 0.001, P.ether(P.ip(s, c, P.icmp(3, 3, P.icmp_quote(pkt)))))


def udp_dropped(cap, t, c, cp, s, sp, req):
    cap.add(t, P.ether(P.ip(c, s, P.udp(cp, sp, req))))
    cap.add(t + 1, P.ether(P.ip(c, s, P.udp(cp, sp, req))))


def sorted_capture(cap):
    cap.frames.sort(key=lambda f: f[0])  # stable: equal stamps keep their order
    return cap


# ---- Netwrix Threat Prevention ------------------------------------------------------

EM, SQL, DC, TMS = "10.20.0.2", "10.20.0.5", "10.20.0.3", "10.20.0.30"
AG1, AG2, CON = "10.20.1.11", "10.20.1.12", "10.20.1.20"
RTR = "10.20.0.254"


def netwrix_pass():
    cap = P.Capture()
    answered(cap, T0 + 0.0, AG1, 50001, EM, 3741)
    answered(cap, T0 + 0.2, AG2, 50002, EM, 3741)
    answered(cap, T0 + 0.4, CON, 50003, EM, 3740)
    answered(cap, T0 + 0.6, EM, 50004, SQL, 1433)
    udp_answered(cap, T0 + 0.8, EM, 50005, SQL, 1434, b"\x03", b"\x05\x10\x00ServerName;SQL;InstanceName;MSSQLSERVER;tcp;1433;;")
    return sorted_capture(cap), "pcap"


def netwrix_fail():
    cap = P.Capture()
    refused(cap, T0 + 0.0, AG1, 50001, EM, 3741)
    refused(cap, T0 + 0.5, AG2, 50002, EM, 3741)
    blocked(cap, T0 + 1.0, CON, 50003, EM, 3740, RTR)
    return sorted_capture(cap), "pcap"


def netwrix_partial():
    cap = P.Capture()
    answered(cap, T0 + 0.0, AG1, 50001, EM, 3741)
    refused(cap, T0 + 0.5, AG2, 50002, EM, 3741)
    return sorted_capture(cap), "pcap"


def netwrix_unobserved():
    cap = P.Capture()
    answered(cap, T0 + 0.0, AG1, 50001, "10.20.9.9", 445)
    return sorted_capture(cap), "pcap"


def netwrix_one_sided():
    """Only the agents' side of the link was captured: SYNs, never a reply."""
    cap = P.Capture()
    one_sided_syn(cap, T0 + 0.0, AG1, 50001, EM, 3741)
    one_sided_syn(cap, T0 + 0.2, AG2, 50002, EM, 3741)
    one_sided_syn(cap, T0 + 12.0, AG1, 50003, EM, 3741)
    return sorted_capture(cap), "pcap"


def netwrix_epm_blocked():
    """135 open, the dynamic port it hands out blocked: EM -> agent (WMI/DCOM auto
    deploy) and the Threat Manager server -> domain controller (name translation)."""
    cap = P.Capture()
    answered(cap, T0 + 0.0, AG1, 50001, EM, 3741)
    # EM -> agent: endpoint mapper answers, dynamic port 49667 dropped
    x = Tcp(cap, EM, 50010, AG1, 135, isn_c=7000, isn_s=9000)
    x.handshake(T0 + 1.0)
    x.exchange(T0 + 1.01, rpc_bind(1), rpc_bind_ack(1))
    x.exchange(T0 + 1.02, ept_map_request(2, IOXID_UUID), ept_map_response(2, IOXID_UUID, 49667))
    x.fin(T0 + 1.05)
    dropped(cap, T0 + 1.1, EM, 50011, AG1, 49667)
    # Threat Manager server -> DC: Kerberos and LDAP answer, 135 answers, 49700 refused
    answered(cap, T0 + 2.0, TMS, 50020, DC, 88)
    answered(cap, T0 + 2.1, TMS, 50021, DC, 389)
    y = Tcp(cap, TMS, 50022, DC, 135, isn_c=17000, isn_s=19000)
    y.handshake(T0 + 2.2)
    y.exchange(T0 + 2.21, rpc_bind(1), rpc_bind_ack(1))
    drsuapi = uuid.UUID("e3514235-4b06-11d1-ab04-00c04fc2dcd2")
    y.exchange(T0 + 2.22, ept_map_request(2, drsuapi), ept_map_response(2, drsuapi, 49700, DC))
    y.fin(T0 + 2.25)
    blocked(cap, T0 + 2.3, TMS, 50023, DC, 49700, RTR)
    # keep answered traffic flowing to the EM past the TCP timeout
    keepalive(cap, EM, 16.0, start=3.0)
    return sorted_capture(cap), "pcap"


# ---- Defender for Identity NNR --------------------------------------------------

SENSOR, H1, H2, DNS = "10.30.0.5", "10.30.1.10", "10.30.1.11", "10.30.0.1"
RTR3 = "10.30.0.254"


def nnr_ok_target(cap, t, target, name, base):
    answered(cap, t, SENSOR, base, target, 135, rpc_bind(1, ntlm=True), rpc_bind_ack(1))
    udp_answered(cap, t + 0.1, SENSOR, 137, target, 137, nbstat_query(base & 0xFFFF), nbstat_response(base & 0xFFFF, name))
    answered(cap, t + 0.2, SENSOR, base + 1, target, 3389, x224_request(), x224_confirm())
    udp_answered(cap, t + 0.3, SENSOR, base + 2, DNS, 53, dns_query(base & 0xFFFF, ptr_name(target)),
                 dns_ptr_response(base & 0xFFFF, ptr_name(target), name.lower() + ".contoso.local"))


def nnr_pass():
    cap = P.Capture()
    nnr_ok_target(cap, T0 + 0.0, H1, "WS-010", 51000)
    nnr_ok_target(cap, T0 + 1.0, H2, "WS-011", 52000)
    return sorted_capture(cap), "pcap"


def nnr_fail():
    cap = P.Capture()
    refused(cap, T0 + 0.0, SENSOR, 51000, H1, 135)
    udp_icmp_refused(cap, T0 + 0.1, SENSOR, 137, H1, 137, nbstat_query(1))
    blocked(cap, T0 + 0.2, SENSOR, 51001, H1, 3389, RTR3)
    udp_answered(cap, T0 + 0.3, SENSOR, 51002, DNS, 53, dns_query(2, ptr_name(H1)),
                 dns_ptr_response(2, ptr_name(H1), "ws-010.contoso.local"))
    return sorted_capture(cap), "pcap"


def nnr_partial():
    cap = P.Capture()
    nnr_ok_target(cap, T0 + 0.0, H1, "WS-010", 51000)
    refused(cap, T0 + 1.0, SENSOR, 52000, H2, 135)
    udp_dropped(cap, T0 + 1.1, SENSOR, 137, H2, 137, nbstat_query(7))
    dropped(cap, T0 + 1.2, SENSOR, 52001, H2, 3389)
    keepalive(cap, SENSOR, 18.0, start=2.0, peer=DNS, port=88)
    return sorted_capture(cap), "pcap"


def nnr_rpc_only():
    """NTLM over RPC to two targets, nothing else: the profile is chosen by the
    NTLMSSP in the bind, and NetBIOS / RDP stay unobserved."""
    cap = P.Capture()
    answered(cap, T0, SENSOR, 51000, H1, 135, rpc_bind(1, ntlm=True), rpc_bind_ack(1))
    answered(cap, T0 + 0.5, SENSOR, 51001, H2, 135, rpc_bind(1, ntlm=True), rpc_bind_ack(1))
    return sorted_capture(cap), "pcap"


def nnr_unobserved():
    cap = P.Capture()
    udp_answered(cap, T0 + 0.0, SENSOR, 51002, DNS, 53, dns_query(2, ptr_name(H1)),
                 dns_ptr_response(2, ptr_name(H1), "ws-010.contoso.local"))
    return sorted_capture(cap), "pcap"


def nnr_one_sided():
    cap = P.Capture()
    one_sided_syn(cap, T0 + 0.0, SENSOR, 51000, H1, 135)
    cap.add(T0 + 0.1, P.ether(P.ip(SENSOR, H1, P.udp(137, 137, nbstat_query(1)))))
    one_sided_syn(cap, T0 + 0.2, SENSOR, 51001, H1, 3389)
    cap.add(T0 + 0.3, P.ether(P.ip(SENSOR, DNS, P.udp(51002, 53, dns_query(2, ptr_name(H1))))))
    one_sided_syn(cap, T0 + 12.0, SENSOR, 51003, H2, 135)
    return sorted_capture(cap), "pcap"


# ---- Defender for Identity sensor to cloud -------------------------------------------

S1, S2, PROXY, CLOUD = "10.40.0.11", "10.40.0.12", "10.40.0.9", "20.190.1.10"
API = "contoso-corpsensorapi.atp.azure.com"
REGION_API = "triprd1wceuw1sensorapi.atp.azure.com"


def direct_tls(cap, t, sensor, cport, cert, host=API):
    x = Tcp(cap, sensor, cport, CLOUD, 443, isn_c=cport * 100, isn_s=77000)
    x.handshake(t)
    x.exchange(t + 0.01, client_hello(host), server_flight(cert))
    x.fin(t + 0.1)


def via_proxy(cap, t, sensor, cport, status, cert=None, host=REGION_API):
    x = Tcp(cap, sensor, cport, PROXY, 8080, isn_c=cport * 100, isn_s=88000)
    x.handshake(t)
    x.exchange(t + 0.01, http_connect(host), http_status(status))
    if status == 200 and cert:
        x.exchange(t + 0.02, client_hello(host), server_flight(cert))
    x.fin(t + 0.1)


def sensor_direct():
    cap = P.Capture()
    direct_tls(cap, T0, S1, 49701, MS_LEAF)
    return sorted_capture(cap), "pcap"


def sensor_proxy_allowed():
    cap = P.Capture()
    via_proxy(cap, T0, S1, 49702, 200, MS_LEAF)
    return sorted_capture(cap), "pcap"


def sensor_proxy_denied():
    cap = P.Capture()
    via_proxy(cap, T0, S1, 49703, 403)
    return sorted_capture(cap), "pcap"


def sensor_proxy_auth():
    cap = P.Capture()
    via_proxy(cap, T0, S1, 49704, 407)
    return sorted_capture(cap), "pcap"


def sensor_inspection():
    cap = P.Capture()
    direct_tls(cap, T0, S1, 49705, INSP_LEAF)
    return sorted_capture(cap), "pcap"


def sensor_partial():
    cap = P.Capture()
    direct_tls(cap, T0, S1, 49706, MS_LEAF)
    via_proxy(cap, T0 + 0.5, S2, 49707, 403)
    return sorted_capture(cap), "pcap"


def sensor_tls_incomplete():
    """TCP answers, the ClientHello goes out, the server resets instead of a ServerHello."""
    cap = P.Capture()
    x = Tcp(cap, S1, 49708, CLOUD, 443, isn_c=49708 * 100, isn_s=77000)
    x.handshake(T0)
    x.send(T0 + 0.01, client_hello(API))
    x.rst_server_mid(T0 + 0.02)
    return sorted_capture(cap), "pcap"


def sensor_unobserved():
    cap = P.Capture()
    answered(cap, T0, S1, 49709, "10.40.9.9", 445)
    return sorted_capture(cap), "pcap"


def dns_a_response(txid, qname, addr):
    return (struct.pack("!HHHHHH", txid, 0x8180, 1, 1, 0, 0) + dns_name(qname) + struct.pack("!HH", 1, 1) +
            b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + P.ip_bytes(addr))


def sensor_one_sided():
    """The sensor resolves its sensor API name (the DNS answer names the cloud
    address), then only its own SYNs to that address are captured, long after any
    traffic toward it: passive analysis cannot tell whether 443 is open."""
    cap = P.Capture()
    udp_answered(cap, T0, S1, 53001, "10.40.0.1", 53, dns_query(0x5151, API, qtype=1),
                 dns_a_response(0x5151, API, CLOUD))
    one_sided_syn(cap, T0 + 30.0, S1, 49710, CLOUD, 443)
    one_sided_syn(cap, T0 + 40.0, S1, 49711, CLOUD, 443)
    cap.add(T0 + 60.0, P.ether(P.ip(S1, "10.40.0.1", P.udp(53002, 53, dns_query(0x5152, API, qtype=1)))))
    return sorted_capture(cap), "pcap"


# ---- expectations ---------------------------------------------------------------------

def sc(sensor, reached, via=None, proxy=None, failure=None, inspection=False):
    return {"sensor": sensor, "reached": reached, "via": via, "proxy": proxy, "failure": failure,
            "tls_inspection": inspection}


NW = "netwrix-threat-prevention"
NW_3741 = ["agent-em", "em-inbound-agent"]
NW_3740 = ["console-em", "remote-console-em", "em-inbound-remote-console"]
NNR_ALL = ["nnr-ntlm-rpc", "nnr-netbios", "nnr-rdp"]

_TABLE = [
    ("policy-netwrix-pass", netwrix_pass, NW,
     dict({r: "pass" for r in NW_3741 + NW_3740},
          **{"em-sql-tcp": "pass", "db-em-sql-tcp": "pass", "em-sql-udp": "pass", "db-em-sql-udp": "pass",
             # the same SQL traffic could be the Threat Manager's: judged on it, role inferred by rule
             "tm-sql-tcp": "pass", "tm-sql-udp": "pass"}),
     None, [NW], 0),
    ("policy-netwrix-fail", netwrix_fail, NW, {r: "fail" for r in NW_3741 + NW_3740}, None, [NW], 3),
    ("policy-netwrix-partial", netwrix_partial, NW, {r: "partial" for r in NW_3741}, None, [NW], 3),
    ("policy-netwrix-unobserved", netwrix_unobserved, NW, {}, None, [], 0),
    ("policy-netwrix-one-sided", netwrix_one_sided, NW, {r: "indeterminate" for r in NW_3741}, None, [NW], 0),
    ("policy-netwrix-epm-blocked", netwrix_epm_blocked, NW,
     dict({r: "pass" for r in NW_3741},
          **{"em-agents-rpc": "pass", "em-agents-dcom": "fail", "tm-dc-kerberos": "pass",
             "tm-dc-ldap": "pass", "tm-dc-epm": "pass", "tm-dc-rpc-dynamic": "fail"}),
     None, [NW], 3),
    ("policy-nnr-pass", nnr_pass, "mdi-nnr", dict({r: "pass" for r in NNR_ALL}, **{"nnr-dns": "pass"}),
     None, ["mdi-nnr"], 0),
    ("policy-nnr-fail", nnr_fail, "mdi-nnr", dict({r: "fail" for r in NNR_ALL}, **{"nnr-dns": "pass"}),
     None, ["mdi-nnr"], 3),
    ("policy-nnr-partial", nnr_partial, "mdi-nnr", dict({r: "partial" for r in NNR_ALL}, **{"nnr-dns": "pass"}),
     None, ["mdi-nnr"], 3),
    ("policy-nnr-rpc-only", nnr_rpc_only, "mdi-nnr", {"nnr-ntlm-rpc": "pass"}, None, ["mdi-nnr"], 0),
    ("policy-nnr-unobserved", nnr_unobserved, "mdi-nnr", {"nnr-dns": "pass"}, None, [], 0),
    ("policy-nnr-one-sided", nnr_one_sided, "mdi-nnr",
     dict({r: "indeterminate" for r in NNR_ALL}, **{"nnr-dns": "indeterminate"}), None, ["mdi-nnr"], 0),
    ("policy-sensor-direct", sensor_direct, "mdi-sensor", {"sensor-cloud-443": "pass"},
     [sc(S1, True, "direct")], ["mdi-sensor"], 0),
    ("policy-sensor-proxy-allowed", sensor_proxy_allowed, "mdi-sensor", {"sensor-cloud-443": "pass"},
     [sc(S1, True, "proxy", PROXY + ":8080")], ["mdi-sensor"], 0),
    ("policy-sensor-proxy-denied", sensor_proxy_denied, "mdi-sensor", {"sensor-cloud-443": "fail"},
     [sc(S1, False, None, None, "proxy-denied")], ["mdi-sensor"], 3),
    ("policy-sensor-proxy-auth", sensor_proxy_auth, "mdi-sensor", {"sensor-cloud-443": "fail"},
     [sc(S1, False, None, None, "proxy-auth-required")], ["mdi-sensor"], 3),
    ("policy-sensor-inspection", sensor_inspection, "mdi-sensor", {"sensor-cloud-443": "pass"},
     [sc(S1, True, "direct", None, None, True)], ["mdi-sensor"], 0),
    ("policy-sensor-partial", sensor_partial, "mdi-sensor", {"sensor-cloud-443": "partial"},
     [sc(S1, True, "direct"), sc(S2, False, None, None, "proxy-denied")], ["mdi-sensor"], 3),
    ("policy-sensor-tls-incomplete", sensor_tls_incomplete, "mdi-sensor", {"sensor-cloud-443": "fail"},
     [sc(S1, False, None, None, "tls-handshake-incomplete")], ["mdi-sensor"], 3),
    ("policy-sensor-unobserved", sensor_unobserved, "mdi-sensor", {"sensor-cloud-443": "unobserved"}, [], [], 0),
    ("policy-sensor-one-sided", sensor_one_sided, "mdi-sensor", {"sensor-cloud-443": "indeterminate"},
     [sc(S1, False)], ["mdi-sensor"], 0),
]

SCENARIOS = [(name, fn) for name, fn, *_ in _TABLE]
EXPECTED = {
    name: {"file": name + ".pcap", "profile": prof, "rules": rules, "sensor_cloud": cloud,
           "auto_profiles": auto, "fail_on_exit": exit_}
    for name, _fn, prof, rules, cloud, auto, exit_ in _TABLE
}
