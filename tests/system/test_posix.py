"""The POSIX layer under real Xen: tests/guest/posix, used as ported C code uses it.

Most cases boot the image as a PVH dom0. stdin needs the PV console ring and xenconsoled, and
the host name comes from xenstore, so those run as domUs of one full-mode boot; dom0 types
into the guest's console through xenconsoled's pty, as `xl console` would.
"""

import os
import subprocess
import tempfile
import unittest
from pathlib import Path

from tests.system.test_sandbox import sandbox

BUILD = Path(os.environ.get("SKIFF_BUILD", Path(__file__).resolve().parents[2] / "build/guest"))
POSIX_TEST = BUILD / "tests/guest/posix/posix_test.elf"


def dom0(cmdline):
    return sandbox("dom0", POSIX_TEST, "--cmdline", cmdline)


class InDom0(unittest.TestCase):
    def assertPasses(self, cmdline, lines):
        rc, out = dom0(cmdline)
        self.assertEqual(rc, 0, out)
        self.assertNotIn("FAIL", out)
        self.assertIn("[posix_test] skiff: exit status 0", out)
        for line in lines:
            self.assertIn(f"[posix_test] ok: {line}", out)
        return out

    def test_files_and_descriptors(self):
        self.assertPasses("files", [
            "open(O_CREAT) gives the lowest free descriptor after the console's",
            "read continues from the offset and stops at the end",
            "pread and pwrite leave the offset alone", "dup shares the offset",
            "status flags belong to the open file, shared by dup", "O_APPEND writes at the end",
            "the console is a terminal, a file is not (ENOTTY)", "fopen(\"r\") reads it back",
            "rename replaces an existing file", "remove takes one name; the other keeps the bytes",
            "tmpfile is a working file", "mkstemp makes a unique file",
            "tmpnam names a file that does not exist", "/dev/null swallows writes and reads as empty",
            "/dev/zero reads zeros", "/dev/full: every write is ENOSPC", "umask applies"])

    def test_folders(self):
        self.assertPasses("folders", [
            "readdir lists ., .. and the files", "scandir with alphasort", "getcwd",
            "relative paths, . and .. resolve from the working folder", "realpath",
            "getcwd into too small a buffer is ERANGE",
            "rmdir of a folder with files is ENOTEMPTY", "rename moves a folder",
            "/tmp is there, sticky and writable by all"])

    def test_bad_input_is_the_posix_errno(self):
        self.assertPasses("errors", [
            "a path through a file is ENOTDIR", "a name longer than NAME_MAX is ENAMETOOLONG",
            "a path longer than PATH_MAX is ENAMETOOLONG", "a missing parent is ENOENT",
            "a read from a write-only descriptor is EBADF",
            "a write to a read-only descriptor is EBADF", "a closed descriptor is EBADF",
            "running out of descriptors is EMFILE", "closing them frees the numbers",
            "fopen of a missing file is NULL with ENOENT"])

    def test_the_images_files(self):
        self.assertPasses("seed", [
            "a file shipped in the image is at its path", "a 1000-line data file reads whole",
            "a file placed with DEST=SOURCE", "a shipped file can be written"])

    def test_a_full_filesystem_is_ENOSPC_and_the_guest_goes_on(self):
        self.assertPasses("full", [
            "writing until the filesystem is full ends in ENOSPC", "what was written is kept",
            "the heap still has room", "and writing works again"])

    def test_tasks_write_files_concurrently(self):
        self.assertPasses("concurrent", [
            "20 tasks each wrote their own file, interleaved, and each reads back whole",
            "their appends to one file are all there, none torn"])

    def test_pipes_between_tasks(self):
        self.assertPasses("pipe", [
            "pipe gives two descriptors",
            "1 MiB through a pipe between two tasks arrives whole and in order, then end of file",
            "a write with no reader left is EPIPE",
            "a non-blocking read of an empty pipe is EAGAIN", "a pipe is a FIFO and cannot seek"])

    def test_poll_and_select(self):
        self.assertPasses("poll", [
            "poll of an empty pipe times out after 100 ms",
            "poll waits until another task writes, then says POLLIN",
            "select: the read end is readable and the write end writable",
            "with the writer gone, POLLHUP", "a closed descriptor is POLLNVAL",
            "select of one is EBADF", "a file is always ready"])

    def test_alarm_raises_SIGALRM(self):
        rc, out = dom0("alarm")
        for line in ["alarm(1)", "SIGALRM comes a second later",
                     "alarm(0) cancels and says what was left", "a cancelled alarm does not come"]:
            self.assertIn(f"[posix_test] ok: {line}", out)
        self.assertIn("[posix_test] skiff: killed by signal 14 (Alarm clock)", out)
        self.assertNotIn("still running", out)

    def test_environment_from_the_command_line_and_the_link(self):
        self.assertPasses("env skiff.env=GREETING=hello 'skiff.env=SPACED=a b=c'", [
            "skiff.env=KEY=VALUE on the command line sets a variable, over the app's",
            "a quoted value keeps its spaces and '='", "the app's skiff_environ sets variables",
            "HOME is /", "setenv adds, and replaces only when told", "unsetenv"])

    def test_a_bad_environment_word_stops_the_boot(self):
        rc, out = dom0("env skiff.env=NOEQUALS")
        self.assertEqual(rc, 1, out)
        self.assertIn("bad runtime option 'skiff.env=NOEQUALS': it is skiff.env=KEY=VALUE", out)

    def test_exit_runs_atexit_and_flushes_stdio(self):
        rc, out = dom0("exit")
        self.assertIn("[posix_test] buffered, no newlineatexit handler ran", out)
        self.assertIn("[posix_test] skiff: exit status 3", out)

    def test_abort_runs_the_handler_then_ends_in_the_crash_report(self):
        rc, out = dom0("abort")
        self.assertIn("[posix_test] SIGABRT handler ran", out)
        self.assertIn("skiff: CRASH: abort() called", out)
        self.assertIn("sandbox: FAIL: guest posix_test crashed", out)

    def test_an_uncaught_signal_ends_the_program_as_on_linux(self):
        rc, out = dom0("sigterm")
        self.assertIn("[posix_test] skiff: killed by signal 15 (Terminated)", out)
        self.assertIn("[posix_test] skiff: exit status 143", out)
        self.assertNotIn("still running", out)


class InDomU(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Typed as a person would: Enter is CR; two Backspaces (DEL) fix a word; Ctrl-D on an
        # empty line ends the input.
        typing = ("tty=$(xenstore-read /local/domain/$(xl domid stdin)/console/tty) && "
                  r"printf 'first line\rsecoxx\177\177nd line\r' >$tty && sleep 1 && "
                  r"printf '\004' >$tty")
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp, "root")
            (root / "etc/app").mkdir(parents=True)
            (root / "notes").mkdir()
            (root / "etc/app/app.conf").write_text("from the ramdisk\n")
            (root / "notes/hello.txt").write_text("hello from the ramdisk\n")
            ramdisk = Path(tmp, "files.tar")
            subprocess.run(["tar", "-cf", ramdisk, "-C", root, "."], check=True)
            cls.rc, cls.out = sandbox(
                "full",
                POSIX_TEST, "--name", "stdin", "--cmdline", "stdin", "--ready", "reading stdin",
                POSIX_TEST, "--name", "posixhost", "--cmdline", "process",
                POSIX_TEST, "--name", "ramdisk", "--cmdline", "ramdisk", "--ramdisk", ramdisk,
                POSIX_TEST, "--name", "badramdisk", "--cmdline", "ramdisk", "--ramdisk", __file__,
                "--cmd", typing, "--timeout", "120")

    def test_stdin_reads_what_is_typed_on_the_console_line_by_line(self):
        self.assertIn("sandbox: guest stdin: exit status 0", self.out)
        self.assertIn("[stdin] got: [first line]", self.out)
        self.assertIn("[stdin] got: [second line]", self.out)
        self.assertIn("[stdin] ok: stdin ends with end of file", self.out)
        self.assertIn("[stdin] 2 lines", self.out)

    def test_process_calls_and_the_domains_name(self):
        self.assertIn("sandbox: guest posixhost: exit status 0", self.out)
        self.assertNotIn("[posixhost] FAIL", self.out)
        self.assertIn("[posixhost] hostname: posixhost", self.out)
        for line in ["uname", "clock() does not count a sleep", "clock() counts CPU time, no faster than real time",
                     "fork fails with ENOSYS", "popen fails with ENOSYS",
                     "raise runs the handler signal() set",
                     "a blocked signal waits until it is unblocked", "SA_RESETHAND",
                     "kill of another process is ESRCH"]:
            self.assertIn(f"[posixhost] ok: {line}", self.out)

    def test_the_ramdisk_seeds_the_filesystem_over_the_images_files(self):
        self.assertIn("sandbox: guest ramdisk: exit status 0", self.out)
        for line in ["a file in the ramdisk replaces the image's", "a new file from the ramdisk",
                     "the image's other files are still there"]:
            self.assertIn(f"[ramdisk] ok: {line}", self.out)

    def test_a_ramdisk_that_is_not_tar_stops_the_boot_with_a_message(self):
        self.assertIn("[badramdisk] skiff: cannot seed the filesystem: the ramdisk: a header "
                      "with a bad checksum at byte 0", self.out)
        self.assertIn("sandbox: guest badramdisk: exit status 2", self.out)
