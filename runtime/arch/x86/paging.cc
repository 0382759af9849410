#include "runtime/arch/x86/paging.h"

#include <string.h>

#include "runtime/arch/x86/cpu.h"
#include "runtime/xen/xen.h"

extern "C" char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern "C" char __image_end[], boot_stack_guard[];

namespace skiff::x86 {
namespace {

constexpr uint64_t kPresent = 1ull << 0;
constexpr uint64_t kWritable = 1ull << 1;
constexpr uint64_t kLarge = 1ull << 7;
constexpr uint64_t kNoExecute = 1ull << 63;
constexpr uint64_t kAddressMask = 0x000ffffffffff000ull;
constexpr uint64_t k2M = 2ull << 20;
constexpr uint64_t k1G = 1ull << 30;

class Builder {
 public:
  bool Init(mm::PageAllocator* pages) {
    pages_ = pages;
    return (root_ = NewTable()) != nullptr;
  }
  uint64_t root() const { return reinterpret_cast<uint64_t>(root_); }

  // Maps the 2 MiB region at |addr| with one large page (or 4 KiB pages for the image).
  bool Map2M(uint64_t addr, bool gib_pages) {
    uint64_t* pdpt = Next(root_, (addr >> 39) & 511);
    if (pdpt == nullptr) return false;
    uint64_t& pdpte = pdpt[(addr >> 30) & 511];
    if (pdpte & kLarge) return true;   // already inside a 1 GiB page
    if (gib_pages && (addr & (k1G - 1)) == 0 && pdpte == 0) {
      pdpte = addr | kPresent | kWritable | kLarge | kNoExecute;
      return true;
    }
    uint64_t* pd = Next(pdpt, (addr >> 30) & 511);
    if (pd == nullptr) return false;
    uint64_t& pde = pd[(addr >> 21) & 511];
    if (pde != 0) return true;
    if (addr >= reinterpret_cast<uint64_t>(__image_end)) {
      pde = addr | kPresent | kWritable | kLarge | kNoExecute;
      return true;
    }
    uint64_t* pt = Next(pd, (addr >> 21) & 511);
    if (pt == nullptr) return false;
    for (uint64_t i = 0; i < 512; i++) pt[i] = SmallPage(addr + i * mm::kPageSize);
    return true;
  }

  // The physical address that |va| maps to, through pages of any size; 0 if unmapped.
  uint64_t Translate(uint64_t va) const {
    const uint64_t* table = root_;
    for (int shift = 39; shift >= 12; shift -= 9) {
      uint64_t entry = table[(va >> shift) & 511];
      if (!(entry & kPresent)) return 0;
      uint64_t page_mask = (uint64_t{1} << shift) - 1;
      if (shift == 12 || (entry & kLarge)) {
        return (entry & kAddressMask & ~page_mask) | (va & page_mask);
      }
      table = reinterpret_cast<const uint64_t*>(entry & kAddressMask);
    }
    return 0;
  }

  // The last-level entry for the 4 KiB page at |va|, making missing tables if |make|; null
  // when out of memory, when a table is missing and !|make|, or when a large page covers |va|.
  uint64_t* Entry(uint64_t va, bool make) {
    uint64_t* table = root_;
    for (int shift = 39; shift > 12; shift -= 9) {
      unsigned index = (va >> shift) & 511;
      if (table[index] & kLarge) return nullptr;
      if (table[index] == 0 && !make) return nullptr;
      table = Next(table, index);
      if (table == nullptr) return nullptr;
    }
    return &table[(va >> 12) & 511];
  }

 private:
  // The entry for the 4 KiB page at |pa| inside the image's 2 MiB regions.
  static uint64_t SmallPage(uint64_t pa) {
    auto in = [pa](const char* start, const char* end) {
      return pa >= reinterpret_cast<uint64_t>(start) && pa < reinterpret_cast<uint64_t>(end);
    };
    if (pa == 0 || pa == reinterpret_cast<uint64_t>(boot_stack_guard)) return 0;
    if (in(__text_start, __text_end)) return pa | kPresent;
    if (in(__rodata_start, __rodata_end)) return pa | kPresent | kNoExecute;
    return pa | kPresent | kWritable | kNoExecute;
  }

  uint64_t* NewTable() {
    std::optional<uint64_t> frame = pages_->Allocate(1);
    if (!frame) return nullptr;
    auto* table = reinterpret_cast<uint64_t*>(*frame << mm::kPageShift);
    memset(table, 0, mm::kPageSize);
    return table;
  }

  // The table that |table|[index] points to, made if missing.
  uint64_t* Next(uint64_t* table, unsigned index) {
    if (table[index] == 0) {
      uint64_t* next = NewTable();
      if (next == nullptr) return nullptr;
      table[index] = reinterpret_cast<uint64_t>(next) | kPresent | kWritable;
    }
    return reinterpret_cast<uint64_t*>(table[index] & kAddressMask);
  }

  mm::PageAllocator* pages_;
  uint64_t* root_;
};

Builder tables;   // plain data: in use before the global constructors have run

bool HasGibPages() { return Cpuid(0x80000001).edx & (1u << 26); }

}  // namespace

bool BuildPageTables(const xen::StartInfo& info, const uint64_t* extra, int extra_count,
                     mm::PageAllocator& pages) {
  Builder& builder = tables;
  if (!builder.Init(&pages)) return false;
  bool gib = HasGibPages();
  for (size_t i = 0; i < info.region_count; i++) {
    const xen::MemoryRegion& r = info.regions[i];
    // A 1 GiB page only where the region covers all of it.
    for (uint64_t a = r.start & ~(k2M - 1); a < r.end(); a += k2M) {
      bool whole_gib = (a & (k1G - 1)) == 0 && a >= r.start && a + k1G <= r.end() &&
                       a >= reinterpret_cast<uint64_t>(__image_end);
      if (!builder.Map2M(a, gib && whole_gib && r.type == XEN_HVM_MEMMAP_TYPE_RAM)) {
        return false;
      }
    }
  }
  for (int i = 0; i < extra_count; i++) {
    if (!builder.Map2M(extra[i] & ~(k2M - 1), false)) return false;
  }
  // The image's own regions, in case the memory map left them out.
  for (uint64_t a = 0; a < reinterpret_cast<uint64_t>(__image_end); a += k2M) {
    if (!builder.Map2M(a, false)) return false;
  }
  WriteCr3(builder.root());
  return true;
}

bool MapPage(uint64_t va, uint64_t pa) {
  uint64_t* entry = tables.Entry(va, true);
  if (entry == nullptr) return false;
  *entry = pa | kPresent | kWritable | kNoExecute;
  return true;
}

uint64_t Translate(uint64_t va) { return tables.Translate(va); }

uint64_t UnmapPage(uint64_t va) {
  uint64_t* entry = tables.Entry(va, false);
  if (entry == nullptr || !(*entry & kPresent)) return 0;
  uint64_t pa = *entry & kAddressMask;
  *entry = 0;
  InvalidatePage(va);
  return pa;
}

}  // namespace skiff::x86
