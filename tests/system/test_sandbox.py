"""The sandbox, end to end: the probe guest under real Xen in both modes, and bad input.

Run by scripts/test after the guest build; SKIFF_BUILD names the guest build folder.
"""

import os
import socket
import subprocess
import time
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SANDBOX = REPO / "scripts" / "sandbox"
PROBE = Path(os.environ.get("SKIFF_BUILD", REPO / "build" / "guest")) / \
    "tests/guest/probe/probe.elf"


def sandbox(*args, env=None):
    """Runs scripts/sandbox; returns (exit status, everything it printed)."""
    proc = subprocess.run([str(SANDBOX), *map(str, args)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=env, timeout=600)
    return proc.returncode, proc.stdout


class BadInput(unittest.TestCase):
    def test_missing_image(self):
        rc, out = sandbox("dom0", "no/such/image.elf")
        self.assertEqual(rc, 2, out)
        self.assertIn("no/such/image.elf: no such image file", out)

    def test_not_an_elf(self):
        rc, out = sandbox("full", __file__)
        self.assertEqual(rc, 2, out)
        self.assertIn("not an ELF file", out)

    def test_elf_without_pvh_note(self):
        rc, out = sandbox("full", "/bin/sh")
        self.assertEqual(rc, 2, out)
        self.assertIn("has no PVH entry note", out)

    def test_unknown_option(self):
        rc, out = sandbox("full", PROBE, "--colour", "blue")
        self.assertEqual(rc, 2, out)
        self.assertIn("unknown option '--colour'", out)

    def test_guest_option_before_image(self):
        rc, out = sandbox("full", "--memory", "32", PROBE)
        self.assertEqual(rc, 2, out)
        self.assertIn("--memory is a guest option", out)

    def test_missing_ramdisk(self):
        rc, out = sandbox("full", PROBE, "--ramdisk", "no/such/initrd.cpio")
        self.assertEqual(rc, 2, out)
        self.assertIn("--ramdisk 'no/such/initrd.cpio': no such file", out)

    def test_ramdisk_before_image(self):
        rc, out = sandbox("full", "--ramdisk", __file__, PROBE)
        self.assertEqual(rc, 2, out)
        self.assertIn("--ramdisk is a guest option", out)

    def test_missing_dom0_file(self):
        rc, out = sandbox("full", PROBE, "--file", "no/such/program")
        self.assertEqual(rc, 2, out)
        self.assertIn("--file 'no/such/program': no such file", out)

    def test_forward_outside_the_bridge(self):
        rc, out = sandbox("full", PROBE, "--forward", "8080:10.0.0.1:80")
        self.assertEqual(rc, 2, out)
        self.assertIn("neither a guest's name nor an address on the dom0 bridge", out)

    @unittest.skipUnless(os.geteuid() == 0, "mounting a small tmpfs needs root")
    def test_no_disk_space(self):
        with tempfile.TemporaryDirectory() as tiny:
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", tiny], check=True)
            try:
                rc, out = sandbox("setup", env=dict(os.environ, SKIFF_CACHE=tiny))
            finally:
                subprocess.run(["umount", tiny], check=True)
        self.assertEqual(rc, 2, out)
        self.assertIn("no disk space", out)
        self.assertIn(tiny, out)


class Dom0Mode(unittest.TestCase):
    def test_passes_with_status_zero(self):
        rc, out = sandbox("dom0", PROBE, "--cmdline", "exit=0 hello 'world'")
        self.assertEqual(rc, 0, out)
        self.assertIn("[probe] probe: cmdline: exit=0 hello 'world'", out)
        self.assertIn("[probe] skiff: exit status 0", out)
        self.assertIn("sandbox: PASS", out)

    def test_fails_with_the_guests_status(self):
        rc, out = sandbox("dom0", PROBE, "--cmdline", "exit=3")
        self.assertEqual(rc, 1, out)
        self.assertIn("FAIL: guest probe exited with status 3", out)

    def test_crash_fails(self):
        rc, out = sandbox("dom0", PROBE, "--cmdline", "crash")
        self.assertEqual(rc, 1, out)
        self.assertIn("probe: crashing on request", out)
        self.assertIn("FAIL: guest probe crashed", out)

    def test_hang_times_out(self):
        rc, out = sandbox("dom0", PROBE, "--cmdline", "hang", "--timeout", "8")
        self.assertEqual(rc, 1, out)
        self.assertIn("FAIL: timed out after 8 s waiting for guest probe to exit "
                      "(its last line: probe: hanging on request)", out)


class FullMode(unittest.TestCase):
    def test_backends_reach_initwait(self):
        # The vif and vbd hotplug scripts are slow on a busy host: room for them. The same run
        # has dom0 run a program of the host's, handed over with --file.
        with tempfile.TemporaryDirectory() as tmp:
            program = Path(tmp) / "from-the-host"
            program.write_text("#!/bin/sh\necho \"ran in dom0: $*\"\n")
            program.chmod(0o755)
            rc, out = sandbox("full", PROBE, "--cmdline", "backends", "--vif", "--disk", "16M",
                              "--cmd", "xenstore-read /local/domain/$(xl domid probe)/name",
                              "--file", program, "--cmd", "/sandbox/run/files/from-the-host a b",
                              "--timeout", "120")
        self.assertEqual(rc, 0, out)
        self.assertIn("[dom0] ran in dom0: a b", out)
        self.assertRegex(out, r"\[probe\] probe: vif/0 backend /local/domain/0/backend/vif/\d+/0 "
                              r"state 2 \(InitWait\)")
        self.assertRegex(out, r"\[probe\] probe: vbd/51712 backend "
                              r"/local/domain/0/backend/vbd/\d+/51712 state 2 \(InitWait\)")
        self.assertIn("[dom0] probe", out)
        self.assertIn("sandbox: guest probe: exit status 0", out)
        self.assertIn("sandbox: PASS", out)

    def test_each_guest_is_judged_on_its_own(self):
        rc, out = sandbox("full", PROBE, "--name", "ok", "--cmdline", "exit=0",
                          PROBE, "--name", "status", "--cmdline", "exit=7",
                          PROBE, "--name", "crasher", "--cmdline", "crash",
                          PROBE, "--name", "hanger", "--cmdline", "hang",
                          "--timeout", "20")
        self.assertEqual(rc, 1, out)
        self.assertIn("sandbox: guest ok: exit status 0", out)
        self.assertIn("FAIL: guest status exited with status 7", out)
        self.assertIn("[crasher] probe: crashing on request", out)
        self.assertIn("FAIL: guest crasher crashed (SHUTDOWN_crash)", out)
        self.assertIn("FAIL: guest hanger still running after 20 s; its last console line: "
                      "probe: hanging on request", out)
        # Where it hangs, from its symbols: in Hang(), blocked in a hypercall.
        self.assertRegex(out, r"\[hanger\] \(hung\) rip: [0-9a-f]+ hypercall_page\+0x")
        self.assertRegex(out, r"\[hanger\] \(hung\) .*\[<[0-9a-f]+>\] Hang\+0x")

    def test_host_reaches_the_bridge_only_through_the_forward(self):
        """A listener on dom0's bridge address gets what the host sends to 127.0.0.1."""
        port = 18000 + os.getpid() % 1000
        proc = subprocess.Popen(
            [str(SANDBOX), "full", str(PROBE), "--forward", f"{port}:169.254.77.1:7000",
             "--cmd", "timeout 60 nc -l 169.254.77.1 7000 & "
                      "until ss -ltn | grep -q ':7000 '; do sleep 0.1; done; "
                      "echo listening; wait"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        deadline = time.monotonic() + 180
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("[dom0] listening"):
                break
        sent = False
        while not sent and time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                    conn.sendall(b"through the forward\n")
                    sent = True
            except OSError:
                time.sleep(1)
        out = "".join(lines) + proc.communicate(timeout=180)[0]
        self.assertTrue(sent, out)
        self.assertEqual(proc.returncode, 0, out)
        self.assertIn("[dom0] through the forward", out)


if __name__ == "__main__":
    unittest.main()
