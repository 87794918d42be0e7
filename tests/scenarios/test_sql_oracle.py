#!/usr/bin/env python3
"""SQL Server scenario oracle test: the generated pcaps/sql-* captures are
valid TDS as tshark decodes them, valid MS-SQLR datagrams by the byte layout
of MS-SQLR 2.2 (tshark 4.0 has no SSRP dissector), and the tds/ssrp
dissectors report the same facts.

  (a) the committed pcaps/sql-* are exactly what tools/pcapgen writes;
  (b) tshark (-d tcp.port==50123,tds) decodes, frame by frame, the PRELOGIN
      encryption options and versions, LOGINACK program name and TDS
      version, ERROR number / state / class / message / server name, DONE
      status and the server certificate that tools/pcapgen/scenarios_sql.py
      (EXPECTED) says it wrote;
  (c) every UDP 1434 payload (as tshark extracts it) follows MS-SQLR: the
      request opcodes with their instance names, SVR_RESP with RESP_SIZE equal
      to the bytes that follow and ';;'-ended records, which parsed here give
      EXPECTED's instances;
  (d) the test-only driver build/sqlevents (capture/ + the dissector
      registry, as portwitness reads a file) reports exactly tshark's TDS
      facts at the same frames, the certificate tshark decodes, EXPECTED's
      SSRP messages, and nothing malformed.

Usage: test_sql_oracle.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail, 77 skipped (no tshark); last line "N passed, N failed".
Python 3 stdlib only.
"""
import filecmp
import glob
import importlib.util
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402


def load_expected(source):
    gen_dir = os.path.join(source, "tools", "pcapgen")
    sys.path.insert(0, gen_dir)
    spec = importlib.util.spec_from_file_location("scenarios_sql", os.path.join(gen_dir, "scenarios_sql.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.expected()


def check_regenerated(source, tmp):
    gen = os.path.join(source, "tools", "pcapgen", "generate.py")
    p = subprocess.run([sys.executable, gen, "--out", tmp], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(p.returncode == 0, "generate.py runs", p.stderr.decode()[-500:])
    pcaps = os.path.join(source, "pcaps")
    generated = sorted(os.path.basename(f) for f in glob.glob(os.path.join(tmp, "sql-*")))
    committed = sorted(os.path.basename(f) for f in glob.glob(os.path.join(pcaps, "sql-*")))
    check(len(generated) == 5 and generated == committed, "committed pcaps/sql-* are the generated set",
          "generated %s, committed %s" % (generated, committed))
    for name in generated:
        c = os.path.join(pcaps, name)
        check(os.path.exists(c) and filecmp.cmp(os.path.join(tmp, name), c, shallow=False),
              "pcaps/%s is byte-identical to the generator's output" % name)
        check(os.path.exists(c) and os.path.getsize(c) < 64 * 1024, "pcaps/%s is small" % name)


TSHARK_FIELDS = ("frame.number", "tcp.srcport", "tds.prelogin.option.encryption", "tds.prelogin.option.version",
                 "tds.loginack.progname", "tds.loginack.tdsversion", "tds.error.number", "tds.error.state",
                 "tds.error.class", "tds.error.msgtext", "tds.error.servername", "tds.done.status",
                 "x509sat.uTF8String", "x509ce.dNSName", "udp.payload", "udp.srcport")


def tshark_view(path, tds_ports):
    """Per frame: the TDS facts tshark decodes, the certificate names, and UDP 1434 payloads."""
    args = ["tshark", "-r", path, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
            "-E", "aggregator=|"]
    for port in tds_ports:
        args += ["-d", "tcp.port==%d,tds" % port]
    for f in TSHARK_FIELDS:
        args += ["-e", f]
    out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout.decode()
    tds, certs, udp = [], {}, {}
    for line in out.splitlines():
        v = dict(zip(TSHARK_FIELDS, line.split("\t")))
        frame = int(v["frame.number"])
        if v.get("tds.prelogin.option.encryption"):
            server_side = v["tcp.srcport"] in {str(p) for p in tds_ports}
            tds.append((frame, "prelogin", {"dir": 1 if server_side else 0,
                                            "encryption": int(v["tds.prelogin.option.encryption"]),
                                            "version": int(v["tds.prelogin.option.version"])}))
        if v.get("tds.loginack.progname"):
            tds.append((frame, "loginack", {"prog_name": v["tds.loginack.progname"],
                                            "tds_version": int(v["tds.loginack.tdsversion"], 16)}))
        if v.get("tds.error.number"):
            tds.append((frame, "error", {"number": int(v["tds.error.number"]), "state": int(v["tds.error.state"]),
                                         "severity": int(v["tds.error.class"]),
                                         "message": v["tds.error.msgtext"],
                                         "server_name": v["tds.error.servername"]}))
        if v.get("tds.done.status"):
            for st in v["tds.done.status"].split("|"):
                tds.append((frame, "done", {"status": int(st, 16)}))
        if v.get("x509ce.dNSName"):
            certs[frame] = (v["x509sat.uTF8String"].split("|")[0], v["x509ce.dNSName"].split("|"))
        if v.get("udp.payload"):
            udp[frame] = bytes.fromhex(v["udp.payload"].split("|")[-1].replace(":", ""))
    return tds, certs, udp


def parse_ssrp(data):
    """MS-SQLR 2.2, written independently of dissectors/ssrp.c: the message
    kind, the requested instance, and SVR_RESP records as dicts."""
    op = data[0]
    if op in (0x02, 0x03):
        assert len(data) == 1, "CLNT_BCAST_EX / CLNT_UCAST_EX are one byte"
        return ("bcast_ex" if op == 2 else "ucast_ex"), {}, []
    if op == 0x04:
        assert data[-1] == 0 and len(data) - 2 <= 32, "CLNT_UCAST_INST: NUL-terminated name of <= 32 bytes"
        return "ucast_inst", {"instance": data[1:-1].decode()}, []
    assert op == 0x05, "SVR_RESP"
    size = struct.unpack("<H", data[1:3])[0]
    assert size == len(data) - 3, "RESP_SIZE is the length of RESP_DATA"
    text = data[3:].decode("ascii")
    assert text.endswith(";;"), "RESP_DATA ends with ';;'"
    insts = []
    for rec in text[:-2].split(";;"):
        parts = rec.split(";")
        assert len(parts) % 2 == 0, "key;value pairs"
        kv = {parts[i].lower(): parts[i + 1] for i in range(0, len(parts), 2)}
        insts.append({"server_name": kv["servername"], "instance": kv["instancename"], "version": kv["version"],
                      "clustered": 1 if kv["isclustered"].lower() == "yes" else 0,
                      "tcp_port": int(kv.get("tcp", "0")), "np": kv.get("np", "")})
    return "response", {}, insts


def driver_view(driver, path):
    p = subprocess.run([driver, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(p.returncode == 0, "sqlevents reads %s" % os.path.basename(path), p.stderr.decode()[-300:])
    tds, ssrp, certs, malformed = [], [], {}, []
    for line in p.stdout.decode().splitlines():
        f = line.split("\t")
        if f[0] == "tds":
            frame, d, kind = int(f[1]), int(f[2]), f[4]
            if kind == "prelogin":
                tds.append((frame, kind, {"dir": d, "encryption": int(f[5]), "version": int(f[6], 16)}))
            elif kind == "loginack":
                tds.append((frame, kind, {"prog_name": f[5], "tds_version": int(f[6], 16)}))
            elif kind == "error":
                tds.append((frame, kind, {"number": int(f[5]), "state": int(f[6]), "severity": int(f[7]),
                                          "message": f[8], "server_name": f[9]}))
            elif kind == "done":
                tds.append((frame, kind, {"status": int(f[5])}))
            else:
                tds.append((frame, kind, {}))
        elif f[0] == "ssrp":
            fields = {"instance": f[4]} if f[4] else {}
            ssrp.append([int(f[1]), f[3], fields, []])
        elif f[0] == "inst":
            ssrp[-1][3].append({"server_name": f[2], "instance": f[3], "version": f[4], "clustered": int(f[5]),
                                "tcp_port": int(f[6]), "np": f[7]})
        elif f[0] == "cert":
            certs[int(f[1])] = (f[3], f[4].split(",") if f[4] else [])
        elif f[0] == "malformed":
            malformed.append(line)
    return tds, [tuple(s) for s in ssrp], certs, malformed


def subset(fields, full):
    """The expected fields, as tshark's full record holds them."""
    return {k: full.get(k) for k in fields}


def main():
    args = checks.script_args(tshark=True, driver="sqlevents")
    driver = args.driver
    expected = load_expected(args.source)
    with tempfile.TemporaryDirectory() as tmp:
        check_regenerated(args.source, tmp)
    for name, exp in sorted(expected.items()):
        path = os.path.join(args.source, "pcaps", exp["file"])
        if not check(os.path.exists(path), "%s exists" % path):
            continue
        t_tds, t_certs, t_udp = tshark_view(path, exp["tds_ports"])
        d_tds, d_ssrp, d_certs, malformed = driver_view(driver, path)

        # (b) the generator wrote what it meant to, as tshark reads it
        want = [(f, k, fl) for f, k, fl in exp["tds"] if k != "encrypted"]
        got = [(f, k, subset(fl, tf)) for (f, k, fl), (tf_frame, tk, tf) in zip(want, t_tds)]
        check(len(t_tds) == len(want) and got == want and [x[:2] for x in t_tds] == [x[:2] for x in want],
              "%s: tshark decodes the TDS facts the generator wrote" % name, "tshark %s, expected %s" % (t_tds, want))
        if exp["tls_cert"]:
            frame, cn, sans = exp["tls_cert"]
            check(t_certs.get(frame) == (cn, sans), "%s: tshark decodes certificate %s in frame %d" % (name, cn, frame),
                  str(t_certs))
        else:
            check(not t_certs, "%s: no certificate" % name)

        # (c) MS-SQLR byte layout of every Browser datagram
        want_ssrp = [(f, k, fl, insts) for f, k, fl, insts in exp["ssrp"]]
        laid = []
        for frame in sorted(t_udp):
            try:
                kind, fields, insts = parse_ssrp(t_udp[frame])
                laid.append((frame, kind, fields, insts))
            except (AssertionError, KeyError, ValueError, IndexError) as e:
                check(False, "%s frame %d follows MS-SQLR" % (name, frame), repr(e))
        check(laid == want_ssrp, "%s: the Browser datagrams follow MS-SQLR and hold EXPECTED's instances" % name,
              "parsed %s, expected %s" % (laid, want_ssrp))

        # (d) the dissectors report the same facts
        check(d_tds == sorted(t_tds + [(f, k, fl) for f, k, fl in exp["tds"] if k == "encrypted"],
                              key=lambda x: (x[0], x[1] == "done", x[1] == "encrypted")),
              "%s: the tds dissector reports tshark's TDS facts frame by frame" % name,
              "driver %s, tshark %s" % (d_tds, t_tds))
        check(d_certs == t_certs, "%s: the certificate inside TDS is reported as tshark decodes it" % name,
              "driver %s, tshark %s" % (d_certs, t_certs))
        check(d_ssrp == want_ssrp, "%s: the ssrp dissector reports every Browser message" % name,
              "driver %s, expected %s" % (d_ssrp, want_ssrp))
        check(not malformed, "%s: nothing malformed" % name, "; ".join(malformed))
        print("%s: tds %s; ssrp %d messages; cert %s" % (name, [(f, k) for f, k, _ in d_tds], len(d_ssrp),
                                                          list(d_certs.values())))
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 1 if checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
