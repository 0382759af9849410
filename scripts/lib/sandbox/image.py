"""Checks that a file is a PVH guest image before any boot is attempted."""

import struct
from pathlib import Path

from .common import SandboxError

PT_NOTE = 4
EM_X86_64 = 62
XEN_ELFNOTE_PHYS32_ENTRY = 18   # [xen/elfnote.h]


def check_pvh(path):
    """Returns the resolved |path| if it is an x86-64 ELF with Xen's PVH entry note."""
    image = Path(path)
    if not image.is_file():
        raise SandboxError(f"{path}: no such image file")
    data = image.read_bytes()
    if data[:4] != b"\x7fELF" or len(data) < 64:
        raise SandboxError(f"{path}: not an ELF file")
    if data[4] != 2 or data[5] != 1 or struct.unpack_from("<H", data, 18)[0] != EM_X86_64:
        raise SandboxError(f"{path}: not a 64-bit little-endian x86-64 ELF")
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    for i in range(phnum):
        base = phoff + i * phentsize
        if base + 56 > len(data):
            break
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data, base)
        if p_type == PT_NOTE and _has_pvh_note(data[p_offset:p_offset + p_filesz]):
            return image.resolve()
    raise SandboxError(f"{path}: has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY), "
                       "so Xen cannot boot it as a PVH guest")


def _has_pvh_note(notes):
    """Walks ELF notes (4-byte aligned fields, as Xen's libelf reads them)."""
    pos = 0
    pad = lambda n: (n + 3) & ~3
    while pos + 12 <= len(notes):
        namesz, descsz, kind = struct.unpack_from("<III", notes, pos)
        name = notes[pos + 12:pos + 12 + namesz]
        if name == b"Xen\0" and kind == XEN_ELFNOTE_PHYS32_ENTRY:
            return True
        pos += 12 + pad(namesz) + pad(descsz)
    return False
