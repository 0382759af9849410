/*
 * xen.c: CPU access and the few hypercalls the probe makes.
 * [xen/arch-x86/cpuid.h, xen/sched.h, xen/event_channel.h, xen/hvm/hvm_op.h]
 */
#include "probe.h"

#include <xen/arch-x86/cpuid.h>
#include <xen/event_channel.h>
#include <xen/hvm/hvm_op.h>
#include <xen/sched.h>

enum { kHypercallStubSize = 32, kAssumedTscKhz = 1000000 };

/* Relax() spins this many times. Polling loops call NowMs() once per Relax(),
 * and rdtsc may be a VM exit (Xen emulates the TSC when the host's is not
 * reliable), so a short spin would flood Xen with exits. */
enum { kRelaxPauses = 1000 };

extern uint8_t hypercall_page[4096];  /* entry.S */

static uint32_t tsc_khz = kAssumedTscKhz;

static void Cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]) {
  __asm__ volatile("cpuid"
                   : "=a"(regs[0]), "=b"(regs[1]), "=c"(regs[2]), "=d"(regs[3])
                   : "a"(leaf), "c"(subleaf));
}

static void WrMsr(uint32_t msr, uint64_t value) {
  __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

/* Xen's leaves may sit at any multiple of 0x100 from 0x40000000 (after
 * Viridian's, for example). Returns the base, or 0 if none is found. */
static uint32_t FindXenLeaves(void) {
  for (uint32_t base = XEN_CPUID_FIRST_LEAF; base < XEN_CPUID_FIRST_LEAF + 0x10000; base += 0x100) {
    uint32_t r[4];
    Cpuid(base, 0, r);
    if (r[1] == XEN_CPUID_SIGNATURE_EBX && r[2] == XEN_CPUID_SIGNATURE_ECX &&
        r[3] == XEN_CPUID_SIGNATURE_EDX && r[0] >= base + 2)
      return base;
  }
  return 0;
}

uint32_t XenInit(void) {
  uint32_t base = FindXenLeaves();
  if (base == 0) return 0;
  uint32_t r[4];
  Cpuid(base, 0, r);
  uint32_t max_leaf = r[0];
  Cpuid(base + 2, 0, r);  /* EBX: the MSR that takes the hypercall page's address */
  WrMsr(r[1], (uintptr_t)hypercall_page);
  if (max_leaf >= base + 3) {
    Cpuid(base + 3, 0, r);  /* ECX: guest TSC frequency in kHz */
    if (r[2] != 0) tsc_khz = r[2];
  }
  Cpuid(base + 1, 0, r);
  return r[0];
}

/* 64-bit HVM ABI: arguments in rdi, rsi, rdx (r10, r8 unused here and
 * clobbered), result in rax. Each stub is `mov $op, %eax; vmcall/vmmcall; ret`. */
long Hypercall(unsigned op, uint64_t a1, uint64_t a2, uint64_t a3) {
  register uint64_t rdi __asm__("rdi") = a1;
  register uint64_t rsi __asm__("rsi") = a2;
  register uint64_t rdx __asm__("rdx") = a3;
  long result;
  __asm__ volatile("call *%[stub]"
                   : "=&a"(result), "+r"(rdi), "+r"(rsi), "+r"(rdx)
                   : [stub] "r"(hypercall_page + op * kHypercallStubSize)
                   : "r8", "r10", "memory");
  return result;
}

bool XenHvmParam(uint32_t index, uint64_t *value) {
  struct xen_hvm_param param = {.domid = DOMID_SELF, .index = index};
  if (Hypercall(__HYPERVISOR_hvm_op, HVMOP_get_param, (uintptr_t)&param, 0) != 0) return false;
  *value = param.value;
  return true;
}

void XenNotify(EvtchnPort port) {
  struct evtchn_send send = {.port = port.value};
  Hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (uintptr_t)&send, 0);
}

void XenShutdown(unsigned reason) {
  struct sched_shutdown shutdown = {.reason = reason};
  Hypercall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, (uintptr_t)&shutdown, 0);
}

void XenBlock(void) { Hypercall(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0); }

void Relax(void) {
  for (int i = 0; i < kRelaxPauses; i++) __asm__ volatile("pause");
}

uint64_t NowMs(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (((uint64_t)hi << 32) | lo) / tsc_khz;
}

void OutB(uint16_t port, uint8_t value) {
  __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

void OutL(uint16_t port, uint32_t value) {
  __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}

noreturn void HaltForever(void) {
  for (;;) __asm__ volatile("cli; hlt");
}
