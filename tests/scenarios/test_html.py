#!/usr/bin/env python3
"""HTML page test in a real headless browser (Debian's chromium).

For bundled captures, renders portwitness's --format html page in chromium,
driven over the DevTools protocol on a pipe (--remote-debugging-pipe: fds 3
and 4, NUL-terminated JSON; Python stdlib only), in a 1280-pixel-wide
viewport, and checks against the same run's --format json model:
  - no console error, no uncaught exception, no log error;
  - no network request other than the page's own file;
  - every required section is in the DOM (summary, failing rules, NNR,
    rules, fixes, services);
  - the summary's failing-required count and unhealthy-sensor count;
  - each NNR matrix cell (category, result, name learned, frames) against
    nnr.targets; each sensor's health against its alerts;
  - each rule row's verdict and evidence frames against rules; the verdict
    filter shows exactly the rules of that verdict;
  - each fix article's cause against fixes;
  - the timeline's columns add up to stats.outcomes;
  - the page and its main tables fit within 1280 px (no horizontal scroll).
Also writes a screenshot of each page next to the test's temp files.

Skips (exit 77) when chromium is absent.
Usage: test_html.py --binary PATH --source REPO_DIR
Exit 0 pass, 1 fail; last line "N passed, N failed".
"""
import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402  (tests/checks.py: check() and the counts)
from checks import check  # noqa: E402


# (capture, extra arguments)
CASES = [
    ("nnr-methods.pcap", []),
    ("nnr-netbios-alert.pcap", []),
    ("policy-nnr-partial.pcap", ["--profile", "mdi-nnr"]),
    ("policy-netwrix-epm-blocked.pcap", ["--profile", "netwrix-threat-prevention"]),
    ("policy-sensor-proxy-auth.pcap", ["--profile", "mdi-sensor"]),
]

WIDTH = 1280



class Browser:
    """chromium with the DevTools protocol on fds 3 (to it) and 4 (from it)."""

    def __init__(self, exe, profile_dir):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        # The child sees its read end as fd 3 and its write end as fd 4 (moved
        # out of the way first: either may already be 3 or 4).
        def remap():
            a, b = os.dup(to_r), os.dup(from_w)
            os.dup2(a, 3)
            os.dup2(b, 4)
        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
             "--remote-debugging-pipe", "--user-data-dir=" + profile_dir, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=remap, pass_fds=(3, 4))
        os.close(to_r)
        os.close(from_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read_msg(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self.from_r, 65536)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            m = self._read_msg(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, name, timeout=30):
        deadline = time.time() + timeout
        for m in self.events:
            if m.get("method") == name:
                return m
        while True:
            m = self._read_msg(deadline)
            self.events.append(m)
            if m.get("method") == name:
                return m

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run(binary, args):
    p = subprocess.run([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout


# What the page exposes, collected in the page.
PROBE = r"""
(function(){
  function all(sel){return Array.prototype.slice.call(document.querySelectorAll(sel));}
  var out = {};
  out.sections = all('section[id]').map(function(s){return s.id;});
  var f = document.querySelector('#card-failing b'); out.failing = f ? parseInt(f.dataset.value) : null;
  var s = all('#card-sensors b'); out.unhealthy = s.length > 1 ? parseInt(s[1].dataset.value) : null;
  out.sensors = all('#nnr .sensor').map(function(d){return {sensor:d.dataset.sensor, health:d.dataset.health,
    alerts: all('#nnr .sensor[data-sensor="'+d.dataset.sensor+'"] .alert').map(function(a){return a.dataset.method;}),
    cells: all('#nnr .sensor[data-sensor="'+d.dataset.sensor+'"] tr[data-target]').map(function(tr){
      return {target: tr.dataset.target, cells: Array.prototype.slice.call(tr.querySelectorAll('td.cell')).map(function(td){
        return {cat: td.dataset.cat, method: td.dataset.method || null, result: td.dataset.result || null,
                name: td.dataset.name || null, frames: td.dataset.frames || ''};})};})};});
  out.rules = all('#rules-table tbody tr').map(function(tr){return {rule: tr.dataset.rule, profile: tr.dataset.profile,
    verdict: tr.dataset.verdict, badge: tr.querySelector('.badge').textContent,
    frames: Array.prototype.slice.call(tr.querySelectorAll('.ev')).map(function(e){return parseInt(e.dataset.frame);})};});
  out.fixes = all('#fixes article.fix').map(function(a){return {rule: a.dataset.rule, server: a.dataset.server,
    cause: a.dataset.cause, ps: !!a.querySelector('pre.ps')};});
  out.timeline = {};
  all('#timeline rect[data-outcome]').forEach(function(r){
    out.timeline[r.dataset.outcome] = (out.timeline[r.dataset.outcome] || 0) + parseInt(r.dataset.count);});
  out.scrollWidth = document.documentElement.scrollWidth;
  out.tables = all('table').filter(function(t){return t.id === 'rules-table' || t.id === 'services-table' ||
      t.classList.contains('matrix');}).map(function(t){var r = t.getBoundingClientRect();
      return {id: t.id || t.className, right: r.right, width: t.scrollWidth};});
  var v = document.getElementById('f-verdict');
  out.filtered = {};
  if (v) {
    ['pass','fail','partial','unobserved','indeterminate'].forEach(function(x){
      v.value = x; v.dispatchEvent(new Event('change'));
      out.filtered[x] = all('#rules-table tbody tr').filter(function(tr){return !tr.hidden;}).length;});
    v.value = ''; v.dispatchEvent(new Event('change'));
  }
  return JSON.stringify(out);
})()
"""


def cat_of(m):
    if m["result"] == "resolved":
        return "resolved"
    return {"answered": "appfail", "refused": "refused", "blocked": "blocked",
            "unanswered": "unanswered"}.get(m["outcome"], "indeterminate")


def check_nnr(tag, page, model):
    methods = ["ntlm_rpc", "netbios", "rdp", "reverse_dns"]
    sensors = {s["sensor"]: s for s in model["nnr"]["sensors"]}
    check(sorted(s["sensor"] for s in page["sensors"]) == sorted(sensors), tag + " sensors",
          [s["sensor"] for s in page["sensors"]])
    for ps in page["sensors"]:
        ms = sensors.get(ps["sensor"])
        if not ms:
            continue
        want_alerts = sorted(a["method"] for a in ms["alerts"])
        check(ps["health"] == ("unhealthy" if want_alerts else "healthy"), tag + " health " + ps["sensor"])
        check(sorted(ps["alerts"]) == want_alerts, tag + " alerts " + ps["sensor"], ps["alerts"])
        targets = [t for t in model["nnr"]["targets"] if t["sensor"] == ps["sensor"]]
        check([c["target"] for c in ps["cells"]] == [t["target"] for t in targets], tag + " matrix rows")
        for row, t in zip(ps["cells"], targets):
            for i, meth in enumerate(methods):
                cell = row["cells"][i] if i < len(row["cells"]) else None
                m = t["methods"].get(meth)
                where = "%s cell %s/%s" % (tag, t["target"], meth)
                if m is None:
                    check(cell is not None and cell["cat"] == "none", where + " not tried", cell)
                    continue
                want = {"cat": cat_of(m), "method": meth, "result": m["result"], "name": m["name"],
                        "frames": ",".join(str(f) for f in m["frames"])}
                check(cell == want, where, "%s != %s" % (cell, want))


def check_rules(tag, page, model):
    rules = model["rules"]
    check([(r["rule"], r["profile"], r["verdict"]) for r in page["rules"]] ==
          [(r["id"], r["profile"], r["verdict"]) for r in rules], tag + " rule verdicts",
          [(r["rule"], r["verdict"]) for r in page["rules"]])
    for pr, mr in zip(page["rules"], rules):
        check(mr["verdict"] in pr["badge"], tag + " badge " + mr["id"], pr["badge"])
        check(pr["frames"] == [e["frame"] for e in mr["evidence"]], tag + " evidence frames " + mr["id"],
              "%s != %s" % (pr["frames"], [e["frame"] for e in mr["evidence"]]))
    if rules:
        for v in ["pass", "fail", "partial", "unobserved", "indeterminate"]:
            n = sum(1 for r in rules if r["verdict"] == v)
            check(page["filtered"].get(v) == n, "%s filter %s" % (tag, v), page["filtered"].get(v))
    failing = sum(1 for r in rules if r["required"] and r["verdict"] in ("fail", "partial"))
    check(page["failing"] == failing, tag + " failing required count", page["failing"])
    fixes = model["fixes"]
    check([(f["rule"], f["server"], f["cause"]) for f in page["fixes"]] ==
          [(f["rule"], f["server"], f["cause"]) for f in fixes], tag + " fixes", page["fixes"])
    for pf in page["fixes"]:
        check(pf["ps"] == (pf["cause"] != "path-refused"), tag + " fix command shown unless path-refused", pf)


def check_page(tag, page, model, requests, errors):
    check(not errors, tag + " no console errors", errors)
    check(not requests, tag + " no network requests", requests)
    want = ["summary", "failing", "rules", "fixes"] if model["rules"] else ["summary", "failing", "fixes"]
    if model["nnr"]["sensors"]:
        want.append("nnr")
    if model["services"]:
        want.append("services")
    for sec in want:
        check(sec in page["sections"], "%s section %s" % (tag, sec), page["sections"])
    if model["stats"]["attempts"]:
        check("timeline" in page["sections"], tag + " section timeline", page["sections"])
    want_tl = {k: v for k, v in model["stats"]["outcomes"].items() if v}
    check(page["timeline"] == want_tl, tag + " timeline sums to stats.outcomes", "%s != %s" % (page["timeline"], want_tl))
    unhealthy = sum(1 for s in model["nnr"]["sensors"] if s["alerts"])
    check(page["unhealthy"] == unhealthy, tag + " unhealthy sensors", page["unhealthy"])
    check(page["scrollWidth"] <= WIDTH, tag + " no horizontal scroll", page["scrollWidth"])
    for t in page["tables"]:
        check(t["right"] <= WIDTH and t["width"] <= WIDTH, "%s table %s within %d px" % (tag, t["id"], WIDTH), t)
    check_nnr(tag, page, model)
    check_rules(tag, page, model)


def load(browser, url, shot):
    tid = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    sid = browser.send("Target.attachToTarget", {"targetId": tid, "flatten": True})["sessionId"]
    for dom in ("Page", "Runtime", "Log", "Network"):
        browser.send(dom + ".enable", session=sid)
    browser.send("Emulation.setDeviceMetricsOverride", {"width": WIDTH, "height": 900, "deviceScaleFactor": 1,
                                                        "mobile": False}, session=sid)
    browser.events = []
    browser.send("Page.navigate", {"url": url}, session=sid)
    browser.wait_event("Page.loadEventFired")
    res = browser.send("Runtime.evaluate", {"expression": PROBE, "returnByValue": True}, session=sid)
    page = json.loads(res["result"]["value"])
    png = browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=sid)
    with open(shot, "wb") as fh:
        fh.write(base64.b64decode(png["data"]))
    errors, requests = [], []
    for m in browser.events:
        if m.get("sessionId") != sid:
            continue
        meth, p = m.get("method"), m.get("params", {})
        if meth == "Runtime.exceptionThrown":
            errors.append(p["exceptionDetails"].get("text"))
        elif meth == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append(p.get("args"))
        elif meth == "Log.entryAdded" and p["entry"].get("level") == "error":
            errors.append(p["entry"].get("text"))
        elif meth == "Network.requestWillBeSent" and p["request"]["url"] != url:
            requests.append(p["request"]["url"])
    browser.send("Target.closeTarget", {"targetId": tid})
    return page, requests, errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        print("SKIP: chromium is not installed (Debian package chromium; tools/install-deps.sh installs it)")
        return 77
    tmp = tempfile.mkdtemp(prefix="pw-html-")
    browser = Browser(exe, os.path.join(tmp, "profile"))
    try:
        browser.send("Target.setDiscoverTargets", {"discover": True})
        for pcap, extra in CASES:
            path = os.path.join(args.source, "pcaps", pcap)
            rc, js = run(args.binary, ["-r", path, "--format", "json"] + extra)
            model = json.loads(js)
            html = os.path.join(tmp, pcap + ".html")
            rc2, _ = run(args.binary, ["-r", path, "--format", "html", "-o", html] + extra)
            check(rc == rc2 and rc in (0, 3), pcap + " exit status", (rc, rc2))
            page, requests, errors = load(browser, "file://" + html, os.path.join(tmp, pcap + ".png"))
            check_page(pcap, page, model, requests, errors)
    finally:
        browser.close()
    print("pages and screenshots in %s" % tmp)
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
    return 1 if checks.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
