// Hypercalls through the hypercall page. [xen/xen.h, xen/arch-x86/cpuid.h]
#ifndef SKIFF_RUNTIME_XEN_HYPERCALL_H_
#define SKIFF_RUNTIME_XEN_HYPERCALL_H_

#include <stdint.h>

#include "runtime/xen/xen.h"
#include "skiff/result.h"
#include "skiff/xen_types.h"

namespace skiff::xen {

// Finds Xen's CPUID leaves and has Xen fill the hypercall page. Returns false without Xen.
bool InstallHypercallPage();

// Calls hypercall |op| with up to five arguments; returns Xen's result (-errno on failure).
long Hypercall(unsigned op, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0,
               uint64_t a4 = 0, uint64_t a5 = 0);

template <typename T>
long Hypercall(unsigned op, uint64_t cmd, T* arg) {
  return Hypercall(op, cmd, reinterpret_cast<uint64_t>(arg));
}

inline long SchedOp(unsigned cmd, void* arg) { return Hypercall(__HYPERVISOR_sched_op, cmd, arg); }
inline long HvmOp(unsigned cmd, void* arg) { return Hypercall(__HYPERVISOR_hvm_op, cmd, arg); }
inline long MemoryOp(unsigned cmd, void* arg) {
  return Hypercall(__HYPERVISOR_memory_op, cmd, arg);
}
inline long EventChannelOp(unsigned cmd, void* arg) {
  return Hypercall(__HYPERVISOR_event_channel_op, cmd, arg);
}
inline long VcpuOp(unsigned cmd, unsigned vcpu, void* arg) {
  return Hypercall(__HYPERVISOR_vcpu_op, cmd, vcpu, reinterpret_cast<uint64_t>(arg));
}

// Reads HVM parameter |index| of this domain.
Result<uint64_t> GetHvmParam(uint32_t index);

// Notifies the other end of event channel |port|.
void Notify(EvtchnPort port);

// Ends the domain with |reason| (SHUTDOWN_poweroff, SHUTDOWN_crash...). Does not return.
[[noreturn]] void Shutdown(unsigned reason);

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_HYPERCALL_H_
