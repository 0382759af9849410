"""The sandbox's command line; see `scripts/sandbox --help` and docs/sandbox.md."""

import ipaddress
import os
import re
import sys
import time
from pathlib import Path

from . import dom0_mode, full_mode, setup
from .common import BRIDGE_NET, REPO, SandboxError, say
from .image import check_pvh

USAGE = """\
usage: scripts/sandbox setup
       scripts/sandbox dom0 IMAGE [--cmdline TEXT] [--memory MB] [--timeout S] [run options]
       scripts/sandbox full IMAGE [guest options] [IMAGE [guest options]]... [run options]

Boots PVH guest images under real Xen 4.17 inside QEMU. The exit status is 0 when every guest
reported exit status 0 (and every dom0 command succeeded), 1 when one did not, 2 on bad input.

guest options (full mode; they apply to the IMAGE before them):
  --name NAME        the domain's name (default: the image's file name)
  --memory MB        memory (default 64)            --vcpus N     vCPUs (default 1)
  --cmdline TEXT     the guest's command line
  --vif              add a vif on the dom0 bridge xenbr0 (repeat for more); the guest's
                     address is 169.254.77.(2 + its position); dom0 is 169.254.77.1
  --disk SIZE|FILE   add a vbd (xvda, xvdb, ...): a fresh zeroed disk of SIZE (e.g. 16M), or
                     a copy of a host file
  --ready TEXT       the dom0 commands wait until this guest's console shows TEXT
  --ramdisk FILE     the guest's initial ramdisk (xl's ramdisk=), e.g. a Linux guest's
                     initramfs; the IMAGE may then be a Linux bzImage with the PVH note

run options:
  --cmd COMMAND      run COMMAND (bash) in dom0 once the guests are up; repeatable, in order;
                     its output comes back as "[dom0] ..."
  --file FILE        copy a host file into dom0 as /sandbox/run/files/NAME (its file name),
                     for the commands, e.g. a static program; repeatable
  --forward HOSTPORT:ADDR:PORT
                     forward 127.0.0.1:HOSTPORT on the host to ADDR:PORT on the dom0 bridge
                     (ADDR in 169.254.77.0/24, or a guest's name)
  --dhcp             serve DHCP on xenbr0 from dom0 (dnsmasq, started before any guest):
                     leases 169.254.77.100-199/24 for 1 h, router 169.254.77.1, no DNS;
                     leases in /var/lib/misc/dnsmasq.leases, log in /tmp/dnsmasq.log
  --timeout S        seconds the guests have to exit (default 60 in full mode, 30 in dom0)
  --log FILE         the whole console log (default: a new file in build/sandbox/)
"""

GUEST_OPTIONS = {"--name", "--memory", "--vcpus", "--cmdline", "--vif", "--disk", "--ready",
                 "--ramdisk"}
RUN_OPTIONS = {"--cmd", "--file", "--forward", "--timeout", "--log", "--dhcp"}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DOM0_CMDLINE_MAX = 1023   # Xen's MAX_GUEST_CMDLINE, less the NUL
SIZE = re.compile(r"^[0-9]+[KMG]$")


def _number(opt, text, low, high):
    if not text.isdigit() or not low <= int(text) <= high:
        raise SandboxError(f"{opt} wants a whole number from {low} to {high}, not '{text}'")
    return int(text)


def _parse(mode, args):
    guests, opts = [], {"cmd": [], "file": [], "forward": [], "timeout": None, "log": None,
                        "dhcp": False}
    dom0 = {"cmdline": "", "memory": 64}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--"):
            if mode == "dom0" and guests:
                raise SandboxError("dom0 mode boots exactly one image")
            guests.append(full_mode.Guest(image=check_pvh(arg), name="", index=len(guests)))
            i += 1
            continue
        if arg not in GUEST_OPTIONS | RUN_OPTIONS:
            raise SandboxError(f"unknown option '{arg}' (see scripts/sandbox --help)")
        if arg == "--vif":
            if not guests:
                raise SandboxError("--vif comes before any guest image")
            guests[-1].vifs += 1
            i += 1
            continue
        if arg == "--dhcp":
            opts["dhcp"] = True
            i += 1
            continue
        if i + 1 >= len(args):
            raise SandboxError(f"{arg} needs a value")
        value = args[i + 1]
        i += 2
        if arg in RUN_OPTIONS:
            key = arg[2:]
            if isinstance(opts[key], list):
                opts[key].append(value)
            else:
                opts[key] = value
            continue
        if mode == "dom0" and arg in ("--cmdline", "--memory"):
            dom0[arg[2:]] = value if arg == "--cmdline" else _number(arg, value, 1, 4096)
            continue
        if mode == "dom0" or not guests:
            raise SandboxError(f"{arg} is a guest option of full mode and needs a guest image "
                               "before it")
        g = guests[-1]
        if arg == "--name":
            if not NAME.match(value):
                raise SandboxError(f"--name '{value}': use letters, digits, '_', '.', '-'")
            g.name = value
        elif arg == "--memory":
            g.memory = _number(arg, value, 1, 16384)
        elif arg == "--vcpus":
            g.vcpus = _number(arg, value, 1, 2)
        elif arg == "--cmdline":
            g.cmdline = value
        elif arg == "--disk":
            if not SIZE.match(value) and not Path(value).is_file():
                raise SandboxError(f"--disk '{value}': neither a size like 16M nor a file")
            g.disks.append(value)
        elif arg == "--ready":
            g.ready = value
        elif arg == "--ramdisk":
            if not Path(value).is_file():
                raise SandboxError(f"--ramdisk '{value}': no such file")
            if g.ramdisk:
                raise SandboxError(f"--ramdisk '{value}': this guest already has a ramdisk")
            g.ramdisk = Path(value).resolve()
    if not guests:
        raise SandboxError(f"{mode} mode needs a guest image")
    for g in guests:
        g.name = g.name or re.sub(r"[^A-Za-z0-9_.-]", "-", g.image.stem)
    names = [g.name for g in guests]
    if len(set(names)) != len(names):
        raise SandboxError(f"two guests share a name ({', '.join(names)}): give them --name")
    for f in opts["file"]:
        if not Path(f).is_file():
            raise SandboxError(f"--file '{f}': no such file")
    file_names = [Path(f).name for f in opts["file"]]
    if len(set(file_names)) != len(file_names):
        raise SandboxError(f"two --file files share a name ({', '.join(file_names)})")
    return guests, opts, dom0


def _forwards(specs, guests):
    """Turns HOSTPORT:ADDR:PORT specs into (hostport, addr, port), refusing any address that
    is not on the dom0 bridge: the sandbox's network stays inside QEMU."""
    out = []
    by_name = {g.name: g.ip for g in guests}
    for spec in specs:
        parts = spec.split(":")
        if len(parts) != 3:
            raise SandboxError(f"--forward '{spec}': use HOSTPORT:ADDR:PORT")
        hostport = _number("--forward HOSTPORT", parts[0], 1024, 65535)
        addr = by_name.get(parts[1], parts[1])
        try:
            inside = ipaddress.ip_address(addr) in ipaddress.ip_network(BRIDGE_NET + ".0/24")
        except ValueError:
            inside = False
        if not inside:
            raise SandboxError(f"--forward '{spec}': {parts[1]} is neither a guest's name nor "
                               f"an address on the dom0 bridge ({BRIDGE_NET}.0/24)")
        out.append((hostport, addr, _number("--forward PORT", parts[2], 1, 65535)))
    return out


def main(argv):
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0 if argv else 2
    mode, args = argv[0], argv[1:]
    if mode in ("dom0", "full") and args[:1] in (["-h"], ["--help"]):
        print(USAGE, end="")
        return 0
    try:
        if mode == "setup":
            if args:
                raise SandboxError(f"setup takes no arguments, not '{args[0]}'")
            start = time.monotonic()
            setup.ensure()
            say(f"setup is complete ({time.monotonic() - start:.1f} s)")
            return 0
        if mode not in ("dom0", "full"):
            raise SandboxError(f"unknown mode '{mode}': use setup, dom0 or full (see --help)")
        guests, opts, dom0 = _parse(mode, args)
        forwards = _forwards(opts["forward"], guests)
        if mode == "dom0" and (forwards or opts["cmd"] or opts["file"] or opts["dhcp"]):
            raise SandboxError("dom0 mode has no dom0 commands, files, port forwards or DHCP "
                               "(use full)")
        if mode == "dom0" and len(dom0["cmdline"]) > DOM0_CMDLINE_MAX:
            raise SandboxError(f"the command line is {len(dom0['cmdline'])} bytes; Xen truncates "
                               f"a dom0's at {DOM0_CMDLINE_MAX} (use full mode)")
        timeout = _number("--timeout", opts["timeout"], 1, 3600) if opts["timeout"] else None
        paths = setup.ensure()
        log_path = _log_path(opts["log"], mode)
        start = time.monotonic()
        with open(log_path, "w") as log:
            if mode == "dom0":
                failures = dom0_mode.run(paths, guests[0], dom0["cmdline"], dom0["memory"],
                                         timeout or 30, log)
            else:
                failures = full_mode.run(paths, guests, opts["cmd"], forwards, opts["dhcp"],
                                         timeout or 60, log, files=opts["file"])
    except SandboxError as err:
        say(f"error: {err}")
        return 2
    wall = time.monotonic() - start
    if failures:
        for failure in failures:
            say(f"FAIL: {failure}")
        say(f"the whole console log is in {log_path}")
        return 1
    say(f"PASS ({wall:.1f} s)")
    return 0


def _log_path(path, mode):
    """The console log: |path|, else a new file per run (runs may overlap), keeping 30."""
    if path:
        log = Path(path)
    else:
        logs = REPO / "build" / "sandbox"
        logs.mkdir(parents=True, exist_ok=True)
        for old in sorted(logs.glob("*.log"), key=lambda p: p.stat().st_mtime)[:-29]:
            old.unlink(missing_ok=True)
        log = logs / f"{mode}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    return log


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
