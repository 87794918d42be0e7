#!/usr/bin/env python3
"""--format fix: every generated PowerShell script parses with a real
PowerShell grammar, and changes nothing by itself.

For the bundled NNR and policy captures (with the profile chosen from the
traffic and with each built-in profile named), writes the fix script and
the JSON report, parses every script with tree-sitter-powershell (its
WebAssembly build through web-tree-sitter, tools/pscheck/check.js) and
checks:
  - no ERROR or MISSING node in any parse tree;
  - the parser sees one New-NetFirewallRule per fix of the JSON report that
    is not path-refused, each guarded by Test-PwHost and run with
    -WhatIf:(-not $Apply) (a dry run unless the script is started with
    -Apply), and the same command text as the JSON "powershell" field;
  - path-refused fixes have no command, and say the host firewall is not the
    one to change;
  - outside comments, the script holds only the param block, the Test-PwHost
    function and guarded blocks (nothing else runs);
  - at least one script has a command and one a path-refused block.

Skips (exit 77) when node or the npm packages (tools/pscheck: npm ci) are
absent.  Usage: test_fix_ps.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail; last line "N passed, N failed".  Python 3 stdlib only.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402


PROFILES = ["mdi-nnr", "mdi-sensor", "netwrix-threat-prevention"]



def run(binary, args):
    p = subprocess.run([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout


# The only lines outside comments and guarded blocks.
ALLOWED = {
    "[CmdletBinding()]", "param([switch]$Apply)", "function Test-PwHost([string[]]$Address) {",
    "foreach ($a in $Address) {",
    "if (Get-NetIPAddress -IPAddress $a -ErrorAction SilentlyContinue) { return $true }", "}",
    "return $false",
}


def check_structure(tag, text, fixes):
    lines = text.split("\n")
    commands = []
    i = 0
    while i < len(lines):
        s = lines[i].strip()
        if not s or s.startswith("#") or s in ALLOWED:
            i += 1
            continue
        if s.startswith("if (Test-PwHost ") and s.endswith(") {") and i + 2 < len(lines):
            cmd = lines[i + 1].strip()
            commands.append(cmd)
            check(lines[i + 2].strip() == "}", tag + " guarded block closes", lines[i + 2])
            i += 3
            continue
        check(False, tag + " unexpected line outside comments", s)
        i += 1
    want = [f for f in fixes if f["cause"] != "path-refused"]
    check(len(commands) == len(want), tag + " one command per host-firewall fix", (len(commands), len(want)))
    for cmd, f in zip(commands, want):
        check(cmd == f["powershell"] + " -WhatIf:(-not $Apply)", tag + " command is the JSON one, -WhatIf",
              cmd)
    for f in fixes:
        if f["cause"] == "path-refused":
            check(f["host_firewall"] is False and "not the one to change" in f["why"], tag + " path-refused says so")
    check("not the one to change" in text or all(f["cause"] != "path-refused" for f in fixes),
          tag + " path-refused text in the script")
    return len(commands)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    node = shutil.which("node") or shutil.which("nodejs")
    checker = os.path.join(args.source, "tools", "pscheck", "check.js")
    modules = os.path.join(args.source, "tools", "pscheck", "node_modules", "web-tree-sitter")
    if not node or not os.path.isdir(modules):
        print("SKIP: node or the tree-sitter-powershell packages are absent "
              "(tools/install-deps.sh: apt nodejs npm, then npm ci in tools/pscheck)")
        return 77
    tmp = tempfile.mkdtemp(prefix="pw-fixps-")
    runs = []
    pcaps = sorted(glob.glob(os.path.join(args.source, "pcaps", "policy-*.pcap")) +
                   glob.glob(os.path.join(args.source, "pcaps", "nnr-*.pcap")))
    for pcap in pcaps:
        for prof in [None] + PROFILES:
            extra = ["--profile", prof] if prof else []
            tag = "%s%s" % (os.path.basename(pcap), " --profile " + prof if prof else "")
            rc, js = run(args.binary, ["-r", pcap, "--format", "json"] + extra)
            out = os.path.join(tmp, "%d.ps1" % len(runs))
            rc2, _ = run(args.binary, ["-r", pcap, "--format", "fix", "-o", out] + extra)
            if not check(rc in (0, 3) and rc2 == rc, tag + " exit status", (rc, rc2)):
                continue
            runs.append((tag, out, json.loads(js)["fixes"]))
    p = subprocess.run([node, checker] + [r[1] for r in runs], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300, universal_newlines=True)
    if not check(p.returncode == 0, "parser ran", p.stderr[-500:]):
        print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
        return 1
    parsed = {}
    for line in p.stdout.splitlines():
        o = json.loads(line)
        parsed[o["file"]] = o
    total_cmds = 0
    path_blocks = 0
    for tag, path, fixes in runs:
        o = parsed.get(path)
        if not check(o is not None, tag + " parsed"):
            continue
        check(not o["has_error"] and not o["errors"], tag + " no ERROR/MISSING node", o["errors"][:3])
        want = sum(1 for f in fixes if f["cause"] != "path-refused")
        check(o["commands"].count("New-NetFirewallRule") == want, tag + " parser sees the commands",
              (o["commands"].count("New-NetFirewallRule"), want))
        with open(path) as fh:
            total_cmds += check_structure(tag, fh.read(), fixes)
        path_blocks += sum(1 for f in fixes if f["cause"] == "path-refused")
    check(total_cmds > 0, "some script has a firewall command", total_cmds)
    check(path_blocks > 0, "some script has a path-refused block", path_blocks)
    print("%d scripts parsed, %d commands, %d path-refused blocks" % (len(runs), total_cmds, path_blocks))
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 1 if checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
