// Task stacks: mapped page by page in a region of their own, above the direct map, each with
// an unmapped guard gap below it, so an overflow faults instead of corrupting memory.
#ifndef SKIFF_RUNTIME_MM_STACKS_H_
#define SKIFF_RUNTIME_MM_STACKS_H_

#include <stddef.h>

#include "runtime/sched/scheduler.h"
#include "skiff/result.h"

namespace skiff::mm {

// |size| is a whole number of pages. |name| is the task's, for the error message. With
// |on_demand|, only the top page is mapped now, and each page below it on its first touch
// (GrowStack, from the page fault handler): address space for a large stack costs memory only
// as deep as it is used.
Result<sched::Stack> AllocateStack(size_t size, const char* name, bool on_demand = false);
void FreeStack(const sched::Stack& stack);

enum class Growth { kNotOnDemand, kGrown, kOutOfMemory };
// Maps the page at |address| if it lies in an on-demand stack and is not mapped yet.
// Interrupt context (the page fault handler): allocates no heap memory.
Growth GrowStack(uint64_t address);

}  // namespace skiff::mm

#endif  // SKIFF_RUNTIME_MM_STACKS_H_
