// Skiff's public API for apps. Tasks and time: skiff/sched.h; coroutines: skiff/coro.h;
// event channels: skiff/evtchn.h.
#ifndef SKIFF_SKIFF_H_
#define SKIFF_SKIFF_H_

#include <stdint.h>

namespace skiff {

// TSC readings at the PVH entry and just before main(), and their distance in nanoseconds.
uint64_t EntryTsc();
uint64_t MainTsc();
uint64_t EntryToMainNanoseconds();

// Bytes of RAM the guest was given, and bytes still free for pages and the heap.
uint64_t TotalMemory();
uint64_t FreeMemory();

// Nanoseconds this vCPU has spent running, waiting to run, and halted (blocked), as Xen
// counts them (VCPUOP_get_runstate_info).
struct VcpuTimes {
  uint64_t running, runnable, blocked;
};
VcpuTimes GetVcpuTimes();

// How event channel upcalls reach the vCPU: "per-vCPU vector" (HVMOP_set_evtchn_upcall_vector)
// or "callback vector" (HVM_PARAM_CALLBACK_IRQ; also chosen by the command-line option
// skiff.upcall=callback).
const char* EventUpcall();

// One hypercall that does no work (xen_version XENVER_version), to measure hypercall cost.
long NullHypercall();

}  // namespace skiff

#endif  // SKIFF_SKIFF_H_
