// What Xen tells the guest at the PVH entry, copied out of hvm_start_info before the memory
// that holds it is reused. [xen/arch-x86/hvm/start_info.h]
#ifndef SKIFF_RUNTIME_XEN_START_INFO_H_
#define SKIFF_RUNTIME_XEN_START_INFO_H_

#include <stddef.h>
#include <stdint.h>

#include "skiff/result.h"
#include "skiff/xen_types.h"

namespace skiff::xen {

// A ring page and event channel Xen set up for the domain (HVM_PARAM_*_PFN and _EVTCHN).
struct DomainRing {
  Gfn gfn;            // {0}: none
  EvtchnPort port;
  bool present() const { return gfn.value != 0; }
  void* address() const { return reinterpret_cast<void*>(gfn.value << 12); }   // direct map
};

struct MemoryRegion {
  uint64_t start;
  uint64_t size;
  uint32_t type;   // XEN_HVM_MEMMAP_TYPE_*
  uint64_t end() const { return start + size; }
};

inline constexpr size_t kMaxMemoryRegions = 64;
inline constexpr size_t kMaxCmdline = 4096;   // bytes, with the terminating NUL

struct StartInfo {
  bool dom0 = false;
  bool cmdline_too_long = false;
  size_t cmdline_length = 0;                // as Xen gave it, even when too long
  char cmdline[kMaxCmdline] = {};
  size_t region_count = 0;
  MemoryRegion regions[kMaxMemoryRegions] = {};
  // A domU's PV console and xenstore rings, read once here; a PVH dom0 has neither.
  DomainRing console;
  DomainRing store;
  // The first module Xen loaded with the image (xl's ramdisk=), if any: its bytes in RAM.
  uint64_t ramdisk_paddr = 0;
  uint64_t ramdisk_size = 0;
};

// Copies the start info at physical address |paddr|; the memory map comes from it, else
// from XENMEM_memory_map. Fails (EINVAL) when neither gives one or the magic is wrong.
Result<void> ReadStartInfo(uint64_t paddr, StartInfo* out);

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_START_INFO_H_
