// Privileged x86-64 instructions the runtime uses, as inline functions.
#ifndef SKIFF_RUNTIME_ARCH_X86_CPU_H_
#define SKIFF_RUNTIME_ARCH_X86_CPU_H_

#include <stdint.h>

namespace skiff::x86 {

struct CpuidResult {
  uint32_t eax, ebx, ecx, edx;
};

inline CpuidResult Cpuid(uint32_t leaf, uint32_t subleaf = 0) {
  CpuidResult r;
  asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
               : "a"(leaf), "c"(subleaf));
  return r;
}

inline void WriteMsr(uint32_t msr, uint64_t value) {
  asm volatile("wrmsr" ::"c"(msr), "a"(static_cast<uint32_t>(value)),
               "d"(static_cast<uint32_t>(value >> 32)));
}

inline uint64_t ReadMsr(uint32_t msr) {
  uint32_t lo, hi;
  asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

inline void InvalidatePage(uint64_t va) { asm volatile("invlpg (%0)" ::"r"(va) : "memory"); }

inline uint64_t ReadTsc() {
  uint32_t lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

// A TSC reading that is not taken before the loads that precede it (lfence).
inline uint64_t ReadTscOrdered() {
  uint32_t lo, hi;
  asm volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

inline uint64_t ReadCr2() {
  uint64_t v;
  asm volatile("mov %%cr2, %0" : "=r"(v));
  return v;
}

inline void WriteCr3(uint64_t v) { asm volatile("mov %0, %%cr3" ::"r"(v) : "memory"); }

inline void OutL(uint16_t port, uint32_t v) { asm volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }

inline void Halt() { asm volatile("cli; hlt"); }

inline void Pause() { asm volatile("pause"); }

inline void Barrier() { asm volatile("" ::: "memory"); }

inline void MemoryFence() { asm volatile("mfence" ::: "memory"); }

}  // namespace skiff::x86

#endif  // SKIFF_RUNTIME_ARCH_X86_CPU_H_
