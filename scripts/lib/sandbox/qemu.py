"""Runs QEMU with its serial console on a pipe, reading it line by line under a deadline."""

import os
import selectors
import signal
import subprocess
import time

# TCG only: KVM here has no nested SVM. Debian's Xen needs NPT (it has no shadow paging), and
# SMAP under TCG kills a PV dom0.
BASE = ["qemu-system-x86_64", "-accel", "tcg", "-M", "pc", "-cpu", "qemu64,+svm,+npt",
        "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]


class TimedOut(Exception):
    pass


class Qemu:
    """One QEMU process. lines() yields console lines; each also goes to |log|, stamped with
    the seconds since QEMU started."""

    def __init__(self, args, log):
        self.log = log
        self.started = time.monotonic()
        self.deadline = self.started + 60
        self.proc = subprocess.Popen(BASE + args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def elapsed(self):
        return time.monotonic() - self.started

    def lines(self):
        """Yields lines until QEMU closes its output; raises TimedOut past self.deadline."""
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        pending = b""
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimedOut()
            if not sel.select(timeout=min(left, 1.0)):
                continue
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                break
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                line = raw.decode("utf-8", "replace").rstrip("\r")
                self.log.write(f"{self.elapsed():7.2f} {line}\n")
                yield line
        if pending:
            self.log.write(pending.decode("utf-8", "replace") + "\n")
            yield pending.decode("utf-8", "replace")

    def stop(self):
        """Ends QEMU (our own child, by its process group) and returns its exit status."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.flush()
        return self.proc.wait()
