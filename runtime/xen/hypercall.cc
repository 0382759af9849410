#include "runtime/xen/hypercall.h"

#include "runtime/arch/x86/cpu.h"
#include "runtime/xen/xen_error.h"

// The page Xen fills with one 32-byte stub per hypercall. It lives in .text, so it is
// executable; Xen writes it through the guest-physical address we give the MSR.
asm(R"(
        .section .text.hypercall_page, "ax"
        .p2align 12
        .globl hypercall_page
hypercall_page:
        .skip 4096
        .previous
)");
extern "C" char hypercall_page[4096];

namespace skiff::xen {

bool InstallHypercallPage() {
  for (uint32_t base = XEN_CPUID_FIRST_LEAF; base < XEN_CPUID_FIRST_LEAF + 0x10000;
       base += 0x100) {
    x86::CpuidResult id = x86::Cpuid(base);
    if (id.ebx == XEN_CPUID_SIGNATURE_EBX && id.ecx == XEN_CPUID_SIGNATURE_ECX &&
        id.edx == XEN_CPUID_SIGNATURE_EDX && id.eax - base >= 2) {
      uint32_t msr = x86::Cpuid(base + 2).ebx;
      x86::WriteMsr(msr, reinterpret_cast<uint64_t>(hypercall_page));
      return true;
    }
  }
  return false;
}

long Hypercall(unsigned op, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5) {
  register uint64_t rdi asm("rdi") = a1;
  register uint64_t rsi asm("rsi") = a2;
  register uint64_t rdx asm("rdx") = a3;
  register uint64_t r10 asm("r10") = a4;
  register uint64_t r8 asm("r8") = a5;
  long result;
  asm volatile("call *%[entry]"
               : "=a"(result), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8)
               : [entry] "r"(hypercall_page + op * 32)
               : "memory", "rcx", "r9", "r11");
  return result;
}

Result<uint64_t> GetHvmParam(uint32_t index) {
  xen_hvm_param_t param = {};
  param.domid = DOMID_SELF;
  param.index = index;
  if (long rc = HvmOp(HVMOP_get_param, &param); rc != 0) {
    return XenError(rc, "reading HVM parameter %u failed", index);
  }
  return param.value;
}

void Notify(EvtchnPort port) {
  evtchn_send_t send = {port.value};
  EventChannelOp(EVTCHNOP_send, &send);
}

void Shutdown(unsigned reason) {
  sched_shutdown_t shutdown = {reason};
  for (;;) {
    SchedOp(SCHEDOP_shutdown, &shutdown);
    x86::Halt();
  }
}

}  // namespace skiff::xen
