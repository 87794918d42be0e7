"""The multi-role capture of issue 8: one host (10.60.1.10) that a new user
would point --profile netwrix-threat-prevention at without --role.  It talks
to an enterprise manager on gRPC 3741 (a call that succeeds) and 3740 (a
call answered UNAVAILABLE), to two SQL hosts (the Browser on UDP 1434 of the
first announces instance NETWRIX on TCP 50123, where the login succeeds; the
second answers 1433 but refuses the login with 18456), and to a domain
controller on 88, 389, 636, 135 (the endpoint mapper hands out 49700) and
49700.  Every packet is built by the helpers of the grpc, sql and policy
scenarios; EXPECTED says what the capture holds, for the test."""
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapgen as P  # noqa: E402
import scenarios_grpc as G  # noqa: E402
import scenarios_policy as PO  # noqa: E402
import scenarios_sql as S  # noqa: E402
import h2gen as H  # noqa: E402

HOST, EM, SQL1, SQL2, DC = "10.60.1.10", "10.60.0.2", "10.60.0.5", "10.60.0.6", "10.60.0.3"
T0 = 1732300000.0
EXPECTED = {}


def grpc_call(cap, t, port, cport, method, status, message=""):
    c = G.H2Conn(cap, HOST, cport, EM, port, t)
    c.open(t + 0.01)
    c.client(t + 0.1, H.headers(1, c.request_block(method)) + H.data(1, G.msg("multirole"), end_stream=True))
    c.server(t + 0.104, H.headers(1, c.response_block()))
    c.server(t + 0.105, H.headers(1, c.trailers_block(status, message), end_stream=True))
    c.conv.fin(t + 0.5)


def sql_login(cap, t, server, port, cport, fail_user=None):
    c = P.Conversation(cap, HOST, cport, server, port)
    c.handshake(t)
    S.tds_login(c, S.Expect("multirole"), t + 0.002, fail_user=fail_user)
    c.fin(t + 0.1)


def multirole():
    cap = P.Capture()
    grpc_call(cap, T0, 3741, 50401, "Register", 0)
    grpc_call(cap, T0 + 1.0, 3740, 50402, "GetConsoleState", 14, "Enterprise Manager service unavailable")
    u = P.Conversation(cap, HOST, 61010, SQL1, 1434)
    u.udp_request(T0 + 2.0, S.clnt_ucast_inst("NETWRIX"))
    u.udp_reply(T0 + 2.0008, S.svr_resp([S.instance("SQL01", "NETWRIX", 50123)]))
    sql_login(cap, T0 + 2.01, SQL1, 50123, 50403)
    sql_login(cap, T0 + 3.0, SQL2, 1433, 50404, fail_user="ntp_agent")
    PO.answered(cap, T0 + 4.0, HOST, 50405, DC, 88)
    PO.answered(cap, T0 + 4.1, HOST, 50406, DC, 389)
    PO.answered(cap, T0 + 4.2, HOST, 50407, DC, 636)
    y = PO.Tcp(cap, HOST, 50408, DC, 135, isn_c=27000, isn_s=29000)
    y.handshake(T0 + 4.3)
    y.exchange(T0 + 4.31, PO.rpc_bind(1), PO.rpc_bind_ack(1))
    drsuapi = uuid.UUID("e3514235-4b06-11d1-ab04-00c04fc2dcd2")
    y.exchange(T0 + 4.32, PO.ept_map_request(2, drsuapi), PO.ept_map_response(2, drsuapi, 49700, DC))
    y.fin(T0 + 4.35)
    PO.answered(cap, T0 + 4.4, HOST, 50409, DC, 49700)
    return PO.sorted_capture(cap), "pcap"


SCENARIOS = [("policy-netwrix-multirole", multirole)]
