"""full mode: Xen, Debian's PV dom0 with the toolstack, and the guests as PVH domUs via xl.

The host packs the run (guest images, xl configs, disks, dom0 commands and the files they use)
into a small cpio that is appended to the cached dom0 initramfs; dom0's /sandbox/run-guests
carries it out and reports with "@sandbox" lines, which this module reads from the serial
console.
"""

import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .common import BRIDGE, BRIDGE_NET, need_space, say
from .qemu import Qemu, TimedOut

DOM0_MEMORY = 768
BOOT_TIMEOUT = 120          # QEMU start to dom0's toolstack up; about 6 s when idle
STAGES = {None: "Xen and the dom0 kernel to boot",
          "kernel": "dom0 to start xenstored, xenconsoled and the bridge",
          "toolstack": "the guests to start",
          "guests-up": "the dom0 commands to finish and the guests to exit"}


@dataclass
class Guest:
    image: Path
    name: str
    index: int
    memory: int = 64
    vcpus: int = 1
    cmdline: str = ""
    vifs: int = 0
    disks: list = field(default_factory=list)    # sizes ("16M") or host files
    ready: str = ""
    ramdisk: Path = None                         # a host file, or None

    @property
    def ip(self):
        return f"{BRIDGE_NET}.{2 + self.index}"

    def xl_config(self):
        quote = lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
        lines = [f"name = {quote(self.name)}", 'type = "pvh"',
                 f"kernel = {quote('/sandbox/run/guests/' + self.name + '/image')}",
                 f"cmdline = {quote(self.cmdline)}", f"memory = {self.memory}",
                 f"vcpus = {self.vcpus}", 'on_poweroff = "preserve"',
                 'on_reboot = "preserve"', 'on_crash = "preserve"', 'tsc_mode = "native"']
        if self.ramdisk:
            lines.append(f"ramdisk = {quote('/sandbox/run/guests/' + self.name + '/ramdisk')}")
        if self.vifs:
            vifs = [f"'bridge={BRIDGE},mac=00:16:3e:77:{self.index:02x}:{n:02x},ip={self.ip}'"
                    for n in range(self.vifs)]
            lines.append(f"vif = [ {', '.join(vifs)} ]")
        if self.disks:
            disks = [f"'format=raw,vdev=xvd{chr(ord('a') + n)},access=rw,target={self.disk_path(n)}'"
                     for n in range(len(self.disks))]
            lines.append(f"disk = [ {', '.join(disks)} ]")
        return "\n".join(lines) + "\n"

    def disk_path(self, n):
        return f"/srv/{self.name}-xvd{chr(ord('a') + n)}.img"


def _pack_run(guests, commands, forwards, dhcp, timeout, tmp, files=()):
    """Writes sandbox/run/ under |tmp| and returns it packed as a cpio archive."""
    run = tmp / "sandbox" / "run"
    (run / "cmds").mkdir(parents=True)
    (run / "files").mkdir()
    for f in files:   # files for the dom0 commands, keeping their mode (a program stays one)
        shutil.copy(f, run / "files" / Path(f).name)
    names = " ".join(shlex.quote(g.name) for g in guests)
    (run / "spec").write_text(f"TIMEOUT={int(timeout)}\nGUESTS=({names})\n")
    for g in guests:
        gdir = run / "guests" / g.name
        gdir.mkdir(parents=True)
        shutil.copy(g.image, gdir / "image")
        # For the stack trace of a guest that hangs (dom0's run-guests, xenctx).
        with open(gdir / "symbols", "w") as f:
            subprocess.run(["llvm-nm-16", "-n", "-C", "--defined-only", str(g.image)], stdout=f,
                           stderr=subprocess.DEVNULL)
        if g.ramdisk:
            shutil.copy(g.ramdisk, gdir / "ramdisk")
        (gdir / "guest.cfg").write_text(g.xl_config())
        if g.ready:
            (gdir / "ready").write_text(g.ready)
        disks = []
        for n, disk in enumerate(g.disks):
            if Path(disk).is_file():
                shutil.copy(disk, gdir / f"disk{n}")
                disk = f"disk{n}"
            disks.append(f"{g.disk_path(n)} {disk}\n")
        (gdir / "disks").write_text("".join(disks))
    for n, cmd in enumerate(commands):
        (run / "cmds" / f"{n + 1:02d}").write_text(cmd + "\n")
    (run / "forwards").write_text("".join(f"{p} {a} {q}\n" for p, a, q in forwards))
    if dhcp:   # dom0's /init starts dnsmasq on the bridge when this file is there
        (run / "dhcp").write_text("")
    listing = subprocess.run(["find", "sandbox"], cwd=tmp, capture_output=True, check=True).stdout
    out = tmp / "run.cpio"
    with open(out, "wb") as f:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=tmp, input=listing, stdout=f,
                       check=True)
    return out


class Report:
    """What dom0 said about the run, gathered from its "@sandbox" lines."""

    def __init__(self, guests):
        self.stage = None
        self.verdicts = {g.name: None for g in guests}
        self.failures = []
        self.done = None

    def take(self, words, line):
        kind = words[0]
        if kind == "stage":
            self.stage = words[1]
        elif kind == "done":
            self.done = words[1]
        elif kind == "dhcp" and words[1:2] == ["up"]:
            say(f"DHCP server up on {BRIDGE} ({' '.join(words[2:])})")
        elif kind == "error":
            self.failures.append(f"dom0: {line.split(' ', 2)[2]}")
        elif kind == "guest" and len(words) >= 3:
            name, what, rest = words[1], words[2], " ".join(words[3:])
            if what == "started":
                say(f"guest {name} started ({rest})")
            elif what == "exit":
                self.verdicts[name] = int(rest)
                say(f"guest {name}: exit status {rest}")
                if rest != "0":
                    self.failures.append(f"guest {name} exited with status {rest}")
            elif what == "fail":
                self.verdicts[name] = rest
                self.failures.append(f"guest {name} {rest}")
        elif kind == "command" and len(words) >= 4:
            if words[2] == "status" and words[3] != "0":
                self.failures.append(f"dom0 command {int(words[1])} failed with status {words[3]}")
            elif words[2] == "fail":
                self.failures.append(f"dom0 command {int(words[1])} {' '.join(words[3:])}")


def run(paths, guests, commands, forwards, dhcp, timeout, log, files=()):
    """Boots the sandbox with |guests|; returns a list of failure messages (empty: pass)."""
    need_space(tempfile.gettempdir(), 300 + sum(g.memory for g in guests) // 4,
               "packing the run's initramfs")
    with tempfile.TemporaryDirectory(prefix="skiff-sandbox-") as tmpdir:
        tmp = Path(tmpdir)
        run_cpio = _pack_run(guests, commands, forwards, dhcp, timeout, tmp, files)
        initrd = tmp / "initrd.cpio"
        with open(initrd, "wb") as out:
            for part in (paths["dom0"], run_cpio):
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        # eager-fpu: no #NM exit at a guest's first SSE instruction after each switch
        # (docs/sandbox.md, "Triple faults").
        xen_args = (f"console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all "
                    f"dom0_mem={DOM0_MEMORY}M,max:{DOM0_MEMORY}M spec-ctrl=eager-fpu")
        args = ["-m", "2048", "-smp", "2", "-kernel", str(paths["xen"]), "-append", xen_args,
                "-initrd", f"{paths['vmlinux']} console=hvc0 quiet rdinit=/init,{initrd}"]
        if forwards:
            fwd = ",".join(f"hostfwd=tcp:127.0.0.1:{p}-10.0.2.15:{p}" for p, _, _ in forwards)
            args += ["-netdev", f"user,id=n0,restrict=on,{fwd}", "-device", "e1000,netdev=n0,romfile="]
        return _watch(Qemu(args, log), guests, timeout)


def _watch(qemu, guests, timeout):
    report = Report(guests)
    qemu.deadline = qemu.started + BOOT_TIMEOUT
    try:
        for line in qemu.lines():
            if line.startswith("@sandbox "):
                words = line.split()[1:]
                if not words:
                    continue
                report.take(words, line)
                if report.stage == "toolstack" and words[:2] == ["stage", "toolstack"]:
                    say(f"dom0 is up after {qemu.elapsed():.1f} s")
                    qemu.deadline = qemu.elapsed() + qemu.started + timeout + 30
                if report.done:
                    break
            elif line.startswith("["):
                print(line, flush=True)
            elif "Kernel panic" in line or "Panic on CPU" in line:
                report.failures.append(f"the sandbox panicked: {line}")
                break
            elif line.startswith("qemu-system-x86_64:"):
                report.failures.append(f"QEMU failed: {line}")
    except TimedOut:
        report.failures.append(f"timed out after {qemu.elapsed():.0f} s waiting for "
                               f"{STAGES.get(report.stage, report.stage)}")
    rc = qemu.stop()
    if report.done is None and not report.failures:
        report.failures.append(f"QEMU ended (status {rc}) before dom0 reported on the guests "
                               f"(it was waiting for {STAGES.get(report.stage, report.stage)})")
    for name, verdict in report.verdicts.items():
        if verdict is None and report.done is not None:
            report.failures.append(f"guest {name} never reported")
    if report.done == "fail" and not report.failures:
        report.failures.append("dom0 reported a failure without saying what")
    return report.failures
