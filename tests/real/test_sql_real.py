#!/usr/bin/env python3
"""Real TDS captures (Arkime's test suite, in ../shared/pcaps/arkime) against
tshark: what the tds dissector reports of the login phase -- PRELOGIN
encryption and version each way, LOGINACK program name and TDS version,
ERROR number / state / class / message / server, the DONE that ends the
login answer -- is what tshark's tds dissector decodes in the same frames,
and nothing is reported where tshark decodes none of these.

  tds7.pcap            PRELOGIN (ENCRYPT_OFF / ENCRYPT_NOT_SUP), LOGIN7, LOGINACK
  tds5.pcap            a TDS 5.0 (Sybase) login on TCP 3106: no PRELOGIN/LOGINACK
  ntlm_synthetic.pcap  an integrated-security LOGIN7 / SSPI exchange
  arkime_synthetic.pcap a TDS 5.0 login packet on 1433 among other protocols

The dissectors run through build/sqlevents (capture/ + the registry, as
portwitness reads a file).  Skips (77) when ../shared/pcaps or tshark is
absent.  Usage: test_sql_real.py --binary PATH --source REPO_DIR.  Python 3
stdlib only; the last line is "N passed, N failed".
"""
import importlib.util
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: script_args())

CAPTURES = ("tds7.pcap", "tds5.pcap", "ntlm_synthetic.pcap", "arkime_synthetic.pcap")


def load_oracle(source):
    path = os.path.join(source, "tests", "scenarios", "test_sql_oracle.py")
    spec = importlib.util.spec_from_file_location("test_sql_oracle", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def login_phase(facts):
    """tshark's facts up to the server's answer to the login (its LOGINACK or
    ERROR and the DONE in that frame): the dissector stops there."""
    answer = next((f for f, k, _ in facts if k in ("loginack", "error")), None)
    if answer is None:
        return [x for x in facts if x[1] == "prelogin"]
    return [x for x in facts if x[0] < answer or (x[0] == answer and x[1] != "done")] + \
        [x for x in facts if x[0] == answer and x[1] == "done"][:1]


def main():
    args = checks.script_args(tshark=True, driver="sqlevents", shared="arkime")
    driver = args.driver
    shared = os.path.join(os.path.abspath(args.source), "..", "shared", "pcaps", "arkime")
    o = load_oracle(args.source)
    compared = 0
    for name in CAPTURES:
        path = os.path.join(shared, name)
        if not o.check(os.path.exists(path), "%s present" % name):
            continue
        t_tds, _t_certs, _udp = o.tshark_view(path, [1433])
        want = login_phase(t_tds)
        d_tds, d_ssrp, _d_certs, malformed = o.driver_view(driver, path)
        d_tds = [x for x in d_tds if x[1] != "encrypted"]
        o.check(d_tds == want, "%s: the tds dissector reports tshark's login-phase facts" % name,
                "driver %s, tshark %s" % (d_tds, want))
        o.check(not [m for m in malformed if "\ttds:" in m], "%s: no TDS packet is malformed" % name,
                "; ".join(malformed))
        o.check(not d_ssrp, "%s: no SQL Browser traffic" % name)
        compared += len(want)
        print("%s: %s" % (name, [(f, k) for f, k, _ in want]))
    # tds7 alone holds PRELOGIN both ways, LOGINACK and its DONE
    o.check(compared >= 4, "real captures hold TDS login facts to compare", "compared %d" % compared)
    print("%d passed, %d failed" % (o.checks.PASSED, o.checks.FAILED))
    return 1 if o.checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
