#!/usr/bin/env python3
"""Names seen through a proxy belong to the proxied host (issue 12, item 4).

On every pcaps/policy-sensor-proxy-*.pcap, tshark is the oracle: the CONNECT
request target (http.request.uri of the CONNECT, "host:port"), and the
certificates it decodes inside the tunnel (tls.handshake.type == 11: the
sender, the proxy, and the subjectAltName dNSNames).  portwitness's json
"hosts" must hold each certificate's dNSNames under the CONNECT target
(an entry with "ip": null and "target": "host:port" when the target is a
host name), and the proxy's address must carry none of them.

Usage: test_proxy_names.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail, 77 skipped (no tshark); last line "N passed, N failed".
"""
import glob
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402


def tshark_view(path):
    out = subprocess.run(["tshark", "-n", "-r", path, "-Y", "http.request.method == \"CONNECT\" || "
                          "tls.handshake.type == 11", "-T", "fields", "-E", "separator=\t", "-e", "frame.number",
                          "-e", "ip.src", "-e", "http.request.uri", "-e", "x509ce.dNSName"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode()
    target, certs = None, []
    for line in out.splitlines():
        no, src, uri, dns = (line.split("\t") + ["", "", "", ""])[:4]
        if uri:
            target = uri
        elif dns:
            certs.append((int(no), src, target, dns.split(",")))
    return certs


def main():
    a = checks.script_args(tshark=True)
    seen = 0
    for path in sorted(glob.glob(os.path.join(a.source, "pcaps", "policy-sensor-proxy-*.pcap"))):
        name = os.path.basename(path)
        rep = json.loads(subprocess.run([a.binary, "-r", path, "--format", "json"],
                                        stdout=subprocess.PIPE).stdout.decode())
        hosts = rep.get("hosts") or []
        for frame, proxy, target, dns in tshark_view(path):
            seen += 1
            check(target is not None, "%s: tshark shows the CONNECT before the certificate in frame %d"
                  % (name, frame))
            entry = [h for h in hosts if h.get("target") == target and h.get("ip") is None]
            check(len(entry) == 1, "%s: a hosts entry for the CONNECT target %s" % (name, target),
                  json.dumps(hosts)[:300])
            if entry:
                got = {(n["name"].lower(), n["source"], n["frame"]) for n in entry[0]["names"]}
                for d in dns:
                    check((d.lower(), "tls_cert", frame) in got, "%s: %s is a name of %s (frame %d)"
                          % (name, d, target, frame), str(sorted(got)))
            on_proxy = [n for h in hosts if h.get("ip") == proxy for n in h["names"]
                        if n["source"] == "tls_cert"]
            check(not on_proxy, "%s: the proxy %s gets none of the tunnel's certificate names" % (name, proxy),
                  json.dumps(on_proxy))
    check(seen >= 1, "tshark decodes at least one certificate inside a CONNECT tunnel", str(seen))
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 1 if checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
