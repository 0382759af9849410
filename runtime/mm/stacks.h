// Task stacks: mapped page by page in a region of their own, above the direct map, each with
// an unmapped guard gap below it, so an overflow faults instead of corrupting memory.
#ifndef SKIFF_RUNTIME_MM_STACKS_H_
#define SKIFF_RUNTIME_MM_STACKS_H_

#include <stddef.h>

#include "runtime/sched/scheduler.h"
#include "skiff/result.h"

namespace skiff::mm {

// |size| is a whole number of pages. |name| is the task's, for the error message.
Result<sched::Stack> AllocateStack(size_t size, const char* name);
void FreeStack(const sched::Stack& stack);

}  // namespace skiff::mm

#endif  // SKIFF_RUNTIME_MM_STACKS_H_
