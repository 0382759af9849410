"""Shared helpers for the sandbox: messages, errors, subprocesses, paths."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CACHE = Path(os.environ.get("SKIFF_CACHE", "/var/cache/skiff")) / "sandbox"

# The dom0 bridge lives on a link-local range, inside QEMU only (DESIGN.md).
BRIDGE = "xenbr0"
BRIDGE_NET = "169.254.77"


class SandboxError(Exception):
    """A failure with a message meant for the user; the command exits 2."""


def say(msg):
    print(f"sandbox: {msg}", flush=True)


def run(cmd, *, cwd=None, env=None, prefix=None, check=True):
    """Runs |cmd|, streaming its output with |prefix| (or silently when None).

    Returns the captured output. Raises SandboxError on failure, quoting the tail."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace")
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if prefix is not None:
            print(f"{prefix}{line}", end="", file=sys.stderr, flush=True)
    rc = proc.wait()
    if check and rc != 0:
        tail = "".join(lines[-15:])
        raise SandboxError(f"'{' '.join(map(str, cmd))}' failed with status {rc}:\n{tail}")
    return "".join(lines)


def need_space(path, megabytes, what):
    """Fails clearly when the filesystem holding |path| has less than |megabytes| free."""
    probe = Path(path)
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free // (1 << 20)
    if free < megabytes:
        raise SandboxError(f"no disk space: {what} needs about {megabytes} MB in {probe}, "
                           f"but only {free} MB are free")


class Step:
    """Prints a progress line for a long step, and its wall time when it ends."""

    def __init__(self, msg):
        self.msg = msg

    def __enter__(self):
        self.start = time.monotonic()
        say(f"{self.msg} ...")
        return self

    def __exit__(self, kind, *_):
        if kind is None:
            say(f"{self.msg}: done in {time.monotonic() - self.start:.1f} s")
