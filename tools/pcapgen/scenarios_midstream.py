"""Connections caught mid-stream: the capture starts while they are open, so
their TCP handshakes are not in it.

midstream-rpc.pcap (10.30.0.0/24):
  A. 10.30.0.10:50100 -> 10.30.0.2:135, first seen at a DCE/RPC bind carrying
     an NTLMSSP NEGOTIATE; the server's bind_ack carries the CHALLENGE (names
     MSDC01 / msdc01.corp.example), then an endpoint-mapper map request and
     its response handing out TCP 49710.  answered/midstream, app dcerpc.
  B. 10.30.0.20:50200 -> 10.30.0.2:3741, a long-lived channel whose bytes no
     dissector reads (an agent's gRPC over TLS to its Enterprise Manager):
     the server is the lower, registered port.  answered/midstream.
  C. 10.30.0.2:445 -> 10.30.0.30:50300 only: a one-way mid-stream flow (the
     client side is never seen).  Not an attempt.
  D. 10.30.0.10:50101 -> 10.30.0.2:49710, a normal connection (handshake in
     the capture) to the port the endpoint mapper handed out: syn-ack.
  E. the server side of A first again after a gap in the client side:
     10.30.0.11:50110 -> 10.30.0.3:135, the server speaks first (the tail of a
     response whose start was before the capture), then a bind and its
     bind_ack with a challenge (MSDC02): the bytes before a PDU boundary are
     not read as a message, the bind and its challenge are.

Expected values are read from the capture by tshark in
tests/scenarios/test_midstream.py (the oracle), not listed here.
"""
import pcapgen as P
import scenarios_nnr as N
import scenarios_policy as POL

CLIENT_A, CLIENT_E, AGENT, ONEWAY = "10.30.0.10", "10.30.0.11", "10.30.0.20", "10.30.0.30"
DC, DC2 = "10.30.0.2", "10.30.0.3"
T0 = 1760000000.0


class Mid(P.Conversation):
    """A connection whose handshake happened before the capture: data segments
    with sequence numbers far from any ISN, and the client's ACKs."""

    def ack_c(self, t):
        return self.cap.add(t, self.link(P.ip(self.c, self.s, P.tcp(self.cp, self.sp, P.TH_ACK,
                                                                  self.cseq, self.sseq))))


def midstream_rpc():
    cap = P.Capture()
    a = Mid(cap, CLIENT_A, 50100, DC, 135, isn_c=0x10203040, isn_s=0x50607080)
    b = Mid(cap, AGENT, 50200, DC, 3741, isn_c=0x01000000, isn_s=0x02000000)
    c = Mid(cap, ONEWAY, 50300, DC, 445, isn_c=0x03000000, isn_s=0x04000000)
    e = Mid(cap, CLIENT_E, 50110, DC2, 135, isn_c=0x05000000, isn_s=0x06000000)
    t = T0
    # B: opaque bytes both ways on 3741, server first
    b.send(t, bytes(range(0x17, 0x17 + 40)), from_client=False)
    b.ack_c(t + 0.0002)
    b.send(t + 0.001, bytes(range(0x30, 0x30 + 60)))
    b.send(t + 0.0015, bytes(range(0x50, 0x50 + 30)), from_client=False)
    # A: bind with NTLM, bind_ack with the challenge, EPM map
    t += 0.01
    a.send(t, N.rpc_bind(7))
    a.send(t + 0.001, N.rpc_bind_ack(7, N.ntlm_challenge("MSDC01", "CORP", "msdc01.corp.example",
                                                          "corp.example", "midstream-a")),
           from_client=False)
    a.send(t + 0.002, POL.ept_map_request(8, POL.IOXID_UUID))
    a.send(t + 0.003, POL.ept_map_response(8, POL.IOXID_UUID, 49710), from_client=False)
    # C: the server's bytes only
    c.send(t + 0.004, b"\0\0\0\x40" + bytes(64), from_client=False)
    c.send(t + 0.005, b"\0\0\0\x20" + bytes(32), from_client=False)
    # D: the dynamic port, with its handshake
    d = P.Conversation(cap, CLIENT_A, 50101, DC, 49710)
    d.handshake(t + 0.006)
    # E: server first with the tail of an earlier response, then a bind
    t += 0.02
    e.send(t, bytes(range(1, 25)), from_client=False)
    e.ack_c(t + 0.0002)
    e.send(t + 0.001, N.rpc_bind(3))
    e.send(t + 0.002, N.rpc_bind_ack(3, N.ntlm_challenge("MSDC02", "CORP", "msdc02.corp.example",
                                                          "corp.example", "midstream-e")),
           from_client=False)
    return cap, "pcap"


SCENARIOS = [("midstream-rpc", midstream_rpc)]
