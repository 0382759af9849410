#include "runtime/mm/memory.h"

#include <errno.h>

#include "runtime/xen/xen.h"

extern "C" char __image_end[];

namespace skiff::mm {
namespace {

PageAllocator pages;
uint64_t total_ram;
uint64_t heap_start;   // bytes
uint64_t heap_end;

constexpr uint64_t Frame(uint64_t address) { return address >> kPageShift; }
constexpr uint64_t RoundUp(uint64_t address) { return (address + kPageSize - 1) & ~(kPageSize - 1); }

}  // namespace

PageAllocator& Pages() { return pages; }
uint64_t TotalRam() { return total_ram; }

Result<void> InitMemory(const xen::StartInfo& info) {
  uint64_t top = 0;
  total_ram = 0;
  for (size_t i = 0; i < info.region_count; i++) {
    const xen::MemoryRegion& r = info.regions[i];
    if (r.type != XEN_HVM_MEMMAP_TYPE_RAM) continue;
    total_ram += r.size;
    if (r.end() > top) top = r.end();
  }
  // The bitmap sits right after the image, or after the ramdisk that Xen puts there; the
  // heap starts after the bitmap.
  uint64_t image_end = reinterpret_cast<uint64_t>(__image_end);
  uint64_t ramdisk_end = info.ramdisk_paddr + info.ramdisk_size;
  if (info.ramdisk_size > 0 && (ramdisk_end < info.ramdisk_paddr || ramdisk_end > top)) {
    return MakeError(EINVAL, "the ramdisk at 0x%lx, %lu bytes, is not in RAM",
                     info.ramdisk_paddr, info.ramdisk_size);
  }
  uint64_t bitmap = RoundUp(ramdisk_end > image_end ? ramdisk_end : image_end);
  uint64_t bitmap_end = RoundUp(bitmap + PageAllocator::BitmapBytes(Frame(top)));
  bool bitmap_in_ram = false;
  for (size_t i = 0; i < info.region_count; i++) {
    const xen::MemoryRegion& r = info.regions[i];
    if (r.type == XEN_HVM_MEMMAP_TYPE_RAM && r.start <= bitmap && bitmap_end <= r.end()) {
      bitmap_in_ram = true;
    }
  }
  if (!bitmap_in_ram) {
    return MakeError(ENOMEM,
                     "too little memory: the RAM above the image cannot even hold the page bitmap");
  }
  pages.Init(0, Frame(top), reinterpret_cast<uint64_t*>(bitmap));
  for (size_t i = 0; i < info.region_count; i++) {
    const xen::MemoryRegion& r = info.regions[i];
    if (r.type != XEN_HVM_MEMMAP_TYPE_RAM) continue;
    uint64_t first = Frame(RoundUp(r.start));
    uint64_t end = Frame(r.end());
    if (end > first) pages.Free(first, end - first);
  }
  pages.Reserve(0, Frame(bitmap_end));   // frame 0, the low MiB, the image, the bitmap
  if (info.ramdisk_size > 0 && info.ramdisk_paddr < image_end) {   // somewhere below: keep it
    uint64_t first = Frame(info.ramdisk_paddr);
    pages.Reserve(first, Frame(RoundUp(ramdisk_end)) - first);
  }
  heap_start = heap_end = bitmap_end;
  return {};
}

void* GrowHeap(intptr_t delta) {
  uint64_t old_end = heap_end;
  uint64_t new_end = old_end + delta;
  if (delta < 0 && static_cast<uint64_t>(-delta) > old_end - heap_start) return nullptr;
  uint64_t old_top = Frame(RoundUp(old_end));
  uint64_t new_top = Frame(RoundUp(new_end));
  if (new_top > old_top && !pages.Claim(old_top, new_top - old_top)) return nullptr;
  if (new_top < old_top) pages.Free(new_top, old_top - new_top);
  heap_end = new_end;
  return reinterpret_cast<void*>(old_end);
}

}  // namespace skiff::mm
