"""Builds the sandbox's cached pieces: Xen, the dom0 kernel, the dom0 root and its initramfs.

Each piece lives in CACHE/<name>-<key>/, where the key hashes the piece's recipe (package
versions, package lists, the dom0 scripts). A piece is built in a temporary folder and renamed
into place when complete, so an interrupted setup is simply redone; older keys are removed.
"""

import hashlib
import json
import lzma
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .common import CACHE, REPO, SandboxError, Step, need_space, run, say

XEN_PACKAGE = "xen-hypervisor-4.17-amd64"
KERNEL_META = "linux-image-amd64"
MIRROR = "http://deb.debian.org/debian"
SECURITY = "http://deb.debian.org/debian-security"
SUITE = "bookworm"

# dom0's userland: the toolstack, and the clients that tests and benchmarks drive from dom0;
# dnsmasq-base is the DHCP server of --dhcp (its binary only, no service).
DOM0_PACKAGES = ["busybox", "iproute2", "kmod", "procps", "xenstore-utils", "curl",
                 "netcat-openbsd", "iperf3", "socat", "bsdextrautils", "dnsmasq-base",
                 "iputils-ping"]
# Kernel modules dom0 loads, or its commands may (paths under kernel/); modprobe resolves what
# they need. veth and udp_diag serve dom0 commands: a DHCP client's link to the bridge, and the
# device a UDP socket is bound to in `ss`.
DOM0_MODULES = ["drivers/xen", "net/llc", "net/802", "net/bridge", "drivers/net/xen-netback",
                "drivers/block/xen-blkback", "drivers/block/loop.ko", "drivers/net/veth.ko",
                "net/ipv4/inet_diag.ko", "net/ipv4/udp_diag.ko",
                "drivers/net/ethernet/intel/e1000"]
# Bulk that dom0 never uses, dropped from its initramfs to keep the boot fast.
DOM0_TRIM = ["usr/share/doc", "usr/share/man", "usr/share/locale", "usr/share/info",
             "usr/share/zoneinfo", "usr/share/i18n", "usr/share/perl", "usr/lib/python3.11",
             "usr/lib/python3", "usr/bin/python3.11", "var/cache/apt", "var/lib/apt/lists",
             "usr/lib/x86_64-linux-gnu/perl", "usr/lib/x86_64-linux-gnu/gconv",
             "usr/share/perl5", "usr/lib/xen-4.17/boot", "usr/lib/udev/hwdb.bin",
             "usr/lib/udev/hwdb.d", "usr/bin/perl5.36.0", "usr/bin/perl", "var/cache/debconf",
             "usr/lib/xen-4.17/bin/oxenstored", "usr/lib/x86_64-linux-gnu/libapt-pkg.so.6.0.0",
             "usr/lib/x86_64-linux-gnu/libapt-private.so.0.0.0", "usr/share/common-licenses"]
DOM0_SCRIPTS = REPO / "scripts" / "lib" / "dom0"


def _key(*parts):
    digest = hashlib.sha256()
    for part in parts:
        digest.update(str(part).encode() + b"\0")
    return digest.hexdigest()[:12]


def _cached(name, key, build, megabytes):
    """Returns CACHE/name-key, calling build(tmpdir) first if it is not complete."""
    final = CACHE / f"{name}-{key}"
    if (final / ".complete").exists():
        return final
    need_space(CACHE, megabytes, f"building the sandbox's {name}")
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = CACHE / f"{name}-{key}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    build(tmp)
    (tmp / ".complete").write_text(key + "\n")
    for old in CACHE.glob(f"{name}-*"):
        if old != tmp:
            shutil.rmtree(old, ignore_errors=True)
    tmp.rename(final)
    return final


def _apt_cache(*args):
    """Runs apt-cache, remembering answers until apt's package lists change (it is slow)."""
    lists = Path("/var/lib/apt/lists")
    state = [(p.name, p.stat().st_mtime_ns) for p in sorted(lists.glob("*_Packages*"))]
    memo_file = CACHE / "apt-cache.json"
    memo = {}
    if memo_file.exists():
        memo = json.loads(memo_file.read_text())
        if memo.get("state") != _key(*state):
            memo = {}
    query = " ".join(args)
    if query not in memo:
        memo[query] = subprocess.run(["apt-cache", *args], capture_output=True,
                                     text=True).stdout
        memo["state"] = _key(*state)
        CACHE.mkdir(parents=True, exist_ok=True)
        memo_file.write_text(json.dumps(memo))
    return memo[query]


def _candidate(package):
    out = _apt_cache("policy", package)
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Candidate:") and "(none)" not in line:
            return line.split()[1]
    raise SandboxError(f"apt knows no version of {package}: run 'apt-get update' "
                       "(scripts/setup does) and check the bookworm sources")


def _kernel_package():
    out = _apt_cache("depends", KERNEL_META)
    for line in out.splitlines():
        name = line.strip().removeprefix("Depends: ")
        if name.startswith("linux-image-") and name != KERNEL_META:
            return name
    raise SandboxError(f"cannot tell which kernel {KERNEL_META} depends on")


def _download_and_unpack(package, version, dest):
    with tempfile.TemporaryDirectory() as debs:
        run(["apt-get", "download", "-q", f"{package}={version}"], cwd=debs)
        deb = next(Path(debs).glob("*.deb"))
        run(["dpkg-deb", "-x", str(deb), str(dest)])


def xen():
    """The Xen ELF that QEMU boots with -kernel (it wants the uncompressed image)."""
    version = _candidate(XEN_PACKAGE)

    def build(tmp):
        with Step(f"unpacking {XEN_PACKAGE} {version}"):
            _download_and_unpack(XEN_PACKAGE, version, tmp / "root")
            gz = next((tmp / "root" / "boot").glob("xen-*.gz"))
            with open(tmp / "xen.elf", "wb") as out:
                subprocess.run(["zcat", str(gz)], stdout=out, check=True)
            shutil.rmtree(tmp / "root")
    return _cached("xen", _key(XEN_PACKAGE, version), build, 100), version


def kernel():
    """Debian's kernel, unpacked: dom0's kernel and modules (and later the Linux peer's)."""
    package = _kernel_package()
    version = _candidate(package)

    def build(tmp):
        with Step(f"unpacking {package} {version}"):
            _download_and_unpack(package, version, tmp / "root")
            vmlinuz = next((tmp / "root" / "boot").glob("vmlinuz-*"))
            shutil.copy(vmlinuz, tmp / "vmlinuz")
            # Xen takes the ELF inside the bzImage as it is; un-xz-ing it under TCG costs 3 s.
            packed = vmlinuz.read_bytes()
            start = packed.find(b"\xfd7zXZ\x00")
            if start < 0:
                raise SandboxError(f"{vmlinuz.name} holds no xz-compressed kernel")
            (tmp / "vmlinux").write_bytes(lzma.LZMADecompressor().decompress(packed[start:]))
    return _cached("kernel", _key(package, version, "vmlinux"), build, 700)


def dom0_root(xen_version):
    """A bookworm minbase root with Xen's toolstack at the hypervisor's own version."""
    packages = [f"xen-utils-4.17={xen_version}", f"xen-utils-common={xen_version}"] + DOM0_PACKAGES

    def build(tmp):
        root = tmp / "root"
        with Step("debootstrap of the dom0 root (about a minute)"):
            run(["debootstrap", "--variant=minbase", SUITE, str(root), MIRROR], prefix="  | ")
        with Step("installing the toolstack and clients in the dom0 root"):
            (root / "etc/apt/sources.list").write_text(
                f"deb {MIRROR} {SUITE} main\ndeb {MIRROR} {SUITE}-updates main\n"
                f"deb {SECURITY} {SUITE}-security main\n")
            policy = root / "usr/sbin/policy-rc.d"   # no daemon starts inside the chroot
            policy.write_text("#!/bin/sh\nexit 101\n")
            policy.chmod(0o755)
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C")
            run(["chroot", str(root), "apt-get", "update", "-q"], env=env, prefix="  | ")
            run(["chroot", str(root), "apt-get", "install", "-y", "-q",
                 "--no-install-recommends"] + packages, env=env, prefix="  | ")
            run(["chroot", str(root), "apt-get", "clean"], env=env)
            policy.unlink()
    return _cached("dom0root", _key(SUITE, MIRROR, *packages), build, 1500)


def dom0_initramfs(root_dir, kernel_dir):
    """dom0's initramfs: the root, trimmed, plus kernel modules and the sandbox's scripts."""
    scripts = sorted(DOM0_SCRIPTS.iterdir())
    key = _key(root_dir.name, kernel_dir.name, *DOM0_MODULES, *DOM0_TRIM,
               *(p.name + p.read_text() for p in scripts))

    def build(tmp):
        with Step("packing the dom0 initramfs"):
            fs = tmp / "fs"
            run(["cp", "-a", str(root_dir / "root"), str(fs)])
            for path in DOM0_TRIM:
                target = fs / path
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
            _add_modules(fs, kernel_dir / "root")
            for script in scripts:
                dest = fs / "init" if script.name == "init" else fs / "sandbox" / script.name
                dest.parent.mkdir(exist_ok=True)
                shutil.copy(script, dest)
                dest.chmod(0o755)
            with open(tmp / "dom0.cpio", "wb") as out:
                files = subprocess.run(["find", "."], cwd=fs, capture_output=True, check=True)
                subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=fs,
                               input=files.stdout, stdout=out, check=True)
            shutil.rmtree(fs)
            size = (tmp / "dom0.cpio").stat().st_size >> 20
            say(f"dom0 initramfs is {size} MB")
    return _cached("dom0", key, build, 1500)


def _add_modules(fs, kroot):
    kver = next((kroot / "lib" / "modules").iterdir()).name
    src = kroot / "lib" / "modules" / kver
    dst = fs / "lib" / "modules" / kver
    for rel in DOM0_MODULES:
        (dst / "kernel" / rel).parent.mkdir(parents=True, exist_ok=True)
        run(["cp", "-a", str(src / "kernel" / rel), str(dst / "kernel" / rel)])
    for name in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
        if (src / name).exists():
            shutil.copy(src / name, dst / name)
    run(["depmod", "-b", str(fs), kver])


def ensure():
    """Makes sure every piece is cached; returns the paths a boot needs."""
    for tool in ("qemu-system-x86_64", "debootstrap", "cpio", "depmod", "apt-get"):
        if shutil.which(tool) is None:
            raise SandboxError(f"'{tool}' is missing: run scripts/setup, which installs it")
    xen_dir, xen_version = xen()
    kernel_dir = kernel()
    root_dir = dom0_root(xen_version)
    dom0_dir = dom0_initramfs(root_dir, kernel_dir)
    return {"xen": xen_dir / "xen.elf", "vmlinuz": kernel_dir / "vmlinuz",
            "vmlinux": kernel_dir / "vmlinux",
            "dom0": dom0_dir / "dom0.cpio", "dom0_root": root_dir / "root"}
