"""SQL Server scenarios (issue 8): the SQL Server Browser on UDP 1434 (MS-SQLR)
and TDS logins (MS-TDS), as Netwrix Threat Prevention needs them (SQL Server
on TCP 1433, the Browser on UDP 1434 and the instance port it announces).

  sql-browser-instance   CLNT_UCAST_INST "NETWRIX" to the SQL host; SVR_RESP
                         with two instances (NETWRIX on tcp 50123, MSSQLSERVER
                         on 1433); the client connects to 50123 and logs in:
                         PRELOGIN both ways (no encryption), LOGIN7, LOGINACK
  sql-browser-dropped    the same Browser exchange, but the SYN to 50123 is
                         retransmitted and never answered; a later Browser
                         query shows the client still reachable
  sql-login-failed       TDS on 1433: PRELOGIN, LOGIN7 for user 'x', ERROR 18456
                         "Login failed for user 'x'." and DONE (error)
  sql-prelogin-tls       PRELOGIN with encryption (ENCRYPT_ON both ways), then
                         the TLS 1.2 handshake inside PRELOGIN packets (the
                         server's certificate CN=sql01.corp.example split over
                         two packets), then the encrypted login (raw TLS)
  sql-browser-broadcast  CLNT_BCAST_EX to 255.255.255.255:1434 answered by two
                         servers, each listing its own instances

The certificate (EC P-256, self-signed, CN/SAN sql01.corp.example + sql01) was
made once with the openssl CLI for this project.

Beside each capture, EXPECTED[name] says what tshark decodes and what the
dissectors must report (read by tests/scenarios/test_sql_oracle.py):

  {"file", "tds_ports": [ports tshark must decode as TDS],
   "tds": [(frame, kind, {field: value})]   kind: prelogin / loginack / error / done / encrypted
   "ssrp": [(frame, kind, {field: value}, [instances as dicts])],
   "tls_cert": (frame, subject CN, [SAN dNSNames]) or None}

Addresses: 10.40.0.0/16 (private).
"""
import struct

import pcapgen as P

T0 = 1732100000.0
CLIENT, CLIENT2 = "10.40.1.21", "10.40.1.22"
SQL, SQL2 = "10.40.0.20", "10.40.0.21"

CERT_SQL01 = bytes.fromhex(
    "308201b53082015ba003020102021401d641123607692f71abb16141b3c27460f16352300a06082a8648ce3d04030230"
    "1d311b301906035504030c1273716c30312e636f72702e6578616d706c65301e170d3236313132393131353332365a17"
    "0d3336313132363131353332365a301d311b301906035504030c1273716c30312e636f72702e6578616d706c65305930"
    "1306072a8648ce3d020106082a8648ce3d03010703420004327568ec736d6f3e1db2b5f1a499f9f09eac0f595cbc8b42"
    "b4f307029739e35297477f9e52ef9c588cdc71a6fad954fc3eb4125872d0f725b7b7e26cb3c97b8da3793077301d0603"
    "551d0e04160414314526a3ee194565dab5dc6ece1f055c3ed0f2aa301f0603551d23041830168014314526a3ee194565"
    "dab5dc6ece1f055c3ed0f2aa300f0603551d130101ff040530030101ff30240603551d11041d301b821273716c30312e"
    "636f72702e6578616d706c65820573716c3031300a06082a8648ce3d040302034800304502207a35ec69ee9b9debcc3b"
    "36c068f6685df597079f7901944bc6b5537039cf3301022100a3d1a0516510d9000444eb7a5f92e23fd5b320f7f8842d"
    "4ce58428246167c360"
)


# ---------------------------------------------------------------------------
# MS-SQLR (SQL Server Browser)

def clnt_ucast_inst(instance):
    return b"\x04" + instance.encode() + b"\x00"


def svr_resp(records):
    """SVR_RESP: 0x05, RESP_SIZE (LE16), the records, each ended by ';;'."""
    data = b""
    for r in records:
        data += b"".join(("%s;%s;" % (k, v)).encode() for k, v in r) + b";"
    return b"\x05" + struct.pack("<H", len(data)) + data


def instance(server, name, port, version="15.0.2000.5", pipe=True):
    r = [("ServerName", server), ("InstanceName", name), ("IsClustered", "No"), ("Version", version)]
    if port:
        r.append(("tcp", str(port)))
    if pipe:
        path = "\\\\%s\\pipe\\sql\\query" % server if name == "MSSQLSERVER" else \
            "\\\\%s\\pipe\\MSSQL$%s\\sql\\query" % (server, name)
        r.append(("np", path))
    return r


def inst_expect(server, name, port, version="15.0.2000.5", pipe=True):
    np = ""
    if pipe:
        np = "\\\\%s\\pipe\\sql\\query" % server if name == "MSSQLSERVER" else \
            "\\\\%s\\pipe\\MSSQL$%s\\sql\\query" % (server, name)
    return {"server_name": server, "instance": name, "version": version, "clustered": 0,
            "tcp_port": port, "np": np}


# ---------------------------------------------------------------------------
# MS-TDS

def tds_pkt(ptype, payload, status=1, pkt_id=1, spid=0):
    return struct.pack("!BBHHBB", ptype, status, 8 + len(payload), spid, pkt_id, 0) + payload


def prelogin(encryption, version=(15, 0, 2000, 0), instopt=b"\x00", thread_id=None, mars=0):
    """PRELOGIN option list: VERSION, ENCRYPTION, INSTOPT, THREADID, MARS, 0xFF."""
    opts = [(0, struct.pack("!BBHH", version[0], version[1], version[2], version[3])),
            (1, bytes([encryption])), (2, instopt),
            (3, struct.pack("!I", thread_id) if thread_id is not None else b""),
            (4, bytes([mars]))]
    off = 5 * len(opts) + 1
    head, body = b"", b""
    for tok, val in opts:
        head += struct.pack("!BHH", tok, off + len(body), len(val))
        body += val
    return head + b"\xff" + body


def ucs2(s):
    return s.encode("utf-16-le")


def login7(user, password, host, app, server, database):
    """LOGIN7 with SQL authentication (MS-TDS 2.2.6.4), TDS 7.4."""
    def obfuscate(pw):
        return bytes((((b << 4) & 0xF0) | (b >> 4)) ^ 0xA5 for b in ucs2(pw))
    fields = [ucs2(host), ucs2(user), obfuscate(password), ucs2(app), ucs2(server),
              b"", ucs2("portwitness-odbc"), b"", ucs2(database)]
    fixed = 94
    data, offs = b"", []
    for f in fields:
        offs.append((fixed + len(data), len(f) // 2))
        data += f
    head = struct.pack("<IIIIII", 0, 0x74000004, 4096, 0x07000000, 4242, 0)
    head += bytes([0xE0, 0x03, 0x00, 0x00]) + struct.pack("<iI", -60, 0x0409)
    for o, n in offs:
        head += struct.pack("<HH", o, n)
    head += b"\x00\x50\x56\xaa\xbb\xcc"                        # ClientID
    end = fixed + len(data)
    head += struct.pack("<HH", end, 0)                         # SSPI
    head += struct.pack("<HH", end, 0) + struct.pack("<HH", end, 0)  # AtchDBFile, ChangePassword
    head += struct.pack("<I", 0)                               # cbSSPILong
    assert len(head) == fixed
    body = head + data
    return struct.pack("<I", len(body)) + body[4:]


def tok_envchange_database(new, old):
    v = bytes([1]) + bytes([len(new)]) + ucs2(new) + bytes([len(old)]) + ucs2(old)
    return b"\xe3" + struct.pack("<H", len(v)) + v


def tok_info(number, msg, server):
    v = struct.pack("<IBB", number, 1, 0) + struct.pack("<H", len(msg)) + ucs2(msg)
    v += bytes([len(server)]) + ucs2(server) + b"\x00" + struct.pack("<I", 1)
    return b"\xab" + struct.pack("<H", len(v)) + v


def tok_loginack(prog, version):
    v = b"\x01" + struct.pack("!I", 0x74000004) + bytes([len(prog)]) + ucs2(prog) + bytes(version)
    return b"\xad" + struct.pack("<H", len(v)) + v


def tok_error(number, state, cls, msg, server, proc="", line=1):
    v = struct.pack("<IBB", number, state, cls) + struct.pack("<H", len(msg)) + ucs2(msg)
    v += bytes([len(server)]) + ucs2(server) + bytes([len(proc)]) + ucs2(proc) + struct.pack("<I", line)
    return b"\xaa" + struct.pack("<H", len(v)) + v


def tok_done(status, curcmd=0, rows=0):
    return b"\xfd" + struct.pack("<HHQ", status, curcmd, rows)


# ---------------------------------------------------------------------------
# TLS 1.2 (RFC 5246), carried in PRELOGIN packets

def tls_record(ctype, body, ver=0x0303):
    return struct.pack("!BHH", ctype, ver, len(body)) + body


def hs(htype, body):
    return bytes([htype]) + len(body).to_bytes(3, "big") + body


def fixed_bytes(label, n):
    """Deterministic filler (randoms, key shares, ciphertext)."""
    out, i = b"", 0
    while len(out) < n:
        out += bytes((ord(c) + i * 7 + k) & 0xFF for k, c in enumerate(label))
        i += 1
    return out[:n]


def client_hello():
    ciphers = [0xC030, 0xC02F, 0xC028, 0xC027, 0x009F, 0x009E]
    exts = struct.pack("!HH", 0xFF01, 1) + b"\x00" + struct.pack("!HH", 23, 0)
    body = struct.pack("!H", 0x0303) + fixed_bytes("client-random", 32) + b"\x00"
    body += struct.pack("!H", 2 * len(ciphers)) + b"".join(struct.pack("!H", c) for c in ciphers)
    body += b"\x01\x00" + struct.pack("!H", len(exts)) + exts
    return tls_record(22, hs(1, body), ver=0x0301)


def server_flight(cert):
    exts = struct.pack("!HH", 0xFF01, 1) + b"\x00" + struct.pack("!HH", 23, 0)
    sh = struct.pack("!H", 0x0303) + fixed_bytes("server-random", 32) + b"\x00" + struct.pack("!HB", 0xC030, 0)
    sh += struct.pack("!H", len(exts)) + exts
    certs = len(cert).to_bytes(3, "big") + cert
    return tls_record(22, hs(2, sh) + hs(11, len(certs).to_bytes(3, "big") + certs) + hs(14, b""))


def in_prelogin(data, max_payload):
    """TLS bytes in PRELOGIN packets of at most max_payload bytes (EOM on the last)."""
    out = b""
    chunks = [data[i:i + max_payload] for i in range(0, len(data), max_payload)]
    for i, c in enumerate(chunks):
        out += tds_pkt(0x12, c, status=1 if i == len(chunks) - 1 else 0, pkt_id=i + 1)
    return out


# ---------------------------------------------------------------------------
# scenarios

class Expect:
    def __init__(self, name, tds_ports=()):
        self.e = {"file": name + ".pcap", "tds_ports": list(tds_ports), "tds": [], "ssrp": [],
                  "tls_cert": None}

    def tds(self, frame, kind, **fields):
        self.e["tds"].append((frame, kind, fields))

    def ssrp(self, frame, kind, instances=(), **fields):
        self.e["ssrp"].append((frame, kind, fields, list(instances)))


def browser_exchange(cap, x, t, cport=61001):
    """CLNT_UCAST_INST NETWRIX, answered with the NETWRIX and default instances."""
    u = P.Conversation(cap, CLIENT, cport, SQL, 1434)
    f = u.udp_request(t, clnt_ucast_inst("NETWRIX"))
    x.ssrp(f, "ucast_inst", instance="NETWRIX")
    f = u.udp_reply(t + 0.0008, svr_resp([instance("SQL01", "NETWRIX", 50123),
                                          instance("SQL01", "MSSQLSERVER", 1433)]))
    x.ssrp(f, "response", instances=[inst_expect("SQL01", "NETWRIX", 50123),
                                     inst_expect("SQL01", "MSSQLSERVER", 1433)])


def tds_login(c, x, t, encryption_c=2, encryption_s=2, fail_user=None):
    """PRELOGIN both ways, LOGIN7, then LOGINACK (or ERROR 18456 for fail_user)."""
    f = c.send(t, tds_pkt(0x12, prelogin(encryption_c, version=(16, 0, 1000, 0), thread_id=4242)))
    x.tds(f, "prelogin", dir=0, encryption=encryption_c, version=0x100003E8)
    f = c.send(t + 0.001, tds_pkt(0x04, prelogin(encryption_s)), from_client=False)
    x.tds(f, "prelogin", dir=1, encryption=encryption_s, version=0x0F0007D0)
    user = fail_user or "netwrix_svc"
    c.send(t + 0.002, tds_pkt(0x10, login7(user, "S3cret!", "NTPAGENT01", "Netwrix Threat Prevention",
                                           "SQL01", "NVMonitorData")))
    if fail_user:
        msg = "Login failed for user '%s'." % fail_user
        f = c.send(t + 0.004, tds_pkt(0x04, tok_error(18456, 1, 14, msg, "SQL01") + tok_done(0x0002)),
                   from_client=False)
        x.tds(f, "error", number=18456, state=1, severity=14, message=msg, server_name="SQL01")
        x.tds(f, "done", status=2)
    else:
        f = c.send(t + 0.004, tds_pkt(0x04, tok_envchange_database("NVMonitorData", "master")
                                      + tok_info(5701, "Changed database context to 'NVMonitorData'.", "SQL01")
                                      + tok_loginack("Microsoft SQL Server", (15, 0, 0x07, 0xD0))
                                      + tok_done(0x0000)), from_client=False)
        x.tds(f, "loginack", prog_name="Microsoft SQL Server", tds_version=0x74000004)
        x.tds(f, "done", status=0)


def browser_instance():
    cap = P.Capture()
    x = Expect("sql-browser-instance", tds_ports=[50123])
    browser_exchange(cap, x, T0)
    c = P.Conversation(cap, CLIENT, 52001, SQL, 50123)
    c.handshake(T0 + 0.01)
    tds_login(c, x, T0 + 0.012)
    c.fin(T0 + 0.1)
    EXPECTED["sql-browser-instance"] = x.e
    return cap, "pcap"


def browser_dropped():
    cap = P.Capture()
    x = Expect("sql-browser-dropped")
    browser_exchange(cap, x, T0 + 100)
    c = P.Conversation(cap, CLIENT, 52002, SQL, 50123)
    for dt in (0.01, 1.01, 3.01, 7.01):   # Windows' SYN retransmissions, never answered
        c.syn(T0 + 100 + dt)
    u = P.Conversation(cap, CLIENT, 61003, SQL, 1434)
    f = u.udp_request(T0 + 125, clnt_ucast_inst("NETWRIX"))
    x.ssrp(f, "ucast_inst", instance="NETWRIX")
    f = u.udp_reply(T0 + 125.0008, svr_resp([instance("SQL01", "NETWRIX", 50123)]))
    x.ssrp(f, "response", instances=[inst_expect("SQL01", "NETWRIX", 50123)])
    EXPECTED["sql-browser-dropped"] = x.e
    return cap, "pcap"


def login_failed():
    cap = P.Capture()
    x = Expect("sql-login-failed", tds_ports=[1433])
    c = P.Conversation(cap, CLIENT2, 52003, SQL, 1433)
    c.handshake(T0 + 200)
    tds_login(c, x, T0 + 200.002, fail_user="x")
    c.fin(T0 + 200.1)
    EXPECTED["sql-login-failed"] = x.e
    return cap, "pcap"


def prelogin_tls():
    cap = P.Capture()
    x = Expect("sql-prelogin-tls", tds_ports=[1433])
    c = P.Conversation(cap, CLIENT, 52004, SQL, 1433)
    t = T0 + 300
    c.handshake(t)
    f = c.send(t + 0.002, tds_pkt(0x12, prelogin(1, version=(16, 0, 1000, 0), thread_id=4243)))
    x.tds(f, "prelogin", dir=0, encryption=1, version=0x100003E8)
    f = c.send(t + 0.003, tds_pkt(0x04, prelogin(1)), from_client=False)
    x.tds(f, "prelogin", dir=1, encryption=1, version=0x0F0007D0)
    c.send(t + 0.004, in_prelogin(client_hello(), 4088))
    flight = in_prelogin(server_flight(CERT_SQL01), 400)   # the certificate spans two packets
    f = c.send(t + 0.006, flight, from_client=False)
    x.e["tls_cert"] = (f, "sql01.corp.example", ["sql01.corp.example", "sql01"])
    x.tds(f, "encrypted")
    cke = tls_record(22, hs(16, bytes([65]) + fixed_bytes("client-key", 65)))
    c.send(t + 0.008, in_prelogin(cke + tls_record(20, b"\x01") + tls_record(22, fixed_bytes("fin-c", 40)), 4088))
    c.send(t + 0.010, in_prelogin(tls_record(20, b"\x01") + tls_record(22, fixed_bytes("fin-s", 40)), 4088),
           from_client=False)
    # the LOGIN7, encrypted: raw TLS records from here on
    c.send(t + 0.012, tls_record(23, fixed_bytes("login7", 300)))
    c.send(t + 0.014, tls_record(23, fixed_bytes("loginack", 200)), from_client=False)
    c.fin(t + 0.1)
    EXPECTED["sql-prelogin-tls"] = x.e
    return cap, "pcap"


def browser_broadcast():
    cap = P.Capture()
    x = Expect("sql-browser-broadcast")
    t = T0 + 400
    f = cap.add(t, P.ether(P.ip(CLIENT, "255.255.255.255", P.udp(61002, 1434, b"\x02")),
                           dst_mac=b"\xff" * 6))
    x.ssrp(f, "bcast_ex")
    a = P.Conversation(cap, CLIENT, 61002, SQL, 1434)
    f = a.udp_reply(t + 0.0009, svr_resp([instance("SQL01", "NETWRIX", 50123),
                                          instance("SQL01", "MSSQLSERVER", 1433)]))
    x.ssrp(f, "response", instances=[inst_expect("SQL01", "NETWRIX", 50123),
                                     inst_expect("SQL01", "MSSQLSERVER", 1433)])
    b = P.Conversation(cap, CLIENT, 61002, SQL2, 1434)
    f = b.udp_reply(t + 0.0013, svr_resp([instance("SQL02", "SQLEXPRESS", 0, version="16.0.1000.6")]))
    x.ssrp(f, "response", instances=[inst_expect("SQL02", "SQLEXPRESS", 0, version="16.0.1000.6")])
    EXPECTED["sql-browser-broadcast"] = x.e
    return cap, "pcap"


EXPECTED = {}
SCENARIOS = [
    ("sql-browser-instance", browser_instance),
    ("sql-browser-dropped", browser_dropped),
    ("sql-login-failed", login_failed),
    ("sql-prelogin-tls", prelogin_tls),
    ("sql-browser-broadcast", browser_broadcast),
]


def expected():
    """EXPECTED, filled by running every scenario (the test calls this)."""
    for _name, fn in SCENARIOS:
        fn()
    return EXPECTED
