"""Checks that a file is a PVH guest image before any boot is attempted.

An image is an x86-64 ELF with Xen's PVH entry note, or a Linux bzImage whose compressed
payload is such an ELF (as Debian's vmlinuz is): libxc's bzImage loader unpacks the payload and
boots the ELF inside, so the check looks there too.
"""

import lzma
import struct
import zlib
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
    what = path
    if _is_bzimage(data):
        data = _bzimage_elf(data, path)
        what = f"{path} (the ELF inside the bzImage)"
    if data[:4] != b"\x7fELF" or len(data) < 64:
        raise SandboxError(f"{path}: not an ELF file (nor a Linux bzImage)")
    path = what
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


def _is_bzimage(data):
    """A Linux boot image with a payload field: boot protocol 2.08 or later (libxc's test)."""
    return (len(data) >= 0x250 and data[0x202:0x206] == b"HdrS" and
            struct.unpack_from("<H", data, 0x206)[0] >= 0x208)


def _bzimage_elf(data, path):
    """The start of the ELF in a bzImage's payload: enough for its headers and notes.

    The payload is decompressed only as far as needed (an xz kernel unpacks to about 60 MB)."""
    setup_sects = data[0x1f1] or 4
    offset, length = struct.unpack_from("<II", data, 0x248)
    payload = data[(setup_sects + 1) * 512 + offset:][:length]
    if payload[:6] == b"\xfd7zXZ\x00" or payload[:3] == b"\x5d\x00\x00":
        lz = lzma.LZMADecompressor()
        more = lambda first: lz.decompress(payload if first else b"", 1 << 20)
    elif payload[:2] == b"\x1f\x8b":
        gz = zlib.decompressobj(16 + zlib.MAX_WBITS)
        more = lambda first: gz.decompress(payload if first else gz.unconsumed_tail, 1 << 20)
    else:
        raise SandboxError(f"{path}: a bzImage whose payload is neither xz, lzma nor gzip "
                           "compressed, which this check cannot read")
    out = bytearray()
    wanted = 64
    try:
        while len(out) < wanted:
            try:
                chunk = more(not out)
            except EOFError:   # the whole payload is out
                break
            if not chunk:
                break
            out += chunk
            if out[:4] == b"\x7fELF" and len(out) >= 64:
                wanted = _elf_notes_end(out)
    except (lzma.LZMAError, zlib.error) as err:
        raise SandboxError(f"{path}: the bzImage's payload does not decompress: {err}")
    return bytes(out)


def _elf_notes_end(data):
    """How much of an ELF64 file covers its program headers and every PT_NOTE segment."""
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    end = phoff + phentsize * phnum
    if end > len(data):
        return end
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data,
                                                                 phoff + i * phentsize)
        if p_type == PT_NOTE:
            end = max(end, p_offset + p_filesz)
    return end
