"""gRPC over HTTP/2 cleartext (h2c, prior knowledge) scenarios (issue 8): a
Netwrix Threat Prevention agent talking to its Enterprise Manager on TCP 3741
and 3740.  The method paths are invented, Netwrix-like.

  grpc-agent-3741       two calls on one connection: Register succeeds
                        (grpc-status 0); UploadEvents fails 14 UNAVAILABLE with a
                        percent-encoded grpc-message; the second request's
                        headers come from the client's HPACK dynamic table
  grpc-trailers-only    two calls answered Trailers-Only (16 UNAUTHENTICATED,
                        12 UNIMPLEMENTED)
  grpc-goaway-rst       three calls: the client cancels one (RST_STREAM CANCEL),
                        the server sends GOAWAY (last stream 3), finishes 3 and
                        never processes 5; PING, WINDOW_UPDATE and PRIORITY too
  grpc-continuation     a request header block over HEADERS + 2 CONTINUATION
                        frames, cut into TCP segments across frame boundaries;
                        a padded response
  grpc-em-3740          one successful call on TCP 3740
  grpc-server-first     the Enterprise Manager sends its SETTINGS right after the
                        handshake, before the agent's connection preface (as an
                        h2c server may); one successful call

Beside each capture, EXPECTED[name] lists its calls as tshark decodes them
and as the dissector must report them (read by tests/scenarios/
test_grpc_oracle.py):

  {"file": "grpc-....pcap", "server_port": 3741,
   "calls": [{"stream", "path", "authority", "http_status" (0: none),
              "grpc_status" (-1: none), "grpc_message" (decoded), "end",
              "trailers_only"}],
   "rst": [(stream, error code name)], "goaway": (last stream id, error code name) or None}

Addresses: 10.30.0.0/16 (private).
"""
import h2gen as H
import pcapgen as P

T0 = 1732000000.0
AGENT, AGENT2 = "10.30.1.21", "10.30.1.22"
EM = "10.30.0.10"
AUTHORITY = "em01.corp.example:3741"
USER_AGENT = "grpc-dotnet/2.57.0 (.NET 8.0.1; CLR 8.0.1; net8.0; windows; x64)"
SVC = "/netwrix.agent.v1.AgentService/"


class H2Conn:
    """One h2c connection: the TCP conversation and an HPACK encoder per side."""

    def __init__(self, cap, client, cport, server, sport, t):
        self.conv = P.Conversation(cap, client, cport, server, sport)
        self.enc_c, self.enc_s = H.Encoder(), H.Encoder()
        self.conv.handshake(t)

    def client(self, t, payload, segment=None):
        """Client bytes in one segment, or cut into `segment`-byte segments."""
        return self._send(t, payload, True, segment)

    def server(self, t, payload, segment=None):
        return self._send(t, payload, False, segment)

    def _send(self, t, payload, from_client, segment):
        step = segment or len(payload)
        first = None
        for i, off in enumerate(range(0, len(payload), step)):
            f = self.conv.send(t + i * 0.0001, payload[off:off + step], from_client)
            first = first or f
        return first

    def open(self, t, server_first=False):
        """Client preface + SETTINGS + WINDOW_UPDATE, server SETTINGS + ACK, client ACK;
        server_first: the server's SETTINGS goes out before the client's preface."""
        server_settings = H.settings([(H.SETTINGS_MAX_CONCURRENT_STREAMS, 100),
                                      (H.SETTINGS_MAX_FRAME_SIZE, 16384)])
        if server_first:
            self.server(t, server_settings)
            t += 0.001
            server_settings = b""
        self.client(t, H.PREFACE + H.settings([(H.SETTINGS_ENABLE_PUSH, 0),
                                               (H.SETTINGS_INITIAL_WINDOW_SIZE, 4194304),
                                               (H.SETTINGS_MAX_HEADER_LIST_SIZE, 8192)])
                    + H.window_update(0, 4128769))
        self.server(t + 0.001, server_settings + H.settings(ack=True))
        self.client(t + 0.002, H.settings(ack=True))

    def request_block(self, method, authority=AUTHORITY, extra=()):
        return self.enc_c.block([(":method", "POST"), (":scheme", "http"), (":path", SVC + method
                                                                            if "/" not in method else method),
                                 (":authority", authority), ("content-type", "application/grpc"),
                                 ("user-agent", USER_AGENT), ("te", "trailers"),
                                 ("grpc-timeout", "30S")] + list(extra))

    def response_block(self):
        return self.enc_s.block([(":status", "200"), ("content-type", "application/grpc")])

    def trailers_block(self, status, message=None):
        fields = [("grpc-status", str(status))]
        if message is not None:
            fields.append(("grpc-message", H.grpc_percent_encode(message), "noidx"))
        return self.enc_s.block(fields)


def msg(*fields):
    return H.grpc_message(b"".join(H.pb_string(i + 1, f) for i, f in enumerate(fields)))


def call(stream, method, http_status=200, grpc_status=0, message="", end="complete",
         trailers_only=False, authority=AUTHORITY):
    return {"stream": stream, "path": SVC + method if "/" not in method else method,
            "authority": authority, "http_status": http_status, "grpc_status": grpc_status,
            "grpc_message": message, "end": end, "trailers_only": trailers_only}


# ---- (a) two calls, the second from the dynamic table, fails UNAVAILABLE ----

UNAVAILABLE_MSG = ("Event store unavailable: SQL Server 'SQL01' not reachable (TCP 1433) "
                   "\u2013 retrying in 30 s")


def agent_3741():
    cap = P.Capture()
    c = H2Conn(cap, AGENT, 50321, EM, 3741, T0)
    c.open(T0 + 0.01)
    t = T0 + 0.1
    c.client(t, H.headers(1, c.request_block("Register"))
             + H.data(1, msg("AGENT-WS021", "10.30.1.21", "7.5.0.1234"), end_stream=True))
    c.server(t + 0.004, H.headers(1, c.response_block())
             + H.data(1, msg("3f6d1c2e-agent-0021", "accepted")))
    c.server(t + 0.005, H.headers(1, c.trailers_block(0), end_stream=True))
    t = T0 + 5.0
    c.client(t, H.headers(3, c.request_block("UploadEvents"))
             + H.data(3, msg("batch-000017", "412 events"), end_stream=True))
    c.server(t + 0.010, H.headers(3, c.response_block()))
    c.server(t + 0.011, H.headers(3, c.trailers_block(14, UNAVAILABLE_MSG), end_stream=True))
    c.conv.fin(T0 + 6.0)
    return cap, "pcap"


# ---- (b) Trailers-Only ----

def trailers_only():
    cap = P.Capture()
    c = H2Conn(cap, AGENT2, 50411, EM, 3741, T0 + 20)
    c.open(T0 + 20.01)
    t = T0 + 20.1
    c.client(t, H.headers(1, c.request_block("GetPolicy")) + H.data(1, msg("AGENT-WS022"), end_stream=True))
    c.server(t + 0.003, H.headers(1, c.enc_s.block([
        (":status", "200"), ("content-type", "application/grpc"), ("grpc-status", "16"),
        ("grpc-message", H.grpc_percent_encode("agent certificate is not trusted by the Enterprise Manager"),
         "noidx")]), end_stream=True))
    t = T0 + 21.0
    c.client(t, H.headers(3, c.request_block("Heartbeat")) + H.data(3, msg("AGENT-WS022"), end_stream=True))
    c.server(t + 0.002, H.headers(3, c.enc_s.block([
        (":status", "200"), ("content-type", "application/grpc"), ("grpc-status", "12"),
        ("grpc-message", H.grpc_percent_encode("Method not found: netwrix.agent.v1.AgentService/Heartbeat"),
         "noidx")]), end_stream=True))
    c.conv.fin(T0 + 22.0)
    return cap, "pcap"


# ---- (c) RST_STREAM and GOAWAY ----

def goaway_rst():
    cap = P.Capture()
    c = H2Conn(cap, AGENT, 50533, EM, 3741, T0 + 40)
    c.open(T0 + 40.01)
    t = T0 + 40.1
    c.client(t, H.headers(1, c.request_block("StreamEvents"), priority=(0, 16, False))
             + H.data(1, msg("subscribe", "policy-changes")))
    c.client(t + 0.001, H.headers(3, c.request_block("Heartbeat"))
             + H.data(3, msg("AGENT-WS021"), end_stream=True)
             + H.frame(H.PRIORITY, 0, 3, bytes([0, 0, 0, 1, 31]))
             + H.headers(5, c.request_block("GetPolicy")) + H.data(5, msg("AGENT-WS021"), end_stream=True))
    c.server(t + 0.003, H.ping(b"netwrix!") + H.window_update(1, 65535))
    c.client(t + 0.004, H.ping(b"netwrix!", ack=True))
    c.client(t + 0.5, H.rst_stream(1, H.CANCEL))  # the agent gives up its event stream
    c.server(t + 0.6, H.goaway(3, H.NO_ERROR, b"server shutting down"))
    c.server(t + 0.601, H.headers(3, c.response_block()) + H.data(3, msg("ok"))
             + H.headers(3, c.trailers_block(0), end_stream=True))
    c.conv.fin(T0 + 41.0)
    return cap, "pcap"


# ---- (d) CONTINUATION over several TCP segments ----

CERT_B64 = "".join("MIIF%04dQWdlbnQtV1MwMjE=" % i for i in range(200))  # 4800 characters


def continuation():
    cap = P.Capture()
    c = H2Conn(cap, AGENT, 50644, EM, 3741, T0 + 60)
    c.open(T0 + 60.01)
    t = T0 + 60.1
    block = c.request_block("Register", extra=[("x-netwrix-agent-certificate", CERT_B64, "noidx")])
    frames = (H.headers(1, block[:1500], end_headers=False)
              + H.continuation(1, block[1500:3000])
              + H.continuation(1, block[3000:], end_headers=True)
              + H.data(1, msg("AGENT-WS021"), end_stream=True))
    c.client(t, frames, segment=700)  # segments cut frame headers and literals alike
    c.server(t + 0.01, H.headers(1, c.response_block(), pad=7)
             + H.data(1, msg("registered"), pad=5)
             + H.headers(1, c.trailers_block(0), end_stream=True, pad=3))
    c.conv.fin(T0 + 61.0)
    return cap, "pcap"


# ---- (e) TCP 3740 ----

def em_3740():
    cap = P.Capture()
    c = H2Conn(cap, AGENT2, 50755, EM, 3740, T0 + 80)
    c.open(T0 + 80.01)
    t = T0 + 80.1
    path = "/netwrix.em.v1.AgentDeployment/GetAgentPackage"
    c.client(t, H.headers(1, c.request_block(path, authority="em01.corp.example:3740"))
             + H.data(1, msg("windows-x64", "7.5.0.1234"), end_stream=True))
    c.server(t + 0.004, H.headers(1, c.response_block()) + H.data(1, msg("package", "sha256:0f3a"))
             + H.headers(1, c.trailers_block(0), end_stream=True))
    c.conv.fin(T0 + 81.0)
    return cap, "pcap"


# ---- (f) the server's SETTINGS before the client's preface ----

def server_first():
    cap = P.Capture()
    c = H2Conn(cap, AGENT, 50866, EM, 3741, T0 + 100)
    c.open(T0 + 100.001, server_first=True)
    t = T0 + 100.1
    c.client(t, H.headers(1, c.request_block("Register")) + H.data(1, msg("AGENT-WS021"), end_stream=True))
    c.server(t + 0.004, H.headers(1, c.response_block()) + H.data(1, msg("accepted"))
             + H.headers(1, c.trailers_block(0), end_stream=True))
    c.conv.fin(T0 + 101.0)
    return cap, "pcap"


_TABLE = [
    ("grpc-agent-3741", agent_3741, 3741,
     [call(1, "Register"), call(3, "UploadEvents", grpc_status=14, message=UNAVAILABLE_MSG)],
     [], None),
    ("grpc-trailers-only", trailers_only, 3741,
     [call(1, "GetPolicy", grpc_status=16, trailers_only=True,
           message="agent certificate is not trusted by the Enterprise Manager"),
      call(3, "Heartbeat", grpc_status=12, trailers_only=True,
           message="Method not found: netwrix.agent.v1.AgentService/Heartbeat")],
     [], None),
    ("grpc-goaway-rst", goaway_rst, 3741,
     [call(1, "StreamEvents", http_status=0, grpc_status=-1, end="reset"),
      call(3, "Heartbeat"),
      call(5, "GetPolicy", http_status=0, grpc_status=-1, end="goaway")],
     [(1, "CANCEL")], (3, "NO_ERROR")),
    ("grpc-continuation", continuation, 3741, [call(1, "Register")], [], None),
    ("grpc-em-3740", em_3740, 3740,
     [call(1, "/netwrix.em.v1.AgentDeployment/GetAgentPackage", authority="em01.corp.example:3740")],
     [], None),
    ("grpc-server-first", server_first, 3741, [call(1, "Register")], [], None),
]

SCENARIOS = [(name, fn) for name, fn, *_ in _TABLE]
EXPECTED = {
    name: {"file": name + ".pcap", "server_port": port, "calls": calls, "rst": rst, "goaway": goaway}
    for name, _fn, port, calls, rst, goaway in _TABLE
}
