// What Xen tells the guest at the PVH entry, copied out of hvm_start_info before the memory
// that holds it is reused. [xen/arch-x86/hvm/start_info.h]
#ifndef SKIFF_RUNTIME_XEN_START_INFO_H_
#define SKIFF_RUNTIME_XEN_START_INFO_H_

#include <stddef.h>
#include <stdint.h>

namespace skiff::xen {

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
};

// Copies the start info at physical address |paddr|; the memory map comes from it, else
// from XENMEM_memory_map. Returns false (with a reason) when neither gives one.
bool ReadStartInfo(uint64_t paddr, StartInfo* out, const char** error);

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_START_INFO_H_
