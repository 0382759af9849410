// The boot sequence (DESIGN.md, "Boot"), from the PVH entry to main().
#ifndef SKIFF_RUNTIME_BOOT_H_
#define SKIFF_RUNTIME_BOOT_H_

namespace skiff {

// True when the guest runs as Xen's dom0 (the sandbox's dom0 mode): no xenstore, the
// console is console_io, and the exit status goes to port 0xf4.
bool IsDom0();

}  // namespace skiff

#endif  // SKIFF_RUNTIME_BOOT_H_
