"""The Linux peer's initramfs: busybox, a static Linux program, and an /init that runs it.

The peer is Debian's own kernel (the cached vmlinuz) booted as a PVH domU next to a Skiff guest,
so that a benchmark can print Linux's figures beside Skiff's from one sandbox run:

  scripts/sandbox full VMLINUZ --name peer --memory 128 --cmdline "console=hvc0 quiet" \\
      --ramdisk build/peer/PROGRAM/peer.cpio

/init mounts proc and prints the kernel's uptime ("uptime at init: SECONDS", its boot time),
mounts sys and devtmpfs, loads the kernel modules it was given (such as xen-blkfront.ko, which
Debian builds as a module), runs the program with its arguments (its output goes to hvc0, so
the sandbox shows it as "[peer] ..."), prints "skiff: exit status N" with the program's status (the
sandbox's exit contract; a Linux guest has no xenstore client, so the console line is its word)
and powers off.

The archive may carry more files, such as a dynamically linked program from a Debian root
with the shared objects it needs (dynamic_program(): the peer of `scripts/bench net` runs
Debian's own iperf3 server, taken from the sandbox's dom0 root, so that both ends of the
measure are the same iperf3).

The archive depends on a freshly built program, so it lives next to it in the build folder
(build/peer/PROGRAM/), not in the sandbox cache: it is rebuilt only when its key (a hash of this
recipe, busybox and the program) changes, which takes well under a second.

It is written here in Python rather than by cpio(1): /dev/console must be in the archive
(the kernel opens it for init before /init can mount devtmpfs; without it init has no output),
and this way making that node needs no root.
"""

import hashlib
import os
import re
import shlex
import struct
import subprocess
from pathlib import Path

from .common import SandboxError

PT_INTERP = 3
BUSYBOX = Path("/bin/busybox")     # Debian's busybox-static (scripts/setup installs it)

INIT = """\
#!/bin/sh
# The Linux peer's /init (scripts/lib/sandbox/peer.py): run the program, report, power off.
export PATH=/bin
mount -t proc proc /proc
echo "uptime at init: $(cut -d' ' -f1 /proc/uptime)"
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
MODULES/bin/PROGRAM ARGS
status=$?
echo "skiff: exit status $status"
sleep 1   # let hvc0 drain before the domain goes
poweroff -f
"""


def initramfs(program, out=None, modules=(), args=(), files=()):
    """Returns an uncompressed newc archive (Path) that boots into |program| (a static Linux
    executable) with |args|, after insmod of each kernel module in |modules| (paths of .ko
    files without dependencies); |files| are more (path in the archive, host file) pairs, such
    as dynamic_program() gives. Built in |out| (default: the program's folder), reused while
    its key holds."""
    program = Path(program)
    if not program.is_file():
        raise SandboxError(f"{program}: no such program for the Linux peer")
    if not _static(program.read_bytes()):
        raise SandboxError(f"{program}: not a static ELF program (the peer has no C library)")
    if not BUSYBOX.is_file() or not _static(BUSYBOX.read_bytes()):
        raise SandboxError(f"{BUSYBOX} is not Debian's static busybox: install busybox-static "
                           "(scripts/setup does)")
    out = Path(out) if out else program.parent
    modules = [Path(m) for m in modules]
    for module in modules:
        if not module.is_file():
            raise SandboxError(f"{module}: no such kernel module for the Linux peer")
    files = [(str(name).strip("/"), Path(host)) for name, host in files]
    for _, host in files:
        if not host.is_file():
            raise SandboxError(f"{host}: no such file for the Linux peer")
    loads = "".join(f"insmod /lib/modules/{m.name}\n" for m in modules)
    init = (INIT.replace("MODULES", loads).replace("PROGRAM", program.name)
            .replace(" ARGS", "".join(" " + shlex.quote(a) for a in args)))
    busybox = BUSYBOX.read_bytes()
    binary = program.read_bytes()
    digest = hashlib.sha256()
    for part in (Path(__file__).read_bytes(), init.encode(), busybox, binary,
                 *(m.read_bytes() for m in modules),
                 *(part for name, host in files for part in (name.encode(), host.read_bytes()))):
        digest.update(hashlib.sha256(part).digest())
    key = digest.hexdigest()[:12]
    archive = out / "peer.cpio"
    stamp = out / "peer.cpio.key"
    if archive.exists() and stamp.exists() and stamp.read_text().strip() == key:
        return archive
    applets = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    cpio = _Newc()
    folders = ["bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"]
    for name, _ in files:
        parents = Path(name).parents
        folders += [str(d) for d in reversed(parents) if str(d) != "." and str(d) not in folders]
    for d in folders:
        cpio.add(d, 0o040755)
    cpio.add("dev/console", 0o020600, rdev=(5, 1))
    cpio.add("bin/busybox", 0o100755, busybox)
    for applet in applets:
        if applet != "busybox":
            cpio.add(f"bin/{applet}", 0o120777, b"busybox")
    for module in modules:
        cpio.add(f"lib/modules/{module.name}", 0o100644, module.read_bytes())
    for name, host in files:
        cpio.add(name, 0o100755 if host.stat().st_mode & 0o111 else 0o100644, host.read_bytes())
    cpio.add(f"bin/{program.name}", 0o100755, binary)
    cpio.add("init", 0o100755, init.encode())
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "peer.cpio.tmp"
    tmp.write_bytes(cpio.finish())
    tmp.rename(archive)
    stamp.write_text(key + "\n")
    return archive


LIBRARY_DIRS = ["usr/lib/x86_64-linux-gnu", "usr/lib64", "usr/lib"]   # a Debian root's
ARCHIVE_LIBRARIES = "lib/x86_64-linux-gnu"   # in the archive: the dynamic linker's own default


def dynamic_program(root, path):
    """The (path in the archive, host file) pairs that a dynamically linked program |path|
    (absolute, inside the Debian root |root|, such as the sandbox's dom0 root) needs to run in
    the peer: the program itself at |path|, its dynamic linker (PT_INTERP) where it asks for
    it, and each shared object it needs, and they need in turn (DT_NEEDED), found in the
    root's library folders and put in /lib/x86_64-linux-gnu."""
    root = Path(root)
    program = _in_root(root, path)
    interp = subprocess.run(["readelf", "-l", "--wide", str(program)], capture_output=True,
                            text=True, check=True).stdout
    match = re.search(r"\[Requesting program interpreter: (\S+)\]", interp)
    if not match:
        raise SandboxError(f"{path} in {root}: not a dynamically linked program")
    pairs = [(path, program), (match.group(1), _library(root, Path(match.group(1)).name))]
    todo, seen = [program], set()
    while todo:
        dynamic = subprocess.run(["readelf", "-d", "--wide", str(todo.pop())],
                                 capture_output=True, text=True, check=True).stdout
        for name in re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic):
            if name not in seen and name != Path(match.group(1)).name:
                seen.add(name)
                library = _library(root, name)
                pairs.append((f"{ARCHIVE_LIBRARIES}/{name}", library))
                todo.append(library)
    return pairs


def _library(root, name):
    for folder in LIBRARY_DIRS:
        if (root / folder / name).exists() or (root / folder / name).is_symlink():
            return _in_root(root, f"/{folder}/{name}")
    raise SandboxError(f"{name}: not in {root}'s {', '.join(LIBRARY_DIRS)}")


def _in_root(root, path):
    """The host file that |path| names inside |root|, following symbolic links (absolute ones
    within the root too)."""
    current = root
    parts = list(Path(path).parts[1:] if Path(path).is_absolute() else Path(path).parts)
    for _ in range(100):
        if not parts:
            if not current.is_file():
                raise SandboxError(f"{path}: no such file in {root}")
            return current
        step = current / parts.pop(0)
        if step.is_symlink():
            target = Path(os.readlink(step))
            if target.is_absolute():
                current, parts = root, [*target.parts[1:], *parts]
            else:
                parts = [*target.parts, *parts]
        else:
            current = step
    raise SandboxError(f"{path}: too many symbolic links in {root}")


def _static(elf):
    """True when |elf| is an ELF64 with no program interpreter (PT_INTERP): it runs alone."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or len(elf) < 64:
        return False
    phoff, = struct.unpack_from("<Q", elf, 32)
    phentsize, phnum = struct.unpack_from("<HH", elf, 54)
    return all(struct.unpack_from("<I", elf, phoff + i * phentsize)[0] != PT_INTERP
               for i in range(phnum))


class _Newc:
    """A cpio archive in the "newc" format the kernel unpacks (owner root, mtime 0)."""

    def __init__(self):
        self.parts = []
        self.ino = 1

    def _entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        name_bytes = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1],
                  len(name_bytes), 0]
        self.ino += 1
        header = b"070701" + b"".join(b"%08X" % f for f in fields)
        self.parts += [header, name_bytes, b"\0" * (-(len(header) + len(name_bytes)) % 4),
                       data, b"\0" * (-len(data) % 4)]

    def add(self, name, mode, data=b"", rdev=(0, 0)):
        self._entry(name, mode, data, rdev, nlink=2 if mode & 0o170000 == 0o040000 else 1)

    def finish(self):
        self._entry("TRAILER!!!", 0)
        blob = b"".join(self.parts)
        return blob + b"\0" * (-len(blob) % 512)
