"""h2_tshark - HTTP/2 request streams as tshark decodes them (the oracle) and
as the test-only driver build/h2calls reports them, for
tests/scenarios/test_grpc_oracle.py and tests/real/test_http2_real.py
(Python 3 stdlib only).

Both sides are keyed by (client port, HTTP/2 stream id) of client-initiated
streams.  Values:
  method, path, authority  the request's first header block
  http_status              the first final (>= 200) :status from the server, 0 when none
  grpc_status              the last grpc-status from the server, -1 when none
  grpc_message             the last grpc-message, percent-decoded (tshark shows it raw)
  trailers_only            one server HEADERS frame carried both :status and grpc-status
  end                      complete | reset | goaway | cut; after a RST_STREAM the
                           server's later frames on the stream are ignored, as a peer must
  reset                    the RST_STREAM error code name, "" when none
  request_frame            frame of the client's first END_HEADERS frame on the stream
  trailer_frame            frame of the server HEADERS carrying grpc-status, 0 when none
"""
import json
import os
import shutil
import subprocess
import urllib.parse

ERRORS = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
          "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
          "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"]


def error_name(code):
    return ERRORS[code] if code < len(ERRORS) else "0x%x" % code


def percent_decode(raw):
    """The gRPC spec's decoding; invalid escapes stay literal, invalid UTF-8
    and control characters become '?', as the dissector reports them."""
    b = raw.encode("utf-8", "surrogateescape")
    hexdigits = b"0123456789abcdefABCDEF"
    out = bytearray()
    i = 0
    while i < len(b):
        if b[i] == 0x25 and i + 3 <= len(b) and b[i + 1] in hexdigits and b[i + 2] in hexdigits:
            out.append(int(b[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(b[i])
            i += 1
    text = out.decode("utf-8", "replace").replace("\ufffd", "?")
    return "".join(c if ord(c) >= 0x20 and ord(c) != 0x7F else "?" for c in text)


def have_tshark():
    return shutil.which("tshark") is not None


def _walk(node, found):
    """Every dict holding an HTTP/2 frame (it has "http2.type"), in order."""
    if isinstance(node, dict):
        if "http2.type" in node:
            found.append(node)
        for v in node.values():
            _walk(v, found)
    elif isinstance(node, list):
        for v in node:
            _walk(v, found)


def _list(v):
    return v if isinstance(v, list) else [] if v is None else [v]


def _first(v):
    return _list(v)[0] if _list(v) else None


def tshark_streams(pcap, decode_as=()):
    """{(client_port, stream_id): values} and connection facts
    {"rst": [(client_port, stream, name, dir)], "goaway": [(client_port, last, name, dir)]}."""
    cmd = ["tshark", "-r", pcap, "-T", "json", "--no-duplicate-keys", "-J", "frame tcp http http2"]
    for port in decode_as:
        cmd[3:3] = ["-d", "tcp.port==%d,http2" % port]
    cmd += ["-Y", "http2 || http.request"]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
    packets = json.loads(out.decode("utf-8", "replace") or "[]")
    streams, facts = {}, {"rst": [], "goaway": []}
    upgrade = {}  # client port -> (method, uri, host) of an HTTP/1.1 request
    server_port = {}  # tcp.stream -> the port of the side that did not send the preface
    for pkt in packets:
        layers = pkt["_source"]["layers"]
        frame_no = int(_first(layers["frame"]["frame.number"]))
        tcp = layers["tcp"] if isinstance(layers["tcp"], dict) else layers["tcp"][0]
        sport, dport = int(tcp["tcp.srcport"]), int(tcp["tcp.dstport"])
        http = layers.get("http")
        for h in _list(http):
            if isinstance(h, dict) and "http.request.uri" in json.dumps(h):
                found = []

                def grab(node):
                    if isinstance(node, dict):
                        for k, v in node.items():
                            if k in ("http.request.method", "http.request.uri", "http.host"):
                                found.append((k, _first(v)))
                            grab(v)
                    elif isinstance(node, list):
                        for v in node:
                            grab(v)
                grab(h)
                d = dict(found)
                upgrade.setdefault(sport, (d.get("http.request.method", ""), d.get("http.request.uri", ""),
                                           d.get("http.host", ""), frame_no))
        frames = []
        _walk(layers.get("http2"), frames)
        for fr in frames:
            ftype = int(_first(fr["http2.type"]))
            flags = int(_first(fr.get("http2.flags", "0")), 16)
            sid = int(_first(fr.get("http2.streamid", "0")))
            # the client is the side with the higher port in these captures' connections
            # unless told otherwise: decided per connection by who sent the preface
            key_conn = (min(sport, dport), max(sport, dport))
            if "http2.magic" in fr:
                server_port[key_conn] = dport
            srv = server_port.get(key_conn, min(sport, dport))
            from_client = dport == srv
            cport = sport if from_client else dport
            headers = []
            for h in _list(fr.get("http2.header")):
                headers.append((_first(h.get("http2.header.name")) or "", _first(h.get("http2.header.value")) or ""))
            if ftype == 3:
                code = int(_first(fr.get("http2.rst_stream.error", "0")))
                facts["rst"].append((cport, sid, error_name(code), 0 if from_client else 1))
            if ftype == 7:
                last = int(_first(fr.get("http2.goaway.last_stream_id", "0")))
                code = int(_first(fr.get("http2.goaway.error", "0")))
                facts["goaway"].append((cport, last, error_name(code), 0 if from_client else 1))
                if not from_client:
                    for (cp, s), v in streams.items():
                        if cp == cport and s > last and v["end"] == "cut":
                            v["end"] = "goaway"
            if sid == 0 or not sid & 1:
                continue
            key = (cport, sid)
            v = streams.get(key)
            if v is None:
                if not from_client and sid == 1 and cport in upgrade:
                    m, uri, host, req = upgrade[cport]  # h2c upgrade: stream 1 is the HTTP/1.1 request
                    v = streams[key] = _new(m, uri, host, req)
                elif from_client and ftype in (1, 9):
                    v = streams[key] = _new("", "", "", 0)
                else:
                    continue
            if from_client:
                for n, val in headers:
                    if n in (":method", ":path", ":authority") and not v["_req_" + n[1:]]:
                        v[n[1:]] = val
                        v["_req_" + n[1:]] = True
                if ftype in (1, 9) and flags & 4 and not v["request_frame"]:
                    v["request_frame"] = frame_no
                if ftype == 3 and v["end"] == "cut":
                    v["end"], v["reset"] = "reset", error_name(int(_first(fr.get("http2.rst_stream.error", "0"))))
                continue
            if v["end"] == "reset":
                continue  # a reset stream is closed: what the server still sends is ignored (RFC 9113 5.4.2)
            names = [n for n, _ in headers]
            for n, val in headers:
                if n == ":status" and val.isdigit() and int(val) >= 200 and not v["http_status"]:
                    v["http_status"] = int(val)
                elif n == "grpc-status":
                    v["grpc_status"] = int(val) if val.isdigit() else -1
                    v["trailer_frame"] = frame_no
                elif n == "grpc-message":
                    v["grpc_message"] = percent_decode(val)
            if ":status" in names and "grpc-status" in names and flags & 1:
                v["trailers_only"] = True
            if ftype == 3 and v["end"] == "cut":
                v["end"], v["reset"] = "reset", error_name(int(_first(fr.get("http2.rst_stream.error", "0"))))
            if ftype in (0, 1) and flags & 1 and v["end"] in ("cut", "goaway"):
                v["end"] = "complete"
    for v in streams.values():
        for k in [k for k in v if k.startswith("_")]:
            del v[k]
    return streams, facts


def _new(method, path, authority, frame):
    return {"method": method, "path": path, "authority": authority, "http_status": 0,
            "grpc_status": -1, "grpc_message": "", "trailers_only": False, "end": "cut", "reset": "",
            "request_frame": frame, "trailer_frame": 0,
            "_req_method": bool(method), "_req_path": bool(path), "_req_authority": bool(authority)}


def driver_path(binary):
    """build/h2calls beside build/portwitness."""
    return os.path.join(os.path.dirname(os.path.abspath(binary)), "h2calls")


def driver_streams(driver, pcap):
    """The same shape from the dissector, through the h2calls driver."""
    out = subprocess.run([driver, pcap], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    streams, facts, malformed = {}, {"rst": [], "goaway": []}, []
    for line in out.stdout.decode("utf-8", "replace").splitlines():
        f = line.split("\t")
        if f[0] == "call":
            (cport, _sport, sid, end, method, path, auth, _ct, http_status, grpc_status, _name, message,
             tonly, reset, _goaway, req_frame, _resp_frame, trailer_frame) = f[1:]
            streams[(int(cport), int(sid))] = {
                "method": method, "path": path, "authority": auth, "http_status": int(http_status),
                "grpc_status": int(grpc_status), "grpc_message": message, "trailers_only": tonly == "1",
                "end": end, "reset": reset, "request_frame": int(req_frame),
                "trailer_frame": int(trailer_frame)}
        elif f[0] == "h2" and f[3] == "rst_stream":
            facts["rst"].append((int(f[1]), int(f[5]), f[7]))
        elif f[0] == "h2" and f[3] == "goaway":
            facts["goaway"].append((int(f[1]), int(f[6]), f[7]))
        elif f[0] == "malformed":
            malformed.append(line)
    return streams, facts, malformed, out.returncode
