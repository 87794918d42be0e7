"""Helpers of the live tests: a pair of network namespaces joined by a veth,
portwitness listening in one, tcpreplay sending from the other.

Traffic only ever goes into namespaces the test made; addresses exist only
inside them (10.99.0.1/24 and 10.99.0.2/24).  IPv6 is off on the veth so the
kernel adds no packet of its own (no router solicitation, no DAD), and the
replayed frames carry foreign MAC addresses, so the receiving kernel answers
none of them: portwitness sees exactly the replayed frames.
Python 3 stdlib only.
"""
import os
import shutil
import signal
import subprocess
import time


def sh(*args, check=True):
    return subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=check)


def why_not_live():
    """None when namespaces can be made here, else the reason to skip."""
    if os.geteuid() != 0:
        return "live tests need root (network namespaces)"
    for tool in ("ip", "tcpreplay"):
        if not shutil.which(tool):
            return "%s is not installed (tools/install-deps.sh installs tcpreplay)" % tool
    name = "pwprobe%d" % os.getpid()
    r = sh("ip", "netns", "add", name, check=False)
    if r.returncode != 0:
        return "cannot create a network namespace: %s" % r.stderr.decode().strip()
    sh("ip", "netns", "del", name, check=False)
    return None


class Veth:
    """Namespaces pwA<pid>/pwB<pid> and a veth pair: .tx in A, .rx in B."""

    def __init__(self, tag=""):
        pid = os.getpid() % 100000
        self.ns_a, self.ns_b = "pwA%d%s" % (pid, tag), "pwB%d%s" % (pid, tag)
        self.tx, self.rx = "pwt%d%s" % (pid, tag), "pwr%d%s" % (pid, tag)

    def __enter__(self):
        try:
            self._setup()
        except Exception:
            self.cleanup()
            raise
        return self

    def _setup(self):
        sh("ip", "netns", "add", self.ns_a)
        sh("ip", "netns", "add", self.ns_b)
        sh("ip", "link", "add", self.tx, "type", "veth", "peer", "name", self.rx)
        sh("ip", "link", "set", self.tx, "netns", self.ns_a)
        sh("ip", "link", "set", self.rx, "netns", self.ns_b)
        for ns, dev, addr in ((self.ns_a, self.tx, "10.99.0.1/24"), (self.ns_b, self.rx, "10.99.0.2/24")):
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
               "net.ipv6.conf.default.disable_ipv6=1")
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)

    def cleanup(self):
        for ns in (self.ns_a, self.ns_b):
            sh("ip", "netns", "del", ns, check=False)  # deletes the veth with it

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def listen(self, binary, args, stdout, stderr=subprocess.PIPE):
        """Starts portwitness on the receiving end; returns the Popen once it captures."""
        p = subprocess.Popen(["ip", "netns", "exec", self.ns_b, binary, "-i", self.rx] + args,
                             stdout=stdout, stderr=stderr)
        time.sleep(0.8)  # the interface is open well before this
        return p

    def replay(self, pcap, extra=()):
        """Replays pcap into the veth (original timing unless extra says otherwise)."""
        r = sh("ip", "netns", "exec", self.ns_a, "tcpreplay", "-q", "-i", self.tx, *extra, pcap, check=False)
        return r.returncode, r.stderr.decode("utf-8", "replace")


def stop(p, timeout=60):
    """SIGINT, then the exit status and stderr text."""
    time.sleep(0.5)  # the last replayed frame has reached the socket
    p.send_signal(signal.SIGINT)
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        return None, (err or b"").decode("utf-8", "replace") + " (killed: did not stop on SIGINT)"
    return p.returncode, (err or b"").decode("utf-8", "replace")
