"""tshark's view of each frame's innermost packet, for tunnel and link-layer tests.

tshark prints every layer of a tunnelled frame: ip.src has one value per IPv4
header, tcp.srcport one per TCP header, and frame.protocols names the layers in
order ("eth:ethertype:ip:udp:gtp:ip:tcp").  Walking frame.protocols tells which
value belongs to which layer, so the innermost IP and transport header -- the
packet portwitness must report -- is taken exactly as Wireshark decodes it (also
across IPv4/IPv6 mixes such as Teredo).  For ICMP errors the sender is the IP
layer before the ICMP header and the quoted packet the one after it.

The frames are test_core_real.Frame objects, so test_core_real's oracle (the
documented attempt rules) turns them into expected attempts.  Python 3 stdlib only.
"""
import subprocess

FIELDS = ["frame.number", "frame.time_epoch", "frame.protocols", "ip.src", "ip.dst", "ipv6.src",
          "ipv6.dst", "tcp.srcport", "tcp.dstport", "tcp.flags", "tcp.seq_raw", "tcp.ack_raw",
          "tcp.len", "udp.srcport", "udp.dstport", "icmp.type", "icmp.code", "icmpv6.type",
          "icmpv6.code", "eth.dst", "vlan.id", "_ws.malformed",
          "dns.flags.response", "nbns.flags.response", "http.response", "http.request"]

IP_LAYERS = {"ip": ("ip.src", "ip.dst"), "ipv6": ("ipv6.src", "ipv6.dst")}
# layers that start another link-level frame: after the last IP header they mean
# the tunnel carries something that is not IP (ARP, STP...): no inner IP packet
LINK_LAYERS = {"eth", "arp", "ppp", "wlan", "llc", "stp", "lldp", "cdp", "chdlc", "mpls"}


def _vals(s):
    return s.split(",") if s else []


def _nth(values, k):
    """The k-th value of a per-layer field, or the last one if tshark printed fewer."""
    if not values:
        return None
    return values[k] if k < len(values) else values[-1]


def tshark_rows(path, extra_args=()):
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
           "-E", "aggregator=,"] + list(extra_args)
    for f in FIELDS:
        cmd += ["-e", f]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    rows = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        c = line.split("\t")
        c += [""] * (len(FIELDS) - len(c))
        rows.append(dict(zip(FIELDS, c)))
    return rows, p.returncode, p.stderr.decode("utf-8", "replace")


def _layers(d):
    """[(layer name, ordinal among layers of that name)] from frame.protocols."""
    seen = {}
    out = []
    for name in d["frame.protocols"].split(":"):
        k = seen.get(name, 0)
        seen[name] = k + 1
        out.append((name, k))
    return out


def _ip_at(d, layer):
    name, k = layer
    sf, df = IP_LAYERS[name]
    return _nth(_vals(d[sf]), k), _nth(_vals(d[df]), k)


def _transport_after(layers, start):
    for name, k in layers[start + 1:]:
        if name in ("tcp", "udp"):
            return name, k
        if name in IP_LAYERS:
            return None
    return None


def inner_frames(core, path):
    """(frames, tshark exit code, stderr) like core.tshark_frames, innermost layers."""
    rows, rc, err = tshark_rows(path)
    frames = []
    for d in rows:
        fr = core.Frame()
        fr.no = int(d["frame.number"])
        fr.ts = float(d["frame.time_epoch"])
        fr.layers = 1
        fr.malformed = bool(d["_ws.malformed"])
        fr.vlan = _vals(d["vlan.id"])[0] if d["vlan.id"] else ""
        em = _vals(d["eth.dst"])
        fr.bcast_mac = False
        fr.icmp = None
        fr.proto = fr.sport = fr.dport = fr.flags = fr.seq = fr.ack = None
        fr.src = fr.dst = None
        fr.tlen = 0
        fr.isrc = fr.idst = fr.iproto = fr.isport = fr.idport = fr.iseq = None
        # response / request by its protocol (the innermost message: the last value)
        flags = _vals(d["dns.flags.response"]) + _vals(d["nbns.flags.response"])
        fr.resp = bool(d["http.response"]) or (bool(flags) and flags[-1] in ("1", "True"))
        fr.req = bool(d["http.request"]) or (bool(flags) and flags[-1] in ("0", "False"))
        layers = _layers(d)
        ips = [i for i, (n, _k) in enumerate(layers) if n in IP_LAYERS]
        icmp_at = [i for i, (n, _k) in enumerate(layers) if n in ("icmp", "icmpv6")]
        if icmp_at and ips and ips[0] < icmp_at[-1]:
            at = icmp_at[-1]
            name, k = layers[at]
            t = _nth(_vals(d[name + ".type"]), k)
            code = _nth(_vals(d[name + ".code"]), k)
            before = [i for i in ips if i < at]
            after = [i for i in ips if i > at]
            fr.src, fr.dst = (core.norm_ip(a) for a in _ip_at(d, layers[before[-1]]))
            v6 = name == "icmpv6"
            if t is not None:
                t = int(t)
                if (not v6 and t in (3, 11, 12)) or (v6 and t in (1, 3, 4)):
                    fr.icmp = (v6, t, int(code) if code else -1)
                    if after:
                        fr.isrc, fr.idst = (core.norm_ip(a) for a in _ip_at(d, layers[after[0]]))
                        tr = _transport_after(layers, after[0])
                        if tr:
                            tn, tk = tr
                            fr.iproto = tn
                            sp = _nth(_vals(d[tn + ".srcport"]), tk)
                            dp = _nth(_vals(d[tn + ".dstport"]), tk)
                            fr.isport = int(sp) if sp else None
                            fr.idport = int(dp) if dp else None
                            if tn == "tcp":
                                sq = _vals(d["tcp.seq_raw"])
                                fr.iseq = int(sq[-1]) if sq else None
            frames.append(fr)
            continue
        if not ips:
            frames.append(fr)
            continue
        inner = ips[-1]
        if any(n in LINK_LAYERS for n, _k in layers[inner + 1:]):
            frames.append(fr)   # the innermost packet is not IP
            continue
        # the MAC address of the innermost packet: the Ethernet header right around it
        for n, k in reversed(layers[:inner]):
            if n in IP_LAYERS:
                break
            if n == "eth":
                mac = _nth(em, k)
                fr.bcast_mac = bool(mac) and (int(mac.split(":")[0], 16) & 1) == 1
                break
        fr.src, fr.dst = (core.norm_ip(a) for a in _ip_at(d, layers[inner]))
        tr = _transport_after(layers, inner)
        if tr:
            tn, tk = tr
            fr.proto = tn
            fr.sport = int(_nth(_vals(d[tn + ".srcport"]), tk))
            fr.dport = int(_nth(_vals(d[tn + ".dstport"]), tk))
            if tn == "tcp":
                fl = _nth(_vals(d["tcp.flags"]), tk)
                fr.flags = int(fl, 16) if fl else None
                sq = _nth(_vals(d["tcp.seq_raw"]), tk)
                fr.seq = int(sq) if sq else None
                ak = _nth(_vals(d["tcp.ack_raw"]), tk)
                fr.ack = int(ak) if ak else None
                ln = _nth(_vals(d["tcp.len"]), tk)
                fr.tlen = int(ln) if ln else 0
        frames.append(fr)
    return frames, rc, err
