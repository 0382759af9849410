"""apps/netbench under real Xen, measured from dom0 with the stock tools.

One full-mode boot of netbench with a vif; dom0's Debian iperf3 client runs tests both ways
and with parallel streams, a client that sends garbage for its parameters and one killed in
the middle of its test come between them, nc bounces datagrams off the UDP echo, and at the
end dom0 writes the guest's data/stop, at which it exits 0 (how `scripts/bench net` ends it).
"""

import os
import re
import unittest
from pathlib import Path

from tests.system.test_sandbox import sandbox

BUILD = Path(os.environ.get("SKIFF_BUILD", Path(__file__).resolve().parents[2] / "build/guest"))
NETBENCH = BUILD / "apps/netbench/netbench.elf"
ADDRESS = "169.254.77.2"

# Each dom0 command names itself first, so that a test finds its own output.
COMMANDS = {
    "forward": f"iperf3 -c {ADDRESS} -t 3",
    "reverse": f"iperf3 -c {ADDRESS} -t 3 -R",
    "parallel": f"iperf3 -c {ADDRESS} -t 3 -P 2",
    # The cookie, then a parameters message that is not JSON: SERVER_ERROR (fe), then
    # iperf3's "unable to receive parameters" (114) and an errno, four bytes each.
    "garbage": (f"exec 3<>/dev/tcp/{ADDRESS}/5201; "
                "printf 'abcdefghijklmnopqrstuvwxyz0123456789\\0' >&3; "
                "dd bs=1 count=1 <&3 2>/dev/null | od -An -tx1; "
                "printf '\\0\\0\\0\\5hello' >&3; "
                "dd bs=1 count=9 <&3 2>/dev/null | od -An -tx1"),
    "killed": (f"timeout -s KILL 2 iperf3 -c {ADDRESS} -t 10 >/dev/null; "
               f"iperf3 -c {ADDRESS} -t 2"),
    "echo": (f"echo hello netbench | nc -u -w1 {ADDRESS} 7; "
             f"head -c 1400 /dev/zero | nc -u -w1 {ADDRESS} 7 | wc -c"),
}


class Netbench(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        args = [NETBENCH, "--name", "nb", "--vif", "--cmdline", f"skiff.ip={ADDRESS}",
                "--ready", "netbench: ready"]
        for name, command in COMMANDS.items():
            args += ["--cmd", f"echo '== {name}'; {command}"]
        args += ["--cmd", "xenstore-write /local/domain/$(xl domid nb)/data/stop 1",
                 "--timeout", "240"]
        cls.rc, cls.out = sandbox("full", *args)
        log = re.search(r"the whole console log is in (\S+)", cls.out)
        cls.log = log.group(1) if log else "?"

    def section(self, name):
        """dom0's output of one command (and the guest's lines printed meanwhile)."""
        match = re.search(rf"^\[dom0\] == {name}\n(.*?)(?=^\[dom0\] == |^sandbox: )", self.out,
                          re.M | re.S)
        self.assertIsNotNone(match, f"no output from the {name!r} command (log: {self.log})")
        return match.group(1)

    def assertIperfDone(self, text):
        """The client's closing lines: both sides' totals, and no error."""
        self.assertNotIn("iperf3: error", text)
        self.assertIn("iperf Done.", text)
        for side in ("sender", "receiver"):
            rate = re.search(rf"\[(?:SUM|  5)\]\s+0\.00-\d+\.\d+\s+sec\s+[\d.]+ MBytes\s+"
                             rf"([\d.]+) Mbits/sec.*{side}$", text, re.M)
            self.assertIsNotNone(rate, f"no {side} total (log: {self.log})")
            self.assertGreater(float(rate.group(1)), 1.0, f"the {side}'s rate")

    def test_ready(self):
        self.assertIn("[nb] netbench: ready", self.out)

    def test_client_sends(self):
        self.assertIperfDone(self.section("forward"))
        self.assertRegex(self.out, r"\[nb\] netbench: iperf3 #1 from 169\.254\.77\.1: received "
                                   r"[1-9]\d* bytes in \d+\.\d\d s, [\d.]+ Mbit/s, 1 stream \(the "
                                   r"client sent [1-9]\d*\)")

    def test_guest_sends(self):
        self.assertIperfDone(self.section("reverse"))
        self.assertRegex(self.out, r"\[nb\] netbench: iperf3 #2 from \S+: sent [1-9]\d* bytes")

    def test_parallel_streams(self):
        text = self.section("parallel")
        self.assertIperfDone(text)
        self.assertEqual(len(re.findall(r"^\[dom0\] \[ *\d+\] +0\.00-.*receiver$", text, re.M)),
                         2, "a receiver line per stream")
        self.assertRegex(self.out, r"\[nb\] netbench: iperf3 #3 from \S+: received [1-9]\d* "
                                   r"bytes .*, 2 streams")

    def test_garbage_parameters_are_refused_and_the_server_goes_on(self):
        text = self.section("garbage")
        self.assertIn("[dom0]  09\n", text)   # PARAM_EXCHANGE
        self.assertIn("[dom0]  fe 00 00 00 72 00 00 00 16", text)
        self.assertIn("[nb] netbench: iperf3 #4 from 169.254.77.1: refused: parameters: bad JSON",
                      self.out)

    def test_a_killed_client_ends_its_test_and_the_next_one_runs(self):
        text = self.section("killed")
        self.assertRegex(self.out, r"\[nb\] netbench: iperf3 #5 from 169\.254\.77\.1: "
                                   r".*the client closed the connection")
        self.assertIperfDone(text)

    def test_udp_echo(self):
        text = self.section("echo")
        self.assertIn("[dom0] hello netbench\n", text)
        self.assertIn("[dom0] 1400\n", text)

    def test_data_stop_ends_the_guest_with_status_0(self):
        self.assertIn("[nb] netbench: told to stop", self.out)
        self.assertIn("guest nb: exit status 0", self.out)

    def test_every_dom0_command_succeeded(self):
        self.assertEqual(re.findall(r"^sandbox: FAIL.*$", self.out, re.M), [])
        self.assertEqual(self.rc, 0, f"log: {self.log}")


if __name__ == "__main__":
    unittest.main()
