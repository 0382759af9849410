"""dom0 mode: Xen boots the guest image itself as a PVH dom0. No Linux, no toolstack.

The guest reports its exit status N (0..127) by writing it to port 0xf4 (isa-debug-exit), which
ends QEMU with status 2N+1. A crash is Xen's "Hardware Dom0 crashed" line. QEMU's own failures
also exit 1, but they print a "qemu-system-x86_64:" line first.
"""

import re

from .common import say
from .qemu import Qemu, TimedOut

XEN_LINE = re.compile(r"^\((XEN|d\d+)\)")


def run(paths, guest, cmdline, memory, timeout, log):
    """Boots |guest|'s image as dom0; returns a list of failure messages (empty: pass)."""
    name, image = guest.name, guest.image
    xen_args = (f"console=com1 loglvl=all guest_loglvl=all dom0=pvh dom0-iommu=none "
                f"dom0_mem={memory}M,max:{memory}M spec-ctrl=eager-fpu")
    qemu = Qemu(["-m", str(memory + 256), "-smp", "1", "-kernel", str(paths["xen"]),
                 "-append", xen_args, "-initrd", _module(image, cmdline)], log)
    qemu.deadline = qemu.started + timeout
    last, problem, xen_started = None, None, False
    try:
        for line in qemu.lines():
            if line.startswith("qemu-system-x86_64:"):
                problem = f"QEMU failed: {line}"
                break
            if not xen_started:   # SeaBIOS comes first, and Xen's first line shares its line
                xen_started = "(XEN)" in line
                continue
            if "Hardware Dom0 crashed" in line:
                problem = f"guest {name} crashed"
                break
            if "Hardware Dom0 halted" in line or "Hardware Dom0 shutdown" in line:
                problem = f"guest {name} powered off without reporting an exit status on port 0xf4"
                break
            if "Panic on CPU" in line:
                problem = f"Xen panicked: {line}"
                break
            if line and not XEN_LINE.match(line):
                last = line
                print(f"[{name}] {line}", flush=True)
    except TimedOut:
        what = f"its last line: {last}" if last else "it printed nothing"
        problem = f"timed out after {timeout} s waiting for guest {name} to exit ({what})"
    rc = qemu.stop()
    if problem:
        return [problem]
    if rc % 2 == 0:
        return [f"QEMU ended with status {rc} before guest {name} reported an exit status"]
    status = (rc - 1) // 2
    say(f"guest {name}: exit status {status} ({qemu.elapsed():.1f} s)")
    return [f"guest {name} exited with status {status}"] if status else []


def _module(image, cmdline):
    """QEMU's -initrd for the image and its command line: QEMU splits the modules at commas,
    and ",," is a comma of the command line."""
    return f"{image} {cmdline}".rstrip().replace(",", ",,")
