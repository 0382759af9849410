// The runtime's own page tables: a direct map (VA == PA) of every region in the memory map
// with 1 GiB or 2 MiB pages, the image mapped W^X with 4 KiB pages (text RX, rodata R, data
// and bss RW+NX), frame 0 and the boot stack's guard page left unmapped.
#ifndef SKIFF_RUNTIME_ARCH_X86_PAGING_H_
#define SKIFF_RUNTIME_ARCH_X86_PAGING_H_

#include <stdint.h>

#include "runtime/mm/page_alloc.h"
#include "runtime/xen/start_info.h"

namespace skiff::x86 {

// Builds the tables with frames from |pages|, also mapping the 2 MiB regions around the
// |extra| physical addresses (the console and xenstore rings live outside RAM), and
// switches to them. Returns false when |pages| runs out.
bool BuildPageTables(const xen::StartInfo& info, const uint64_t* extra, int extra_count,
                     mm::PageAllocator& pages);

// Maps the 4 KiB page at |va| to |pa|, writable and no-execute, outside the direct map (task
// stacks). Returns false when out of memory for page tables.
bool MapPage(uint64_t va, uint64_t pa);

// The physical address mapped at |va| (in the direct map, a task stack, the image), or 0
// when nothing is mapped there.
uint64_t Translate(uint64_t va);

// Unmaps the page at |va| and flushes it from the TLB; returns its physical address, or 0 if
// it was not mapped.
uint64_t UnmapPage(uint64_t va);

}  // namespace skiff::x86

#endif  // SKIFF_RUNTIME_ARCH_X86_PAGING_H_
