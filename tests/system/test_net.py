"""The network under real Xen: netfront and lwIP against Linux netback on dom0's bridge.

One full-mode boot (with the sandbox's DHCP server) runs three guests:
  echo  apps/echo at 169.254.77.2 (skiff.ip=): dom0 pings it, echoes TCP and UDP through it
        with nc and socat, opens 1,000 connections one after another and 100 at once, sends
        it malformed frames, and detaches and attaches its vif while it serves;
  nt    tests/guest/net at 169.254.77.3: pings dom0, talks to the echo guest over the bridge
        (guest to guest: blank checksums), then moves TRANSFER bytes each way with dom0, both
        at once, the SHA-256 printed at both ends, each transfer timed;
  dhcp  apps/echo without an address: it asks dnsmasq in dom0 for one.
"""

import os
import re
import struct
import unittest
from pathlib import Path

from tests.system.test_sandbox import sandbox

BUILD = Path(os.environ.get("SKIFF_BUILD", Path(__file__).resolve().parents[2] / "build/guest"))
ECHO = BUILD / "apps/echo/echo.elf"
NET_TEST = BUILD / "tests/guest/net/net_test.elf"
# Each way at once, 64 MiB unless SKIFF_NET_TRANSFER_MIB says more: 1 GiB each way passes
# too, but takes five minutes in the sandbox's emulated CPU (the SHA-256 sums and dom0's tools),
# and the longer the load, the likelier QEMU's triple fault (docs/sandbox.md).
TRANSFER = int(os.environ.get("SKIFF_NET_TRANSFER_MIB", "64")) << 20
assert TRANSFER % (16 << 20) == 0, "SKIFF_NET_TRANSFER_MIB: a multiple of 16"
ECHO_IP, NT_IP, DOM0_IP = "169.254.77.2", "169.254.77.3", "169.254.77.1"
ECHO_MAC = bytes.fromhex("00163e770000")   # the sandbox's MAC of the first guest's vif
FAKE_MAC = bytes.fromhex("02000000aa01")


def ones_complement(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(proto, payload, *, total=None, bad_sum=False, ihl=5):
    src, dst = bytes(map(int, DOM0_IP.split("."))), bytes(map(int, ECHO_IP.split(".")))
    length = total if total is not None else 20 + len(payload)
    header = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, length, 0x1234, 0, 64, proto, 0, src, dst)
    check = ones_complement(header) ^ (0x5555 if bad_sum else 0)
    return header[:10] + struct.pack("!H", check) + header[12:] + payload


def l4_sum(proto, segment):
    src, dst = bytes(map(int, DOM0_IP.split("."))), bytes(map(int, ECHO_IP.split(".")))
    return ones_complement(src + dst + struct.pack("!BBH", 0, proto, len(segment)) + segment)


def tcp_syn(bad_sum):
    segment = struct.pack("!HHIIBBHHH", 40000, 7, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
    check = l4_sum(6, segment) ^ (0x5555 if bad_sum else 0)
    return segment[:16] + struct.pack("!H", check) + segment[18:]


def udp(payload, bad_sum):
    segment = struct.pack("!HHHH", 40001, 7, 8 + len(payload), 0) + payload
    check = l4_sum(17, segment) ^ (0x5555 if bad_sum else 0)
    return segment[:6] + struct.pack("!H", check) + segment[8:]


def ethernet(payload, ethertype=0x0800):
    return ECHO_MAC + FAKE_MAC + struct.pack("!H", ethertype) + payload


# Each malformed frame, and the counter of the guest's stack that must count it.
HOSTILE = {
    "truncated IPv4 header": (ethernet(ipv4(1, b"")[:10]), ("ip", "length-errors")),
    "bad IPv4 header checksum": (ethernet(ipv4(1, b"\x08\0\0\0\0\0\0\0", bad_sum=True)),
                                 ("ip", "checksum-errors")),
    "IPv4 length past the frame": (ethernet(ipv4(17, udp(b"x" * 8, False), total=1400)),
                                   ("ip", "length-errors")),
    "IPv4 header length past the frame": (ethernet(ipv4(17, b"", ihl=15)),
                                          ("ip", "length-errors")),
    "bad TCP checksum": (ethernet(ipv4(6, tcp_syn(True))), ("tcp", "checksum-errors")),
    "bad UDP checksum": (ethernet(ipv4(17, udp(b"hostile", True))), ("udp", "checksum-errors")),
    "truncated ARP": (ethernet(b"\0\1\x08\0\6", 0x0806), ("arp", "drops")),
}
ROUNDS = 5   # of each


def printf_escape(frame):
    return "".join(f"\\x{b:02x}" for b in frame)


def counters_cmd(tag):
    return f"nc -q 2 {ECHO_IP} 8 </dev/null | sed 's/^/{tag} /'"


def hostile_cmd():
    sends = []
    for name, (frame, _) in HOSTILE.items():
        sends.append(f"for i in $(seq {ROUNDS}); do printf '{printf_escape(frame)}' | "
                     f"socat -u STDIN INTERFACE:vif$(xl domid echo).0; done")
    return " && ".join([counters_cmd("before")] + sends +
                       ["sleep 1", counters_cmd("after"),
                        f"echo \"still serving: $(echo alive | nc -q 2 {ECHO_IP} 7)\""])


class Network(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ping = f"ping -c 3 {ECHO_IP}"
        echo = (f"echo \"tcp echo: $(echo hello tcp | nc -q 2 {ECHO_IP} 7)\" && "
                f"echo \"udp echo: $(echo hello udp | socat -t 2 - UDP:{ECHO_IP}:7)\"")
        # From dom0's memory: a 16 MiB random block, sent TRANSFER / 16 MiB times.
        blocks = TRANSFER // (16 << 20)
        send = (f"start=$SECONDS && dd if=/dev/urandom of=/tmp/block bs=1M count=16 2>/dev/null && "
                f"for i in $(seq {blocks}); do cat /tmp/block; done | "
                f"tee >(sha256sum >/tmp/sent.sha) | socat -u STDIN TCP:{NT_IP}:5001 && "
                f"echo \"dom0 to guest: $((SECONDS - start)) s\" && "
                f"while [ ! -s /tmp/sent.sha ]; do sleep 0.2; done && "
                f"echo \"dom0 sent $(cat /tmp/sent.sha)\"")
        receive = (f"start=$SECONDS && "
                   f"echo \"dom0 received $(socat -u TCP:{NT_IP}:5002 STDOUT | sha256sum)\" && "
                   f"echo \"guest to dom0: $((SECONDS - start)) s\"")
        transfer = (f"( {send} ) & sending=$!; ( {receive} ); received=$?; "
                    f"wait $sending && [ $received = 0 ]")
        # bash's /dev/tcp: no process per connection.
        sequential = (f"ok=0; for i in $(seq 1000); do exec 3<>/dev/tcp/{ECHO_IP}/7 && "
                      f"echo \"c$i\" >&3 && read -t 10 -u 3 line && [ \"$line\" = \"c$i\" ] && "
                      f"ok=$((ok + 1)); exec 3>&-; done; echo \"sequential: $ok of 1000\"")
        at_once = (f"for i in $(seq 10 109); do eval \"exec $i<>/dev/tcp/{ECHO_IP}/7\"; done; "
                   f"for i in $(seq 10 109); do echo \"p$i\" >&$i; done; ok=0; "
                   f"for i in $(seq 10 109); do read -t 10 -u $i line && [ \"$line\" = \"p$i\" ] "
                   f"&& ok=$((ok + 1)); done; "
                   f"for i in $(seq 10 109); do eval \"exec $i>&-\"; done; "
                   f"echo \"at once: $ok of 100\"")
        dhcp = ("lease=$(awk '$2 == \"00:16:3e:77:02:00\" { print $3 }' "
                "/var/lib/misc/dnsmasq.leases) && "
                "echo \"lease: $lease\" && "
                "echo \"dhcp echo: $(echo hello dhcp | nc -q 2 $lease 7)\"")
        reattach = (f"exec 5<>/dev/tcp/{ECHO_IP}/7 && echo before >&5 && read -t 10 -u 5 l && "
                    f"echo \"before detach: $l\" && "
                    f"xl network-detach echo 0 && sleep 2 && "
                    f"xl network-attach echo bridge=xenbr0 mac=00:16:3e:77:00:00 ip={ECHO_IP} && "
                    f"for i in $(seq 60); do echo x | nc -q 1 -w 2 {ECHO_IP} 7 >/dev/null && break; "
                    f"sleep 1; done; "
                    f"echo \"after attach: $(echo new connection | nc -q 2 {ECHO_IP} 7)\"; "
                    f"echo old >&5 && read -t 20 -u 5 l; echo \"old connection: $l\"; "
                    f"{counters_cmd('reattached')}")
        cls.rc, cls.out = sandbox(
            "full", "--dhcp",
            ECHO, "--name", "echo", "--vif", "--cmdline", f"skiff.ip={ECHO_IP}",
            "--ready", "echo: serving",
            NET_TEST, "--name", "nt", "--vif", "--cmdline",
            f"skiff.ip={NT_IP}/24 {ECHO_IP} {DOM0_IP} {TRANSFER}", "--ready", "ready for dom0",
            ECHO, "--name", "dhcp", "--vif", "--ready", "echo: serving",
            "--cmd", ping, "--cmd", echo, "--cmd", transfer,
            "--cmd", sequential, "--cmd", at_once, "--cmd", dhcp, "--cmd", hostile_cmd(),
            "--cmd", reattach, "--cmd", "xl destroy echo && xl destroy dhcp",
            "--timeout", "900", timeout=1200)

    def assertLine(self, text):
        """A failure names the missing line and the run's log, not the whole output."""
        if text not in self.out:
            log = re.search(r"the whole console log is in (\S+)", self.out)
            self.fail(f"missing {text!r} (the run's log: {log.group(1) if log else '?'})")

    def assertOk(self, guest, lines):
        self.assertEqual(re.findall(rf"^\[{guest}\] FAIL: .*$", self.out, re.M), [])
        for line in lines:
            self.assertLine(f"[{guest}] ok: {line}")

    def counter(self, tag, what, name):
        """A counter of echo's counters port, as dom0 printed it: "TAG WHAT ... NAME N"."""
        line = re.search(rf"^\[dom0\] {tag} {what} (.*)$", self.out, re.M)
        self.assertIsNotNone(line, f"{tag}: {what}'s counters")
        found = re.search(rf"(?:^| ){name} (\d+)", line.group(1))
        self.assertIsNotNone(found, f"{tag}: {what} {name}")
        return int(found.group(1))

    def test_static_address_and_ping_from_dom0(self):
        self.assertLine(f"[echo] skiff: net: eth0 {ECHO_IP}/24 (static)")
        self.assertRegex(self.out, r"\[dom0\] 3 packets transmitted, 3 received, 0% packet loss")

    def test_tcp_and_udp_echo_from_dom0(self):
        self.assertLine("[dom0] tcp echo: hello tcp")
        self.assertLine("[dom0] udp echo: hello udp")

    def test_guest_pings_dom0_and_talks_to_another_guest(self):
        self.assertOk("nt", ["dom0 answers the guest's ping",
                             "4 MiB through the echo guest come back byte for byte",
                             "UDP datagrams of 1 to 8000 bytes through the echo guest"])

    def test_transfer_each_way_with_matching_sha256(self):
        sink = re.search(r"\[nt\] sink: (\d+) bytes sha256 ([0-9a-f]{64})", self.out)
        sent = re.search(r"\[dom0\] dom0 sent ([0-9a-f]{64})", self.out)
        self.assertIsNotNone(sink, "the guest's sum of what it received")
        self.assertIsNotNone(sent, "dom0's sum of what it sent")
        self.assertEqual(int(sink.group(1)), TRANSFER)
        self.assertEqual(sink.group(2), sent.group(1))
        source = re.search(r"\[nt\] source: (\d+) bytes sha256 ([0-9a-f]{64})", self.out)
        received = re.search(r"\[dom0\] dom0 received ([0-9a-f]{64})", self.out)
        self.assertIsNotNone(source, "the guest's sum of what it sent")
        self.assertIsNotNone(received, "dom0's sum of what it received")
        self.assertEqual(source.group(2), received.group(1))
        self.assertOk("nt", ["the end of the stream goes to dom0", "dom0 read it all and closed"])
        self.assertLine("sandbox: guest nt: exit status 0")

    def test_a_thousand_connections_then_a_hundred_at_once(self):
        self.assertLine("[dom0] sequential: 1000 of 1000")
        self.assertLine("[dom0] at once: 100 of 100")

    def test_dhcp_lease_from_dom0(self):
        lease = re.search(r"\[dom0\] lease: (169\.254\.77\.1\d\d)", self.out)
        self.assertIsNotNone(lease, "dnsmasq's lease for the dhcp guest")
        self.assertLine(f"[dhcp] skiff: net: eth0 {lease.group(1)}/24 via {DOM0_IP} (DHCP)")
        self.assertLine("[dom0] dhcp echo: hello dhcp")

    def test_malformed_frames_are_dropped_counted_and_the_guest_serves_on(self):
        for name, (_, counter) in HOSTILE.items():
            with self.subTest(frame=name):
                before, after = self.counter("before", *counter), self.counter("after", *counter)
                self.assertGreaterEqual(after - before, ROUNDS, counter)
        self.assertLine("[dom0] still serving: alive")
        self.assertEqual(self.counter("after", "eth0", "rx-errors"), 0)
        self.assertNotIn("broken", re.search(r"^\[dom0\] after eth0 .*$", self.out, re.M).group(0))

    def test_serves_again_after_network_detach_and_attach(self):
        self.assertLine("[dom0] before detach: before")
        self.assertLine("[dom0] after attach: new connection")
        self.assertEqual(self.counter("reattached", "eth0", "connects"), 2)

    def test_every_dom0_command_succeeded(self):
        self.assertEqual(re.findall(r"^sandbox: FAIL: dom0 command.*$", self.out, re.M), [])
        # The run's failures are the two servers dom0 destroyed on purpose.
        self.assertLine("sandbox: FAIL: guest echo ended without a shutdown reason")
        self.assertLine("sandbox: FAIL: guest dhcp ended without a shutdown reason")


if __name__ == "__main__":
    unittest.main()
