#include "runtime/xen/start_info.h"

#include <errno.h>
#include <string.h>

#include "runtime/xen/hypercall.h"

namespace skiff::xen {
namespace {

void AddRegion(StartInfo* out, uint64_t start, uint64_t size, uint32_t type) {
  if (out->region_count < kMaxMemoryRegions && size > 0) {
    out->regions[out->region_count++] = {start, size, type};
  }
}

// XENMEM_memory_map fills the buffer with e820 entries. [xen/memory.h]
struct [[gnu::packed]] E820Entry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;
};
static_assert(sizeof(E820Entry) == 20);

bool MemoryMapFromXen(StartInfo* out) {
  static E820Entry entries[kMaxMemoryRegions];
  xen_memory_map_t map = {};
  map.nr_entries = kMaxMemoryRegions;
  set_xen_guest_handle(map.buffer, entries);
  if (MemoryOp(XENMEM_memory_map, &map) != 0) return false;
  for (unsigned i = 0; i < map.nr_entries; i++) {
    AddRegion(out, entries[i].addr, entries[i].size, entries[i].type);
  }
  return true;
}

DomainRing ReadRing(uint32_t pfn_param, uint32_t port_param) {
  Result<uint64_t> pfn = GetHvmParam(pfn_param);
  Result<uint64_t> port = GetHvmParam(port_param);
  if (!pfn || !port) return {};
  return {Gfn{*pfn}, EvtchnPort{static_cast<uint32_t>(*port)}};
}

void ReadRings(StartInfo* out) {
  out->console = ReadRing(HVM_PARAM_CONSOLE_PFN, HVM_PARAM_CONSOLE_EVTCHN);
  out->store = ReadRing(HVM_PARAM_STORE_PFN, HVM_PARAM_STORE_EVTCHN);
}

}  // namespace

Result<void> ReadStartInfo(uint64_t paddr, StartInfo* out) {
  const auto* info = reinterpret_cast<const hvm_start_info*>(paddr);
  if (info == nullptr || info->magic != XEN_HVM_START_MAGIC_VALUE) {
    ReadRings(out);   // whatever the domain is, so that the console can say what went wrong
    return MakeError(EINVAL, "the PVH start info has a bad magic number");
  }
  out->dom0 = info->flags & SIF_INITDOMAIN;
  if (!out->dom0) ReadRings(out);
  if (info->cmdline_paddr != 0) {
    const char* cmdline = reinterpret_cast<const char*>(info->cmdline_paddr);
    out->cmdline_length = strlen(cmdline);
    out->cmdline_too_long = out->cmdline_length >= kMaxCmdline;
    if (!out->cmdline_too_long) memcpy(out->cmdline, cmdline, out->cmdline_length + 1);
  }
  if (info->nr_modules > 0 && info->modlist_paddr != 0) {
    const auto* module = reinterpret_cast<const hvm_modlist_entry*>(info->modlist_paddr);
    out->ramdisk_paddr = module->paddr;
    out->ramdisk_size = module->size;
  }
  if (info->version >= 1 && info->memmap_paddr != 0) {
    const auto* map = reinterpret_cast<const hvm_memmap_table_entry*>(info->memmap_paddr);
    for (uint32_t i = 0; i < info->memmap_entries; i++) {
      AddRegion(out, map[i].addr, map[i].size, map[i].type);
    }
  } else if (!MemoryMapFromXen(out)) {
    return MakeError(EINVAL, "no memory map: neither the start info nor XENMEM_memory_map "
                     "gave one");
  }
  return {};
}

}  // namespace skiff::xen
