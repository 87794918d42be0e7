"""h2gen - HTTP/2 frames (RFC 9113), a small HPACK encoder (RFC 7541) and gRPC
framing for the pcapgen scenarios (Python 3 stdlib only).

The encoder writes static-table indexed fields, literals with incremental
indexing (so a later header block reuses the dynamic table), literals
without indexing and never-indexed literals; strings are never Huffman
coded.  It tracks the dynamic table with RFC 7541's size accounting
(name + value + 32 octets per entry, oldest evicted first).
"""
import struct

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20

SETTINGS_HEADER_TABLE_SIZE, SETTINGS_ENABLE_PUSH, SETTINGS_MAX_CONCURRENT_STREAMS, \
    SETTINGS_INITIAL_WINDOW_SIZE, SETTINGS_MAX_FRAME_SIZE, SETTINGS_MAX_HEADER_LIST_SIZE = range(1, 7)

NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, SETTINGS_TIMEOUT, STREAM_CLOSED, \
    FRAME_SIZE_ERROR, REFUSED_STREAM, CANCEL, COMPRESSION_ERROR, CONNECT_ERROR, \
    ENHANCE_YOUR_CALM = range(12)

# RFC 7541 Appendix A.
STATIC_TABLE = [
    (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"),
    (":path", "/index.html"), (":scheme", "http"), (":scheme", "https"), (":status", "200"),
    (":status", "204"), (":status", "206"), (":status", "304"), (":status", "400"),
    (":status", "404"), (":status", "500"), ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""),
    ("accept", ""), ("access-control-allow-origin", ""), ("age", ""), ("allow", ""),
    ("authorization", ""), ("cache-control", ""), ("content-disposition", ""),
    ("content-encoding", ""), ("content-language", ""), ("content-length", ""),
    ("content-location", ""), ("content-range", ""), ("content-type", ""), ("cookie", ""),
    ("date", ""), ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""),
    ("if-match", ""), ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""),
    ("if-unmodified-since", ""), ("last-modified", ""), ("link", ""), ("location", ""),
    ("max-forwards", ""), ("proxy-authenticate", ""), ("proxy-authorization", ""), ("range", ""),
    ("referer", ""), ("refresh", ""), ("retry-after", ""), ("server", ""), ("set-cookie", ""),
    ("strict-transport-security", ""), ("transfer-encoding", ""), ("user-agent", ""),
    ("vary", ""), ("via", ""), ("www-authenticate", ""),
]


def hpack_int(value, prefix_bits, first=0):
    """An HPACK integer with an N-bit prefix; `first` holds the pattern bits."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def hpack_str(s):
    raw = s.encode() if isinstance(s, str) else s
    return hpack_int(len(raw), 7) + raw


class Encoder:
    """One direction's HPACK encoder (its dynamic table)."""

    def __init__(self, table_size=4096):
        self.max = table_size
        self.dynamic = []  # newest first

    def _size(self):
        return sum(len(n.encode()) + len(v.encode()) + 32 for n, v in self.dynamic)

    def _add(self, name, value):
        self.dynamic.insert(0, (name, value))
        while self._size() > self.max:
            self.dynamic.pop()

    def _find(self, name, value):
        """(index of an exact match or 0, index of a name match or 0)."""
        table = STATIC_TABLE + self.dynamic
        exact = next((i + 1 for i, e in enumerate(table) if e == (name, value)), 0)
        named = next((i + 1 for i, e in enumerate(table) if e[0] == name), 0)
        return exact, named

    def field(self, name, value, how="auto"):
        """One header field.  how: "auto" (indexed when in a table, else a
        literal with incremental indexing), "index", "inc", "noidx", "never"."""
        exact, named = self._find(name, value)
        if how == "index" or (how == "auto" and exact):
            if not exact:
                raise ValueError("%s: %s is in no table" % (name, value))
            return hpack_int(exact, 7, 0x80)
        if how in ("auto", "inc"):
            self._add(name, value)
            head = hpack_int(named, 6, 0x40)
        elif how == "noidx":
            head = hpack_int(named, 4, 0x00)
        elif how == "never":
            head = hpack_int(named, 4, 0x10)
        else:
            raise ValueError(how)
        return head + (b"" if named else hpack_str(name)) + hpack_str(value)

    def block(self, fields):
        """A header block from [(name, value)] or [(name, value, how)]."""
        return b"".join(self.field(*f) for f in fields)


# ---- frames ----

def frame(ftype, flags, stream, payload=b""):
    return struct.pack("!I", len(payload))[1:] + struct.pack("!BBI", ftype, flags, stream) + payload


def settings(params=(), ack=False):
    return frame(SETTINGS, ACK if ack else 0, 0, b"".join(struct.pack("!HI", k, v) for k, v in params))


def headers(stream, block, end_stream=False, end_headers=True, pad=0, priority=None):
    """HEADERS; pad > 0 adds a Pad Length byte and that much padding;
    priority = (dependency, weight, exclusive) adds the PRIORITY fields."""
    flags = (END_STREAM if end_stream else 0) | (END_HEADERS if end_headers else 0)
    body = block
    if priority:
        dep, weight, excl = priority
        body = struct.pack("!IB", dep | (0x80000000 if excl else 0), weight - 1) + body
        flags |= PRIORITY_FLAG
    if pad:
        body = bytes([pad]) + body + b"\0" * pad
        flags |= PADDED
    return frame(HEADERS, flags, stream, body)


def continuation(stream, fragment, end_headers=False):
    return frame(CONTINUATION, END_HEADERS if end_headers else 0, stream, fragment)


def data(stream, payload, end_stream=False, pad=0):
    flags = END_STREAM if end_stream else 0
    if pad:
        payload = bytes([pad]) + payload + b"\0" * pad
        flags |= PADDED
    return frame(DATA, flags, stream, payload)


def rst_stream(stream, code):
    return frame(RST_STREAM, 0, stream, struct.pack("!I", code))


def goaway(last_stream, code, debug=b""):
    return frame(GOAWAY, 0, 0, struct.pack("!II", last_stream, code) + debug)


def window_update(stream, increment):
    return frame(WINDOW_UPDATE, 0, stream, struct.pack("!I", increment))


def ping(opaque=b"\0" * 8, ack=False):
    return frame(PING, ACK if ack else 0, 0, opaque)


# ---- gRPC (grpc/grpc doc/PROTOCOL-HTTP2.md) ----

def grpc_message(payload, compressed=False):
    """A Length-Prefixed-Message."""
    return struct.pack("!BI", 1 if compressed else 0, len(payload)) + payload


def grpc_percent_encode(text):
    """grpc-message encoding: UTF-8, then every octet outside 0x20-0x7E and
    '%' as %XX."""
    out = []
    for b in text.encode("utf-8"):
        out.append(chr(b) if 0x20 <= b <= 0x7E and b != 0x25 else "%%%02X" % b)
    return "".join(out)


def varint(n):
    out = []
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def pb_string(field, text):
    """A protobuf length-delimited field (enough for plausible message bodies)."""
    raw = text.encode()
    return bytes([(field << 3) | 2]) + varint(len(raw)) + raw
