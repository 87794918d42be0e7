"""STARTTLS scenarios (issue 12, item 3): TLS handshakes that start inside a
clear-text session, whose server certificates name the server.

  starttls-upgrades  LDAP StartTLS (extended operation 1.3.6.1.4.1.1466.20037,
                     success) on 389, SMTP EHLO + STARTTLS (220) on 25, IMAP
                     "a2 STARTTLS" (a2 OK) on 143, POP3 STLS (+OK) on 110 and
                     FTP AUTH TLS (234) on 21; each followed by a TLS 1.2
                     ClientHello and ServerHello + Certificate + ServerHelloDone
  starttls-refused   the same requests refused: LDAP resultCode 52
                     (unavailable), SMTP 454, IMAP NO, POP3 -ERR, FTP 534; each
                     session goes on in clear text and carries no certificate

The three server certificates (EC P-256, self-signed, O=Corp Example) were
made once with the openssl CLI for this project:
  ldap01.corp.example  SAN ldap01.corp.example, ldap.corp.example
  mail01.corp.example  SAN mail01.corp.example, smtp.corp.example
  mx02.corp.example    SAN mx02.corp.example, imap.corp.example,
                       pop.corp.example, ftp.corp.example (on three
                       addresses: IMAP, POP3 and FTP each name theirs)

Beside each capture, EXPECTED[name] lists the (server, port) pairs and what
each session does: {"file", "sessions": [(server ip, port, app, upgraded)]}
(read by tests/scenarios/test_starttls_names.py, which takes the names and
frames themselves from tshark).

Addresses: 10.50.0.0/16 (private).
"""
import struct

import pcapgen as P

T0 = 1732200000.0
CLIENT = "10.50.1.21"
LDAP_SRV, MAIL_SRV = "10.50.0.10", "10.50.0.25"
# three mail hosts sharing one certificate, so that each protocol's upgrade
# alone must name its server
IMAP_SRV, POP_SRV, FTP_SRV = "10.50.0.30", "10.50.0.31", "10.50.0.32"

CERT_LDAP01 = bytes.fromhex(
    "308201f43082019aa00302010202145ec52e78382987ec68bc1cd8540bbf42e88da67c300a06082a8648ce3d04030230"
    "3531153013060355040a0c0c436f7270204578616d706c65311c301a06035504030c136c64617030312e636f72702e65"
    "78616d706c65301e170d3236313132393134303730315a170d3336313132363134303730315a30353115301306035504"
    "0a0c0c436f7270204578616d706c65311c301a06035504030c136c64617030312e636f72702e6578616d706c65305930"
    "1306072a8648ce3d020106082a8648ce3d03010703420004c9a140160a90b614c8d80d99962ac9b59f8985a47ca820f1"
    "abfb19a98de392ec16d27bd2ca63302508d627d83b70830da0a0881af0b565691d765a763730eba6a38187308184301d"
    "0603551d0e0416041405b8d8e858c9c83b489937dcd74170fe341c8bdd301f0603551d2304183016801405b8d8e858c9"
    "c83b489937dcd74170fe341c8bdd300f0603551d130101ff040530030101ff30310603551d11042a302882136c646170"
    "30312e636f72702e6578616d706c6582116c6461702e636f72702e6578616d706c65300a06082a8648ce3d0403020348"
    "003045022100ba45965149e36b6214b9ba53cedb1749f1685d76d9a046110643a766d3d46f0902203ccd1b7207ea65c8"
    "a802649e9afcf24e87a00bc432a878f5e8be800fbf27b244"
)
CERT_MAIL01 = bytes.fromhex(
    "308201f53082019aa0030201020214219bb6600d5177d6ec306b5a376e429b11575f5d300a06082a8648ce3d04030230"
    "3531153013060355040a0c0c436f7270204578616d706c65311c301a06035504030c136d61696c30312e636f72702e65"
    "78616d706c65301e170d3236313132393134303730315a170d3336313132363134303730315a30353115301306035504"
    "0a0c0c436f7270204578616d706c65311c301a06035504030c136d61696c30312e636f72702e6578616d706c65305930"
    "1306072a8648ce3d020106082a8648ce3d03010703420004fb0354aae7b13c00c59a8d88188fa7f97e6cda38b7b50d21"
    "0e5232131a35b987a1886e6a264581dcf59fe4ff5acc1d5b0faafcf29dbc946d3fe21bf4fb53d9e0a38187308184301d"
    "0603551d0e04160414aeb6a561b5fa7eb747aedbe07c2de783607ca45d301f0603551d23041830168014aeb6a561b5fa"
    "7eb747aedbe07c2de783607ca45d300f0603551d130101ff040530030101ff30310603551d11042a302882136d61696c"
    "30312e636f72702e6578616d706c658211736d74702e636f72702e6578616d706c65300a06082a8648ce3d0403020349"
    "0030460221009261ed6ba922b2b36d908c659a3a378492d8d36232369694506aaba30696c39c022100a0fc33427c5031"
    "379d7e31169d9f6f078412e236c5dff8b7ebaafadfc81531f6"
)
CERT_MX02 = bytes.fromhex(
    "30820212308201b8a00302010202146b8329286263a6d0001828c2c30b161b87835ff2300a06082a8648ce3d04030230"
    "3331153013060355040a0c0c436f7270204578616d706c65311a301806035504030c116d7830322e636f72702e657861"
    "6d706c65301e170d3236313132393134303730325a170d3336313132363134303730325a303331153013060355040a0c"
    "0c436f7270204578616d706c65311a301806035504030c116d7830322e636f72702e6578616d706c653059301306072a"
    "8648ce3d020106082a8648ce3d0301070342000467a2db7c17e92e51e6654061336cc1d8c13573565aab16e8a3ace3dd"
    "7256851db0624b4f35a69b11dfb338432a4d52505dd73b4e3005fa5c894b04555ce8a609a381a93081a6301d0603551d"
    "0e041604147aac3f00ec05e726b841400c0391cc74790ba16f301f0603551d230418301680147aac3f00ec05e726b841"
    "400c0391cc74790ba16f300f0603551d130101ff040530030101ff30530603551d11044c304a82116d7830322e636f72"
    "702e6578616d706c658211696d61702e636f72702e6578616d706c658210706f702e636f72702e6578616d706c658210"
    "6674702e636f72702e6578616d706c65300a06082a8648ce3d040302034800304502206c38848808b9329fb66e1d38e7"
    "397e46d484e24aeb8fbc47e1eb9858adc24caf022100d946e66a3347b18904ad2750dcc1260bdf5d2fed9327f8ed261d"
    "836bdede2d91"
)

STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"


# ---------------------------------------------------------------------------
# TLS 1.2 first flights

def tls_record(payload, ctype=0x16, version=0x0303):
    return struct.pack("!BHH", ctype, version, len(payload)) + payload


def hs_msg(t, body):
    return struct.pack("!B", t) + struct.pack("!I", len(body))[1:] + body


def client_hello(sni):
    sn = sni.encode()
    ext = struct.pack("!HHHBH", 0, len(sn) + 5, len(sn) + 3, 0, len(sn)) + sn
    ext += struct.pack("!HHHH", 10, 4, 2, 23)                                  # supported_groups
    ext += struct.pack("!HHHHH", 13, 6, 4, 0x0403, 0x0804)                      # signature_algorithms
    suites = struct.pack("!HHH", 0xc02b, 0xc02f, 0x009c)
    body = struct.pack("!H", 0x0303) + b"\x31" * 32 + b"\x00" + struct.pack("!H", len(suites)) + suites
    body += b"\x01\x00" + struct.pack("!H", len(ext)) + ext
    return tls_record(hs_msg(1, body), version=0x0301)


def server_flight(cert):
    sh = struct.pack("!H", 0x0303) + b"\x42" * 32 + b"\x00" + struct.pack("!HB", 0xc02b, 0) + b"\x00\x00"
    certs = struct.pack("!I", len(cert))[1:] + cert
    cm = struct.pack("!I", len(certs))[1:] + certs
    return tls_record(hs_msg(2, sh) + hs_msg(11, cm) + hs_msg(14, b""))


# ---------------------------------------------------------------------------
# LDAP (RFC 4511 BER)

def ber(tag, value):
    n = len(value)
    if n < 0x80:
        return bytes([tag, n]) + value
    if n < 0x100:
        return bytes([tag, 0x81, n]) + value
    return bytes([tag, 0x82]) + struct.pack("!H", n) + value


def ldap_msg(msgid, op, body):
    return ber(0x30, ber(0x02, bytes([msgid])) + ber(op, body))


def extended_request(msgid):
    return ldap_msg(msgid, 0x77, ber(0x80, STARTTLS_OID))


def extended_response(msgid, result):
    diag = b"" if result == 0 else b"TLS is not configured"
    return ldap_msg(msgid, 0x78, ber(0x0a, bytes([result])) + ber(0x04, b"") + ber(0x04, diag) +
                    ber(0x8a, STARTTLS_OID))


def unbind(msgid):
    return ldap_msg(msgid, 0x42, b"")


# ---------------------------------------------------------------------------
# sessions

def session(cap, t, server, port, cport, turns, cert=None, sni=None):
    """A TCP connection: `turns` is a list of (from_client, bytes); with
    `cert`, the upgrade's ClientHello and the server's flight follow."""
    x = P.Conversation(cap, CLIENT, cport, server, port, isn_c=cport * 1000, isn_s=port * 1000 + 7)
    x.handshake(t)
    t += 0.01
    for from_client, data in turns:
        x.send(t, data, from_client=from_client)
        t += 0.002
    if cert:
        x.send(t, client_hello(sni))
        x.send(t + 0.002, server_flight(cert), from_client=False)
        t += 0.004
    x.fin(t + 0.01)
    return t + 0.02


C, S = True, False


def ldap_turns(result):
    turns = [(C, extended_request(1)), (S, extended_response(1, result))]
    return turns if result == 0 else turns + [(C, unbind(2))]


def smtp_turns(answer):
    turns = [(S, b"220 mail01.corp.example ESMTP\r\n"), (C, b"EHLO ws21.corp.example\r\n"),
             (S, b"250-mail01.corp.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 STARTTLS\r\n"),
             (C, b"STARTTLS\r\n"), (S, answer)]
    return turns if answer.startswith(b"220") else turns + [(C, b"QUIT\r\n"), (S, b"221 2.0.0 Bye\r\n")]


def imap_turns(answer):
    turns = [(S, b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] mx02 ready\r\n"),
             (C, b"a1 CAPABILITY\r\n"),
             (S, b"* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na1 OK CAPABILITY completed\r\n"),
             (C, b"a2 STARTTLS\r\n"), (S, answer)]
    return turns if b" OK " in answer else turns + [(C, b"a3 LOGOUT\r\n"),
                                                    (S, b"* BYE logging out\r\na3 OK LOGOUT completed\r\n")]


def pop3_turns(answer):
    turns = [(S, b"+OK mx02 POP3 ready\r\n"), (C, b"CAPA\r\n"),
             (S, b"+OK Capability list follows\r\nUSER\r\nSTLS\r\n.\r\n"), (C, b"STLS\r\n"), (S, answer)]
    return turns if answer.startswith(b"+OK") else turns + [(C, b"QUIT\r\n"), (S, b"+OK bye\r\n")]


def ftp_turns(answer):
    turns = [(S, b"220-mx02 FTP service\r\n220 ready\r\n"), (C, b"AUTH TLS\r\n"), (S, answer)]
    return turns if answer.startswith(b"234") else turns + [(C, b"QUIT\r\n"), (S, b"221 Goodbye.\r\n")]


def upgrades():
    cap = P.Capture()
    t = T0
    t = session(cap, t, LDAP_SRV, 389, 50101, ldap_turns(0), CERT_LDAP01, "ldap01.corp.example")
    t = session(cap, t, MAIL_SRV, 25, 50102, smtp_turns(b"220 2.0.0 Ready to start TLS\r\n"),
                CERT_MAIL01, "mail01.corp.example")
    t = session(cap, t, IMAP_SRV, 143, 50103, imap_turns(b"a2 OK Begin TLS negotiation now\r\n"),
                CERT_MX02, "imap.corp.example")
    t = session(cap, t, POP_SRV, 110, 50104, pop3_turns(b"+OK Begin TLS negotiation\r\n"),
                CERT_MX02, "pop.corp.example")
    session(cap, t, FTP_SRV, 21, 50105, ftp_turns(b"234 AUTH TLS OK.\r\n"), CERT_MX02, "ftp.corp.example")
    EXPECTED["starttls-upgrades"] = {
        "file": "starttls-upgrades.pcap",
        "sessions": [(LDAP_SRV, 389, "ldap", True), (MAIL_SRV, 25, "smtp", True), (IMAP_SRV, 143, "imap", True),
                     (POP_SRV, 110, "pop3", True), (FTP_SRV, 21, "ftp", True)],
    }
    return cap, "pcap"


def refused():
    cap = P.Capture()
    t = T0
    t = session(cap, t, LDAP_SRV, 389, 50201, ldap_turns(52))
    t = session(cap, t, MAIL_SRV, 587, 50202, smtp_turns(b"454 4.7.0 TLS not available due to temporary reason\r\n"))
    t = session(cap, t, IMAP_SRV, 143, 50203, imap_turns(b"a2 NO STARTTLS is not available\r\n"))
    t = session(cap, t, POP_SRV, 110, 50204, pop3_turns(b"-ERR STLS not permitted\r\n"))
    session(cap, t, FTP_SRV, 21, 50205, ftp_turns(b"534 Request denied for policy reasons.\r\n"))
    EXPECTED["starttls-refused"] = {
        "file": "starttls-refused.pcap",
        "sessions": [(LDAP_SRV, 389, "ldap", False), (MAIL_SRV, 587, "smtp", False), (IMAP_SRV, 143, "imap", False),
                     (POP_SRV, 110, "pop3", False), (FTP_SRV, 21, "ftp", False)],
    }
    return cap, "pcap"


EXPECTED = {}
SCENARIOS = [
    ("starttls-upgrades", upgrades),
    ("starttls-refused", refused),
]


def expected():
    """EXPECTED, filled by running every scenario (the test calls this)."""
    for _name, fn in SCENARIOS:
        fn()
    return EXPECTED
