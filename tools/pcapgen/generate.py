#!/usr/bin/env python3
"""Writes every scenario capture into pcaps/ (or --out DIR).

Each scenarios_*.py module beside this file defines SCENARIOS: a list of
(name, function) where function() returns (Capture, fmt) with fmt "pcap" or
"pcapng", (bytes,) for deliberately broken files, or (bytes, ext) for files
already encoded (ext e.g. "pcapng", "pcap.gz").  Files are named
<name>.<ext>.  Output is deterministic.
"""
import argparse
import glob
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def modules():
    for path in sorted(glob.glob(os.path.join(HERE, "scenarios_*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        yield mod


def generate(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for mod in modules():
        for name, fn in mod.SCENARIOS:
            result = fn()
            if len(result) == 1:
                data, ext = result[0], "pcap"
            else:
                cap, ext = result
                if isinstance(cap, bytes):
                    data = cap
                else:
                    data = cap.pcapng_bytes() if ext == "pcapng" else cap.pcap_bytes()
            path = os.path.join(out_dir, "%s.%s" % (name, ext))
            with open(path, "wb") as f:
                f.write(data)
            written.append(path)
    return written


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "pcaps"))
    args = ap.parse_args()
    for p in generate(args.out):
        print(p)
