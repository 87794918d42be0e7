"""DCE/RPC over SMB named pipes (issue 12): one capture, smb-pipe-rpc.pcap.

  - SMB2 on 445 (client 10.30.0.10, server DC1 10.30.0.2): TREE_CONNECT to
    IPC$, CREATE "lsarpc", a WRITE carrying a DCE/RPC bind with NTLMSSP
    NEGOTIATE, a READ answered first with an interim STATUS_PENDING and then
    with the bind_ack carrying the NTLMSSP CHALLENGE (DC1 / dc1.corp.example);
    the bind_ack is split over two READs (STATUS_BUFFER_OVERFLOW, then the
    rest).  Then CREATE "epmapper" and FSCTL_PIPE_TRANSCEIVE IOCTLs: a bind
    to the endpoint mapper and an ept_map whose answer hands out TCP 49667;
    the client then connects to DC1:49667.
  - SMB1 on 445 (client 10.30.0.11, server OLDFS 10.30.0.3): TREE_CONNECT_ANDX
    to IPC$, NT_CREATE_ANDX "\\srvsvc", TRANSACTION TransactNmPipe carrying a
    bind with NTLMSSP and its answer carrying the CHALLENGE (OLDFS /
    oldfs.corp.example), then a WRITE_ANDX / READ_ANDX alter_context.

No SESSION_SETUP is in the capture (the connections' first flights are the
tree connects), so the only NTLMSSP CHALLENGEs are the ones inside the
pipes: the names portwitness learns for 10.30.0.2 and 10.30.0.3 come from
DCE/RPC over SMB.  tests/scenarios/test_pipes_oracle.py takes the expected
values from tshark.
"""
import struct
import uuid

import pcapgen as P
from scenarios_nnr import Scn, Tcp, ntlm_challenge, ntlm_negotiate, rpc_bind_ack, _with_auth, _uuid, NDR_UUID
from scenarios_policy import ept_map_request, ept_map_response, rpc_bind as epm_bind, rpc_bind_ack as epm_bind_ack

CLIENT2, DC1 = "10.30.0.10", "10.30.0.2"
CLIENT1, OLDFS = "10.30.0.11", "10.30.0.3"
LSARPC = "12345778-1234-abcd-ef00-0123456789ab"
SRVSVC = "4b324fc8-1670-01d3-1278-5a47bf6ee188"
NETLOGON = uuid.UUID("12345678-1234-abcd-ef00-01234567cffb")
FSCTL_PIPE_TRANSCEIVE = 0x0011C017
STATUS_PENDING = 0x00000103
STATUS_BUFFER_OVERFLOW = 0x80000005
TREE = 5


def nbss(msg):
    return struct.pack("!I", len(msg)) + msg


def bind_ntlm(call_id, iface, ptype=11):
    body = struct.pack("<HHIB3x", 4280, 4280, 0, 1)
    body += struct.pack("<HBB", 0, 1, 0) + _uuid(iface) + struct.pack("<HH", 0, 0)
    body += _uuid(NDR_UUID) + struct.pack("<I", 2)
    return _with_auth(ptype, call_id, body, ntlm_negotiate())


# ---- SMB2 (MS-SMB2 2.2) ----

def smb2_hdr(cmd, mid, resp=False, status=0, tree=TREE, async_id=None):
    flags = (1 if resp else 0) | (2 if async_id is not None else 0)
    head = b"\xfeSMB" + struct.pack("<HHIHHII", 64, 1, status, cmd, 1, flags, 0) + struct.pack("<Q", mid)
    head += struct.pack("<Q", async_id) if async_id is not None else struct.pack("<II", 0xFEFF, tree)
    return head + struct.pack("<Q", 0x0000100000000011) + b"\0" * 16


def tree_connect_req(mid, path):
    p = path.encode("utf-16-le")
    return smb2_hdr(3, mid, tree=0) + struct.pack("<HHHH", 9, 0, 72, len(p)) + p


def tree_connect_resp(mid):
    return smb2_hdr(3, mid, resp=True) + struct.pack("<HBBIII", 16, 2, 0, 0x30, 0, 0x1F01FF)


def create_req(mid, name):
    n = name.encode("utf-16-le")
    body = struct.pack("<HBBIQQ", 57, 0, 0, 2, 0, 0) + struct.pack("<IIIII", 0x12019F, 0, 7, 1, 0x400040)
    body += struct.pack("<HHII", 120, len(n), 0, 0)
    return smb2_hdr(5, mid) + body + n


def create_resp(mid, fid):
    body = struct.pack("<HBBI", 89, 0, 0, 1) + b"\0" * 48 + struct.pack("<II", 0x80, 0) + fid
    return smb2_hdr(5, mid, resp=True) + body + struct.pack("<II", 0, 0)


def write_req(mid, fid, data):
    body = struct.pack("<HHIQ", 49, 112, len(data), 0) + fid + struct.pack("<IIHHI", 0, 0, 0, 0, 0)
    return smb2_hdr(9, mid) + body + data


def write_resp(mid, n):
    return smb2_hdr(9, mid, resp=True) + struct.pack("<HHIIHH", 17, 0, n, 0, 0, 0)


def read_req(mid, fid):
    body = struct.pack("<HBBIQ", 49, 0x50, 0, 1024, 0) + fid + struct.pack("<IIIHHB", 0, 0, 0, 0, 0, 0)
    return smb2_hdr(8, mid) + body


def read_resp(mid, data, status=0, async_id=None):
    body = struct.pack("<HBBIII", 17, 80, 0, len(data), 0, 0)
    return smb2_hdr(8, mid, resp=True, status=status, async_id=async_id) + body + data


def interim(cmd, mid, async_id):
    return smb2_hdr(cmd, mid, resp=True, status=STATUS_PENDING, async_id=async_id) + struct.pack("<HBBIB", 9, 0, 0, 0, 0)


def ioctl_req(mid, fid, data):
    body = struct.pack("<HHI", 57, 0, FSCTL_PIPE_TRANSCEIVE) + fid
    body += struct.pack("<IIIIIIII", 120, len(data), 0, 0, 0, 1024, 1, 0)
    return smb2_hdr(11, mid) + body + data


def ioctl_resp(mid, fid, data):
    body = struct.pack("<HHI", 49, 0, FSCTL_PIPE_TRANSCEIVE) + fid
    body += struct.pack("<IIIIII", 112, 0, 112, len(data), 0, 0)
    return smb2_hdr(11, mid, resp=True) + body + data


def smb2_connection(scn, t):
    c = Tcp(scn, CLIENT2, 50110, DC1, 445, isn_c=7000, isn_s=9000)
    c.handshake(t)
    fid1 = bytes(range(1, 17))
    fid2 = bytes(range(17, 33))
    t += 0.01
    c.send_c(t, nbss(tree_connect_req(1, "\\\\dc1\\IPC$")))
    c.send_s(t + 0.001, nbss(tree_connect_resp(1)))
    c.send_c(t + 0.002, nbss(create_req(2, "lsarpc")))
    c.send_s(t + 0.003, nbss(create_resp(2, fid1)))
    bind = bind_ntlm(1, LSARPC)
    c.send_c(t + 0.004, nbss(write_req(3, fid1, bind)))
    c.send_s(t + 0.005, nbss(write_resp(3, len(bind))))
    ack = rpc_bind_ack(1, ntlm_challenge("DC1", "CORP", "dc1.corp.example", "corp.example", "pipes/dc1"))
    cut = len(ack) - 24
    c.send_c(t + 0.006, nbss(read_req(4, fid1)))
    c.send_s(t + 0.007, nbss(interim(8, 4, 0x21)))
    c.send_s(t + 0.008, nbss(read_resp(4, ack[:cut], STATUS_BUFFER_OVERFLOW, async_id=0x21)))
    c.send_c(t + 0.009, nbss(read_req(5, fid1)))
    c.send_s(t + 0.010, nbss(read_resp(5, ack[cut:])))
    # the endpoint mapper over FSCTL_PIPE_TRANSCEIVE
    c.send_c(t + 0.020, nbss(create_req(6, "epmapper")))
    c.send_s(t + 0.021, nbss(create_resp(6, fid2)))
    c.send_c(t + 0.022, nbss(ioctl_req(7, fid2, epm_bind(2))))
    c.send_s(t + 0.023, nbss(ioctl_resp(7, fid2, epm_bind_ack(2))))
    c.send_c(t + 0.024, nbss(ioctl_req(8, fid2, ept_map_request(3, NETLOGON))))
    c.send_s(t + 0.025, nbss(ioctl_resp(8, fid2, ept_map_response(3, NETLOGON, 49667))))
    c.ack(t + 0.026)
    # the port it handed out, answered
    d = Tcp(scn, CLIENT2, 50111, DC1, 49667, isn_c=11000, isn_s=13000)
    d.handshake(t + 0.03)
    d.close(t + 0.04)
    c.close(t + 0.05)


# ---- SMB1 (MS-CIFS 2.2.4) ----

def smb1_hdr(cmd, mid, resp=False, tid=0x800):
    return (b"\xffSMB" + struct.pack("<BIBH", cmd, 0, 0x98 if resp else 0x18, 0xC807)
            + struct.pack("<H8sHHHHH", 0, b"\0" * 8, 0, tid, 0xFEFF, 0x0800, mid))


def smb1_tree_req(mid, path):
    p = path.encode("utf-16-le") + b"\0\0"
    data = b"\0" + p + b"?????\0"  # password (1 byte), path (2-aligned), service
    return smb1_hdr(0x75, mid, tid=0) + struct.pack("<BBBHHH", 4, 0xFF, 0, 0, 0, 1) + struct.pack("<H", len(data)) + data


def smb1_tree_resp(mid):
    data = b"IPC\0" + b"\0\0"
    return smb1_hdr(0x75, mid, resp=True) + struct.pack("<BBBHH", 3, 0xFF, 0, 0, 1) + struct.pack("<H", len(data)) + data


def smb1_create_req(mid, name):
    n = name.encode("utf-16-le")
    words = struct.pack("<BBHBHIIIQIIIIIB", 0xFF, 0, 0, 0, len(n), 0x16, 0, 0x2019F, 0, 0, 3, 1, 0, 2, 0)
    data = b"\0" + n + b"\0\0"
    return smb1_hdr(0xA2, mid) + bytes([24]) + words + struct.pack("<H", len(data)) + data


def smb1_create_resp(mid, fid):
    words = struct.pack("<BBHBHI", 0xFF, 0, 0, 0, fid, 1) + b"\0" * 32 + struct.pack("<IQQHHB", 0x80, 0, 0, 2, 0xFF, 0)
    return smb1_hdr(0xA2, mid, resp=True) + bytes([len(words) // 2]) + words + struct.pack("<H", 0)


def smb1_trans_req(mid, fid, data):
    name = "\\PIPE\\".encode("utf-16-le") + b"\0\0"
    off = 32 + 1 + 32 + 2 + 1 + len(name)
    words = struct.pack("<HHHHBBHIHHHHHBBHH", 0, len(data), 0, 1024, 0, 0, 0, 0, 0, 0, off, len(data), off, 2, 0,
                        0x26, fid)
    bytes_ = b"\0" + name + data
    return smb1_hdr(0x25, mid) + bytes([16]) + words + struct.pack("<H", len(bytes_)) + bytes_


def smb1_trans_resp(mid, data):
    off = 32 + 1 + 20 + 2 + 1
    words = struct.pack("<HHHHHHHHHBB", 0, len(data), 0, 0, off, 0, len(data), off, 0, 0, 0)
    return smb1_hdr(0x25, mid, resp=True) + bytes([10]) + words + struct.pack("<H", len(data) + 1) + b"\0" + data


def smb1_write_req(mid, fid, data):
    off = 32 + 1 + 28 + 2 + 1
    words = struct.pack("<BBHHIIHHHHHI", 0xFF, 0, 0, fid, 0, 0, 0x0008, len(data), 0, len(data), off, 0)
    return smb1_hdr(0x2F, mid) + bytes([14]) + words + struct.pack("<H", len(data) + 1) + b"\0" + data


def smb1_write_resp(mid, n):
    words = struct.pack("<BBHHHHH", 0xFF, 0, 0, n, 0xFFFF, 0, 0)
    return smb1_hdr(0x2F, mid, resp=True) + bytes([6]) + words + struct.pack("<H", 0)


def smb1_read_req(mid, fid):
    words = struct.pack("<BBHHIHHIHI", 0xFF, 0, 0, fid, 0, 1024, 1024, 0xFFFFFFFF, 1024, 0)
    return smb1_hdr(0x2E, mid) + bytes([12]) + words + struct.pack("<H", 0)


def smb1_read_resp(mid, data):
    off = 32 + 1 + 24 + 2 + 1
    words = struct.pack("<BBHHHHHHH", 0xFF, 0, 0, 0xFFFF, 0, 0, len(data), off, 0) + b"\0" * 8
    return smb1_hdr(0x2E, mid, resp=True) + bytes([12]) + words + struct.pack("<H", len(data) + 1) + b"\0" + data


def smb1_connection(scn, t):
    c = Tcp(scn, CLIENT1, 50120, OLDFS, 445, isn_c=21000, isn_s=23000)
    c.handshake(t)
    t += 0.01
    c.send_c(t, nbss(smb1_tree_req(1, "\\\\OLDFS\\IPC$")))
    c.send_s(t + 0.001, nbss(smb1_tree_resp(1)))
    c.send_c(t + 0.002, nbss(smb1_create_req(2, "\\srvsvc")))
    c.send_s(t + 0.003, nbss(smb1_create_resp(2, 0x4001)))
    c.send_c(t + 0.004, nbss(smb1_trans_req(3, 0x4001, bind_ntlm(1, SRVSVC))))
    ack = rpc_bind_ack(1, ntlm_challenge("OLDFS", "CORP", "oldfs.corp.example", "corp.example", "pipes/oldfs"))
    c.send_s(t + 0.005, nbss(smb1_trans_resp(3, ack)))
    alter = bind_ntlm(2, LSARPC, ptype=14)
    c.send_c(t + 0.006, nbss(smb1_write_req(4, 0x4001, alter)))
    c.send_s(t + 0.007, nbss(smb1_write_resp(4, len(alter))))
    c.send_c(t + 0.008, nbss(smb1_read_req(5, 0x4001)))
    alter_resp = rpc_bind_ack(2, ntlm_challenge("OLDFS", "CORP", "oldfs.corp.example", "corp.example",
                                                "pipes/oldfs2"))
    alter_resp = alter_resp[:2] + bytes([15]) + alter_resp[3:]
    c.send_s(t + 0.009, nbss(smb1_read_resp(5, alter_resp)))
    c.ack(t + 0.010)
    c.close(t + 0.02)


def s_smb_pipe_rpc():
    scn = Scn("smb-pipe-rpc")
    smb2_connection(scn, 0.0)
    smb1_connection(scn, 1.0)
    scn.finish()
    return scn.cap, "pcap"


SCENARIOS = [
    ("smb-pipe-rpc", s_smb_pipe_rpc),
]
