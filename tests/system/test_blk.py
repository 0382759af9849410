"""Disks under real Xen: blkfront against Linux blkback, checked from the other side.

One full-mode boot runs three guests of tests/guest/blk:
  data    reads a pattern the host wrote (and says its sha256), writes its own for dom0's
          sha256sum, writes through stdio on /dev/xvda, then uses a disk of 4096-byte sectors
          and a read-only one that dom0 attaches while it runs;
  flush   writes and flushes 2 MiB; dom0 destroys it and finds the bytes in the disk file;
  detach  keeps I/O going while dom0 detaches its disk and attaches it again.
"""

import hashlib
import os
import random
import re
import tempfile
import unittest
from pathlib import Path

from tests.system.test_sandbox import sandbox

BUILD = Path(os.environ.get("SKIFF_BUILD", Path(__file__).resolve().parents[2] / "build/guest"))
BLK_TEST = BUILD / "tests/guest/blk/blk_test.elf"
MIB = 1024 * 1024


def guest_pattern(start, n):
    """tests/guest/blk's PatternAt over [start, start + n)."""
    return bytes((((p >> 9) * 31 + (p & 511) * 7 + 0x5a) & 0xFF) for p in range(start, start + n))


class Disks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with tempfile.TemporaryDirectory() as tmp:
            image = Path(tmp) / "data.img"
            cls.host_pattern = random.Random(11).randbytes(8 * MIB)
            image.write_bytes(cls.host_pattern)
            data_side = (
                "echo \"region $(tail -c +$((4 * 1048576 + 1)) /srv/data-xvda.img | sha256sum)\"; "
                "echo \"stdio $(dd if=/srv/data-xvda.img bs=4096 skip=769 count=1 2>/dev/null "
                "| head -c 24)\"; "
                "truncate -s 8M /srv/big.img && dev=$(losetup --sector-size 4096 -f --show "
                "/srv/big.img) && xl block-attach data \"format=raw,vdev=xvdb,access=rw,"
                "target=$dev\" && truncate -s 4M /srv/ro.img && "
                "xl block-attach data 'format=raw,vdev=xvdc,access=ro,target=/srv/ro.img'")
            flush_side = ("xl destroy flush && "
                          "echo \"flushed $(head -c 2097152 /srv/flush-xvda.img | sha256sum)\"")
            detach_side = ("xl block-detach detach xvda && sleep 2 && "
                           "xl block-attach detach 'format=raw,vdev=xvda,access=rw,"
                           "target=/srv/detach-xvda.img'")
            cls.rc, cls.out = sandbox(
                "full",
                BLK_TEST, "--name", "data", "--cmdline", "data", "--disk", str(image),
                "--ready", "ready for dom0",
                BLK_TEST, "--name", "flush", "--cmdline", "flush", "--disk", "16M",
                "--ready", "waiting for xl destroy",
                BLK_TEST, "--name", "detach", "--cmdline", "detach", "--disk", "16M",
                "--ready", "ready for dom0",
                "--cmd", data_side, "--cmd", flush_side, "--cmd", detach_side,
                "--timeout", "300")

    def assertLine(self, text):
        """A failure names the missing line and the run's log, not the whole output."""
        if text not in self.out:
            log = re.search(r"the whole console log is in (\S+)", self.out)
            self.fail(f"missing {text!r} (the run's log: {log.group(1) if log else '?'})")

    def assertOk(self, guest, lines):
        failed = re.findall(rf"^\[{guest}\] FAIL: .*$", self.out, re.M)
        self.assertEqual(failed, [])
        for line in lines:
            self.assertLine(f"[{guest}] ok: {line}")

    def test_negotiates_with_blkback(self):
        negotiated = re.search(r"\[data\] blkfront: xvda: 8388608 bytes, 512-byte sectors "
                               r"\(physical 512\), flush, discard, persistent grants, "
                               r"indirect \d+, ring \d+ pages?", self.out)
        self.assertIsNotNone(negotiated, "blkfront's line for xvda")
        self.assertOk("data", ["ListDisks has xvda", "xvda is 8 MiB of 512-byte sectors, connected",
                               "blkback gave indirect requests, persistent grants and flush"])

    def test_reads_what_the_host_wrote(self):
        self.assertOk("data", ["reads the disk in 1 MiB requests",
                               "64 reads in flight at once, into unaligned buffers, match",
                               "a coroutine co_awaits a read"])
        self.assertLine(f"[data] dom0's pattern: sha256 {hashlib.sha256(self.host_pattern).hexdigest()}")

    def test_dom0_reads_what_the_guest_wrote(self):
        self.assertOk("data", ["writes 1 MiB, then writes of 512 bytes to 1 MiB + 4 KiB, in two "
                               "pieces each", "flushes", "reads its pattern back"])
        expected = hashlib.sha256(guest_pattern(4 * MIB, 4 * MIB)).hexdigest()
        self.assertLine(f"[data] guest's pattern: sha256 {expected}")
        self.assertLine(f"[dom0] region {expected}  -")

    def test_bad_requests_are_clear_errors_and_the_guest_goes_on(self):
        self.assertLine("[data] read past the end: xvda: a read of 1024 bytes at offset 8388096 "
                      "goes past the end of the disk (8388608 bytes)")
        self.assertLine("[data] misaligned read: xvda: a read of 512 bytes at offset 100 is not in "
                      "whole 512-byte sectors")
        self.assertOk("data", ["a read past the end is EINVAL",
                               "a read not in whole sectors is EINVAL",
                               "the disk goes on: its last sector reads"])

    def test_posix_and_stdio_on_dev_xvda(self):
        self.assertOk("data", [
            "open(\"/dev/xvda\", O_RDWR)", "fstat says a block device", "lseek(SEEK_END) is the size",
            "pread of 100 bytes at an odd offset",
            "pwrite across a sector boundary keeps the bytes around it",
            "a read at the end gives 0", "a write at the end is ENOSPC", "close",
            "fopen, fseek, fprintf, fflush, fsync and fclose on /dev/xvda",
            "the disk has what stdio wrote"])
        self.assertLine("[dom0] stdio hello from stdio on xvda")

    def test_4096_byte_sectors(self):
        self.assertLine("[data] blkfront: xvdb: 8388608 bytes, 4096-byte sectors")
        self.assertOk("data", ["xvdb (4096-byte sectors) is attached at run time",
                               "xvdb has 4096-byte sectors",
                               "writes and reads 8 KiB on 4096-byte sectors",
                               "512 bytes on it are EINVAL",
                               "pwrite of 6 bytes into a 4096-byte sector keeps the rest"])

    def test_read_only_disk(self):
        self.assertLine("[data] write to xvdc: xvdc is read-only: a write is refused")
        self.assertOk("data", ["xvdc (read-only) is attached at run time",
                               "xvdc says it is read-only", "a write to it is EROFS", "it reads",
                               "open(O_RDWR) of it is EROFS"])
        self.assertLine("sandbox: guest data: exit status 0")

    def test_flushed_data_survives_xl_destroy(self):
        self.assertOk("flush", ["writes 2 MiB", "flushes"])
        expected = hashlib.sha256(guest_pattern(0, 2 * MIB)).hexdigest()
        self.assertLine(f"[dom0] flushed {expected}  -")

    def test_io_resumes_after_block_detach_and_attach(self):
        self.assertLine("[detach] blkfront: xvda: the backend went away")
        self.assertOk("detach", ["the disk went away and came back while its I/O ran",
                                 "every request of every round succeeded and read back what was "
                                 "written"])
        self.assertLine("sandbox: guest detach: exit status 0")
        self.assertIsNotNone(re.search(r"\[detach\] \d+ rounds", self.out), "the rounds it did")

    def test_every_dom0_command_succeeded(self):
        self.assertEqual(re.findall(r"^sandbox: FAIL: dom0 command.*$", self.out, re.M), [])
        # The run's one failure is the guest dom0 destroyed on purpose.
        self.assertLine("sandbox: FAIL: guest flush ended without a shutdown reason")


if __name__ == "__main__":
    unittest.main()
