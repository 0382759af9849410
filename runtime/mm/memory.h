// The guest's memory: the page allocator over all RAM, and the heap that newlib's malloc
// grows with sbrk. The heap grows up from just above the image; pages are handed out from
// the top of memory down; they share one bitmap, so neither can take the other's pages.
#ifndef SKIFF_RUNTIME_MM_MEMORY_H_
#define SKIFF_RUNTIME_MM_MEMORY_H_

#include <stddef.h>
#include <stdint.h>

#include "runtime/mm/page_alloc.h"
#include "runtime/xen/start_info.h"
#include "skiff/result.h"

namespace skiff::mm {

// Sets up the allocator from the memory map, reserving the image, frame 0, the first MiB
// and the allocator's own bitmap. Fails (ENOMEM, with a reason) when RAM is too small.
Result<void> InitMemory(const xen::StartInfo& info);

PageAllocator& Pages();

// Bytes of RAM in the memory map.
uint64_t TotalRam();

// Moves the heap's end by |delta| bytes; returns the old end, or nullptr when the pages
// are not free (out of memory).
void* GrowHeap(intptr_t delta);

}  // namespace skiff::mm

#endif  // SKIFF_RUNTIME_MM_MEMORY_H_
