#include "runtime/xen/loop.h"

#include <errno.h>
#include <stdio.h>

#include <new>

#include "runtime/arch/x86/cpu.h"
#include "runtime/arch/x86/idt.h"
#include "runtime/mm/stacks.h"
#include "runtime/sched/scheduler.h"
#include "runtime/xen/console.h"
#include "runtime/xen/hypercall.h"
#include "runtime/xen/shared_info.h"
#include "runtime/xen/xen_error.h"
#include "skiff/evtchn.h"
#include "skiff/skiff.h"

// upcall.S: the interrupt handler, what it needs, and the halt.
extern "C" void skiff_upcall_entry();
extern "C" void skiff_spurious_entry();
extern "C" void skiff_halt();
extern "C" volatile uint8_t* skiff_upcall_pending;
extern "C" uint8_t skiff_upcall_eoi;

namespace skiff::xen {
namespace {

constexpr uint8_t kUpcallVector = 0xf3;
constexpr uint8_t kSpuriousVector = 0xff;
constexpr uint32_t kMsrApicBase = 0x1b;
constexpr uint64_t kApicEnable = 1 << 11, kX2ApicEnable = 1 << 10;
constexpr uint32_t kMsrX2ApicSvr = 0x80f;

EventPorts ports;
const char* upcall_mode = "none";

class XenPlatform final : public sched::Platform {
 public:
  uint64_t Now() override { return SystemTimeNanoseconds(); }

  void PollEvents() override {
    if (ports.Pending()) ports.Dispatch();
  }

  // Interrupts are off everywhere but in skiff_halt: the check and the halt cannot miss an
  // event, because `sti; hlt` takes a pending interrupt only once the halt has begun, and the
  // upcall moves an interrupted hlt on where that fails (upcall.S).
  void Idle(uint64_t deadline) override {
    if (deadline != armed_) Arm(deadline);
    if (ports.Pending()) return;
    skiff_halt();
  }

  Result<sched::Stack> AllocateStack(size_t size, const char* name, bool on_demand) override {
    return mm::AllocateStack(size, name, on_demand);
  }

  void FreeStack(const sched::Stack& stack) override { mm::FreeStack(stack); }

  void Fatal(const char* message) override { x86::Crash(message); }

  // VIRQ_TIMER: the singleshot timer has fired and is no longer armed.
  void TimerFired() { armed_ = kNever; }

 private:
  void Arm(uint64_t deadline) {
    long rc;
    if (deadline == kNever) {
      rc = VcpuOp(VCPUOP_stop_singleshot_timer, 0, nullptr);
    } else {
      vcpu_set_singleshot_timer_t timer = {deadline, 0};   // a past deadline fires at once
      rc = VcpuOp(VCPUOP_set_singleshot_timer, 0, &timer);
    }
    if (rc != 0) {
      char message[96];
      snprintf(message, sizeof(message), "Xen refused the singleshot timer: %s", ErrorName(rc));
      x86::Crash(message);   // without it, every sleep would hang
    }
    armed_ = deadline;
  }

  uint64_t armed_ = kNever;
};

XenPlatform* platform;
EventChannel* timer_channel;

// The per-vCPU upcall vector comes through the local APIC (x2APIC mode: no MMIO to map) and
// needs an EOI; the domain-wide callback vector needs none.
bool UsePerVcpuVector() {
  if (!(x86::Cpuid(1).ecx & (1u << 21))) return false;   // no x2APIC
  x86::WriteMsr(kMsrApicBase, x86::ReadMsr(kMsrApicBase) | kApicEnable | kX2ApicEnable);
  x86::WriteMsr(kMsrX2ApicSvr, 0x100 | kSpuriousVector);   // software-enable the APIC
  xen_hvm_evtchn_upcall_vector_t upcall = {0, kUpcallVector};
  return HvmOp(HVMOP_set_evtchn_upcall_vector, &upcall) == 0;
}

bool UseCallbackVector() {
  xen_hvm_param_t param = {};
  param.domid = DOMID_SELF;
  param.index = HVM_PARAM_CALLBACK_IRQ;
  param.value = (uint64_t{HVM_PARAM_CALLBACK_TYPE_VECTOR} << 56) | kUpcallVector;
  return HvmOp(HVMOP_set_param, &param) == 0;
}

}  // namespace

EventPorts& Ports() { return ports; }
void StartEventLoop(const sched::Stack& main_stack, bool callback_upcall) {
  vcpu_info* vcpu = &SharedInfo()->vcpu_info[0];
  ports.Attach(SharedInfo(), vcpu);
  skiff_upcall_pending = &vcpu->evtchn_upcall_pending;
  x86::SetInterruptGate(kUpcallVector, skiff_upcall_entry);
  x86::SetInterruptGate(kSpuriousVector, skiff_spurious_entry);
  if (!callback_upcall && UsePerVcpuVector()) {
    upcall_mode = "per-vCPU vector";
    skiff_upcall_eoi = 1;
  } else if (UseCallbackVector()) {
    upcall_mode = "callback vector";
  } else {
    x86::Crash("Xen accepted neither an upcall vector nor HVM_PARAM_CALLBACK_IRQ");
  }
  VcpuOp(VCPUOP_stop_periodic_timer, 0, nullptr);   // wake only for deadlines

  alignas(XenPlatform) static char platform_storage[sizeof(XenPlatform)];
  alignas(sched::Scheduler) static char scheduler_storage[sizeof(sched::Scheduler)];
  platform = new (platform_storage) XenPlatform;
  sched::SetCurrent(new (scheduler_storage)
                        sched::Scheduler(platform, main_stack));

  Result<EventChannel> timer = EventChannel::BindVirq(VIRQ_TIMER);
  if (!timer) x86::Crash(timer.error().message.c_str());
  timer_channel = new EventChannel(std::move(*timer));
  timer_channel->SetHandler([] { platform->TimerFired(); });
}

}  // namespace skiff::xen

namespace skiff {

VcpuTimes GetVcpuTimes() {
  vcpu_runstate_info_t info = {};
  xen::VcpuOp(VCPUOP_get_runstate_info, 0, &info);
  return {info.time[RUNSTATE_running], info.time[RUNSTATE_runnable],
          info.time[RUNSTATE_blocked]};
}

const char* EventUpcall() { return xen::upcall_mode; }

long NullHypercall() { return xen::Hypercall(__HYPERVISOR_xen_version, XENVER_version); }

}  // namespace skiff
