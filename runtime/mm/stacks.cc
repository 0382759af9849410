#include "runtime/mm/stacks.h"

#include <errno.h>
#include <stdlib.h>

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

// The on-demand stacks, sorted by base. The page fault handler reads the array, and a
// fault may come in the middle of a change (a stack growing while a task is spawned): a
// change builds a new array and publishes it with one store, so the handler sees the old
// one or the new one, never half of either.
struct DemandRegion {
  uint64_t base, end;
};
struct DemandRegions {
  size_t count;
  DemandRegion regions[];
};
DemandRegions* volatile demand;

// The array with |add| put in (or the region at |remove_base| taken out); false when out of
// memory.
bool ChangeDemand(const DemandRegion* add, uint64_t remove_base) {
  DemandRegions* old = demand;
  size_t count = old != nullptr ? old->count : 0;
  auto* next = static_cast<DemandRegions*>(
      malloc(sizeof(DemandRegions) + (count + 1) * sizeof(DemandRegion)));
  if (next == nullptr) return false;
  size_t n = 0;
  for (size_t i = 0; i < count; i++) {
    const DemandRegion& r = old->regions[i];
    if (add != nullptr && add->base < r.base && (n == 0 || next->regions[n - 1].base < add->base)) {
      next->regions[n++] = *add;
    }
    if (r.base != remove_base) next->regions[n++] = r;
  }
  if (add != nullptr && (n == 0 || next->regions[n - 1].base < add->base)) next->regions[n++] = *add;
  next->count = n;
  asm volatile("" ::: "memory");   // the array is whole before it is published
  demand = next;
  free(old);
  return true;
}

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
  if (on_demand) {
    DemandRegion region = {base, base + size};
    if (!ChangeDemand(&region, 0)) {
      free_slots->push_back({slot, size});
      return MakeError(ENOMEM, "spawn '%s': out of memory for a stack mapped on demand", name);
    }
  }
  size_t first = on_demand ? size - kPageSize : 0;   // the top page only, or all of them
  for (size_t done = first; done < size; done += kPageSize) {
    std::optional<uint64_t> frame = Pages().Allocate(1);
    if (!frame || !x86::MapPage(base + done, *frame << kPageShift)) {
      if (frame) Pages().Free(*frame, 1);
      Unmap(base + first, done - first);
      if (on_demand) ChangeDemand(nullptr, base);
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
  ChangeDemand(nullptr, base);   // out of memory here only leaves a stale, harmless entry
  Unmap(base, stack.size);
  free_slots->push_back({base - kGuardSize, stack.size});
}

Growth GrowStack(uint64_t address) {
  uint64_t page = address & ~(kPageSize - 1);
  const DemandRegions* regions = demand;
  if (regions == nullptr) return Growth::kNotOnDemand;
  size_t low = 0, high = regions->count;   // the last region whose base <= page
  while (low < high) {
    size_t mid = (low + high) / 2;
    if (regions->regions[mid].base <= page) low = mid + 1; else high = mid;
  }
  if (low > 0) {
    const DemandRegion& r = regions->regions[low - 1];
    if (page >= r.end) return Growth::kNotOnDemand;
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
