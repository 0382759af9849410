#include "runtime/mm/stacks.h"

#include <errno.h>

#include <vector>

#include "runtime/arch/x86/paging.h"
#include "runtime/mm/memory.h"

namespace skiff::mm {
namespace {

// 64 TiB: far above any RAM in the direct map. Guards cost address space, not memory.
constexpr uint64_t kRegionStart = uint64_t{1} << 46;
constexpr uint64_t kGuardSize = 64 * 1024;

struct Slot {
  uint64_t va;     // the guard's start
  size_t size;     // the stack's size
};

uint64_t next_slot = kRegionStart;
std::vector<Slot>* free_slots;   // slots of freed stacks, reused for stacks of the same size

// The on-demand stacks, in plain data: the page fault handler reads it.
struct DemandRegion {
  uint64_t base = 0, end = 0;
};
DemandRegion demand_regions[8];

void Unmap(uint64_t base, size_t mapped) {
  for (uint64_t va = base; va < base + mapped; va += kPageSize) {
    uint64_t pa = x86::UnmapPage(va);
    if (pa != 0) Pages().Free(pa >> kPageShift, 1);
  }
}

}  // namespace

Result<sched::Stack> AllocateStack(size_t size, const char* name, bool on_demand) {
  if (free_slots == nullptr) free_slots = new std::vector<Slot>;
  uint64_t slot = 0;
  for (size_t i = 0; i < free_slots->size(); i++) {
    if ((*free_slots)[i].size == size) {
      slot = (*free_slots)[i].va;
      (*free_slots)[i] = free_slots->back();
      free_slots->pop_back();
      break;
    }
  }
  if (slot == 0) {
    slot = next_slot;
    next_slot += kGuardSize + size;
  }
  uint64_t base = slot + kGuardSize;
  DemandRegion* region = nullptr;
  if (on_demand) {
    for (DemandRegion& r : demand_regions) {
      if (r.base == 0 && region == nullptr) region = &r;
    }
    if (region == nullptr) {
      free_slots->push_back({slot, size});
      return MakeError(ENOMEM, "spawn '%s': no room for another stack mapped on demand", name);
    }
    *region = {base, base + size};
  }
  size_t first = on_demand ? size - kPageSize : 0;   // the top page only, or all of them
  for (size_t done = first; done < size; done += kPageSize) {
    std::optional<uint64_t> frame = Pages().Allocate(1);
    if (!frame || !x86::MapPage(base + done, *frame << kPageShift)) {
      if (frame) Pages().Free(*frame, 1);
      Unmap(base + first, done - first);
      if (region != nullptr) *region = {};
      free_slots->push_back({slot, size});
      return MakeError(ENOMEM, "spawn '%s': out of memory for a stack of %zu KiB", name,
                       size >> 10);
    }
  }
  return sched::Stack{reinterpret_cast<char*>(base), size, reinterpret_cast<char*>(slot),
                      kGuardSize};
}

void FreeStack(const sched::Stack& stack) {
  auto base = reinterpret_cast<uint64_t>(stack.base);
  for (DemandRegion& r : demand_regions) {
    if (r.base == base) r = {};
  }
  Unmap(base, stack.size);
  free_slots->push_back({base - kGuardSize, stack.size});
}

Growth GrowStack(uint64_t address) {
  uint64_t page = address & ~(kPageSize - 1);
  for (const DemandRegion& r : demand_regions) {
    if (page < r.base || page >= r.end) continue;
    if (x86::Translate(page) != 0) return Growth::kNotOnDemand;   // mapped: a real fault
    std::optional<uint64_t> frame = Pages().Allocate(1);
    if (!frame) return Growth::kOutOfMemory;
    if (!x86::MapPage(page, *frame << kPageShift)) {
      Pages().Free(*frame, 1);
      return Growth::kOutOfMemory;
    }
    return Growth::kGrown;
  }
  return Growth::kNotOnDemand;
}

}  // namespace skiff::mm
